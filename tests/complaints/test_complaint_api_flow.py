"""A complaint about a certified client handled end to end through the API (issue #17,
ISO/IEC 17021-1 §9.8): lodged on ``POST /api/v1/public/complaints`` without an account,
then every step a POST sub-resource of ``/api/v1/complaints/{id}`` — with the CB's setting
that every outcome is approved by a second handler (§9.8.6) — and after each step the
status the API answers, the audit event and the e-mails. And the refusals in the API's one
error shape: an involved investigator or decider, a client member or another tenant."""

import pytest
from complaint_helpers import last_event, subjects_to
from django.core import mail
from django.test import Client
from factories import client_for
from helpers.api import assert_error

from isocert.certification.models import Certificate
from isocert.complaints.models import Complaint
from isocert.core.models import AuditEvent

pytestmark = pytest.mark.django_db

PETRA = "petra@example.org"
JSON = "application/json"


def post(client, path: str, payload: dict | None = None, *, capture) -> dict:
    """POST one step, after-commit e-mails sent; the complaint as the API answers it."""
    with capture(execute=True):
        response = client.post(f"/api/v1{path}", payload or {}, content_type=JSON)
    assert response.status_code in (200, 201), response.content
    return response.json()


@pytest.fixture
def lodged(certificate, ada, django_capture_on_commit_callbacks) -> Complaint:
    """Petra lodges a complaint about Nordlicht through the public API, no log-in."""
    body = post(Client(), "/public/complaints", {
        "name": "Petra Public", "email": PETRA, "subject": "Scope advertised wrongly",
        "description": "Their website claims ISO 9001 for all plants.",
        "certificate_number": certificate.number},
        capture=django_capture_on_commit_callbacks)
    complaint = Complaint.objects.get()
    assert body == {"reference": complaint.reference, "status": "received"}
    return complaint


def test_a_complaint_about_a_certified_client_from_lodging_to_closing(
        lodged, certificate, ada, rita, ivan, vic, alice, settings,
        django_capture_on_commit_callbacks):
    settings.COMPLAINT_OUTCOME_APPROVAL = True
    capture = django_capture_on_commit_callbacks
    complaint = lodged
    base = f"/complaints/{complaint.pk}"
    ada_api = client_for(ada)
    assert last_event(complaint.pk) == ("complaints.complaint.received", "received")
    assert f"New complaint {complaint.reference}: Scope advertised wrongly" in subjects_to(
        ada.email)
    listed = ada_api.get("/api/v1/complaints?status=received").json()
    assert [c["reference"] for c in listed] == [complaint.reference]
    assert listed[0]["certificate_id"] == certificate.pk   # the number matched

    assert post(ada_api, f"{base}/acknowledge", capture=capture)["status"] == "acknowledged"
    assert last_event(complaint.pk) == ("complaints.complaint.acknowledged", "acknowledged")
    acknowledgment = [m for m in mail.outbox if PETRA in m.to][0]
    assert acknowledgment.subject == f"Your complaint {complaint.reference} was received"
    assert complaint.reference in acknowledgment.body

    body = post(ada_api, f"{base}/classify", {"relates_to": "certified_client",
                                              "certificate_id": certificate.pk},
                capture=capture)
    assert (body["status"], body["relates_to"], body["organization_id"]) == (
        "classified", "certified_client", certificate.organization_id)
    assert last_event(complaint.pk) == ("complaints.complaint.classified", "classified")
    notice = [m for m in mail.outbox if alice.email in m.to]
    assert [m.subject for m in notice] == [
        f"A complaint about your certified organization ({complaint.reference})"]
    assert "petra" not in notice[0].body.lower()

    answer = post(client_for(alice), f"{base}/client-response",
                  {"response": "Our website was fixed on Monday."}, capture=capture)
    assert answer["client_response"] == "Our website was fixed on Monday."
    assert "email" not in answer and "name" not in answer   # no complainant's identity
    assert last_event(complaint.pk) == ("complaints.complaint.client_responded", "classified")
    assert f"The client responded to complaint {complaint.reference}" in subjects_to(ada.email)

    body = post(ada_api, f"{base}/investigator", {"investigator_id": ivan.pk}, capture=capture)
    assert (body["status"], body["investigator_id"]) == ("investigating", ivan.pk)
    assert last_event(complaint.pk) == ("complaints.complaint.investigator_assigned",
                                        "investigating")
    assert subjects_to(ivan.email) == [f"You investigate complaint {complaint.reference}"]

    body = post(ada_api, f"{base}/progress",
                {"text": "We are checking the website and the scope."}, capture=capture)
    assert body["messages"][-1]["kind"] == "progress"
    assert last_event(complaint.pk) == ("complaints.complaint.progress_reported",
                                        "investigating")
    progress = [m for m in mail.outbox if PETRA in m.to][-1]
    assert progress.subject == f"Progress on your complaint {complaint.reference}"
    assert "checking the website" in progress.body

    # The investigator sees the complaint assigned to him and records what he found.
    ivan_api = client_for(ivan)
    assert ivan_api.get(f"/api/v1{base}").json()["status"] == "investigating"
    body = post(ivan_api, f"{base}/investigation",
                {"investigation": "The old page claimed all plants."}, capture=capture)
    assert body["status"] == "investigated"
    assert last_event(complaint.pk) == ("complaints.complaint.investigated", "investigated")

    # Vic, not involved, decides and suspends the certificate (through its own service).
    body = post(client_for(vic), f"{base}/decision",
                {"outcome": "Upheld: misleading certification claims.",
                 "action": "suspension"}, capture=capture)
    assert (body["status"], body["action"], body["approval_required"]) == (
        "decided", "suspension", True)
    assert last_event(complaint.pk) == ("complaints.complaint.decided", "decided")
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.SUSPENDED
    assert f"Complaint {complaint.reference}: the outcome awaits your approval" in \
        subjects_to(rita.email)
    # Not approved yet: the formal notice is refused.
    assert_error(ada_api.post(f"/api/v1{base}/outcome", {"text": ""}, content_type=JSON),
                 409, "invalid_transition")

    body = post(ada_api, f"{base}/approval", {"notes": "Evidence checked."}, capture=capture)
    assert (body["status"], body["approved_by_id"]) == ("approved", ada.pk)
    assert last_event(complaint.pk) == ("complaints.complaint.approved", "approved")

    body = post(ada_api, f"{base}/outcome", {"text": ""}, capture=capture)
    assert body["status"] == "communicated"
    assert last_event(complaint.pk) == ("complaints.complaint.outcome_communicated",
                                        "communicated")
    outcome = [m for m in mail.outbox if PETRA in m.to][-1]
    assert outcome.subject == f"Outcome of your complaint {complaint.reference}"
    assert "misleading certification claims" in outcome.body

    body = post(ada_api, f"{base}/close", capture=capture)
    assert (body["status"], body["overdue"]) == ("closed", [])
    assert last_event(complaint.pk) == ("complaints.complaint.closed", "closed")
    assert ada_api.get(f"/api/v1{base}").json()["status"] == "closed"
    assert subjects_to(PETRA) == [
        f"Your complaint {complaint.reference} was received",
        f"Progress on your complaint {complaint.reference}",
        f"Outcome of your complaint {complaint.reference}"]
    assert [m["kind"] for m in body["messages"]] == [
        "acknowledgment", "client_notice", "client_response", "progress", "outcome"]


# --- refusals in the API --------------------------------------------------------------------------

@pytest.fixture
def classified(lodged, certificate, ada, django_capture_on_commit_callbacks) -> Complaint:
    api = client_for(ada)
    post(api, f"/complaints/{lodged.pk}/acknowledge", capture=django_capture_on_commit_callbacks)
    post(api, f"/complaints/{lodged.pk}/classify",
         {"relates_to": "certified_client", "certificate_id": certificate.pk},
         capture=django_capture_on_commit_callbacks)
    return Complaint.objects.get()


def test_an_involved_investigator_is_refused(classified, ada, lead):
    events = AuditEvent.objects.count()
    error = assert_error(
        client_for(ada).post(f"/api/v1/complaints/{classified.pk}/investigator",
                             {"investigator_id": lead.pk}, content_type=JSON),
        403, "impartiality_threat", "investigator_id", exact_fields=True)
    assert error["fields"]["investigator_id"] == "Adam Lead was on the audit team (Stage 2)."
    complaint = Complaint.objects.get()
    assert (complaint.status, complaint.investigator) == ("classified", None)
    assert AuditEvent.objects.count() == events


def test_an_involved_decider_is_refused(classified, ada, ivan, decider,
                                        django_capture_on_commit_callbacks):
    post(client_for(ada), f"/complaints/{classified.pk}/investigator",
         {"investigator_id": ivan.pk}, capture=django_capture_on_commit_callbacks)
    post(client_for(ivan), f"/complaints/{classified.pk}/investigation",
         {"investigation": "The old page claimed all plants."},
         capture=django_capture_on_commit_callbacks)
    events = AuditEvent.objects.count()
    error = assert_error(
        client_for(decider).post(f"/api/v1/complaints/{classified.pk}/decision",
                                 {"outcome": "Dismissed.", "action": "suspension"},
                                 content_type=JSON),
        403, "impartiality_threat", "actor", exact_fields=True)
    assert "took the certification decision" in error["fields"]["actor"]
    complaint = Complaint.objects.get()
    assert (complaint.status, complaint.outcome, complaint.decided_by) == (
        "investigated", "", None)
    assert Certificate.objects.get().status == Certificate.Status.ACTIVE
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("who", ["alice", "charlie"])
def test_a_client_member_or_another_tenant_gets_404(classified, who, request):
    api = client_for(request.getfixturevalue(who))
    assert_error(api.get("/api/v1/complaints"), 404, "not_found")
    assert_error(api.get(f"/api/v1/complaints/{classified.pk}"), 404, "not_found")
    for step in ("acknowledge", "close", "progress", "outcome", "decision"):
        assert api.post(f"/api/v1/complaints/{classified.pk}/{step}", {"text": "x",
                        "outcome": "x"}, content_type=JSON).status_code == 404
    assert Complaint.objects.get().status == "classified"


def test_another_tenant_may_not_respond_for_the_client(classified, charlie):
    assert_error(client_for(charlie).post(f"/api/v1/complaints/{classified.pk}/client-response",
                                          {"response": "Not mine."}, content_type=JSON),
                 404, "not_found")
    assert Complaint.objects.get().client_response == ""
