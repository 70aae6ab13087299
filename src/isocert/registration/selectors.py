"""Reads on applications, scoped to who is asking.

Clients see their organizations' applications; CB reviewers and administrators
see every application once it has been submitted (drafts stay private).
Anything else is a 404.
"""

import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from isocert.accounts.models import User
from isocert.accounts.permissions import can, can_in
from isocert.catalog.selectors import estimate_audit_time
from isocert.core.errors import InvalidInput
from isocert.core.models import AuditEvent

from .models import (
    APPLICATION_LIFECYCLE,
    Application,
    ApplicationDocument,
    ApplicationMessage,
    AuditTimeDetermination,
    Quotation,
    TransferReview,
)
from .quotations import audit_time_inputs


def _base() -> QuerySet[Application]:
    return (Application.objects.select_related("organization", "organization__country", "reviewer")
            .prefetch_related("standard_lines__standard", "sites", "quotations"))


def applications_for_user(*, user: User) -> QuerySet[Application]:
    mine = Q(organization__memberships__user=user)
    if can(user, "read_applications"):
        mine |= ~Q(status=Application.Status.DRAFT)
    return _base().filter(mine).distinct()


def applications_for_organization(*, user: User, organization) -> QuerySet[Application]:
    return applications_for_user(user=user).filter(organization=organization)


def applications_by_organization(*, user: User, organization_ids) -> dict[int, list[Application]]:
    """``applications_for_organization`` for several organizations at once (one read)."""
    grouped: dict[int, list[Application]] = {pk: [] for pk in organization_ids}
    for application in applications_for_user(user=user).filter(
            organization_id__in=list(grouped)):
        grouped[application.organization_id].append(application)
    return grouped


def application_get(*, user: User, pk) -> Application:
    try:
        return applications_for_user(user=user).get(pk=pk)
    except (Application.DoesNotExist, ValueError, TypeError):
        raise Http404("No such application")


def document_get(*, user: User, pk) -> ApplicationDocument:
    try:
        document = ApplicationDocument.objects.select_related("file", "application").get(pk=pk)
    except (ApplicationDocument.DoesNotExist, ValueError, TypeError):
        raise Http404("No such document")
    application_get(user=user, pk=document.application_id)
    return document


def applied_standard_codes(*, organization) -> list[str]:
    """The organization's own standards: those of its applications still alive (a declined
    or withdrawn application no longer says what the client pursues), by code. The caller
    has already checked the user may see the organization; forms pre-select from these."""
    codes = (Application.objects.filter(organization=organization)
             .exclude(status__in=[Application.Status.DECLINED, Application.Status.WITHDRAWN])
             .values_list("standard_lines__standard__code", flat=True))
    return sorted({code for code in codes if code})


REVIEW_QUEUE_STATES = [
    Application.Status.SUBMITTED, Application.Status.RESUBMITTED, Application.Status.UNDER_REVIEW,
    Application.Status.INFORMATION_REQUESTED,
]


def transfer_review_of(*, application: Application) -> TransferReview | None:
    """The pre-transfer review of an application the caller already selected for the user
    (``application_get``): None until the CB records it."""
    return TransferReview.objects.select_related("reviewed_by").filter(
        application=application).first()


def sees_transfer_notes(user: User) -> bool:
    """The review's notes are the CB's working notes: its application readers and transfer
    reviewers see them; the client sees the status, each check of IAF MD 2 §2.2 with its
    result, the visit, and the conclusion with its reasons, which the CB tells it (§2.2)."""
    return can(user, "read_applications") or can(user, "review_transfers")


def ensure_cb_reader(user: User) -> None:
    """Reviewer pages exist only for CB reviewers and administrators (404 otherwise)."""
    if not can(user, "read_applications"):
        raise Http404("Not a CB reviewer")


def review_queue(*, user: User, status: str = "", standard: str = "", search: str = "",
                 mine: bool = False) -> QuerySet[Application]:
    """The reviewer's queue: submitted work first, oldest first."""
    ensure_cb_reader(user)
    queryset = _base().exclude(status=Application.Status.DRAFT)
    if status:
        queryset = queryset.filter(status=status)
    else:
        queryset = queryset.filter(status__in=REVIEW_QUEUE_STATES)
    if standard:
        queryset = queryset.filter(standard_lines__standard__code=standard)
    if search:
        queryset = queryset.filter(
            Q(organization__legal_name__icontains=search)
            | Q(organization__trading_name__icontains=search)
            | Q(registration_number__icontains=search)
        )
    if mine:
        queryset = queryset.filter(reviewer=user)
    return queryset.order_by("submitted_at", "pk").distinct()


def review_counts(*, user: User) -> dict[str, int]:
    ensure_cb_reader(user)
    rows = (Application.objects.exclude(status=Application.Status.DRAFT)
            .values("status").annotate(n=Count("pk")))
    counts = {status: 0 for status, _ in Application.Status.choices if status != "draft"}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def latest_information_request(*, application: Application) -> ApplicationMessage | None:
    return (application.messages.filter(kind=ApplicationMessage.Kind.INFORMATION_REQUEST)
            .order_by("-created_at").first())


STAFF_ONLY_PAYLOAD_KEYS = {"reviewer", "impartiality_risk"}


def application_timeline(*, user: User, application: Application) -> list[AuditEvent]:
    """The application's history from the audit trail, as the user may see it."""
    application_get(user=user, pk=application.pk)
    events = list(
        AuditEvent.objects.filter(
            Q(object_type="registration.application", object_id=str(application.pk))
            # Its documents' and quotations' events name it in the payload; they carry the
            # organization too, whose index narrows them before the payload is read (a
            # CB's quotation events are tens of thousands: issue #19).
            | Q(object_type__in=("registration.applicationdocument", "registration.quotation"),
                organization_id=application.organization_id,
                payload__application=application.pk)
        ).order_by("seq")
    )
    if not can(user, "read_applications"):
        for event in events:
            event.payload = {k: v for k, v in event.payload.items()
                             if k not in STAFF_ONLY_PAYLOAD_KEYS}
    return events


CLIENT_ACTIONS = {"submit", "resubmit", "withdraw"}
REVIEWER_ACTIONS = {"start_review", "request_information", "register", "decline"}


def allowed_actions_for(*, application: Application, user: User,
                        editable_organizations: set[int] | None = None) -> list[str]:
    """The transitions this user may try now (the services still decide).

    A list passes ``editable_organizations`` (``organizations_where(user, "edit")``, read
    once) instead of one membership query per application."""
    possible = APPLICATION_LIFECYCLE.allowed_actions(application.status)
    can_edit = (application.organization_id in editable_organizations
                if editable_organizations is not None
                else can_in(user, "edit", application.organization))
    is_reviewer = can(user, "review_applications")
    return [a for a in possible
            if (a in CLIENT_ACTIONS and can_edit) or (a in REVIEWER_ACTIONS and is_reviewer)]


def audit_time_of(*, user: User, application: Application):
    """The audit-time determination, if any (visible to whoever sees the application)."""
    application_get(user=user, pk=application.pk)
    return AuditTimeDetermination.objects.filter(application=application).first()


def quotations_for_application(*, user: User, application: Application):
    application_get(user=user, pk=application.pk)
    return application.quotations.select_related("accepted_by", "pdf").order_by("-issued_at")


def quotation_get(*, user: User, pk):
    try:
        quotation = Quotation.objects.select_related("application", "pdf", "accepted_by").get(pk=pk)
    except (Quotation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such quotation")
    application_get(user=user, pk=quotation.application_id)
    return quotation


def proposed_audit_time(*, user: User, application: Application) -> dict | None:
    """The engine's figures from the application's data alone (no factors), for the
    reviewer to start from; None when the data can't be computed yet."""
    application_get(user=user, pk=application.pk)
    try:
        return estimate_audit_time(audit_time_inputs(application, adjustments=[],
                                                     sampling_allowed=False))
    except InvalidInput:
        return None


# --- the client's work list (the portal's dashboard composes these) -------------------------

# Applications whose next step is the client's, and those waiting for the CB's review.
CLIENT_TURN = (Application.Status.DRAFT, Application.Status.INFORMATION_REQUESTED)
CB_TURN = (Application.Status.SUBMITTED, Application.Status.RESUBMITTED,
           Application.Status.UNDER_REVIEW)


def applications_in_progress(*, organization_ids: list[int]) -> QuerySet[Application]:
    """The applications of these organizations still on their way to registration."""
    return (Application.objects.filter(organization_id__in=organization_ids,
                                       status__in=CLIENT_TURN + CB_TURN)
            .select_related("organization").prefetch_related("standard_lines__standard")
            .order_by("created_at", "pk"))


def quotations_to_answer(*, organization_ids: list[int]) -> QuerySet[Quotation]:
    """Quotations sent to these organizations and not yet accepted (the contract)."""
    return (Quotation.objects.filter(application__organization_id__in=organization_ids,
                                     status=Quotation.Status.SENT)
            .select_related("application__organization").order_by("valid_until", "pk"))


# --- work queues (composed by the portal's work page and dashboard: docs/work-queues.md) ---
# Each returns the items already scoped to the user (nothing for someone whose role does not
# do the work), annotated with ``queue_since``: the day the due date counts from.

def _sent_at():
    """When the client last sent the application: its resubmission (the answer to the
    reviewer's request) or, before any, its submission."""
    answered = (ApplicationMessage.objects
                .filter(application=OuterRef("pk"), kind=ApplicationMessage.Kind.RESPONSE)
                .order_by("-created_at").values("created_at")[:1])
    return Coalesce(Subquery(answered), "submitted_at")


def reviews_to_start(*, user: User) -> QuerySet[Application]:
    """Applications the client sent and no reviewer has taken into review yet (ISO/IEC
    17021-1 §9.1.2: every application is reviewed): every reviewer's queue, due
    ``APPLICATION_REVIEW_START_DAYS`` after the client sent it."""
    if not can(user, "review_applications"):
        return Application.objects.none()
    return (Application.objects
            .filter(status__in=[Application.Status.SUBMITTED, Application.Status.RESUBMITTED])
            .select_related("organization").annotate(queue_since=_sent_at())
            .order_by("queue_since", "pk"))


def reviews_to_finish(*, user: User) -> QuerySet[Application]:
    """Applications under review by this reviewer (or by nobody on record), due
    ``APPLICATION_REVIEW_DAYS`` after the client sent them (§9.1.2)."""
    if not can(user, "review_applications"):
        return Application.objects.none()
    return (Application.objects.filter(status=Application.Status.UNDER_REVIEW)
            .filter(Q(reviewer=user) | Q(reviewer__isnull=True))
            .select_related("organization").annotate(queue_since=_sent_at())
            .order_by("queue_since", "pk"))


def quotations_to_issue(*, user: User, today: datetime.date) -> QuerySet[Application]:
    """Registered applications without a contract in sight: no accepted quotation and none
    sent that is still valid on ``today``. ``audit_time_complete`` says whether the audit
    time is fixed (ISO/IEC 17021-1 §9.1.2.2, IAF MD 5) or is the first thing to do; the
    quotation then goes to the client (§5.1.2, the contract). Due
    ``QUOTATION_ISSUE_DAYS`` after registration."""
    if not can(user, "review_applications"):
        return Application.objects.none()
    complete = AuditTimeDetermination.objects.filter(
        application=OuterRef("pk"),
        **{f"{figure}__isnull": False for figure in AuditTimeDetermination.FIGURES})
    live = Quotation.objects.filter(application=OuterRef("pk")).filter(
        Q(status=Quotation.Status.ACCEPTED)
        | Q(status=Quotation.Status.SENT, valid_until__gte=today))
    return (Application.objects.filter(status=Application.Status.REGISTERED)
            .exclude(Exists(live)).filter(cycles__isnull=True)
            .select_related("organization")
            .annotate(queue_since=Coalesce("registered_at", "submitted_at"),
                      audit_time_complete=Exists(complete))
            .order_by("queue_since", "pk"))
