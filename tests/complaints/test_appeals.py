"""Appeals against certification decisions (ISO/IEC 17021-1 §9.7): lodged by the client
within the window, a panel not involved, the outcome reopening or keeping the decision,
formal notice — and every refusal."""

import datetime

import pytest
from certification_helpers import DECIDED
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from helpers.api import assert_error

from isocert.certification import lifecycle
from isocert.certification import services as certification
from isocert.certification.models import Certificate, CertificationDecision
from isocert.certification.selectors import cycles_awaiting_decision
from isocert.complaints import appeals
from isocert.complaints.involvement import NotIndependent
from isocert.complaints.models import Appeal
from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
GROUNDS = "The major finding was closed before the decision; the evidence was overlooked."


@pytest.fixture
def refusal(ready_cycle, decider) -> CertificationDecision:
    return certification.decide(cycle=ready_cycle, actor=decider, kind="initial",
                                outcome="refuse", reason="Major 8.5 not closed.")


@pytest.fixture
def appeal(refusal, alice) -> Appeal:
    return appeals.lodge_appeal(subject="refusal", grounds=GROUNDS, actor=alice,
                                decision=refusal,
                                attachments=[SimpleUploadedFile("evidence.pdf", PDF)])


def test_lodged_within_the_window_with_attachments(appeal, refusal, ada,
                                                    django_capture_on_commit_callbacks):
    assert appeal.reference.startswith(f"APL-{timezone.localdate().year}-")
    assert appeal.organization == refusal.cycle.organization
    assert list(appeal.attachments.values_list("filename", flat=True)) == ["evidence.pdf"]
    assert AuditEvent.objects.filter(action="complaints.appeal.lodged").exists()


def test_past_the_window_is_refused(refusal, alice, settings):
    CertificationDecision.objects.filter(pk=refusal.pk).update(
        decision_date=timezone.localdate() - datetime.timedelta(
            days=settings.APPEAL_WINDOW_DAYS + 1))
    refusal.refresh_from_db()
    with pytest.raises(InvalidInput) as refused:
        appeals.lodge_appeal(subject="refusal", grounds=GROUNDS, actor=alice, decision=refusal)
    assert "subject" in refused.value.fields
    assert not Appeal.objects.exists()


def test_a_viewer_or_outsider_may_not_appeal(refusal, charlie):
    with pytest.raises(NotPermitted):
        appeals.lodge_appeal(subject="refusal", grounds=GROUNDS, actor=charlie,
                             decision=refusal)


def test_a_subject_that_does_not_match_is_refused(refusal, alice):
    with pytest.raises(InvalidInput) as refused:
        appeals.lodge_appeal(subject="suspension", grounds=GROUNDS, actor=alice,
                             decision=refusal)
    assert "certificate_id" in refused.value.fields


@pytest.mark.parametrize("who", ["decider", "lead", "rita"])
def test_an_involved_panel_member_is_refused(appeal, ada, who, request):
    appeals.acknowledge_appeal(appeal=appeal, actor=ada)
    with pytest.raises(NotIndependent) as refused:
        appeals.appoint_appeal_panel(appeal=appeal, actor=ada,
                                     members=[request.getfixturevalue("ivan"),
                                              request.getfixturevalue(who)])
    assert "member_ids" in refused.value.fields
    assert Appeal.objects.get().status == "acknowledged"


def test_only_the_panel_investigates_and_decides(appeal, ada, ivan, vic):
    appeals.acknowledge_appeal(appeal=appeal, actor=ada)
    appeals.appoint_appeal_panel(appeal=appeal, actor=ada, members=[ivan])
    with pytest.raises(NotPermitted):
        appeals.record_appeal_investigation(appeal=appeal, actor=vic,
                                            investigation="Not on the panel.")


def test_steps_out_of_order_are_refused_and_change_nothing(appeal, refusal, ada, ivan):
    with pytest.raises(TransitionNotAllowed):
        appeals.appoint_appeal_panel(appeal=appeal, actor=ada, members=[ivan])  # not acknowledged
    with pytest.raises(TransitionNotAllowed):
        appeals.close_appeal(appeal=appeal, actor=ada)   # no outcome yet
    appeals.acknowledge_appeal(appeal=appeal, actor=ada)
    with pytest.raises(TransitionNotAllowed):
        appeals.acknowledge_appeal(appeal=appeal, actor=ada)
    appeals.appoint_appeal_panel(appeal=appeal, actor=ada, members=[ivan])
    with pytest.raises(TransitionNotAllowed):   # decided before the investigation
        appeals.decide_appeal(appeal=appeal, actor=ivan, upheld=True,
                              reasons="Upheld without looking into it.")

    appeal.refresh_from_db()
    refusal.refresh_from_db()
    assert appeal.status == Appeal.Status.PANEL_APPOINTED and appeal.decided_by is None
    assert refusal.status == CertificationDecision.Status.FINAL
    assert not AuditEvent.objects.filter(action__in=["complaints.appeal.upheld",
                                                     "complaints.appeal.closed"]).exists()


def test_upheld_reopens_the_decision_to_be_taken_again(
        appeal, refusal, ada, ivan, vic, alice, django_capture_on_commit_callbacks):
    cycle = refusal.cycle
    assert cycle not in cycles_awaiting_decision(user=vic)
    with django_capture_on_commit_callbacks(execute=True):
        appeals.acknowledge_appeal(appeal=appeal, actor=ada)
        appeals.appoint_appeal_panel(appeal=appeal, actor=ada, members=[ivan])
        appeals.record_appeal_investigation(appeal=appeal, actor=ivan,
                                            investigation="The verification record exists.")
        appeals.decide_appeal(appeal=appeal, actor=ivan, upheld=True,
                              reasons="The major was verified closed before the decision.")
        appeals.close_appeal(appeal=appeal, actor=ada)
    refusal.refresh_from_db()
    assert refusal.status == CertificationDecision.Status.REOPENED
    assert appeal.reference in refusal.reopen_reason
    assert cycle in cycles_awaiting_decision(user=vic)
    # Remade through the decision service by an independent decision maker.
    granted = certification.decide(cycle=cycle, actor=vic, kind="initial", outcome="grant")
    assert granted.certificate.status == Certificate.Status.ACTIVE
    subjects = [m.subject for m in mail.outbox if alice.email in m.to]
    assert f"Your appeal {appeal.reference} was received" in subjects
    assert f"Outcome of your appeal {appeal.reference}" in subjects
    assert any(vic.email in m.to and "reopened" in m.subject for m in mail.outbox)
    assert Appeal.objects.get().status == "closed"


def test_dismissed_keeps_the_decision_and_sends_the_reasons(
        appeal, refusal, ada, ivan, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appeals.acknowledge_appeal(appeal=appeal, actor=ada)
        appeals.appoint_appeal_panel(appeal=appeal, actor=ada, members=[ivan])
        appeals.record_appeal_investigation(appeal=appeal, actor=ivan,
                                            investigation="No verification record.")
        appeals.decide_appeal(appeal=appeal, actor=ivan, upheld=False,
                              reasons="The major was still open on the decision day.")
    refusal.refresh_from_db()
    assert refusal.status == CertificationDecision.Status.FINAL
    notice = [m for m in mail.outbox if m.subject.startswith("Outcome of your appeal")][0]
    assert alice.email in notice.to and "still open on the decision day" in notice.body


@pytest.fixture
def suspended(certificate, decider):
    return lifecycle.suspend_certificate(certificate=certificate, actor=decider,
                                         reason="Surveillance audit refused by the client.")


def test_an_appeal_does_not_stop_a_suspension(suspended, alice, ada, ivan):
    appeal = appeals.lodge_appeal(subject="suspension", grounds=GROUNDS, actor=alice,
                                  certificate=suspended)
    appeals.acknowledge_appeal(appeal=appeal, actor=ada)
    appeals.appoint_appeal_panel(appeal=appeal, actor=ada, members=[ivan])
    suspended.refresh_from_db()
    assert suspended.status == Certificate.Status.SUSPENDED


def test_whoever_suspended_may_not_sit_on_the_panel(suspended, alice, ada, decider):
    appeal = appeals.lodge_appeal(subject="suspension", grounds=GROUNDS, actor=alice,
                                  certificate=suspended)
    appeals.acknowledge_appeal(appeal=appeal, actor=ada)
    with pytest.raises(NotIndependent):
        appeals.appoint_appeal_panel(appeal=appeal, actor=ada, members=[decider])


def test_an_upheld_withdrawal_appeal_reinstates_the_certificate(certificate, decider, alice,
                                                                ada, ivan):
    certificate = lifecycle.withdraw_certificate(certificate=certificate, actor=decider,
                                                 reason="Misuse of the certification mark.")
    appeal = appeals.lodge_appeal(subject="withdrawal", grounds=GROUNDS, actor=alice,
                                  certificate=certificate)
    appeals.acknowledge_appeal(appeal=appeal, actor=ada)
    appeals.appoint_appeal_panel(appeal=appeal, actor=ada, members=[ada])
    appeals.record_appeal_investigation(appeal=appeal, actor=ada,
                                        investigation="The mark was used correctly.")
    appeals.decide_appeal(appeal=appeal, actor=ada, upheld=True,
                          reasons="No misuse: the mark was the CB's own.")
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ACTIVE
    assert AuditEvent.objects.filter(action="certification.certificate.reinstated").exists()


def test_a_certificate_suspended_before_the_window_cannot_be_appealed(suspended, alice,
                                                                       settings):
    suspended.status_history.update(date=DECIDED - datetime.timedelta(days=1))
    with pytest.raises(InvalidInput):
        appeals.lodge_appeal(subject="suspension", grounds=GROUNDS, actor=alice,
                             certificate=suspended)


# --- the API and pages -----------------------------------------------------------------------------

def test_the_api_lodges_and_hides_other_organizations_appeals(refusal, alice, charlie,
                                                               api_client):
    client = api_client(alice)
    answer = client.post("/api/v1/appeals", {
        "subject": "refusal", "grounds": GROUNDS, "decision_id": refusal.pk,
        "attachments": [SimpleUploadedFile("evidence.pdf", PDF)]})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["attachments"] == ["evidence.pdf"] and body["status"] == "lodged"
    assert [a["id"] for a in client.get("/api/v1/appeals").json()] == [body["id"]]
    other = api_client(charlie)
    assert other.get("/api/v1/appeals").json() == []
    assert_error(other.get(f"/api/v1/appeals/{body['id']}"), 404, "not_found")
    assert_error(other.post("/api/v1/appeals", {"subject": "refusal", "grounds": GROUNDS,
                                                "decision_id": refusal.pk}), 404, "not_found")


def test_the_api_refuses_an_involved_panel(appeal, ada, decider, api_client):
    client = api_client(ada)
    client.post(f"/api/v1/appeals/{appeal.pk}/acknowledge")
    assert_error(client.post(f"/api/v1/appeals/{appeal.pk}/panel",
                             {"member_ids": [decider.pk]}, content_type="application/json"),
                 403, "impartiality_threat", "member_ids")


def test_the_client_appeals_from_the_page(refusal, alice, api_client):
    client = api_client(alice)
    assert str(refusal) in client.get("/appeals/").content.decode()
    response = client.post(f"/decisions/{refusal.pk}/appeal/", {"grounds": GROUNDS})
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert client.get(f"/appeals/{appeal.pk}/").status_code == 200
