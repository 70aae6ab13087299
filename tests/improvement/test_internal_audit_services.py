"""Internal audits: scope, checklist, findings, corrective actions, completion."""

import datetime

import pytest
from django.utils import timezone

from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.models import AuditEvent
from isocert.improvement.models import Action, ChecklistItem, InternalAudit
from isocert.improvement.services import (
    add_internal_finding,
    complete_internal_audit,
    create_internal_audit,
    update_checklist_item,
)


def in_days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def audit_data(nordlicht, *auditors, **overrides):
    data = {"title": "Internal audit Q3", "standard": "ISO 9001", "start_date": in_days(5),
            "end_date": in_days(6), "auditor_ids": [u.pk for u in auditors],
            "processes": "Die casting\nShipping",
            "site_ids": list(nordlicht.sites.values_list("pk", flat=True))}
    data.update(overrides)
    return data


@pytest.fixture
def audit(nordlicht, alice, bob):
    return create_internal_audit(organization=nordlicht, actor=alice,
                                 **audit_data(nordlicht, bob, clauses="7.1.5, 8.5"))


def test_the_default_scope_is_every_main_clause(nordlicht, alice, bob):
    audit = create_internal_audit(organization=nordlicht, actor=alice,
                                  **audit_data(nordlicht, bob))

    numbers = list(audit.checklist.values_list("clause__number", flat=True))
    assert numbers == ["4", "5", "6", "7", "8", "9", "10"]
    assert sorted(audit.clauses.values_list("number", flat=True)) == sorted(numbers)
    assert list(audit.auditors.all()) == [bob]
    assert audit.sites.count() == 2
    assert AuditEvent.objects.filter(action="improvement.internal_audit.created").count() == 1


def test_the_checklist_follows_the_chosen_clauses(audit):
    assert list(audit.checklist.values_list("clause__number", "result")) == [
        ("7.1.5", "not_checked"), ("8.5", "not_checked")]


@pytest.mark.parametrize("overrides, field", [
    ({"end_date": in_days(4)}, "end_date"),
    ({"clauses": "8.5, 12.1"}, "clauses"),
    ({"auditor_ids": []}, "auditor_ids"),
    ({"standard": "ISO 9999"}, "standard"),
])
def test_bad_plans_are_refused(nordlicht, alice, bob, overrides, field):
    with pytest.raises(InvalidInput) as refused:
        create_internal_audit(organization=nordlicht, actor=alice,
                              **audit_data(nordlicht, bob, **overrides))
    assert field in refused.value.fields
    assert InternalAudit.objects.count() == 0


def test_an_audit_may_start_and_end_the_same_day(nordlicht, alice, bob):
    audit = create_internal_audit(organization=nordlicht, actor=alice,
                                  **audit_data(nordlicht, bob, end_date=in_days(5)))
    assert audit.start_date == audit.end_date


def test_auditors_must_be_members(nordlicht, alice, charlie):
    with pytest.raises(InvalidInput) as refused:
        create_internal_audit(organization=nordlicht, actor=alice,
                              **audit_data(nordlicht, alice, charlie))
    assert refused.value.fields["auditor_ids"].startswith("Every internal auditor must be")
    assert InternalAudit.objects.count() == 0


def test_sites_must_be_the_organizations(nordlicht, alice, brightpath):
    with pytest.raises(InvalidInput) as refused:
        create_internal_audit(organization=nordlicht, actor=alice, **audit_data(
            nordlicht, alice, site_ids=list(brightpath.sites.values_list("pk", flat=True))))
    assert "site_ids" in refused.value.fields


def test_a_viewer_cannot_plan_or_record(nordlicht, vera, audit):
    with pytest.raises(NotPermitted):
        create_internal_audit(organization=nordlicht, actor=vera,
                              **audit_data(nordlicht, vera))
    with pytest.raises(NotPermitted):
        update_checklist_item(item=audit.checklist.first(), actor=vera, result="conforming")
    with pytest.raises(NotPermitted):
        add_internal_finding(audit=audit, actor=vera, kind="observation", clause="8.5",
                             statement="x")


def test_a_nonconformity_raises_a_corrective_action(audit, alice, bob):
    finding = add_internal_finding(audit=audit, actor=bob, kind="nonconformity", clause="8.5",
                                   statement="Work instructions missing at "
        "cell 4.", evidence="Visited cell 4 on day 1.")

    action = Action.objects.get(finding=finding)
    assert action.organization == audit.organization
    assert (action.standard.code, action.clause.number, action.owner) == ("ISO 9001", "8.5", None)
    assert action.due_date == audit.end_date + datetime.timedelta(days=30)
    assert action.title.startswith("Corrective action: 8.5")
    assert audit.checklist.get(clause__number="8.5").result == "finding"


def test_a_corrective_action_can_have_an_owner_and_due_date(audit, bob):
    finding = add_internal_finding(audit=audit, actor=bob, kind="nonconformity", clause="7.1.5",
                                   statement="Gauge overdue.", owner_id=bob.pk,
                                   due_date=in_days(14))
    assert (finding.corrective_action.owner, finding.corrective_action.due_date) == (
        bob, in_days(14))


def test_observations_and_opportunities_raise_no_action(audit, bob):
    for kind in ("observation", "opportunity"):
        add_internal_finding(audit=audit, actor=bob,
                             kind=kind, clause="8.5", statement=kind)
    assert Action.objects.count() == 0
    assert audit.findings.count() == 2


def test_a_finding_needs_a_known_clause_and_a_member_owner(audit, bob, charlie):
    with pytest.raises(InvalidInput) as refused:
        add_internal_finding(audit=audit, actor=bob, kind="nonconformity", clause="99",
                             statement="x", owner_id=charlie.pk)
    assert set(refused.value.fields) == {"clause", "owner_id"}
    assert audit.findings.count() == 0 and Action.objects.count() == 0


def test_completing_needs_every_row_checked_and_a_conclusion(audit, bob):
    first, second = audit.checklist.all()
    update_checklist_item(item=first, actor=bob, result="conforming", notes="Calibrated.")

    with pytest.raises(InvalidInput, match="still open: 8.5"):
        complete_internal_audit(audit=audit, actor=bob, conclusion="Fine.")
    audit.refresh_from_db()
    assert audit.status == "planned"

    update_checklist_item(item=second, actor=bob, result=ChecklistItem.Result.CONFORMING)
    with pytest.raises(InvalidInput):
        complete_internal_audit(audit=audit, actor=bob, conclusion="  ")
    done = complete_internal_audit(audit=audit, actor=bob, conclusion="System is effective.")
    assert (done.status, done.conclusion) == ("completed", "System is effective.")


def test_a_completed_audit_is_read_only(audit, bob):
    for item in audit.checklist.all():
        update_checklist_item(item=item, actor=bob, result="conforming")
    complete_internal_audit(audit=audit, actor=bob, conclusion="Done.")
    with pytest.raises(Conflict):
        update_checklist_item(item=audit.checklist.first(), actor=bob, result="not_checked")
    with pytest.raises(Conflict):
        add_internal_finding(audit=audit, actor=bob,
                             kind="observation", clause="8.5", statement="x")


def test_a_row_marked_finding_raised_needs_a_recorded_finding(audit, bob):
    conforming, marked = audit.checklist.all()
    update_checklist_item(item=conforming, actor=bob, result="conforming")
    update_checklist_item(item=marked, actor=bob, result=ChecklistItem.Result.FINDING)

    with pytest.raises(InvalidInput, match='"Finding raised" for 8.5') as refused:
        complete_internal_audit(audit=audit, actor=bob, conclusion="Effective.")
    assert "8.5" in refused.value.fields["checklist"]
    audit.refresh_from_db()
    assert audit.status == "planned"
    assert not AuditEvent.objects.filter(action="improvement.internal_audit.completed").exists()

    add_internal_finding(audit=audit, actor=bob, kind="observation", clause="8.5",
                         statement="Release records are late.")
    done = complete_internal_audit(audit=audit, actor=bob, conclusion="Effective.")
    assert done.status == "completed"


def test_a_finding_on_a_sub_clause_answers_its_main_clause_row(nordlicht, alice, bob):
    audit = create_internal_audit(organization=nordlicht, actor=alice,
                                  **audit_data(nordlicht, bob, clauses="7, 8"))
    row_7, row_8 = audit.checklist.all()
    update_checklist_item(item=row_7, actor=bob, result="finding")
    update_checklist_item(item=row_8, actor=bob, result="finding")
    add_internal_finding(audit=audit, actor=bob, kind="nonconformity", clause="7.5.3",
                         statement="Obsolete drawings in use.")

    with pytest.raises(InvalidInput) as refused:
        complete_internal_audit(audit=audit, actor=bob, conclusion="Effective.")
    assert refused.value.fields["checklist"].endswith(": 8.")
    assert "7," not in refused.value.message

    add_internal_finding(audit=audit, actor=bob, kind="nonconformity", clause="8.5.1",
                         statement="No work instructions.")
    assert complete_internal_audit(audit=audit, actor=bob,
                                   conclusion="Two NCs.").status == "completed"


def test_choice_errors_name_the_choices_as_the_page_shows_them(audit, bob):
    with pytest.raises(InvalidInput) as refused:
        update_checklist_item(item=audit.checklist.first(), actor=bob, result="done")
    assert refused.value.fields["result"] == (
        "Choose the result: Not checked, Conforming or Finding raised.")
    with pytest.raises(InvalidInput) as refused:
        add_internal_finding(audit=audit, actor=bob, kind="remark", clause="8.5", statement="x")
    assert refused.value.fields["kind"] == ("Choose the kind of finding: Nonconformity, "
                                            "Observation or Opportunity for improvement.")
