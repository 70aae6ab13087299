"""Reads on actions, internal audits and management reviews, scoped to the user.

Only members of the organization see its records; anything else is a 404.
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from isocert.accounts.models import Membership, Organization, User
from isocert.accounts.permissions import can_in
from isocert.accounts.selectors import organization_get
from isocert.readiness.models import GapItem
from isocert.registration.selectors import applied_standard_codes

from .actions import GAP_STATES_NEEDING_ACTION, OPEN_STATES, gap_assessment_url
from .models import (
    ACTION_LIFECYCLE,
    Action,
    ActionEvidence,
    ChecklistItem,
    InternalAudit,
    InternalFinding,
    ManagementReview,
)


def _mine(user: User) -> Q:
    return Q(organization__memberships__user=user)


def _get(queryset, user: User, pk, what: str):
    try:
        return queryset.filter(_mine(user)).distinct().get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No such {what}")


def can_edit(*, user: User, organization: Organization) -> bool:
    return can_in(user, "edit", organization)


def is_owner(*, user: User, organization: Organization) -> bool:
    return Membership.objects.filter(organization=organization, user=user,
                                     role=Membership.Role.OWNER).exists()


def members_of(*, organization: Organization) -> QuerySet[User]:
    return User.objects.filter(memberships__organization=organization).order_by("full_name",
                                                                                "email")


def _standard_to_preselect(organization: Organization, records: QuerySet) -> str:
    """The first of the organization's own standards (its applications') that ``records``
    don't cover yet, else its first own standard; "" when it has applied for none — then
    the form makes the person choose instead of offering the catalog's first standard."""
    own = applied_standard_codes(organization=organization)
    done = set(records.values_list("standard__code", flat=True))
    return next((code for code in own if code not in done), own[0] if own else "")


def internal_audit_standard(*, organization: Organization) -> str:
    """The standard a new internal audit pre-selects: one not yet covered by a completed
    internal audit, among the organization's own."""
    return _standard_to_preselect(organization, InternalAudit.objects.filter(
        organization=organization, status=InternalAudit.Status.COMPLETED))


def management_review_standard(*, organization: Organization) -> str:
    """The standard a new management review pre-selects: one with no review yet, among the
    organization's own."""
    return _standard_to_preselect(organization, ManagementReview.objects.filter(
        organization=organization))


# --- actions -----------------------------------------------------------------------------------

def _actions() -> QuerySet[Action]:
    return Action.objects.select_related("organization", "standard", "clause", "owner",
                                         "gap_item", "finding", "management_review")


@dataclass
class ActionFilters:
    status: str = ""
    standard: str = ""
    clause: str = ""
    owner_id: int | None = None
    overdue: bool = False


def actions_for_organization(*, user: User, organization: Organization,
                             filters: ActionFilters | None = None) -> QuerySet[Action]:
    """The organization's actions (404 for non-members), filtered."""
    organization_get(user=user, pk=organization.pk)
    queryset = _actions().filter(organization=organization)
    filters = filters or ActionFilters()
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.standard:
        queryset = queryset.filter(standard__code=filters.standard)
    if filters.clause:
        queryset = queryset.filter(Q(clause__number=filters.clause)
                                   | Q(clause__number__startswith=filters.clause + "."))
    if filters.owner_id:
        queryset = queryset.filter(owner_id=filters.owner_id)
    if filters.overdue:
        queryset = queryset.filter(due_date__lt=timezone.localdate(), status__in=OPEN_STATES)
    return queryset


def action_get(*, user: User, pk) -> Action:
    return _get(_actions(), user, pk, "action")


def evidence_get(*, user: User, pk) -> ActionEvidence:
    try:
        evidence = ActionEvidence.objects.select_related("file", "action").get(pk=pk)
    except (ActionEvidence.DoesNotExist, ValueError, TypeError):
        raise Http404("No such evidence")
    action_get(user=user, pk=evidence.action_id)
    return evidence


def is_overdue(action: Action) -> bool:
    return bool(action.due_date and action.due_date < timezone.localdate()
                and not action.is_closed)


def allowed_transitions(*, action: Action, user: User) -> list[str]:
    if not can_edit(user=user, organization=action.organization):
        return []
    return ACTION_LIFECYCLE.allowed_actions(action.status)


def action_board(*, user: User, organization: Organization,
                 filters: ActionFilters | None = None) -> list[dict]:
    """The actions in one column per status, in lifecycle order."""
    actions = list(actions_for_organization(user=user, organization=organization,
                                            filters=filters))
    for action in actions:
        action.overdue = is_overdue(action)
        action.transitions = ACTION_LIFECYCLE.allowed_actions(action.status)
    return [{"status": status, "label": label,
             "actions": [a for a in actions if a.status == status]}
            for status, label in Action.Status.choices]


@dataclass
class ReassessHint:
    standard: str
    clause: str
    url: str

    @property
    def message(self) -> str:
        return (f"All actions for {self.clause} are closed — re-assess the clause in the "
                "gap analysis.")


def reassess_hints(*, user: User, organization: Organization) -> list[ReassessHint]:
    """Gap rows still partial or nonconforming whose actions are all closed."""
    actions = actions_for_organization(user=user, organization=organization).filter(
        clause__isnull=False)
    by_clause: dict[tuple[int, int], list[Action]] = {}
    for action in actions:
        by_clause.setdefault((action.standard_id, action.clause_id), []).append(action)
    closed = {key for key, group in by_clause.items() if all(a.is_closed for a in group)}
    if not closed:
        return []
    rows = (GapItem.objects.filter(assessment__organization=organization,
                                   assessment__status="open",
                                   status__in=GAP_STATES_NEEDING_ACTION)
            .select_related("assessment__standard", "clause").order_by("clause__position"))
    hints, seen = [], set()
    for row in rows:
        key = (row.assessment.standard_id, row.clause_id)
        if key in closed and key not in seen:
            seen.add(key)
            hints.append(ReassessHint(standard=row.assessment.standard.code,
                                      clause=row.clause.number,
                                      url=gap_assessment_url(organization.pk, key[0])))
    return hints


# --- internal audits ---------------------------------------------------------------------------

def internal_audits_for_organization(*, user: User, organization: Organization):
    organization_get(user=user, pk=organization.pk)
    return (InternalAudit.objects.filter(organization=organization)
            .select_related("standard").prefetch_related("auditors"))


def internal_audit_get(*, user: User, pk) -> InternalAudit:
    return _get(InternalAudit.objects.select_related("organization", "standard"), user, pk,
                "internal audit")


def checklist_item_get(*, user: User, pk) -> ChecklistItem:
    try:
        item = ChecklistItem.objects.select_related("audit", "clause").get(pk=pk)
    except (ChecklistItem.DoesNotExist, ValueError, TypeError):
        raise Http404("No such checklist row")
    internal_audit_get(user=user, pk=item.audit_id)
    return item


def finding_get(*, user: User, pk) -> InternalFinding:
    try:
        finding = InternalFinding.objects.select_related("audit", "clause", "file").get(pk=pk)
    except (InternalFinding.DoesNotExist, ValueError, TypeError):
        raise Http404("No such finding")
    internal_audit_get(user=user, pk=finding.audit_id)
    return finding


# --- management reviews ------------------------------------------------------------------------

def management_reviews_for_organization(*, user: User, organization: Organization):
    organization_get(user=user, pk=organization.pk)
    return ManagementReview.objects.filter(organization=organization).select_related("standard")


def management_review_get(*, user: User, pk) -> ManagementReview:
    return _get(ManagementReview.objects.select_related("organization", "standard"), user, pk,
                "management review")


def overdue_actions(*, organization_ids: list[int], today) -> QuerySet[Action]:
    """These organizations' actions past their due date and not closed (the rule of
    ``is_overdue``), most overdue first."""
    return (Action.objects.filter(organization_id__in=organization_ids, due_date__lt=today)
            .exclude(status__in=[Action.Status.DONE, Action.Status.CANCELLED])
            .select_related("organization").order_by("due_date", "pk"))
