"""ISO 50001 energy performance: meters, variables, uses, data imports, energy review,
baselines, reporting periods, EnPIs and the improvement verdict.

Every path names the organization; objects of an organization you can't see, or of
another organization than the one named, answer 404. Members read and owners/editors
write; CB staff read an organization's energy data once it deals with the CB about
ISO 50001 (shared readiness or an application past the draft).
"""

import json

from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from isocert.core.api import ErrorOut
from isocert.core.errors import InvalidInput

from . import analysis, importer, mv, selectors, services
from .models import (
    Baseline,
    EnergyUse,
    EnPI,
    ImportBatch,
    Meter,
    NonRoutineAdjustment,
    RelevantVariable,
)
from .schemas import (
    ANALYSE_EXAMPLE,
    ANALYSE_REQUEST_SCHEMA,
    AnalyseOut,
    BaselineIn,
    BaselineOut,
    CarrierOut,
    EnergyAdjustmentIn,
    EnergyAdjustmentOut,
    EnergyAdjustmentPatch,
    EnergyAdjustmentTotalOut,
    EnergyImportOut,
    EnergyImprovementEvidenceOut,
    EnergyReviewOut,
    EnPIIn,
    EnPIOut,
    EvaluationOut,
    MeterIn,
    MeterOut,
    MeterPatch,
    PrefillOut,
    ReportingPeriodIn,
    UseIn,
    UseOut,
    UsePatch,
    VariableIn,
    VariableOut,
    VariablePatch,
)

router = Router(tags=["energy"])
BASE = "/organizations/{org_id}/energy"


# --- helpers ----------------------------------------------------------------------------------

def _org(request, org_id: int):
    return selectors.organization_for_energy(user=request.auth, pk=org_id)


def _adjustment_out(adjustment: NonRoutineAdjustment) -> dict:
    return {"id": adjustment.pk, "factor": adjustment.factor,
            "effective_from": adjustment.effective_from,
            "effective_to": adjustment.effective_to, "reason": adjustment.reason,
            "method": adjustment.method, "calculation": adjustment.calculation,
            "kwh": float(adjustment.kwh),
            "created_by": adjustment.created_by.email if adjustment.created_by else None,
            "created_at": adjustment.created_at}


def _meter_out(meter: Meter) -> dict:
    return {"id": meter.pk, "name": meter.name, "carrier": meter.carrier.code,
            "unit": meter.unit, "site_id": meter.site_id,
            "site": meter.site.name if meter.site else None, "readings": meter.readings.count()}


def _variable_out(variable: RelevantVariable) -> dict:
    return {"id": variable.pk, "name": variable.name, "kind": variable.kind,
            "unit": variable.unit}


def _use_out(use: EnergyUse) -> dict:
    return {"id": use.pk, "name": use.name, "is_significant": use.is_significant,
            "meter_ids": sorted(m.pk for m in use.meters.all())}


def _import_out(batch: ImportBatch) -> dict:
    return {"id": batch.pk, "file_name": batch.file_name, "kind": batch.kind,
            "frequency": batch.frequency, "sha256": batch.sha256, "rows": batch.rows,
            "values": batch.values, "mapping": batch.mapping,
            "imported_by": batch.imported_by.email if batch.imported_by else None,
            "imported_at": batch.imported_at}


def _baseline_out(baseline: Baseline) -> dict:
    fit = selectors.baseline_fit(baseline)
    return {"id": baseline.pk, "name": baseline.name, "period_start": baseline.period_start,
            "period_end": baseline.period_end,
            "variable_ids": selectors.baseline_variable_ids(baseline),
            "meter_ids": sorted(m.pk for m in baseline.meters.all()),
            "fit": {**fit.to_json(), "usable": fit.usable},
            "reporting_periods": [
                {"id": p.pk, "name": p.name, "period_start": p.period_start,
                 "period_end": p.period_end} for p in baseline.reporting_periods.all()]}


def _evaluation_out(period) -> dict:
    try:
        result = selectors.evaluate_period(period)
    except analysis.AnalysisError as exc:
        raise InvalidInput(str(exc), fields={"period": str(exc)})
    e = result.evaluation
    return {"id": period.pk, "baseline_id": period.baseline_id, "name": period.name,
            "period_start": period.period_start, "period_end": period.period_end,
            "expected_kwh": e.expected_kwh, "actual_kwh": e.actual_kwh,
            "savings_kwh": e.savings_kwh, "improvement_percent": e.improvement_percent,
            "savings_uncertainty_kwh": e.savings_uncertainty_kwh, "fsu": e.fsu,
            "confidence": e.confidence, "coverage": e.coverage,
            "usable": e.usable, "demonstrated": e.demonstrated, "reasons": e.reasons,
            "notes": e.notes, "summary": result.summary, "rule": mv.rule_text(),
            "points": [vars(p) for p in e.points]}


def _enpi_out(enpi: EnPI) -> dict:
    trend = selectors.enpi_trend(enpi)
    return {"id": enpi.pk, "name": enpi.name, "kind": enpi.kind, "unit": trend.unit,
            "variable_id": enpi.variable_id, "baseline_id": enpi.baseline_id,
            "meter_ids": sorted(m.pk for m in enpi.meters.all()),
            "months": trend.months, "values": trend.values}


# --- carriers, meters, variables, uses -------------------------------------------------------

@router.get(BASE + "/carriers", response=list[CarrierOut],
            summary="Energy carriers and their units (kWh per unit)")
def list_carriers(request, org_id: int):
    _org(request, org_id)
    return [{"code": c.code, "name": c.name,
             "units": [{"unit": u.unit, "kwh_per_unit": float(u.kwh_per_unit)}
                       for u in c.units.all()]} for c in selectors.carriers()]


@router.get(BASE + "/meters", response=list[MeterOut])
def list_meters(request, org_id: int):
    return [_meter_out(m) for m in selectors.meters_of(_org(request, org_id))]


@router.post(BASE + "/meters", response={201: MeterOut}, summary="Add a meter")
def create_meter(request, org_id: int, payload: MeterIn):
    meter = services.create_meter(organization=_org(request, org_id), actor=request.auth,
                                  **payload.dict())
    return Status(201, _meter_out(meter))


@router.patch(BASE + "/meters/{meter_id}", response=MeterOut, summary="Change a meter")
def update_meter(request, org_id: int, meter_id: int, payload: MeterPatch):
    organization = _org(request, org_id)
    meter = selectors.meter_get(user=request.auth, pk=meter_id, organization=organization)
    return _meter_out(services.update_meter(meter=meter, actor=request.auth,
                                            **payload.dict(exclude_unset=True)))


@router.delete(BASE + "/meters/{meter_id}", response={204: None},
               summary="Delete a meter without readings")
def delete_meter(request, org_id: int, meter_id: int):
    organization = _org(request, org_id)
    services.delete_meter(meter=selectors.meter_get(user=request.auth, pk=meter_id,
                                                    organization=organization),
                          actor=request.auth)
    return Status(204, None)


@router.get(BASE + "/variables", response=list[VariableOut])
def list_variables(request, org_id: int):
    return [_variable_out(v) for v in selectors.variables_of(_org(request, org_id))]


@router.post(BASE + "/variables", response={201: VariableOut},
             summary="Add a relevant variable")
def create_variable(request, org_id: int, payload: VariableIn):
    variable = services.create_variable(organization=_org(request, org_id), actor=request.auth,
                                        **payload.dict())
    return Status(201, _variable_out(variable))


@router.patch(BASE + "/variables/{variable_id}", response=VariableOut)
def update_variable(request, org_id: int, variable_id: int, payload: VariablePatch):
    organization = _org(request, org_id)
    variable = selectors.variable_get(user=request.auth, pk=variable_id,
                                      organization=organization)
    return _variable_out(services.update_variable(variable=variable, actor=request.auth,
                                                  **payload.dict(exclude_unset=True)))


@router.delete(BASE + "/variables/{variable_id}", response={204: None})
def delete_variable(request, org_id: int, variable_id: int):
    organization = _org(request, org_id)
    services.delete_variable(variable=selectors.variable_get(
        user=request.auth, pk=variable_id, organization=organization), actor=request.auth)
    return Status(204, None)


@router.get(BASE + "/uses", response=list[UseOut], summary="Energy uses (SEUs flagged)")
def list_uses(request, org_id: int):
    return [_use_out(u) for u in selectors.uses_of(_org(request, org_id))]


@router.post(BASE + "/uses", response={201: UseOut}, summary="Add an energy use")
def create_use(request, org_id: int, payload: UseIn):
    use = services.create_energy_use(organization=_org(request, org_id), actor=request.auth,
                                     **payload.dict())
    return Status(201, _use_out(use))


@router.patch(BASE + "/uses/{energy_use_id}", response=UseOut)
def update_use(request, org_id: int, energy_use_id: int, payload: UsePatch):
    organization = _org(request, org_id)
    use = selectors.energy_use_get(user=request.auth, pk=energy_use_id,
                                   organization=organization)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return _use_out(services.update_energy_use(use=use, actor=request.auth, **changes))


@router.delete(BASE + "/uses/{energy_use_id}", response={204: None})
def delete_use(request, org_id: int, energy_use_id: int):
    organization = _org(request, org_id)
    services.delete_energy_use(use=selectors.energy_use_get(
        user=request.auth, pk=energy_use_id, organization=organization), actor=request.auth)
    return Status(204, None)


# --- imports -----------------------------------------------------------------------------------

@router.get(BASE + "/imports", response=list[EnergyImportOut])
def list_imports(request, org_id: int):
    return [_import_out(b) for b in selectors.imports_of(_org(request, org_id))]


@router.post(BASE + "/imports", response={201: EnergyImportOut},
             summary="Import meter readings and variable values (CSV or XLSX), all or nothing",
             description=(
                 "Multipart: `file` and `mapping`, a JSON object: `{\"frequency\": \"daily|"
                 "weekly|monthly|interval\", \"date\": \"<column>\"` (or `\"start\"` and "
                 "`\"end\"` columns)`, \"columns\": [{\"column\": \"<name>\", \"meter_id\": "
                 "1, \"unit\": \"kWh\"}, {\"column\": \"<name>\", \"variable_id\": 2}], "
                 "\"decimal_separator\": \".\"|\",\", \"thousands_separator\": \"\"|\",\"|"
                 "\".\"|\" \"|\"'\", \"date_order\": \"dmy\"|\"mdy\"}`. The frequency and the "
                 "three format options may be left out: they are then read from the file, and "
                 "a value the file leaves open (`12,500`: 12.5 or 12500? `03/04/2025`: 3 April "
                 "or 4 March?) answers 422 with `code` `import_ambiguous` and `fields` naming "
                 "the option to give. `interval` lines (15 min, 30 min, hourly; meters only) "
                 "are summed per day. When any line is bad nothing is imported and the answer "
                 "is 422 with `code` `import_refused` and `fields` keyed `\"line N\"`."))
def create_import(request, org_id: int, mapping: Form[str], file: File[UploadedFile]):
    organization = _org(request, org_id)
    try:
        raw = json.loads(mapping)
    except ValueError:
        raise InvalidInput("The mapping is not valid JSON.",
                           fields={"mapping": "Give the column mapping as a JSON object."})
    choice = importer.MappingChoice.from_json(raw)
    data = file.read(importer.MAX_BYTES + 1)
    batch = services.import_energy_data(organization=organization, actor=request.auth,
                                        data=data, file_name=file.name or "upload",
                                        mapping=choice)
    return Status(201, _import_out(batch))


@router.delete(BASE + "/imports/{energy_import_id}", response={204: None},
               summary="Undo an import: remove the readings and values it brought")
def undo_import(request, org_id: int, energy_import_id: int):
    organization = _org(request, org_id)
    services.undo_import(batch=selectors.import_batch_get(
        user=request.auth, pk=energy_import_id, organization=organization), actor=request.auth)
    return Status(204, None)


# --- review ------------------------------------------------------------------------------------

@router.get(BASE + "/review", response=EnergyReviewOut,
            summary="Energy review: the last 12 months by carrier, site and use")
def energy_review(request, org_id: int):
    review = selectors.energy_review(_org(request, org_id))
    return {**{k: getattr(review, k) for k in (
        "start", "end", "total_kwh", "annual_kwh", "annualized", "energy_types", "seu_count",
        "seu_share_percent")}, "annual_tj": review.annual_tj,
        "by_carrier": [vars(s) for s in review.by_carrier],
        "by_site": [vars(s) for s in review.by_site],
        "by_use": [vars(s) for s in review.by_use]}


@router.post(BASE + "/prefill-application", response=PrefillOut,
             summary="Copy the review's annual TJ, energy types and SEU count into the draft "
                     "ISO 50001 application")
def prefill_application(request, org_id: int):
    application = services.prefill_application_inputs(organization=_org(request, org_id),
                                                      actor=request.auth)
    line = application.standard_lines.get(standard__code=selectors.ENERGY_STANDARD)
    return {"application_id": application.pk, "reference": application.reference,
            "annual_energy_consumption_tj": str(line.annual_energy_consumption_tj),
            "energy_types": line.energy_types,
            "significant_energy_uses": line.significant_energy_uses}


# --- baselines and reporting periods -----------------------------------------------------------

@router.get(BASE + "/baselines", response=list[BaselineOut])
def list_baselines(request, org_id: int):
    return [_baseline_out(b) for b in selectors.baselines_of(_org(request, org_id))]


@router.post(BASE + "/baselines", response={201: BaselineOut},
             summary="Fit a baseline (OLS with intercept) and keep it",
             description="Usable when valid by the M&V rules (a full year with ≥ 90 % "
                         "coverage, CV(RMSE) and F-test limits; docs/energy.md), with every "
                         "reason in `validity`; warnings flag variables with a p-value above "
                         "0.1.")
def create_baseline(request, org_id: int, payload: BaselineIn):
    baseline = services.create_baseline(organization=_org(request, org_id), actor=request.auth,
                                        **payload.dict())
    return Status(201, _baseline_out(baseline))


@router.get(BASE + "/baselines/{baseline_id}", response=BaselineOut)
def get_baseline(request, org_id: int, baseline_id: int):
    organization = _org(request, org_id)
    return _baseline_out(selectors.baseline_get(user=request.auth, pk=baseline_id,
                                                organization=organization))


@router.delete(BASE + "/baselines/{baseline_id}", response={204: None})
def delete_baseline(request, org_id: int, baseline_id: int):
    organization = _org(request, org_id)
    services.delete_baseline(baseline=selectors.baseline_get(
        user=request.auth, pk=baseline_id, organization=organization), actor=request.auth)
    return Status(204, None)


@router.post(BASE + "/baselines/{baseline_id}/reporting-periods", response={201: EvaluationOut},
             summary="Add a reporting period and get its evaluation")
def add_reporting_period(request, org_id: int, baseline_id: int, payload: ReportingPeriodIn):
    organization = _org(request, org_id)
    baseline = selectors.baseline_get(user=request.auth, pk=baseline_id,
                                      organization=organization)
    period = services.add_reporting_period(baseline=baseline, actor=request.auth,
                                           **payload.dict())
    return Status(201, _evaluation_out(period))


@router.get(BASE + "/reporting-periods/{reporting_period_id}", response=EvaluationOut,
            summary="A reporting period's evaluation: expected, actual, savings, CUSUM")
def get_reporting_period(request, org_id: int, reporting_period_id: int):
    organization = _org(request, org_id)
    return _evaluation_out(selectors.reporting_period_get(
        user=request.auth, pk=reporting_period_id, organization=organization))


@router.delete(BASE + "/reporting-periods/{reporting_period_id}", response={204: None})
def delete_reporting_period(request, org_id: int, reporting_period_id: int):
    organization = _org(request, org_id)
    services.delete_reporting_period(period=selectors.reporting_period_get(
        user=request.auth, pk=reporting_period_id, organization=organization),
        actor=request.auth)
    return Status(204, None)


@router.get(BASE + "/improvement", response={200: EnergyImprovementEvidenceOut, 204: None},
            summary="Is energy performance improvement demonstrated? (latest reporting "
                    "period; 204 when there is none)")
def improvement(request, org_id: int):
    organization = _org(request, org_id)
    evidence = selectors.improvement_evidence(organization_id=organization.pk)
    if evidence is None:
        return Status(204, None)
    return evidence


# --- EnPIs -----------------------------------------------------------------------------------

@router.get(BASE + "/enpis", response=list[EnPIOut], summary="EnPIs with their monthly values")
def list_enpis(request, org_id: int):
    return [_enpi_out(e) for e in selectors.enpis_of(_org(request, org_id))]


@router.post(BASE + "/enpis", response={201: EnPIOut}, summary="Add an EnPI")
def create_enpi(request, org_id: int, payload: EnPIIn):
    enpi = services.create_enpi(organization=_org(request, org_id), actor=request.auth,
                                **payload.dict())
    return Status(201, _enpi_out(enpi))


@router.delete(BASE + "/enpis/{enpi_id}", response={204: None})
def delete_enpi(request, org_id: int, enpi_id: int):
    organization = _org(request, org_id)
    services.delete_enpi(enpi=selectors.enpi_get(user=request.auth, pk=enpi_id,
                                                 organization=organization),
                         actor=request.auth)
    return Status(204, None)


@router.post(
    "/energy/analyse", response={200: AnalyseOut, 413: ErrorOut, 422: ErrorOut},
    exclude_unset=True, summary="Analyse energy savings (measurement and verification)",
    description=(
        "The baseline model, the reporting period's savings with their uncertainty and the "
        "verdict 'improvement demonstrated' with every reason (ASHRAE Guideline 14, ISO "
        "50006; rules in docs/energy.md), exactly as `isocert energy-analyse --json` does. "
        "Pure: stores nothing. Fractions as fractions (0.205, not 20.5). Bad input answers "
        "422 `invalid` with `fields` naming the field, e.g. `baseline.energy.3` or "
        "`reporting.periods.0`."),
    openapi_extra={"requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ANALYSE_REQUEST_SCHEMA,
                                          "example": ANALYSE_EXAMPLE}}}},
)
def analyse(request):
    # The raw body goes to the analysis' own parser, so errors carry its field names.
    try:
        return mv.analyse_json(mv.load_json(request.body))
    except mv.MVInputError as exc:
        raise InvalidInput(str(exc), fields={exc.field: exc.message})


# --- non-routine adjustments -------------------------------------------------------------------

@router.get(BASE + "/adjustments", response=list[EnergyAdjustmentOut],
            summary="The adjustment log: non-routine adjustments, latest first")
def list_adjustments(request, org_id: int):
    return [_adjustment_out(a) for a in selectors.adjustments_of(_org(request, org_id))]


@router.post(BASE + "/adjustments", response={201: EnergyAdjustmentOut},
             summary="Record a non-routine adjustment (ISO 50015, IPMVP)",
             description="A static factor that changed (floor area, a production line, a "
                         "shut building): the days its kWh cover, the reason, the method "
                         "and the kWh, spread evenly over those days.")
def create_adjustment(request, org_id: int, payload: EnergyAdjustmentIn):
    adjustment = services.create_adjustment(organization=_org(request, org_id),
                                            actor=request.auth, **payload.dict())
    return Status(201, _adjustment_out(adjustment))


@router.get(BASE + "/reporting-periods/{reporting_period_id}/adjustments",
            response=EnergyAdjustmentTotalOut,
            summary="The adjustments falling within a reporting period, and their total")
def reporting_period_adjustments(request, org_id: int, reporting_period_id: int):
    period = selectors.reporting_period_get(user=request.auth, pk=reporting_period_id,
                                            organization=_org(request, org_id))
    total = selectors.adjustments_for_period(period)
    return {"start": total.start, "end": total.end, "kwh": total.kwh,
            "records": [{"id": r.adjustment.pk, "days": r.days, "kwh": round(r.kwh, 3)}
                        for r in total.records]}


@router.patch(BASE + "/adjustments/{adjustment_id}", response=EnergyAdjustmentOut,
              summary="Change a non-routine adjustment")
def update_adjustment(request, org_id: int, adjustment_id: int, payload: EnergyAdjustmentPatch):
    adjustment = selectors.adjustment_get(user=request.auth, pk=adjustment_id,
                                          organization=_org(request, org_id))
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return _adjustment_out(services.update_adjustment(adjustment=adjustment,
                                                      actor=request.auth, **changes))


@router.delete(BASE + "/adjustments/{adjustment_id}", response={204: None},
               summary="Delete a non-routine adjustment")
def delete_adjustment(request, org_id: int, adjustment_id: int):
    adjustment = selectors.adjustment_get(user=request.auth, pk=adjustment_id,
                                          organization=_org(request, org_id))
    services.delete_adjustment(adjustment=adjustment, actor=request.auth)
    return Status(204, None)
