"""The analysis' input: settings (thresholds), the series of periods, energy and
variables, and the parser of the JSON contract with its checks; constants shared by
the other modules."""

import calendar
import contextlib
import datetime
import math
import re
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from ..analysis import AnalysisError, _refuse_near_singular

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
    with contextlib.suppress(ValueError):  # well formed, but no such month, week or day
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
