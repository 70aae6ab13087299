"""The analysis: data sufficiency, model validity, the reporting period's savings with
their uncertainty, the verdict with every reason, and the JSON answer of the contract."""

import json
import math
from dataclasses import dataclass

import numpy as np

from .changepoint import (
    change_point_models,
    choose_change_point_model,
)
from .inputs import (
    COOLING,
    HEATING,
    MVInputError,
    Request,
    Series,
    Thresholds,
    parse_request,
)
from .regression import (
    Model,
    drop_insignificant,
    fit,
    savings_uncertainty,
)

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
    fitted = drop_insignificant(baseline, fitted, th.max_variable_p, fixed, notes)
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
