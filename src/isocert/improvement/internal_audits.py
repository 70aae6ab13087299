"""Internal audits (ISO 9001/14001/45001/27001/50001 clause 9.2): planning with a checklist
of the scoped clauses, recording results and findings (a nonconformity raises a corrective
action), and completing the audit."""

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from isocert.accounts.models import Organization, User
from isocert.accounts.services import ensure_can_edit
from isocert.catalog.models import Clause, Standard
from isocert.core.audit import record_event
from isocert.core.errors import Conflict, InvalidInput
from isocert.core.files import check_upload, store_file
from isocert.core.validation import choice_error, clean_date, collect
from isocert.core.values import optional_int

from .actions import create_action
from .common import (
    clean_clause,
    clean_member,
    clean_standard,
    clean_text,
    raise_errors,
)
from .models import (
    INTERNAL_AUDIT_LIFECYCLE,
    ChecklistItem,
    InternalAudit,
    InternalFinding,
)

CORRECTIVE_ACTION_DAYS = 30  # rules §4 [P]: a corrective-action plan is due 30 days after the audit


def main_clauses(standard: Standard):
    """The default scope of an internal audit: the standard's main clauses (4–10)."""
    return Clause.objects.filter(standard=standard, group="clauses", depth=0).order_by("position")


def _clause_numbers(value) -> list[str]:
    if isinstance(value, str):
        value = value.replace(";", ",").replace("\n", ",").split(",")
    return [str(n).strip() for n in value or [] if str(n).strip()]


@transaction.atomic
def create_internal_audit(
        *, organization: Organization, title: str, standard: Standard | str,
        start_date: datetime.date | str | None, end_date: datetime.date | str | None,
        auditor_ids: Iterable[int | User], clauses: Iterable[str] | str = (),
        processes: str = "", site_ids: Iterable[int] = (), actor: User) -> InternalAudit:
    """Plan an internal audit; its checklist has one row per scoped clause.

    ``standard`` by code, ``auditor_ids`` members of the organization, ``clauses`` clause
    numbers (a list or text separated by commas; empty = all main clauses).
    """
    ensure_can_edit(organization, actor)
    errors: dict[str, str] = {}
    title = collect(errors, clean_text, title, "title", "Title", required=True, limit=200)
    standard = clean_standard(standard, "standard", errors, required=True)
    start = collect(errors, clean_date, start_date, "start_date", required=False)
    end = collect(errors, clean_date, end_date, "end_date", required=False)
    if start is None and "start_date" not in errors:
        errors["start_date"] = "Give the first day of the audit."
    if end is None and "end_date" not in errors:
        errors["end_date"] = "Give the last day of the audit."
    if start and end and end < start:
        errors["end_date"] = "The audit cannot end before it starts."
    auditor_ids = list(auditor_ids or [])
    auditors = []
    for value in auditor_ids:
        user = clean_member(organization, value, "auditor_ids", errors,
                       label="Every internal auditor")
        if user is not None:
            auditors.append(user)
    if not auditor_ids:
        errors["auditor_ids"] = "Name at least one internal auditor."
    site_ids = {optional_int(s) for s in site_ids or []}
    if site_ids and (None in site_ids or organization.sites.filter(pk__in=site_ids).count()
                     != len(site_ids)):
        errors["site_ids"] = "Choose sites of this organization."
    scope = []
    if standard is not None:
        numbers = _clause_numbers(clauses)
        if numbers:
            found = {c.number: c for c in Clause.objects.filter(standard=standard,
                                                                number__in=numbers)}
            unknown = [n for n in numbers if n not in found]
            if unknown:
                errors["clauses"] = f"{standard.code} has no clause {', '.join(unknown)}."
            scope = sorted({c.pk: c for c in found.values()}.values(),
                           key=lambda c: c.position)
        else:
            scope = list(main_clauses(standard))
    processes = collect(errors, clean_text, processes, "processes", "Processes", limit=5000)
    raise_errors(errors)
    audit = InternalAudit.objects.create(
        organization=organization, standard=standard, title=title, start_date=start,
        end_date=end, processes=processes, created_by=actor)
    audit.auditors.set(auditors)
    audit.clauses.set(scope)
    audit.sites.set(site_ids)
    ChecklistItem.objects.bulk_create([ChecklistItem(audit=audit, clause=c) for c in scope])
    record_event(actor=actor, action="improvement.internal_audit.created", obj=audit,
                 organization_id=organization.pk, payload={
                     "title": title, "standard": standard.code, "start_date": start,
                     "end_date": end, "auditors": sorted(u.email for u in auditors),
                     "clauses": [c.number for c in scope], "sites": sorted(site_ids)})
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
    item.notes = clean_text(notes, "notes", "Notes", limit=5000)
    item.save()
    record_event(actor=actor, action="improvement.checklist_item.updated", obj=item,
                 organization_id=audit.organization_id,
                 payload={"audit": audit.pk, "clause": item.clause.number, "result": result})
    return item


@transaction.atomic
def add_internal_finding(
        *, audit: InternalAudit, kind: str, clause: Clause | str | None, statement: str,
        evidence: str = "", owner_id: int | None = None,
        due_date: datetime.date | str | None = None, upload=None,
        actor: User) -> InternalFinding:
    """Record a finding; a nonconformity gets a corrective action in the action list
    (owner optional, due 30 days from the audit's end or today, whichever is later)."""
    ensure_can_edit(audit.organization, actor)
    audit = _locked_audit(audit)
    _ensure_planned(audit)
    errors: dict[str, str] = {}
    kind = str(kind or "")
    if kind not in InternalFinding.Kind.values:
        errors["kind"] = choice_error(InternalFinding.Kind, what="the kind of finding")
    clause = clean_clause(clause, audit.standard, "clause", errors)
    if clause is None and "clause" not in errors:
        errors["clause"] = "Give the clause the finding is about."
    statement = collect(errors, clean_text, statement, "statement", "Statement", required=True,
                        limit=5000)
    evidence = collect(errors, clean_text, evidence, "evidence", "Evidence", limit=5000)
    owner = clean_member(audit.organization, owner_id, "owner_id", errors,
                         label="The corrective action's owner")
    due = collect(errors, clean_date, due_date, "due_date", required=False)
    raise_errors(errors)
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
        create_action(organization=audit.organization, actor=actor, finding=finding,
                      title=f"Corrective action: {clause.number} — {statement[:150]}",
                      description=statement, standard=audit.standard, clause=clause,
                      owner_id=owner.pk if owner else None, due_date=due)
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
    conclusion = clean_text(conclusion, "conclusion", "The conclusion",
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
