"""Every write on energy data: meters, uses, variables, imports, baselines, EnPIs.

Owners and editors of the organization write; viewers and CB staff only read
(``ensure_can_edit`` refuses them with 403). Each change writes an audit event
``energy.<object>.<verb>`` in the same transaction.
"""

import datetime
import hashlib
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction

from isocert.accounts.models import Organization, Site, User
from isocert.accounts.services import ensure_can_edit
from isocert.core.audit import record_event
from isocert.core.db import retry_when_locked
from isocert.core.errors import Conflict, InvalidInput
from isocert.core.validation import choice_error
from isocert.core.values import optional_int
from isocert.registration.models import EDITABLE_BY_CLIENT, Application
from isocert.registration.services import update_application

from . import analysis, importer, selectors, series
from .models import (
    Baseline,
    CarrierUnit,
    EnergyCarrier,
    EnergyUse,
    EnPI,
    ImportBatch,
    Meter,
    Reading,
    RelevantVariable,
    ReportingPeriod,
    VariableValue,
)

NAME_LIMIT = 120


# --- cleaning ----------------------------------------------------------------------------------

def _name(data: dict, errors: dict, *, field: str = "name", label: str = "Name") -> str:
    text = str(data.get(field) or "").strip()
    if not text:
        errors[field] = f"{label} is required."
    elif len(text) > NAME_LIMIT:
        errors[field] = f"At most {NAME_LIMIT} characters."
    return text


def _date(value, field: str, errors: dict, label: str) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors[field] = f"{label}: enter a date as YYYY-MM-DD."
        return None


def _period(data: dict, errors: dict) -> tuple[datetime.date | None, datetime.date | None]:
    start = _date(data.get("period_start"), "period_start", errors, "Start")
    end = _date(data.get("period_end"), "period_end", errors, "End")
    if start and end and end < start:
        errors["period_end"] = "The period ends before it starts."
    return start, end


def _ids(value) -> list[int]:
    if value in (None, ""):
        return []
    values = value if isinstance(value, list | tuple | set) else [value]
    return [optional_int(getattr(v, "pk", v)) for v in values]


def _own(model, organization: Organization, value, field: str, errors: dict, label: str,
         *, many=False, required=True):
    """Objects of ``model`` belonging to the organization, named by id."""
    ids = _ids(value)
    if not ids:
        if required:
            errors[field] = f"Choose {label}."
        return [] if many else None
    found = {o.pk: o for o in model.objects.filter(organization=organization, pk__in=[
        i for i in ids if i is not None])}
    if len(found) != len(set(ids)) or None in ids:
        errors[field] = f"Choose {label} of {organization}."
        return [] if many else None
    return [found[i] for i in dict.fromkeys(ids)] if many else found[ids[0]]


def _raise(errors: dict) -> None:
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", fields=errors)


def _unique_save(obj, field: str = "name") -> None:
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise InvalidInput(f"The name “{getattr(obj, field)}” is already used.",
                           fields={field: "This name is already used; choose another."})


def _event(actor, action: str, obj, organization: Organization, payload: dict | None = None):
    record_event(actor=actor, action=action, obj=obj, organization_id=organization.pk,
                 payload=payload or {})


# --- meters ------------------------------------------------------------------------------------

def _carrier_and_unit(data: dict, errors: dict, meter: Meter | None):
    carrier = meter.carrier if meter else None
    if "carrier" in data or meter is None:
        code = str(data.get("carrier") or "").strip()
        carrier = EnergyCarrier.objects.filter(code=code).first()
        if carrier is None:
            errors["carrier"] = (f"Unknown energy carrier “{code}”." if code
                                 else "Choose the energy carrier.")
            return None, ""
    unit = str(data.get("unit") if "unit" in data else (meter.unit if meter else "")).strip()
    units = list(carrier.units.values_list("unit", flat=True))
    if unit not in units:
        errors["unit"] = f"{carrier} is metered in {', '.join(units)}."
    return carrier, unit


def _apply_meter(meter: Meter, data: dict, organization: Organization) -> None:
    errors: dict[str, str] = {}
    if "name" in data or meter.pk is None:
        meter.name = _name(data, errors)
    if "site_id" in data:
        site_id = optional_int(data.get("site_id"))
        meter.site = None
        if data.get("site_id") not in (None, ""):
            meter.site = Site.objects.filter(organization=organization, pk=site_id).first()
            if meter.site is None:
                errors["site_id"] = f"Choose a site of {organization}."
    carrier, unit = _carrier_and_unit(data, errors, meter if meter.pk else None)
    if meter.pk and carrier != meter.carrier and meter.readings.exists():
        errors["carrier"] = "The meter has readings; its energy carrier cannot change."
    if meter.pk and unit != meter.unit and meter.readings.exists():
        errors["unit"] = "The meter has readings; its unit cannot change."
    _raise(errors)
    meter.carrier, meter.unit = carrier, unit
    _unique_save(meter)


@transaction.atomic
def create_meter(*, organization: Organization, actor: User, data: dict) -> Meter:
    """A meter: a name, optionally a site, the carrier and the unit it reads in."""
    ensure_can_edit(organization, actor)
    meter = Meter(organization=organization)
    _apply_meter(meter, data, organization)
    _event(actor, "energy.meter.created", meter, organization,
           {"name": meter.name, "carrier": meter.carrier.code, "unit": meter.unit})
    return meter


@transaction.atomic
def update_meter(*, meter: Meter, actor: User, data: dict) -> Meter:
    ensure_can_edit(meter.organization, actor)
    _apply_meter(meter, data, meter.organization)
    _event(actor, "energy.meter.updated", meter, meter.organization,
           {"changed": sorted(data)})
    return meter


@transaction.atomic
def delete_meter(*, meter: Meter, actor: User) -> None:
    """Refused while the meter has readings (undo their imports first)."""
    ensure_can_edit(meter.organization, actor)
    count = meter.readings.count()
    if count:
        raise Conflict(f"“{meter}” has {count} readings; undo the imports that brought them "
                       "before deleting the meter.")
    _event(actor, "energy.meter.deleted", meter, meter.organization, {"name": meter.name})
    meter.delete()


# --- energy uses --------------------------------------------------------------------------------

def _apply_use(use: EnergyUse, data: dict, organization: Organization) -> list[Meter] | None:
    errors: dict[str, str] = {}
    if "name" in data or use.pk is None:
        use.name = _name(data, errors)
    if "is_significant" in data:
        use.is_significant = bool(data["is_significant"])
    meters = None
    if "meter_ids" in data:
        meters = _own(Meter, organization, data["meter_ids"], "meter_ids", errors,
                      "meters", many=True, required=False)
    _raise(errors)
    _unique_save(use)
    if meters is not None:
        use.meters.set(meters)
    return meters


@transaction.atomic
def create_energy_use(*, organization: Organization, actor: User, data: dict) -> EnergyUse:
    """An energy use (its meters; significant or not — the SEUs)."""
    ensure_can_edit(organization, actor)
    use = EnergyUse(organization=organization)
    _apply_use(use, data, organization)
    _event(actor, "energy.use.created", use, organization,
           {"name": use.name, "significant": use.is_significant,
            "meters": sorted(use.meters.values_list("pk", flat=True))})
    return use


@transaction.atomic
def update_energy_use(*, use: EnergyUse, actor: User, data: dict) -> EnergyUse:
    ensure_can_edit(use.organization, actor)
    _apply_use(use, data, use.organization)
    _event(actor, "energy.use.updated", use, use.organization,
           {"changed": sorted(data), "significant": use.is_significant})
    return use


@transaction.atomic
def delete_energy_use(*, use: EnergyUse, actor: User) -> None:
    ensure_can_edit(use.organization, actor)
    _event(actor, "energy.use.deleted", use, use.organization, {"name": use.name})
    use.delete()


# --- relevant variables ------------------------------------------------------------------------

def _apply_variable(variable: RelevantVariable, data: dict) -> None:
    errors: dict[str, str] = {}
    if "name" in data or variable.pk is None:
        variable.name = _name(data, errors)
    if "kind" in data or variable.pk is None:
        kind = str(data.get("kind") or RelevantVariable.Kind.OTHER)
        if kind not in RelevantVariable.Kind.values:
            errors["kind"] = choice_error(RelevantVariable.Kind, what="the kind")
        variable.kind = kind
    if "unit" in data or variable.pk is None:
        variable.unit = str(data.get("unit") or "").strip()
        if not variable.unit:
            errors["unit"] = "Give the unit, e.g. t, K·d, h."
        elif len(variable.unit) > 30:
            errors["unit"] = "At most 30 characters."
    _raise(errors)
    _unique_save(variable)


@transaction.atomic
def create_variable(*, organization: Organization, actor: User, data: dict
                    ) -> RelevantVariable:
    """A relevant variable: production, degree days, operating hours, occupancy …"""
    ensure_can_edit(organization, actor)
    variable = RelevantVariable(organization=organization)
    _apply_variable(variable, data)
    _event(actor, "energy.variable.created", variable, organization,
           {"name": variable.name, "kind": variable.kind, "unit": variable.unit})
    return variable


@transaction.atomic
def update_variable(*, variable: RelevantVariable, actor: User, data: dict
                    ) -> RelevantVariable:
    ensure_can_edit(variable.organization, actor)
    _apply_variable(variable, data)
    _event(actor, "energy.variable.updated", variable, variable.organization,
           {"changed": sorted(data)})
    return variable


@transaction.atomic
def delete_variable(*, variable: RelevantVariable, actor: User) -> None:
    """Refused while it has values or a baseline or EnPI uses it."""
    ensure_can_edit(variable.organization, actor)
    if variable.values.exists() or variable.baselines.exists() or variable.enpis.exists():
        raise Conflict(f"“{variable}” has values or is used by a baseline or an EnPI; remove "
                       "those first.")
    _event(actor, "energy.variable.deleted", variable, variable.organization,
           {"name": variable.name})
    variable.delete()


# --- import ----------------------------------------------------------------------------------

def build_mapping(organization: Organization, raw: dict) -> importer.Mapping:
    """The person's column mapping, checked against the organization's meters and variables.

    ``raw``: ``{"frequency": "daily|weekly|monthly", "date": column}`` or ``"start"`` and
    ``"end"`` columns, and ``"columns": [{"column", "meter_id", "unit"} | {"column",
    "variable_id"}]``. A meter column's unit defaults to the meter's unit.
    """
    errors: dict[str, str] = {}
    if not isinstance(raw, dict):
        raise InvalidInput("The column mapping must be an object.",
                           fields={"mapping": "Give the mapping as a JSON object."})
    frequency = str(raw.get("frequency") or "").strip()
    if frequency not in importer.FREQUENCIES:
        errors["frequency"] = f"One of {', '.join(importer.FREQUENCIES)}."
    date_column = str(raw.get("date") or "").strip()
    start_column = str(raw.get("start") or "").strip()
    end_column = str(raw.get("end") or "").strip()
    if not date_column and not (start_column and end_column):
        errors["date"] = "Say which column holds the date (or the start and end of each period)."
    elif date_column and (start_column or end_column):
        errors["date"] = "Map either a date column or start and end columns, not both."
    targets, seen = [], set()
    columns = raw.get("columns") or []
    if not isinstance(columns, list) or not columns:
        errors["columns"] = "Map at least one column to a meter or a variable."
        columns = []
    for i, entry in enumerate(columns):
        key = f"columns.{i}"
        if not isinstance(entry, dict) or not str(entry.get("column") or "").strip():
            errors[key] = "Give the column name."
            continue
        column = str(entry["column"]).strip()
        if column in seen or column in (date_column, start_column, end_column):
            errors[key] = f"Column “{column}” is mapped twice."
            continue
        seen.add(column)
        if entry.get("meter_id") not in (None, ""):
            meter = _own(Meter, organization, entry["meter_id"], key, errors, "a meter")
            if meter is None:
                continue
            unit = str(entry.get("unit") or meter.unit).strip()
            factor = (CarrierUnit.objects.filter(carrier=meter.carrier, unit=unit)
                      .values_list("kwh_per_unit", flat=True).first())
            if factor is None:
                units = ", ".join(meter.carrier.units.values_list("unit", flat=True))
                errors[key + ".unit"] = (f"Column “{column}”: unit “{unit}” is not a unit of "
                                         f"{meter.carrier} ({units}).")
                continue
            targets.append(importer.ColumnTarget(column=column, meter=meter, unit=unit,
                                                 kwh_per_unit=factor))
        elif entry.get("variable_id") not in (None, ""):
            variable = _own(RelevantVariable, organization, entry["variable_id"], key, errors,
                            "a variable")
            if variable is not None:
                targets.append(importer.ColumnTarget(column=column, variable=variable))
        else:
            errors[key] = f"Column “{column}”: choose a meter or a variable."
    _raise(errors)
    return importer.Mapping(frequency=frequency, date_column=date_column,
                            start_column=start_column, end_column=end_column, targets=targets)


def _existing_periods(mapping: importer.Mapping) -> dict:
    existing = {}
    for target in mapping.targets:
        if target.meter is not None:
            existing[target.meter] = list(target.meter.readings.values_list("period_start",
                                                                            "period_end"))
        else:
            existing[target.variable] = list(target.variable.values.values_list(
                "period_start", "period_end"))
    return existing


def import_energy_data(*, organization: Organization, actor: User, data: bytes,
                       file_name: str, mapping: dict) -> ImportBatch:
    """Import readings and variable values from a CSV or XLSX file — all or nothing.

    Every bad line is reported with its number (``fields`` keyed ``"line N"``); when
    there is any, nothing is written.

    Not one transaction, unlike the other services: the file is read and checked first,
    and only the writing of what passed runs in a transaction. On SQLite a transaction
    holds the database's one write lock from its start (IMMEDIATE), and while a
    20,000-line workbook was parsed inside it every other user's write waited — and the
    task worker, waiting too, gave up with "database is locked". A locked database on
    writing is tried again (``retry_when_locked``).
    """
    ensure_can_edit(organization, actor)
    table = importer.read_table(data, file_name)
    plan_mapping = build_mapping(organization, mapping)
    plan = importer.check_rows(table, plan_mapping, existing=_existing_periods(plan_mapping))
    _refuse_problems(plan.problems, file_name)
    return _write_import(organization=organization, actor=actor, plan=plan,
                         plan_mapping=plan_mapping, kind=table.kind, data=data,
                         file_name=file_name)


def _refuse_problems(problems: list[importer.RowProblem], file_name: str) -> None:
    if not problems:
        return
    fields: dict[str, str] = {}
    for problem in problems:
        key = f"line {problem.line}"
        fields[key] = f"{fields[key]} {problem.message}" if key in fields else problem.message
    count = len(fields)
    raise InvalidInput(f"{count} line{'s' if count != 1 else ''} of {file_name} "
                       f"{'have' if count != 1 else 'has'} problems; nothing was imported.",
                       fields=fields, code="import_refused")


@retry_when_locked()
@transaction.atomic
def _write_import(*, organization: Organization, actor: User, plan: importer.Plan,
                  plan_mapping: importer.Mapping, kind: str, data: bytes,
                  file_name: str) -> ImportBatch:
    """Write a checked import. What may have changed since the check is checked again
    under the lock: the actor's right to edit and data someone imported meanwhile."""
    ensure_can_edit(organization, actor)
    _refuse_problems(importer.overlap_problems(plan.periods, plan_mapping,
                                               _existing_periods(plan_mapping)), file_name)
    batch = ImportBatch.objects.create(
        organization=organization, kind=kind, frequency=plan_mapping.frequency,
        file_name=file_name[:255], sha256=hashlib.sha256(data).hexdigest(), rows=plan.rows,
        values=len(plan.readings) + len(plan.values), mapping=plan_mapping.as_json(),
        imported_by=actor)
    Reading.objects.bulk_create([
        Reading(meter=meter, period_start=start, period_end=end, quantity=quantity, kwh=kwh,
                batch=batch) for meter, start, end, quantity, kwh in plan.readings])
    VariableValue.objects.bulk_create([
        VariableValue(variable=variable, period_start=start, period_end=end, value=value,
                      batch=batch) for variable, start, end, value in plan.values])
    _event(actor, "energy.data.imported", batch, organization,
           {"file": batch.file_name, "sha256": batch.sha256, "rows": batch.rows,
            "readings": len(plan.readings), "variable_values": len(plan.values)})
    return batch


@transaction.atomic
def undo_import(*, batch: ImportBatch, actor: User) -> None:
    """Remove every reading and value one import brought."""
    organization = batch.organization
    ensure_can_edit(organization, actor)
    _event(actor, "energy.data.import_undone", batch, organization,
           {"file": batch.file_name, "sha256": batch.sha256, "values": batch.values})
    batch.delete()


# --- baselines and reporting periods -----------------------------------------------------------

@transaction.atomic
def create_baseline(*, organization: Organization, actor: User, data: dict) -> Baseline:
    """Fit the baseline model on the baseline period's points and keep the result.

    ``data``: name, period_start, period_end, variable_ids (in model order), meter_ids
    (optional: the consumption modelled; all meters when empty). A model with warnings
    is kept — its warnings are shown, and a model that is not usable never demonstrates
    improvement.
    """
    ensure_can_edit(organization, actor)
    errors: dict[str, str] = {}
    name = _name(data, errors)
    start, end = _period(data, errors)
    variables = _own(RelevantVariable, organization, data.get("variable_ids"), "variable_ids",
                     errors, "at least one relevant variable", many=True)
    meters = _own(Meter, organization, data.get("meter_ids"), "meter_ids", errors, "meters",
                  many=True, required=False)
    _raise(errors)
    meter_ids = series.meter_ids_in_scope(organization, [m.pk for m in meters])
    if not meter_ids:
        raise InvalidInput("Add a meter and import its readings first.",
                           fields={"meter_ids": "The organization has no meters."})
    points = series.points(meter_ids=meter_ids, variable_ids=[v.pk for v in variables],
                           start=start, end=end)
    try:
        fit = analysis.fit_ols(points.kwh, points.columns, [v.name for v in variables])
    except analysis.AnalysisError as exc:
        raise InvalidInput(f"The baseline cannot be fitted: {exc}",
                           fields={"variable_ids": str(exc)})
    baseline = Baseline(organization=organization, name=name, period_start=start,
                        period_end=end, created_by=actor,
                        result={**fit.to_json(), "variable_ids": [v.pk for v in variables],
                                "first_period": points.labels[0],
                                "last_period": points.labels[-1]})
    _unique_save(baseline)
    baseline.variables.set(variables)
    baseline.meters.set(meters)
    _event(actor, "energy.baseline.created", baseline, organization,
           {"name": name, "period": baseline.period_label, "variables": fit.names,
            "r2": round(fit.r2, 4), "n": fit.n, "usable": fit.usable})
    return baseline


@transaction.atomic
def delete_baseline(*, baseline: Baseline, actor: User) -> None:
    """Remove a baseline with its reporting periods and regression EnPIs."""
    ensure_can_edit(baseline.organization, actor)
    _event(actor, "energy.baseline.deleted", baseline, baseline.organization,
           {"name": baseline.name})
    baseline.delete()


@transaction.atomic
def add_reporting_period(*, baseline: Baseline, actor: User, data: dict) -> ReportingPeriod:
    """A period to compare with the baseline; it must come after the baseline period (not
    overlap it, not precede it) and hold at least one point with consumption and every
    variable."""
    organization = baseline.organization
    ensure_can_edit(organization, actor)
    errors: dict[str, str] = {}
    start, end = _period(data, errors)
    name = str(data.get("name") or "").strip()[:NAME_LIMIT]
    _raise(errors)
    if start <= baseline.period_end and end >= baseline.period_start:
        raise InvalidInput("The reporting period overlaps the baseline period.",
                           fields={"period_start": f"Choose a period outside "
                                                   f"{baseline.period_label}."})
    if end < baseline.period_start:
        # The baseline is the reference *before* the changes being judged (ISO 50006):
        # a period before it would show the past as an improvement on the future.
        raise InvalidInput("The reporting period comes before the baseline period.",
                           fields={"period_start": f"Choose a period after "
                                                   f"{baseline.period_label}."})
    period = ReportingPeriod(baseline=baseline, name=name or f"{start} – {end}",
                             period_start=start, period_end=end, created_by=actor)
    try:
        evaluated = selectors.evaluate_period(period)
    except analysis.AnalysisError as exc:
        raise InvalidInput(str(exc), fields={"period_start": str(exc)})
    period.save()
    e = evaluated.evaluation
    _event(actor, "energy.reporting_period.created", period, organization,
           {"baseline": baseline.name, "period": period.period_label,
            "improvement_percent": round(e.improvement_percent, 2),
            "demonstrated": e.demonstrated})
    return period


@transaction.atomic
def delete_reporting_period(*, period: ReportingPeriod, actor: User) -> None:
    organization = period.baseline.organization
    ensure_can_edit(organization, actor)
    _event(actor, "energy.reporting_period.deleted", period, organization,
           {"period": period.period_label})
    period.delete()


# --- EnPIs ---------------------------------------------------------------------------------

@transaction.atomic
def create_enpi(*, organization: Organization, actor: User, data: dict) -> EnPI:
    """A ratio EnPI (kWh per unit of a variable) or a regression EnPI on a baseline."""
    ensure_can_edit(organization, actor)
    errors: dict[str, str] = {}
    name = _name(data, errors)
    kind = str(data.get("kind") or "")
    enpi = EnPI(organization=organization, name=name, kind=kind)
    meters = []
    if kind == EnPI.Kind.RATIO:
        enpi.variable = _own(RelevantVariable, organization, data.get("variable_id"),
                             "variable_id", errors, "the variable")
        meters = _own(Meter, organization, data.get("meter_ids"), "meter_ids", errors,
                      "meters", many=True, required=False)
    elif kind == EnPI.Kind.REGRESSION:
        enpi.baseline = _own(Baseline, organization, data.get("baseline_id"), "baseline_id",
                             errors, "the baseline")
    else:
        errors["kind"] = choice_error(EnPI.Kind, what="the kind")
    _raise(errors)
    _unique_save(enpi)
    enpi.meters.set(meters)
    _event(actor, "energy.enpi.created", enpi, organization, {"name": name, "kind": kind})
    return enpi


@transaction.atomic
def delete_enpi(*, enpi: EnPI, actor: User) -> None:
    ensure_can_edit(enpi.organization, actor)
    _event(actor, "energy.enpi.deleted", enpi, enpi.organization, {"name": enpi.name})
    enpi.delete()


# --- pre-filling the application ---------------------------------------------------------------

@transaction.atomic
def prefill_application_inputs(*, organization: Organization, actor: User):
    """Copy the energy review's annual TJ, energy types and SEU count into the draft
    ISO 50001 application's inputs, through the registration service that edits
    applications (same checks, version bump and audit event as a change by hand)."""
    ensure_can_edit(organization, actor)
    inputs = selectors.iso50003_inputs(organization)
    if inputs is None:
        raise InvalidInput("Import meter readings first: the energy review has no data.",
                           fields={"organization": "No energy data."})
    application = (Application.objects.filter(
        organization=organization, status__in=EDITABLE_BY_CLIENT,
        standard_lines__standard__code=selectors.ENERGY_STANDARD)
        .order_by("-created_at", "-pk").first())
    if application is None:
        raise Conflict("There is no ISO 50001 application in draft to fill in; start one "
                       "from the organization's page.")
    tj = Decimal(str(inputs["annual_energy_consumption_tj"])).quantize(
        Decimal("0.001"), rounding=ROUND_HALF_UP)
    lines = []
    for line in application.standard_lines.select_related("standard"):
        entry = {"standard": line.standard.code, "effective_personnel": line.effective_personnel,
                 "complexity": line.complexity}
        if line.standard.is_energy:
            entry.update(annual_energy_consumption_tj=max(tj, Decimal("0.001")),
                         energy_types=inputs["energy_types"],
                         significant_energy_uses=inputs["significant_energy_uses"])
        lines.append(entry)
    application = update_application(application=application, actor=actor,
                                     data={"standards": lines})
    _event(actor, "energy.application.prefilled", application, organization,
           {"application": application.reference,
            "annual_energy_consumption_tj": str(tj),
            "energy_types": inputs["energy_types"],
            "significant_energy_uses": inputs["significant_energy_uses"]})
    return application
