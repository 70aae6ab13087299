"""Reads of an audit's conduct, scoped to who is asking through the programme's
``audit_get``: findings, answers and reports are seen by whoever sees the audit; the
checklist (with its internal notes) and the audit records are CB working papers, 404 for
the client."""

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404

from isocert.accounts.models import User
from isocert.accounts.permissions import can

from ..programme.models import Audit, TeamMember
from ..programme.selectors import audit_get, can_manage_programme, is_cb_side
from .models import AuditRecord, AuditReport, ClauseCoverage, CorrectiveActionResponse, Finding


def findings_of(*, audit: Audit):
    """The findings of an audit the caller already holds (got through ``audit_get``)."""
    return audit.findings.select_related("clause", "clause__standard", "site").order_by("number")


def finding_get(*, user: User, pk):
    try:
        finding = Finding.objects.select_related("audit", "clause", "clause__standard",
                                                 "site").get(pk=pk)
    except (Finding.DoesNotExist, ValueError, TypeError):
        raise Http404("No such finding")
    finding.audit = audit_get(user=user, pk=finding.audit_id)
    return finding


def responses_of(*, finding):
    return finding.responses.select_related("submitted_by", "reviewed_by", "evidence").order_by(
        "-version")


def ca_response_get(*, user: User, pk):
    try:
        response = CorrectiveActionResponse.objects.select_related("finding", "evidence").get(
            pk=pk)
    except (CorrectiveActionResponse.DoesNotExist, ValueError, TypeError):
        raise Http404("No such answer")
    audit_get(user=user, pk=response.finding.audit_id)
    return response


def coverage_of(*, user: User, audit: Audit):
    """The checklist of an audit: CB side only (it carries internal notes)."""
    if not is_cb_side(user, audit):
        return ClauseCoverage.objects.none()
    return audit.coverage.select_related("clause", "clause__standard").order_by(
        "clause__standard__code", "clause__position")


def coverage_get(*, user: User, pk):
    try:
        coverage = ClauseCoverage.objects.select_related("audit", "clause").get(pk=pk)
    except (ClauseCoverage.DoesNotExist, ValueError, TypeError):
        raise Http404("No such checklist row")
    coverage.audit = audit_get(user=user, pk=coverage.audit_id)
    if not is_cb_side(user, coverage.audit):
        raise Http404("No such checklist row")
    return coverage


def records_of(*, user: User, audit: Audit):
    """The audit records (the auditor's working papers): CB side only."""
    if not is_cb_side(user, audit):
        return AuditRecord.objects.none()
    return audit.records.select_related("clause", "site", "file", "created_by").order_by(
        "created_at", "pk")


def record_get(*, user: User, pk):
    try:
        record = AuditRecord.objects.select_related("audit", "file").get(pk=pk)
    except (AuditRecord.DoesNotExist, ValueError, TypeError):
        raise Http404("No such record")
    record.audit = audit_get(user=user, pk=record.audit_id)
    if not is_cb_side(user, record.audit):
        raise Http404("No such record")
    return record


def reports_of(*, audit: Audit):
    """Every revision, newest first."""
    return audit.reports.select_related("issued_by", "pdf").order_by("-revision")


def report_get(*, user: User, pk):
    try:
        report = AuditReport.objects.select_related("audit", "pdf", "issued_by").get(pk=pk)
    except (AuditReport.DoesNotExist, ValueError, TypeError):
        raise Http404("No such report")
    report.audit = audit_get(user=user, pk=report.audit_id)
    return report


# --- the client's work list (the portal's dashboard composes these) -------------------------

def findings_to_answer(*, organization_ids: list[int]):
    """Nonconformities whose next step is the client's (ISO/IEC 17021-1 §9.4.9): a
    correction and corrective-action plan to send (open or returned), or, for a major
    whose plan was accepted, the evidence of implementation."""
    return (Finding.objects.filter(audit__cycle__organization_id__in=organization_ids)
            .filter(Q(status__in=[Finding.Status.OPEN, Finding.Status.RETURNED])
                    | Q(status=Finding.Status.PLAN_ACCEPTED, grade=Finding.Grade.MAJOR))
            .select_related("audit__cycle__organization", "clause")
            .order_by(F("plan_due").asc(nulls_last=True), "pk"))


def findings_with_the_cb(*, organization_ids: list[int]):
    """Answers the client sent that the CB has still to review."""
    return (Finding.objects.filter(audit__cycle__organization_id__in=organization_ids,
                                   status=Finding.Status.SUBMITTED)
            .select_related("audit__cycle__organization", "clause").order_by("pk"))


# --- work queues (composed by the portal's work page and dashboard: docs/work-queues.md) ---

def reports_due(*, user: User) -> QuerySet[Audit]:
    """Audits in progress without an issued report (ISO/IEC 17021-1 §9.4.8: the lead auditor
    reports on every audit), due ``AUDIT_REPORT_DAYS`` after the audit's last day
    (``queue_since``). A lead auditor sees the audits they lead, programme managers every
    one."""
    if not getattr(user, "is_authenticated", False):
        return Audit.objects.none()
    queryset = (Audit.objects.filter(status=Audit.Status.IN_PROGRESS)
                .exclude(Exists(AuditReport.objects.filter(audit=OuterRef("pk"))))
                .select_related("cycle__organization").annotate(queue_since=F("end_date")))
    if not can_manage_programme(user):
        if not can(user, "audit"):
            return Audit.objects.none()
        queryset = queryset.filter(team__auditor=user, team__role=TeamMember.Role.LEAD)
    return queryset.order_by("queue_since", "pk")


def corrective_actions_to_review(*, user: User) -> QuerySet[CorrectiveActionResponse]:
    """The client's answers to nonconformities waiting for the audit team's review
    (ISO/IEC 17021-1 §9.4.10: the CB reviews the correction, causes and corrective action),
    for the auditors on that audit's team (only they may review them); due
    ``CORRECTIVE_ACTION_REVIEW_DAYS`` after the answer came (``queue_since``)."""
    if not (getattr(user, "is_authenticated", False) and can(user, "audit")):
        return CorrectiveActionResponse.objects.none()
    return (CorrectiveActionResponse.objects
            .filter(review=CorrectiveActionResponse.Review.PENDING,
                    finding__status=Finding.Status.SUBMITTED,
                    finding__audit__team__auditor=user)
            .select_related("finding__clause", "finding__audit__cycle__organization")
            .annotate(queue_since=F("submitted_at"))
            .order_by("queue_since", "pk"))
