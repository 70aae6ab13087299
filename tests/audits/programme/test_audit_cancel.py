"""Cancelling an audit: a CB reviewer or administrator cancels a planned special audit (short
notice, scope extension, transfer) with the reason; the client and the team are e-mailed and
the team's calendar is freed. Regular audits are required by the programme: never cancelled."""

import datetime

import pytest
from django.core import mail
from programme_helpers import START, audit_of, event_count, ready_audit
from transition_helpers import transition_to_new_edition

from isocert.audits.models import Audit
from isocert.audits.programme import selectors
from isocert.audits.programme import services as programme
from isocert.core.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent

REASON = "The complaint about porous castings was withdrawn."


@pytest.fixture
def special(cycle, rita, lead):
    """A short-notice audit on START and the day after, Lena leading it."""
    audit = programme.add_special_audit(cycle=cycle, actor=rita, kind="short_notice",
                                        reason="Complaint about porous castings")
    programme.schedule_audit(audit=audit, actor=rita, start_date=START,
                             end_date=START + datetime.timedelta(days=1))
    programme.assign_team_member(audit=audit, actor=rita, auditor=lead, role="lead")
    return audit


def audit_state(audit) -> tuple:
    audit = Audit.objects.get(pk=audit.pk)
    return audit.status, audit.cancellation_reason, audit.cancelled_at


# --- the service ---------------------------------------------------------------------------------

def test_a_special_audit_is_cancelled_and_its_team_released(special, cycle, rita, alice, bob,
                                                            lead,
                                                            django_capture_on_commit_callbacks):
    # Stage 1 on the same dates: Lena is busy with the special audit.
    stage1 = programme.schedule_audit(audit=audit_of(cycle), actor=rita, start_date=START,
                                      end_date=START + datetime.timedelta(days=1))
    with pytest.raises(programme.TeamRuleViolation) as busy:
        programme.assign_team_member(audit=stage1, actor=rita, auditor=lead, role="lead")
    assert "dates" in busy.value.fields
    assert lead not in [s["auditor"] for s in selectors.auditor_suggestions(user=rita,
                                                                             audit=stage1)]

    with django_capture_on_commit_callbacks(execute=True):
        cancelled = programme.cancel_audit(audit=special, actor=rita, reason=f" {REASON} ")

    assert (cancelled.status, cancelled.cancellation_reason) == ("cancelled", REASON)
    assert cancelled.cancelled_at is not None
    event = AuditEvent.objects.order_by("seq").last()
    assert (event.action, event.object_id, event.actor) == (
        "audits.audit.cancelled", str(special.pk), rita)
    assert event.payload == {"cycle": cycle.pk, "kind": "short_notice", "reason": REASON,
                             "team": [lead.pk]}
    to_client = next(m for m in mail.outbox if alice.email in m.to)
    to_team = next(m for m in mail.outbox if lead.email in m.to)
    assert set(to_client.to) == {alice.email, bob.email}
    assert "is cancelled" in to_client.subject and REASON in to_client.body
    assert f"/audits/{special.pk}/plan/" in to_client.body
    assert "released" not in to_client.body
    assert "You are released" in to_team.body and f"/audits/{special.pk}/planning/" in to_team.body

    # The team stays on record, but the cancelled audit no longer blocks Lena's calendar.
    assert list(special.team.values_list("auditor_id", flat=True)) == [lead.pk]
    assert lead in [s["auditor"] for s in selectors.auditor_suggestions(user=rita,
                                                                         audit=stage1)]
    programme.assign_team_member(audit=stage1, actor=rita, auditor=lead, role="lead")


def test_every_special_kind_can_be_cancelled(cycle, ada):
    transition_to_new_edition(ada)  # an edition transition audit needs a superseded edition
    for kind in programme.SPECIAL_KINDS:
        audit = programme.add_special_audit(cycle=cycle, actor=ada, kind=kind,
                                            reason="Requested by the client")
        programme.cancel_audit(audit=audit, actor=ada, reason=REASON)
        assert audit_state(audit)[0] == "cancelled"


@pytest.mark.parametrize("kind", programme.REGULAR_KINDS)
def test_the_programme_requires_its_regular_audits(cycle, rita, kind):
    audit = audit_of(cycle, kind)
    before, events = audit_state(audit), event_count()
    with pytest.raises(programme.AuditRequired) as refused:
        programme.cancel_audit(audit=audit, actor=rita, reason=REASON)
    assert refused.value.code == "audit_required" and set(refused.value.fields) == {"kind"}
    assert "programme requires it" in refused.value.message
    assert "suspending the certificate" in refused.value.message
    assert audit_state(audit) == before and event_count() == events


def test_only_a_planned_audit_is_cancelled(special, rita, alice, lead, today_is):
    audit = programme.add_special_audit(cycle=special.cycle, actor=rita, kind="scope_extension",
                                        reason="New die-casting line")
    audit = ready_audit(audit, reviewer=rita, owner=alice, lead=lead,
                        start=START + datetime.timedelta(days=10))
    today_is(audit.start_date)
    programme.start_audit(audit=audit, actor=lead)
    before, events = audit_state(audit), event_count()
    with pytest.raises(TransitionNotAllowed) as refused:
        programme.cancel_audit(audit=audit, actor=rita, reason=REASON)
    assert "in progress" in refused.value.message
    assert audit_state(audit) == before and event_count() == events

    programme.cancel_audit(audit=special, actor=rita, reason=REASON)
    with pytest.raises(TransitionNotAllowed):
        programme.cancel_audit(audit=special, actor=rita, reason="Once more, please.")


def test_cancelling_needs_a_reason_and_a_programme_manager(special, alice, bob, adam, dora,
                                                           lead, rita):
    before, events = audit_state(special), event_count()
    for reason in ("", "  ", "no"):
        with pytest.raises(InvalidInput) as refused:
            programme.cancel_audit(audit=special, actor=rita, reason=reason)
        assert set(refused.value.fields) == {"reason"}
    # Not the client, not an auditor (not even the lead), not the decision maker.
    for actor in (alice, bob, adam, lead, dora):
        with pytest.raises(NotPermitted):
            programme.cancel_audit(audit=special, actor=actor, reason=REASON)
    assert audit_state(special) == before and event_count() == events


def test_nothing_of_a_cancelled_audit_is_planned_any_more(special, rita, lead):
    programme.cancel_audit(audit=special, actor=rita, reason=REASON)
    events = event_count()
    with pytest.raises(Conflict):
        programme.schedule_audit(audit=special, actor=rita, start_date=START,
                                 end_date=START + datetime.timedelta(days=1))
    with pytest.raises(Conflict):
        programme.add_plan_session(audit=special, actor=lead, starts_at=f"{START}T09:00",
                                                              ends_at=f"{START}T10:00",
                                                              topic="Opening")
    with pytest.raises(TransitionNotAllowed):
        programme.start_audit(audit=special, actor=lead)
    assert event_count() == events


# --- pages and API -------------------------------------------------------------------------------

def test_the_planning_page_cancels_a_special_audit(special, cycle, rita, alice, lead,
                                                   api_client):
    cb = api_client(rita)
    url = f"/audits/{special.pk}/cancel/"
    page = cb.get(f"/audits/{special.pk}/planning/").content.decode()
    assert "Cancel this audit" in page and f'action="{url}"' in page
    # Not offered for a regular audit, nor to the lead auditor (no programme manager).
    assert "Cancel this audit" not in cb.get(
        f"/audits/{audit_of(cycle).pk}/planning/").content.decode()
    assert "Cancel this audit" not in api_client(lead).get(
        f"/audits/{special.pk}/planning/").content.decode()
    assert cb.get(url).status_code == 405   # POST-only, like every action
    before, events = audit_state(special), event_count()

    refused = cb.post(url, {"reason": ""})
    assert refused.status_code == 422
    assert 'id="id_cancel_reason_error"' in refused.content.decode()
    assert audit_state(special) == before and event_count() == events

    done = cb.post(url, {"reason": REASON})
    assert done.status_code == 302 and done.url == f"/audits/{special.pk}/planning/"
    assert audit_state(special)[0] == "cancelled"
    page = cb.get(done.url).content.decode()
    assert 'data-testid="cancelled"' in page and REASON in page
    assert "Released" in page and 'data-testid="team-problems"' not in page
    for action in ("Save dates", "Assign", "Add a session", "Start audit", "Cancel this audit",
                   "Conduct (checklist"):
        assert action not in page
    client_page = api_client(alice).get(f"/audits/{special.pk}/plan/").content.decode()
    assert "This audit was cancelled" in client_page and REASON in client_page
    cycle_page = api_client(alice).get(f"/cycles/{cycle.pk}/").content.decode()
    assert REASON in cycle_page


def test_the_planning_page_refuses_to_cancel_a_regular_audit(cycle, rita, api_client):
    stage1 = audit_of(cycle)
    response = api_client(rita).post(f"/audits/{stage1.pk}/cancel/", {"reason": REASON},
                                     follow=True)
    assert "Stage 1 cannot be cancelled" in response.content.decode()
    assert audit_state(stage1)[0] == "planned"


def test_the_api_cancels_a_special_audit(special, cycle, rita, alice, lead, api_client):
    cb = api_client(rita)
    stage1 = audit_of(cycle)
    events = event_count()

    regular = cb.post(f"/api/v1/audits/{stage1.pk}/cancel", {"reason": REASON},
                      content_type="application/json")
    assert regular.status_code == 409
    error = regular.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == "audit_required" and set(error["fields"]) == {"kind"}
    short = cb.post(f"/api/v1/audits/{special.pk}/cancel", {"reason": ""},
                    content_type="application/json")
    assert short.status_code == 422 and set(short.json()["error"]["fields"]) == {"reason"}
    by_lead = api_client(lead).post(f"/api/v1/audits/{special.pk}/cancel", {"reason": REASON},
                                    content_type="application/json")
    assert by_lead.status_code == 403 and by_lead.json()["error"]["code"] == "forbidden"
    assert api_client(alice).post(f"/api/v1/audits/{special.pk}/cancel", {"reason": REASON},
                                  content_type="application/json").status_code == 404
    assert event_count() == events

    done = cb.post(f"/api/v1/audits/{special.pk}/cancel", {"reason": REASON},
                   content_type="application/json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["cancellation_reason"]) == ("cancelled", REASON)
    seen = api_client(alice).get(f"/api/v1/audits/{special.pk}").json()
    assert (seen["status"], seen["cancellation_reason"]) == ("cancelled", REASON)
    assert cb.get(f"/api/v1/audits/{stage1.pk}").json()["cancellation_reason"] is None
