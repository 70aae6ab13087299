"""Implementation actions: raising them (directly, from a gap-analysis row, an internal-audit
nonconformity or a management-review decision), editing, the lifecycle, notes, evidence and
the daily overdue digest.

Action lifecycle (``ACTION_LIFECYCLE``): open → in progress → done | cancelled, and
done/cancelled can be reopened. Owners and editors of the organization write, viewers only
read; deleting an action is for owners. Writes carry the version the person read, so two
people can't overwrite each other unknowingly.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from isocert.accounts.models import Organization, User
from isocert.accounts.services import ensure_can_edit, ensure_owner
from isocert.core.audit import record_event
from isocert.core.errors import InvalidInput
from isocert.core.files import check_upload, store_file
from isocert.core.validation import clean_date, collect
from isocert.core.values import UNSET, given, optional_int
from isocert.notifications.services import notify
from isocert.readiness.models import GapAssessment, GapItem

from .common import (
    check_version,
    clean_clause,
    clean_member,
    clean_standard,
    clean_text,
    raise_errors,
)
from .models import (
    ACTION_LIFECYCLE,
    Action,
    ActionEvidence,
    ActionNote,
    InternalFinding,
    ManagementReview,
)

OPEN_STATES = (Action.Status.OPEN, Action.Status.IN_PROGRESS)
GAP_STATES_NEEDING_ACTION = ("partial", "nonconforming")


def _locked(action: Action) -> Action:
    return Action.objects.select_for_update().get(pk=action.pk)



ACTION_FIELDS = ("title", "description", "standard", "clause", "owner_id", "due_date")


def _apply_action_fields(action: Action, data: dict) -> list[str]:
    """Validate and set the editable fields present in ``data``; returns what changed."""
    errors: dict[str, str] = {}
    organization = action.organization
    changed = []
    if "title" in data:
        action.title = clean_text(data.get("title"), "title", "Title", required=True, limit=200)
        changed.append("title")
    if "description" in data:
        action.description = clean_text(data.get("description"), "description", "Description", limit=5000)
        changed.append("description")
    if "standard" in data:
        action.standard = clean_standard(data["standard"], "standard", errors, required=False)
        changed.append("standard")
    if "clause" in data:
        action.clause = clean_clause(data["clause"], action.standard, "clause", errors)
        changed.append("clause")
    elif "standard" in data and action.clause and action.clause.standard_id != action.standard_id:
        errors["clause"] = "The clause belongs to another standard."
    if "owner_id" in data:
        owner = clean_member(organization, data["owner_id"], "owner_id", errors,
                        label="The action's owner")
        if owner != action.owner:
            action.last_reminded_on = None  # the new owner gets their own digest
        action.owner = owner
        changed.append("owner")
    if "due_date" in data:
        action.due_date = collect(errors, clean_date, data["due_date"], "due_date",
                                  required=False)
        changed.append("due_date")
    raise_errors(errors)
    return changed


def _gap_item_for(organization: Organization, gap_item_id):
    item = (GapItem.objects.select_related("assessment__standard", "clause")
            .filter(pk=optional_int(gap_item_id), assessment__organization=organization).first())
    if item is None:
        raise InvalidInput("Choose a gap-analysis row of this organization.",
                           fields={"gap_item_id": "Unknown gap-analysis row."})
    if item.status not in GAP_STATES_NEEDING_ACTION:
        raise InvalidInput(
            f"Clause {item.clause.number} is assessed as {item.get_status_display().lower()}: "
            "actions are raised for partial or nonconforming rows.",
            fields={"gap_item_id": "Only partial or nonconforming rows spawn actions."})
    return item


@transaction.atomic
def create_action(
        *, organization: Organization, title: str = UNSET, description: str = UNSET,
        standard=UNSET, clause=UNSET, owner_id: int | None = UNSET,
        due_date: datetime.date | str | None = UNSET,
        gap_item_id: int | None = None, finding: InternalFinding | None = None,
        management_review: ManagementReview | None = None, actor: User) -> Action:
    """Raise an action: directly (clause optional), from a partial or nonconforming gap row
    (``gap_item_id``: standard and clause come from the row), from an internal-audit
    nonconformity or from a management-review decision."""
    ensure_can_edit(organization, actor)
    action = Action(organization=organization, created_by=actor, finding=finding,
                    management_review=management_review)
    data = given(title=title, description=description, standard=standard, clause=clause,
                 owner_id=owner_id, due_date=due_date)
    if gap_item_id not in (None, ""):
        item = _gap_item_for(organization, gap_item_id)
        action.gap_item = item
        data["standard"], data["clause"] = item.assessment.standard, item.clause
    data.setdefault("title", "")
    _apply_action_fields(action, data)
    action.save()
    record_event(actor=actor, action="improvement.action.created", obj=action,
                 organization_id=organization.pk, payload={
                     "title": action.title, "clause": action.clause.number if action.clause else "",
                     "standard": action.standard.code if action.standard else "",
                     "owner": action.owner.email if action.owner else "",
                     "due_date": action.due_date, "gap_item": action.gap_item_id,
                     "finding": action.finding_id, "management_review": action.management_review_id,
                 })
    return action


@transaction.atomic
def update_action(
        *, action: Action, expected_version: int | None = None, title: str = UNSET, description: str = UNSET,
        standard=UNSET, clause=UNSET, owner_id: int | None = UNSET,
        due_date: datetime.date | str | None = UNSET,
        actor: User) -> Action:
    """Change title, description, standard/clause, owner or due date."""
    ensure_can_edit(action.organization, actor)
    action = _locked(action)
    check_version(action, expected_version)
    changed = _apply_action_fields(action, given(title=title, description=description, standard=standard, clause=clause,
                 owner_id=owner_id, due_date=due_date))
    action.version += 1
    action.save()
    record_event(actor=actor, action="improvement.action.updated", obj=action,
                 organization_id=action.organization_id, payload={"changed": sorted(changed)})
    return action


@transaction.atomic
def delete_action(*, action: Action, actor: User) -> None:
    """Remove an action raised by mistake (owners only; cancelling keeps the history)."""
    ensure_owner(action.organization, actor)
    action = _locked(action)
    record_event(actor=actor, action="improvement.action.deleted", obj=action,
                 organization_id=action.organization_id,
                 payload={"title": action.title, "status": action.status})
    action.delete()


@dataclass
class ActionOutcome:
    """A transition's result: the action, and the re-assessment it suggests, if any."""

    action: Action
    reassess_message: str = ""
    reassess_url: str = ""


def gap_assessment_url(organization_id: int, standard_id: int | None) -> str:
    """Where a clause is re-assessed: the open gap analysis of the standard, else the
    organization's gap analyses, else (readiness pages not installed) the organization."""
    assessment = GapAssessment.objects.filter(
        organization_id=organization_id, standard_id=standard_id,
        status=GapAssessment.Status.OPEN).values_list("pk", flat=True).first()
    candidates = [("gap_assessment_detail", assessment)] if assessment else []
    candidates += [("gap_assessment_list", organization_id),
                   ("organization_detail", organization_id)]
    for name, pk in candidates:
        try:
            return reverse(name, args=[pk])
        except NoReverseMatch:
            continue
    return ""


def _reassess_suggestion(action: Action) -> tuple[str, str]:
    """After the last open action of a gap row's clause is closed: suggest re-assessing it."""
    if not action.is_closed or action.clause_id is None:
        return "", ""
    siblings = Action.objects.filter(organization_id=action.organization_id,
                                     standard_id=action.standard_id, clause_id=action.clause_id)
    if siblings.filter(status__in=OPEN_STATES).exists():
        return "", ""
    gap_row = action.gap_item_id is not None or GapItem.objects.filter(
        assessment__organization_id=action.organization_id,
        assessment__standard_id=action.standard_id, clause_id=action.clause_id,
        status__in=GAP_STATES_NEEDING_ACTION).exists()
    if not gap_row:
        return "", ""
    return (f"All actions for {action.clause.number} are closed — re-assess the clause in the "
            "gap analysis.", gap_assessment_url(action.organization_id, action.standard_id))


def transition_action(*, action: Action, transition: str, actor: User,
                      expected_version: int | None = None) -> ActionOutcome:
    """Move an action along its lifecycle: ``start``, ``complete``, ``cancel``, ``reopen``."""
    if transition not in ACTION_LIFECYCLE.transitions:
        raise InvalidInput(f"Unknown action transition {transition!r}.",
                           fields={"transition": "start, complete, cancel or reopen."})
    with transaction.atomic():
        ensure_can_edit(action.organization, actor)
        action = _locked(action)
        check_version(action, expected_version)
        old = action.status
        ACTION_LIFECYCLE.apply(action, transition)
        action.completed_at = timezone.now() if action.status == Action.Status.DONE else None
        if transition == "reopen":
            action.last_reminded_on = None
        action.version += 1
        action.save()
        record_event(actor=actor, action=f"improvement.action.{action.status}", obj=action,
                     organization_id=action.organization_id,
                     payload={"from": old, "to": action.status, "title": action.title})
        message, url = _reassess_suggestion(action)
    return ActionOutcome(action=action, reassess_message=message, reassess_url=url)


def start_action(*, action: Action, actor: User, expected_version=None) -> ActionOutcome:
    return transition_action(action=action, transition="start", actor=actor,
                             expected_version=expected_version)


def complete_action(*, action: Action, actor: User, expected_version=None) -> ActionOutcome:
    return transition_action(action=action, transition="complete", actor=actor,
                             expected_version=expected_version)


def cancel_action(*, action: Action, actor: User, expected_version=None) -> ActionOutcome:
    return transition_action(action=action, transition="cancel", actor=actor,
                             expected_version=expected_version)


def reopen_action(*, action: Action, actor: User, expected_version=None) -> ActionOutcome:
    return transition_action(action=action, transition="reopen", actor=actor,
                             expected_version=expected_version)


@transaction.atomic
def add_action_note(*, action: Action, actor: User, text: str) -> ActionNote:
    """A progress note; notes are kept, never edited."""
    ensure_can_edit(action.organization, actor)
    text = clean_text(text, "text", "Note", required=True, limit=5000)
    note = ActionNote.objects.create(action=action, text=text, author=actor)
    record_event(actor=actor, action="improvement.action.note_added", obj=action,
                 organization_id=action.organization_id, payload={"note": note.pk, "text": text})
    return note


@transaction.atomic
def add_action_evidence(*, action: Action, actor: User, title: str, upload=None,
                        link: str = "") -> ActionEvidence:
    """Evidence that the action was carried out: an uploaded file or a link."""
    ensure_can_edit(action.organization, actor)
    title = clean_text(title, "title", "Title", required=True, limit=200)
    link = (link or "").strip()
    if upload is None and not link:
        raise InvalidInput("Upload a file or give a link.",
                           fields={"file": "Upload a file or give a link."})
    if link:
        try:
            URLValidator(schemes=["http", "https"])(link)
        except ValidationError:
            raise InvalidInput("The link is not a web address.",
                               fields={"link": "Give an http(s) address."}) from None
        if len(link) > 500:
            raise InvalidInput("The link is too long.", fields={"link": "At most 500 characters."})
    stored = store_file(check_upload(upload)) if upload is not None else None
    evidence = ActionEvidence.objects.create(action=action, title=title, file=stored, link=link,
                                             added_by=actor)
    record_event(actor=actor, action="improvement.action.evidence_added", obj=action,
                 organization_id=action.organization_id, payload={
                     "evidence": evidence.pk, "title": title, "link": link,
                     "sha256": stored.sha256 if stored else ""})
    return evidence



# --- overdue digest ----------------------------------------------------------------------------

def overdue_actions(today: datetime.date | None = None):
    today = today or timezone.localdate()
    return Action.objects.filter(due_date__lt=today, status__in=OPEN_STATES)


def owners_to_remind(today: datetime.date | None = None) -> list[int]:
    """Owners with overdue actions who have not had today's digest yet."""
    today = today or timezone.localdate()
    overdue = overdue_actions(today).filter(owner__isnull=False, owner__is_active=True)
    reminded = set(overdue.filter(last_reminded_on=today).values_list("owner_id", flat=True))
    return sorted(set(overdue.values_list("owner_id", flat=True)) - reminded)


@transaction.atomic
def send_overdue_digest(*, owner: User, today: datetime.date | None = None) -> list[int]:
    """One e-mail listing all of ``owner``'s overdue actions, across organizations.

    Sends nothing when the person had today's digest already (``last_reminded_on``)
    or has nothing overdue; returns the ids of the actions listed.
    """
    today = today or timezone.localdate()
    actions = list(overdue_actions(today).select_for_update()
                   .filter(owner=owner).order_by("due_date", "pk"))
    if not actions or any(a.last_reminded_on == today for a in actions):
        return []
    lines = []
    for action in (Action.objects.filter(pk__in=[a.pk for a in actions])
                   .select_related("organization", "clause", "standard")
                   .order_by("organization__legal_name", "due_date", "pk")):
        lines.append({
            "title": action.title, "organization": str(action.organization),
            "clause": (f"{action.standard.code} {action.clause.number}"
                       if action.clause and action.standard else ""),
            "due_date": action.due_date.isoformat(),
            "days_overdue": (today - action.due_date).days,
            "path": reverse("action_detail", args=[action.pk]),
        })
    ids = [a.pk for a in actions]
    Action.objects.filter(pk__in=ids).update(last_reminded_on=today)
    record_event(actor=None, action="improvement.action.overdue_digest_sent", obj=owner,
                 payload={"to": owner.email, "actions": ids, "date": today})
    notify(template="overdue_actions_digest", to=[owner.email],
           context={"name": str(owner), "actions": lines, "count": len(lines)})
    return ids
