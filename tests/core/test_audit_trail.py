"""The hash-chained audit trail: one event per state change, in its transaction; tampering shows."""

import pytest
from django.core.management import CommandError, call_command
from factories import PASSING_ASSESSMENT, docx_upload

from isocert.accounts.services import create_access_token, invite_member, update_organization
from isocert.core.audit import GENESIS_HASH, _event_hash, verify_chain
from isocert.core.errors import NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditChainHead, AuditEvent
from isocert.registration import applications, common
from isocert.registration.services import (
    add_application_document,
    create_application,
    decline_application,
    record_preliminary_assessment,
    register_application,
    request_information,
    resubmit_application,
    start_review,
    submit_application,
    update_application,
    withdraw_application,
)


def last_event():
    return AuditEvent.objects.order_by("seq").last()


# --- one event per transition -------------------------------------------------------------------------

# (fixture holding the starting state, who acts, the call, the dotted action it records)
TRANSITIONS = [
    ("draft", "alice", lambda a, u: submit_application(application=a, actor=u),
     "registration.application.submitted"),
    ("submitted", "rita", lambda a, u: start_review(application=a, actor=u),
     "registration.application.under_review"),
    ("under_review", "rita",
     lambda a, u: request_information(application=a, actor=u, message="Energy review?"),
     "registration.application.information_requested"),
    ("under_review", "rita", lambda a, u: decline_application(application=a, actor=u, reason="No."),
     "registration.application.declined"),
    ("submitted", "bob", lambda a, u: withdraw_application(application=a, actor=u),
     "registration.application.withdrawn"),
    ("draft", "bob",
     lambda a, u: update_application(application=a, actor=u, scope_statement="New."),
     "registration.application.updated"),
]


@pytest.mark.parametrize(("state", "actor", "call", "action"), TRANSITIONS,
                         ids=[t[3].rsplit(".", 1)[1] for t in TRANSITIONS])
def test_each_transition_appends_one_linked_event(request, db, state, actor, call, action):
    # ``db`` is asked for by name so pytest-django orders this test with the other
    # database tests (fixtures fetched with getfixturevalue are invisible to it).
    application = request.getfixturevalue(state)
    user = request.getfixturevalue(actor)
    previous = last_event()

    call(application, user)

    application.refresh_from_db()
    assert AuditEvent.objects.filter(seq__gt=previous.seq).count() == 1
    event = last_event()
    assert event.action == action
    assert (event.seq, event.prev_hash) == (previous.seq + 1, previous.hash)
    assert (event.actor, event.actor_label) == (user, user.email)
    assert (event.object_type, event.object_id) == ("registration.application", str(application.pk))
    assert event.organization_id == application.organization_id
    if action != "registration.application.updated":
        assert event.payload["from"] == state
        assert event.payload["to"] == application.status
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (event.seq, event.hash)


def test_the_whole_lifecycle_is_in_the_trail(draft, alice, bob, rita):
    submit_application(application=draft, actor=alice)
    start_review(application=draft, actor=rita)
    request_information(application=draft, actor=rita, message="Energy review?")
    add_application_document(application=draft, actor=bob, upload=docx_upload(),
                             kind="energy_review")
    resubmit_application(application=draft, actor=bob, response="Attached.")
    start_review(application=draft, actor=rita)
    record_preliminary_assessment(application=draft, actor=rita, **PASSING_ASSESSMENT)
    register_application(application=draft, actor=rita)

    actions = list(AuditEvent.objects.filter(organization_id=draft.organization_id)
                   .values_list("action", flat=True))
    assert actions == [
        "accounts.organization.created", "accounts.site.added", "accounts.site.added",
        "registration.application.created",
        "registration.application.submitted", "registration.application.under_review",
        "registration.application.information_requested", "registration.document.added",
        "registration.application.resubmitted", "registration.application.under_review",
        "registration.assessment.recorded", "registration.application.registered",
    ]
    assert verify_chain() is None


def test_account_changes_are_in_the_trail(nordlicht, alice, ada):
    update_organization(organization=nordlicht, actor=alice, trading_name="Nordlicht")
    invite_member(organization=nordlicht, actor=alice, email="dave@nordlicht.example", role="viewer")
    create_access_token(actor=alice, name="ERP sync")

    assert list(AuditEvent.objects.filter(actor=alice).values_list("action", flat=True))[-3:] == [
        "accounts.organization.updated", "accounts.invitation.sent",
        "accounts.access_token.created"]
    granted = AuditEvent.objects.filter(action="accounts.staff_role.granted")
    assert granted.filter(payload__user="ada@cb.example").get().actor_label == "system"


def test_a_refused_transition_writes_nothing(submitted, alice, rita):
    before = AuditEvent.objects.count(), AuditChainHead.objects.get().last_hash

    with pytest.raises(NotPermitted):
        start_review(application=submitted, actor=alice)
    with pytest.raises(TransitionNotAllowed):
        submit_application(application=submitted, actor=alice)

    submitted.refresh_from_db()
    assert (submitted.status, submitted.version) == ("submitted", 2)
    assert (AuditEvent.objects.count(), AuditChainHead.objects.get().last_hash) == before


def test_the_event_and_the_state_change_commit_or_fail_together(draft, alice, rita, monkeypatch):
    before = AuditEvent.objects.count()

    def queue_down(**kwargs):
        raise ConnectionError("task queue unavailable")

    # notify() runs after the status was saved and the event written, in the same transaction.
    monkeypatch.setattr(applications, "notify", queue_down)
    with pytest.raises(ConnectionError):
        submit_application(application=draft, actor=alice)

    draft.refresh_from_db()
    assert (draft.status, draft.version, draft.submitted_at) == ("draft", 1, None)
    assert AuditEvent.objects.count() == before
    assert verify_chain() is None


def test_a_failing_event_write_keeps_the_old_state(draft, alice, monkeypatch):
    def trail_down(**kwargs):
        raise ConnectionError("audit trail unavailable")

    monkeypatch.setattr(common, "record_event", trail_down)  # the transition writes it
    with pytest.raises(ConnectionError):
        submit_application(application=draft, actor=alice)

    draft.refresh_from_db()
    assert (draft.status, draft.version) == ("draft", 1)


# --- verifying the chain ------------------------------------------------------------------------------

@pytest.fixture
def trail(registered):
    """A registered application's history (with the cast's set-up): nine chained events."""
    events = list(AuditEvent.objects.order_by("seq"))
    assert len(events) >= 8
    assert events[0].prev_hash == GENESIS_HASH
    return events


def test_an_intact_chain_verifies(trail):
    assert verify_chain() is None
    assert verify_chain(batch_size=3) is None  # across batch boundaries too


def test_the_command_reports_an_intact_chain(trail, capsys):
    call_command("verify-audit-trail")
    assert f"Audit trail intact: {len(trail)} events verified." in capsys.readouterr().out


def test_an_altered_payload_is_detected(trail):
    target = trail[5]
    AuditEvent.objects.filter(pk=target.pk).update(payload={**target.payload, "to": "declined"})

    problem = verify_chain()

    assert (problem.seq, problem.reason) == (target.seq, "its content does not match its hash")
    with pytest.raises(CommandError, match=rf"broken at event #{target.seq}:"):
        call_command("verify-audit-trail")


def test_an_altered_row_with_a_recomputed_hash_breaks_the_next_link(trail):
    target = trail[4]
    target.actor_label = "someone-else@example.com"
    target.hash = _event_hash(target)
    AuditEvent.objects.filter(pk=target.pk).update(actor_label=target.actor_label,
                                                   hash=target.hash)

    problem = verify_chain(batch_size=5)  # the next event is in the next batch

    assert (problem.seq, problem.reason) == (
        target.seq + 1, "its link to the previous event does not match")


def test_a_deleted_middle_row_is_detected(trail):
    target = trail[len(trail) // 2]
    AuditEvent.objects.filter(pk=target.pk).delete()

    problem = verify_chain()

    assert (problem.seq, problem.reason) == (target.seq, f"event #{target.seq} is missing")
    with pytest.raises(CommandError, match=rf"broken at event #{target.seq}:"):
        call_command("verify-audit-trail")


def test_a_deleted_last_row_is_detected(trail):
    target = trail[-1]
    AuditEvent.objects.filter(pk=target.pk).delete()

    problem = verify_chain()

    assert problem.seq == target.seq
    assert problem.reason == f"events after #{target.seq - 1} (up to #{target.seq}) are missing"
    with pytest.raises(CommandError, match=rf"broken at event #{target.seq}:"):
        call_command("verify-audit-trail")


def test_the_first_of_several_breaks_is_named(trail):
    AuditEvent.objects.filter(pk=trail[7].pk).update(action="registration.application.declined")
    AuditEvent.objects.filter(pk=trail[2].pk).update(object_id="999999")

    with pytest.raises(CommandError, match=rf"broken at event #{trail[2].seq}:"):
        call_command("verify-audit-trail")


def test_an_empty_trail_verifies(db):
    assert not AuditEvent.objects.exists()
    assert verify_chain() is None
    call_command("verify-audit-trail")


def test_a_wiped_trail_is_detected(trail):
    AuditEvent.objects.all().delete()

    problem = verify_chain()

    assert problem.seq == 1
    with pytest.raises(CommandError, match=r"broken at event #1:"):
        call_command("verify-audit-trail")


def test_new_events_chain_on_after_verification(trail, nordlicht, alice):
    create_application(organization=nordlicht, actor=alice)
    assert last_event().prev_hash == trail[-1].hash
    assert verify_chain() is None
