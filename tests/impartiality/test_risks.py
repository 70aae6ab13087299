"""The register's risks (ISO/IEC 17021-1 §5.2.3, §5.2.4): recording, editing and reviewing
one, through its status table — and every refusal, which changes nothing."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent
from isocert.impartiality import services
from isocert.impartiality.models import ImpartialityRisk, RiskReview

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def _counts():
    return (ImpartialityRisk.objects.count(), RiskReview.objects.count(),
            AuditEvent.objects.filter(action__startswith="impartiality.").count())


def test_a_risk_gets_a_reference_an_event_and_its_owner_is_told(
        ada, rita, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        risk = services.record_risk(threat="intimidation", source="A client threatened to "
                                    "leave", description="Pressure on the lead auditor.",
                                    likelihood=1, impact=3, owner=rita, actor=ada)

    assert risk.reference == f"IMP-{TODAY().year}-0001"
    assert risk.status == "open"
    assert risk.level == "medium"
    assert risk.next_review_on == services.add_months(TODAY(), 12)
    event = AuditEvent.objects.get(action="impartiality.risk.recorded")
    assert event.payload["reference"] == risk.reference and event.actor == ada
    assert [m.to for m in mail.outbox] == [[rita.email]]
    assert risk.reference in mail.outbox[0].body


def test_the_second_risk_of_the_year_takes_the_next_number(risk, ada):
    second = services.record_risk(threat="advocacy", source="Marketing", actor=ada,
                                  description="Sales staff promote a consultancy.")
    assert second.reference == f"IMP-{TODAY().year}-0002"


@pytest.mark.parametrize("who", ["dora", "rita", "adam", "alice"])
def test_only_administrators_record_risks(who, request):
    actor = request.getfixturevalue(who)
    before = _counts()
    with pytest.raises(NotPermitted):
        services.record_risk(threat="self_interest", source="x", description="y", actor=actor)
    assert _counts() == before


@pytest.mark.parametrize("values, field", [
    ({"threat": "greed"}, "threat"),
    ({"source": "  "}, "source"),
    ({"description": ""}, "description"),
    ({"likelihood": 4}, "likelihood"),
    ({"impact": "high"}, "impact"),
    ({"next_review_on": "2020-01-01"}, "next_review_on"),
    ({"next_review_on": "2026-02-30"}, "next_review_on"),
])
def test_bad_input_names_the_field_and_records_nothing(ada, values, field):
    before = _counts()
    data = {"threat": "self_review", "source": "Training", "description": "A course."} | values
    with pytest.raises(InvalidInput) as refused:
        services.record_risk(actor=ada, **data)
    assert field in refused.value.fields
    assert _counts() == before


def test_the_owner_is_cb_staff(ada, alice):
    before = _counts()
    with pytest.raises(InvalidInput) as refused:
        services.record_risk(threat="self_review", source="s", description="d", owner=alice,
                             actor=ada)
    assert "owner_id" in refused.value.fields
    assert _counts() == before


def test_editing_records_each_change_and_tells_a_new_owner(
        risk, ada, dora, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.update_risk(risk=risk, actor=ada, impact=1, owner=dora)
    risk.refresh_from_db()
    assert (risk.impact, risk.owner, risk.level) == (1, dora, "low")
    event = AuditEvent.objects.filter(action="impartiality.risk.updated").get()
    assert event.payload["changes"]["impact"] == {"from": 3, "to": 1}
    assert [m.to for m in mail.outbox] == [[dora.email]]


def test_an_edit_that_changes_nothing_records_nothing(risk, ada):
    before = _counts()
    services.update_risk(risk=risk, actor=ada, source=risk.source)
    assert _counts() == before


def test_a_decision_maker_reads_but_does_not_edit(risk, dora):
    before = _counts()
    with pytest.raises(NotPermitted):
        services.update_risk(risk=risk, actor=dora, impact=1)
    assert _counts() == before


def test_a_review_moves_the_risk_through_its_status_table(risk, ada):
    next_day = TODAY() + datetime.timedelta(days=90)
    review = services.review_risk(risk=risk, actor=ada, outcome="mitigated",
                                  conclusion="Commission-free deciders confirmed.",
                                  next_review_on=next_day)
    risk.refresh_from_db()
    assert (risk.status, risk.next_review_on, review.reviewer) == ("mitigated", next_day, ada)

    services.review_risk(risk=risk, actor=ada, outcome="open",
                         conclusion="A decider was paid a bonus after all.")
    risk.refresh_from_db()
    assert risk.status == "open"

    services.review_risk(risk=risk, actor=ada, outcome="retired",
                         conclusion="The client left; the fee share is gone.")
    risk.refresh_from_db()
    assert risk.status == "retired"
    assert risk.reviews.first().next_review_on is None
    assert list(AuditEvent.objects.filter(action="impartiality.risk.reviewed")
                .values_list("payload__outcome", flat=True)) == ["mitigated", "open", "retired"]


def test_an_unchanged_review_keeps_the_status_and_moves_the_date(risk, ada):
    services.review_risk(risk=risk, actor=ada, outcome="unchanged",
                         conclusion="Nothing new this quarter.")
    risk.refresh_from_db()
    assert risk.status == "open"
    assert risk.reviews.count() == 1


def test_a_retired_risk_is_neither_reviewed_nor_edited(risk, ada):
    services.review_risk(risk=risk, actor=ada, outcome="retired", conclusion="Gone for good.")
    before = _counts()
    with pytest.raises(TransitionNotAllowed):
        services.review_risk(risk=risk, actor=ada, outcome="open", conclusion="Back again?")
    with pytest.raises(TransitionNotAllowed):
        services.update_risk(risk=risk, actor=ada, impact=1)
    assert _counts() == before


def test_mitigated_needs_a_safeguard_on_record(ada):
    risk = services.record_risk(threat="familiarity", source="Long-serving auditor",
                                description="Same lead auditor for nine years.", actor=ada)
    before = _counts()
    with pytest.raises(InvalidInput) as refused:
        services.review_risk(risk=risk, actor=ada, outcome="mitigated",
                             conclusion="Rotation agreed.")
    assert "outcome" in refused.value.fields
    assert _counts() == before
    risk.refresh_from_db()
    assert risk.status == "open"


@pytest.mark.parametrize("values, field", [
    ({"outcome": "fine"}, "outcome"),
    ({"conclusion": "ok"}, "conclusion"),
    ({"reviewed_on": "2999-01-01"}, "reviewed_on"),
    ({"next_review_on": "2001-01-01"}, "next_review_on"),
])
def test_a_bad_review_names_the_field_and_changes_nothing(risk, ada, values, field):
    before = (_counts(), risk.next_review_on)
    data = {"outcome": "unchanged", "conclusion": "Checked the fee share."} | values
    with pytest.raises(InvalidInput) as refused:
        services.review_risk(risk=risk, actor=ada, **data)
    assert field in refused.value.fields
    risk.refresh_from_db()
    assert (_counts(), risk.next_review_on) == before
