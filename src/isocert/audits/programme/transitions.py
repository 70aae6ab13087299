"""The audit programme's side of an edition transition: the CB's extra audit time for a
transition audit and moving a cycle to the new editions once the transition is decided.

A transition audit (``Audit.Kind.TRANSITION``) is a special audit, usually held with a
surveillance or recertification audit. IAF transition notices set a minimum extra time on
top of that audit (IAF MD 26:2023 for ISO/IEC 27001:2022: at least 1.0 auditor day with a
surveillance, 0.5 with a recertification); the CB records its own figure per pair of
editions (``catalog.EditionTransition.extra_audit_days`` / ``extra_audit_percent``).
"""

import math
from decimal import Decimal

from django.db import transaction

from isocert.accounts.models import User
from isocert.catalog import selectors as catalog_selectors
from isocert.catalog.models import EditionTransition
from isocert.core.audit import record_event

from .models import Audit, CertificationCycle
from .rules import NEXT_CYCLE_KINDS

FINISHED = (Audit.Status.CLOSED, Audit.Status.CANCELLED)


def cycle_transitions(cycle: CertificationCycle) -> list[EditionTransition]:
    """The transitions superseding editions the cycle certifies, by standard code."""
    return [transition for standard in cycle.standards.order_by("code")
            if (transition := catalog_selectors.transition_from(standard)) is not None]


def combined_audit(cycle: CertificationCycle) -> Audit | None:
    """The surveillance or recertification audit a transition audit is usually held with:
    the next one of the cycle not yet closed or cancelled."""
    return (cycle.audits.filter(kind__in=NEXT_CYCLE_KINDS).exclude(status__in=FINISHED)
            .order_by("target_date", "pk").first())


def _half_days_up(value: Decimal) -> Decimal:
    return Decimal(math.ceil(value * 2)) / 2


def transition_time(cycle: CertificationCycle) -> dict:
    """The extra audit time of a transition audit on ``cycle``: for each superseded edition,
    the CB's extra days plus its percentage of the combined audit's planned days, rounded up
    to half days. ``{"days", "combined_with", "explanation": [sentences]}``."""
    combined = combined_audit(cycle)
    base = (combined.planned_days or Decimal(0)) if combined else Decimal(0)
    days, explanation = Decimal(0), []
    for transition in cycle_transitions(cycle):
        share = _half_days_up(base * transition.extra_audit_percent / 100)
        extra = transition.extra_audit_days + share
        days += extra
        explanation.append(
            f"{transition.from_standard} → {transition.to_standard} "
            f"({transition.notice_reference}): {transition.extra_audit_days} day(s)"
            + (f" + {transition.extra_audit_percent} % of {base} day(s) = {share}"
               if transition.extra_audit_percent else "")
            + f" — {extra} day(s) in all.")
    return {"days": days, "combined_with": combined, "explanation": explanation}


@transaction.atomic
def move_cycle_to_new_editions(*, cycle: CertificationCycle, actor: User
                               ) -> list[tuple[str, str]]:
    """Replace each superseded edition of ``cycle`` with its new edition, so its later
    audits check the new edition's clauses. Called by the certification decision that
    grants the transition, in its transaction; returns ``[(old, new)]`` labels."""
    moves = []
    for transition in cycle_transitions(cycle):
        cycle.standards.remove(transition.from_standard)
        cycle.standards.add(transition.to_standard)
        moves.append((str(transition.from_standard), str(transition.to_standard)))
    if moves:
        record_event(actor=actor, action="audits.cycle.editions_moved", obj=cycle,
                     organization_id=cycle.organization_id,
                     payload={"moves": [{"from": old, "to": new} for old, new in moves]})
    return moves
