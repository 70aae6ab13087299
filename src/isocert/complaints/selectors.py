"""Reads on complaints and appeals, scoped to the user: "missing" and "not yours" are both
404, so ids cannot be probed."""

import datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from isocert.accounts.models import User
from isocert.accounts.permissions import can, member_roles_with
from isocert.audits.models import Finding
from isocert.certification.models import Certificate, CertificationDecision

from .models import Appeal, AppealAttachment, Complaint, ComplaintAttachment
from .services import BEFORE_TOLD, overdue_reasons


def handles_complaints(user) -> bool:
    return can(user, "handle_complaints")


def complaints_for_staff(*, user: User, status: str = "") -> QuerySet[Complaint]:
    """Every complaint, for the CB staff who handle them; the investigators see theirs."""
    queryset = Complaint.objects.select_related("organization", "certificate", "investigator")
    if not handles_complaints(user):
        if not user.is_authenticated or not user.staff_roles_set:
            raise Http404("Not CB staff")
        queryset = queryset.filter(investigator=user)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def complaint_get(*, user: User, pk) -> Complaint:
    """A complaint for the CB's handling: its handlers, or the investigator assigned."""
    return get_object_or_404(complaints_for_staff(user=user), pk=pk)


def complaint_for_client(*, user: User, pk) -> Complaint:
    """A complaint about the user's organization, once the CB told the client of it."""
    if not user.is_authenticated:
        raise Http404
    return get_object_or_404(
        Complaint.objects.select_related("organization", "certificate"),
        pk=pk, client_notified_at__isnull=False,
        organization__memberships__user=user,
        organization__memberships__role__in=member_roles_with("read"))


def attachment_get(*, user: User, pk) -> ComplaintAttachment:
    attachment = get_object_or_404(ComplaintAttachment.objects.select_related("file"), pk=pk)
    complaint_get(user=user, pk=attachment.complaint_id)
    return attachment


def open_complaints_for_organization(*, organization_id: int | None) -> QuerySet[Complaint]:
    """Open complaints about a client (its record and the decision checklist)."""
    return Complaint.objects.filter(organization_id=organization_id).exclude(
        status=Complaint.Status.CLOSED).select_related("certificate")


def open_complaints_on_record(*, user: User, organization_id: int,
                              today: datetime.date) -> list[tuple[Complaint, list[str]]]:
    """The open complaints about a client, with what is late on each, for its record at the
    CB (the organization's page), oldest first: for the complaint handlers only. A complaint
    about a client is the CB's record (ISO/IEC 17021-1 §9.8): its members learn of it when
    the CB tells them (``classify_complaint``, §9.8.4) and see it on ``complaint_for_client``
    alone — here, for anyone else, nothing."""
    if not handles_complaints(user):
        return []
    return [(complaint, overdue_reasons(complaint, today)) for complaint in
            open_complaints_for_organization(organization_id=organization_id)
            .order_by("received_at", "pk")]


def overdue_complaints(*, user: User, today: datetime.date) -> list[tuple[Complaint, list[str]]]:
    """Open complaints past a time target, with what is late (the CB's queue)."""
    if not handles_complaints(user):
        return []
    result = []
    for complaint in Complaint.objects.filter(status__in=BEFORE_TOLD).order_by("received_at"):
        reasons = overdue_reasons(complaint, today)
        if reasons:
            result.append((complaint, reasons))
    return result


def staff_choices() -> QuerySet[User]:
    """Active CB staff: who may be picked as investigator or panel member."""
    return User.objects.filter(is_active=True, staff_roles__isnull=False).distinct() \
        .order_by("full_name", "email")


def people_with_reasons(reasons: dict[int, str]) -> list[tuple[User, str]]:
    """``(person, why they were involved)`` for the pages, by name."""
    people = User.objects.in_bulk(list(reasons))
    return [(people[pk], why) for pk, why in reasons.items() if pk in people]


def certificates_for_classification() -> QuerySet[Certificate]:
    return Certificate.objects.exclude(organization__isnull=True).order_by("number")


# --- appeals -------------------------------------------------------------------------------------

def handles_appeals(user) -> bool:
    return can(user, "handle_appeals")


def appeals_for_user(*, user: User) -> QuerySet[Appeal]:
    """CB appeal handlers and panel members see theirs (handlers: all); client members see
    their organizations' appeals."""
    queryset = Appeal.objects.select_related("organization", "decision", "certificate")
    if not user.is_authenticated:
        return queryset.none()
    if handles_appeals(user):
        return queryset
    return queryset.filter(
        Q(panel=user) | Q(organization__memberships__user=user,
                          organization__memberships__role__in=member_roles_with("read"))
    ).distinct()


def appeal_get(*, user: User, pk) -> Appeal:
    return get_object_or_404(appeals_for_user(user=user), pk=pk)


def appeals_waiting(*, user: User) -> QuerySet[Appeal]:
    """Appeals the CB still has to acknowledge, staff or close (the CB's queue)."""
    if not handles_appeals(user):
        return Appeal.objects.none()
    return Appeal.objects.filter(status__in=[Appeal.Status.LODGED, Appeal.Status.ACKNOWLEDGED,
                                             Appeal.Status.UPHELD, Appeal.Status.DISMISSED]
                                 ).select_related("organization").order_by("lodged_at")


def open_appeals_for_organization(*, organization_id: int | None) -> QuerySet[Appeal]:
    return Appeal.objects.filter(organization_id=organization_id).exclude(
        status=Appeal.Status.CLOSED)


def _member_filter(user: User, prefix: str) -> dict:
    return {f"{prefix}memberships__user": user,
            f"{prefix}memberships__role__in": member_roles_with("read")}


def appealable_decision_get(*, user: User, pk) -> CertificationDecision:
    """A decision on one of the user's organizations (the appeal names it)."""
    if not user.is_authenticated:
        raise Http404
    return get_object_or_404(CertificationDecision.objects.select_related(
        "cycle__organization", "certificate"), pk=pk,
        **_member_filter(user, "cycle__organization__"))


def appealable_certificate_get(*, user: User, pk) -> Certificate:
    if not user.is_authenticated:
        raise Http404
    return get_object_or_404(Certificate.objects.select_related("organization"), pk=pk,
                             **_member_filter(user, "organization__"))


def appealable_finding_get(*, user: User, pk) -> Finding:
    if not user.is_authenticated:
        raise Http404
    return get_object_or_404(Finding.objects.select_related("audit__cycle__organization"),
                             pk=pk, **_member_filter(user, "audit__cycle__organization__"))


def appealable_decisions(*, user: User, today: datetime.date) -> QuerySet[CertificationDecision]:
    """Refusals and scope reductions on the user's organizations still within the window."""
    if not user.is_authenticated:
        return CertificationDecision.objects.none()
    since = today - datetime.timedelta(days=settings.APPEAL_WINDOW_DAYS)
    D = CertificationDecision
    return (CertificationDecision.objects.filter(
        Q(outcome=D.Outcome.REFUSE) | Q(outcome=D.Outcome.GRANT, kind=D.Kind.SCOPE_REDUCTION),
        decision_date__gte=since, status=D.Status.FINAL,
        **_member_filter(user, "cycle__organization__"))
        .select_related("cycle__organization").distinct())


def appealable_findings(*, user: User, today: datetime.date) -> QuerySet[Finding]:
    """Findings raised on the user's organizations still within the window (their grading
    may be appealed)."""
    if not user.is_authenticated:
        return Finding.objects.none()
    since = today - datetime.timedelta(days=settings.APPEAL_WINDOW_DAYS)
    return (Finding.objects.filter(
        created_at__date__gte=since, **_member_filter(user, "audit__cycle__organization__"))
        .select_related("audit__cycle__organization", "clause").distinct())


def appeal_deadline(*, decided_on: datetime.date) -> datetime.date:
    """The last day an appeal of a decision taken on ``decided_on`` may be lodged."""
    return decided_on + datetime.timedelta(days=settings.APPEAL_WINDOW_DAYS)


def appeal_window_open(*, decided_on: datetime.date, today: datetime.date) -> bool:
    return today <= appeal_deadline(decided_on=decided_on)


def appeal_attachment_get(*, user: User, pk) -> AppealAttachment:
    attachment = get_object_or_404(AppealAttachment.objects.select_related("file"), pk=pk)
    appeal_get(user=user, pk=attachment.appeal_id)
    return attachment
