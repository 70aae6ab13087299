"""In a real browser: a hybrid stage 1 (IAF MD 4).

Nordlicht's cycle is started and its stage 1 has dates, Adam as lead auditor, a remote
session and one on site (built with services). Rita, the reviewer, records the use of ICT
and its feasibility and risk assessment on the planning page; sending the plan is refused
while Alice has not agreed. Alice reads the arrangement on her plan page and agrees; Rita
sends the plan, which shows Alice the remote session and the share held remotely. After the
audit (its conduct is built with services) the report Alice reads states the ICT used, the
remote share and sessions, and what could not be seen remotely.
"""

import datetime

import pytest
from factories import make_user, nordlicht_two_sites
from helpers.browser import log_in
from playwright.sync_api import Page, expect
from programme_helpers import START, audit_of, auditor, cycle_for, sign_declaration

from isocert.audits.conduct import services as conduct
from isocert.audits.models import Audit, AuditPlan, TeamMember
from isocert.audits.programme import services as programme

ALICE, RITA, ADAM = "alice@nordlicht.example", "rita@cb.example", "adam@cb.example"
ICT = "Video conference with screen sharing; read access to the document system."
NOT_VISIBLE = "Foundry floor and die-casting cells: audited on site."

pytestmark = pytest.mark.browser


def _set_up() -> Audit:
    alice = make_user(ALICE, "Alice Owner")
    rita = make_user(RITA, "Rita Reviewer", roles=["reviewer"])
    adam = auditor(ADAM, "Adam Auditor", lead=True)
    cycle = cycle_for(nordlicht_two_sites(alice, shifts=1), alice, rita)
    audit = audit_of(cycle)
    programme.schedule_audit(audit=audit, actor=rita, start_date=START, end_date=START)
    programme.assign_team_member(audit=audit, actor=rita, auditor=adam, role="lead")
    day = START.isoformat()
    programme.add_plan_session(audit=audit, actor=rita, starts_at=f"{day}T09:00",
                               ends_at=f"{day}T10:00", topic="Management review",
                               auditor_id=adam.pk, is_remote=True)
    programme.add_plan_session(audit=audit, actor=rita, starts_at=f"{day}T10:00",
                               ends_at=f"{day}T16:00", topic="Operations", auditor_id=adam.pk)
    return audit


def _record_assessment(rita: Page, audit: Audit) -> None:
    rita.goto(f"/audits/{audit.pk}/planning/")
    card = rita.get_by_role("region", name="Remote and hybrid auditing (IAF MD 4)")
    card.get_by_text("Record the use of ICT and its assessment").click()
    card.get_by_label("ICT used").fill(ICT)
    card.get_by_label("Share of the audit time held remotely (%)").fill("20")
    card.get_by_label("Connectivity (bandwidth, stability, fallback)").fill(
        "Fibre at the head office, tested on a call; phone as fallback.")
    card.get_by_label("Confidentiality and security of information").fill(
        "No recording; documents shown on screen, not sent.")
    card.get_by_label("What can be audited remotely").fill(
        "Management review and document control.")
    card.get_by_label("What cannot be seen remotely").fill(NOT_VISIBLE)
    card.get_by_label("Remote auditing is feasible").check()
    card.get_by_role("button", name="Save the assessment").click()
    expect(rita.get_by_text("Remote-audit assessment saved")).to_be_visible()


def _run_the_audit(audit: Audit) -> None:
    """Alice confirms the plan, Adam declares, holds stage 1 and issues its report."""
    alice = audit.cycle.organization.memberships.get(user__email=ALICE).user
    adam = TeamMember.objects.get(audit=audit).auditor
    programme.confirm_plan(audit=audit, actor=alice)
    sign_declaration(TeamMember.objects.get(audit=audit), adam)
    Audit.objects.filter(pk=audit.pk).update(
        status=Audit.Status.IN_PROGRESS, start_date=START - datetime.timedelta(days=3650),
        end_date=START - datetime.timedelta(days=3650))
    audit.refresh_from_db()
    conduct.prepare_checklist(audit)
    conduct.issue_report(audit=audit, actor=adam, conclusion="Ready for stage 2.",
                         ready_for_stage2=True, spent_days="1")


def test_ict_assessed_agreed_and_shown_in_plan_and_report(new_page):
    audit = _set_up()

    rita = new_page()
    log_in(rita, RITA, totp=True, landing=None)
    _record_assessment(rita, audit)
    card = rita.get_by_role("region", name="Remote and hybrid auditing (IAF MD 4)")
    expect(card.get_by_test_id("remote-arrangement")).to_contain_text(ICT)
    expect(card.get_by_test_id("remote-agreement")).to_have_text("not yet")
    # The plan uses ICT: it is not sent before the client agreed (IAF MD 4).
    expect(card.get_by_test_id("remote-problem")).to_contain_text(
        "The client has not agreed to the use of ICT")
    rita.get_by_role("button", name="Send the plan to the client").click()
    expect(rita.get_by_text("The client has not agreed to the use of ICT").first).to_be_visible()
    assert AuditPlan.objects.get(audit=audit).status == AuditPlan.Status.DRAFT

    alice = new_page()
    log_in(alice, ALICE)
    alice.goto(f"/audits/{audit.pk}/plan/")
    remote = alice.get_by_role("region", name="Remote auditing (IAF MD 4)")
    expect(remote).to_contain_text(ICT)
    expect(remote).to_contain_text("20 % of the audit time")
    expect(remote).to_contain_text(NOT_VISIBLE)
    remote.get_by_role("button", name="We agree to the use of ICT as described").click()
    expect(alice.get_by_text("Thank you: you agreed to the use of ICT")).to_be_visible()
    expect(alice.get_by_test_id("remote-agreement")).to_contain_text("agreed by Alice Owner")

    rita.goto(f"/audits/{audit.pk}/planning/")
    rita.get_by_role("button", name="Send the plan to the client").click()
    expect(rita.get_by_text("Plan sent to the client.")).to_be_visible()

    alice.goto(f"/audits/{audit.pk}/plan/")
    expect(alice.get_by_test_id("plan-status")).to_have_text("Sent to the client")
    plan = alice.get_by_role("region", name="Audit plan")
    expect(plan.get_by_role("row").filter(has_text="Management review")).to_contain_text(
        "remote (ICT)")
    expect(plan.get_by_role("row").filter(has_text="Operations")).not_to_contain_text(
        "remote (ICT)")

    _run_the_audit(audit)
    alice.goto(f"/audits/{audit.pk}/report/")
    report_remote = alice.get_by_test_id("report-remote")
    expect(report_remote).to_contain_text(f"20 % of the audit time held remotely using {ICT}")
    expect(report_remote).to_contain_text("Management review")
    expect(report_remote).to_contain_text(NOT_VISIBLE)
