"""The tenant sweep's part for the audit conduct (checklist, records, findings, corrective
actions, reports): which object each URL parameter names, Alice's objects, and everything a
request could change.

``build_world`` runs after the programme's: its ``audit`` ids are every audit of Alice's
(the programme's and the one conducted here), so they replace the programme's list.
"""

from conduct_helpers import ANSWER, PDF, finding_data, make_audit
from django.core.files.uploadedfile import SimpleUploadedFile
from factories import make_user

from isocert.audits.conduct import services as conduct
from isocert.audits.models import (
    Audit,
    AuditRecord,
    AuditReport,
    ClauseCoverage,
    CorrectiveActionResponse,
    Finding,
)
from isocert.registration.models import Application

HTML_PK_KINDS = {
    "audit_conduct": "audit",
    "audit_coverage_update": "coverage",
    "audit_record_add": "audit",
    "audit_record_download": "audit_record",
    "audit_finding_add": "audit",
    "audit_close": "audit",
    "finding_edit": "finding",
    "finding_delete": "finding",
    "audit_findings": "audit",
    "finding_detail": "finding",
    "finding_answer": "finding",
    "finding_review": "finding",
    "ca_evidence_download": "ca_response",
    "audit_report": "audit",
    "audit_report_issue": "audit",
    "audit_report_revision": "audit_report",
    "audit_report_pdf": "audit_report",
}
API_PARAM_KINDS = {
    "audit_id": "audit",
    "coverage_id": "coverage",
    "audit_record_id": "audit_record",
    "finding_id": "finding",
    "ca_response_id": "ca_response",
    "audit_report_id": "audit_report",
}


def build_world(*, organization, alice) -> tuple[dict[str, list[int]], list[str]]:
    """A stage 2 of Alice's in progress: checklist notes, a record with a file, a major
    (answered) and an observation, an issued report with its PDF."""
    lead = make_user("lars.sweep@cb.example", "Lars Sweep", roles=["auditor"])
    application = Application.objects.filter(organization=organization,
                                             status=Application.Status.REGISTERED).first()
    audit = make_audit(application, lead)
    row = audit.coverage.get(clause__number="6.3")
    conduct.update_coverage(coverage=row, actor=lead, covered=True,
                            internal_notes="Nordlicht energy manager seemed unsure")
    record = conduct.add_record(audit=audit, actor=lead, upload=SimpleUploadedFile("r.pdf", PDF),
                                kind="interview", text="Nordlicht shift lead said")
    major = conduct.create_finding(audit=audit, actor=lead, **{
        **finding_data(audit, "major"), "statement": "Nordlicht furnace 2 EnPI missing"})
    conduct.create_finding(audit=audit, actor=lead, **finding_data(audit, "observation"))
    response = conduct.submit_corrective_action(
        finding=major, actor=alice, **{**ANSWER, "correction": "Nordlicht EnPI added"},
        upload=SimpleUploadedFile("enpi.pdf", PDF))
    report = conduct.issue_report(audit=audit, actor=lead, conclusion="Nordlicht conclusion text",
                                                           spent_days="3",
                                                           recommendation="after_majors")
    conduct.render_report_pdf_file(report=report)
    return {
        "audit": sorted(Audit.objects.filter(cycle__organization=organization)
                        .values_list("pk", flat=True)),
        "coverage": [row.pk],
        "audit_record": [record.pk],
        "finding": list(audit.findings.values_list("pk", flat=True)),
        "ca_response": [response.pk],
        "audit_report": [report.pk],
    }, ["Nordlicht energy manager seemed unsure", "Nordlicht shift lead said",
        "Nordlicht furnace 2 EnPI missing", "Nordlicht EnPI added", "Nordlicht conclusion text"]


def state(organization) -> dict:
    """Everything of Alice's audit conduct a request could have changed."""
    audits = Audit.objects.filter(cycle__organization=organization)
    return {
        "audits": sorted(audits.values_list("pk", "status", "spent_days", "closed_at")),
        "coverage": sorted(ClauseCoverage.objects.filter(audit__in=audits).values_list(
            "pk", "covered", "internal_notes")),
        "records": sorted(AuditRecord.objects.filter(audit__in=audits).values_list(
            "pk", "kind", "text", "file_id")),
        "findings": sorted(Finding.objects.filter(audit__in=audits).values_list(
            "pk", "number", "grade", "status", "statement", "plan_due", "verification_due")),
        "responses": sorted(CorrectiveActionResponse.objects.filter(
            finding__audit__in=audits).values_list("pk", "version", "review", "review_comment")),
        "reports": sorted(AuditReport.objects.filter(audit__in=audits).values_list(
            "pk", "revision", "recommendation", "pdf_id")),
    }
