"""Starting an audit: a complete valid team all declared, a confirmed plan; stage 2 only
after stage 1 is closed, and a late stage 2 needs a recorded justification."""

import datetime

import pytest
from programme_helpers import (
    START,
    add_months,
    audit_of,
    event_count,
    ready_audit,
)

from isocert.audits.models import Audit
from isocert.audits.programme import services as programme
from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed


def test_a_ready_audit_starts(cycle, rita, alice, lead, today_is):
    audit = ready_audit(audit_of(cycle), reviewer=rita, owner=alice, lead=lead)
    today_is(START)
    programme.start_audit(audit=audit, actor=lead)
    audit.refresh_from_db()
    assert audit.status == "in_progress"
    # Starting prepares the checklist: one row per clause of the cycle's standards.
    from isocert.catalog.models import Clause

    clauses = Clause.objects.filter(standard__in=cycle.standards.all()).count()
    assert clauses > 0 and audit.coverage.count() == clauses
    with pytest.raises(TransitionNotAllowed):
        programme.start_audit(audit=audit, actor=lead)


def assert_refused(audit, actor, field):
    events = event_count()
    with pytest.raises(programme.AuditNotReady) as refused:
        programme.start_audit(audit=audit, actor=actor)
    assert field in refused.value.fields
    assert Audit.objects.get(pk=audit.pk).status == "planned"
    assert event_count() == events


def test_no_start_before_every_declaration(cycle, rita, alice, lead):
    audit = ready_audit(audit_of(cycle), reviewer=rita, owner=alice, lead=lead, declare=False)
    assert_refused(audit, rita, "declarations")


def test_no_start_without_a_confirmed_plan(cycle, rita, alice, lead):
    audit = ready_audit(audit_of(cycle), reviewer=rita, owner=alice, lead=lead, confirm=False)
    assert_refused(audit, rita, "plan")


def test_no_start_without_a_lead_auditor(cycle, rita, alice, lead):
    audit = ready_audit(audit_of(cycle), reviewer=rita, owner=alice, lead=lead)
    audit.team.update(role="member")
    assert_refused(audit, rita, "team")


def test_only_the_lead_auditor_or_a_reviewer_starts(cycle, rita, alice, lead, adam):
    audit = ready_audit(audit_of(cycle), reviewer=rita, owner=alice, lead=lead)
    for actor in (alice, adam):
        with pytest.raises(NotPermitted):
            programme.start_audit(audit=audit, actor=actor)


def close(audit, end):
    # Closing an audit is the conduct part's service; its outcome is all stage 2 needs here.
    Audit.objects.filter(pk=audit.pk).update(status="closed", end_date=end)


def test_stage2_waits_for_stage1_to_close(cycle, rita, alice, lead, today_is):
    stage1 = ready_audit(audit_of(cycle), reviewer=rita, owner=alice, lead=lead)
    stage2 = ready_audit(audit_of(cycle, "stage2"), reviewer=rita, owner=alice, lead=lead,
                         start=START + datetime.timedelta(days=30))
    today_is(stage2.start_date)
    assert_refused(stage2, rita, "stage1")

    close(stage1, stage1.end_date)
    programme.start_audit(audit=stage2, actor=rita)


def test_a_late_stage2_needs_a_justification(cycle, rita, alice, lead, settings, today_is):
    stage1 = ready_audit(audit_of(cycle), reviewer=rita, owner=alice, lead=lead)
    late = add_months(stage1.end_date, settings.STAGE2_MAX_MONTHS_AFTER_STAGE1) + \
        datetime.timedelta(days=1)
    stage2 = ready_audit(audit_of(cycle, "stage2"), reviewer=rita, owner=alice, lead=lead,
                         start=late)
    close(stage1, stage1.end_date)
    today_is(late)
    assert_refused(stage2, rita, "late_stage2_justification")

    with pytest.raises(InvalidInput):
        programme.record_late_stage2_justification(audit=stage2, actor=rita,
                                                   justification="short")
    programme.record_late_stage2_justification(
        audit=stage2, actor=rita,
        justification="No changes to processes or sites since stage 1; confirmed by phone.")
    programme.start_audit(audit=stage2, actor=rita)
    assert Audit.objects.get(pk=stage2.pk).status == "in_progress"


def test_stage2_on_the_last_allowed_day_needs_no_justification(cycle, rita, alice, lead,
                                                              settings, today_is):
    stage1 = ready_audit(audit_of(cycle), reviewer=rita, owner=alice, lead=lead)
    on_time = add_months(stage1.end_date, settings.STAGE2_MAX_MONTHS_AFTER_STAGE1)
    stage2 = ready_audit(audit_of(cycle, "stage2"), reviewer=rita, owner=alice, lead=lead,
                         start=on_time)
    close(stage1, stage1.end_date)
    today_is(on_time)
    programme.start_audit(audit=stage2, actor=rita)
