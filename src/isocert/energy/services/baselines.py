"""Measuring energy performance: baselines (a fitted model), the reporting periods
compared with them, and the EnPIs."""

import datetime

from django.db import transaction

from isocert.accounts.models import Organization, User
from isocert.accounts.services import ensure_can_edit
from isocert.core.dates import display_date
from isocert.core.errors import InvalidInput
from isocert.core.validation import choice_error

from .. import analysis, mv, selectors, series
from ..models import Baseline, EnPI, Meter, RelevantVariable, ReportingPeriod
from ._common import NAME_LIMIT, clean_name, clean_period, event, own, refuse, unique_save

# --- baselines and reporting periods -----------------------------------------------------------


@transaction.atomic
def create_baseline(*, organization: Organization, actor: User, name: str,
                    period_start: datetime.date, period_end: datetime.date,
                    variable_ids: list[int], meter_ids: list[int] = ()) -> Baseline:
    """Fit the baseline model on the baseline period's points and keep the result.

    ``variable_ids`` in model order; ``meter_ids`` the consumption modelled (all meters
    when empty). The model is judged by the M&V rules (``mv.assess_baseline``: data
    sufficiency and model validity) and kept whatever the judgement — the reasons are
    shown, and a reporting period against a baseline that is not valid is never
    "improvement demonstrated".
    """
    ensure_can_edit(organization, actor)
    errors: dict[str, str] = {}
    name = clean_name(name, errors)
    start, end = clean_period(period_start, period_end, errors)
    variables = own(RelevantVariable, organization, list(variable_ids), "variable_ids",
                    errors, "at least one relevant variable", many=True)
    meters = own(Meter, organization, list(meter_ids), "meter_ids", errors, "meters",
                 many=True, required=False)
    refuse(errors)
    in_scope = series.meter_ids_in_scope(organization, [m.pk for m in meters])
    if not in_scope:
        raise InvalidInput("Add a meter and import its readings first.",
                           fields={"meter_ids": "The organization has no meters."})
    points = series.points(meter_ids=in_scope, variable_ids=[v.pk for v in variables],
                           start=start, end=end)
    try:
        fit = analysis.fit_ols(points.kwh, points.columns, [v.name for v in variables])
    except analysis.AnalysisError as exc:
        raise InvalidInput(f"The baseline cannot be fitted: {exc}",
                           fields={"variable_ids": str(exc)})
    try:
        assessment = mv.assess_baseline(mv.Series(
            periods=list(points.periods), energy=list(points.kwh),
            variables=dict(zip(fit.names, points.columns, strict=True)), span=(start, end)))
    except analysis.AnalysisError as exc:
        fit.valid, fit.validity = False, [str(exc)]
    else:
        fit.valid = assessment.valid
        fit.validity = [*assessment.reasons, *assessment.notes]
    baseline = Baseline(organization=organization, name=name, period_start=start,
                        period_end=end, created_by=actor,
                        result={**fit.to_json(), "variable_ids": [v.pk for v in variables],
                                "first_period": points.labels[0],
                                "last_period": points.labels[-1]})
    unique_save(baseline)
    baseline.variables.set(variables)
    baseline.meters.set(meters)
    event(actor, "energy.baseline.created", baseline, organization,
          {"name": name, "period": baseline.period_label, "variables": fit.names,
           "r2": round(fit.r2, 4), "n": fit.n, "usable": fit.usable})
    return baseline


@transaction.atomic
def delete_baseline(*, baseline: Baseline, actor: User) -> None:
    """Remove a baseline with its reporting periods and regression EnPIs."""
    ensure_can_edit(baseline.organization, actor)
    event(actor, "energy.baseline.deleted", baseline, baseline.organization,
          {"name": baseline.name})
    baseline.delete()


@transaction.atomic
def add_reporting_period(*, baseline: Baseline, actor: User, period_start: datetime.date,
                         period_end: datetime.date, name: str = "") -> ReportingPeriod:
    """A period to compare with the baseline; it must come after the baseline period (not
    overlap it, not precede it) and hold at least one point with consumption and every
    variable. Without a name it is named by its dates."""
    organization = baseline.organization
    ensure_can_edit(organization, actor)
    errors: dict[str, str] = {}
    start, end = clean_period(period_start, period_end, errors)
    name = (name or "").strip()[:NAME_LIMIT]
    refuse(errors)
    if start <= baseline.period_end and end >= baseline.period_start:
        raise InvalidInput("The reporting period overlaps the baseline period.",
                           fields={"period_start": f"Choose a period outside "
                                                   f"{baseline.period_text}."})
    if end < baseline.period_start:
        # The baseline is the reference *before* the changes being judged (ISO 50006):
        # a period before it would show the past as an improvement on the future.
        raise InvalidInput("The reporting period comes before the baseline period.",
                           fields={"period_start": f"Choose a period after "
                                                   f"{baseline.period_text}."})
    default_name = f"{display_date(start)} – {display_date(end)}"
    period = ReportingPeriod(baseline=baseline, name=name or default_name,
                             period_start=start, period_end=end, created_by=actor)
    try:
        evaluated = selectors.evaluate_period(period)
    except analysis.AnalysisError as exc:
        raise InvalidInput(str(exc), fields={"period_start": str(exc)})
    period.save()
    e = evaluated.evaluation
    event(actor, "energy.reporting_period.created", period, organization,
          {"baseline": baseline.name, "period": period.period_label,
           "improvement_percent": round(e.improvement_percent, 2),
           "demonstrated": e.demonstrated})
    return period


@transaction.atomic
def delete_reporting_period(*, period: ReportingPeriod, actor: User) -> None:
    organization = period.baseline.organization
    ensure_can_edit(organization, actor)
    event(actor, "energy.reporting_period.deleted", period, organization,
          {"period": period.period_label})
    period.delete()


# --- EnPIs ---------------------------------------------------------------------------------

@transaction.atomic
def create_enpi(*, organization: Organization, actor: User, name: str, kind: str,
                variable_id: int | None = None, baseline_id: int | None = None,
                meter_ids: list[int] = ()) -> EnPI:
    """A ratio EnPI (kWh per unit of ``variable_id``, on ``meter_ids`` or all meters) or
    a regression EnPI (actual ÷ expected by ``baseline_id``'s model)."""
    ensure_can_edit(organization, actor)
    errors: dict[str, str] = {}
    name = clean_name(name, errors)
    kind = kind or ""
    enpi = EnPI(organization=organization, name=name, kind=kind)
    meters = []
    if kind == EnPI.Kind.RATIO:
        enpi.variable = own(RelevantVariable, organization, variable_id, "variable_id", errors,
                            "the variable")
        meters = own(Meter, organization, list(meter_ids), "meter_ids", errors, "meters",
                     many=True, required=False)
    elif kind == EnPI.Kind.REGRESSION:
        enpi.baseline = own(Baseline, organization, baseline_id, "baseline_id", errors,
                            "the baseline")
    else:
        errors["kind"] = choice_error(EnPI.Kind, what="the kind")
    refuse(errors)
    unique_save(enpi)
    enpi.meters.set(meters)
    event(actor, "energy.enpi.created", enpi, organization, {"name": name, "kind": kind})
    return enpi


@transaction.atomic
def delete_enpi(*, enpi: EnPI, actor: User) -> None:
    ensure_can_edit(enpi.organization, actor)
    event(actor, "energy.enpi.deleted", enpi, enpi.organization, {"name": enpi.name})
    enpi.delete()
