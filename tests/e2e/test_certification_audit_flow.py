"""In a real browser: the certification audits of an initial cycle, stage 1 to the report.

Nordlicht's ISO 9001 application is registered with an accepted quotation (built with
services). Rita, the reviewer, starts the certification cycle from the review page and
plans stage 1: dates, a team — Eve, who consulted for Nordlicht a year ago, is refused
with the impartiality message, Adam joins as lead auditor — a session, and sends the
plan; Alice confirms it. Adam follows the link of his assignment e-mail, signs his
impartiality declaration, starts stage 1, ticks a clause of the checklist, records an
observation, issues the stage-1 report (areas of concern, ready for stage 2) and closes
stage 1. Stage 2 goes the same way up to a major nonconformity; "Recommend
certification" is refused while it is open. Alice answers it with an evidence file, Adam
returns the answer with a comment, Alice answers again (version 2), Adam verifies it and
issues the stage-2 report recommending certification; its PDF names the client, the
finding and the recommendation, and Alice reads the report on her side.
"""

import datetime
import re
import time

import a11y
import pytest
from django.utils import timezone
from factories import make_user, nordlicht_two_sites
from helpers.browser import log_in, signed_in_message
from helpers.dates import shown
from helpers.mail import wait_for_mail
from helpers.pdf import pdf_text
from playwright.sync_api import Page, expect
from programme_helpers import auditor, quoted_application, relationship

ALICE, RITA = "alice@nordlicht.example", "rita@cb.example"
ADAM, EVE = "adam@cb.example", "eve@cb.example"
CLIENT = "Nordlicht Aluminium GmbH"
OBSERVATION = "Document control relies on one person; no deputy is named."
MAJOR = "No internal audit of the production processes was carried out in 2025."
MAJOR_EVIDENCE = "Internal audit programme 2025: only sales and purchasing audited."
FIRST_ACTION = "We will audit production next year."
RETURN_COMMENT = "Audit production now and show the report; next year is too late."
SECOND_ACTION = "Production audited on 12 May by a trained auditor; report attached."
RECOMMEND = "Recommend certification"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

pytestmark = pytest.mark.browser


def _set_up():
    """Nordlicht's quoted ISO 9001 application; Adam (lead, qualified) and Eve (qualified,
    but Nordlicht's consultant until a year ago)."""
    alice = make_user(ALICE, "Alice Owner")
    rita = make_user(RITA, "Rita Reviewer", roles=["reviewer"])
    auditor(ADAM, "Adam Auditor", lead=True)
    eve = auditor(EVE, "Eve Auditor", lead=True)
    organization = nordlicht_two_sites(alice, shifts=1)
    application = quoted_application(organization, alice, rita)
    today = timezone.localdate()
    consultancy_end = today - datetime.timedelta(days=365)
    relationship(eve, organization, start=today - datetime.timedelta(days=3 * 365),
                 end=consultancy_end)
    return application, consultancy_end


def _audit_row(page: Page, kind: str):
    return page.get_by_test_id("audits").get_by_role("row").filter(
        has=page.get_by_role("cell", name=kind, exact=True))


def _plan_audit(rita: Page, kind: str, start: datetime.date, days: int, *,
                before_team=None) -> None:
    """From the cycle page: dates, (``before_team(team)``,) Adam as lead auditor, one
    session, the plan sent."""
    _audit_row(rita, kind).get_by_role("link", name="Planning").click()
    expect(rita.get_by_role("heading", level=1)).to_contain_text(f"{kind} — {CLIENT}")
    end = start + datetime.timedelta(days=days - 1)
    dates = rita.get_by_role("region", name="Dates")
    dates.get_by_label("Start date").fill(start.isoformat())
    dates.get_by_label("End date").fill(end.isoformat())
    if start < timezone.localdate():    # recorded after the fact: the reason is required
        dates.get_by_label("Why the dates are past (late entry)").fill(
            "Entered after the audit: the portal was down during the audit week.")
    dates.get_by_role("button", name="Save dates").click()
    expect(rita.get_by_text("Dates saved.")).to_be_visible()

    team = rita.get_by_role("region", name="Team")
    if before_team:
        before_team(team)
    expect(team.get_by_test_id("finder")).to_contain_text("Adam Auditor (lead auditor)")
    expect(team.get_by_test_id("finder")).not_to_contain_text("Eve Auditor")
    team.get_by_label("Auditor").select_option(label=f"Adam Auditor ({ADAM})")
    team.get_by_label("Role").select_option(label="Lead auditor")
    team.get_by_role("button", name="Assign").click()
    expect(rita.get_by_text("Auditor assigned.")).to_be_visible()
    expect(team.get_by_role("row", name=re.compile("^Adam Auditor Lead auditor Not declared"))
           ).to_be_visible()

    plan = rita.get_by_role("region", name=re.compile("^Audit plan"))
    plan.get_by_label("Starts").fill(f"{start.isoformat()}T09:00")
    plan.get_by_label("Ends").fill(f"{start.isoformat()}T10:00")
    plan.get_by_label("Clause or process").fill("Opening meeting")
    plan.get_by_label("Auditee").fill("Alice Owner")
    plan.get_by_label("Auditor").select_option(label="Adam Auditor")
    plan.get_by_role("button", name="Add session").click()
    expect(rita.get_by_text("Session added.")).to_be_visible()
    expect(plan.get_by_role("row", name=re.compile("Opening meeting"))).to_contain_text(
        "Adam Auditor")
    plan.get_by_role("button", name="Send the plan to the client").click()
    expect(rita.get_by_text("Plan sent to the client.")).to_be_visible()
    expect(plan.get_by_role("heading", name=re.compile("^Audit plan"))).to_contain_text("Sent to the client")


def _confirm_plan(alice: Page, application, kind: str) -> None:
    alice.get_by_role("link", name="Dashboard").click()
    alice.get_by_role("link", name=application.reference).click()
    alice.get_by_role("link", name="Your certification cycle").click()
    _audit_row(alice, kind).get_by_role("link", name="Plan", exact=True).click()
    expect(alice.get_by_test_id("plan-status")).to_have_text("Sent to the client")
    expect(alice.get_by_text("Team: Adam Auditor (Lead auditor)")).to_be_visible()
    alice.get_by_role("button", name="Confirm the plan").click()
    expect(alice.get_by_text("Thank you: the plan is confirmed.")).to_be_visible()
    expect(alice.get_by_test_id("plan-status")).to_have_text("Confirmed by the client")


def _declare_and_start(adam: Page, kind: str) -> None:
    """Adam opens the planning page from his assignment e-mail, declares and starts."""
    message = wait_for_mail(ADAM, f"You are on the {kind} audit team of")
    path = re.search(r"/audits/\d+/planning/", message.body).group(0)
    adam.goto(path)
    expect(adam.get_by_test_id("start-problems")).to_contain_text(
        "Impartiality declaration not signed by Adam Auditor.")
    # The statement is offered with the standard text; the no-threat tick is his to give.
    adam.get_by_label("I know of no threat to my impartiality for this audit").check()
    adam.get_by_role("button", name="Sign my impartiality declaration").click()
    expect(adam.get_by_text("Impartiality declaration signed.")).to_be_visible()
    expect(adam.get_by_text("The team is complete; everyone declared impartiality.")
           ).to_be_visible()
    adam.get_by_role("button", name="Start audit").click()
    expect(adam.get_by_text("Audit started.")).to_be_visible()
    expect(adam.get_by_test_id("status")).to_have_text("In progress")
    adam.get_by_role("link", name="Conduct (checklist, records, findings)").click()


def _record_finding(adam: Page, grade: str, clause: str, statement: str, evidence: str):
    findings = adam.get_by_role("region", name="Findings", exact=True)
    findings.get_by_text("Record a finding").click()
    findings.get_by_label("Grade").select_option(label=grade)
    findings.get_by_label("Clause").select_option(label=clause)
    findings.get_by_label("Statement").fill(statement)
    findings.get_by_label("Objective evidence").fill(evidence)
    findings.get_by_role("button", name="Record finding").click()
    expect(adam.get_by_text(re.compile(r"^Finding #1 recorded\.$"))).to_be_visible()
    row = findings.get_by_role("row").filter(has_text=statement)
    expect(row).to_contain_text(grade)
    return row


def _review(adam: Page, decision: str, comment: str = "") -> None:
    review = adam.get_by_role("region", name=re.compile("^Review version"))
    review.get_by_label(decision).check()
    if comment:
        review.get_by_role("textbox", name="Comment").fill(comment)
    review.get_by_role("button", name="Record the review").click()


def _answer(alice: Page, corrective_action: str, evidence_name: str) -> None:
    alice.get_by_label("Correction").fill("Production audit scheduled at once.")
    alice.get_by_label("Root cause").fill("The audit programme was not risk-based.")
    alice.get_by_label("Corrective action").fill(corrective_action)
    alice.get_by_label("Evidence").set_input_files(
        {"name": evidence_name, "mimeType": "application/pdf", "buffer": PDF})
    alice.get_by_role("button", name="Send to the auditor").click()


def test_stage1_and_stage2_to_recommendation(new_page, tmp_path):
    started = time.monotonic() - a11y.seconds_in_checks()   # the budget is the flow's own
    application, consultancy_end = _set_up()
    today = timezone.localdate()
    # An audit starts on or after its first day: both are entered late, stage 2 ending today.
    stage1_start = today - datetime.timedelta(days=4)
    stage2_start = today - datetime.timedelta(days=2)

    # 1. Rita starts the cycle from the review page and plans stage 1; Eve is refused.
    rita = new_page()
    log_in(rita, RITA, totp=True, landing=signed_in_message)
    rita.goto(f"/review/{application.pk}/")
    rita.get_by_role("button", name="Start certification cycle").click()
    expect(rita.get_by_text("Certification cycle started.")).to_be_visible()
    expect(_audit_row(rita, "Stage 1")).to_contain_text("Planned")
    expect(_audit_row(rita, "Surveillance 2")).to_be_visible()
    cycle_url = rita.url

    def refuse_eve(team):
        team.get_by_label("Auditor").select_option(label=f"Eve Auditor ({EVE})")
        team.get_by_label("Role").select_option(label="Auditor")
        team.get_by_role("button", name="Assign").click()
        expect(rita.get_by_role("status").get_by_text(
            f"Eve Auditor declared management-system consultancy for {CLIENT} "
            f"(until {shown(consultancy_end)}): nobody may audit a client they advised "
            "or worked for within 2 years.")).to_be_visible()
        expect(team.get_by_role("row", name="Nobody yet.")).to_be_visible()

    _plan_audit(rita, "Stage 1", stage1_start, 2, before_team=refuse_eve)

    # 2. Alice confirms the plan.
    alice = new_page()
    log_in(alice, ALICE, landing=signed_in_message)
    _confirm_plan(alice, application, "Stage 1")

    # 3. Adam declares, starts stage 1, covers a clause, records an observation, issues the
    #    stage-1 report and closes stage 1.
    adam = new_page()
    log_in(adam, ADAM, totp=True, landing=signed_in_message)
    _declare_and_start(adam, "Stage 1")
    checklist = adam.get_by_role("region", name=re.compile("^Checklist by clause"))
    expect(checklist.get_by_role("heading")).to_contain_text("(0 of ")
    row = checklist.locator("li.gap-row").filter(has_text="ISO 9001 7.5 Documented information")
    row.get_by_role("checkbox").check()
    row.get_by_role("textbox").fill("Document control procedure QP-07 reviewed.")
    row.get_by_role("button", name="Save clause 7.5").click()
    expect(row.get_by_role("status")).to_have_text("Saved.")
    _record_finding(adam, "Observation", "ISO 9001 7.5 Documented information", OBSERVATION,
                    "Procedure QP-07 names the quality manager only.")

    adam.get_by_role("link", name="Write or correct the report").click()
    issue = adam.get_by_role("region", name="Issue the report to the client")
    issue.get_by_label("Auditor days spent").fill("1.5")
    issue.get_by_label("Conclusion").fill("The management system is documented and in use.")
    issue.get_by_label("Areas of concern").fill("Internal audits of production.")
    issue.get_by_label("Ready for stage 2?").select_option(label="Yes")
    issue.get_by_role("button", name="Issue the report").click()
    expect(adam.get_by_text("Report revision 1 issued to the client.")).to_be_visible()
    report = adam.get_by_role("region", name="Revision 1")
    expect(report).to_contain_text("Internal audits of production.")
    expect(report).to_contain_text("Ready for stage 2: yes")
    adam.get_by_role("navigation", name="This audit").get_by_role("link", name="Conduct").click()
    adam.get_by_role("button", name="Close the audit").click()
    expect(adam.get_by_text("The audit is closed.")).to_be_visible()
    expect(adam.get_by_test_id("status")).to_have_text("Closed")

    # 4. Stage 2: Rita plans it, Alice confirms, Adam starts it and records a major.
    rita.goto(cycle_url)
    expect(_audit_row(rita, "Stage 1")).to_contain_text("Closed")
    _plan_audit(rita, "Stage 2", stage2_start, 3)
    _confirm_plan(alice, application, "Stage 2")
    _declare_and_start(adam, "Stage 2")
    major = _record_finding(adam, "Major nonconformity", "ISO 9001 9.2 Internal audit", MAJOR,
                            MAJOR_EVIDENCE)
    expect(major).to_contain_text("Awaiting the client's answer")
    finding_url = major.get_by_role("link", name="#1").get_attribute("href")

    # "Recommend certification" is refused while the major is open.
    adam.get_by_role("link", name="Write or correct the report").click()
    issue = adam.get_by_role("region", name="Issue the report to the client")
    issue.get_by_label("Auditor days spent").fill("3")
    issue.get_by_label("Conclusion").fill("The system is effective except internal audit.")
    issue.get_by_label("Recommendation").select_option(label=RECOMMEND)
    issue.get_by_role("button", name="Issue the report").click()
    # Shown at the field and, as a link to it, in the form's error summary.
    expect(issue.locator("#id_recommendation_error").get_by_text(
        "Certification can't be recommended while a major nonconformity is not verified "
        "closed")).to_be_visible()
    summary = issue.get_by_role("group", name="There is a problem")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name=re.compile("^Recommendation: Certification can't")).click()
    expect(issue.get_by_label("Recommendation")).to_be_focused()
    expect(adam.get_by_text("No report has been issued for this audit yet.")).to_be_visible()

    # 5. Alice answers; Adam returns the answer; Alice answers again; Adam verifies.
    alice.reload()  # her plan page, opened before Adam started stage 2
    alice.get_by_role("link", name="Findings and corrective actions").click()
    alice.get_by_role("link", name="#1", exact=True).click()
    expect(alice.get_by_role("heading", level=1)).to_contain_text("Major nonconformity")
    expect(alice.get_by_text(MAJOR)).to_be_visible()
    _answer(alice, FIRST_ACTION, "audit-plan.pdf")
    expect(alice.get_by_text("Answer version 1 sent to the auditor.")).to_be_visible()
    expect(alice.get_by_test_id("status")).to_have_text("Answer submitted")

    adam.goto(finding_url)
    expect(adam.get_by_role("link", name="audit-plan.pdf")).to_be_visible()
    _review(adam, "Return with comments")  # no comment: refused
    expect(adam.locator("#id_comment_error").get_by_text(
        "A comment is required to return an answer.")).to_be_visible()
    _review(adam, "Return with comments", RETURN_COMMENT)
    expect(adam.get_by_text("Finding #1: returned to the client.")).to_be_visible()

    alice.reload()
    expect(alice.get_by_test_id("status")).to_have_text("Returned to the client")
    expect(alice.get_by_text(RETURN_COMMENT)).to_be_visible()
    expect(alice.get_by_role("heading", name="Answer again")).to_be_visible()
    _answer(alice, SECOND_ACTION, "production-audit-report.pdf")
    expect(alice.get_by_text("Answer version 2 sent to the auditor.")).to_be_visible()

    adam.reload()
    expect(adam.get_by_role("heading", name="Review version 2")).to_be_visible()
    expect(adam.get_by_text(SECOND_ACTION)).to_be_visible()
    _review(adam, "Verify implementation (major)")
    expect(adam.get_by_text("Finding #1: implementation verified.")).to_be_visible()
    expect(adam.get_by_test_id("status")).to_have_text("Implementation verified")

    # 6. The stage-2 report recommends certification; its PDF; Alice reads it.
    adam.get_by_role("navigation", name="This audit").get_by_role("link", name="Report").click()
    issue = adam.get_by_role("region", name="Issue the report to the client")
    issue.get_by_label("Auditor days spent").fill("3")
    issue.get_by_label("Conclusion").fill("The system is effective; the major is closed.")
    issue.get_by_label("Recommendation").select_option(label=RECOMMEND)
    issue.get_by_role("button", name="Issue the report").click()
    expect(adam.get_by_text("Report revision 1 issued to the client.")).to_be_visible()
    report = adam.get_by_role("region", name="Revision 1")
    expect(report).to_contain_text(f"Recommendation: {RECOMMEND}")
    with adam.expect_download() as download_info:
        report.get_by_role("link", name="PDF", exact=True).click()
    download = download_info.value
    assert download.suggested_filename.endswith("-rev1.pdf"), download.suggested_filename
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    text = pdf_text(path.read_bytes())
    assert CLIENT in text, text
    assert "Audit report — Stage 2" in text, text
    assert MAJOR in text, text
    assert f"Recommendation: {RECOMMEND}" in text, text

    adam.get_by_role("navigation", name="This audit").get_by_role("link", name="Conduct").click()
    adam.get_by_role("button", name="Close the audit").click()
    expect(adam.get_by_text("The audit is closed.")).to_be_visible()

    alice.get_by_role("navigation", name="This audit").get_by_role("link", name="Report").click()
    expect(alice.get_by_role("heading", level=1)).to_have_text(
        f"Audit report: Stage 2 — {CLIENT}")
    expect(alice.get_by_role("region", name="Revision 1")).to_contain_text(
        f"Recommendation: {RECOMMEND}")
    expect(alice.get_by_role("region", name="Issue the report to the client")).to_have_count(0)
    assert time.monotonic() - a11y.seconds_in_checks() - started < 120
