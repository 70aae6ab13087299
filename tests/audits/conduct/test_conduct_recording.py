"""Checklist, records and findings: only the team of an audit in progress records."""

import datetime

import pytest
from conduct_helpers import LAST_DAY, PDF, events, finding_data, make_audit
from django.core.files.uploadedfile import SimpleUploadedFile

from isocert.audits.conduct import services as conduct
from isocert.audits.models import AuditRecord, ClauseCoverage, Finding
from isocert.core.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent


@pytest.fixture
def audit(registered, adam):
    return make_audit(registered, adam)


@pytest.fixture
def other_auditor(db):
    from factories import make_user

    return make_user("otto@cb.example", "Otto Auditor", roles=["auditor"])


def test_the_checklist_has_a_row_per_clause_of_the_audited_standards(audit):
    standard_clauses = set(conduct.audit_clauses(audit).values_list("pk", flat=True))

    assert set(audit.coverage.values_list("clause_id", flat=True)) == standard_clauses
    assert not audit.coverage.filter(covered=True).exists()
    assert conduct.prepare_checklist(audit) == 0  # idempotent
    assert audit.coverage.count() == len(standard_clauses)


def test_a_team_member_covers_a_clause_with_internal_notes(audit, adam):
    row = audit.coverage.get(clause__number="6.3")
    before = events()

    conduct.update_coverage(coverage=row, actor=adam, covered=True,
                            internal_notes="Energy review seen with the plant manager.")

    row.refresh_from_db()
    assert row.covered and row.internal_notes.startswith("Energy review")
    assert events() == before + 1
    assert AuditEvent.objects.last().action == "audits.coverage.updated"
    assert "Energy review" not in str(AuditEvent.objects.last().payload)


@pytest.mark.parametrize("who", ["other_auditor", "rita", "alice"])
def test_anyone_not_on_the_team_is_refused_recording(audit, request, who):
    actor = request.getfixturevalue(who)
    row = audit.coverage.get(clause__number="6.3")
    before = events()

    with pytest.raises(NotPermitted):
        conduct.update_coverage(coverage=row, actor=actor, covered=True)
    with pytest.raises(NotPermitted):
        conduct.add_record(audit=audit, actor=actor, kind="interview", text="x")
    with pytest.raises(NotPermitted):
        conduct.create_finding(audit=audit, actor=actor, **finding_data(audit))

    row.refresh_from_db()
    assert not row.covered
    assert not AuditRecord.objects.exists() and not Finding.objects.exists()
    assert events() == before


@pytest.mark.parametrize("status", ["planned", "closed", "cancelled"])
def test_recording_is_refused_unless_the_audit_is_in_progress(registered, adam, status):
    audit = make_audit(registered, adam, status=status)
    row = audit.coverage.get(clause__number="6.3")
    before = events()

    with pytest.raises(TransitionNotAllowed, match="only possible while it is in progress"):
        conduct.update_coverage(coverage=row, actor=adam, covered=True)
    with pytest.raises(TransitionNotAllowed):
        conduct.add_record(audit=audit, actor=adam, kind="interview", text="x")
    with pytest.raises(TransitionNotAllowed):
        conduct.create_finding(audit=audit, actor=adam, **finding_data(audit))

    assert not ClauseCoverage.objects.filter(covered=True).exists()
    assert not AuditRecord.objects.exists() and not Finding.objects.exists()
    assert events() == before


def test_a_record_keeps_its_evidence_file(audit, adam):
    site = audit.cycle.organization.sites.get(name="Oldenburg plant")

    record = conduct.add_record(audit=audit, actor=adam, upload=SimpleUploadedFile("p.pdf", PDF),
                                kind="observation",
                                text="Compressor 3 running",
                                clause_id=conduct.audit_clauses(audit).get(
                                          number="6.3").pk,
                                site_id=site.pk)

    assert record.kind == "observation" and record.site == site
    assert record.file.content_type == "application/pdf"
    assert AuditEvent.objects.last().action == "audits.record.added"


def test_a_record_is_refused_with_bad_fields_and_nothing_is_saved(audit, adam, brightpath):
    before = events()

    with pytest.raises(InvalidInput) as refused:
        conduct.add_record(audit=audit, actor=adam,
                           upload=SimpleUploadedFile("x.exe", b"MZ\x90\x00"),
                           kind="gossip",
                           text="",
                           site_id=brightpath.sites.first().pk)

    assert set(refused.value.fields) == {"kind", "text", "site_id", "file"}
    assert not AuditRecord.objects.exists()
    assert events() == before


@pytest.mark.parametrize("grade,status,plan_due,verification_due", [
    ("major", "open", 30, 90), ("minor", "open", 30, None),
    ("observation", "n/a", None, None), ("opportunity", "n/a", None, None)])
def test_findings_are_numbered_graded_and_get_their_due_dates(audit, adam, grade, status,
                                                               plan_due, verification_due):
    first = conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, "minor"))
    finding = conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, grade))

    assert (first.number, finding.number) == (1, 2)
    assert finding.status == status
    assert finding.plan_due == (LAST_DAY + datetime.timedelta(days=plan_due)
                                if plan_due else None)
    assert finding.verification_due == (LAST_DAY + datetime.timedelta(days=verification_due)
                                        if verification_due else None)
    assert AuditEvent.objects.last().action == "audits.finding.recorded"


def test_due_dates_follow_the_settings(audit, adam, settings):
    settings.CORRECTIVE_PLAN_DUE_DAYS = 14
    settings.MAJOR_VERIFICATION_DUE_DAYS = 60

    finding = conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, "major"))

    assert finding.plan_due == LAST_DAY + datetime.timedelta(days=14)
    assert finding.verification_due == LAST_DAY + datetime.timedelta(days=60)


def test_a_finding_needs_grade_clause_statement_and_evidence(audit, adam, registered):
    from isocert.catalog.models import Clause

    foreign_clause = Clause.objects.exclude(standard__in=audit.cycle.standards.all()).first()
    before = events()

    with pytest.raises(InvalidInput) as refused:
        conduct.create_finding(audit=audit, actor=adam, grade="critical",
                                                        clause_id=foreign_clause.pk,
                                                        statement=" ",
                                                        objective_evidence="")

    assert set(refused.value.fields) == {"grade", "clause_id", "statement",
                                         "objective_evidence"}
    assert not Finding.objects.exists()
    assert events() == before


def test_a_finding_is_changed_or_deleted_until_the_client_answers(audit, adam, alice):
    finding = conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, "minor"))

    changed = conduct.update_finding(finding=finding, actor=adam, grade="observation")
    assert (changed.grade, changed.status, changed.plan_due) == ("observation", "n/a", None)
    changed = conduct.update_finding(finding=finding, actor=adam, grade="major")
    assert changed.status == "open" and changed.verification_due

    from conduct_helpers import ANSWER

    conduct.submit_corrective_action(finding=finding, actor=alice, **ANSWER)
    before = events()
    with pytest.raises(Conflict):
        conduct.update_finding(finding=finding, actor=adam, grade="minor")
    with pytest.raises(Conflict):
        conduct.delete_finding(finding=finding, actor=adam)
    finding.refresh_from_db()
    assert finding.grade == "major"
    assert events() == before

    other = conduct.create_finding(audit=audit, actor=adam, **finding_data(audit))
    conduct.delete_finding(finding=other, actor=adam)
    assert not Finding.objects.filter(pk=other.pk).exists()
    assert AuditEvent.objects.last().action == "audits.finding.deleted"
    assert conduct.create_finding(audit=audit, actor=adam, **finding_data(audit)).number == 2
