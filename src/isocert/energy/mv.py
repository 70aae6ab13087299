"""Measurement and verification of energy savings: the analysis a certification decision reads.

Pure functions over plain values (no database): the baseline model, its validity, the
reporting period's expected consumption, the savings with their uncertainty and the verdict
"improvement demonstrated" with every reason. The command ``isocert energy-analyse`` and
``POST /api/v1/energy/analyse`` answer :func:`analyse` as JSON; the analysis pages, the
report and the certification decision call it on the stored data.

Rules, each a CB setting (``settings.ENERGY_*``) with the default and source below:

- **Model** ``linear``: ordinary least squares with an intercept on the given variables
  (ISO 50006:2023 §6.5 / Annex C). A variable whose two-sided p-value is not below
  ``ENERGY_MAX_VARIABLE_P`` (0.10) is dropped, the least significant first, and the model
  refitted; a note says so (ASHRAE Guideline 14-2014 Annex B: only significant
  coefficients belong in the model). With none left the model is the *mean* model.
- **Model** ``auto``: change-point models on the mean outdoor temperature — 3P heating,
  3P cooling, 4P, 5P (ASHRAE RP-1050 Inverse Modeling Toolkit, as in ASHRAE Guideline 14
  Annex D and CalTRACK 2.0 §3) — with balance points searched on a grid of the baseline's
  own temperatures between their 10th and 90th percentile (so each regime holds at least
  a tenth of the points), and the mean model. Each form keeps its best balance points (least
  squared error); a form counts only when its slopes are positive and significant (p below
  ``ENERGY_MAX_VARIABLE_P``); among those the highest adjusted R² wins. Monthly data is
  normalised per day and weighted by the days of each period (weighted least squares, as
  CalTRACK does for billing data).
- **Statistics** with n points and p parameters (intercept included): R² and adjusted R²
  (reported, not a gate), CV(RMSE) = √(SSE/(n − p)) / mean(E), NMBE = Σ(E − Ê)/((n − p)·mean(E))
  (ASHRAE Guideline 14 §5.2.11; always ~0 for least squares with an intercept), standard
  errors from σ²(XᵀX)⁻¹, two-sided p-values from Student's t with n − p degrees of freedom,
  the overall F-test p, ρ = the lag-1 autocorrelation of the residuals in time order and
  the effective number of points n′ = n(1 − ρ)/(1 + ρ) when ρ > 0, else n.
- **Data sufficiency** (ISO 50006 §6.4, ASHRAE Guideline 14 §5.2.11.1: the baseline
  spans a full operating cycle; CalTRACK 2.0 §2.2: ≥ 90 % of the days): the baseline spans a
  full year (12 calendar months, 365 days or 52 weeks) and each period — baseline and
  reporting — has data for ≥ ``ENERGY_MIN_COVERAGE`` (0.90) of its days. Coverage is the days
  the points cover ÷ the days of the period, so gaps between imports count.
- **Model validity** (ASHRAE Guideline 14 §5.2.11.3 and Annex B): CV(RMSE) ≤
  ``ENERGY_MAX_CV_RMSE_MONTHLY`` (0.20) for monthly and ≤ ``ENERGY_MAX_CV_RMSE_DAILY`` (0.25)
  for daily or weekly models; the F-test p below ``ENERGY_MAX_F_TEST_P`` (0.10) (the mean
  model has no F-test).
- **Savings uncertainty** (ASHRAE Guideline 14-2014 Annex B, eq. B-14, with the
  Reddy–Claridge factor 1.26):
  ``fsu = t × 1.26 × CV × √((n/n′) × (1 + 2/n) × (1/m)) / F`` with m the reporting points,
  F = savings ÷ expected and t the two-sided Student t at the confidence with n − p degrees
  of freedom.
- **Verdict** "improvement demonstrated" only when the data suffice, the model is valid,
  the expected consumption is positive, the savings are positive and fsu is below
  ``ENERGY_MAX_FSU`` (0.50) at the confidence (default ``ENERGY_CONFIDENCE`` 0.68:
  ASHRAE Guideline 14 §4.1.4 asks for savings uncertainty below 50 % of the savings at 68 %
  confidence). Otherwise ``False``, with every reason.
- Reporting-period values of a variable more than ``ENERGY_RANGE_MARGIN`` (10 %) of the
  baseline's range outside that range are named (the model extrapolates there; ISO 50006
  §6.5, ASHRAE Guideline 14 §5.2.11.1).

**Worked example (monthly, by hand).** Baseline 2016-01 … 2016-12 with HDD
x = 0, 10, …, 110 and energy E = 1000 + 5·x ± 20 (+20 in January, −20 in February, and so
on). x̄ = 55, Ē = 1275, Sxx = Σ(x − x̄)² = 14 300 and Σ(x − x̄)·(±20) = −1200, so the slope
is 5 − 1200/14 300 = 4.91608 and the intercept 1275 − 4.91608 × 55 = 1004.615;
SSE = 12 × 20² − 1200²/14 300 = 4699.3, σ = √(4699.3/10) = 21.678 and CV(RMSE) =
21.678/1275 = 1.700 %. The residuals alternate in sign: ρ = −0.917 < 0, so n′ = n = 12.
Reporting 2017-01 … 2017-12 with the same HDD and E = 0.9 × (1000 + 5·x): the line passes
through the means, so expected = 12 × 1275 = 15 300, actual 13 770, savings 1530, F = 0.1;
at 68 % confidence t(10) = 1.0464 and fsu = 1.0464 × 1.26 × 0.01700 × √(1 × (1 + 2/12) ×
1/12) / 0.1 = 0.0699 → demonstrated.

**Worked example (daily, by hand).** The 365 days from 2016-01-01 with no variables (the
mean model) and E = 210 kWh on the 1st, 3rd, … day (183 days) and 190 kWh on the others
(182): intercept = mean = 200 + 10/365 = 200.027, residuals 10 − 0.027 and −10 − 0.027,
σ = √(Σe²/364) = 10.0137, CV(RMSE) = 5.006 %, ρ = −0.997 → n′ = n. A reporting period of 30
days at 180 kWh: expected 30 × 200.027 = 6000.8, actual 5400, F = 0.10012; t(364) at 68 %
= 0.9958 and fsu = 0.9958 × 1.26 × 0.05006 × √((1 + 2/365)/30) / 0.10012 = 0.1149 →
demonstrated. (``tests/energy/test_mv.py`` checks both examples.)
"""

import calendar
import datetime
import json
import math
import re
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from scipy import stats

from .analysis import AnalysisError, _refuse_near_singular

FORMS = ("linear", "3p-heating", "3p-cooling", "4p", "5p", "mean")
MODELS = ("linear", "auto")
CONFIDENCES = (0.68, 0.80, 0.90, 0.95)
# ASHRAE Guideline 14 Annex B: the factor Reddy and Claridge fitted for the savings
# uncertainty of regression models on serially correlated data.
REDDY_CLARIDGE_FACTOR = 1.26
HEATING, COOLING = "heating_degrees", "cooling_degrees"
# Balance points are searched on at most this many candidate temperatures per regime.
GRID_POINTS = 60
# The candidates lie between these quantiles of the baseline temperatures, so each regime
# holds at least a tenth of the points (CalTRACK 2.0 §3.2 asks for enough degree days).
GRID_QUANTILES = (0.10, 0.90)
# The fine grid around the best coarse candidate, one coarse step either side.
REFINE_POINTS = 21

# Values beyond this size (kWh, a variable, °) are refused: their squares in the sums of
# least squares would leave float64's range (a world's annual energy is ~2e17 kWh).
MAX_MAGNITUDE = 1e15

Period = tuple[datetime.date, datetime.date]


class MVInputError(ValueError):
    """Input the analysis refuses, with the dotted name of the field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- settings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Thresholds:
    """The CB's thresholds (settings ``ENERGY_*``; defaults and sources in the module doc)."""
    min_coverage: float = 0.90
    max_cv_rmse_monthly: float = 0.20
    max_cv_rmse_daily: float = 0.25
    max_f_test_p: float = 0.10
    max_variable_p: float = 0.10
    max_fsu: float = 0.50
    range_margin: float = 0.10
    confidence: float = 0.68

    @classmethod
    def from_settings(cls) -> "Thresholds":
        return cls(min_coverage=settings.ENERGY_MIN_COVERAGE,
                   max_cv_rmse_monthly=settings.ENERGY_MAX_CV_RMSE_MONTHLY,
                   max_cv_rmse_daily=settings.ENERGY_MAX_CV_RMSE_DAILY,
                   max_f_test_p=settings.ENERGY_MAX_F_TEST_P,
                   max_variable_p=settings.ENERGY_MAX_VARIABLE_P,
                   max_fsu=settings.ENERGY_MAX_FSU,
                   range_margin=settings.ENERGY_RANGE_MARGIN,
                   confidence=settings.ENERGY_CONFIDENCE)


# --- input ------------------------------------------------------------------------------------

@dataclass
class Series:
    """One period's data: ``periods`` (start, end) inclusive, in time order, one value each.

    ``span`` is the period as declared (a reporting period's dates); by default from the
    first point's start to the last point's end. Days of the span without a point are gaps.
    """
    periods: list[Period]
    energy: list[float]
    variables: dict[str, list[float]] = field(default_factory=dict)
    temperature: list[float] | None = None
    span: Period | None = None

    @property
    def start(self) -> datetime.date:
        return self.span[0] if self.span else self.periods[0][0]

    @property
    def end(self) -> datetime.date:
        return self.span[1] if self.span else self.periods[-1][1]

    @property
    def days(self) -> np.ndarray:
        return np.array([(e - s).days + 1 for s, e in self.periods], dtype=float)


@dataclass
class Request:
    baseline: Series
    reporting: Series
    model: str = "linear"
    confidence: float | None = None     # None: the CB's ENERGY_CONFIDENCE


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KEYS = {"baseline", "reporting", "model", "temperature", "confidence"}
_SERIES_KEYS = {"periods", "energy", "variables"}


def parse_period(text, where: str) -> tuple[str, Period]:
    """``YYYY-MM`` (a calendar month), ``YYYY-MM-DD`` (a day) or ``YYYY-Www`` (an ISO week)."""
    if not isinstance(text, str):
        raise MVInputError(where, "must be a text such as 2016-01 or 2016-01-31")
    try:
        if match := _MONTH.match(text):
            year, month = int(match[1]), int(match[2])
            last = calendar.monthrange(year, month)[1]
            return "monthly", (datetime.date(year, month, 1), datetime.date(year, month, last))
        if match := _WEEK.match(text):
            start = datetime.date.fromisocalendar(int(match[1]), int(match[2]), 1)
            return "weekly", (start, start + datetime.timedelta(days=6))
        if _DAY.match(text):
            day = datetime.date.fromisoformat(text)
            return "daily", (day, day)
    except ValueError:
        pass
    raise MVInputError(where, f"{text!r} is not a month (YYYY-MM), a day (YYYY-MM-DD) or an "
                              "ISO week (YYYY-Www)")


def _numbers(values, where: str, length: int) -> list[float]:
    if not isinstance(values, list):
        raise MVInputError(where, "must be a list of numbers")
    if len(values) != length:
        raise MVInputError(where, f"has {len(values)} values for {length} periods; the lengths "
                                  "must be equal")
    out = []
    for i, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MVInputError(f"{where}.{i}", f"{value!r} is not a number")
        if not math.isfinite(value):
            raise MVInputError(f"{where}.{i}", "must be a finite number (not NaN or infinite)")
        if abs(value) > MAX_MAGNITUDE:
            raise MVInputError(f"{where}.{i}", f"is out of range: at most {MAX_MAGNITUDE:g} in "
                                               "size")
        out.append(float(value))
    return out


def _series(data, name: str, temperature) -> tuple[str, Series]:
    if not isinstance(data, dict):
        raise MVInputError(name, "must be an object with periods, energy and variables")
    unknown = sorted(set(data) - _SERIES_KEYS)
    if unknown:
        raise MVInputError(f"{name}.{unknown[0]}", "is not a field of the input")
    periods_in = data.get("periods")
    if not isinstance(periods_in, list) or not periods_in:
        raise MVInputError(f"{name}.periods", "must be a non-empty list of periods")
    kinds, periods = set(), []
    for i, text in enumerate(periods_in):
        kind, period = parse_period(text, f"{name}.periods.{i}")
        if kinds and kind not in kinds:
            raise MVInputError(f"{name}.periods.{i}", f"is {kind}, the others "
                                                      f"{next(iter(kinds))}; use one kind")
        kinds.add(kind)
        if periods and period[0] <= periods[-1][1]:
            raise MVInputError(f"{name}.periods.{i}",
                               f"{text} is out of order or overlaps the period before; periods "
                               "must follow one another in time")
        periods.append(period)
    n = len(periods)
    energy = _numbers(data.get("energy"), f"{name}.energy", n)
    variables_in = data.get("variables", {})
    if not isinstance(variables_in, dict):
        raise MVInputError(f"{name}.variables", "must be an object of name: [numbers]")
    variables = {str(k): _numbers(v, f"{name}.variables.{k}", n) for k, v in variables_in.items()}
    temps = None if temperature is None else _numbers(temperature, f"temperature.{name}", n)
    return kinds.pop(), Series(periods=periods, energy=energy, variables=variables,
                               temperature=temps)


def parse_request(data) -> Request:
    """The JSON contract's input as a :class:`Request`; raises :class:`MVInputError`."""
    if not isinstance(data, dict):
        raise MVInputError("json", "must be an object with baseline and reporting")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise MVInputError(unknown[0], "is not a field of the input")
    for key in ("baseline", "reporting"):
        if key not in data:
            raise MVInputError(key, "is required")
    model = data.get("model", "linear")
    if model not in MODELS:
        raise MVInputError("model", f"must be one of {', '.join(MODELS)}, not {model!r}")
    confidence = data.get("confidence", None)
    if confidence is not None and (isinstance(confidence, bool)
                                   or confidence not in CONFIDENCES):
        raise MVInputError("confidence", "must be one of "
                                         f"{', '.join(f'{c:.2f}' for c in CONFIDENCES)}")
    temperature = data.get("temperature")
    if model == "auto":
        if not isinstance(temperature, dict) or set(temperature) != {"baseline", "reporting"}:
            raise MVInputError("temperature", "model auto needs the mean outdoor temperature "
                                              "of each period: {baseline: [...], reporting: "
                                              "[...]}")
    elif temperature is not None:
        raise MVInputError("temperature", "is used only with model auto")
    temperature = temperature or {}
    kind_b, baseline = _series(data["baseline"], "baseline", temperature.get("baseline"))
    kind_r, reporting = _series(data["reporting"], "reporting", temperature.get("reporting"))
    if kind_r != kind_b:
        raise MVInputError("reporting.periods", f"are {kind_r}, the baseline's {kind_b}; use "
                                                "the same kind of period")
    if set(reporting.variables) != set(baseline.variables):
        missing = sorted(set(baseline.variables) ^ set(reporting.variables))
        raise MVInputError(f"reporting.variables.{missing[0]}",
                           "baseline and reporting need the same variables")
    if reporting.periods[0][0] <= baseline.periods[-1][1]:
        raise MVInputError("reporting.periods.0",
                           f"the reporting period must start after the baseline ends "
                           f"({baseline.periods[-1][1]}): the baseline is the reference "
                           "before the changes being judged (ISO 50006)")
    request = Request(baseline=baseline, reporting=reporting, model=model,
                      confidence=confidence)
    check_design(request)
    return request


def check_design(request: Request) -> None:
    """Refuse what no model can be fitted to: too few points, constant or collinear variables."""
    baseline, names = request.baseline, list(request.baseline.variables)
    if model_reserved := {HEATING, COOLING} & set(names) if request.model == "auto" else set():
        name = sorted(model_reserved)[0]
        raise MVInputError(f"baseline.variables.{name}", "is the name of a change-point term; "
                                                         "rename the variable")
    n = len(baseline.periods)
    p = len(names) + 1 + (1 if request.model == "auto" else 0)
    if n <= p:
        raise MVInputError("baseline.periods", f"{n} points are too few for {p} parameters; the "
                                               "model needs more points than parameters")
    if names:
        X = np.column_stack([np.ones(n), *[baseline.variables[k] for k in names]])
        try:
            _refuse_near_singular(X, names)
        except AnalysisError as exc:
            # The last variable named (usually the one added last) is the field at fault.
            culprit = next((k for k in reversed(names) if f"“{k}”" in str(exc)), names[-1])
            raise MVInputError(f"baseline.variables.{culprit}", str(exc))
    if request.model == "auto" and np.ptp(baseline.temperature) == 0:
        raise MVInputError("temperature.baseline", "is constant; change-point models need the "
                                                   "temperature to vary")


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
        return _design(series, self.variables, self.balance_points, self.per_day)

    def predict(self, series: Series) -> np.ndarray:
        """Expected kWh per period (per-day forms scaled back by the period's days)."""
        predicted = self.design(series) @ self.beta
        return predicted * series.days if self.per_day else predicted


def _design(series: Series, variables: list[str], balance_points: dict[str, float],
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


def _target(series: Series, per_day: bool) -> np.ndarray:
    energy = np.asarray(series.energy, dtype=float)
    return energy / series.days if per_day else energy


def fit(series: Series, variables: list[str], *, form: str = "linear", per_day: bool = False,
        balance_points: dict[str, float] | None = None) -> Model:
    """Weighted least squares (weights = days when ``per_day``, else ordinary) with the
    statistics of the module doc; CV(RMSE), NMBE and ρ on the periods' totals. The
    degrees of freedom n − p count the balance points among the parameters."""
    balance_points = dict(balance_points or {})
    X = _design(series, variables, balance_points, per_day)
    y = _target(series, per_day)
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


def _drop_insignificant(series: Series, model: Model, max_p: float, fixed: set[str],
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


# --- change-point search ----------------------------------------------------------------------

def _grid(temperature: np.ndarray) -> np.ndarray:
    low, high = np.quantile(temperature, GRID_QUANTILES)
    return np.linspace(low, high, GRID_POINTS) if high > low else np.array([low])


class _Grams:
    """Cross products of the base columns and every candidate hinge column, computed once
    with matrix-vector products, so the normal equations of thousands of candidates
    assemble by indexing (3 years of daily data: ~2000 5P candidates in milliseconds).

    A candidate has at most one heating and one cooling column, so of the hinge columns'
    own products only the diagonals are needed, and the heating × cooling matrix only for
    the 5P search (``cross``).
    """

    def __init__(self, base: np.ndarray, heat: np.ndarray, cool: np.ndarray, y: np.ndarray,
                 w: np.ndarray, *, cross: str):
        bw = base * w[:, None]
        wy = w * y
        self.bb = base.T @ bw
        self.by = bw.T @ y
        self.yy = float(y @ wy)
        self.xb, self.xy, self.diag = {}, {}, {}
        for key, pool in (("h", heat), ("c", cool)):
            self.xb[key] = pool @ bw                                     # (G, b)
            self.xy[key] = pool @ wy                                     # (G,)
            self.diag[key] = (pool * pool) @ w                           # (G,)
        # "full" for 5P (any heating with any cooling candidate), "diagonal" for 4P (one
        # balance point for both), "none" for 3P.
        self.hc = (heat * w) @ cool.T if cross == "full" else None
        self.hc_diag = (heat * cool) @ w if cross == "diagonal" else None

    def _cross(self, pool_a: str, idx_a: np.ndarray, pool_c: str, idx_c: np.ndarray
               ) -> np.ndarray:
        if pool_a == pool_c:
            return self.diag[pool_a][idx_a]
        i, j = (idx_a, idx_c) if pool_a == "h" else (idx_c, idx_a)
        return self.hc[i, j] if self.hc is not None else self.hc_diag[i]

    def sse(self, columns: list[tuple[str, np.ndarray]]) -> np.ndarray:
        """SSE of y on [base, pool[idx] …] for each candidate row of the index arrays."""
        b = self.bb.shape[0]
        G = len(columns[0][1])
        p = b + len(columns)
        xtx = np.empty((G, p, p))
        xty = np.empty((G, p))
        xtx[:, :b, :b] = self.bb
        xty[:, :b] = self.by
        for a, (pool_a, idx_a) in enumerate(columns, start=b):
            xtx[:, a, :b] = xtx[:, :b, a] = self.xb[pool_a][idx_a]
            xty[:, a] = self.xy[pool_a][idx_a]
            for c, (pool_c, idx_c) in enumerate(columns, start=b):
                xtx[:, a, c] = self._cross(pool_a, idx_a, pool_c, idx_c)
        # A tiny ridge keeps a degenerate candidate from failing the whole batch; its SSE
        # is then no smaller than its neighbours' and the final fit is exact.
        scale = np.einsum("gii->g", xtx)[:, None, None] / p
        beta = np.linalg.solve(xtx + 1e-10 * scale * np.eye(p), xty[..., None])[..., 0]
        return self.yy - np.einsum("gp,gp->g", beta, xty)


def _best_balance_points(kind: str, temperature: np.ndarray, base: np.ndarray, y: np.ndarray,
                         w: np.ndarray, heat_grid: np.ndarray, cool_grid: np.ndarray
                         ) -> tuple[float | None, float | None]:
    """The balance points of least SSE for a form ("h", "c", "4p" or "5p") on the grids."""
    heat = np.maximum(heat_grid[:, None] - temperature[None, :], 0.0)    # (G, n)
    cool = np.maximum(temperature[None, :] - cool_grid[:, None], 0.0)
    grams = _Grams(base, heat, cool, y, w, cross={"5p": "full", "4p": "diagonal"}.get(kind, "none"))
    if kind == "h":
        return float(heat_grid[int(np.argmin(grams.sse([("h", np.arange(len(heat_grid)))])))]), \
            None
    if kind == "c":
        return None, float(cool_grid[int(np.argmin(grams.sse([("c", np.arange(
            len(cool_grid)))])))])
    if kind == "4p":                # one balance point: the same grid for both sides
        every = np.arange(len(heat_grid))
        best = int(np.argmin(grams.sse([("h", every), ("c", every)])))
        return float(heat_grid[best]), float(cool_grid[best])
    i, j = np.meshgrid(np.arange(len(heat_grid)), np.arange(len(cool_grid)), indexing="ij")
    keep = heat_grid[i] < cool_grid[j]                        # heating below cooling
    i, j = i[keep], j[keep]
    if not len(i):
        return None, None
    best = int(np.argmin(grams.sse([("h", i), ("c", j)])))
    return float(heat_grid[i[best]]), float(cool_grid[j[best]])


def _refined(value: float, step: float, low: float, high: float) -> np.ndarray:
    return np.linspace(max(low, value - step), min(high, value + step), REFINE_POINTS)


def change_point_models(series: Series, variables: list[str], per_day: bool
                        ) -> list[Model]:
    """The best 3P heating, 3P cooling, 4P and 5P model and the model without a temperature
    term, each with the given variables as well.

    Balance points: the least-SSE candidate of a coarse grid, then of a fine grid one coarse
    step either side of it (vectorised: no Python loop over candidates).
    """
    temperature = np.asarray(series.temperature, dtype=float)
    base = _design(series, variables, {}, per_day)
    y = _target(series, per_day)
    w = series.days if per_day else np.ones(len(y))
    grid = _grid(temperature)
    low, high = float(grid[0]), float(grid[-1])
    step = (high - low) / max(len(grid) - 1, 1)
    models = [fit(series, variables, form="mean" if not variables else "linear",
                  per_day=per_day)]
    n, p_base = base.shape
    forms = []
    if n > p_base + 1:
        forms += [("3p-heating", "h", [HEATING]), ("3p-cooling", "c", [COOLING])]
    if n > p_base + 2:
        forms += [("4p", "4p", [HEATING, COOLING]), ("5p", "5p", [HEATING, COOLING])]
    for form, kind, terms in forms:
        h, c = _best_balance_points(kind, temperature, base, y, w, grid, grid)
        if h is None and c is None:
            continue
        fine_h = _refined(h, step, low, high) if h is not None else grid
        fine_c = _refined(c, step, low, high) if c is not None else grid
        if kind == "4p":
            fine_c = fine_h
        h, c = _best_balance_points(kind, temperature, base, y, w, fine_h, fine_c)
        balance_points = {k: v for k, v in (("heating", h), ("cooling", c)) if v is not None}
        if not balance_points:
            continue
        try:
            models.append(fit(series, [*terms, *variables], form=form, per_day=per_day,
                              balance_points=balance_points))
        except (AnalysisError, np.linalg.LinAlgError):
            continue
    return models


def choose_change_point_model(models: list[Model], max_p: float) -> Model:
    """The highest adjusted R² among the forms whose temperature slopes are positive and
    significant; the first model (no temperature term) when none is."""
    def significant(model: Model) -> bool:
        for i, name in enumerate(model.variables, start=1):
            if name in (HEATING, COOLING) and not (model.beta[i] > 0
                                                   and model.p_values[i] < max_p):
                return False
        return True
    usable = [m for m in models if significant(m)]
    return max(usable, key=lambda m: m.adj_r2) if usable else models[0]


# --- the analysis -----------------------------------------------------------------------------

@dataclass
class Reporting:
    n: int
    coverage: float
    actual: float
    expected: float
    savings: float
    savings_fraction: float | None
    fsu: float | None
    confidence: float
    outside_baseline_range: list[str]
    expected_per_period: list[float]
    non_routine_adjustment_kwh: float = 0.0

    @property
    def savings_uncertainty_kwh(self) -> float | None:
        """± kWh at the confidence: fsu × savings."""
        return None if self.fsu is None else abs(self.fsu * self.savings)


@dataclass
class Result:
    model: Model
    reporting: Reporting
    improvement_demonstrated: bool
    reasons: list[str]
    notes: list[str]
    baseline_coverage: float
    frequency: str

    def to_json(self) -> dict:
        """The output of the contract (fractions as fractions; non-finite numbers as null)."""
        m, r = self.model, self.reporting
        names = ["intercept", *m.variables]
        out = {
            "model": {
                "form": m.form, "variables": list(m.variables), "intercept": m.beta[0],
                "coefficients": dict(zip(m.variables, m.beta[1:], strict=True)),
                "std_errors": dict(zip(names, m.std_errors, strict=True)),
                "p_values": dict(zip(names, m.p_values, strict=True)),
                "f_test_p": m.f_test_p, "r2": m.r2, "adj_r2": m.adj_r2, "cv_rmse": m.cv_rmse,
                "nmbe": m.nmbe, "n": m.n, "parameters": m.parameters,
                "autocorrelation_lag1": m.autocorrelation, "effective_n": m.effective_n},
            "reporting": {"n": r.n, "coverage": r.coverage, "actual": r.actual,
                          "expected": r.expected, "savings": r.savings,
                          "savings_fraction": r.savings_fraction, "fsu": r.fsu,
                          "confidence": r.confidence,
                          "outside_baseline_range": list(r.outside_baseline_range)},
            "verdict": {"improvement_demonstrated": self.improvement_demonstrated,
                        "reasons": [*self.reasons, *self.notes]},
        }
        if m.balance_points:
            out["model"]["balance_points"] = dict(m.balance_points)
        return _plain(out)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def frequency_of(series: Series) -> str:
    days = {(e - s).days + 1 for s, e in series.periods}
    if days <= {1}:
        return "daily"
    if days <= {7}:
        return "weekly"
    return "monthly"


def coverage(series: Series) -> float:
    """Days with data ÷ days of the period (gaps between imports count as missing)."""
    first, last = series.start, series.end
    span = (last - first).days + 1
    covered = sum((min(e, last) - max(s, first)).days + 1
                  for s, e in series.periods if e >= first and s <= last)
    return covered / span if span > 0 else 0.0


def _full_year(series: Series, frequency: str) -> bool:
    start, end = series.start, series.end
    if frequency == "monthly":
        return (end.year * 12 + end.month) - (start.year * 12 + start.month) + 1 >= 12
    span = (end - start).days + 1
    return span >= (364 if frequency == "weekly" else 365)


def _outside_range(baseline: Series, reporting: Series, model: Model, margin: float
                   ) -> list[str]:
    """Variables (and the temperature) with reporting values beyond the baseline's range by
    more than ``margin`` of that range."""
    pairs = [(name, baseline.variables[name], reporting.variables[name])
             for name in model.variables if name in baseline.variables]
    if baseline.temperature is not None and any(v in (HEATING, COOLING)
                                                for v in model.variables):
        pairs.append(("temperature", baseline.temperature, reporting.temperature))
    named = []
    for name, base, rep in pairs:
        low, high = min(base), max(base)
        slack = margin * (high - low)
        if min(rep) < low - slack or max(rep) > high + slack:
            named.append(name)
    return named


@dataclass
class BaselineAssessment:
    """The baseline model with its data sufficiency and validity: ``reasons`` it may not be
    relied on (empty when it may) and ``notes`` on how it was built."""
    model: Model
    frequency: str
    coverage: float
    reasons: list[str]
    notes: list[str]

    @property
    def valid(self) -> bool:
        return not self.reasons


def assess_baseline(baseline: Series, *, model: str = "linear",
                    thresholds: Thresholds | None = None) -> BaselineAssessment:
    """Fit the baseline model (``linear`` or ``auto``) and judge the data sufficiency and the
    model validity by the rules of the module doc."""
    th = thresholds or Thresholds.from_settings()
    frequency = frequency_of(baseline)
    notes: list[str] = []
    names = list(baseline.variables)
    if model == "auto":
        per_day = frequency != "daily"
        fitted = choose_change_point_model(change_point_models(baseline, names, per_day),
                                           th.max_variable_p)
        fixed = {HEATING, COOLING}
    else:
        fitted = fit(baseline, names, form="linear" if names else "mean")
        fixed = set()
    fitted = _drop_insignificant(baseline, fitted, th.max_variable_p, fixed, notes)
    reasons: list[str] = []
    if not _full_year(baseline, frequency):
        days = (baseline.end - baseline.start).days + 1
        reasons.append(f"The baseline spans {days} days ({baseline.start} – {baseline.end}): a "
                       "full year is needed (12 months, 365 days or 52 weeks) so that the model "
                       "sees every season and operating mode (ISO 50006 §6.4, ASHRAE "
                       "Guideline 14 §5.2.11.1).")
    baseline_coverage = coverage(baseline)
    if baseline_coverage < th.min_coverage:
        reasons.append(f"The baseline has data for {baseline_coverage:.1%} of its days, below "
                       f"{th.min_coverage:.0%} (CalTRACK 2.0 §2.2 data sufficiency).")
    max_cv = th.max_cv_rmse_monthly if frequency == "monthly" else th.max_cv_rmse_daily
    if fitted.cv_rmse is None:
        reasons.append("The baseline's mean consumption is not positive: CV(RMSE) is "
                       "undefined.")
    elif fitted.cv_rmse > max_cv:
        reasons.append(f"CV(RMSE) is {fitted.cv_rmse:.1%}, above {max_cv:.0%} for a "
                       f"{frequency} model (ASHRAE Guideline 14 §5.2.11.3): the model does not "
                       "predict the consumption well enough.")
    if fitted.f_test_p is not None and not fitted.f_test_p < th.max_f_test_p:
        reasons.append(f"The model's F-test p-value is {fitted.f_test_p:.3f}, not below "
                       f"{th.max_f_test_p:g} (ASHRAE Guideline 14 Annex B): the variables do "
                       "not explain the consumption as a whole.")
    return BaselineAssessment(model=fitted, frequency=frequency, coverage=baseline_coverage,
                              reasons=reasons, notes=notes)


def analyse(request: Request, *, thresholds: Thresholds | None = None,
            non_routine_adjustment_kwh: float = 0.0) -> Result:
    """The baseline model, the reporting period's savings and uncertainty, and the verdict.

    ``non_routine_adjustment_kwh`` (not in the JSON contract) is the total of the
    non-routine adjustments for the reporting period: it is added to the model's expected
    consumption (the adjusted baseline of ISO 50015 / IPMVP) before savings are computed.
    """
    th = thresholds or Thresholds.from_settings()
    confidence = request.confidence if request.confidence is not None else th.confidence
    baseline, reporting = request.baseline, request.reporting
    assessment = assess_baseline(baseline, model=request.model, thresholds=th)
    model, frequency = assessment.model, assessment.frequency
    baseline_coverage = assessment.coverage
    notes = list(assessment.notes)
    reasons = list(assessment.reasons)
    reporting_coverage = coverage(reporting)
    if reporting_coverage < th.min_coverage:
        reasons.append(f"The reporting period ({reporting.start} – {reporting.end}) has data "
                       f"for {reporting_coverage:.1%} of its days, below {th.min_coverage:.0%} "
                       "(CalTRACK 2.0 §2.2 data sufficiency).")
    if reporting.start <= baseline.end:
        reasons.append(f"The reporting period starts on {reporting.start}, not after the "
                       f"baseline ends ({baseline.end}): the baseline is the reference before "
                       "the changes being judged (ISO 50006 §6.5).")
    # Savings.
    predicted = model.predict(reporting)
    expected = float(predicted.sum()) + non_routine_adjustment_kwh
    actual = float(np.sum(reporting.energy))
    savings = expected - actual
    fraction = savings / expected if expected > 0 else None
    m = len(reporting.periods)
    fsu = None
    if model.cv_rmse is not None and fraction is not None:
        fsu = savings_uncertainty(cv_rmse=model.cv_rmse, n=model.n,
                                  effective_n=model.effective_n, m=m,
                                  parameters=model.parameters, savings_fraction=fraction,
                                  confidence=confidence)
    if expected <= 0:
        reasons.append(f"The model expects {expected:,.0f} kWh for the reporting period's "
                       "conditions: not a positive consumption to improve against (the "
                       "conditions lie outside what the baseline covers).")
    elif savings <= 0:
        reasons.append(f"No savings: {actual:,.0f} kWh used against {expected:,.0f} kWh "
                       "expected.")
    elif fsu is not None and not fsu < th.max_fsu:
        reasons.append(f"The savings uncertainty is {fsu:.0%} of the savings at "
                       f"{confidence:.0%} confidence, not below {th.max_fsu:.0%} (ASHRAE "
                       "Guideline 14 §4.1.4 and Annex B): the savings are not distinguishable "
                       "from the model's own error.")
    outside = _outside_range(baseline, reporting, model, th.range_margin)
    if outside:
        notes.append(f"Reporting-period values of {', '.join(outside)} lie outside the "
                     f"baseline's range by more than {th.range_margin:.0%} of it: the model "
                     "extrapolates there (ISO 50006 §6.5).")
    report = Reporting(n=m, coverage=reporting_coverage, actual=actual, expected=expected,
                       savings=savings, savings_fraction=fraction, fsu=fsu,
                       confidence=confidence, outside_baseline_range=outside,
                       expected_per_period=[float(v) for v in predicted],
                       non_routine_adjustment_kwh=non_routine_adjustment_kwh)
    return Result(model=model, reporting=report, improvement_demonstrated=not reasons,
                  reasons=reasons, notes=notes, baseline_coverage=baseline_coverage,
                  frequency=frequency)


def rule_text(thresholds: Thresholds | None = None) -> str:
    """The verdict's rule in one paragraph, with the CB's thresholds."""
    th = thresholds or Thresholds.from_settings()
    return (f"Improvement is demonstrated only when the baseline spans a full year, the "
            f"baseline and the reporting period have data for at least {th.min_coverage:.0%} "
            f"of their days, the model is valid (CV(RMSE) at most "
            f"{th.max_cv_rmse_monthly:.0%} monthly or {th.max_cv_rmse_daily:.0%} daily, "
            f"F-test p below {th.max_f_test_p:g}, each variable's p below "
            f"{th.max_variable_p:g} or dropped), the expected consumption and the savings are "
            f"positive, and the savings uncertainty is below {th.max_fsu:.0%} of the savings "
            f"at {th.confidence:.0%} confidence (ASHRAE Guideline 14, ISO 50006, CalTRACK).")


def _constant(name: str) -> float:
    # NaN and Infinity are not JSON; read as floats so the field check names the field.
    return float(name)


def load_json(text: str | bytes):
    """The contract's input text parsed, or :class:`MVInputError` on the field ``json``."""
    try:
        return json.loads(text, parse_constant=_constant)
    except (ValueError, RecursionError) as exc:
        raise MVInputError("json", f"not valid JSON: {exc}")


def analyse_json(data, *, thresholds: Thresholds | None = None) -> dict:
    """The contract in one call: parse (raising :class:`MVInputError`), analyse, answer."""
    return analyse(parse_request(data), thresholds=thresholds).to_json()
