"""The auditor's working papers: the checklist of clauses covered (with the CB's internal
notes) and the records of what was seen (ISO/IEC 17021-1 §9.4.4). CB-internal: the
client sees neither."""


from django.db import transaction

from isocert.accounts.models import User
from isocert.core.audit import record_event
from isocert.core.errors import InvalidInput
from isocert.core.files import check_upload, store_file

from ..programme.models import Audit
from .common import (
    audit_clauses,
    clean_choice,
    clean_clause,
    clean_site,
    clean_text,
    ensure_in_progress,
    ensure_team_member,
    locked_audit,
)
from .models import (
    AuditRecord,
    ClauseCoverage,
)


@transaction.atomic
def prepare_checklist(audit: Audit) -> int:
    """Give the audit one checklist row per clause of its standards; returns how many were added.

    Called when the audit starts; idempotent (rows already there are kept with their notes).
    """
    have = set(ClauseCoverage.objects.filter(audit=audit).values_list("clause_id", flat=True))
    rows = [ClauseCoverage(audit=audit, clause=clause)
            for clause in audit_clauses(audit) if clause.pk not in have]
    ClauseCoverage.objects.bulk_create(rows)
    if rows:
        record_event(actor=None, action="audits.checklist.prepared", obj=audit,
                     organization_id=audit.cycle.organization_id, payload={"rows": len(rows)})
    return len(rows)


@transaction.atomic
def update_coverage(*, coverage: ClauseCoverage, actor: User, covered: bool | None = None,
                    internal_notes: str | None = None) -> ClauseCoverage:
    """Tick a clause as covered and keep the CB's internal notes on it."""
    audit = coverage.audit
    ensure_team_member(audit, actor, "fill in the checklist")
    audit = locked_audit(audit)
    ensure_in_progress(audit, "filling in the checklist")
    coverage = ClauseCoverage.objects.select_for_update().get(pk=coverage.pk)
    errors: dict = {}
    if internal_notes is not None:
        internal_notes = clean_text({"internal_notes": internal_notes}, "internal_notes",
                                    "Internal notes", errors, required=False)
    if errors:
        raise InvalidInput("The checklist row was not saved.", fields=errors)
    if covered is not None:
        coverage.covered = bool(covered)
    if internal_notes is not None:
        coverage.internal_notes = internal_notes
    coverage.save(update_fields=["covered", "internal_notes"])
    record_event(actor=actor, action="audits.coverage.updated", obj=coverage,
                 organization_id=audit.cycle.organization_id,
                 payload={"audit": audit.pk, "clause": coverage.clause.number,
                          "covered": coverage.covered})
    return coverage


# --- records -----------------------------------------------------------------------------------

@transaction.atomic
def add_record(*, audit: Audit, actor: User, kind: str = "", text: str = "",
               clause_id: int | None = None,
               site_id: int | None = None, upload=None) -> AuditRecord:
    """Keep what the auditor saw (document review, interview, site observation), with a file.

    The clause must be of the audited standards and the site of the audited organization."""
    data = {"kind": kind, "text": text, "clause_id": clause_id, "site_id": site_id}
    ensure_team_member(audit, actor, "record audit evidence")
    audit = locked_audit(audit)
    ensure_in_progress(audit, "recording")
    errors: dict = {}
    kind = clean_choice(data, "kind", AuditRecord.Kind.choices, "kind of record", errors)
    text = clean_text(data, "text", "What you saw", errors)
    clause = clean_clause(audit, data, errors, required=False)
    site = clean_site(audit, data, errors)
    checked = None
    if upload is not None:
        try:
            checked = check_upload(upload, field="file")
        except InvalidInput as exc:
            errors.update(exc.fields)
    if errors:
        raise InvalidInput("The record was not saved.", fields=errors)
    record = AuditRecord.objects.create(
        audit=audit, kind=kind, text=text, clause=clause, site=site,
        file=store_file(checked) if checked else None, created_by=actor)
    record_event(actor=actor, action="audits.record.added", obj=record,
                 organization_id=audit.cycle.organization_id,
                 payload={"audit": audit.pk, "kind": kind,
                          "file": checked.sha256 if checked else None})
    return record
