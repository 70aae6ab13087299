"""The certification API for CB staff and clients: the decision checklist, decisions, the
user's certificates with their revisions, status history and surveillance due dates, and
the certificate lifecycle (suspend, restore, extend the suspension once, withdraw) and its
confidentiality in the public directory.

Reads go through the scoped selectors: a cycle, decision or certificate the caller may not
see answers 404 as if it did not exist. A rule a service refuses answers the shared error
shape with the service's status (422 invalid input, 403 not permitted, 409 conflict).
"""

import datetime

from django.http import Http404
from django.urls import reverse
from ninja import Field, Router, Schema, Status

from isocert.core.errors import InvalidInput
from isocert.core.files import stored_file_response
from isocert.core.pagination import PAGINATED, page_window

from . import decision_checks, lifecycle, selectors, services, signals, transfers
from .models import Certificate, CertificateRevision, CertificationDecision

router = Router(tags=["certificates"])


# --- schemas -----------------------------------------------------------------------------------

class DecisionCheckOut(Schema):
    key: str = Field(..., description="Stable key, e.g. majors_closed, energy_improvement")
    label: str
    ok: bool
    detail: str = Field(..., description="What was found (for ISO 50001 the energy figures)")


class OpenMatterOut(Schema):
    kind: str = Field(..., description="complaint or appeal")
    reference: str
    status: str
    subject: str


class ChecklistOut(Schema):
    cycle_id: int
    kind: str = Field(..., description="initial, recertification, scope_extension, "
                                       "scope_reduction or transition")
    audit_id: int | None = Field(None, description="The closed audit whose report is reviewed")
    checks: list[DecisionCheckOut]
    ready: bool = Field(..., description="Every item met: a grant is possible")
    independence_problems: list[str] = Field(
        ..., description="Why the caller may not take this decision (empty when they may)")
    open_matters: list[OpenMatterOut] = Field(
        ..., description="Complaints and appeals about the client still open (ISO/IEC "
        "17021-1 §9.7, §9.8): for the decision maker to weigh; they do not block a grant")


class DecisionIn(Schema):
    kind: str = Field(..., description="initial, recertification, scope_extension, "
                                       "scope_reduction or transition")
    outcome: str = Field(..., description="grant, refuse or defer")
    decision_date: datetime.date | None = Field(None, description="Default today; never in "
                                                "the future nor before the audit's last day")
    effective_date: datetime.date | None = Field(None, description="Default the decision date")
    reason: str = Field("", description="Required to refuse, defer or reduce the scope")
    scope: str = Field("", description="The certified scope; default the current one")
    site_scopes: dict[str, str] = Field(default_factory=dict,
                                        description="{site id: scope at that site}")
    site_ids: list[int] | None = Field(
        None, description="The certified sites (ids of sites the application applied for, "
        "the central function among them). Default: all sites applied for at the initial "
        "decision, the certificate's current sites later; an extension may add sites, a "
        "reduction leave some out")
    soa_version: str = Field("", description="ISO/IEC 27001: the Statement of "
                                             "Applicability version")
    energy_statement: str = Field("", description="ISO 50001: the decision maker's "
                                  "statement; the portal's energy data is used when present")


class DecisionOut(Schema):
    id: int
    cycle_id: int
    audit_id: int | None
    kind: str
    outcome: str
    decision_date: datetime.date
    reason: str
    checks: list[DecisionCheckOut] = Field(..., description="The checklist as the decision "
                                                          "maker saw it")
    scope: str
    site_scopes: dict[str, str]
    site_ids: list[int] = Field(..., description="The certified sites after a grant")
    energy_statement: str
    has_energy_evidence: bool
    decided_by: str
    decided_at: datetime.datetime
    certificate_id: int | None
    certificate_number: str | None


class CertificateSiteOut(Schema):
    site_id: int | None = Field(None, description="The organization's site (empty for "
                                "imported certificates)")
    name: str
    address: str
    city: str
    postcode: str
    country: str
    scope: str
    is_central_function: bool


class RevisionOut(Schema):
    id: int
    revision: int
    reason: str
    issued_at: datetime.datetime
    superseded_at: datetime.datetime | None = Field(None, description="Set once a later "
                                                    "revision replaced this one")
    has_pdf: bool = Field(..., description="False while the PDF is being rendered")
    pdf_url: str = Field(..., description="GET it for the PDF (404 while rendering)")
    qr_url: str = Field(..., description="The signed verification address printed as QR code")


class CertificateStatusChangeOut(Schema):
    status: str
    date: datetime.date
    reason: str


class SurveillanceOut(Schema):
    audit_id: int
    kind: str
    status: str
    due_date: datetime.date | None
    overdue: bool


class CertificateSummaryOut(Schema):
    id: int
    number: str
    public_code: str
    status: str = Field(..., description="Active, Suspended, Withdrawn or Expired")
    organization_id: int | None
    organization_name: str
    standards: list[str] = Field(..., description='With edition, e.g. "ISO 50001:2018"')
    scope: str
    original_issue_date: datetime.date
    issue_date: datetime.date
    expiry_date: datetime.date
    suspended_until: datetime.date | None
    revision: int
    confidential: bool = Field(..., description="Left out of the public directory and export")


class CertificateOut(CertificateSummaryOut):
    cycle_id: int | None
    decision_date: datetime.date | None
    soa_version: str
    verify_url: str
    sites: list[CertificateSiteOut]
    revisions: list[RevisionOut]
    status_history: list[CertificateStatusChangeOut]
    surveillance: list[SurveillanceOut]
    suspension_extended_on: datetime.date | None = Field(
        None, description="The suspension was extended (once) on this day")
    withdrawal_due: datetime.date | None = Field(
        None, description="The suspension has run out: the certificate is withdrawn "
        "automatically on this day unless the CB restores it, reduces its scope or extends "
        "the suspension")
    allowed_actions: list[str] = Field(..., description="Lifecycle actions the caller may "
                                       "take now: suspend, restore, extend_suspension, "
                                       "withdraw")


class LifecycleIn(Schema):
    reason: str = Field(..., description="Why; at least 5 characters")
    date: datetime.date | None = Field(None, description="Default today; never in the future")
    until: datetime.date | None = Field(None, description="Suspension only: the last day, at "
                                        "most 6 months on (default the longest allowed)")


class ExtendSuspensionIn(Schema):
    reason: str = Field(..., description="Why the suspension is extended; at least 5 "
                        "characters")
    until: datetime.date = Field(..., description="The new last day: after the current one, "
                                 "at most SUSPENSION_EXTENSION_MAX_MONTHS (default 3) months "
                                 "later")


# --- output ------------------------------------------------------------------------------------

def _checks(checks) -> list[dict]:
    return [c if isinstance(c, dict) else {"key": c.key, "label": c.label, "ok": c.ok,
                                          "detail": c.detail} for c in checks]


def _decision_out(decision: CertificationDecision) -> dict:
    return {
        "id": decision.pk, "cycle_id": decision.cycle_id, "audit_id": decision.audit_id,
        "kind": decision.kind, "outcome": decision.outcome,
        "decision_date": decision.decision_date, "reason": decision.reason,
        "checks": _checks(decision.checks), "scope": decision.scope,
        "site_scopes": decision.site_scopes, "site_ids": decision.site_ids,
        "energy_statement": decision.energy_statement,
        "has_energy_evidence": decision.energy_evidence_id is not None,
        "decided_by": str(decision.decided_by), "decided_at": decision.decided_at,
        "certificate_id": decision.certificate_id,
        "certificate_number": decision.certificate.number if decision.certificate else None,
    }


def _summary_out(certificate: Certificate) -> dict:
    return {
        "id": certificate.pk, "number": certificate.number,
        "public_code": certificate.public_code, "status": certificate.status,
        "organization_id": certificate.organization_id,
        "organization_name": certificate.organization_name,
        "standards": certificate.standard_labels, "scope": certificate.scope,
        "original_issue_date": certificate.original_issue_date,
        "issue_date": certificate.issue_date, "expiry_date": certificate.expiry_date,
        "suspended_until": certificate.suspended_until, "revision": certificate.revision,
        "confidential": certificate.confidential,
    }


def _revision_out(revision: CertificateRevision) -> dict:
    return {
        "id": revision.pk, "revision": revision.revision, "reason": revision.reason,
        "issued_at": revision.issued_at, "superseded_at": revision.superseded_at,
        "has_pdf": revision.pdf_id is not None,
        "pdf_url": reverse("api:certificate_revision_pdf", args=[revision.pk]),
        "qr_url": revision.content.get("qr_url", ""),
    }


def _certificate_out(certificate: Certificate, user) -> dict:
    return {
        **_summary_out(certificate),
        "cycle_id": certificate.cycle_id, "decision_date": certificate.decision_date,
        "soa_version": certificate.soa_version,
        "verify_url": reverse("verify_certificate", args=[certificate.public_code]),
        "sites": list(certificate.sites.all()),
        "revisions": [_revision_out(r) for r in selectors.revisions_of(certificate=certificate)],
        "status_history": list(selectors.status_history_of(certificate=certificate)),
        "surveillance": [
            {"audit_id": a.pk, "kind": a.kind, "status": a.status, "due_date": a.target_date,
             "overdue": a.overdue}
            for a in selectors.surveillance_due(certificate=certificate)],
        "suspension_extended_on": certificate.suspension_extended_on,
        "withdrawal_due": lifecycle.withdrawal_due(certificate),
        "allowed_actions": selectors.status_actions(certificate=certificate, user=user),
    }


# --- decisions ---------------------------------------------------------------------------------

@router.get("/cycles/{cycle_id}/decision-checklist", response=ChecklistOut,
            summary="What a grant needs, each item with what was found (CB staff)")
def decision_checklist(request, cycle_id: int, kind: str = CertificationDecision.Kind.INITIAL):
    cycle = selectors.decision_cycle_get(user=request.auth, pk=cycle_id)
    if kind not in CertificationDecision.Kind.values:
        raise InvalidInput("Unknown kind of decision.", fields={
            "kind": "initial, recertification, scope_extension or scope_reduction."})
    certificate = decision_checks.current_certificate(cycle)
    audit, checks = decision_checks.decision_checklist(
        cycle=cycle, kind=kind, soa_version=certificate.soa_version if certificate else "")
    return {"cycle_id": cycle.pk, "kind": kind, "audit_id": audit.pk if audit else None,
            "checks": _checks(checks), "ready": all(c.ok for c in checks),
            "independence_problems": decision_checks.decider_problems(request.auth, cycle),
            "open_matters": signals.open_matters(organization_id=cycle.organization_id)}


@router.post("/cycles/{cycle_id}/decisions", response={201: DecisionOut},
             summary="Record the certification decision; a grant issues, renews or revises "
                     "the certificate (decision makers not involved in the audit)")
def create_decision(request, cycle_id: int, payload: DecisionIn):
    cycle = selectors.decision_cycle_get(user=request.auth, pk=cycle_id)
    decision = services.decide(cycle=cycle, actor=request.auth, **payload.dict())
    return Status(201, _decision_out(decision))


@router.get("/decisions/{decision_id}", response=DecisionOut)
def get_decision(request, decision_id: int):
    return _decision_out(selectors.decision_get(user=request.auth, pk=decision_id))


# --- certificates ------------------------------------------------------------------------------

@router.get("/certificates", response=list[CertificateSummaryOut],
            summary="Your certificates (CB staff: every certificate issued in the portal)",
            description="By organization name and number. " + PAGINATED)
def list_certificates(request, status: str | None = None, limit: int | None = None,
                      offset: int = 0):
    certificates = selectors.certificates_for_user(user=request.auth).order_by("name_key",
                                                                              "number", "pk")
    if status:
        certificates = certificates.filter(status=status)
    return [_summary_out(c) for c in page_window(certificates, limit=limit, offset=offset)]


@router.get("/certificates/{certificate_id}", response=CertificateOut)
def get_certificate(request, certificate_id: int):
    certificate = selectors.certificate_get(user=request.auth, pk=certificate_id)
    return _certificate_out(certificate, request.auth)


def _lifecycle(request, certificate_id: int, call, payload: LifecycleIn, **extra):
    certificate = selectors.certificate_get(user=request.auth, pk=certificate_id)
    certificate = call(certificate=certificate, actor=request.auth, reason=payload.reason,
                       date=payload.date, **extra)
    return _certificate_out(certificate, request.auth)


@router.post("/certificates/{certificate_id}/suspend", response=CertificateOut,
             summary="Suspend an active certificate (decision makers, administrators)")
def suspend_certificate(request, certificate_id: int, payload: LifecycleIn):
    return _lifecycle(request, certificate_id, lifecycle.suspend_certificate, payload,
                      until=payload.until)


@router.post("/certificates/{certificate_id}/restore", response=CertificateOut,
             summary="Restore a suspended certificate (decision makers, administrators)")
def restore_certificate(request, certificate_id: int, payload: LifecycleIn):
    return _lifecycle(request, certificate_id, lifecycle.restore_certificate, payload)


@router.post("/certificates/{certificate_id}/extend-suspension", response=CertificateOut,
             summary="Extend a suspension once, with a reason and a new end within "
                     "SUSPENSION_EXTENSION_MAX_MONTHS (decision makers, administrators)")
def extend_suspension(request, certificate_id: int, payload: ExtendSuspensionIn):
    certificate = selectors.certificate_get(user=request.auth, pk=certificate_id)
    certificate = lifecycle.extend_suspension(certificate=certificate, actor=request.auth,
                                              reason=payload.reason, until=payload.until)
    return _certificate_out(certificate, request.auth)


@router.post("/certificates/{certificate_id}/withdraw", response=CertificateOut,
             summary="Withdraw an active or suspended certificate (decision makers, "
                     "administrators)")
def withdraw_certificate(request, certificate_id: int, payload: LifecycleIn):
    return _lifecycle(request, certificate_id, lifecycle.withdraw_certificate, payload)


class ConfidentialityIn(Schema):
    confidential: bool = Field(..., description="true: left out of the public directory and "
                                                "export (verification still answers)")
    reason: str = Field(..., description="Why; at least 5 characters")


@router.post("/certificates/{certificate_id}/confidentiality", response=CertificateOut,
             summary="Mark a certificate confidential or public (decision makers, "
                     "administrators)")
def set_confidentiality(request, certificate_id: int, payload: ConfidentialityIn):
    certificate = selectors.certificate_get(user=request.auth, pk=certificate_id)
    certificate = lifecycle.set_certificate_confidentiality(
        certificate=certificate, confidential=payload.confidential, reason=payload.reason,
        actor=request.auth)
    return _certificate_out(certificate, request.auth)


@router.get("/certificates/revisions/{revision_id}/pdf", response={200: None},
            url_name="certificate_revision_pdf",
            summary="Download a revision's certificate PDF (404 while it is being rendered)")
def revision_pdf(request, revision_id: int):
    revision = selectors.revision_get(user=request.auth, pk=revision_id)
    if revision.pdf is None:
        raise Http404("The PDF is being rendered")
    return stored_file_response(revision.pdf, f"certificate-{revision.certificate.number}"
                                              f"-rev{revision.revision}.pdf")


# --- transfer of certification (IAF MD 2) --------------------------------------------------------

class TransferIssueIn(Schema):
    decision_date: datetime.date | None = Field(
        None, description="Default today; never in the future nor before the pre-transfer "
                          "review's conclusion")
    effective_date: datetime.date | None = Field(None, description="Default the decision date")
    site_ids: list[int] | None = Field(None, description="The certified sites; default every "
                                                         "site applied for")


@router.post("/transfers/{app_id}/issue", response={201: DecisionOut}, tags=["transfers"],
             summary="Issue the certificate of an accepted transfer (decision makers)",
             description="IAF MD 2 §2.3: the certificate keeps the current certificate's "
                         "expiry and continues its cycle — the programme plans only the "
                         "surveillance and recertification audits still due, with the "
                         "previous cycle's due dates; the previous CB is named in the "
                         "certificate's history. 409 unless the pre-transfer review accepted "
                         "the transfer; 403 for the person who reviewed it.")
def issue_transfer(request, app_id: int, payload: TransferIssueIn):
    application = selectors.transfer_application_get(user=request.auth, pk=app_id)
    decision = transfers.issue_transfer(application=application, actor=request.auth,
                                       **payload.dict())
    return Status(201, _decision_out(decision))
