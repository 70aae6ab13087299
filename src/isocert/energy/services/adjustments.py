"""Non-routine adjustments: recording a change of a static factor (ISO 50001:2018
§6.5 static factors, ISO 50006, ISO 50015, IPMVP Core Concepts) with its date, reason, method and kWh.

Members who may edit the energy data (the ``edit`` capability of
``accounts.permissions``) record, change and delete them; each write is audit-trailed
with what it was before and after, since an adjustment moves the expected consumption
that the improvement is judged against.
"""

import datetime
from decimal import Decimal

from django.db import transaction

from isocert.accounts.models import Organization, User
from isocert.accounts.services import ensure_can_edit
from isocert.core.values import UNSET, given

from ..models import NonRoutineAdjustment
from ._common import clean_period, event, refuse

REASON_LIMIT = 2000
# What a DecimalField(max_digits=20, decimal_places=3) holds.
KWH_LIMIT = Decimal("1e17")


def _apply(adjustment: NonRoutineAdjustment, *, factor, effective_from, effective_to, reason,
           method, calculation, kwh) -> None:
    errors: dict[str, str] = {}
    if factor is not UNSET:
        if factor not in NonRoutineAdjustment.Factor.values:
            errors["factor"] = "One of: " + ", ".join(NonRoutineAdjustment.Factor.values) + "."
        adjustment.factor = factor
    if method is not UNSET:
        if method not in NonRoutineAdjustment.Method.values:
            errors["method"] = "One of: " + ", ".join(NonRoutineAdjustment.Method.values) + "."
        adjustment.method = method
    if effective_from is not UNSET or effective_to is not UNSET:
        start, end = clean_period(
            adjustment.effective_from if effective_from is UNSET else effective_from,
            adjustment.effective_to if effective_to is UNSET else effective_to, errors)
        for key, new in (("period_start", "effective_from"), ("period_end", "effective_to")):
            if key in errors:
                errors[new] = errors.pop(key)
        adjustment.effective_from, adjustment.effective_to = start, end
    if reason is not UNSET:
        adjustment.reason = (reason or "").strip()
        if not adjustment.reason:
            errors["reason"] = "Say what changed and why."
        elif len(adjustment.reason) > REASON_LIMIT:
            errors["reason"] = f"At most {REASON_LIMIT} characters."
    if calculation is not UNSET:
        adjustment.calculation = (calculation or "").strip()[:REASON_LIMIT]
    if kwh is not UNSET:
        if kwh is None or not isinstance(kwh, Decimal | int) or not Decimal(kwh).is_finite():
            errors["kwh"] = "Give the kWh as a number (negative when consumption falls)."
        elif Decimal(kwh) == 0:
            errors["kwh"] = "An adjustment of 0 kWh changes nothing."
        elif abs(Decimal(kwh)) >= KWH_LIMIT:
            errors["kwh"] = "Too large."
        else:
            adjustment.kwh = Decimal(kwh).quantize(Decimal("0.001"))
    refuse(errors)
    adjustment.save()


def _payload(adjustment: NonRoutineAdjustment) -> dict:
    return {"factor": adjustment.factor, "effective_from": adjustment.effective_from.isoformat(),
            "effective_to": adjustment.effective_to.isoformat(), "method": adjustment.method,
            "kwh": str(adjustment.kwh), "reason": adjustment.reason}


@transaction.atomic
def create_adjustment(*, organization: Organization, actor: User, factor: str,
                      effective_from: datetime.date, effective_to: datetime.date, reason: str,
                      method: str, kwh: Decimal, calculation: str = ""
                      ) -> NonRoutineAdjustment:
    """Record a non-routine adjustment: the static factor that changed, the days its kWh
    cover, why, how the kWh were worked out, and the kWh (signed)."""
    ensure_can_edit(organization, actor)
    adjustment = NonRoutineAdjustment(organization=organization, created_by=actor)
    _apply(adjustment, factor=factor, effective_from=effective_from, effective_to=effective_to,
           reason=reason, method=method, calculation=calculation, kwh=kwh)
    event(actor, "energy.adjustment.created", adjustment, organization, _payload(adjustment))
    return adjustment


@transaction.atomic
def update_adjustment(*, adjustment: NonRoutineAdjustment, actor: User, factor: str = UNSET,
                      effective_from: datetime.date = UNSET,
                      effective_to: datetime.date = UNSET, reason: str = UNSET,
                      method: str = UNSET, kwh: Decimal = UNSET,
                      calculation: str = UNSET) -> NonRoutineAdjustment:
    """Change what is given; the audit event keeps the values before and after."""
    organization = adjustment.organization
    ensure_can_edit(organization, actor)
    before = _payload(adjustment)
    _apply(adjustment, factor=factor, effective_from=effective_from, effective_to=effective_to,
           reason=reason, method=method, calculation=calculation, kwh=kwh)
    event(actor, "energy.adjustment.updated", adjustment, organization,
          {"changed": sorted(given(factor=factor, effective_from=effective_from,
                                   effective_to=effective_to, reason=reason, method=method,
                                   kwh=kwh, calculation=calculation)),
           "before": before, "after": _payload(adjustment)})
    return adjustment


@transaction.atomic
def delete_adjustment(*, adjustment: NonRoutineAdjustment, actor: User) -> None:
    organization = adjustment.organization
    ensure_can_edit(organization, actor)
    event(actor, "energy.adjustment.deleted", adjustment, organization, _payload(adjustment))
    adjustment.delete()
