"""The appeals panel's stay of a suspension (ISO/IEC 17021-1 §9.7): an appeal does not stop
a suspension unless the panel decides so. The stay restores the certificate while the
appeal runs; dismissed, the suspension resumes through the certification service that
suspends; upheld, the stay just ends — and every refusal changes nothing."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from helpers.api import assert_error
from helpers.dates import shown

from isocert.certification import lifecycle
from isocert.certification.models import Certificate
from isocert.complaints import appeals
from isocert.complaints.models import Appeal
from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent

pytestmark = pytest.mark.django_db
GROUNDS = "The surveillance audit was postponed with the CB's agreement, not refused."
WHY = "The postponement letter makes the suspension doubtful; the client may trade meanwhile."


@pytest.fixture
def suspended(certificate, decider):
    """Nordlicht's certificate suspended by Dora, ending on its default last day."""
    return lifecycle.suspend_certificate(certificate=certificate, actor=decider,
                                         reason="Surveillance audit refused by the client.")


@pytest.fixture
def appeal(suspended, alice, ada, ivan) -> Appeal:
    """Alice's appeal against the suspension, with Ivan (an auditor not involved) on the
    panel."""
    appeal = appeals.lodge_appeal(subject="suspension", grounds=GROUNDS, actor=alice,
                                  certificate=suspended)
    appeals.acknowledge_appeal(appeal=appeal, actor=ada)
    return appeals.appoint_appeal_panel(appeal=appeal, actor=ada, members=[ivan])


@pytest.fixture
def stayed(appeal, ivan) -> Appeal:
    return appeals.stay_suspension(appeal=appeal, reason=WHY, actor=ivan)


def investigated(appeal, ivan) -> Appeal:
    return appeals.record_appeal_investigation(appeal=appeal, actor=ivan,
                                               investigation="The letter was never sent.")


def last_history(certificate):
    return certificate.status_history.order_by("-pk").first()


def assert_unchanged(appeal: Appeal, certificate: Certificate, status: str) -> None:
    """A refused stay wrote nothing."""
    appeal.refresh_from_db()
    certificate.refresh_from_db()
    assert not appeal.suspension_stayed and appeal.stayed_by is None
    assert appeal.stay_reason == "" and appeal.stayed_until is None
    assert certificate.status == status
    assert not AuditEvent.objects.filter(action__in=["complaints.appeal.suspension_stayed",
                                                     "certification.certificate.restored"]
                                         ).exists()


def test_the_appointment_alone_leaves_the_suspension_standing(appeal, suspended):
    suspended.refresh_from_db()
    assert suspended.status == Certificate.Status.SUSPENDED
    assert not appeal.suspension_stayed


def test_a_panel_member_stays_the_suspension(appeal, suspended, ivan, alice,
                                             django_capture_on_commit_callbacks):
    """Ivan is an auditor: the panel's decision, not the role, changes the status."""
    until = suspended.suspended_until
    with django_capture_on_commit_callbacks(execute=True):
        appeals.stay_suspension(appeal=appeal, reason=WHY, actor=ivan)
    suspended.refresh_from_db()
    assert suspended.status == Certificate.Status.ACTIVE
    history = last_history(suspended)
    assert history.status == Certificate.Status.ACTIVE and history.actor == ivan
    assert history.reason == f"Suspension stayed pending appeal {appeal.reference}: {WHY}"
    appeal.refresh_from_db()
    assert appeal.suspension_stayed and appeal.stayed_by == ivan
    assert appeal.stay_reason == WHY and appeal.stayed_until == until
    stay_event = AuditEvent.objects.get(action="complaints.appeal.suspension_stayed")
    assert stay_event.actor == ivan
    assert stay_event.payload["suspended_until"] == until.isoformat()
    restored = AuditEvent.objects.get(action="certification.certificate.restored")
    assert restored.payload["appeal"] == appeal.reference
    assert any(alice.email in m.to and m.subject == f"Certificate {suspended.number} is now "
               "Active" for m in mail.outbox)


@pytest.mark.parametrize("who", ["ada", "vic"])
def test_someone_not_on_the_panel_may_not_stay(appeal, suspended, who, request):
    """Ada handles appeals and Vic may change certificate statuses: neither is the panel."""
    with pytest.raises(NotPermitted):
        appeals.stay_suspension(appeal=appeal, reason=WHY, actor=request.getfixturevalue(who))
    assert_unchanged(appeal, suspended, Certificate.Status.SUSPENDED)


def test_a_certificate_no_longer_suspended_is_not_stayed(appeal, suspended, decider, ivan):
    lifecycle.restore_certificate(certificate=suspended, actor=decider,
                                  reason="The surveillance audit took place.")
    AuditEvent.objects.filter(action="certification.certificate.restored").delete()
    with pytest.raises(TransitionNotAllowed) as refused:
        appeals.stay_suspension(appeal=appeal, reason=WHY, actor=ivan)
    assert "not suspended by the suspension appealed" in refused.value.message
    assert_unchanged(appeal, suspended, Certificate.Status.ACTIVE)


def test_a_stay_is_refused_twice_and_after_the_decision(stayed, suspended, ivan):
    with pytest.raises(TransitionNotAllowed):
        appeals.stay_suspension(appeal=stayed, reason=WHY, actor=ivan)
    appeals.decide_appeal(appeal=investigated(stayed, ivan), actor=ivan, upheld=True,
                          reasons="The audit was postponed by agreement.")
    with pytest.raises(TransitionNotAllowed):
        appeals.stay_suspension(appeal=stayed, reason=WHY, actor=ivan)
    assert AuditEvent.objects.filter(action="complaints.appeal.suspension_stayed").count() == 1


def test_dismissed_after_a_stay_the_suspension_resumes(stayed, suspended, ivan, alice,
                                                       django_capture_on_commit_callbacks):
    until = stayed.stayed_until
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        appeals.decide_appeal(appeal=investigated(stayed, ivan), actor=ivan, upheld=False,
                              reasons="The audit was refused in writing.")
    suspended.refresh_from_db()
    assert suspended.status == Certificate.Status.SUSPENDED
    assert suspended.suspended_until == until
    history = last_history(suspended)
    assert history.status == Certificate.Status.SUSPENDED and history.actor == ivan
    assert stayed.reference in history.reason and shown(until) in history.reason
    event = AuditEvent.objects.filter(action="certification.certificate.suspended"
                                      ).order_by("-pk").first()
    assert event.actor == ivan and event.payload["appeal"] == stayed.reference
    assert event.payload["until"] == until.isoformat()
    dismissed = AuditEvent.objects.get(action="complaints.appeal.dismissed")
    assert dismissed.payload["suspension_resumed_until"] == until.isoformat()
    stayed.refresh_from_db()
    assert stayed.resumed_until == until
    notice = [m for m in mail.outbox if alice.email in m.to
              and m.subject == f"Certificate {suspended.number} is now Suspended"]
    assert len(notice) == 1 and stayed.reference in notice[0].body
    # That appeal is decided: the e-mail offers no new appeal of the resumed suspension …
    assert "You may appeal" not in notice[0].body
    outcome = [m for m in mail.outbox if m.subject.startswith("Outcome of your appeal")][0]
    assert f"resumes until {shown(until)}" in outcome.body
    # … and lodging one is refused.
    with pytest.raises(InvalidInput) as refused:
        appeals.lodge_appeal(subject="suspension", grounds=GROUNDS, actor=alice,
                             certificate=suspended)
    assert stayed.reference in refused.value.message
    assert Appeal.objects.count() == 1


def test_a_stayed_suspension_whose_end_passed_resumes_until_the_day_the_panel_gives(
        stayed, suspended, ivan):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Appeal.objects.filter(pk=stayed.pk).update(stayed_until=yesterday)
    stayed = investigated(stayed, ivan)
    with pytest.raises(InvalidInput) as refused:
        appeals.decide_appeal(appeal=stayed, actor=ivan, upheld=False,
                              reasons="The audit was refused in writing.")
    assert "suspended_until" in refused.value.fields
    assert shown(yesterday) in refused.value.message
    stayed.refresh_from_db()
    suspended.refresh_from_db()
    assert stayed.status == Appeal.Status.INVESTIGATED and stayed.resumed_until is None
    assert suspended.status == Certificate.Status.ACTIVE
    assert not AuditEvent.objects.filter(action__in=["complaints.appeal.dismissed",
                                                     "certification.certificate.suspended"],
                                         payload__appeal=stayed.reference).exists()

    new_end = timezone.localdate() + datetime.timedelta(days=45)
    appeals.decide_appeal(appeal=stayed, actor=ivan, upheld=False,
                          reasons="The audit was refused in writing.", suspended_until=new_end)
    suspended.refresh_from_db()
    assert suspended.status == Certificate.Status.SUSPENDED
    assert suspended.suspended_until == new_end
    reason = last_history(suspended).reason
    assert shown(yesterday) in reason and shown(new_end) in reason
    assert stayed.reference in reason


def test_the_end_is_not_changed_while_it_is_still_to_come(stayed, suspended, ivan):
    stayed = investigated(stayed, ivan)
    with pytest.raises(InvalidInput) as refused:
        appeals.decide_appeal(appeal=stayed, actor=ivan, upheld=False, reasons="Refused.",
                              suspended_until=timezone.localdate() + datetime.timedelta(days=9))
    assert "suspended_until" in refused.value.fields
    suspended.refresh_from_db()
    assert suspended.status == Certificate.Status.ACTIVE
    assert Appeal.objects.get().status == Appeal.Status.INVESTIGATED


def test_an_end_is_refused_on_an_appeal_not_stayed(appeal, suspended, ivan):
    with pytest.raises(InvalidInput) as refused:
        appeals.decide_appeal(appeal=investigated(appeal, ivan), actor=ivan, upheld=False,
                              reasons="Refused.",
                              suspended_until=timezone.localdate() + datetime.timedelta(days=9))
    assert "suspended_until" in refused.value.fields
    assert Appeal.objects.get().status == Appeal.Status.INVESTIGATED


def test_upheld_after_a_stay_the_certificate_stays_active(stayed, suspended, ivan):
    stay_row = last_history(Certificate.objects.get(pk=suspended.pk))
    appeals.decide_appeal(appeal=investigated(stayed, ivan), actor=ivan, upheld=True,
                          reasons="The audit was postponed by agreement.")
    suspended.refresh_from_db()
    assert suspended.status == Certificate.Status.ACTIVE
    assert last_history(suspended) == stay_row
    stayed.refresh_from_db()
    assert stayed.status == Appeal.Status.UPHELD and stayed.resumed_until is None
    assert not AuditEvent.objects.filter(action="certification.certificate.suspended",
                                         payload__appeal=stayed.reference).exists()


def test_upheld_without_a_stay_a_panel_auditor_lifts_the_suspension(appeal, suspended, ivan):
    appeals.decide_appeal(appeal=investigated(appeal, ivan), actor=ivan, upheld=True,
                          reasons="The audit was postponed by agreement.")
    suspended.refresh_from_db()
    assert suspended.status == Certificate.Status.ACTIVE
    assert last_history(suspended).reason.startswith(f"Appeal {appeal.reference} upheld")


def test_a_withdrawal_is_not_stayed(certificate, decider, alice, ada, ivan):
    withdrawn = lifecycle.withdraw_certificate(certificate=certificate, actor=decider,
                                               reason="Misuse of the certification mark.")
    appeal = appeals.lodge_appeal(subject="withdrawal", grounds=GROUNDS, actor=alice,
                                  certificate=withdrawn)
    appeals.acknowledge_appeal(appeal=appeal, actor=ada)
    appeals.appoint_appeal_panel(appeal=appeal, actor=ada, members=[ivan])
    with pytest.raises(TransitionNotAllowed):
        appeals.stay_suspension(appeal=appeal, reason=WHY, actor=ivan)
    assert_unchanged(appeal, withdrawn, Certificate.Status.WITHDRAWN)


# --- the API and the page -----------------------------------------------------------------------

def test_the_api_stays_for_a_panel_member_only(appeal, suspended, ivan, vic, api_client):
    url = f"/api/v1/appeals/{appeal.pk}/stay"
    # Vic, a decision maker, sees the appeal (he handles appeals) but is not on its panel.
    assert_error(api_client(vic).post(url, {"reason": WHY}, content_type="application/json"),
                 403, "forbidden")
    answer = api_client(ivan).post(url, {"reason": WHY}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["suspension_stayed"] and body["stay_reason"] == WHY
    assert body["stayed_until"] == suspended.suspended_until.isoformat()
    assert_error(api_client(ivan).post(url, {"reason": WHY}, content_type="application/json"),
                 409, "invalid_transition")


def test_the_api_refuses_an_appeal_handler_not_on_the_panel(appeal, suspended, ada,
                                                            api_client):
    assert_error(api_client(ada).post(f"/api/v1/appeals/{appeal.pk}/stay", {"reason": WHY},
                                      content_type="application/json"), 403, "forbidden")
    assert_unchanged(appeal, suspended, Certificate.Status.SUSPENDED)


def test_the_api_decision_names_the_missing_end(stayed, ivan, api_client):
    Appeal.objects.filter(pk=stayed.pk).update(
        stayed_until=timezone.localdate() - datetime.timedelta(days=1))
    investigated(stayed, ivan)
    client = api_client(ivan)
    url = f"/api/v1/appeals/{stayed.pk}/decision"
    assert_error(client.post(url, {"upheld": False, "reasons": "Refused in writing."},
                             content_type="application/json"), 422, "invalid",
                 "suspended_until")
    end = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    answer = client.post(url, {"upheld": False, "reasons": "Refused in writing.",
                               "suspended_until": end}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["resumed_until"] == end


def test_the_panel_member_stays_from_the_appeal_page(appeal, suspended, ivan, ada, api_client):
    page = api_client(ivan).get(f"/appeals/{appeal.pk}/").content.decode()
    assert "Stay the suspension" in page
    # The appeal handler who is not on the panel is not offered it.
    assert "Stay the suspension" not in api_client(ada).get(f"/appeals/{appeal.pk}/"
                                                           ).content.decode()
    url = f"/appeals/{appeal.pk}/stay_suspension/"
    assert api_client(ivan).post(url, {"reason": ""}).status_code == 422
    response = api_client(ivan).post(url, {"reason": WHY})
    assert response.status_code == 302
    suspended.refresh_from_db()
    assert suspended.status == Certificate.Status.ACTIVE
    page = api_client(ivan).get(f"/appeals/{appeal.pk}/").content.decode()
    assert 'data-testid="stay"' in page and "Stay the suspension" not in page
    # The decision asks for the resumed suspension's end (once its own end has passed).
    investigated(appeal, ivan)
    page = api_client(ivan).get(f"/appeals/{appeal.pk}/").content.decode()
    assert 'name="suspended_until"' in page
