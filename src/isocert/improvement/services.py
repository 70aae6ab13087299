"""Every write on implementation actions, internal audits and management reviews.

Action lifecycle (``ACTION_LIFECYCLE``): open → in progress → done | cancelled, and
done/cancelled can be reopened. Owners and editors of the organization write,
viewers only read; deleting an action is for owners. Transitions carry the
version the person read, so two people can't overwrite each other unknowingly.
"""

import datetime
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import Membership, Organization, User
from isocert.accounts.services import ensure_can_edit, ensure_owner
from isocert.catalog.models import Clause, Standard
from isocert.core.audit import record_event
from isocert.core.errors import Conflict, InvalidInput
from isocert.core.files import check_upload, store_file
from isocert.core.validation import choice_error
from isocert.core.values import UNSET, given, optional_int
from isocert.notifications.services import notify
from isocert.readiness.models import GapAssessment, GapItem

from .models import (
    ACTION_LIFECYCLE,
    INTERNAL_AUDIT_LIFECYCLE,
    Action,
    ActionEvidence,
    ActionNote,
    ChecklistItem,
    InternalAudit,
    InternalFinding,
    ManagementReview,
    ReviewInput,
)

CORRECTIVE_ACTION_DAYS = 30  # rules §4 [P]: a corrective-action plan is due 30 days after
OPEN_STATES = (Action.Status.OPEN, Action.Status.IN_PROGRESS)
GAP_STATES_NEEDING_ACTION = ("partial", "nonconforming")
INPUTS_FILE = Path(__file__).resolve().parent / "data" / "management_review_inputs.json"


# --- cleaning ----------------------------------------------------------------------------------

def _text(data: dict, field: str, label: str, *, required=False, limit=2000) -> str:
    text = str(data.get(field) or "").strip()
    if required and not text:
        raise InvalidInput(f"{label} is required.", fields={field: f"{label} is required."})
    if len(text) > limit:
        raise InvalidInput(f"{label} is too long.", fields={field: f"At most {limit} characters."})
    return text


def _date(value, field: str, errors: dict, *, label: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        errors[field] = f"{label}: enter a date as YYYY-MM-DD."
        return None


def _standard(value, field: str, errors: dict, *, required: bool) -> Standard | None:
    if isinstance(value, Standard):
        return value
    code = str(value or "").strip()
    if not code:
        if required:
            errors[field] = "Choose a standard."
        return None
    standard = Standard.objects.filter(code=code, is_current=True).first()
    if standard is None:
        errors[field] = f"Unknown standard {code!r}."
    return standard


def _clause(value, standard: Standard | None, field: str, errors: dict) -> Clause | None:
    if isinstance(value, Clause):
        return value
    number = str(value or "").strip()
    if not number:
        return None
    if standard is None:
        errors.setdefault("standard", "Choose the standard the clause belongs to.")
        return None
    clause = Clause.objects.filter(standard=standard, number=number).first()
    if clause is None:
        errors[field] = f"{standard.code} has no clause {number}."
    return clause


def _member(organization: Organization, value, field: str, errors: dict, *,
            label: str) -> User | None:
    """A user who belongs to the organization (any role), or None when not given."""
    if value in (None, ""):
        return None
    user_id = value.pk if isinstance(value, User) else value
    membership = (Membership.objects.select_related("user")
                  .filter(organization=organization, user_id=optional_int(user_id)).first())
    if membership is None:
        errors[field] = f"{label} must be a member of {organization}."
        return None
    return membership.user


def _raise(errors: dict) -> None:
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", fields=errors)


def _check_version(obj, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != obj.version:
        raise Conflict("Someone else changed this action meanwhile; reload it and try again.",
                       fields={"version": "Stale version."})


def _locked(action: Action) -> Action:
    return Action.objects.select_for_update().get(pk=action.pk)


# --- actions -----------------------------------------------------------------------------------

ACTION_FIELDS = ("title", "description", "standard", "clause", "owner_id", "due_date")


def _apply_action_fields(action: Action, data: dict) -> list[str]:
    """Validate and set the editable fields present in ``data``; returns what changed."""
    errors: dict[str, str] = {}
    organization = action.organization
    changed = []
    if "title" in data:
        action.title = _text(data, "title", "Title", required=True, limit=200)
        changed.append("title")
    if "description" in data:
        action.description = _text(data, "description", "Description", limit=5000)
        changed.append("description")
    if "standard" in data:
        action.standard = _standard(data["standard"], "standard", errors, required=False)
        changed.append("standard")
    if "clause" in data:
        action.clause = _clause(data["clause"], action.standard, "clause", errors)
        changed.append("clause")
    elif "standard" in data and action.clause and action.clause.standard_id != action.standard_id:
        errors["clause"] = "The clause belongs to another standard."
    if "owner_id" in data:
        owner = _member(organization, data["owner_id"], "owner_id", errors,
                        label="The action's owner")
        if owner != action.owner:
            action.last_reminded_on = None  # the new owner gets their own digest
        action.owner = owner
        changed.append("owner")
    if "due_date" in data:
        action.due_date = _date(data["due_date"], "due_date", errors, label="Due date")
        changed.append("due_date")
    _raise(errors)
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
    _check_version(action, expected_version)
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
    from django.urls import NoReverseMatch

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
        _check_version(action, expected_version)
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
    text = _text({"text": text}, "text", "Note", required=True, limit=5000)
    note = ActionNote.objects.create(action=action, text=text, author=actor)
    record_event(actor=actor, action="improvement.action.note_added", obj=action,
                 organization_id=action.organization_id, payload={"note": note.pk, "text": text})
    return note


@transaction.atomic
def add_action_evidence(*, action: Action, actor: User, title: str, upload=None,
                        link: str = "") -> ActionEvidence:
    """Evidence that the action was carried out: an uploaded file or a link."""
    ensure_can_edit(action.organization, actor)
    title = _text({"title": title}, "title", "Title", required=True, limit=200)
    link = (link or "").strip()
    if upload is None and not link:
        raise InvalidInput("Upload a file or give a link.",
                           fields={"file": "Upload a file or give a link."})
    if link:
        from django.core.exceptions import ValidationError
        from django.core.validators import URLValidator

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


# --- internal audits ---------------------------------------------------------------------------

def main_clauses(standard: Standard):
    """The default scope of an internal audit: the standard's main clauses (4–10)."""
    return Clause.objects.filter(standard=standard, group="clauses", depth=0).order_by("position")


def _clause_numbers(value) -> list[str]:
    if isinstance(value, str):
        value = value.replace(";", ",").replace("\n", ",").split(",")
    return [str(n).strip() for n in value or [] if str(n).strip()]


@transaction.atomic
def create_internal_audit(*, organization: Organization, actor: User, data: dict
                          ) -> InternalAudit:
    """Plan an internal audit; its checklist has one row per scoped clause.

    ``data``: title, standard (code), start_date, end_date, auditor_ids (members),
    clauses (numbers; empty = all main clauses), processes, site_ids.
    """
    ensure_can_edit(organization, actor)
    errors: dict[str, str] = {}
    title = _text(data, "title", "Title", required=True, limit=200)
    standard = _standard(data.get("standard"), "standard", errors, required=True)
    start = _date(data.get("start_date"), "start_date", errors, label="Start date")
    end = _date(data.get("end_date"), "end_date", errors, label="End date")
    if start is None and "start_date" not in errors:
        errors["start_date"] = "Give the first day of the audit."
    if end is None and "end_date" not in errors:
        errors["end_date"] = "Give the last day of the audit."
    if start and end and end < start:
        errors["end_date"] = "The audit cannot end before it starts."
    auditor_ids = list(data.get("auditor_ids") or [])
    auditors = []
    for value in auditor_ids:
        user = _member(organization, value, "auditor_ids", errors,
                       label="Every internal auditor")
        if user is not None:
            auditors.append(user)
    if not auditor_ids:
        errors["auditor_ids"] = "Name at least one internal auditor."
    site_ids = {optional_int(s) for s in data.get("site_ids") or []}
    if site_ids and (None in site_ids or organization.sites.filter(pk__in=site_ids).count()
                     != len(site_ids)):
        errors["site_ids"] = "Choose sites of this organization."
    clauses = []
    if standard is not None:
        numbers = _clause_numbers(data.get("clauses"))
        if numbers:
            found = {c.number: c for c in Clause.objects.filter(standard=standard,
                                                                number__in=numbers)}
            unknown = [n for n in numbers if n not in found]
            if unknown:
                errors["clauses"] = f"{standard.code} has no clause {', '.join(unknown)}."
            clauses = sorted({c.pk: c for c in found.values()}.values(),
                             key=lambda c: c.position)
        else:
            clauses = list(main_clauses(standard))
    processes = _text(data, "processes", "Processes", limit=5000)
    _raise(errors)
    audit = InternalAudit.objects.create(
        organization=organization, standard=standard, title=title, start_date=start,
        end_date=end, processes=processes, created_by=actor)
    audit.auditors.set(auditors)
    audit.clauses.set(clauses)
    audit.sites.set(site_ids)
    ChecklistItem.objects.bulk_create([ChecklistItem(audit=audit, clause=c) for c in clauses])
    record_event(actor=actor, action="improvement.internal_audit.created", obj=audit,
                 organization_id=organization.pk, payload={
                     "title": title, "standard": standard.code, "start_date": start,
                     "end_date": end, "auditors": sorted(u.email for u in auditors),
                     "clauses": [c.number for c in clauses], "sites": sorted(site_ids)})
    return audit


def _ensure_planned(audit: InternalAudit) -> None:
    if audit.status != InternalAudit.Status.PLANNED:
        raise Conflict("This internal audit is completed and can no longer be changed.")


def _locked_audit(audit: InternalAudit) -> InternalAudit:
    return InternalAudit.objects.select_for_update().get(pk=audit.pk)


@transaction.atomic
def update_checklist_item(*, item: ChecklistItem, actor: User, result: str,
                          notes: str = "") -> ChecklistItem:
    """Record what the auditor found for one clause of the checklist."""
    audit = item.audit
    ensure_can_edit(audit.organization, actor)
    _ensure_planned(_locked_audit(audit))
    if result not in ChecklistItem.Result.values:
        raise InvalidInput("Choose the result.", fields={
            "result": choice_error(ChecklistItem.Result, what="the result")})
    item.result = result
    item.notes = _text({"notes": notes}, "notes", "Notes", limit=5000)
    item.save()
    record_event(actor=actor, action="improvement.checklist_item.updated", obj=item,
                 organization_id=audit.organization_id,
                 payload={"audit": audit.pk, "clause": item.clause.number, "result": result})
    return item


@transaction.atomic
def add_internal_finding(*, audit: InternalAudit, actor: User, data: dict,
                         upload=None) -> InternalFinding:
    """Record a finding; a nonconformity gets a corrective action in the action list
    (owner optional, due 30 days from the audit's end or today, whichever is later)."""
    ensure_can_edit(audit.organization, actor)
    audit = _locked_audit(audit)
    _ensure_planned(audit)
    errors: dict[str, str] = {}
    kind = str(data.get("kind") or "")
    if kind not in InternalFinding.Kind.values:
        errors["kind"] = choice_error(InternalFinding.Kind, what="the kind of finding")
    clause = _clause(data.get("clause"), audit.standard, "clause", errors)
    if clause is None and "clause" not in errors:
        errors["clause"] = "Give the clause the finding is about."
    try:
        statement = _text(data, "statement", "Statement", required=True, limit=5000)
        evidence = _text(data, "evidence", "Evidence", limit=5000)
    except InvalidInput as exc:
        errors.update(exc.fields)
    owner = _member(audit.organization, data.get("owner_id"), "owner_id", errors,
                    label="The corrective action's owner")
    due = _date(data.get("due_date"), "due_date", errors, label="Due date")
    _raise(errors)
    stored = store_file(check_upload(upload)) if upload is not None else None
    finding = InternalFinding.objects.create(audit=audit, kind=kind, clause=clause,
                                             statement=statement, evidence=evidence, file=stored,
                                             created_by=actor)
    ChecklistItem.objects.filter(audit=audit, clause=clause).update(
        result=ChecklistItem.Result.FINDING)
    record_event(actor=actor, action="improvement.internal_finding.created", obj=finding,
                 organization_id=audit.organization_id, payload={
                     "audit": audit.pk, "kind": kind, "clause": clause.number,
                     "statement": statement, "sha256": stored.sha256 if stored else ""})
    if kind == InternalFinding.Kind.NONCONFORMITY:
        due = due or max(audit.end_date, timezone.localdate()) + datetime.timedelta(
            days=CORRECTIVE_ACTION_DAYS)
        create_action(organization=audit.organization, actor=actor, finding=finding, **{
            "title": f"Corrective action: {clause.number} — {statement[:150]}",
            "description": statement, "standard": audit.standard, "clause": clause,
            "owner_id": owner.pk if owner else None, "due_date": due,
        })
    return finding


def _finding_rows_without_findings(audit: InternalAudit) -> list[str]:
    """Clause numbers of checklist rows marked "Finding raised" with no finding recorded on
    that clause or one of its sub-clauses (a finding on 7.5.1 answers the row for 7)."""
    covered = set(audit.findings.values_list("clause_id", flat=True))
    frontier = set(covered)
    while frontier:
        parents = set(Clause.objects.filter(pk__in=frontier, parent__isnull=False)
                      .values_list("parent_id", flat=True))
        frontier = parents - covered
        covered |= frontier
    return list(audit.checklist.filter(result=ChecklistItem.Result.FINDING)
                .exclude(clause_id__in=covered).values_list("clause__number", flat=True))


@transaction.atomic
def complete_internal_audit(*, audit: InternalAudit, actor: User,
                            conclusion: str) -> InternalAudit:
    """Close the audit: every checklist row checked, every row marked "Finding raised"
    backed by a recorded finding, and a conclusion written."""
    ensure_can_edit(audit.organization, actor)
    audit = _locked_audit(audit)
    _ensure_planned(audit)
    conclusion = _text({"conclusion": conclusion}, "conclusion", "The conclusion",
                       required=True, limit=10000)
    unchecked = list(audit.checklist.filter(result=ChecklistItem.Result.NOT_CHECKED)
                     .values_list("clause__number", flat=True))
    if unchecked:
        raise InvalidInput(
            f"Check every clause of the checklist first (still open: {', '.join(unchecked)}).",
            fields={"checklist": f"Not checked: {', '.join(unchecked)}."})
    unrecorded = _finding_rows_without_findings(audit)
    if unrecorded:
        # ISO 19011 6.4.8 / ISO 9001 9.2.2 c)-e): a nonconformity the auditor marked must be
        # recorded as a finding, or it never reaches corrective action and the CB never sees it.
        rows = ", ".join(unrecorded)
        raise InvalidInput(
            f"The checklist says \"Finding raised\" for {rows}, but no finding is recorded for "
            "it. Record the finding, or change the row's result.",
            fields={"checklist": f"Finding raised without a recorded finding: {rows}."})
    INTERNAL_AUDIT_LIFECYCLE.apply(audit, "complete")
    audit.conclusion = conclusion
    audit.save()
    record_event(actor=actor, action="improvement.internal_audit.completed", obj=audit,
                 organization_id=audit.organization_id, payload={
                     "conclusion": conclusion,
                     "findings": audit.findings.count()})
    return audit


# --- management reviews ------------------------------------------------------------------------

@cache
def _inputs_data() -> dict:
    with INPUTS_FILE.open(encoding="utf-8") as fh:
        return json.load(fh)


def review_inputs_for(standard: Standard) -> list[dict]:
    """The inputs a management review for ``standard`` must consider, in order."""
    data = _inputs_data()
    return [*data["common"], *data["standards"].get(standard.code, [])]


def _apply_inputs(review: ManagementReview, inputs) -> list[str]:
    if not isinstance(inputs, list):
        raise InvalidInput("Give the inputs as a list.", fields={"inputs": "A list is required."})
    rows = {row.key: row for row in review.inputs.all()}
    errors, changed = {}, []
    for index, entry in enumerate(inputs):
        entry = dict(entry)
        row = rows.get(str(entry.get("key") or ""))
        if row is None:
            errors[f"inputs.{index}.key"] = f"Unknown input {entry.get('key')!r}."
            continue
        if "covered" in entry and entry["covered"] is not None:
            row.covered = bool(entry["covered"])
        if "notes" in entry and entry["notes"] is not None:
            notes = str(entry["notes"]).strip()
            if len(notes) > 5000:
                errors[f"inputs.{index}.notes"] = "At most 5000 characters."
            row.notes = notes
        changed.append(row.key)
    _raise(errors)
    for key in changed:
        rows[key].save()
    return changed


@transaction.atomic
def create_management_review(*, organization: Organization, actor: User, data: dict
                             ) -> ManagementReview:
    """Record a management review; its inputs are the standard's checklist.

    ``data``: standard (code), date, attendees, decisions, inputs
    (``[{"key", "covered", "notes"}]``, optional).
    """
    ensure_can_edit(organization, actor)
    errors: dict[str, str] = {}
    standard = _standard(data.get("standard"), "standard", errors, required=True)
    date = _date(data.get("date"), "date", errors, label="Date")
    if date is None and "date" not in errors:
        errors["date"] = "Give the date of the review."
    try:
        attendees = _text(data, "attendees", "Attendees", required=True, limit=5000)
        decisions = _text(data, "decisions", "Decisions", limit=10000)
    except InvalidInput as exc:
        errors.update(exc.fields)
    _raise(errors)
    review = ManagementReview.objects.create(organization=organization, standard=standard,
                                             date=date, attendees=attendees, decisions=decisions,
                                             created_by=actor)
    ReviewInput.objects.bulk_create([ReviewInput(review=review, key=i["key"], label=i["label"])
                                     for i in review_inputs_for(standard)])
    if data.get("inputs"):
        _apply_inputs(review, data["inputs"])
    record_event(actor=actor, action="improvement.management_review.created", obj=review,
                 organization_id=organization.pk, payload={
                     "standard": standard.code, "date": date, "attendees": attendees,
                     "covered": sorted(review.inputs.filter(covered=True)
                                       .values_list("key", flat=True))})
    return review


@transaction.atomic
def update_review_inputs(*, review: ManagementReview, actor: User, inputs: list
                         ) -> ManagementReview:
    """Tick inputs as covered and note what was said about them."""
    ensure_can_edit(review.organization, actor)
    review = ManagementReview.objects.select_for_update().get(pk=review.pk)
    changed = _apply_inputs(review, inputs)
    record_event(actor=actor, action="improvement.management_review.inputs_updated", obj=review,
                 organization_id=review.organization_id, payload={
                     "changed": changed,
                     "covered": sorted(review.inputs.filter(covered=True)
                                       .values_list("key", flat=True))})
    return review


@transaction.atomic
def record_review_decisions(*, review: ManagementReview, actor: User, decisions: str,
                            attendees: str | None = None) -> ManagementReview:
    """Record the review's decisions (and correct the attendees, if given)."""
    ensure_can_edit(review.organization, actor)
    review = ManagementReview.objects.select_for_update().get(pk=review.pk)
    review.decisions = _text({"decisions": decisions}, "decisions", "Decisions", limit=10000)
    if attendees is not None:
        review.attendees = _text({"attendees": attendees}, "attendees", "Attendees",
                                 required=True, limit=5000)
    review.save()
    record_event(actor=actor, action="improvement.management_review.decisions_recorded",
                 obj=review, organization_id=review.organization_id,
                 payload={"decisions": review.decisions, "attendees": review.attendees})
    return review


@transaction.atomic
def add_review_action(
        *, review: ManagementReview, title: str = UNSET, description: str = UNSET,
        standard=UNSET, clause=UNSET, owner_id: int | None = UNSET,
        due_date: datetime.date | str | None = UNSET,
        actor: User) -> Action:
    """An action resulting from a management-review decision."""
    fields = given(title=title, description=description, standard=standard, clause=clause,
                 owner_id=owner_id, due_date=due_date)
    fields["standard"] = fields.get("standard") or review.standard
    return create_action(organization=review.organization, actor=actor,
                         management_review=review, **fields)


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
