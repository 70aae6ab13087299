"""Revising a plan the client already holds: the CB takes back a sent or confirmed plan (with
the reason, e-mailed to the client), edits it, and sends the next version, which the client
must confirm again before the audit starts; the dates change only while the client holds
no plan for them."""

import datetime

import pytest
from django.core import mail
from programme_helpers import START, audit_of, event_count, ready_audit

from isocert.audits.models import Audit, AuditPlan
from isocert.audits.programme import services as programme
from isocert.core.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent

REASON = "Our lead auditor moves the opening meeting to the afternoon."


@pytest.fixture
def confirmed(cycle, rita, alice, lead):
    """Stage 1 with dates, a declared team and the plan (version 1) confirmed by Alice."""
    return ready_audit(audit_of(cycle), reviewer=rita, owner=alice, lead=lead)


def plan(audit) -> AuditPlan:
    return AuditPlan.objects.get(audit=audit)


def plan_state(audit) -> tuple:
    p = plan(audit)
    return (p.status, p.version, p.revision_reason, p.client_comment, p.answered_at,
            list(p.sessions.values_list("pk", "starts_at", "topic")))


def last_event(audit) -> AuditEvent:
    return AuditEvent.objects.filter(object_type="audits.audit",
                                     object_id=str(audit.pk)).order_by("seq").last()


# --- the service ---------------------------------------------------------------------------------

def test_revising_a_confirmed_plan_asks_the_client_again(confirmed, lead, alice, bob, today_is,
                                                          django_capture_on_commit_callbacks):
    today_is(START)
    assert plan(confirmed).answered_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        revised = programme.revise_plan(audit=confirmed, actor=lead, reason=f"  {REASON} ")

    assert (revised.status, revised.version, revised.revision_reason) == ("draft", 1, REASON)
    assert (revised.client_comment, revised.answered_at) == ("", None)  # v1's answer is void
    event = last_event(confirmed)
    assert event.action == "audits.plan.revised" and event.actor == lead
    assert event.payload == {"cycle": confirmed.cycle_id, "kind": "stage1", "version": 1,
                             "previous_status": "confirmed", "reason": REASON}
    notice = mail.outbox[-1]
    assert set(notice.to) == {alice.email, bob.email}
    assert "being revised" in notice.subject
    assert REASON in notice.body and "version 1, which you confirmed" in notice.body
    assert f"/audits/{confirmed.pk}/plan/" in notice.body

    # The sessions are editable again; the next send is version 2, to be confirmed again.
    programme.add_plan_session(audit=confirmed, actor=lead, starts_at=f"{START}T13:00",
                                                            ends_at=f"{START}T15:00",
                                                            topic="Leadership",
                                                            auditor_id=lead.pk)
    with pytest.raises(programme.AuditNotReady) as refused:
        programme.start_audit(audit=confirmed, actor=lead)
    assert set(refused.value.fields) == {"plan"}
    sent = programme.send_plan(audit=confirmed, actor=lead)
    assert (sent.status, sent.version, sent.sessions.count()) == ("sent", 2, 2)
    with pytest.raises(programme.AuditNotReady):
        programme.start_audit(audit=confirmed, actor=lead)
    programme.confirm_plan(audit=confirmed, actor=bob)
    programme.start_audit(audit=confirmed, actor=lead)
    assert Audit.objects.get(pk=confirmed.pk).status == "in_progress"


def test_revising_a_sent_plan(cycle, rita, alice, lead, django_capture_on_commit_callbacks):
    audit = ready_audit(audit_of(cycle), reviewer=rita, owner=alice, lead=lead, confirm=False)
    programme.send_plan(audit=audit, actor=rita)

    with django_capture_on_commit_callbacks(execute=True):
        programme.revise_plan(audit=audit, actor=rita, reason=REASON)

    assert plan(audit).status == "draft"
    assert last_event(audit).payload["previous_status"] == "sent"
    assert "version 1, which you received" in mail.outbox[-1].body
    assert programme.send_plan(audit=audit, actor=rita).version == 2


def test_a_plan_is_revised_only_once_the_client_holds_it(cycle, rita, alice, bob, lead):
    audit = ready_audit(audit_of(cycle), reviewer=rita, owner=alice, lead=lead, confirm=False)
    events = event_count()
    with pytest.raises(TransitionNotAllowed):   # a draft is edited, not revised
        programme.revise_plan(audit=audit, actor=rita, reason=REASON)
    programme.send_plan(audit=audit, actor=rita)
    programme.request_plan_changes(audit=audit, actor=bob, comment="Not on Monday, please.")
    events = event_count()
    with pytest.raises(TransitionNotAllowed):   # the client sent it back: editable already
        programme.revise_plan(audit=audit, actor=rita, reason=REASON)
    assert plan(audit).status == "changes_requested" and event_count() == events


def test_revising_is_refused_without_a_reason_to_others_and_after_the_start(
        confirmed, rita, alice, bob, adam, lead, today_is):
    before, events = plan_state(confirmed), event_count()
    for reason in ("", "   ", "abc"):
        with pytest.raises(InvalidInput) as refused:
            programme.revise_plan(audit=confirmed, actor=rita, reason=reason)
        assert set(refused.value.fields) == {"reason"}
    # The client, and an auditor who is not the audit's lead, may not revise it.
    for actor in (alice, bob, adam):
        with pytest.raises(NotPermitted):
            programme.revise_plan(audit=confirmed, actor=actor, reason=REASON)
    assert plan_state(confirmed) == before and event_count() == events

    today_is(START)
    programme.start_audit(audit=confirmed, actor=lead)
    events = event_count()
    with pytest.raises(Conflict) as refused:
        programme.revise_plan(audit=confirmed, actor=lead, reason=REASON)
    assert "in progress" in refused.value.message
    assert plan_state(confirmed) == before and event_count() == events


# --- the dates follow the plan -------------------------------------------------------------------

def test_no_rescheduling_while_the_client_holds_the_plan(confirmed, cycle, rita, alice, lead):
    later = START + datetime.timedelta(days=7)
    events = event_count()
    with pytest.raises(Conflict) as refused:
        programme.schedule_audit(audit=confirmed, actor=rita, start_date=later,
                                 end_date=later + datetime.timedelta(days=1))
    assert refused.value.message == ("Revise the plan first: the client confirmed a plan for "
                                     "the current dates.")
    assert set(refused.value.fields) == {"start_date"}
    assert (Audit.objects.get(pk=confirmed.pk).start_date, event_count()) == (START, events)

    sent = ready_audit(audit_of(cycle, "stage2"), reviewer=rita, owner=alice, lead=lead,
                       start=START + datetime.timedelta(days=20), confirm=False)
    programme.send_plan(audit=sent, actor=rita)
    with pytest.raises(Conflict) as refused:
        programme.schedule_audit(audit=sent, actor=rita, start_date=later,
                                 end_date=later + datetime.timedelta(days=1))
    assert "the client was sent a plan" in refused.value.message
    assert "start_date" in refused.value.fields


def test_after_a_revision_the_audit_moves_and_its_sessions_follow(confirmed, rita, alice,
                                                                  lead, today_is):
    programme.revise_plan(audit=confirmed, actor=rita, reason="The client's plant is closed.")
    later = START + datetime.timedelta(days=7)
    programme.schedule_audit(audit=confirmed, actor=rita, start_date=later,
                             end_date=later + datetime.timedelta(days=1))
    assert Audit.objects.get(pk=confirmed.pk).start_date == later

    # The old session now lies outside the audit's dates: the plan is not sent like that.
    with pytest.raises(programme.AuditNotReady) as refused:
        programme.send_plan(audit=confirmed, actor=rita)
    assert "Opening meeting" in refused.value.fields["sessions"]
    session = plan(confirmed).sessions.get()
    programme.update_plan_session(session=session, actor=lead, starts_at=f"{later}T09:00",
                                                               ends_at=f"{later}T10:00",
                                                               topic="Opening meeting",
                                                               auditor_id=lead.pk)
    assert programme.send_plan(audit=confirmed, actor=rita).version == 2
    programme.confirm_plan(audit=confirmed, actor=alice)
    today_is(later)
    programme.start_audit(audit=confirmed, actor=lead)


# --- pages and API -------------------------------------------------------------------------------

def test_the_planning_page_revises_the_plan(confirmed, rita, alice, api_client):
    cb = api_client(rita)
    url = f"/audits/{confirmed.pk}/plan/revise/"
    page = cb.get(f"/audits/{confirmed.pk}/planning/").content.decode()
    assert "Revise the plan" in page and f'action="{url}"' in page
    assert 'data-testid="dates-locked"' in page and "Save dates" not in page
    assert cb.get(url).status_code == 405   # POST-only, like every action
    before, events = plan_state(confirmed), event_count()

    refused = cb.post(url, {"reason": "abc"})
    assert refused.status_code == 422
    body = refused.content.decode()
    assert 'id="id_revise_reason_error"' in body and "at least 5 characters" in body
    assert plan_state(confirmed) == before and event_count() == events

    done = cb.post(url, {"reason": REASON})
    assert done.status_code == 302 and done.url == f"/audits/{confirmed.pk}/planning/"
    assert plan(confirmed).status == "draft"
    page = cb.get(done.url).content.decode()
    assert f"Being revised:</strong> {REASON}" in page
    assert "Add a session" in page and "Send the plan to the client (version 2)" in page
    assert "Save dates" in page

    # The client learns the plan is being revised, not the draft.
    client_page = api_client(alice).get(f"/audits/{confirmed.pk}/plan/").content.decode()
    assert 'data-testid="plan-revising"' in client_page and REASON in client_page
    assert "Opening meeting" not in client_page and "Confirm the plan" not in client_page


def test_the_planning_page_refuses_to_move_a_confirmed_audit(confirmed, rita, api_client):
    cb = api_client(rita)
    later = START + datetime.timedelta(days=7)
    response = cb.post(f"/audits/{confirmed.pk}/schedule/", {
        "start_date": later, "end_date": later + datetime.timedelta(days=1)}, follow=True)
    assert "Revise the plan first" in response.content.decode()
    assert Audit.objects.get(pk=confirmed.pk).start_date == START


def test_the_api_revises_the_plan(confirmed, rita, alice, lead, api_client):
    cb, client = api_client(rita), api_client(alice)
    url = f"/api/v1/audits/{confirmed.pk}/plan/revise"
    before, events = plan_state(confirmed), event_count()

    short = cb.post(url, {"reason": "no"}, content_type="application/json")
    assert short.status_code == 422
    assert short.json() == {"error": {"code": "invalid", "message": "Say why the plan is revised.",
                                      "fields": {"reason": "Give the reason (at least 5 "
                                                           "characters)."}}}
    missing = cb.post(url, {}, content_type="application/json")
    assert missing.status_code == 422 and "reason" in missing.json()["error"]["fields"]
    assert client.post(url, {"reason": REASON},
                       content_type="application/json").status_code == 404   # CB side only
    assert plan_state(confirmed) == before and event_count() == events

    moved = cb.post(f"/api/v1/audits/{confirmed.pk}/schedule", {
        "start_date": str(START + datetime.timedelta(days=7)),
        "end_date": str(START + datetime.timedelta(days=8))}, content_type="application/json")
    assert moved.status_code == 409 and set(moved.json()["error"]["fields"]) == {"start_date"}

    revised = cb.post(url, {"reason": REASON}, content_type="application/json")
    assert revised.status_code == 200
    assert (revised.json()["status"], revised.json()["version"]) == ("draft", 1)
    assert revised.json()["revision_reason"] == REASON
    assert len(revised.json()["sessions"]) == 1
    seen = client.get(f"/api/v1/audits/{confirmed.pk}/plan").json()
    assert (seen["status"], seen["revision_reason"], seen["sessions"]) == ("draft", REASON, [])

    again = cb.post(url, {"reason": REASON}, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"
    assert cb.post(f"/api/v1/audits/{confirmed.pk}/plan/send").json()["version"] == 2
