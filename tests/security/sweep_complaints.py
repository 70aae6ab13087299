"""The tenant sweep's part for complaints and appeals: which object each URL parameter
names, a complaint about Alice's certified organization and Alice's appeal, and everything
a request could change."""

from django.core.files.uploadedfile import SimpleUploadedFile
from factories import make_user

from isocert.audits.models import Finding
from isocert.certification.models import Certificate
from isocert.complaints import appeals, services
from isocert.complaints.models import (
    Appeal,
    AppealAttachment,
    Complaint,
    ComplaintAttachment,
    ComplaintMessage,
)

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

HTML_PK_KINDS = {
    "complaint_client": "complaint",
    "complaint_detail": "complaint",
    "complaint_action": "complaint",
    "complaint_attachment_download": "complaint_attachment",
    "appeal_decision": "decision",
    "appeal_certificate": "certificate",
    "appeal_finding": "finding",
    "appeal_detail": "appeal",
    "appeal_action": "appeal",
    "appeal_attachment_download": "appeal_attachment",
}
HTML_SLUG_VALUES = {
    ("complaint_action", "action"): ["acknowledge", "classify", "assign_investigator",
                                     "record_investigation", "decide", "approve", "return_outcome",
                                     "progress",
                                     "communicate_outcome", "close", "no-such-action"],
    ("appeal_action", "action"): ["acknowledge", "appoint_panel", "stay_suspension",
                                  "record_investigation",
                                  "decide", "close", "no-such-action"],
}
API_PARAM_KINDS = {"complaint_id": "complaint", "appeal_id": "appeal"}
HTML_PUBLIC = {"complaint_public"}        # the public complaints process and its form
HTML_OWN = {"appeal_list"}                # Charlie's own appeals: none of Alice's
HTML_STAFF_ONLY = {"complaint_list"}      # the CB's complaint handlers only
API_PUBLIC = {("post", "/api/v1/public/complaints")}   # anyone may complain; reads nothing
API_OWN_LISTS = {("get", "/api/v1/appeals")}
API_STAFF_ONLY = {("get", "/api/v1/complaints")}
# Lodging an appeal names the decision, certificate or finding in optional form fields the
# sweep does not fill; Charlie naming Alice's decision gets 404 in
# tests/complaints/test_appeals.py::test_the_api_lodges_and_hides_other_organizations_appeals.
API_OWN_CREATES = {("post", "/api/v1/appeals")}
GROUNDS = "Nordlicht sweep appeal grounds: the grading overlooked the evidence."
SUBJECT = "Nordlicht sweep complaint subject"


def build_world(*, organization, alice) -> tuple[dict[str, list[int]], list[str]]:
    """A complaint about Alice's certificate, told to her, and her appeal of a finding's
    grading with an attachment each; returns the ids and telltale names."""
    handler = make_user("hanna.sweep@cb.example", "Hanna Sweep", roles=["administrator"])
    certificate = Certificate.objects.filter(organization=organization).first()
    complaint = services.lodge_complaint(
        name="Paula Sweep", email="paula.sweep@example.org", subject=SUBJECT,
        description="Nordlicht sweep complaint description.",
        attachments=[SimpleUploadedFile("sweep-complaint.pdf", PDF)])
    services.acknowledge_complaint(complaint=complaint, actor=handler)
    services.classify_complaint(complaint=complaint, actor=handler,
                                relates_to="certified_client", certificate=certificate)
    finding = Finding.objects.filter(audit__cycle__organization=organization).first()
    appeal = appeals.lodge_appeal(subject="finding_grade", grounds=GROUNDS, actor=alice,
                                  finding=finding,
                                  attachments=[SimpleUploadedFile("sweep-appeal.pdf", PDF)])
    return {
        "complaint": [complaint.pk],
        "complaint_attachment": list(complaint.attachments.values_list("pk", flat=True)),
        "appeal": [appeal.pk],
        "appeal_attachment": list(appeal.attachments.values_list("pk", flat=True)),
    }, [SUBJECT, GROUNDS, complaint.reference, appeal.reference]


def state(organization) -> dict:
    """Everything of the complaints and appeals a request could have changed."""
    return {
        "complaints": sorted(Complaint.objects.values_list(
            "pk", "status", "relates_to", "certificate_id", "investigator_id",
            "client_response", "outcome", "action", "approved_by_id", "approval_notes",
            "closed_at")),
        "complaint_audits": sorted(Complaint.audits.through.objects.values_list(
            "complaint_id", "audit_id")),
        "complaint_messages": ComplaintMessage.objects.count(),
        "complaint_attachments": ComplaintAttachment.objects.count(),
        "appeals": sorted(Appeal.objects.filter(organization=organization).values_list(
            "pk", "status", "grounds", "suspension_stayed", "stay_reason", "investigation",
            "outcome_reasons", "regraded_from", "regraded_to")),
        "appeals_total": Appeal.objects.count(),
        "appeal_panels": sorted(Appeal.panel.through.objects.values_list("appeal_id",
                                                                         "user_id")),
        "appeal_attachments": AppealAttachment.objects.count(),
    }
