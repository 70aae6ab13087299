"""Setting up the energy data: meters, energy uses (SEUs) and relevant variables."""

from django.db import transaction

from isocert.accounts.models import Organization, Site, User
from isocert.accounts.services import ensure_can_edit
from isocert.core.errors import Conflict
from isocert.core.validation import choice_error
from isocert.core.values import UNSET, given

from ..models import EnergyCarrier, EnergyUse, Meter, RelevantVariable
from ._common import clean_name, event, own, refuse, unique_save

# --- meters ------------------------------------------------------------------------------------


def _carrier_and_unit(meter: Meter, carrier, unit, errors: dict):
    """The carrier (by code) and the unit, which must be one of the carrier's units; a
    new meter names both, a change keeps what it does not name."""
    existing = meter if meter.pk else None
    found = existing.carrier if existing else None
    if carrier is not UNSET or existing is None:
        code = ("" if carrier is UNSET else carrier or "").strip()
        found = EnergyCarrier.objects.filter(code=code).first()
        if found is None:
            errors["carrier"] = (f"Unknown energy carrier “{code}”." if code
                                 else "Choose the energy carrier.")
            return None, ""
    if unit is UNSET:
        unit = existing.unit if existing else ""
    unit = (unit or "").strip()
    units = list(found.units.values_list("unit", flat=True))
    if unit not in units:
        errors["unit"] = f"{found} is metered in {', '.join(units)}."
    return found, unit


def _apply_meter(meter: Meter, organization: Organization, *, name, carrier, unit,
                 site_id) -> None:
    errors: dict[str, str] = {}
    if name is not UNSET:
        meter.name = clean_name(name, errors)
    if site_id is not UNSET:
        meter.site = None
        if site_id is not None:
            meter.site = Site.objects.filter(organization=organization, pk=site_id).first()
            if meter.site is None:
                errors["site_id"] = f"Choose a site of {organization}."
    carrier, unit = _carrier_and_unit(meter, carrier, unit, errors)
    if meter.pk and carrier != meter.carrier and meter.readings.exists():
        errors["carrier"] = "The meter has readings; its energy carrier cannot change."
    if meter.pk and unit != meter.unit and meter.readings.exists():
        errors["unit"] = "The meter has readings; its unit cannot change."
    refuse(errors)
    meter.carrier, meter.unit = carrier, unit
    unique_save(meter)


@transaction.atomic
def create_meter(*, organization: Organization, actor: User, name: str, carrier: str,
                 unit: str, site_id: int | None = None) -> Meter:
    """A meter: a name, optionally a site, the carrier (its code) and the unit it reads in."""
    ensure_can_edit(organization, actor)
    meter = Meter(organization=organization)
    _apply_meter(meter, organization, name=name, carrier=carrier, unit=unit, site_id=site_id)
    event(actor, "energy.meter.created", meter, organization,
          {"name": meter.name, "carrier": meter.carrier.code, "unit": meter.unit})
    return meter


@transaction.atomic
def update_meter(*, meter: Meter, actor: User, name: str = UNSET,
                 carrier: str = UNSET, unit: str = UNSET,
                 site_id: int | None = UNSET) -> Meter:
    """Change what is given; the carrier and unit stay while the meter has readings."""
    ensure_can_edit(meter.organization, actor)
    _apply_meter(meter, meter.organization, name=name, carrier=carrier, unit=unit,
                 site_id=site_id)
    event(actor, "energy.meter.updated", meter, meter.organization,
          {"changed": sorted(given(name=name, carrier=carrier, unit=unit, site_id=site_id))})
    return meter


@transaction.atomic
def delete_meter(*, meter: Meter, actor: User) -> None:
    """Refused while the meter has readings (undo their imports first)."""
    ensure_can_edit(meter.organization, actor)
    count = meter.readings.count()
    if count:
        raise Conflict(f"“{meter}” has {count} readings; undo the imports that brought them "
                       "before deleting the meter.")
    event(actor, "energy.meter.deleted", meter, meter.organization, {"name": meter.name})
    meter.delete()


# --- energy uses --------------------------------------------------------------------------------

def _apply_use(use: EnergyUse, organization: Organization, *, name, is_significant,
               meter_ids) -> None:
    errors: dict[str, str] = {}
    if name is not UNSET:
        use.name = clean_name(name, errors)
    if is_significant is not UNSET:
        use.is_significant = bool(is_significant)
    meters = None
    if meter_ids is not UNSET:
        meters = own(Meter, organization, list(meter_ids), "meter_ids", errors, "meters",
                     many=True, required=False)
    refuse(errors)
    unique_save(use)
    if meters is not None:
        use.meters.set(meters)


@transaction.atomic
def create_energy_use(*, organization: Organization, actor: User, name: str,
                      is_significant: bool = False, meter_ids: list[int] = ()) -> EnergyUse:
    """An energy use (its meters; significant or not — the SEUs)."""
    ensure_can_edit(organization, actor)
    use = EnergyUse(organization=organization)
    _apply_use(use, organization, name=name, is_significant=is_significant,
               meter_ids=meter_ids)
    event(actor, "energy.use.created", use, organization,
          {"name": use.name, "significant": use.is_significant,
           "meters": sorted(use.meters.values_list("pk", flat=True))})
    return use


@transaction.atomic
def update_energy_use(*, use: EnergyUse, actor: User, name: str = UNSET,
                      is_significant: bool = UNSET,
                      meter_ids: list[int] = UNSET) -> EnergyUse:
    ensure_can_edit(use.organization, actor)
    _apply_use(use, use.organization, name=name, is_significant=is_significant,
               meter_ids=meter_ids)
    event(actor, "energy.use.updated", use, use.organization,
          {"changed": sorted(given(name=name, is_significant=is_significant, meter_ids=meter_ids)),
           "significant": use.is_significant})
    return use


@transaction.atomic
def delete_energy_use(*, use: EnergyUse, actor: User) -> None:
    ensure_can_edit(use.organization, actor)
    event(actor, "energy.use.deleted", use, use.organization, {"name": use.name})
    use.delete()


# --- relevant variables ------------------------------------------------------------------------

def _apply_variable(variable: RelevantVariable, *, name, kind, unit) -> None:
    errors: dict[str, str] = {}
    if name is not UNSET:
        variable.name = clean_name(name, errors)
    if kind is not UNSET:
        kind = kind or RelevantVariable.Kind.OTHER
        if kind not in RelevantVariable.Kind.values:
            errors["kind"] = choice_error(RelevantVariable.Kind, what="the kind")
        variable.kind = kind
    if unit is not UNSET:
        variable.unit = (unit or "").strip()
        if not variable.unit:
            errors["unit"] = "Give the unit, e.g. t, K·d, h."
        elif len(variable.unit) > 30:
            errors["unit"] = "At most 30 characters."
    refuse(errors)
    unique_save(variable)


@transaction.atomic
def create_variable(*, organization: Organization, actor: User, name: str, unit: str,
                    kind: str = RelevantVariable.Kind.OTHER) -> RelevantVariable:
    """A relevant variable: production, degree days, operating hours, occupancy …"""
    ensure_can_edit(organization, actor)
    variable = RelevantVariable(organization=organization)
    _apply_variable(variable, name=name, kind=kind, unit=unit)
    event(actor, "energy.variable.created", variable, organization,
          {"name": variable.name, "kind": variable.kind, "unit": variable.unit})
    return variable


@transaction.atomic
def update_variable(*, variable: RelevantVariable, actor: User,
                    name: str = UNSET, kind: str = UNSET,
                    unit: str = UNSET) -> RelevantVariable:
    ensure_can_edit(variable.organization, actor)
    _apply_variable(variable, name=name, kind=kind, unit=unit)
    event(actor, "energy.variable.updated", variable, variable.organization,
          {"changed": sorted(given(name=name, kind=kind, unit=unit))})
    return variable


@transaction.atomic
def delete_variable(*, variable: RelevantVariable, actor: User) -> None:
    """Refused while it has values or a baseline or EnPI uses it."""
    ensure_can_edit(variable.organization, actor)
    if variable.values.exists() or variable.baselines.exists() or variable.enpis.exists():
        raise Conflict(f"“{variable}” has values or is used by a baseline or an EnPI; remove "
                       "those first.")
    event(actor, "energy.variable.deleted", variable, variable.organization,
          {"name": variable.name})
    variable.delete()
