"""The outcome of a complaint is reviewed and approved by a person not involved before the
complainant is told (ISO/IEC 17021-1 §9.8.6), when the investigator decided it — or always,
with the CB's setting ``COMPLAINT_OUTCOME_APPROVAL``: decided → approved → communicated.
Every refusal leaves the complaint and the audit trail as they were."""

import pytest
from django.core import mail
from django.urls import reverse
from helpers.api import assert_error

from isocert.complaints import services
from isocert.complaints.involvement import NotIndependent
from isocert.complaints.models import Complaint
from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent

pytestmark = pytest.mark.django_db
OUTCOME = "Upheld: the client corrected its claims."


@pytest.fixture
def investigated(certificate, ada, vic, django_capture_on_commit_callbacks):
    """A complaint about Nordlicht investigated by Vic, a decision maker not involved who
    also handles complaints."""
    complaint = services.lodge_complaint(
        name="Petra Public", email="petra@example.org", subject="Scope advertised wrongly",
        description="Their website claims ISO 9001 for all plants.")
    services.acknowledge_complaint(complaint=complaint, actor=ada)
    services.classify_complaint(complaint=complaint, actor=ada, relates_to="certified_client",
                                certificate=certificate)
    services.assign_investigator(complaint=complaint, investigator=vic, actor=ada)
    return services.record_complaint_investigation(complaint=complaint, actor=vic,
                                                   investigation="The old page claimed all.")


@pytest.fixture
def decided_by_investigator(investigated, vic):
    return services.decide_complaint(complaint=investigated, actor=vic, outcome=OUTCOME)


def _unchanged(complaint, status="decided"):
    complaint.refresh_from_db()
    assert complaint.status == status
    assert complaint.approved_by is None
    assert not AuditEvent.objects.filter(action="complaints.complaint.approved").exists()


def test_an_outcome_decided_by_the_investigator_is_approved_then_sent(
        investigated, vic, ada, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = services.decide_complaint(complaint=investigated, actor=vic,
                                              outcome=OUTCOME)
    assert complaint.approval_required
    # The other handlers are asked to approve; the investigator-decider is not.
    asked = [m for m in mail.outbox if "awaits your approval" in m.subject]
    assert asked and ada.email in asked[0].to and vic.email not in asked[0].to
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_complaint_outcome(complaint=complaint, actor=ada,
                                           notes="Evidence and reasons checked.")
        services.communicate_complaint_outcome(complaint=complaint, actor=ada)
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.COMMUNICATED
    assert (complaint.approved_by, complaint.approval_notes) == (
        ada, "Evidence and reasons checked.")
    actions = list(AuditEvent.objects.filter(object_type="complaints.complaint")
                   .order_by("seq").values_list("action", flat=True))
    assert actions[-3:] == ["complaints.complaint.decided", "complaints.complaint.approved",
                            "complaints.complaint.outcome_communicated"]
    assert any(m.subject.startswith("Outcome of your complaint") for m in mail.outbox)


def test_the_outcome_is_not_sent_before_approval(decided_by_investigator, ada):
    with pytest.raises(TransitionNotAllowed) as refused:
        services.communicate_complaint_outcome(complaint=decided_by_investigator, actor=ada)
    assert "§9.8.6" in refused.value.message
    _unchanged(decided_by_investigator)
    assert not decided_by_investigator.messages.filter(kind="outcome").exists()


def test_the_investigator_who_decided_may_not_approve(decided_by_investigator, vic):
    with pytest.raises(NotPermitted) as refused:
        services.approve_complaint_outcome(complaint=decided_by_investigator, actor=vic)
    assert "actor" in refused.value.fields
    _unchanged(decided_by_investigator)


def test_an_involved_person_may_not_approve(decided_by_investigator, decider):
    """Dora took the certification decision on Nordlicht's cycle."""
    with pytest.raises(NotIndependent):
        services.approve_complaint_outcome(complaint=decided_by_investigator, actor=decider)
    _unchanged(decided_by_investigator)


def test_someone_who_does_not_handle_complaints_may_not_approve(decided_by_investigator,
                                                                ivan, alice):
    for person in (ivan, alice):
        with pytest.raises(NotPermitted):
            services.approve_complaint_outcome(complaint=decided_by_investigator, actor=person)
    _unchanged(decided_by_investigator)


def test_an_outcome_decided_by_another_handler_needs_no_approval(investigated, ada):
    complaint = services.decide_complaint(complaint=investigated, actor=ada, outcome=OUTCOME)
    assert not complaint.approval_required
    with pytest.raises(TransitionNotAllowed):
        services.approve_complaint_outcome(complaint=complaint, actor=ada)
    _unchanged(complaint)
    services.communicate_complaint_outcome(complaint=complaint, actor=ada)
    assert Complaint.objects.get().status == Complaint.Status.COMMUNICATED


def test_nothing_decided_cannot_be_approved(investigated, ada):
    with pytest.raises(TransitionNotAllowed):
        services.approve_complaint_outcome(complaint=investigated, actor=ada)
    _unchanged(investigated, status="investigated")


def test_with_the_setting_every_outcome_is_approved_by_another(investigated, ada, vic, settings):
    settings.COMPLAINT_OUTCOME_APPROVAL = True
    complaint = services.decide_complaint(complaint=investigated, actor=ada, outcome=OUTCOME)
    assert complaint.approval_required
    with pytest.raises(NotPermitted):   # the person who decided
        services.approve_complaint_outcome(complaint=complaint, actor=ada)
    with pytest.raises(NotPermitted):   # the investigator
        services.approve_complaint_outcome(complaint=complaint, actor=vic)
    _unchanged(complaint)


def test_the_page_offers_the_approval_and_records_it(decided_by_investigator, ada, vic,
                                                     api_client):
    url = reverse("complaint_detail", args=[decided_by_investigator.pk])
    approve = reverse("complaint_action", args=[decided_by_investigator.pk, "approve"])
    page = api_client(ada).get(url).content.decode()
    assert "Review and approve the outcome" in page
    assert "Formal notice of the outcome" not in page
    refused = api_client(vic).post(approve, {"notes": ""})
    assert refused.status_code == 403
    _unchanged(decided_by_investigator)
    ada_client = api_client(ada)
    assert ada_client.post(approve, {"notes": "Checked."}).status_code == 302
    assert Complaint.objects.get().status == Complaint.Status.APPROVED
    page = ada_client.get(url).content.decode()
    assert "Approved by" in page and "Formal notice of the outcome" in page


def test_the_api_approves_and_refuses(decided_by_investigator, ada, vic, charlie, api_client):
    path = f"/api/v1/complaints/{decided_by_investigator.pk}/approval"
    json = "application/json"
    assert_error(api_client(charlie).post(path, {}, content_type=json), 404, "not_found")
    assert_error(api_client(vic).post(path, {}, content_type=json), 403, "forbidden", "actor")
    assert_error(api_client(ada).post(f"/api/v1/complaints/{decided_by_investigator.pk}/outcome",
                                      {"text": ""}, content_type=json),
                 409, "invalid_transition")
    _unchanged(decided_by_investigator)
    response = api_client(ada).post(path, {"notes": "Checked."}, content_type=json)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["approval_required"], body["approved_by_id"]) == (
        "approved", True, ada.pk)


def test_a_reviewer_who_does_not_approve_sends_it_back_for_a_new_decision(
        decided_by_investigator, ada, vic, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = services.return_complaint_outcome(
            complaint=decided_by_investigator, actor=ada,
            reason="The outcome does not answer the scope claim.")
    assert complaint.status == Complaint.Status.INVESTIGATED
    assert any(vic.email in m.to and "not approved" in m.subject for m in mail.outbox)
    assert not any("petra@example.org" in m.to and "Outcome" in m.subject
                   for m in mail.outbox)
    event = AuditEvent.objects.get(action="complaints.complaint.outcome_returned")
    assert event.payload["reason"] == "The outcome does not answer the scope claim."
    # A new decision, again by the investigator, again needs approval.
    complaint = services.decide_complaint(complaint=complaint, actor=vic,
                                          outcome="Upheld; the scope claim is withdrawn.")
    assert complaint.approval_required and complaint.status == Complaint.Status.DECIDED


def test_sending_back_is_refused_like_the_approval_and_without_a_reason(
        decided_by_investigator, ada, vic, decider):
    with pytest.raises(NotPermitted):
        services.return_complaint_outcome(complaint=decided_by_investigator, actor=vic,
                                          reason="Not good.")
    with pytest.raises(NotIndependent):
        services.return_complaint_outcome(complaint=decided_by_investigator, actor=decider,
                                          reason="Not good.")
    with pytest.raises(InvalidInput):
        services.return_complaint_outcome(complaint=decided_by_investigator, actor=ada,
                                          reason=" ")
    _unchanged(decided_by_investigator)
    assert not AuditEvent.objects.filter(action="complaints.complaint.outcome_returned").exists()


def test_the_page_and_api_send_it_back(decided_by_investigator, ada, charlie, api_client):
    pk = decided_by_investigator.pk
    page = api_client(ada).get(reverse("complaint_detail", args=[pk])).content.decode()
    assert "Send back for a new decision" in page
    assert_error(api_client(charlie).post(f"/api/v1/complaints/{pk}/return-outcome",
                                          {"reason": "No."}, content_type="application/json"),
                 404, "not_found")
    assert_error(api_client(ada).post(f"/api/v1/complaints/{pk}/return-outcome",
                                      {"reason": ""}, content_type="application/json"),
                 422, "invalid", "reason")
    _unchanged(decided_by_investigator)
    done = api_client(ada).post(reverse("complaint_action", args=[pk, "return_outcome"]),
                                {"reason": "Answer the scope claim."})
    assert done.status_code == 302
    assert Complaint.objects.get().status == Complaint.Status.INVESTIGATED
    page = api_client(ada).get(reverse("complaint_detail", args=[pk])).content.decode()
    assert "Not approved, back for a new decision: Answer the scope claim." in page
