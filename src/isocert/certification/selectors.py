"""Reads of decisions and certificates, scoped to the user: CB staff see every
certificate; a client sees its organizations' certificates; everything else is 404."""

import datetime

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from isocert.accounts.models import User
from isocert.accounts.permissions import can
from isocert.audits.models import Audit, CertificationCycle
from isocert.registration.models import Application, TransferReview

from .models import (
    CERTIFICATE_LIFECYCLE,
    MANUAL_CERTIFICATE_ACTIONS,
    Certificate,
    CertificateRevision,
    CertificationDecision,
)

# An audit that is neither closed nor cancelled is still to be held.
FINISHED_AUDITS = (Audit.Status.CLOSED, Audit.Status.CANCELLED)


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def sees_all_certificates(user: User) -> bool:
    return _authenticated(user) and can(user, "read_certificates")


def _scoped(queryset: QuerySet, *, user: User, organization: str) -> QuerySet:
    """All of ``queryset`` for CB staff who read certificates, the rows of the user's own
    organizations (reached through ``organization``) for a client, nothing otherwise."""
    if not _authenticated(user):
        return queryset.none()
    if sees_all_certificates(user):
        return queryset
    return queryset.filter(**{f"{organization}__memberships__user": user}).distinct()


def certificates_for_user(*, user: User) -> QuerySet[Certificate]:
    return _scoped(Certificate.objects.filter(organization__isnull=False).select_related(
        "organization", "cycle"), user=user, organization="organization")


def certificate_get(*, user: User, pk) -> Certificate:
    try:
        return certificates_for_user(user=user).get(pk=pk)
    except (Certificate.DoesNotExist, ValueError, TypeError):
        raise Http404("No such certificate")


def revision_get(*, user: User, pk) -> CertificateRevision:
    try:
        revision = CertificateRevision.objects.select_related("certificate", "pdf").get(pk=pk)
    except (CertificateRevision.DoesNotExist, ValueError, TypeError):
        raise Http404("No such revision")
    certificate_get(user=user, pk=revision.certificate_id)
    return revision


def revisions_of(*, certificate: Certificate) -> QuerySet[CertificateRevision]:
    return certificate.revisions.select_related("pdf").order_by("-revision")


def status_history_of(*, certificate: Certificate):
    return certificate.status_history.order_by("date", "pk")


def decisions_for_user(*, user: User) -> QuerySet[CertificationDecision]:
    return _scoped(CertificationDecision.objects.select_related(
        "cycle", "cycle__organization", "certificate", "decided_by", "audit"),
        user=user, organization="cycle__organization")


def decision_get(*, user: User, pk) -> CertificationDecision:
    try:
        return decisions_for_user(user=user).get(pk=pk)
    except (CertificationDecision.DoesNotExist, ValueError, TypeError):
        raise Http404("No such decision")


def decision_cycle_get(*, user: User, pk) -> CertificationCycle:
    """A cycle as the decision maker opens it; other users get 404."""
    if not sees_all_certificates(user):
        raise Http404("No such certification cycle")
    try:
        return CertificationCycle.objects.select_related("organization", "application").get(pk=pk)
    except (CertificationCycle.DoesNotExist, ValueError, TypeError):
        raise Http404("No such certification cycle")


def _audits_awaiting_decision() -> QuerySet[Audit]:
    """Closed stage 2, recertification, scope-extension and edition-transition audits whose
    report has no final grant or refusal yet."""
    decided_audits = CertificationDecision.objects.filter(
        outcome__in=[CertificationDecision.Outcome.GRANT, CertificationDecision.Outcome.REFUSE],
        status=CertificationDecision.Status.FINAL, audit__isnull=False).values("audit_id")
    return Audit.objects.filter(
        kind__in=[Audit.Kind.STAGE2, Audit.Kind.RECERTIFICATION, Audit.Kind.SCOPE_EXTENSION,
                  Audit.Kind.TRANSITION],
        status=Audit.Status.CLOSED).exclude(pk__in=decided_audits)


def _awaiting_decision() -> QuerySet[CertificationCycle]:
    return (CertificationCycle.objects.filter(audits__in=_audits_awaiting_decision()).distinct()
            .select_related("organization").order_by("created_at"))


def cycles_awaiting_decision(*, user: User) -> QuerySet[CertificationCycle]:
    """Cycles with a closed stage 2, recertification, scope-extension or edition-transition
    audit whose report has no decision yet — the decision maker's queue."""
    if not sees_all_certificates(user):
        return CertificationCycle.objects.none()
    return _awaiting_decision()


# --- work queues (composed by the portal's work page and dashboard: docs/work-queues.md) ---

def decisions_pending(*, user: User) -> QuerySet[Audit]:
    """The audits of ``cycles_awaiting_decision`` one by one, for whoever takes decisions
    (ISO/IEC 17021-1 §9.5), due ``DECISION_DUE_DAYS`` after the audit closed with its
    report (``queue_since``)."""
    if not (_authenticated(user) and can(user, "decide")):
        return Audit.objects.none()
    return (_audits_awaiting_decision().select_related("cycle__organization")
            .annotate(queue_since=F("closed_at")).order_by("queue_since", "pk"))


def transfers_to_issue(*, user: User) -> QuerySet[Application]:
    """``transfers_awaiting_issue`` for whoever takes decisions, due ``DECISION_DUE_DAYS``
    after the pre-transfer review was concluded (IAF MD 2 §2.3; ``queue_since``)."""
    if not (_authenticated(user) and can(user, "decide")):
        return Application.objects.none()
    return (transfers_awaiting_issue(user=user)
            .annotate(queue_since=F("transfer_review__concluded_at"))
            .order_by("queue_since", "pk"))


def suspensions_ending(*, user: User) -> QuerySet[Certificate]:
    """Suspended certificates by the day their suspension runs out (ISO/IEC 17021-1 §9.6.5:
    then restored, reduced or withdrawn; at most ``SUSPENSION_MAX_MONTHS``), for whoever
    manages certificate status (``queue_since``)."""
    if not can_manage_status(user):
        return Certificate.objects.none()
    return (Certificate.objects.filter(status=Certificate.Status.SUSPENDED)
            .select_related("organization").annotate(queue_since=F("suspended_until"))
            .order_by(F("queue_since").asc(nulls_last=True), "pk"))


def decisions_pending_for(*, organization_ids: list[int]) -> QuerySet[CertificationCycle]:
    """The same cycles, for a client's work list: these organizations' cycles waiting for
    the certification decision (ISO/IEC 17021-1 §9.5)."""
    return _awaiting_decision().filter(organization_id__in=organization_ids)


def certificates_with_next_audit(*, organization_ids: list[int]) -> QuerySet[Certificate]:
    """These organizations' certificates, each annotated with the next surveillance or
    recertification audit still to be held (``next_audit_due``, ``next_audit_kind``) —
    one query, whatever the number of certificates."""
    ahead = (Audit.objects.filter(cycle_id=OuterRef("cycle_id"),
                                  kind__in=[Audit.Kind.SURVEILLANCE1, Audit.Kind.SURVEILLANCE2,
                                            Audit.Kind.RECERTIFICATION])
             .exclude(status__in=FINISHED_AUDITS).order_by("target_date", "pk"))
    return (Certificate.objects.filter(organization_id__in=organization_ids)
            .annotate(next_audit_due=Subquery(ahead.values("target_date")[:1]),
                      next_audit_kind=Subquery(ahead.values("kind")[:1]))
            .select_related("organization", "cycle").order_by("expiry_date", "pk"))


def surveillance_overdue(audit: Audit, *, today: datetime.date) -> bool:
    """The one overdue rule: past its due date and still to be held."""
    return bool(audit.target_date and audit.target_date < today
                and audit.status not in FINISHED_AUDITS)


def surveillance_due(*, certificate: Certificate,
                     today: datetime.date | None = None) -> list[Audit]:
    """The surveillance and recertification audits of the certificate's cycle, with due
    dates (first within 12 months of the decision, then each calendar year), each with
    ``overdue`` set by ``surveillance_overdue``."""
    if certificate.cycle_id is None:
        return []
    today = today or timezone.localdate()
    audits = list(certificate.cycle.audits.filter(
        Q(kind__in=[Audit.Kind.SURVEILLANCE1, Audit.Kind.SURVEILLANCE2,
                    Audit.Kind.RECERTIFICATION])).order_by("target_date", "pk"))
    for audit in audits:
        audit.overdue = surveillance_overdue(audit, today=today)
    return audits


def can_manage_status(user: User) -> bool:
    return _authenticated(user) and can(user, "manage_certificate_status")


def status_actions(*, certificate: Certificate, user: User) -> list[str]:
    """The lifecycle actions ``user`` may take on the certificate now (a suspension is
    extended once); none for anyone but a decision maker or administrator."""
    if not can_manage_status(user):
        return []
    return [action for action in CERTIFICATE_LIFECYCLE.allowed_actions(certificate.status)
            if action in MANUAL_CERTIFICATE_ACTIONS and not (
                action == "extend_suspension" and certificate.suspension_extended_on)]


def certificate_counts_by_status() -> dict[str, int]:
    """How many certificates are in each status, every status named (for /metrics: an
    operator's figure, not a user's view, so not scoped)."""
    counts = dict.fromkeys(Certificate.Status.values, 0)
    for row in Certificate.objects.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def transfers_awaiting_issue(*, user: User) -> QuerySet[Application]:
    """Transfer applications whose pre-transfer review was accepted and whose certificate
    is not issued yet (IAF MD 2 §2.3) — the decision maker's queue; nothing for others."""
    if not sees_all_certificates(user):
        return Application.objects.none()
    return (Application.objects.filter(transfer_review__status=TransferReview.Status.ACCEPTED)
            .select_related("organization", "transfer_review", "transfer_review__reviewed_by")
            .order_by("transfer_review__concluded_at"))


def transfer_application_get(*, user: User, pk) -> Application:
    """A transfer application as the decision maker opens it; 404 for anyone who does not
    read every certificate and for an application without a pre-transfer review."""
    if not sees_all_certificates(user):
        raise Http404("No such transfer")
    try:
        return (Application.objects.select_related("organization", "transfer_review")
                .prefetch_related("standard_lines__standard", "sites")
                .get(pk=pk, transfer_review__isnull=False))
    except (Application.DoesNotExist, ValueError, TypeError):
        raise Http404("No such transfer")
