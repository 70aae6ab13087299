"""The complaints API: the public contract ``POST /public/complaints`` (no log-in,
rate-limited with the public registry's budget) and the CB's handling, one POST
sub-resource per step (ISO/IEC 17021-1 §9.8)."""

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from isocert.audits.models import Audit
from isocert.core.api import ErrorOut
from isocert.core.errors import InvalidInput
from isocert.core.pagination import PAGINATED, page_window
from isocert.registry.ratelimit import PUBLIC_THROTTLE

from . import selectors, services
from .models import Complaint

router = Router(tags=["complaints"])


class ComplaintIn(Schema):
    name: str = Field(description="The complainant's name.", max_length=150)
    email: str = Field(description="Where the CB sends the acknowledgment and the outcome.",
                       max_length=254)
    organization_name: str | None = Field(None, max_length=200,
                                          description="The organization complained about.")
    certificate_number: str | None = Field(None, max_length=60,
                                           description="Its certificate number, if known.")
    subject: str = Field(max_length=200)
    description: str = Field(max_length=10000)


class ComplaintReceivedOut(Schema):
    reference: str = Field(examples=["CMP-2026-000001"])
    status: str = Field(examples=["received"])


@router.post(
    "/public/complaints", auth=None, throttle=[PUBLIC_THROTTLE],
    response={201: ComplaintReceivedOut, 422: ErrorOut, 429: ErrorOut},
    summary="Lodge a complaint (no log-in)",
    description=(
        "Anyone — a client, a customer of a certified organization, the public — may lodge "
        "a complaint with the certification body (ISO/IEC 17021-1 §9.8; the process is "
        "described at `/complaints/`). Answers 201 with the reference "
        "`CMP-YYYY-NNNNNN` and status `received`; the CB acknowledges it by e-mail. A "
        "missing or bad field answers 422 `invalid` with `fields` naming it, e.g. "
        "`{\"email\": \"Enter a valid e-mail address.\"}`. Attachments go through the page. "
        "Rate-limited per client address with the public registry's budget "
        "(`PUBLIC_API_RATE`, 429 `rate_limited`)."),
)
def lodge_complaint(request, payload: ComplaintIn):
    complaint = services.lodge_complaint(
        name=payload.name, email=payload.email, subject=payload.subject,
        description=payload.description, organization_name=payload.organization_name or "",
        certificate_number=payload.certificate_number or "")
    return Status(201, {"reference": complaint.reference, "status": complaint.status})


# --- the CB's handling ---------------------------------------------------------------------------

class ComplaintMessageOut(Schema):
    kind: str
    text: str
    created_at: datetime.datetime


class ComplaintOut(Schema):
    id: int
    reference: str
    status: str = Field(description="received, acknowledged, classified, investigating, "
                        "investigated, decided, approved, communicated or closed.")
    name: str
    email: str
    organization_name: str
    certificate_number: str
    subject: str
    description: str
    received_at: datetime.datetime
    relates_to: str = Field(description="cb_activities or certified_client; empty until "
                            "classified.")
    organization_id: int | None
    certificate_id: int | None
    audit_ids: list[int]
    client_response: str
    investigator_id: int | None
    investigation: str
    outcome: str
    action: str
    special_audit_id: int | None
    decided_by_id: int | None
    approval_required: bool = Field(description="The outcome is approved by another "
                                    "handler before it is sent (§9.8.6).")
    approved_by_id: int | None
    approval_notes: str
    due: dict[str, datetime.date] = Field(description="Time targets: acknowledge, "
                                          "client_notice, outcome (settings; the outcome target "
                                          "is met when the complainant is told).")
    overdue: list[str]
    messages: list[ComplaintMessageOut]


def _out(complaint: Complaint) -> dict:
    return {
        **{field: getattr(complaint, field) for field in (
            "id", "reference", "status", "name", "email", "organization_name",
            "certificate_number", "subject", "description", "received_at", "relates_to",
            "organization_id", "certificate_id", "client_response", "investigator_id",
            "investigation", "outcome", "action", "special_audit_id", "decided_by_id",
            "approval_required", "approved_by_id", "approval_notes")},
        "audit_ids": sorted(audit.pk for audit in complaint.audits.all()),
        "due": services.due_dates(complaint),
        "overdue": services.overdue_reasons(complaint, timezone.localdate())
        if complaint.is_open else [],
        "messages": [{"kind": m.kind, "text": m.text, "created_at": m.created_at}
                     for m in complaint.messages.all()],
    }


class ComplaintClassifyIn(Schema):
    relates_to: str = Field(description="`cb_activities` or `certified_client`.")
    certificate_id: int | None = Field(None, description="Required for a certified client.")
    audit_ids: list[int] = Field([], description="The audits complained about.")
    notes: str = ""


class ComplaintInvestigatorIn(Schema):
    investigator_id: int


class ComplaintTextIn(Schema):
    text: str


class ComplaintInvestigationIn(Schema):
    investigation: str


class ComplaintDecisionIn(Schema):
    outcome: str
    action: str = Field("none", description="`none`, `short_notice_audit` or `suspension`.")
    action_reason: str = ""


class ComplaintApprovalIn(Schema):
    notes: str = Field("", description="What the approver reviewed (optional).")


class ComplaintResponseIn(Schema):
    response: str


def _complaint(request, complaint_id: int) -> Complaint:
    return selectors.complaint_get(user=request.auth, pk=complaint_id)


@router.get("/complaints", response={200: list[ComplaintOut], 404: ErrorOut},
            summary="Complaints (CB staff)",
            description="Every complaint for the CB's complaint handlers; an investigator "
                        "sees the ones assigned to them. Others: 404. Newest first. "
                        + PAGINATED)
def list_complaints(request, status: str = "", limit: int | None = None, offset: int = 0):
    # Each complaint's audits and messages read for the page at once (issue #19).
    complaints = page_window(selectors.complaints_for_staff(user=request.auth, status=status)
                             .order_by("-received_at", "-pk"), limit=limit, offset=offset)
    return [_out(c) for c in complaints.prefetch_related("audits", "messages")]


@router.get("/complaints/{complaint_id}", response=ComplaintOut, summary="One complaint")
def get_complaint(request, complaint_id: int):
    return _out(_complaint(request, complaint_id))


@router.post("/complaints/{complaint_id}/acknowledge", response=ComplaintOut,
             summary="Acknowledge receipt (e-mail with the reference to the complainant)")
def acknowledge(request, complaint_id: int):
    return _out(services.acknowledge_complaint(complaint=_complaint(request, complaint_id),
                                               actor=request.auth))


@router.post("/complaints/{complaint_id}/classify", response=ComplaintOut,
             summary="Say what the complaint relates to",
             description="The CB's certification activities, or a certified client: then "
                         "`certificate_id` links it to the client's certificate and the "
                         "client's members are told by e-mail and may respond.")
def classify(request, complaint_id: int, payload: ComplaintClassifyIn):
    complaint = _complaint(request, complaint_id)
    certificate = None
    if payload.certificate_id is not None:
        certificate = get_object_or_404(selectors.certificates_for_classification(),
                                        pk=payload.certificate_id)
    audits = list(Audit.objects.filter(pk__in=payload.audit_ids))
    if len(audits) != len(set(payload.audit_ids)):
        raise InvalidInput("Unknown audit.", fields={"audit_ids": "Choose existing audits."})
    return _out(services.classify_complaint(
        complaint=complaint, actor=request.auth, relates_to=payload.relates_to,
        certificate=certificate, audits=audits, notes=payload.notes))


@router.post("/complaints/{complaint_id}/investigator", response=ComplaintOut,
             summary="Assign the investigator",
             description="Refused with 403 `impartiality_threat` naming `investigator_id` "
                         "for anyone involved: a team member of the audits concerned, the "
                         "decision maker or the application's reviewer.")
def investigator(request, complaint_id: int, payload: ComplaintInvestigatorIn):
    complaint = _complaint(request, complaint_id)
    person = get_object_or_404(selectors.staff_choices(), pk=payload.investigator_id)
    return _out(services.assign_investigator(complaint=complaint, investigator=person,
                                             actor=request.auth))


@router.post("/complaints/{complaint_id}/investigation", response=ComplaintOut,
             summary="Record the investigation (the investigator)")
def investigation(request, complaint_id: int, payload: ComplaintInvestigationIn):
    return _out(services.record_complaint_investigation(
        complaint=_complaint(request, complaint_id), actor=request.auth,
        investigation=payload.investigation))


@router.post("/complaints/{complaint_id}/decision", response=ComplaintOut,
             summary="Decide the outcome and the actions",
             description="By a person not involved (403 `impartiality_threat`). "
                         "`short_notice_audit` adds a special audit to the certificate's "
                         "cycle, `suspension` suspends the certificate, each through its "
                         "own service and rules.")
def decision(request, complaint_id: int, payload: ComplaintDecisionIn):
    return _out(services.decide_complaint(
        complaint=_complaint(request, complaint_id), actor=request.auth,
        outcome=payload.outcome, action=payload.action, action_reason=payload.action_reason))


@router.post("/complaints/{complaint_id}/approval", response=ComplaintOut,
             summary="Review and approve the decided outcome",
             description="ISO/IEC 17021-1 §9.8.6: needed when the outcome was decided by the "
                         "complaint's investigator, or always with the CB's setting "
                         "`COMPLAINT_OUTCOME_APPROVAL` (`approval_required`); the outcome is "
                         "sent only once approved. By a complaint handler not involved "
                         "(403 `impartiality_threat`) other than the investigator and the "
                         "person who decided (403 `forbidden`). 409 when no approval is "
                         "needed or nothing is decided.")
def approval(request, complaint_id: int, payload: ComplaintApprovalIn):
    return _out(services.approve_complaint_outcome(
        complaint=_complaint(request, complaint_id), actor=request.auth, notes=payload.notes))


class ComplaintReturnIn(Schema):
    reason: str = Field(description="Why the outcome is not approved; the decider is told.")


@router.post("/complaints/{complaint_id}/return-outcome", response=ComplaintOut,
             summary="Do not approve the outcome: back for a new decision",
             description="ISO/IEC 17021-1 §9.8.6: the reviewer who would approve sends the "
                         "outcome back with a reason (status `investigated`); the same rules "
                         "as the approval, and 422 without a reason. Actions already taken "
                         "with the decision stand.")
def return_outcome(request, complaint_id: int, payload: ComplaintReturnIn):
    return _out(services.return_complaint_outcome(
        complaint=_complaint(request, complaint_id), actor=request.auth, reason=payload.reason))


@router.post("/complaints/{complaint_id}/progress", response=ComplaintOut,
             summary="Report progress to the complainant (e-mail)")
def progress(request, complaint_id: int, payload: ComplaintTextIn):
    return _out(services.report_complaint_progress(
        complaint=_complaint(request, complaint_id), actor=request.auth, text=payload.text))


@router.post("/complaints/{complaint_id}/outcome", response=ComplaintOut,
             summary="Give the complainant formal notice of the outcome (e-mail)",
             description="409 while an outcome that needs approval is not approved.")
def outcome(request, complaint_id: int, payload: ComplaintTextIn):
    return _out(services.communicate_complaint_outcome(
        complaint=_complaint(request, complaint_id), actor=request.auth, text=payload.text))


@router.post("/complaints/{complaint_id}/close", response=ComplaintOut,
             summary="Close the complaint (the end of the process)")
def close(request, complaint_id: int):
    return _out(services.close_complaint(complaint=_complaint(request, complaint_id),
                                         actor=request.auth))


class ClientComplaintOut(Schema):
    id: int
    reference: str
    status: str
    subject: str
    description: str
    certificate_number: str
    client_response: str


@router.post("/complaints/{complaint_id}/client-response", response=ClientComplaintOut,
             summary="The certified client responds to a complaint about it",
             description="For owners and editors of the organization, once the CB told "
                         "them of the complaint; the complainant's identity is not shown.")
def client_response(request, complaint_id: int, payload: ComplaintResponseIn):
    complaint = selectors.complaint_for_client(user=request.auth, pk=complaint_id)
    complaint = services.respond_to_complaint(complaint=complaint, actor=request.auth,
                                              response=payload.response)
    return {"id": complaint.pk, "reference": complaint.reference, "status": complaint.status,
            "subject": complaint.subject, "description": complaint.description,
            "certificate_number": complaint.certificate.number if complaint.certificate else "",
            "client_response": complaint.client_response}



