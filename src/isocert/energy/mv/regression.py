"""Least squares with an intercept (or day-weighted for monthly change-point data) and
its statistics: standard errors, p-values, the F-test, CV(RMSE), NMBE, the lag-1
autocorrelation, the effective number of points and the savings uncertainty."""

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ..analysis import AnalysisError
from .inputs import (
    COOLING,
    HEATING,
    REDDY_CLARIDGE_FACTOR,
    Series,
)

# --- least squares ----------------------------------------------------------------------------

@dataclass
class Model:
    """A fitted baseline model (per day and weighted by days for monthly change-point forms)."""
    form: str
    variables: list[str]
    beta: np.ndarray                  # intercept first
    std_errors: np.ndarray
    p_values: np.ndarray
    f_test_p: float | None
    r2: float
    adj_r2: float
    cv_rmse: float | None
    nmbe: float | None
    n: int
    parameters: int
    autocorrelation: float
    effective_n: float
    per_day: bool = False
    balance_points: dict[str, float] = field(default_factory=dict)

    def design(self, series: Series) -> np.ndarray:
        return design_matrix(series, self.variables, self.balance_points, self.per_day)

    def predict(self, series: Series) -> np.ndarray:
        """Expected kWh per period (per-day forms scaled back by the period's days)."""
        predicted = self.design(series) @ self.beta
        return predicted * series.days if self.per_day else predicted


def design_matrix(series: Series, variables: list[str], balance_points: dict[str, float],
            per_day: bool) -> np.ndarray:
    n = len(series.periods)
    days = series.days if per_day else np.ones(n)
    columns = [np.ones(n)]
    for name in variables:
        if name == HEATING:
            columns.append(np.maximum(balance_points["heating"] - np.asarray(series.temperature),
                                      0.0))
        elif name == COOLING:
            columns.append(np.maximum(np.asarray(series.temperature) - balance_points["cooling"],
                                      0.0))
        else:
            columns.append(np.asarray(series.variables[name], dtype=float) / days)
    return np.column_stack(columns)


def target_values(series: Series, per_day: bool) -> np.ndarray:
    energy = np.asarray(series.energy, dtype=float)
    return energy / series.days if per_day else energy


def fit(series: Series, variables: list[str], *, form: str = "linear", per_day: bool = False,
        balance_points: dict[str, float] | None = None) -> Model:
    """Weighted least squares (weights = days when ``per_day``, else ordinary) with the
    statistics of the module doc; CV(RMSE), NMBE and ρ on the periods' totals. The
    degrees of freedom n − p count the balance points among the parameters."""
    balance_points = dict(balance_points or {})
    X = design_matrix(series, variables, balance_points, per_day)
    y = target_values(series, per_day)
    w = series.days if per_day else np.ones(len(y))
    n, regressors = X.shape
    # A searched balance point is a parameter too (ASHRAE RP-1050: the "P" of 3P, 4P, 5P);
    # the 4P shares one between heating and cooling.
    p = regressors + len(set(balance_points.values()))
    dof = n - p
    if dof <= 0:
        raise AnalysisError(f"{n} points are too few for {p} parameters.")
    sw = np.sqrt(w)
    Xw, yw = X * sw[:, None], y * sw
    beta, _, rank, _ = np.linalg.lstsq(Xw, yw, rcond=None)
    if rank < regressors:
        raise AnalysisError("The variables (nearly) follow from one another.")
    residuals = y - X @ beta
    sse = float(w @ residuals ** 2)
    mean_w = float(w @ y / w.sum())
    sst = float(w @ (y - mean_w) ** 2)
    r2 = 1.0 - sse / sst if sst > 0 else (1.0 if sse == 0 else 0.0)
    adj_r2 = 1.0 - (1.0 - r2) * (n - 1) / dof
    sigma2 = sse / dof
    try:
        covariance = sigma2 * np.linalg.inv(Xw.T @ Xw)
    except np.linalg.LinAlgError:
        raise AnalysisError("The variables (nearly) follow from one another.")
    std_errors = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t_values = np.where(std_errors > 0, beta / std_errors,
                            np.where(beta != 0, np.inf, 0.0))
    p_values = 2 * stats.t.sf(np.abs(t_values), dof)
    k = p - 1
    if k and sse > 0:
        f_value = ((sst - sse) / k) / sigma2
        f_test_p = float(stats.f.sf(f_value, k, dof))
    else:
        f_test_p = None if not k else 0.0
    totals = np.asarray(series.energy, dtype=float)
    total_residuals = residuals * series.days if per_day else residuals
    mean_e = float(totals.mean())
    cv_rmse = math.sqrt(float(total_residuals @ total_residuals) / dof) / mean_e \
        if mean_e > 0 else None
    nmbe = float(total_residuals.sum()) / (dof * mean_e) if mean_e > 0 else None
    rho = lag1_autocorrelation(total_residuals)
    return Model(form=form, variables=list(variables), beta=beta, std_errors=std_errors,
                 p_values=p_values, f_test_p=f_test_p, r2=r2, adj_r2=adj_r2, cv_rmse=cv_rmse,
                 nmbe=nmbe, n=n, parameters=p, autocorrelation=rho,
                 effective_n=effective_points(n, rho), per_day=per_day,
                 balance_points=balance_points)


def lag1_autocorrelation(residuals: np.ndarray) -> float:
    """ρ = Σ e_t·e_(t−1) / Σ e_t² over the residuals in time order (0 without variation)."""
    e = np.asarray(residuals, dtype=float)
    denominator = float(e @ e)
    if len(e) < 3 or denominator == 0:
        return 0.0
    return float(e[1:] @ e[:-1]) / denominator


def effective_points(n: int, rho: float) -> float:
    """n′ = n(1 − ρ)/(1 + ρ) for ρ > 0, else n (ASHRAE Guideline 14 Annex B)."""
    return n * (1 - rho) / (1 + rho) if rho > 0 else float(n)


def savings_uncertainty(*, cv_rmse: float, n: int, effective_n: float, m: int, parameters: int,
                        savings_fraction: float, confidence: float) -> float | None:
    """ASHRAE Guideline 14 Annex B fractional savings uncertainty (Reddy–Claridge 1.26):
    ``t × 1.26 × CV × √((n/n′)(1 + 2/n)(1/m)) / F``; None when F ≤ 0 (no savings to qualify).
    """
    if savings_fraction <= 0 or m <= 0 or effective_n <= 0:
        return None
    t = float(stats.t.ppf(0.5 + confidence / 2, n - parameters))
    return (t * REDDY_CLARIDGE_FACTOR * cv_rmse
            * math.sqrt((n / effective_n) * (1 + 2 / n) * (1 / m)) / savings_fraction)


def drop_insignificant(series: Series, model: Model, max_p: float, fixed: set[str],
                        notes: list[str]) -> Model:
    """Drop the least significant free variable until every one has p below ``max_p``."""
    while True:
        candidates = [(model.p_values[i + 1], name) for i, name in enumerate(model.variables)
                      if name not in fixed and not model.p_values[i + 1] < max_p]
        if not candidates:
            return model
        p_value, name = max(candidates)
        notes.append(f"“{name}” was dropped from the model: its p-value {p_value:.3f} is not "
                     f"below {max_p:g} (ASHRAE Guideline 14 Annex B: only significant "
                     "variables belong in the model).")
        variables = [v for v in model.variables if v != name]
        form = model.form
        if form == "linear" and not variables:
            form = "mean"
        model = fit(series, variables, form=form, per_day=model.per_day,
                    balance_points=model.balance_points)
