"""The energy API's request and response schemas, and the JSON schema and example of the
measurement-and-verification contract (``POST /api/v1/energy/analyse``)."""

import datetime
from decimal import Decimal

from ninja import Field, Schema

from . import mv

# --- schemas -----------------------------------------------------------------------------------

class EnergyAdjustmentIn(Schema):
    factor: str = Field(..., description="floor_area | production_line | shut_down | equipment "
                                         "| operating_pattern | other")
    effective_from: datetime.date = Field(..., description="The day the static factor changed")
    effective_to: datetime.date = Field(..., description="The last day the kWh cover "
                                                         "(inclusive)")
    reason: str
    method: str = Field(..., description="engineering | submeter | pro_rata | model | other")
    calculation: str = ""
    kwh: Decimal = Field(..., description="Added to the expected consumption over the days "
                                          "covered; negative when consumption falls")


class EnergyAdjustmentPatch(Schema):
    factor: str | None = None
    effective_from: datetime.date | None = None
    effective_to: datetime.date | None = None
    reason: str | None = None
    method: str | None = None
    calculation: str | None = None
    kwh: Decimal | None = None


class EnergyAdjustmentOut(Schema):
    id: int
    factor: str
    effective_from: datetime.date
    effective_to: datetime.date
    reason: str
    method: str
    calculation: str
    kwh: float
    created_by: str | None
    created_at: datetime.datetime


class EnergyAdjustmentTotalOut(Schema):
    start: datetime.date
    end: datetime.date
    kwh: float = Field(..., description="What the expected consumption of the period is "
                                        "adjusted by")
    records: list[dict]


class CarrierUnitOut(Schema):
    unit: str
    kwh_per_unit: float


class CarrierOut(Schema):
    code: str
    name: str
    units: list[CarrierUnitOut]


class MeterIn(Schema):
    name: str
    carrier: str = Field(..., description='Carrier code, e.g. "electricity", "natural-gas"')
    unit: str = Field(..., description="One of the carrier's units, e.g. kWh, m³")
    site_id: int | None = Field(None, description="A site of the organization; optional")


class MeterPatch(Schema):
    name: str | None = None
    carrier: str | None = None
    unit: str | None = None
    site_id: int | None = None


class MeterOut(Schema):
    id: int
    name: str
    carrier: str
    unit: str
    site_id: int | None
    site: str | None
    readings: int


class VariableIn(Schema):
    name: str
    kind: str = Field("other", description="production | hdd | cdd | operating_hours | "
                                           "occupancy | other")
    unit: str = Field(..., description='e.g. "t", "K·d", "h"')


class VariablePatch(Schema):
    name: str | None = None
    kind: str | None = None
    unit: str | None = None


class VariableOut(Schema):
    id: int
    name: str
    kind: str
    unit: str


class UseIn(Schema):
    name: str
    is_significant: bool = False
    meter_ids: list[int] = Field([], description="Meters of the organization measuring it")


class UsePatch(Schema):
    name: str | None = None
    is_significant: bool | None = None
    meter_ids: list[int] | None = None


class UseOut(Schema):
    id: int
    name: str
    is_significant: bool
    meter_ids: list[int]


class EnergyImportOut(Schema):
    id: int
    file_name: str
    kind: str
    frequency: str
    sha256: str
    rows: int
    values: int
    mapping: dict
    imported_by: str | None
    imported_at: datetime.datetime


class EnergyShareOut(Schema):
    name: str
    kwh: float
    percent: float
    cumulative_percent: float
    significant: bool


class EnergyReviewOut(Schema):
    start: datetime.date | None
    end: datetime.date | None
    total_kwh: float
    annual_kwh: float
    annual_tj: float
    annualized: bool = Field(..., description="Less than a year of data, scaled to 365 days")
    energy_types: int
    seu_count: int
    seu_share_percent: float
    by_carrier: list[EnergyShareOut]
    by_site: list[EnergyShareOut]
    by_use: list[EnergyShareOut] = Field(..., description="Pareto: largest first, cumulative share")


class BaselineIn(Schema):
    name: str
    period_start: datetime.date
    period_end: datetime.date
    variable_ids: list[int] = Field(..., description="Relevant variables, in model order")
    meter_ids: list[int] = Field([], description="Consumption modelled; empty = all meters")


class FitOut(Schema):
    names: list[str]
    intercept: float
    coefficients: list[float]
    std_errors: list[float] = Field(..., description="Intercept first")
    t_values: list[float | None]
    p_values: list[float] = Field(..., description="Two-sided, Student t, n − p d.o.f.")
    r2: float
    adj_r2: float | None
    cv_rmse: float | None = Field(..., description="sqrt(SSE/(n−p)) / mean(y)")
    nmbe: float | None = Field(..., description="Σ(y−ŷ) / ((n−p)·mean(y))")
    n: int
    p: int
    usable: bool = Field(..., description="Valid by the M&V rules: the baseline spans a "
                         "full year with ≥ 90 % coverage and the model passes CV(RMSE) and "
                         "F-test limits (docs/energy.md); R² is reported, not a gate")
    validity: list[str] = Field([], description="Why it is not usable, and notes (e.g. a "
                                "variable the M&V model dropped)")
    warnings: list[str] = Field(..., description="Variables with a p-value above 0.1")


class ReportingPeriodRef(Schema):
    id: int
    name: str
    period_start: datetime.date
    period_end: datetime.date


class BaselineOut(Schema):
    id: int
    name: str
    period_start: datetime.date
    period_end: datetime.date
    variable_ids: list[int]
    meter_ids: list[int]
    fit: FitOut
    reporting_periods: list[ReportingPeriodRef]


class ReportingPeriodIn(Schema):
    name: str = ""
    period_start: datetime.date
    period_end: datetime.date


class PointOut(Schema):
    label: str
    actual: float
    expected: float
    savings: float
    cusum: float


class EvaluationOut(Schema):
    id: int
    baseline_id: int
    name: str
    period_start: datetime.date
    period_end: datetime.date
    expected_kwh: float
    actual_kwh: float
    savings_kwh: float
    improvement_percent: float
    savings_uncertainty_kwh: float | None = Field(
        ..., description="± kWh at the confidence (fsu × savings); None without savings")
    fsu: float | None = Field(..., description="Fractional savings uncertainty (ASHRAE "
                              "Guideline 14 Annex B)")
    confidence: float
    coverage: float = Field(..., description="Share of the period's days with data")
    usable: bool
    demonstrated: bool
    reasons: list[str] = Field(..., description="Every reason it is not demonstrated")
    notes: list[str]
    summary: str
    rule: str
    points: list[PointOut]


class EnPIIn(Schema):
    name: str
    kind: str = Field(..., description="ratio (kWh per unit of a variable) | regression "
                                        "(actual ÷ expected by a baseline)")
    variable_id: int | None = None
    baseline_id: int | None = None
    meter_ids: list[int] = Field([], description="Ratio EnPI: meters; empty = all")


class EnPIOut(Schema):
    id: int
    name: str
    kind: str
    unit: str
    variable_id: int | None
    baseline_id: int | None
    meter_ids: list[int]
    months: list[str]
    values: list[float | None]


class EnergyImprovementEvidenceOut(Schema):
    demonstrated: bool
    reasons: list[str] = Field(..., description="Every reason it is not demonstrated; notes "
                               "after them")
    improvement_percent: float
    savings_kwh: float
    savings_uncertainty_kwh: float | None = Field(..., description="± kWh at the confidence")
    fsu: float | None
    confidence: float
    expected_kwh: float
    actual_kwh: float
    baseline: str
    baseline_period: str
    reporting_period: str
    reporting_period_name: str
    model_form: str
    cv_rmse: float | None
    r2: float
    points: int
    warnings: list[str]
    summary: str


class PrefillOut(Schema):
    application_id: int
    reference: str
    annual_energy_consumption_tj: str
    energy_types: int | None
    significant_energy_uses: int | None


# --- the measurement-and-verification analysis (pure) --------------------------------------

_SERIES_SCHEMA = {
    "type": "object", "required": ["periods", "energy"],
    "properties": {
        "periods": {"type": "array", "items": {"type": "string"}, "description":
                    "Months YYYY-MM, days YYYY-MM-DD or ISO weeks YYYY-Www, in time order, "
                    "not overlapping; one kind for baseline and reporting."},
        "energy": {"type": "array", "items": {"type": "number"},
                   "description": "kWh per period (finite numbers)."},
        "variables": {"type": "object", "additionalProperties": {
            "type": "array", "items": {"type": "number"}},
            "description": "Relevant variables by name, one value per period."},
    }}
ANALYSE_REQUEST_SCHEMA = {
    "type": "object", "required": ["baseline", "reporting"],
    "properties": {
        "baseline": _SERIES_SCHEMA,
        "reporting": {**_SERIES_SCHEMA, "description": "Same shape and variables; starts "
                      "after the baseline ends."},
        "model": {"type": "string", "enum": list(mv.MODELS), "default": "linear",
                  "description": "linear: OLS with intercept on the variables; auto: "
                  "change-point models on the temperature (3P, 4P, 5P, mean)."},
        "temperature": {"type": "object", "description": "For auto: mean outdoor "
                        "temperature (°C or °F) of each period.",
                        "properties": {"baseline": {"type": "array", "items": {"type": "number"}},
                                       "reporting": {"type": "array",
                                                     "items": {"type": "number"}}}},
        "confidence": {"type": "number", "enum": list(mv.CONFIDENCES),
                       "description": "Of the savings uncertainty; default the CB's "
                       "ENERGY_CONFIDENCE (0.68)."},
    }}
ANALYSE_EXAMPLE = {
    "baseline": {"periods": [f"2016-{m:02d}" for m in range(1, 13)],
                 "energy": [1020, 1030, 1120, 1130, 1220, 1230, 1320, 1330, 1420, 1430, 1520,
                            1530],
                 "variables": {"hdd": [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]}},
    "reporting": {"periods": [f"2017-{m:02d}" for m in range(1, 13)],
                  "energy": [900, 945, 990, 1035, 1080, 1125, 1170, 1215, 1260, 1305, 1350,
                             1395],
                  "variables": {"hdd": [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]}},
    "model": "linear", "confidence": 0.68}


class MVModelOut(Schema):
    form: str = Field(..., description="linear | 3p-heating | 3p-cooling | 4p | 5p | mean")
    variables: list[str]
    intercept: float
    coefficients: dict[str, float]
    std_errors: dict[str, float]
    p_values: dict[str, float]
    f_test_p: float | None = Field(..., description="None for the mean model")
    balance_points: dict[str, float] | None = Field(
        None, description="Change-point forms: heating and/or cooling balance temperature")
    r2: float
    adj_r2: float
    cv_rmse: float | None
    nmbe: float | None
    n: int
    parameters: int
    autocorrelation_lag1: float
    effective_n: float


class MVReportingOut(Schema):
    n: int
    coverage: float
    actual: float
    expected: float
    savings: float
    savings_fraction: float | None
    fsu: float | None = Field(..., description="Fractional savings uncertainty (ASHRAE "
                              "Guideline 14 Annex B); None without savings")
    confidence: float
    outside_baseline_range: list[str]


class MVVerdictOut(Schema):
    improvement_demonstrated: bool
    reasons: list[str]


class AnalyseOut(Schema):
    model: MVModelOut
    reporting: MVReportingOut
    verdict: MVVerdictOut
