"""Energy-performance statistics: pure functions over plain lists, no database.

The baseline model (ISO 50006 practice) is an ordinary least-squares regression with
an intercept, ``E = b1·X1 + b2·X2 + … + c``. How good it is:

- R² = 1 − SSE/SST, adjusted R² = 1 − (1 − R²)(n − 1)/(n − p);
- CV(RMSE) = sqrt(SSE/(n − p)) / mean(E) (ASHRAE Guideline 14 form);
- NMBE = Σ(E − Ê) / ((n − p) · mean(E));
- standard errors from σ²(XᵀX)⁻¹ with σ² = SSE/(n − p), t = b/se and two-sided
  p-values from Student's t with n − p degrees of freedom;

where n is the number of points and p the number of parameters, intercept included.

A model is **usable** when it passes the measurement-and-verification rules of
``isocert.energy.mv`` (data sufficiency and model validity: ASHRAE Guideline 14, ISO 50006);
R² is reported, not a gate. The verdict "improvement demonstrated" for a reporting period is
``mv.analyse``'s, with its savings uncertainty; this module keeps the regression the baseline
page shows, the reporting period's points with their CUSUM, and the energy review.

A design whose columns (nearly) follow from one another is refused before solving: the
condition number of the column-scaled design matrix (Belsley, Kuh & Welsch, *Regression
Diagnostics*) above ``MAX_CONDITION`` leaves too few significant digits in (XᵀX)⁻¹, and an
exactly singular one makes numpy raise ``LinAlgError``.
"""

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats

KWH_TO_TJ = 0.0000036  # 1 kWh = 3.6 MJ
MAX_P_VALUE = 0.1
# Scaled condition number above which (XᵀX)⁻¹, with twice the exponent, keeps fewer than
# about four of float64's sixteen significant digits: the coefficients are noise.
MAX_CONDITION = 1e6
# A parameter takes part in the near-dependency when its share of the smallest singular
# vector is at least this fraction of the largest share.
_INVOLVED_SHARE = 0.1


class AnalysisError(ValueError):
    """The data cannot support the requested computation (said so a person understands)."""


@dataclass
class Fit:
    names: list[str]                 # the variables, in the order of ``coefficients``
    intercept: float
    coefficients: list[float]
    std_errors: list[float]          # intercept first, then one per variable
    t_values: list[float]
    p_values: list[float]
    r2: float
    adj_r2: float | None
    cv_rmse: float | None
    nmbe: float | None
    n: int
    p: int
    warnings: list[str] = field(default_factory=list)
    # Judged by the M&V rules (isocert.energy.mv.assess_baseline) when the baseline is fitted:
    # None for a fit not judged yet; ``validity`` holds the reasons and notes.
    valid: bool | None = None
    validity: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return bool(self.valid)

    @property
    def cv_rmse_percent(self) -> float | None:
        return None if self.cv_rmse is None else self.cv_rmse * 100

    def predict(self, rows: list[list[float]]) -> list[float]:
        return [self.intercept + sum(b * x for b, x in zip(self.coefficients, row, strict=True))
                for row in rows]

    def to_json(self) -> dict:
        data = asdict(self)
        data["usable"] = self.usable
        return _finite(data)

    @classmethod
    def from_json(cls, data: dict) -> "Fit":
        keys = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in keys})

    def equation(self, unit: str = "kWh") -> str:
        terms = [f"{b:,.4g} × {name}" for b, name in zip(self.coefficients, self.names,
                                                           strict=True)]
        return f"E [{unit}] = " + " + ".join([*terms, f"{self.intercept:,.6g}"])


def p_text(p_value: float | None) -> str:
    """A p-value as people read it: tiny ones as "< 0.0001"."""
    if p_value is None:
        return "—"
    return "< 0.0001" if p_value < 0.0001 else f"{p_value:.4f}"


def terms(fit: "Fit") -> list[dict]:
    """One row per parameter (intercept first): coefficient, standard error, t, p."""
    names = ["Intercept", *fit.names]
    values = [fit.intercept, *fit.coefficients]
    return [{"name": n, "coefficient": c, "se": s, "t": t, "p": p, "p_text": p_text(p)}
            for n, c, s, t, p in zip(names, values, fit.std_errors, fit.t_values, fit.p_values,
                                     strict=True)]


def _finite(value):
    """JSON has no infinity or NaN: store them as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def fit_ols(y: list[float], columns: list[list[float]], names: list[str]) -> Fit:
    """Least squares of ``y`` on ``columns`` (one list per variable) with an intercept."""
    if not columns:
        raise AnalysisError("Choose at least one relevant variable.")
    n, k = len(y), len(columns)
    p = k + 1
    if any(len(column) != n for column in columns):
        raise AnalysisError("Every variable needs one value per point.")
    if n <= p:
        raise AnalysisError(f"{n} data points are too few for {p} parameters; the model needs "
                            f"more points than parameters.")
    Y = np.asarray(y, dtype=float)
    X = np.column_stack([np.ones(n), *[np.asarray(c, dtype=float) for c in columns]])
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise AnalysisError("Every value must be a finite number.")
    _refuse_near_singular(X, list(names))
    try:
        beta, _, rank, _ = np.linalg.lstsq(X, Y, rcond=None)
        xtx_inverse = np.linalg.inv(X.T @ X)
    except np.linalg.LinAlgError:
        # The condition check above should have caught it; never a 500 if it did not.
        raise AnalysisError(_collinear_message(list(names), None))
    if rank < p:
        raise AnalysisError(_collinear_message(list(names), None))
    fitted = X @ beta
    residuals = Y - fitted
    dof = n - p
    sse = float(residuals @ residuals)
    mean_y = float(Y.mean())
    sst = float(((Y - mean_y) ** 2).sum())
    r2 = 1.0 - sse / sst if sst > 0 else 1.0
    adj_r2 = 1.0 - (1.0 - r2) * (n - 1) / dof
    sigma2 = sse / dof
    cv_rmse = math.sqrt(sigma2) / mean_y if mean_y else None
    nmbe = float(residuals.sum()) / (dof * mean_y) if mean_y else None
    covariance = sigma2 * xtx_inverse
    std_errors = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    t_values, p_values = [], []
    for b, se in zip(beta, std_errors, strict=True):
        if se > 0:
            t = float(b / se)
            t_values.append(t)
            p_values.append(float(2 * stats.t.sf(abs(t), dof)))
        else:  # a perfect fit: no uncertainty left
            t_values.append(math.inf if b else 0.0)
            p_values.append(0.0 if b else 1.0)
    fit = Fit(names=list(names), intercept=float(beta[0]),
              coefficients=[float(b) for b in beta[1:]], std_errors=[float(s) for s in std_errors],
              t_values=t_values, p_values=p_values, r2=r2, adj_r2=adj_r2, cv_rmse=cv_rmse,
              nmbe=nmbe, n=n, p=p)
    fit.warnings = model_warnings(fit)
    return fit


def _refuse_near_singular(X: np.ndarray, names: list[str]) -> None:
    """Refuse a design whose columns (nearly) follow from one another, naming the variables.

    Each column is scaled to unit length first, so a variable's unit (tonnes or kilograms)
    does not change the verdict; the intercept column stays in, so a variable that is
    (nearly) constant counts as following from it.
    """
    norms = np.linalg.norm(X, axis=0)
    zero = [names[i - 1] for i in range(1, X.shape[1]) if norms[i] == 0]
    if zero:
        raise AnalysisError(f"{_join(zero)} {'is' if len(zero) == 1 else 'are'} zero at every "
                            "point of the period and cannot explain the consumption; remove "
                            f"{'it' if len(zero) == 1 else 'them'} or import the values.")
    try:
        _, singular, vt = np.linalg.svd(X / norms, full_matrices=False)
    except np.linalg.LinAlgError:
        raise AnalysisError(_collinear_message(names, None))
    condition = singular[0] / singular[-1] if singular[-1] > 0 else math.inf
    if condition <= MAX_CONDITION:
        return
    weights = np.abs(vt[-1])
    involved = [names[i - 1] for i in range(1, len(weights))
                if weights[i] >= _INVOLVED_SHARE * weights.max()]
    raise AnalysisError(_collinear_message(involved or names, condition))


def _join(names: list[str]) -> str:
    quoted = [f"“{name}”" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _collinear_message(names: list[str], condition: float | None) -> str:
    figure = ("" if condition is None or not math.isfinite(condition)
              else f" (condition number {condition:.3g}, above {MAX_CONDITION:g})")
    if len(names) == 1:
        return (f"{_join(names)} is (nearly) constant over the period{figure}, so the model "
                "cannot tell its effect from the base load; remove it or choose a period "
                "in which it varies.")
    return (f"{_join(names)} (nearly) follow from one another{figure}, so the model cannot "
            "tell their effects apart; remove one of them.")


def model_warnings(fit: Fit) -> list[str]:
    """The variables that may not be relevant (p-value above ``MAX_P_VALUE``)."""
    warnings = []
    for name, p_value in zip(fit.names, fit.p_values[1:], strict=True):
        if p_value > MAX_P_VALUE:
            warnings.append(f"{name}: p-value {p_value:.3f} is above {MAX_P_VALUE}; the "
                            "variable may not be relevant.")
    return warnings


# --- EnPIs and reporting periods ---------------------------------------------------------------

def ratio(kwh: float, units: float) -> float | None:
    """A ratio EnPI: kWh per unit of the variable (None when the variable is zero)."""
    return kwh / units if units else None


@dataclass
class PeriodPoint:
    label: str
    actual: float
    expected: float
    savings: float
    cusum: float


@dataclass
class Evaluation:
    """A reporting period as the pages show it (from ``mv.analyse``)."""
    expected_kwh: float
    actual_kwh: float
    savings_kwh: float
    improvement_percent: float
    points: list[PeriodPoint]
    usable: bool                      # the baseline model is valid (mv rules)
    demonstrated: bool
    reason: str = ""  # why it is not demonstrated; empty when it is
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fsu: float | None = None
    savings_uncertainty_kwh: float | None = None
    confidence: float = 0.68
    coverage: float = 1.0

    @property
    def fsu_percent(self) -> float | None:
        return None if self.fsu is None else self.fsu * 100

    @property
    def confidence_percent(self) -> float:
        return self.confidence * 100

    @property
    def coverage_percent(self) -> float:
        return self.coverage * 100

    @property
    def n(self) -> int:
        return len(self.points)


def period_points(labels: list[str], actual: list[float], expected: list[float]
                  ) -> list[PeriodPoint]:
    """The reporting period point by point: savings = expected − actual and their running
    sum (CUSUM)."""
    points, running = [], 0.0
    for label, a, e in zip(labels, actual, expected, strict=True):
        running += e - a
        points.append(PeriodPoint(label=label, actual=a, expected=e, savings=e - a,
                                  cusum=running))
    return points


# --- energy review ----------------------------------------------------------------------------

@dataclass
class Share:
    name: str
    kwh: float
    percent: float
    cumulative_percent: float = 0.0
    significant: bool = False


def shares(totals: dict[str, float], significant: set[str] = frozenset()) -> list[Share]:
    """Totals as shares of their sum, largest first, with the cumulative share (Pareto)."""
    grand = sum(totals.values())
    rows, running = [], 0.0
    for name, kwh in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
        percent = kwh / grand * 100 if grand else 0.0
        running += percent
        rows.append(Share(name=name, kwh=kwh, percent=percent,
                          cumulative_percent=min(running, 100.0),
                          significant=name in significant))
    return rows


def kwh_to_tj(kwh: float) -> float:
    return kwh * KWH_TO_TJ
