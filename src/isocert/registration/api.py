"""Applications for registration: drafts, documents and lifecycle transitions."""

import datetime
from decimal import Decimal

from django.http import FileResponse, Http404
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from isocert.accounts import selectors as account_selectors
from isocert.accounts.permissions import organizations_where
from isocert.core.files import stored_file_response
from isocert.core.pagination import PAGINATED, page_window

from . import selectors, services
from .models import Application, PreliminaryAssessment, TransferReview

router = Router(tags=["applications"])


class StandardLineIn(Schema):
    standard: str = Field(..., description='"ISO 9001", "ISO 14001", "ISO 45001", '
                                           '"ISO/IEC 27001" or "ISO 50001"')
    effective_personnel: Decimal | None = Field(None, description="FTE for this standard, above 0")
    complexity: str = Field("", description="ISO 14001: high|medium|low|limited; "
                                            "ISO 45001: high|medium|low")
    annual_energy_consumption_tj: Decimal | None = Field(None, description="ISO 50001, in TJ")
    energy_types: int | None = Field(None, description="ISO 50001")
    significant_energy_uses: int | None = Field(None, description="ISO 50001")


class ApplicationFields(Schema):
    scope_statement: str | None = None
    site_ids: list[int] | None = None
    standards: list[StandardLineIn] | None = None
    consultancy_used: bool | None = None
    consultancy_by: str | None = None
    is_transfer: bool | None = None
    current_cb_name: str | None = None
    current_certificate_number: str | None = None
    current_certificate_expiry: datetime.date | None = None
    current_accreditation_body: str | None = Field(
        None, description="Transfer (IAF MD 2): the current certificate's accreditation body.")
    current_certificate_standard: str | None = Field(
        None, description="Transfer: standard and edition on the current certificate.")
    current_certificate_scope: str | None = Field(
        None, description="Transfer: the scope on the current certificate.")
    current_cycle_decision_date: datetime.date | None = Field(
        None, description="Transfer: date of the decision that started the current cycle.")
    current_cycle_stage: str | None = Field(
        None, description="Transfer: where the current cycle stands — initial, "
                          "surveillance1 or surveillance2 (the last audit held).")
    current_open_nonconformities: str | None = Field(
        None, description="Transfer: nonconformities still open with the current CB.")
    current_complaints: str | None = Field(
        None, description="Transfer: complaints received and the action taken.")
    desired_audit_from: datetime.date | None = None
    desired_audit_to: datetime.date | None = None


class ApplicationCreate(ApplicationFields):
    organization_id: int


class ApplicationPatch(ApplicationFields):
    version: int | None = Field(None, description="The version you read; a stale one is refused.")


class StandardLineOut(Schema):
    standard: str
    edition: str
    effective_personnel: Decimal | None
    complexity: str
    annual_energy_consumption_tj: Decimal | None
    energy_types: int | None
    significant_energy_uses: int | None


class DocumentOut(Schema):
    id: int
    kind: str
    original_name: str
    description: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime.datetime


class MessageOut(Schema):
    kind: str
    text: str
    created_at: datetime.datetime


class ApplicationAssessmentIn(Schema):
    documents_reviewed: bool = False
    scope_clear: bool = False
    sites_personnel_plausible: bool = False
    cb_competent: bool = Field(False, description="CB competent for the standards and sectors")
    impartiality_risk: str = Field("none", description="none | managed | unacceptable")
    notes: str = ""


class ApplicationAssessmentOut(Schema):
    documents_reviewed: bool
    scope_clear: bool
    sites_personnel_plausible: bool
    cb_competent: bool
    impartiality_risk: str
    passed: bool
    outcome: str


class ApplicationOut(Schema):
    id: int
    reference: str
    organization_id: int
    organization: str
    status: str
    version: int
    registration_number: str | None
    scope_statement: str
    site_ids: list[int]
    standards: list[StandardLineOut]
    consultancy_used: bool
    consultancy_by: str
    is_transfer: bool
    current_cb_name: str
    current_certificate_number: str
    current_certificate_expiry: datetime.date | None
    current_accreditation_body: str
    current_certificate_standard: str
    current_certificate_scope: str
    current_cycle_decision_date: datetime.date | None
    current_cycle_stage: str
    current_open_nonconformities: str
    current_complaints: str
    desired_audit_from: datetime.date | None
    desired_audit_to: datetime.date | None
    decline_reason: str
    submitted_at: datetime.datetime | None
    registered_at: datetime.datetime | None
    allowed_actions: list[str]
    missing: dict[str, str] = Field(..., description="What blocks submission (drafts).")
    messages: list[MessageOut]


class TimelineEventOut(Schema):
    at: datetime.datetime
    action: str
    actor: str
    payload: dict


class ReasonIn(Schema):
    reason: str = ""


class MessageIn(Schema):
    message: str


class ResponseIn(Schema):
    response: str


def _application_out(application: Application, user, editable: set[int] | None = None) -> dict:
    lines = list(application.standard_lines.all())
    return {
        **{f: getattr(application, f) for f in (
            "id", "reference", "organization_id", "status", "version", "registration_number",
            "scope_statement", "consultancy_used", "consultancy_by", "is_transfer",
            "current_cb_name", "current_certificate_number", "current_certificate_expiry",
            "current_accreditation_body", "current_certificate_standard",
            "current_certificate_scope", "current_cycle_decision_date", "current_cycle_stage",
            "current_open_nonconformities", "current_complaints",
            "desired_audit_from", "desired_audit_to", "decline_reason", "submitted_at",
            "registered_at")},
        "organization": str(application.organization),
        "site_ids": sorted(s.pk for s in application.sites.all()),
        "standards": [{
            "standard": line.standard.code, "edition": line.standard.edition,
            "effective_personnel": line.effective_personnel, "complexity": line.complexity,
            "annual_energy_consumption_tj": line.annual_energy_consumption_tj,
            "energy_types": line.energy_types,
            "significant_energy_uses": line.significant_energy_uses,
        } for line in lines],
        "allowed_actions": selectors.allowed_actions_for(application=application, user=user,
                                                         editable_organizations=editable),
        "missing": services.completeness_problems(application) if application.client_can_edit else {},
        "messages": list(application.messages.all()),
    }


def _reload(request, pk):
    return _application_out(selectors.application_get(user=request.auth, pk=pk), request.auth)


def _fields(payload: Schema) -> dict:
    data = payload.dict(exclude_unset=True)
    data.pop("organization_id", None)
    data.pop("version", None)
    if "standards" in data and data["standards"] is not None:
        data["standards"] = [dict(line) for line in data["standards"]]
    return data


@router.get("/applications", response=list[ApplicationOut],
            summary="Applications I can see (mine; CB reviewers: all submitted)",
            description="Newest first. " + PAGINATED)
def list_applications(request, status: str = "", organization_id: int | None = None,
                      limit: int | None = None, offset: int = 0):
    queryset = selectors.applications_for_user(user=request.auth)
    if status:
        queryset = queryset.filter(status=status)
    if organization_id:
        queryset = queryset.filter(organization_id=organization_id)
    queryset = page_window(queryset.order_by("-created_at", "-pk"), limit=limit, offset=offset)
    editable = organizations_where(request.auth, "edit")
    return [_application_out(a, request.auth, editable)
            for a in queryset.prefetch_related("messages")]


@router.post("/applications", response={201: ApplicationOut}, summary="Start a draft application")
def create_application(request, payload: ApplicationCreate):
    organization = account_selectors.organization_get(user=request.auth,
                                                      pk=payload.organization_id)
    application = services.create_application(organization=organization, actor=request.auth,
                                              **_fields(payload))
    return Status(201, _reload(request, application.pk))


@router.get("/applications/{app_id}", response=ApplicationOut)
def get_application(request, app_id: int):
    return _reload(request, app_id)


@router.patch("/applications/{app_id}", response=ApplicationOut,
              summary="Save changes (draft, or when information was requested)")
def update_application(request, app_id: int, payload: ApplicationPatch):
    application = selectors.application_get(user=request.auth, pk=app_id)
    services.update_application(application=application, actor=request.auth,
                                expected_version=payload.version, **_fields(payload))
    return _reload(request, app_id)


@router.get("/applications/{app_id}/timeline", response=list[TimelineEventOut])
def application_timeline(request, app_id: int):
    application = selectors.application_get(user=request.auth, pk=app_id)
    return [{"at": e.created_at, "action": e.action, "actor": e.actor_label, "payload": e.payload}
            for e in selectors.application_timeline(user=request.auth, application=application)]


@router.get("/applications/{app_id}/documents", response=list[DocumentOut])
def list_documents(request, app_id: int):
    application = selectors.application_get(user=request.auth, pk=app_id)
    return [_document_out(d) for d in application.documents.select_related("file")]


def _document_out(document) -> dict:
    return {"id": document.pk, "kind": document.kind, "original_name": document.original_name,
            "description": document.description, "content_type": document.file.content_type,
            "size": document.file.size, "sha256": document.file.sha256,
            "uploaded_at": document.uploaded_at}


@router.post("/applications/{app_id}/documents", response={201: DocumentOut},
             summary="Upload a supporting document (PDF, Office, image; size-limited)")
def upload_document(request, app_id: int, file: File[UploadedFile],
                    kind: Form[str] = "other", description: Form[str] = ""):
    application = selectors.application_get(user=request.auth, pk=app_id)
    document = services.add_application_document(application=application, actor=request.auth,
                                                 upload=file, kind=kind, description=description)
    return Status(201, _document_out(document))


@router.get("/documents/{doc_id}/download", response={200: None},
            summary="Download a document (as an attachment)")
def download_document(request, doc_id: int):
    document = selectors.document_get(user=request.auth, pk=doc_id)
    return attachment_response(document)


def attachment_response(document) -> FileResponse:
    return stored_file_response(document.file, document.original_name)




@router.delete("/documents/{doc_id}", response={204: None})
def delete_document(request, doc_id: int):
    document = selectors.document_get(user=request.auth, pk=doc_id)
    services.remove_application_document(document=document, actor=request.auth)
    return Status(204, None)


@router.post("/applications/{app_id}/submit", response=ApplicationOut,
             summary="Submit to the CB (owner or editor)")
def submit(request, app_id: int):
    services.submit_application(application=selectors.application_get(user=request.auth, pk=app_id),
                                actor=request.auth)
    return _reload(request, app_id)


@router.post("/applications/{app_id}/resubmit", response=ApplicationOut,
             summary="Answer the CB's request for information")
def resubmit(request, app_id: int, payload: ResponseIn):
    services.resubmit_application(
        application=selectors.application_get(user=request.auth, pk=app_id),
        actor=request.auth, response=payload.response)
    return _reload(request, app_id)


@router.post("/applications/{app_id}/withdraw", response=ApplicationOut,
             summary="Withdraw the application (final)")
def withdraw(request, app_id: int, payload: ReasonIn):
    services.withdraw_application(
        application=selectors.application_get(user=request.auth, pk=app_id),
        actor=request.auth, reason=payload.reason)
    return _reload(request, app_id)


@router.post("/applications/{app_id}/start-review", response=ApplicationOut,
             tags=["review"], summary="Take the application into review (reviewers)")
def start_review(request, app_id: int):
    services.start_review(application=selectors.application_get(user=request.auth, pk=app_id),
                          actor=request.auth)
    return _reload(request, app_id)


@router.post("/applications/{app_id}/request-information", response=ApplicationOut,
             tags=["review"], summary="Ask the client for more information (reviewers)")
def request_information(request, app_id: int, payload: MessageIn):
    services.request_information(
        application=selectors.application_get(user=request.auth, pk=app_id),
        actor=request.auth, message=payload.message)
    return _reload(request, app_id)


@router.put("/applications/{app_id}/assessment", response=ApplicationAssessmentOut, tags=["review"],
            summary="Record the preliminary assessment checklist (reviewers)")
def record_assessment(request, app_id: int, payload: ApplicationAssessmentIn):
    assessment: PreliminaryAssessment = services.record_preliminary_assessment(
        application=selectors.application_get(user=request.auth, pk=app_id),
        actor=request.auth, **payload.dict())
    return {**{f: getattr(assessment, f) for f in PreliminaryAssessment.CHECKS},
            "impartiality_risk": assessment.impartiality_risk, "passed": assessment.passed,
            "outcome": assessment.outcome}


@router.post("/applications/{app_id}/register", response=ApplicationOut, tags=["review"],
             summary="Register the organization (reviewers; needs a passed assessment)")
def register(request, app_id: int):
    services.register_application(
        application=selectors.application_get(user=request.auth, pk=app_id), actor=request.auth)
    return _reload(request, app_id)


@router.post("/applications/{app_id}/decline", response=ApplicationOut, tags=["review"],
             summary="Decline the application with a reason (reviewers)")
def decline(request, app_id: int, payload: ReasonIn):
    services.decline_application(
        application=selectors.application_get(user=request.auth, pk=app_id),
        actor=request.auth, reason=payload.reason)
    return _reload(request, app_id)


# --- the pre-transfer review (IAF MD 2) ----------------------------------------------------------

class TransferReviewIn(Schema):
    certificate_valid: bool = Field(False, description="MD 2 §2.1: valid, within its cycle")
    accredited_by_mla_signatory: bool = Field(
        False, description="MD 2 §2.1: accredited by an IAF MLA signatory body")
    not_suspended: bool = Field(False, description="MD 2 §2.1: not suspended or under "
                                                   "notice of suspension")
    scope_within_accreditation: bool = Field(
        False, description="MD 2 §2.2 b: within this CB's accreditation")
    complaints_addressed: bool = Field(False, description="MD 2 §2.2")
    reports_reviewed: bool = Field(False, description="MD 2 §2.2 d: last audit reports")
    open_majors_closed: bool = Field(False, description="MD 2 §2.2, §2.3")
    visit: str = Field("not_needed", description="not_needed, pending (needed, not held), "
                                                 "satisfactory or unsatisfactory (MD 2 §2.2)")
    visit_date: datetime.date | None = Field(None, description="Required once the visit is held")
    visit_findings: str = Field("", description="Required once the visit is held")
    notes: str = ""


class TransferCheckOut(Schema):
    key: str
    label: str
    ok: bool


class TransferReviewOut(Schema):
    application_id: int
    status: str = Field(..., description="open, accepted, refused (a new initial "
                                         "certification follows) or issued")
    checks: list[TransferCheckOut]
    visit: str
    visit_date: datetime.date | None
    visit_findings: str
    notes: str | None = Field(..., description="The CB's working notes: for its application "
                              "readers and transfer reviewers; null for the client's members.")
    passed: bool = Field(..., description="Every check confirmed and no visit pending or "
                                          "unsatisfactory: the transfer can be accepted")
    failed: list[str]
    reasons: str
    reviewed_by: str
    concluded_at: datetime.datetime | None


class TransferConclusionIn(Schema):
    reasons: str = Field(..., description="Why the transfer is accepted or refused; the "
                                          "client is told")


def _transfer_out(review: TransferReview, user) -> dict:
    return {"application_id": review.application_id, "status": review.status,
            "checks": review.check_rows(), "visit": review.visit,
            "visit_date": review.visit_date, "visit_findings": review.visit_findings,
            "notes": review.notes if selectors.sees_transfer_notes(user) else None,
            "passed": review.passed, "failed": review.failed_checks(),
            "reasons": review.reasons, "reviewed_by": str(review.reviewed_by or ""),
            "concluded_at": review.concluded_at}


@router.get("/applications/{app_id}/transfer-review", response=TransferReviewOut,
            tags=["transfers"], summary="The pre-transfer review (IAF MD 2); 404 until recorded")
def get_transfer_review(request, app_id: int):
    application = selectors.application_get(user=request.auth, pk=app_id)
    review = selectors.transfer_review_of(application=application)
    if review is None:
        raise Http404("No transfer review")
    return _transfer_out(review, request.auth)


@router.put("/applications/{app_id}/transfer-review", response=TransferReviewOut,
            tags=["transfers"],
            summary="Record the pre-transfer review's checks (transfer reviewers)",
            description="IAF MD 2 §2.2: while the transfer application is under review or "
                        "registered and the review is open. 409 once concluded.")
def put_transfer_review(request, app_id: int, payload: TransferReviewIn):
    review = services.record_transfer_review(
        application=selectors.application_get(user=request.auth, pk=app_id),
        actor=request.auth, **payload.dict())
    return _transfer_out(review, request.auth)


@router.post("/applications/{app_id}/transfer-review/accept", response=TransferReviewOut,
             tags=["transfers"], summary="Accept the transfer (transfer reviewers)",
             description="409 naming the failed checks unless every check passed (IAF MD 2 "
                         "§2.2). The decision maker then issues the transferred "
                         "certificate.")
def accept_transfer(request, app_id: int, payload: TransferConclusionIn):
    review = services.conclude_transfer_review(
        application=selectors.application_get(user=request.auth, pk=app_id),
        actor=request.auth, accept=True, reasons=payload.reasons)
    return _transfer_out(review, request.auth)


@router.post("/applications/{app_id}/transfer-review/refuse", response=TransferReviewOut,
             tags=["transfers"], summary="Refuse the transfer (transfer reviewers)",
             description="The application continues as a new initial certification "
                         "(IAF MD 2 §2.2).")
def refuse_transfer(request, app_id: int, payload: TransferConclusionIn):
    review = services.conclude_transfer_review(
        application=selectors.application_get(user=request.auth, pk=app_id),
        actor=request.auth, accept=False, reasons=payload.reasons)
    return _transfer_out(review, request.auth)


# --- audit time and quotations ---------------------------------------------------------------

class AdjustmentIn(Schema):
    reason: str
    percent: Decimal = Field(..., description="Signed, e.g. -10 (mature system) or 10.")


class OverrideIn(Schema):
    value: Decimal = Field(..., description="Days, in half days.")
    justification: str = Field(..., description="Why the figure differs (kept, audit-trailed).")


class AuditTimeIn(Schema):
    adjustments: list[AdjustmentIn] = []
    integration_reduction_percent: Decimal = Field(0, description="0–20, integrated audits only")
    sampling_allowed: bool = Field(False, description="IAF MD 1 multi-site sampling")
    overrides: dict[str, OverrideIn] = Field(
        default_factory=dict,
        description="Keyed by initial_days, stage1_days, surveillance_days or "
                    "recertification_days.")


class AuditTimeOut(Schema):
    initial_days: Decimal | None
    stage1_days: Decimal | None
    stage2_days: Decimal | None
    surveillance_days: Decimal | None
    recertification_days: Decimal | None
    min_onsite_days: Decimal | None
    overrides: dict
    computed: dict = Field(..., description="The engine's result with its explanation.")
    inputs: dict
    determined_at: datetime.datetime


class QuotationOut(Schema):
    id: int
    number: str
    application_id: int
    status: str
    expired: bool
    currency: str
    day_rate: Decimal
    vat_percent: Decimal
    lines: list[dict]
    net_amount: Decimal
    vat_amount: Decimal
    total_amount: Decimal
    valid_until: datetime.date
    issued_at: datetime.datetime
    accepted_at: datetime.datetime | None
    pdf_ready: bool
    audit_time: dict


class QuotationPriceIn(Schema):
    day_rate: Decimal | None = Field(None, description="Per audit day before VAT; the CB's "
                                     "QUOTATION_DAY_RATE when left out.")
    adjustment: Decimal | None = Field(None, description="A discount (negative) or surcharge "
                                       "on the net price, printed with its reason.")
    adjustment_reason: str = Field("", max_length=200)


class QuotationPriceOut(Schema):
    currency: str
    day_rate: Decimal
    vat_percent: Decimal
    lines: list[dict]
    net_amount: Decimal
    vat_amount: Decimal
    total_amount: Decimal


def _quotation_out(quotation) -> dict:
    return {**{f: getattr(quotation, f) for f in (
        "id", "number", "application_id", "status", "currency", "day_rate", "vat_percent",
        "lines", "net_amount", "vat_amount", "total_amount", "valid_until", "issued_at",
        "accepted_at", "audit_time")},
        "expired": quotation.is_expired, "pdf_ready": quotation.pdf_id is not None}


@router.get("/applications/{app_id}/audit-time", response=AuditTimeOut, tags=["review"],
            summary="The audit time fixed at review (404 until determined)")
def get_audit_time(request, app_id: int):
    application = selectors.application_get(user=request.auth, pk=app_id)
    determination = selectors.audit_time_of(user=request.auth, application=application)
    if determination is None:
        raise Http404
    return determination


@router.put("/applications/{app_id}/audit-time", response=AuditTimeOut, tags=["review"],
            summary="Determine the audit time (reviewers)",
            description="Computed from the application's data with the given factors; a "
                        "figure set by hand needs a justification.")
def put_audit_time(request, app_id: int, payload: AuditTimeIn):
    application = selectors.application_get(user=request.auth, pk=app_id)
    services.determine_audit_time(
        application=application, actor=request.auth,
        adjustments=[{"reason": a.reason, "percent": str(a.percent)} for a in payload.adjustments],
        integration_reduction_percent=str(payload.integration_reduction_percent),
        sampling_allowed=payload.sampling_allowed,
        overrides={k: {"value": str(v.value), "justification": v.justification}
                   for k, v in payload.overrides.items()})
    # Read back, so the answer shows the stored figures exactly as GET does ("2.0", not "2").
    return selectors.audit_time_of(user=request.auth, application=application)


@router.get("/applications/{app_id}/quotations", response=list[QuotationOut], tags=["review"])
def list_quotations(request, app_id: int):
    application = selectors.application_get(user=request.auth, pk=app_id)
    return [_quotation_out(q) for q in
            selectors.quotations_for_application(user=request.auth, application=application)]


@router.post("/applications/{app_id}/quotations/preview", response=QuotationPriceOut,
             tags=["review"], summary="Preview a quotation's price (reviewers; nothing is saved)",
             description="The figures POST /applications/{app_id}/quotations would send with the "
                         "same price inputs: the determined audit days (IAF MD 5, not editable "
                         "here) at the day rate, an optional adjustment with its reason, VAT.")
def preview_quotation(request, app_id: int, payload: QuotationPriceIn):
    application = selectors.application_get(user=request.auth, pk=app_id)
    return services.preview_quotation(application=application, actor=request.auth,
                                      **payload.dict())


@router.post("/applications/{app_id}/quotations", response={201: QuotationOut}, tags=["review"],
             summary="Issue a quotation from the audit time (reviewers; supersedes the last)",
             description="The body is optional: without it the CB's day rate applies and "
                         "there is no adjustment.")
def issue_quotation(request, app_id: int, payload: QuotationPriceIn | None = None):
    application = selectors.application_get(user=request.auth, pk=app_id)
    price = payload.dict() if payload is not None else {}
    quotation = services.issue_quotation(application=application, actor=request.auth, **price)
    return Status(201, _quotation_out(selectors.quotation_get(user=request.auth,
                                                              pk=quotation.pk)))


@router.get("/quotations/{quotation_id}", response=QuotationOut, tags=["review"])
def get_quotation(request, quotation_id: int):
    return _quotation_out(selectors.quotation_get(user=request.auth, pk=quotation_id))


@router.post("/quotations/{quotation_id}/accept", response=QuotationOut, tags=["review"],
             summary="Accept the quotation (the organization's owner): it becomes the contract")
def accept_quotation(request, quotation_id: int):
    quotation = selectors.quotation_get(user=request.auth, pk=quotation_id)
    return _quotation_out(services.accept_quotation(quotation=quotation, actor=request.auth))


@router.get("/quotations/{quotation_id}/pdf", response={200: None}, tags=["review"],
            summary="Download the quotation PDF (404 while it is being rendered)")
def quotation_pdf(request, quotation_id: int):
    quotation = selectors.quotation_get(user=request.auth, pk=quotation_id)
    if quotation.pdf is None:
        raise Http404
    return stored_file_response(quotation.pdf, f"{quotation.number}.pdf")
