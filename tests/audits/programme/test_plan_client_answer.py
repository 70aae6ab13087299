"""The audit plan: sessions edited by the reviewer or lead auditor, sent to the client,
confirmed or sent back with a change request by the client's owner or editor; every
send and answer audit-trailed and e-mailed."""

import datetime

import pytest
from django.core import mail
from factories import make_user
from programme_helpers import START, audit_of, cycle_for, event_count

from isocert.accounts.models import Membership
from isocert.audits.models import AuditPlan
from isocert.audits.programme import services as programme
from isocert.core.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent


@pytest.fixture
def audit(nordlicht, alice, rita, lead):
    audit = audit_of(cycle_for(nordlicht, alice, rita))
    programme.schedule_audit(audit=audit, actor=rita, start_date=START,
                             end_date=START + datetime.timedelta(days=1))
    programme.assign_team_member(audit=audit, actor=rita, auditor=lead, role="lead")
    programme.add_plan_session(audit=audit, actor=lead, starts_at="2031-05-05 09:00",
                                                        ends_at="2031-05-05 11:00",
                                                        topic="Context of the organization",
                                                        auditee="Alice",
                                                        auditor_id=lead.pk)
    return audit


def plan(audit) -> AuditPlan:
    return AuditPlan.objects.get(audit=audit)


def test_sessions_are_checked(audit, rita, adam):
    events = event_count()
    cases = [({"starts_at": "2031-05-05 11:00", "ends_at": "2031-05-05 10:00", "topic": "x"},
              "ends_at"),
             ({"starts_at": "2031-06-05 09:00", "ends_at": "2031-06-05 10:00", "topic": "x"},
              "starts_at"),
             ({"starts_at": "2031-05-05 09:00", "ends_at": "2031-05-05 10:00", "topic": ""},
              "topic"),
             ({"starts_at": "2031-05-05 09:00", "ends_at": "2031-05-05 10:00", "topic": "x",
               "auditor_id": adam.pk}, "auditor_id")]
    for data, field in cases:
        with pytest.raises(InvalidInput) as refused:
            programme.add_plan_session(audit=audit, actor=rita, **data)
        assert field in refused.value.fields
    with pytest.raises(NotPermitted):
        programme.add_plan_session(audit=audit, actor=adam, **cases[0][0])
    assert plan(audit).sessions.count() == 1
    assert event_count() == events


def test_the_client_confirms_the_plan(audit, rita, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        programme.send_plan(audit=audit, actor=rita)
    assert plan(audit).status == "sent"
    assert {m.to[0] for m in mail.outbox} >= {"alice@nordlicht.example"}
    assert "Audit plan" in mail.outbox[-1].subject
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        programme.confirm_plan(audit=audit, actor=alice, comment="Fine for us.")

    sent = plan(audit)
    assert (sent.status, sent.client_comment, sent.version) == ("confirmed", "Fine for us.", 1)
    assert "confirmed" in mail.outbox[-1].subject
    assert "lena@cb.example" in mail.outbox[-1].to
    actions = list(AuditEvent.objects.filter(object_type="audits.audit").values_list(
        "action", flat=True))
    assert actions[-2:] == ["audits.plan.sent", "audits.plan.confirmed"]


def test_a_change_request_sends_the_plan_back_for_editing(audit, rita, bob, lead,
                                                          django_capture_on_commit_callbacks):
    programme.send_plan(audit=audit, actor=rita)
    with pytest.raises(Conflict):  # no editing while the client holds the plan
        programme.add_plan_session(audit=audit, actor=lead, starts_at="2031-05-05 13:00",
                                                            ends_at="2031-05-05 14:00",
                                                            topic="x")
    with pytest.raises(InvalidInput) as refused:
        programme.request_plan_changes(audit=audit, actor=bob, comment="")
    assert "comment" in refused.value.fields

    with django_capture_on_commit_callbacks(execute=True):
        programme.request_plan_changes(audit=audit, actor=bob,
                                       comment="Our plant manager is away on the 5th.")
    assert plan(audit).status == "changes_requested"
    assert "asked for changes" in mail.outbox[-1].subject

    session = plan(audit).sessions.get()
    programme.update_plan_session(session=session, actor=lead, starts_at="2031-05-06 09:00",
                                                               ends_at="2031-05-06 11:00",
                                                               topic="Context of the organization",
                                                               auditor_id=lead.pk)
    programme.send_plan(audit=audit, actor=lead)
    assert (plan(audit).status, plan(audit).version) == ("sent", 2)
    programme.confirm_plan(audit=audit, actor=bob)
    assert plan(audit).status == "confirmed"


def test_only_owners_and_editors_answer_and_only_a_sent_plan(audit, rita, alice, nordlicht,
                                                            charlie, adam):
    viewer = make_user("vera@nordlicht.example", "Vera Viewer")
    Membership.objects.create(organization=nordlicht, user=viewer, role="viewer")
    with pytest.raises(TransitionNotAllowed):
        programme.confirm_plan(audit=audit, actor=alice)
    programme.send_plan(audit=audit, actor=rita)
    events = event_count()
    for actor in (viewer, charlie, adam, rita):
        with pytest.raises(NotPermitted):
            programme.confirm_plan(audit=audit, actor=actor)
    assert plan(audit).status == "sent"
    assert event_count() == events


def test_a_plan_is_sent_only_with_a_valid_team(audit, rita):
    audit.team.update(role="member")
    events = event_count()
    with pytest.raises(programme.AuditNotReady) as refused:
        programme.send_plan(audit=audit, actor=rita)
    assert "team" in refused.value.fields
    assert plan(audit).status == "draft" and event_count() == events


def test_the_client_page_shows_the_plan_once_sent(audit, rita, alice, api_client):
    client = api_client(alice)
    page = client.get(f"/audits/{audit.pk}/plan/")
    assert page.status_code == 200
    assert "Context of the organization" not in page.content.decode()

    programme.send_plan(audit=audit, actor=rita)
    page = client.get(f"/audits/{audit.pk}/plan/").content.decode()
    assert "Context of the organization" in page and "Confirm the plan" in page
    assert client.get(f"/audits/{audit.pk}/planning/").status_code == 404

    response = client.post(f"/audits/{audit.pk}/plan/request-changes/",
                           {"comment": "Please move to Tuesday."})
    assert response.status_code == 302
    assert plan(audit).status == "changes_requested"
