"""The transition audit (``Audit.Kind.TRANSITION``): a special audit that moves a certificate
to a standard's new edition, planned with the extra time the CB recorded from the IAF
transition notice (e.g. IAF MD 26:2023), checking the new edition's clauses."""

from decimal import Decimal

import pytest
from programme_helpers import event_count
from transition_helpers import NEW_CLAUSE, NEW_EDITION, transition_to_new_edition

from isocert.audits.conduct.common import audit_clauses
from isocert.audits.models import Audit
from isocert.audits.programme import services as programme
from isocert.core.errors import Conflict, NotPermitted

REASON = "Transition to the new edition, with surveillance 1."


def test_a_transition_audit_needs_a_superseded_edition(cycle, rita):
    before = (Audit.objects.count(), event_count())
    with pytest.raises(Conflict) as refused:
        programme.add_special_audit(cycle=cycle, actor=rita, kind="transition", reason=REASON)
    assert refused.value.fields == {"kind": "No superseded edition."}
    assert (Audit.objects.count(), event_count()) == before


def test_a_client_cannot_add_a_transition_audit(cycle, alice, ada):
    transition_to_new_edition(ada)
    before = (Audit.objects.count(), event_count())
    with pytest.raises(NotPermitted):
        programme.add_special_audit(cycle=cycle, actor=alice, kind="transition", reason=REASON)
    assert (Audit.objects.count(), event_count()) == before


def test_it_is_planned_with_the_cbs_extra_time(cycle, rita, ada):
    surveillance = cycle.audits.get(kind=Audit.Kind.SURVEILLANCE1)
    transition_to_new_edition(ada, extra_audit_days="1", extra_audit_percent=25)
    expected = Decimal("1") + (surveillance.planned_days * Decimal("0.25") * 2).to_integral_value(
        rounding="ROUND_CEILING") / 2
    time = programme.transition_time(cycle)
    assert time["days"] == expected
    assert time["combined_with"] == surveillance
    assert "IAF MD 26:2023" in time["explanation"][0]
    audit = programme.add_special_audit(cycle=cycle, actor=rita, kind="transition",
                                        reason=REASON)
    assert audit.planned_days == expected
    assert audit.get_kind_display() == "Special: edition transition"
    # Days the reviewer gives win over the CB's default.
    given = programme.add_special_audit(cycle=cycle, actor=rita, kind="transition",
                                        reason=REASON, planned_days="3")
    assert given.planned_days == Decimal("3")


def test_it_checks_the_new_editions_clauses(cycle, rita, ada):
    transition_to_new_edition(ada)
    audit = programme.add_special_audit(cycle=cycle, actor=rita, kind="transition",
                                        reason=REASON)
    editions = set(audit_clauses(audit).values_list("standard__edition", flat=True))
    assert editions == {NEW_EDITION}
    assert audit_clauses(audit).filter(number=NEW_CLAUSE).exists()
    # The cycle's other audits stay on the certified edition until the transition is decided.
    surveillance = cycle.audits.get(kind=Audit.Kind.SURVEILLANCE1)
    assert set(audit_clauses(surveillance).values_list("standard__edition", flat=True)) == {
        "2015"}


def test_a_transition_audit_can_be_cancelled_like_other_special_audits(cycle, rita, ada):
    transition_to_new_edition(ada)
    audit = programme.add_special_audit(cycle=cycle, actor=rita, kind="transition",
                                        reason=REASON)
    programme.cancel_audit(audit=audit, actor=rita, reason="Held with the recertification.")
    audit.refresh_from_db()
    assert audit.status == Audit.Status.CANCELLED
