"""Reads on energy data, baselines and EnPIs, scoped to who is asking.

Who sees an organization's energy data:
- its members (any role; owners and editors also change it);
- CB staff with the ``read_energy`` capability (``accounts.permissions``: reviewers,
  administrators and decision makers), once the organization deals with
  the CB about ISO 50001: it shares its ISO 50001 readiness (as the readiness selectors
  lets them see shared readiness) or has an ISO 50001 application past the draft;
- auditors (``audit`` capability) on the team of one of the organization's audits;
- anyone else: 404, as if the organization did not exist.

``improvement_evidence`` is not scoped: the certification decision calls it for CB
staff whose access is checked there.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.http import Http404

from isocert.accounts.models import Organization, User
from isocert.accounts.permissions import can, can_in
from isocert.audits.models import Audit
from isocert.core.dates import display_date, display_dates_in
from isocert.readiness.models import ReadinessShare
from isocert.registration.models import Application

from . import analysis, mv, series
from .models import (
    Baseline,
    EnergyCarrier,
    EnergyUse,
    EnPI,
    ImportBatch,
    Meter,
    NonRoutineAdjustment,
    Reading,
    RelevantVariable,
    ReportingPeriod,
)

ENERGY_STANDARD = "ISO 50001"


# --- access ----------------------------------------------------------------------------------

def _is_member(user: User, organization_id: int) -> bool:
    return can_in(user, "read", organization_id)


def _cb_can_read(user: User, organization_id: int) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.staff_roles_set:
        return False
    if can(user, "read_energy"):
        if ReadinessShare.objects.filter(organization_id=organization_id, is_shared=True,
                                         standard__code=ENERGY_STANDARD).exists():
            return True
        if (Application.objects.filter(organization_id=organization_id,
                                       standard_lines__standard__code=ENERGY_STANDARD)
                .exclude(status__in=[Application.Status.DRAFT, Application.Status.WITHDRAWN])
                .exists()):
            return True
    if can(user, "audit"):
        return Audit.objects.filter(cycle__organization_id=organization_id,
                                    team__auditor=user).exists()
    return False


def can_read(user: User, organization_id: int) -> bool:
    return _is_member(user, organization_id) or _cb_can_read(user, organization_id)


def organization_for_energy(*, user: User, pk) -> Organization:
    try:
        organization = Organization.objects.get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404("No such organization")
    if not can_read(user, organization.pk):
        raise Http404("No such organization")
    return organization


def can_edit(*, user: User, organization: Organization) -> bool:
    return can_in(user, "edit", organization)


def is_member(*, user: User, organization: Organization) -> bool:
    return _is_member(user, organization.pk)


def _get(queryset: QuerySet, what: str, **lookup):
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No such {what}")


def _owned(model, user: User, pk, what: str, organization: Organization | None):
    """An object of an organization the user may read (and of ``organization`` if given)."""
    obj = _get(model.objects.select_related("organization"), what, pk=pk)
    if organization is not None and obj.organization_id != organization.pk:
        raise Http404(f"No such {what}")
    if not can_read(user, obj.organization_id):
        raise Http404(f"No such {what}")
    return obj


def meter_get(*, user: User, pk, organization: Organization | None = None) -> Meter:
    return _owned(Meter, user, pk, "meter", organization)


def energy_use_get(*, user: User, pk, organization: Organization | None = None) -> EnergyUse:
    return _owned(EnergyUse, user, pk, "energy use", organization)


def variable_get(*, user: User, pk, organization: Organization | None = None
                 ) -> RelevantVariable:
    return _owned(RelevantVariable, user, pk, "relevant variable", organization)


def baseline_get(*, user: User, pk, organization: Organization | None = None) -> Baseline:
    return _owned(Baseline, user, pk, "baseline", organization)


def enpi_get(*, user: User, pk, organization: Organization | None = None) -> EnPI:
    return _owned(EnPI, user, pk, "EnPI", organization)


def adjustment_get(*, user: User, pk, organization: Organization | None = None
                   ) -> NonRoutineAdjustment:
    return _owned(NonRoutineAdjustment, user, pk, "adjustment", organization)


def import_batch_get(*, user: User, pk, organization: Organization | None = None
                     ) -> ImportBatch:
    return _owned(ImportBatch, user, pk, "import", organization)


def reporting_period_get(*, user: User, pk, organization: Organization | None = None
                         ) -> ReportingPeriod:
    period = _get(ReportingPeriod.objects.select_related("baseline__organization"),
                  "reporting period", pk=pk)
    organization_id = period.baseline.organization_id
    if organization is not None and organization_id != organization.pk:
        raise Http404("No such reporting period")
    if not can_read(user, organization_id):
        raise Http404("No such reporting period")
    return period


# --- lists (the organization already checked by organization_for_energy) --------------------

def carriers() -> QuerySet[EnergyCarrier]:
    return EnergyCarrier.objects.prefetch_related("units")


def meters_of(organization: Organization) -> QuerySet[Meter]:
    return Meter.objects.filter(organization=organization).select_related("carrier", "site")


def uses_of(organization: Organization) -> QuerySet[EnergyUse]:
    return EnergyUse.objects.filter(organization=organization).prefetch_related("meters")


def variables_of(organization: Organization) -> QuerySet[RelevantVariable]:
    return RelevantVariable.objects.filter(organization=organization)


def baselines_of(organization: Organization) -> QuerySet[Baseline]:
    return (Baseline.objects.filter(organization=organization)
            .prefetch_related("variables", "meters", "reporting_periods"))


def enpis_of(organization: Organization) -> QuerySet[EnPI]:
    return (EnPI.objects.filter(organization=organization)
            .select_related("variable", "baseline").prefetch_related("meters"))


def imports_of(organization: Organization) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.filter(organization=organization).select_related("imported_by")


def data_summary(organization: Organization) -> dict:
    readings = Reading.objects.filter(meter__organization=organization)
    first = readings.order_by("period_start").values_list("period_start", flat=True).first()
    last = readings.order_by("-period_end").values_list("period_end", flat=True).first()
    return {"readings": readings.count(), "first": first, "last": last}


# --- baselines and reporting periods --------------------------------------------------------

def _mv_series(points: series.Points, names: list[str], span: series.Period) -> mv.Series:
    return mv.Series(periods=list(points.periods), energy=list(points.kwh),
                     variables={name: list(column)
                                for name, column in zip(names, points.columns, strict=True)},
                     span=span)


def baseline_assessment(baseline: Baseline, *, points: series.Points | None = None,
                        names: list[str] | None = None) -> mv.BaselineAssessment:
    """The baseline's data sufficiency and model validity by the M&V rules (``mv``), on the
    baseline period's current points; raises AnalysisError without enough points."""
    points = baseline_points(baseline) if points is None else points
    if names is None:
        names = list(baseline.result.get("names", []))
    if not points.periods:
        raise analysis.AnalysisError("The baseline period has no points with consumption and "
                                     "every variable any more.")
    return mv.assess_baseline(_mv_series(points, names,
                                         (baseline.period_start, baseline.period_end)))


def baseline_fit(baseline: Baseline) -> analysis.Fit:
    """The stored regression; a fit stored before the M&V rules is judged on read."""
    fit = analysis.Fit.from_json(baseline.result)
    if fit.valid is None:
        try:
            assessment = baseline_assessment(baseline, names=fit.names)
        except analysis.AnalysisError as exc:
            fit.valid, fit.validity = False, [str(exc)]
        else:
            fit.valid = assessment.valid
            fit.validity = [*assessment.reasons, *assessment.notes]
    return fit


def baseline_variable_ids(baseline: Baseline) -> list[int]:
    """The model's variables in the order of its coefficients (kept with the fit, so
    renaming a variable later changes nothing)."""
    return list(baseline.result["variable_ids"])


def baseline_meter_ids(baseline: Baseline) -> list[int]:
    return series.meter_ids_in_scope(baseline.organization,
                                     [m.pk for m in baseline.meters.all()])


def baseline_points(baseline: Baseline) -> series.Points:
    return series.points(meter_ids=baseline_meter_ids(baseline),
                         variable_ids=baseline_variable_ids(baseline),
                         start=baseline.period_start, end=baseline.period_end)


def assessed_baselines(organization: Organization) -> list[Baseline]:
    """The organization's baselines, each with ``usable`` set by the M&V rules."""
    baselines = list(baselines_of(organization))
    for baseline in baselines:
        baseline.usable = baseline_fit(baseline).usable
    return baselines


@dataclass
class PeriodEvaluation:
    period: ReportingPeriod
    baseline: Baseline
    fit: analysis.Fit
    evaluation: analysis.Evaluation
    points: series.Points
    result: mv.Result
    adjustments: "Adjustments"

    @property
    def summary(self) -> str:
        """One paragraph: the verdict, every reason, and the figures with the savings
        uncertainty and which reporting period was judged."""
        e, r, m = self.evaluation, self.result.reporting, self.result.model
        verdict = ("Energy performance improvement demonstrated" if e.demonstrated
                   else "Energy performance improvement not demonstrated")
        # The M&V engine names its input's dates as given (ISO 8601); people read them here.
        reasons = (f": {display_dates_in(' '.join(self.result.reasons))}"
                   if self.result.reasons else ".")
        uncertainty = (f" ± {r.savings_uncertainty_kwh:,.0f} kWh (fsu {r.fsu:.1%} at "
                       f"{r.confidence:.0%} confidence)" if r.fsu is not None else "")
        cv = f"CV(RMSE) {m.cv_rmse:.1%}, " if m.cv_rmse is not None else ""
        adjusted = (f", including {self.adjustments.kwh:+,.0f} kWh of "
                    f"{len(self.adjustments.records)} non-routine adjustment"
                    f"{'s' if len(self.adjustments.records) != 1 else ''}"
                    if self.adjustments.records else "")
        return (f"{verdict}{reasons} Reporting period “{self.period.name}” "
                f"({self.period.period_text}): {e.actual_kwh:,.0f} kWh used against "
                f"{e.expected_kwh:,.0f} kWh expected by baseline “{self.baseline.name}” "
                f"({self.baseline.period_text}; {m.form} model, {cv}R² {m.r2:.3f}, {m.n} "
                f"points{adjusted}) — savings {e.savings_kwh:,.0f} kWh{uncertainty}, improvement "
                f"{e.improvement_percent:.1f} %.{self.adjustment_log}")

    @property
    def adjustment_log(self) -> str:
        """The non-routine adjustments behind the adjusted expectation, one clause each
        (empty without any)."""
        if not self.adjustments.records:
            return ""
        entries = "; ".join(
            f"{r.adjustment.get_factor_display()} from {display_date(r.adjustment.effective_from)} "
            f"to {display_date(r.adjustment.effective_to)}, {r.kwh:+,.0f} kWh in this period "
            f"({r.adjustment.get_method_display()}): {r.adjustment.reason}"
            for r in self.adjustments.records)
        return f" Non-routine adjustments (ISO 50015): {entries}."


def all_baseline_points(baseline: Baseline) -> series.Points:
    """Every point of the baseline's meters and variables, whatever the period."""
    return series.points(meter_ids=baseline_meter_ids(baseline),
                         variable_ids=baseline_variable_ids(baseline))


def evaluate_period(period: ReportingPeriod, *, all_points: series.Points | None = None
                    ) -> PeriodEvaluation:
    """The reporting period against its baseline by the M&V rules (``mv.analyse`` on the
    baseline period's and the reporting period's current points, each period's coverage
    counted over its declared dates); raises AnalysisError without data.

    ``all_points`` (from ``all_baseline_points``) saves reading the data again. The
    non-routine adjustments recorded for the period's days are added to the expected
    consumption (ISO 50015, IPMVP: the adjusted baseline) and come back with the result.
    """
    baseline = period.baseline
    fit = baseline_fit(baseline)
    if all_points is not None:
        base = all_points.within(baseline.period_start, baseline.period_end)
        points = all_points.within(period.period_start, period.period_end)
    else:
        base = baseline_points(baseline)
        points = series.points(meter_ids=baseline_meter_ids(baseline),
                               variable_ids=baseline_variable_ids(baseline),
                               start=period.period_start, end=period.period_end)
    if not points.periods:
        raise analysis.AnalysisError("The reporting period has no points with consumption and "
                                     "every variable of the baseline.")
    if not base.periods:
        raise analysis.AnalysisError("The baseline period has no points with consumption and "
                                     "every variable any more.")
    request = mv.Request(
        baseline=_mv_series(base, fit.names, (baseline.period_start, baseline.period_end)),
        reporting=_mv_series(points, fit.names, (period.period_start, period.period_end)))
    adjustments = adjustments_for_period(period)
    result = mv.analyse(request, non_routine_adjustment_kwh=adjustments.kwh)
    r = result.reporting
    evaluation = analysis.Evaluation(
        expected_kwh=r.expected, actual_kwh=r.actual, savings_kwh=r.savings,
        improvement_percent=(r.savings_fraction or 0.0) * 100,
        points=analysis.period_points(points.labels, points.kwh, r.expected_per_period),
        usable=fit.usable, demonstrated=result.improvement_demonstrated,
        reason=" ".join(result.reasons), reasons=list(result.reasons), notes=list(result.notes),
        fsu=r.fsu, savings_uncertainty_kwh=r.savings_uncertainty_kwh, confidence=r.confidence,
        coverage=r.coverage)
    return PeriodEvaluation(period=period, baseline=baseline, fit=fit, evaluation=evaluation,
                            points=points, result=result, adjustments=adjustments)


def latest_reporting_period(organization_id: int, *, starts_from: datetime.date | None = None,
                            ends_by: datetime.date | None = None) -> ReportingPeriod | None:
    """The organization's reporting period with the latest end, optionally only among those
    lying within ``starts_from`` … ``ends_by``."""
    periods = ReportingPeriod.objects.filter(baseline__organization_id=organization_id)
    if starts_from is not None:
        periods = periods.filter(period_start__gte=starts_from)
    if ends_by is not None:
        periods = periods.filter(period_end__lte=ends_by)
    return (periods.select_related("baseline__organization")
            .order_by("-period_end", "-created_at", "-pk").first())


def improvement_evidence(*, organization_id: int, starts_from: datetime.date | None = None,
                         ends_by: datetime.date | None = None) -> dict | None:
    """None when the organization has no baseline with a reporting period; else
    {"demonstrated": bool, "reasons": [str] (every reason it is not; notes after them),
     "improvement_percent": float, "savings_kwh": float, "savings_uncertainty_kwh": float | None
     (± at "confidence"), "fsu": float | None, "confidence": float, "expected_kwh": float,
     "actual_kwh": float, "baseline": str (name), "baseline_period": "YYYY-MM-DD – YYYY-MM-DD",
     "reporting_period": "... – ...", "reporting_period_name": str, "model_form": str,
     "cv_rmse": float | None, "r2": float, "points": int, "warnings": [str],
     "non_routine_adjustment_kwh": float (included in "expected_kwh"),
     "summary": str (the verdict, its reasons, the figures and the adjustment log)}

    The latest reporting period (by its end) is judged by ``mv.analyse`` (docs/energy.md:
    data sufficiency, model validity, savings uncertainty); with ``starts_from`` /
    ``ends_by`` (the certification decision's window: the cycle being decided) only a
    period lying within them counts, and when the organization has periods but none
    within, the evidence is not demonstrated and the summary says which period there is and
    why it does not count. A reporting period without data counts as not demonstrated.
    ``points`` is the number of baseline points the model rests on.
    """
    period = latest_reporting_period(organization_id, starts_from=starts_from,
                                     ends_by=ends_by)
    if period is None:
        latest = latest_reporting_period(organization_id)
        if latest is None:
            return None
        return _outside_window(latest, starts_from, ends_by)
    baseline = period.baseline
    try:
        result = evaluate_period(period)
    except analysis.AnalysisError as exc:
        fit = baseline_fit(baseline)
        return _not_judged(baseline, period, fit, str(exc),
                           f"Energy performance improvement not demonstrated: {exc}")
    e, fit, model = result.evaluation, result.fit, result.result.model
    window = _window_text(starts_from, ends_by)
    return {"demonstrated": e.demonstrated,
            "reasons": [display_dates_in(text) for text in [*e.reasons, *e.notes]],
            "improvement_percent": round(e.improvement_percent, 2),
            "savings_kwh": round(e.savings_kwh, 1),
            "savings_uncertainty_kwh": (None if e.savings_uncertainty_kwh is None
                                        else round(e.savings_uncertainty_kwh, 1)),
            "fsu": None if e.fsu is None else round(e.fsu, 4), "confidence": e.confidence,
            "expected_kwh": round(e.expected_kwh, 1), "actual_kwh": round(e.actual_kwh, 1),
            "baseline": baseline.name, "baseline_period": baseline.period_label,
            "reporting_period": period.period_label, "reporting_period_name": period.name,
            "model_form": model.form,
            "cv_rmse": None if model.cv_rmse is None else round(model.cv_rmse, 4),
            "r2": round(model.r2, 4), "points": model.n, "warnings": list(fit.warnings),
            "non_routine_adjustment_kwh": result.adjustments.kwh,
            "summary": result.summary + (f" The reporting period lies within {window}."
                                         if window else "")}


def _window_text(starts_from: datetime.date | None, ends_by: datetime.date | None) -> str:
    if starts_from and ends_by:
        return (f"the cycle being decided (from {display_date(starts_from)} to "
                f"{display_date(ends_by)})")
    if ends_by:
        return f"the cycle being decided (ending by {display_date(ends_by)})"
    return ""


def _not_judged(baseline: Baseline, period: ReportingPeriod, fit: analysis.Fit, reason: str,
                summary: str) -> dict:
    return {"demonstrated": False, "reasons": [reason], "improvement_percent": 0.0,
            "savings_kwh": 0.0, "savings_uncertainty_kwh": None, "fsu": None,
            "confidence": mv.Thresholds.from_settings().confidence, "expected_kwh": 0.0,
            "actual_kwh": 0.0, "baseline": baseline.name,
            "baseline_period": baseline.period_label, "reporting_period": period.period_label,
            "reporting_period_name": period.name, "model_form": "linear",
            "cv_rmse": None if fit.cv_rmse is None else round(fit.cv_rmse, 4),
            "r2": round(fit.r2, 4), "points": fit.n, "warnings": [*fit.warnings, reason],
            "non_routine_adjustment_kwh": 0.0, "summary": summary}


def _outside_window(latest: ReportingPeriod, starts_from: datetime.date | None,
                    ends_by: datetime.date | None) -> dict:
    """The evidence when reporting periods exist but none lies within the window."""
    start, end = display_date(starts_from), display_date(ends_by)
    window = (f"from {start} to {end}" if starts_from and ends_by
              else f"from {start}" if starts_from else f"ending by {end}")
    if starts_from and latest.period_start < starts_from:
        why = f"starts before {start}, when the cycle being decided began"
    else:
        why = f"ends after {end}, the decision date: its data is not complete"
    reason = (f"no reporting period lies within the cycle being decided ({window}); the "
              f"latest, “{latest.name}” ({latest.period_text}), {why}. Add a reporting "
              "period within the cycle")
    text = reason[0].upper() + reason[1:] + "."
    result = _not_judged(latest.baseline, latest, baseline_fit(latest.baseline), text,
                         f"Energy performance improvement not demonstrated: {reason}.")
    return result


# --- EnPIs ---------------------------------------------------------------------------------

@dataclass
class EnPITrend:
    enpi: EnPI
    unit: str
    months: list[str] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)


def enpi_trend(enpi: EnPI) -> EnPITrend:
    """The EnPI per calendar month of the data (periods grouped by the month they start)."""
    organization = enpi.organization
    meter_ids = series.meter_ids_in_scope(organization, [m.pk for m in enpi.meters.all()])
    if enpi.kind == EnPI.Kind.RATIO:
        data = series.points(meter_ids=meter_ids, variable_ids=[enpi.variable_id])
        kwh, units = defaultdict(float), defaultdict(float)
        for period, e, x in zip(data.periods, data.kwh, data.columns[0], strict=True):
            kwh[series.month_key(period)] += e
            units[series.month_key(period)] += x
        months = sorted(kwh)
        return EnPITrend(enpi=enpi, unit=f"kWh/{enpi.variable.unit}", months=months,
                         values=[analysis.ratio(kwh[m], units[m]) for m in months])
    baseline = enpi.baseline
    fit = baseline_fit(baseline)
    data = all_baseline_points(baseline)
    actual, expected = defaultdict(float), defaultdict(float)
    for period, e, predicted in zip(data.periods, data.kwh, fit.predict(data.rows()),
                                    strict=True):
        actual[series.month_key(period)] += e
        expected[series.month_key(period)] += predicted
    months = sorted(actual)
    return EnPITrend(enpi=enpi, unit="actual ÷ expected", months=months,
                     values=[analysis.ratio(actual[m], expected[m]) for m in months])


# --- energy review -------------------------------------------------------------------------

@dataclass
class EnergyReview:
    start: datetime.date | None
    end: datetime.date | None
    total_kwh: float
    annual_kwh: float
    annualized: bool
    by_carrier: list[analysis.Share]
    by_site: list[analysis.Share]
    by_use: list[analysis.Share]
    seu_share_percent: float
    energy_types: int
    seu_count: int

    @property
    def annual_tj(self) -> float:
        return analysis.kwh_to_tj(self.annual_kwh)

    @property
    def annual_gj(self) -> float:
        return self.annual_kwh * 0.0036


UNASSIGNED = "Not assigned to a use"
NO_SITE = "No site"


def energy_review(organization: Organization) -> EnergyReview:
    """Consumption of the last 12 months of data (up to the latest reading).

    A meter belonging to several uses is split equally among them. With less than a
    year of data the annual figure is scaled up to 365 days and marked as such.
    """
    meters = list(meters_of(organization).prefetch_related("uses"))
    seu_count = EnergyUse.objects.filter(organization=organization, is_significant=True).count()
    last = (Reading.objects.filter(meter__organization=organization)
            .order_by("-period_end").values_list("period_end", flat=True).first())
    if last is None:
        return EnergyReview(None, None, 0.0, 0.0, False, [], [], [], 0.0, 0, seu_count)
    start = last - datetime.timedelta(days=364)
    totals: dict[int, float] = defaultdict(float)
    first = None
    for meter_id, period_start, kwh in (Reading.objects
                                        .filter(meter__organization=organization,
                                                period_start__gte=start, period_end__lte=last)
                                        .values_list("meter_id", "period_start", "kwh")):
        totals[meter_id] += float(kwh)
        first = period_start if first is None or period_start < first else first
    by_carrier, by_site, by_use = defaultdict(float), defaultdict(float), defaultdict(float)
    significant = set()
    for meter in meters:
        kwh = totals.get(meter.pk, 0.0)
        if not kwh:
            continue
        by_carrier[meter.carrier.name] += kwh
        by_site[meter.site.name if meter.site else NO_SITE] += kwh
        uses = list(meter.uses.all())
        for use in uses:
            by_use[use.name] += kwh / len(uses)
            if use.is_significant:
                significant.add(use.name)
        if not uses:
            by_use[UNASSIGNED] += kwh
    total = sum(totals.values())
    covered_days = (last - first).days + 1 if first else 365
    annualized = covered_days < 365
    annual = total * 365 / covered_days if annualized and covered_days else total
    seu_kwh = sum(v for k, v in by_use.items() if k in significant)
    return EnergyReview(
        start=first, end=last, total_kwh=total, annual_kwh=annual, annualized=annualized,
        by_carrier=analysis.shares(by_carrier), by_site=analysis.shares(by_site),
        by_use=analysis.shares(by_use, significant),
        seu_share_percent=seu_kwh / total * 100 if total else 0.0,
        energy_types=len(by_carrier), seu_count=seu_count)


def iso50003_inputs(organization: Organization) -> dict | None:
    """The application's ISO 50003 inputs from the energy review (None without data)."""
    review = energy_review(organization)
    if not review.total_kwh:
        return None
    return {"annual_energy_consumption_tj": review.annual_tj,
            "energy_types": review.energy_types or None,
            "significant_energy_uses": review.seu_count or None}


# --- non-routine adjustments -------------------------------------------------------------------

def adjustments_of(organization: Organization) -> QuerySet:
    """The adjustment log: every non-routine adjustment, latest change first."""
    return NonRoutineAdjustment.objects.filter(organization=organization).select_related(
        "created_by")


@dataclass
class AdjustmentShare:
    """One adjustment's part of a period: the days it covers there and their kWh."""

    adjustment: NonRoutineAdjustment
    days: int
    kwh: float


@dataclass
class Adjustments:
    """The non-routine adjustments falling within ``start`` – ``end`` and their total."""

    start: datetime.date
    end: datetime.date
    records: list[AdjustmentShare]
    kwh: float


def adjustments_for(*, organization_id: int, start: datetime.date, end: datetime.date
                    ) -> Adjustments:
    """The adjustments overlapping ``start`` – ``end`` (inclusive), each with the share of
    its kWh on the overlapping days (its kWh are spread evenly over the days it covers),
    and the total: what the expected consumption of that period is adjusted by
    (ISO 50015 and IPMVP Core Concepts: adjusted expected = model expectation +
    non-routine adjustments).

    Not scoped, like ``improvement_evidence``: the analysis and the decision pass the
    period of an object whose access they have checked (``adjustments_for_period``).
    """
    records = []
    for adjustment in (NonRoutineAdjustment.objects.filter(
            organization_id=organization_id, effective_from__lte=end, effective_to__gte=start)
            .order_by("effective_from", "pk")):
        days = (min(end, adjustment.effective_to) - max(start, adjustment.effective_from)).days + 1
        records.append(AdjustmentShare(adjustment=adjustment, days=days,
                                       kwh=float(adjustment.kwh) * days / adjustment.days))
    return Adjustments(start=start, end=end, records=records,
                       kwh=round(sum(r.kwh for r in records), 3))


def adjustments_for_period(period: ReportingPeriod) -> Adjustments:
    """``adjustments_for`` the days of a reporting period."""
    return adjustments_for(organization_id=period.baseline.organization_id,
                           start=period.period_start, end=period.period_end)
