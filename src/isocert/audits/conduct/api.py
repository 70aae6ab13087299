"""The audit conduct API: checklist, records, findings, corrective actions, reports, closing.

Reads go through the scoped selectors (what the caller may not see is 404); the checklist and
the records are CB working papers (404 for the client). Transitions are POST sub-resources;
refusals answer the shared error shape.
"""

import datetime
from decimal import Decimal

from django.http import Http404
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from isocert.core.files import stored_file_response

from ..programme.models import Audit
from . import selectors
from . import services as conduct
from .models import AuditRecord, AuditReport, ClauseCoverage, Finding

router = Router(tags=["audit conduct"])


# --- schemas -----------------------------------------------------------------------------------

class CoverageOut(Schema):
    id: int
    clause_id: int
    clause: str = Field(..., description='Standard and number, e.g. "ISO 9001 8.5"')
    title: str
    covered: bool
    internal_notes: str = Field(..., description="CB only")


class CoverageIn(Schema):
    covered: bool | None = None
    internal_notes: str | None = None


class RecordOut(Schema):
    id: int
    kind: str
    text: str
    clause_id: int | None
    site_id: int | None
    has_file: bool
    created_by: str | None
    created_at: datetime.datetime


class FindingIn(Schema):
    grade: str = Field(..., description="major | minor | observation | opportunity")
    clause_id: int = Field(..., description="A clause of the audited standards")
    statement: str
    objective_evidence: str
    site_id: int | None = None


class FindingPatch(Schema):
    grade: str | None = None
    clause_id: int | None = None
    statement: str | None = None
    objective_evidence: str | None = None
    site_id: int | None = None


class FindingOut(Schema):
    id: int
    audit_id: int
    number: int
    grade: str
    clause_id: int
    clause: str
    statement: str
    objective_evidence: str
    site_id: int | None
    site: str | None
    status: str
    plan_due: datetime.date | None
    verification_due: datetime.date | None
    overdue: str = Field(..., description='Why it is late, or ""')


class ResponseOut(Schema):
    id: int
    version: int
    correction: str
    root_cause: str
    corrective_action: str
    evidence_name: str
    has_evidence: bool
    submitted_by: str | None
    submitted_at: datetime.datetime
    review: str
    review_comment: str
    reviewed_by: str | None
    reviewed_at: datetime.datetime | None


class ReviewIn(Schema):
    comment: str = Field("", description="Required to return an answer")


class ReportIn(Schema):
    conclusion: str
    positive_notes: str = ""
    spent_days: Decimal | None = Field(None, description="Auditor days spent (half days)")
    areas_of_concern: str = Field("", description="Stage 1")
    ready_for_stage2: bool | None = Field(None, description="Stage 1: required")
    recommendation: str = Field("", description="Not stage 1: recommend | after_majors | "
                                                "do_not_recommend")


class ReportRevise(ReportIn):
    correction_reason: str


class ReportOut(Schema):
    id: int
    audit_id: int
    revision: int
    superseded: bool
    issued_at: datetime.datetime
    issued_by: str | None
    conclusion: str
    positive_notes: str
    areas_of_concern: str
    ready_for_stage2: bool | None
    recommendation: str
    correction_reason: str
    has_pdf: bool
    content: dict = Field(..., description="What the report showed when issued")


class AuditStatusOut(Schema):
    id: int
    kind: str
    status: str
    closed_at: datetime.datetime | None


# --- helpers -----------------------------------------------------------------------------------

def _cb_audit(request, audit_id: int) -> Audit:
    audit = selectors.audit_get(user=request.auth, pk=audit_id)
    if not selectors.is_cb_side(request.auth, audit):
        raise Http404("No such audit")
    return audit


def _coverage_out(row: ClauseCoverage) -> dict:
    return {"id": row.pk, "clause_id": row.clause_id,
            "clause": f"{row.clause.standard.code} {row.clause.number}",
            "title": row.clause.title, "covered": row.covered,
            "internal_notes": row.internal_notes}


def _record_out(record: AuditRecord) -> dict:
    return {"id": record.pk, "kind": record.kind, "text": record.text,
            "clause_id": record.clause_id, "site_id": record.site_id,
            "has_file": record.file_id is not None,
            "created_by": str(record.created_by) if record.created_by else None,
            "created_at": record.created_at}


def _finding_out(finding: Finding) -> dict:
    return {**{f: getattr(finding, f) for f in (
        "id", "audit_id", "number", "grade", "clause_id", "statement", "objective_evidence",
        "site_id", "status", "plan_due", "verification_due")},
        "clause": f"{finding.clause.standard.code} {finding.clause.number}",
        "site": finding.site.name if finding.site else None,
        "overdue": conduct.overdue_reason(finding)}


def _finding(request, finding_id: int) -> dict:
    return _finding_out(selectors.finding_get(user=request.auth, pk=finding_id))


def _response_out(response) -> dict:
    return {**{f: getattr(response, f) for f in (
        "id", "version", "correction", "root_cause", "corrective_action", "evidence_name",
        "submitted_at", "review", "review_comment", "reviewed_at")},
        "has_evidence": response.evidence_id is not None,
        "submitted_by": str(response.submitted_by) if response.submitted_by else None,
        "reviewed_by": str(response.reviewed_by) if response.reviewed_by else None}


def _report_out(report: AuditReport, latest_revision: int) -> dict:
    return {**{f: getattr(report, f) for f in (
        "id", "audit_id", "revision", "issued_at", "conclusion", "positive_notes",
        "areas_of_concern", "ready_for_stage2", "recommendation", "correction_reason",
        "content")},
        "superseded": report.revision < latest_revision,
        "issued_by": str(report.issued_by) if report.issued_by else None,
        "has_pdf": report.pdf_id is not None}


def _latest_revision(audit: Audit) -> int:
    return selectors.reports_of(audit=audit).values_list("revision", flat=True).first() or 0


# --- checklist and records ---------------------------------------------------------------------

@router.get("/audits/{audit_id}/coverage", response=list[CoverageOut],
            summary="The checklist by clause, with internal notes (CB only)")
def list_coverage(request, audit_id: int):
    audit = _cb_audit(request, audit_id)
    return [_coverage_out(r) for r in selectors.coverage_of(user=request.auth, audit=audit)]


@router.put("/audit-coverage/{coverage_id}", response=CoverageOut,
            summary="Tick a clause as covered, keep internal notes (team, audit in progress)")
def update_coverage(request, coverage_id: int, payload: CoverageIn):
    row = conduct.update_coverage(
        coverage=selectors.coverage_get(user=request.auth, pk=coverage_id), actor=request.auth,
        covered=payload.covered, internal_notes=payload.internal_notes)
    return _coverage_out(row)


@router.get("/audits/{audit_id}/records", response=list[RecordOut],
            summary="Document reviews, interviews, site observations (CB only)")
def list_records(request, audit_id: int):
    audit = _cb_audit(request, audit_id)
    return [_record_out(r) for r in selectors.records_of(user=request.auth, audit=audit)]


@router.post("/audits/{audit_id}/records", response={201: RecordOut},
             summary="Keep a record with an optional evidence file (team, audit in progress)")
def add_record(request, audit_id: int, kind: Form[str], text: Form[str],
               clause_id: Form[int | None] = None, site_id: Form[int | None] = None,
               file: File[UploadedFile] = None):
    record = conduct.add_record(
        audit=_cb_audit(request, audit_id), actor=request.auth, upload=file,
        kind=kind, text=text, clause_id=clause_id, site_id=site_id)
    return Status(201, _record_out(record))


@router.get("/audit-records/{audit_record_id}/download", response={200: None},
            summary="Download a record's evidence file (CB only)")
def download_record(request, audit_record_id: int):
    record = selectors.record_get(user=request.auth, pk=audit_record_id)
    if record.file is None:
        raise Http404("This record has no file")
    return stored_file_response(record.file, f"audit-record-{record.pk}")


# --- findings ----------------------------------------------------------------------------------

@router.get("/audits/{audit_id}/findings", response=list[FindingOut],
            summary="The audit's findings with their corrective-action status")
def list_findings(request, audit_id: int):
    audit = selectors.audit_get(user=request.auth, pk=audit_id)
    return [_finding_out(f) for f in selectors.findings_of(audit=audit)]


@router.post("/audits/{audit_id}/findings", response={201: FindingOut},
             summary="Record a graded finding (team, audit in progress)")
def create_finding(request, audit_id: int, payload: FindingIn):
    audit = selectors.audit_get(user=request.auth, pk=audit_id)
    finding = conduct.create_finding(audit=audit, actor=request.auth, **payload.dict())
    return Status(201, _finding(request, finding.pk))


@router.get("/findings/{finding_id}", response=FindingOut)
def get_finding(request, finding_id: int):
    return _finding(request, finding_id)


@router.patch("/findings/{finding_id}", response=FindingOut,
              summary="Change a finding (team, audit in progress, not yet answered)")
def update_finding(request, finding_id: int, payload: FindingPatch):
    conduct.update_finding(finding=selectors.finding_get(user=request.auth, pk=finding_id),
                           actor=request.auth, **payload.dict(exclude_unset=True))
    return _finding(request, finding_id)


@router.delete("/findings/{finding_id}", response={204: None},
               summary="Delete a finding (team, audit in progress, not yet answered)")
def delete_finding(request, finding_id: int):
    conduct.delete_finding(finding=selectors.finding_get(user=request.auth, pk=finding_id),
                           actor=request.auth)
    return Status(204, None)


# --- corrective actions ------------------------------------------------------------------------

@router.get("/findings/{finding_id}/responses", response=list[ResponseOut],
            summary="Every version of the client's answer, newest first, with its review")
def list_responses(request, finding_id: int):
    finding = selectors.finding_get(user=request.auth, pk=finding_id)
    return [_response_out(r) for r in selectors.responses_of(finding=finding)]


@router.post("/findings/{finding_id}/responses", response={201: ResponseOut},
             summary="Answer a nonconformity: correction, root cause, corrective action, "
                     "evidence (client owner or editor)")
def submit_response(request, finding_id: int, correction: Form[str], root_cause: Form[str],
                    corrective_action: Form[str], evidence: File[UploadedFile] = None):
    response = conduct.submit_corrective_action(
        finding=selectors.finding_get(user=request.auth, pk=finding_id), actor=request.auth,
        upload=evidence, correction=correction,
                         root_cause=root_cause,
                         corrective_action=corrective_action)
    return Status(201, _response_out(response))


def _review(request, finding_id: int, decision: str, payload: ReviewIn | None) -> dict:
    conduct.review_corrective_action(
        finding=selectors.finding_get(user=request.auth, pk=finding_id), actor=request.auth,
        decision=decision, comment=payload.comment if payload else "")
    return _finding(request, finding_id)


@router.post("/findings/{finding_id}/accept", response=FindingOut,
             summary="Accept the answered plan (team)")
def accept_response(request, finding_id: int, payload: ReviewIn | None = None):
    return _review(request, finding_id, "accept", payload)


@router.post("/findings/{finding_id}/return", response=FindingOut,
             summary="Return the answer with comments (team; comment required)")
def return_response(request, finding_id: int, payload: ReviewIn | None = None):
    return _review(request, finding_id, "return", payload)


@router.post("/findings/{finding_id}/verify", response=FindingOut,
             summary="Verify a major nonconformity's implementation (team)")
def verify_response(request, finding_id: int, payload: ReviewIn | None = None):
    return _review(request, finding_id, "verify", payload)


@router.get("/ca-responses/{ca_response_id}/evidence", response={200: None},
            summary="Download the evidence file of an answer")
def download_response_evidence(request, ca_response_id: int):
    response = selectors.ca_response_get(user=request.auth, pk=ca_response_id)
    if response.evidence is None:
        raise Http404("This answer has no evidence file")
    return stored_file_response(response.evidence,
                                response.evidence_name or f"evidence-v{response.version}")


# --- report and closing ------------------------------------------------------------------------

@router.get("/audits/{audit_id}/reports", response=list[ReportOut],
            summary="Every revision of the audit report, newest first")
def list_reports(request, audit_id: int):
    audit = selectors.audit_get(user=request.auth, pk=audit_id)
    reports = list(selectors.reports_of(audit=audit))
    latest = reports[0].revision if reports else 0
    return [_report_out(r, latest) for r in reports]


@router.post("/audits/{audit_id}/reports", response={201: ReportOut},
             summary="Issue the report to the client (lead auditor; its PDF follows)")
def issue_report(request, audit_id: int, payload: ReportIn):
    report = conduct.issue_report(audit=selectors.audit_get(user=request.auth, pk=audit_id),
                                  actor=request.auth, **payload.dict())
    return Status(201, _report_out(report, report.revision))


@router.post("/audits/{audit_id}/reports/revise", response={201: ReportOut},
             summary="Correct the issued report: a new revision with the reason")
def revise_report(request, audit_id: int, payload: ReportRevise):
    data = payload.dict()
    reason = data.pop("correction_reason")
    report = conduct.revise_report(audit=selectors.audit_get(user=request.auth, pk=audit_id),
                                   actor=request.auth, **data, correction_reason=reason)
    return Status(201, _report_out(report, report.revision))


@router.get("/audit-reports/{audit_report_id}", response=ReportOut)
def get_report(request, audit_report_id: int):
    report = selectors.report_get(user=request.auth, pk=audit_report_id)
    return _report_out(report, _latest_revision(report.audit))


@router.get("/audit-reports/{audit_report_id}/pdf", response={200: None},
            summary="Download a report revision as PDF (404 while it is being rendered)")
def report_pdf(request, audit_report_id: int):
    report = selectors.report_get(user=request.auth, pk=audit_report_id)
    if report.pdf is None:
        raise Http404("The PDF is being rendered")
    return stored_file_response(report.pdf, f"audit-report-{report.audit_id}-rev"
                                            f"{report.revision}.pdf")


@router.post("/audits/{audit_id}/close", response=AuditStatusOut,
             summary="Close the audit (lead auditor; the report must be issued)",
             description="Refused with 409 naming `start_date` before the audit's first "
                         "day: an audit closes once its dates have begun.")
def close_audit(request, audit_id: int):
    audit = conduct.close_audit(audit=selectors.audit_get(user=request.auth, pk=audit_id),
                                actor=request.auth)
    return {"id": audit.pk, "kind": audit.kind, "status": audit.status,
            "closed_at": audit.closed_at}
