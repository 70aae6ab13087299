"""Importing meter readings and variable values from a file, and undoing an import."""

import hashlib

from django.db import transaction

from isocert.accounts.models import Organization, User
from isocert.accounts.services import ensure_can_edit
from isocert.core.db import retry_when_locked
from isocert.core.errors import InvalidInput

from .. import importer
from ..models import CarrierUnit, ImportBatch, Meter, Reading, RelevantVariable, VariableValue
from ._common import event, own, refuse


def build_mapping(organization: Organization, choice: importer.MappingChoice
                  ) -> importer.Mapping:
    """The person's column mapping, checked against the organization's meters and
    variables: a known frequency, a date column or start and end columns, each column
    mapped once to a meter (in one of its carrier's units; the meter's unit by default)
    or a variable of the organization. The frequency may be left empty: it is then read
    from the dates (``importer.resolve_format``)."""
    errors: dict[str, str] = {}
    if choice.frequency and choice.frequency not in importer.FREQUENCIES:
        errors["frequency"] = (f"One of {', '.join(importer.FREQUENCIES)}, or none to read it "
                               "from the dates.")
    if not choice.date and not (choice.start and choice.end):
        errors["date"] = "Say which column holds the date (or the start and end of each period)."
    elif choice.date and (choice.start or choice.end):
        errors["date"] = "Map either a date column or start and end columns, not both."
    if not choice.columns:
        errors["columns"] = "Map at least one column to a meter or a variable."
    targets, seen = [], set()
    # The organization's meters and their carriers' units in two queries, however many
    # columns the file has (a metering export may have a hundred).
    meters = {m.pk: m for m in Meter.objects.filter(
        organization=organization, pk__in=[e.meter_id for e in choice.columns
                                           if e.meter_id is not None]).select_related("carrier")}
    factors = {(u.carrier_id, u.unit): u.kwh_per_unit for u in CarrierUnit.objects.filter(
        carrier_id__in={m.carrier_id for m in meters.values()})}
    for i, entry in enumerate(choice.columns):
        key = f"columns.{i}"
        column = entry.column
        if not column:
            errors[key] = "Give the column name."
            continue
        if column in seen or column in (choice.date, choice.start, choice.end):
            errors[key] = f"Column “{column}” is mapped twice."
            continue
        seen.add(column)
        if entry.meter_id is not None:
            meter = meters.get(entry.meter_id)
            if meter is None:
                errors[key] = f"Choose a meter of {organization}."
                continue
            unit = entry.unit or meter.unit
            factor = factors.get((meter.carrier_id, unit))
            if factor is None:
                units = ", ".join(u for c, u in sorted(factors) if c == meter.carrier_id)
                errors[key + ".unit"] = (f"Column “{column}”: unit “{unit}” is not a unit of "
                                         f"{meter.carrier} ({units}).")
                continue
            targets.append(importer.ColumnTarget(column=column, meter=meter, unit=unit,
                                                 kwh_per_unit=factor))
        elif entry.variable_id is not None:
            variable = own(RelevantVariable, organization, entry.variable_id, key, errors,
                           "a variable")
            if variable is not None:
                targets.append(importer.ColumnTarget(column=column, variable=variable))
        else:
            errors[key] = f"Column “{column}”: choose a meter or a variable."
    refuse(errors)
    return importer.Mapping(frequency=choice.frequency, date_column=choice.date,
                            start_column=choice.start, end_column=choice.end, targets=targets)


def _existing_periods(mapping: importer.Mapping, periods: list[tuple]) -> dict:
    """The periods the mapped meters and variables already have within the file's span
    (two queries, whatever the number of columns), as ``check_rows`` takes them."""
    existing: dict = {}
    if not periods:
        return existing
    first = min(start for start, _, _ in periods)
    last = max(end for _, end, _ in periods)
    meters = {t.meter.pk: t.meter for t in mapping.targets if t.meter is not None}
    variables = {t.variable.pk: t.variable for t in mapping.targets if t.variable is not None}
    for model, key, objects in ((Reading, "meter_id", meters),
                                (VariableValue, "variable_id", variables)):
        if not objects:
            continue
        for owner, start, end in model.objects.filter(
                **{f"{key}__in": list(objects)}, period_end__gte=first,
                period_start__lte=last).values_list(key, "period_start", "period_end"):
            existing.setdefault(objects[owner], []).append((start, end))
    return existing


def _overlaps(plan: importer.Plan, mapping: importer.Mapping) -> list[importer.RowProblem]:
    return importer.overlap_problems(plan.periods, mapping,
                                     _existing_periods(mapping, plan.periods))


def import_energy_data(*, organization: Organization, actor: User, data: bytes,
                       file_name: str, mapping: importer.MappingChoice) -> ImportBatch:
    """Import readings and variable values from a CSV or XLSX file — all or nothing.

    Every bad line is reported with its number (``fields`` keyed ``"line N"``); when
    there is any, nothing is written.

    Not one transaction, unlike the other services: the file is read and checked first,
    and only the writing of what passed runs in a transaction, because on SQLite a
    transaction holds the database's one write lock from its start (IMMEDIATE) and every
    other write would wait while a large workbook is parsed. A locked database on
    writing is tried again (``retry_when_locked``).
    """
    ensure_can_edit(organization, actor)
    table = importer.read_table(data, file_name)
    plan_mapping = build_mapping(organization, mapping)
    importer.resolve_format(table, plan_mapping, mapping)
    plan = importer.check_rows(table, plan_mapping)
    plan.problems.extend(_overlaps(plan, plan_mapping))
    plan.problems.sort(key=lambda problem: problem.line)
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
    _refuse_problems(_overlaps(plan, plan_mapping), file_name)
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
    event(actor, "energy.data.imported", batch, organization,
          {"file": batch.file_name, "sha256": batch.sha256, "rows": batch.rows,
           "readings": len(plan.readings), "variable_values": len(plan.values)})
    return batch


@transaction.atomic
def undo_import(*, batch: ImportBatch, actor: User) -> None:
    """Remove every reading and value one import brought."""
    organization = batch.organization
    ensure_can_edit(organization, actor)
    event(actor, "energy.data.import_undone", batch, organization,
          {"file": batch.file_name, "sha256": batch.sha256, "values": batch.values})
    batch.delete()
