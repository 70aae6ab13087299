"""In a real browser: from a registered ISO 50001 application to "ready for stage 1".

Nordlicht's ISO 50001 application is registered (built with services, Rita reviewing).
Alice, the owner, then works only in the browser: she starts the ISO 50001 gap
analysis and sees the chart, assesses rows inline (clause 6.3 partially, with notes;
the bulk of the rows is set through the service layer to keep the test fast), records
the energy review and reads the consumption converted to TJ, raises an action for 6.3,
completes it, follows the re-assess hint and re-assesses 6.3 as conforming, records and
completes an internal audit of clauses 4–10 and a management review. The dashboard's
journey then shows gap analysis, implementation and internal audit as done and the
certification audit as the current step; she shares the readiness, and Rita sees it on
the application's review page.
"""

import datetime
import re

import pytest
from django.utils import timezone
from factories import (
    PASSING_ASSESSMENT,
    complete_application_data,
    make_user,
)
from helpers.browser import log_in
from helpers.dates import shown
from playwright.sync_api import Page, expect

ALICE = "alice@nordlicht.example"
RITA = "rita@cb.example"
PARTIAL_NOTES = "Energy review done for the furnaces only; compressed air still missing."
ACTION_TITLE = "Extend the energy review to the compressed-air system"
PAGE_EDITED = ("4.1", "6.3")  # rows Alice assesses in the browser; the rest via services

pytestmark = pytest.mark.browser


def _registered_energy_application():
    """Nordlicht (two sites, IAF sector 17) with its ISO 50001 application registered."""
    from isocert.accounts.services import add_site, create_organization
    from isocert.registration import services

    alice = make_user(ALICE, "Alice Owner")
    rita = make_user(RITA, "Rita Reviewer", roles=["reviewer"])
    organization = create_organization(actor=alice, legal_name="Nordlicht Aluminium GmbH",
                                       country="DE",
                                       registered_address="Hafenstraße 12, 28217 Bremen",
                                       sector_codes=[17],
                                       scope_statement="Die casting of aluminium parts.")
    add_site(organization=organization, actor=alice, name="Bremen head office",
             address="Hafenstraße 12, Bremen", effective_personnel=12, shifts=1)
    add_site(organization=organization, actor=alice, name="Oldenburg plant",
             address="Industrieweg 4, Oldenburg", effective_personnel=12, shifts=2)
    application = services.create_application(organization=organization, actor=alice,
                                               **complete_application_data())
    services.submit_application(application=application, actor=alice)
    services.start_review(application=application, actor=rita)
    services.record_preliminary_assessment(application=application, actor=rita,
                                           **PASSING_ASSESSMENT)
    return alice, services.register_application(application=application, actor=rita)


def _row(page: Page, clause: str):
    """The gap-analysis row of ``clause`` (an <article> labelled by its heading)."""
    return page.locator("article.gap-row").filter(
        has=page.locator("h3 .clause-no", has_text=re.compile(f"^{re.escape(clause)}$")))


def _assess_row(page: Page, clause: str, status: str, notes: str = "") -> None:
    """Open the row inline (htmx), choose the status, save and wait for "Saved."."""
    row = _row(page, clause)
    row.get_by_role("link", name=f"Edit {clause}", exact=True).click()
    row.get_by_label("Status").select_option(label=status)
    if notes:
        row.get_by_label("Notes").fill(notes)
    row.get_by_role("button", name=f"Save {clause}").click()
    expect(row.get_by_text("Saved.")).to_be_visible()
    expect(row.get_by_test_id("row-status")).to_have_text(status)


def _assess_other_rows_as_conforming(assessment_id: int, alice) -> int:
    from isocert.readiness.models import GapItem
    from isocert.readiness.services import update_gap_item

    rows = GapItem.objects.filter(assessment_id=assessment_id).exclude(
        clause__number__in=PAGE_EDITED).select_related("assessment__organization")
    for item in rows:
        update_gap_item(item=item, actor=alice, status="conforms",
                        expected_version=item.version)
    return len(rows)


def test_gap_analysis_to_certification_audit(new_page):
    alice, application = _registered_energy_application()
    organization = application.organization
    today = timezone.localdate()

    page = new_page()
    log_in(page, ALICE)
    journey = page.get_by_role("list", name=f"Certification journey of {organization}")
    expect(journey.get_by_role("listitem").filter(has_text="Registration")).to_contain_text(
        f"Done — {application.registration_number}")
    expect(journey.locator("[aria-current=step]")).to_contain_text("Gap analysis")

    # 1. The ISO 50001 gap analysis, started from the organization's page; the chart drew.
    page.goto(f"/organizations/{organization.pk}/")
    page.get_by_role("link", name="Gap analysis", exact=True).click()
    page.get_by_label("Standard").select_option("ISO 50001")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Gap analysis for ISO 50001:2018 started.")).to_be_visible()
    expect(page.get_by_role("heading", name="Gap analysis ISO 50001:2018 — version 1")
           ).to_be_visible()
    canvas = page.locator("canvas#readiness-chart")
    expect(canvas).to_have_attribute("data-rendered", "true")
    assert page.evaluate("() => typeof window.Chart === 'function'")
    assert page.evaluate(
        "() => Boolean(Chart.getChart(document.getElementById('readiness-chart')))")
    box = canvas.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0, box
    scores = page.get_by_test_id("scores")
    expect(scores.get_by_role("row", name=re.compile(r"^4 Context of the organization"))
           ).to_be_visible()
    expect(scores.get_by_role("row", name=re.compile(r"^10 Improvement"))).to_be_visible()
    expect(page.get_by_test_id("overall-score")).to_have_text("—")
    assessment_id = int(re.search(r"/gap-analysis/(\d+)/", page.url).group(1))

    # 2. Two rows assessed in the page, the rest through the service layer.
    _assess_row(page, "4.1", "Conforms")
    _assess_row(page, "6.3", "Partially conforms", PARTIAL_NOTES)
    expect(_row(page, "6.3").get_by_text(PARTIAL_NOTES)).to_be_visible()
    others = _assess_other_rows_as_conforming(assessment_id, alice)
    page.reload()
    overall = scores.get_by_role("row", name=re.compile(r"^Overall"))
    expect(overall.get_by_role("cell").nth(1)).to_have_text(str(others + 1))  # conforms
    expect(overall.get_by_role("cell").nth(2)).to_have_text("1")  # partially
    expect(overall.get_by_role("cell").nth(5)).to_have_text("0")  # not assessed
    expect(canvas).to_have_attribute("data-rendered", "true")
    bars = page.evaluate("""() => {
        const chart = Chart.getChart(document.getElementById('readiness-chart'));
        return Object.fromEntries(chart.data.labels.map(
            (label, i) => [label, chart.data.datasets[0].data[i]]));
    }""")
    planning = scores.get_by_role("row", name=re.compile(r"^6 Planning")).get_by_role("cell")
    expect(planning.first).to_have_text(f"{bars['6']} %")  # the bar matches the table
    assert bars["6"] < 100 and {k: v for k, v in bars.items() if k != "6"} == dict.fromkeys(
        ["4", "5", "7", "8", "9", "10"], 100.0), bars

    # The energy review (ISO 50001 6.3), converted to TJ exactly.
    page.get_by_role("link", name="Energy review facts").click()
    page.get_by_label("Annual energy consumption").fill("86111.5")
    page.get_by_label("Unit").select_option("MWh")
    page.get_by_label("Energy types, one per line").fill("Electricity\nNatural gas\nDiesel")
    page.get_by_label("Significant energy use 1", exact=True).fill("Die-casting furnaces")
    page.get_by_label("Share of consumption 1 (%)").fill("55")
    page.get_by_label("Significant energy use 2", exact=True).fill("Compressed air")
    page.get_by_label("Share of consumption 2 (%)").fill("20")
    page.get_by_label("Declared energy performance indicators (EnPIs)").fill(
        "kWh per tonne of good castings")
    page.get_by_label("Energy baseline (period and basis)").fill(
        "Calendar year 2024, normalised for tonnes cast")
    page.get_by_role("button", name="Save energy review").click()
    expect(page.get_by_text("Energy-review facts saved.")).to_be_visible()
    expect(page.get_by_test_id("consumption")).to_have_text("86111.500 MWh = 310.0014 TJ")
    recorded = page.get_by_role("region", name="Recorded")
    expect(recorded).to_contain_text("Electricity, Natural gas, Diesel (3)")
    expect(recorded).to_contain_text("Die-casting furnaces — 55.00 %; Compressed air — 20.00 %")
    expect(recorded).to_contain_text("kWh per tonne of good castings")

    # 3. An action for the partially conforming row, completed; then 6.3 re-assessed.
    page.get_by_role("link", name=re.compile(r"^← Gap analysis ISO 50001")).click()
    _row(page, "6.3").get_by_role("link", name="Raise an action for 6.3").click()
    expect(page.get_by_role("heading", name="New action")).to_be_visible()
    page.get_by_label("Title").fill(ACTION_TITLE)
    page.get_by_label("Owner").select_option(label="Alice Owner")
    page.get_by_label("Due date").fill((today + datetime.timedelta(days=14)).isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Action “{ACTION_TITLE}” created.")).to_be_visible()
    facts = page.get_by_role("region", name="Action")
    expect(facts).to_contain_text("ISO 50001 6.3")
    expect(facts).to_contain_text("Gap analysis")
    expect(page.get_by_test_id("status")).to_have_text("Open")

    page.get_by_role("link", name=re.compile(r"^← ")).click()  # the organization
    page.get_by_role("link", name="Actions", exact=True).click()
    page.get_by_role("link", name=ACTION_TITLE).click()
    page.get_by_role("button", name=f"Start “{ACTION_TITLE}”").click()
    expect(page.get_by_test_id("status")).to_have_text("In progress")
    page.get_by_role("button", name=f"Complete “{ACTION_TITLE}”").click()
    expect(page.get_by_test_id("status")).to_have_text("Done")
    expect(page.get_by_text("All actions for 6.3 are closed — re-assess the clause in the "
                            "gap analysis.")).to_be_visible()

    page.get_by_role("link", name="Action list").click()
    hint = page.get_by_test_id("reassess-hint")
    expect(hint).to_have_count(1)
    hint.get_by_role("link", name="Re-assess 6.3").click()
    expect(page.get_by_role("heading", name="Gap analysis ISO 50001:2018 — version 1")
           ).to_be_visible()
    expect(_row(page, "6.3").get_by_role("link", name=ACTION_TITLE)).to_be_visible()
    _assess_row(page, "6.3", "Conforms", "Energy review now covers compressed air too.")
    page.reload()
    expect(page.get_by_test_id("overall-score")).to_have_text("100.0 %")
    expect(_row(page, "6.3").get_by_role("link", name="Raise an action for 6.3")
           ).to_have_count(0)

    # 4. An internal audit of the main clauses 4–10, every row checked, completed.
    page.goto(f"/organizations/{organization.pk}/")
    page.get_by_role("link", name="Internal audits").click()
    page.get_by_role("link", name="Plan an internal audit").click()
    page.get_by_label("Title").fill("EnMS internal audit of clauses 4–10")
    page.get_by_label("Standard").select_option("ISO 50001")
    page.get_by_label("Start date").fill((today - datetime.timedelta(days=2)).isoformat())
    page.get_by_label("End date").fill((today - datetime.timedelta(days=1)).isoformat())
    page.get_by_role("group", name="Internal auditors").get_by_label("Alice Owner").check()
    page.get_by_role("group", name="Sites in scope").get_by_label("Oldenburg plant").check()
    page.get_by_role("button", name="Plan audit").click()
    expect(page.get_by_text("Internal audit “EnMS internal audit of clauses 4–10” planned; its "
                            "checklist has 7 clauses.")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Planned")
    checklist = page.get_by_role("region", name="Checklist")
    for number in ("4", "5", "6", "7", "8", "9", "10"):
        row = checklist.get_by_role("row").filter(
            has=page.get_by_role("button", name=f"Save clause {number}", exact=True))
        row.get_by_label("Result").select_option(label="Conforming")
        if number == "6":
            row.get_by_label("Notes").fill("EnPIs and baseline reviewed with the energy team.")
        row.get_by_role("button", name=f"Save clause {number}", exact=True).click()
        expect(page.get_by_text(f"Clause {number} saved.")).to_be_visible()
    page.get_by_label("Conclusion").fill("The EnMS conforms; no nonconformity raised.")
    page.get_by_role("button", name="Complete audit").click()
    expect(page.get_by_text("Internal audit completed.")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Completed")
    expect(checklist.get_by_text("Conforming")).to_have_count(7)

    # 5. A management review: date, attendees, inputs ticked, decisions.
    page.get_by_role("link", name="Management reviews").click()
    page.get_by_role("link", name="Record a management review").click()
    page.get_by_label("Standard").select_option("ISO 50001")
    page.get_by_label("Date").fill(today.isoformat())
    page.get_by_label("Attendees").fill("Alice Owner — managing director\n"
                                        "Jan Weber — energy manager")
    page.get_by_role("button", name="Record review").click()
    expect(page.get_by_text("Management review recorded; now go through its inputs.")
           ).to_be_visible()
    inputs = page.get_by_role("region", name="Inputs considered")
    boxes = inputs.get_by_role("checkbox")
    expect(boxes).to_have_count(12)  # 8 common + 4 of ISO 50001
    for index in range(12):
        boxes.nth(index).check()
    inputs.get_by_label("Notes: Adequacy of the energy policy").fill("Policy still fits.")
    inputs.get_by_role("button", name="Save inputs").click()
    expect(page.get_by_text("Inputs saved.")).to_be_visible()
    for index in range(12):
        expect(boxes.nth(index)).to_be_checked()
    decisions = page.get_by_role("region", name="Decisions")
    decisions.get_by_label("Decisions").fill("Apply for the stage-1 audit in the next quarter.")
    decisions.get_by_role("button", name="Save decisions").click()
    expect(page.get_by_text("Decisions saved.")).to_be_visible()
    expect(decisions.get_by_label("Decisions")).to_have_value(
        "Apply for the stage-1 audit in the next quarter.")

    # 6. The journey advanced: the certification audit is the current step.
    page.get_by_role("link", name="Dashboard").click()
    journey = page.get_by_role("list", name=f"Certification journey of {organization}")
    for label in ("Registration", "Gap analysis", "Implementation", "Internal audit"):
        expect(journey.get_by_role("listitem").filter(has_text=label)).to_have_class("done")
    current = journey.locator("[aria-current=step]")
    expect(current).to_have_count(1)
    expect(current).to_contain_text("Certification audit")
    expect(current).to_contain_text("Ready for stage 1: ISO 50001:2018")
    expect(journey.get_by_role("listitem").filter(has_text="Certification decision")
           ).to_have_class("todo")
    panel = page.get_by_role("region", name=str(organization))
    expect(panel.get_by_role("listitem").filter(has_text="ISO 50001:2018").locator(".badge")
           ).to_have_text("Ready for stage 1")

    # The readiness page: every check done; Alice shares it with the CB.
    page.goto(f"/organizations/{organization.pk}/readiness/")
    entry = page.get_by_test_id("readiness-iso-50001")
    expect(entry.get_by_test_id("verdict")).to_have_text("Ready for stage 1")
    expect(entry.get_by_text("(missing)")).to_have_count(0)
    expect(entry.get_by_text("(done)")).to_have_count(4)
    expect(page.get_by_text("Not shared with the certification body.")).to_be_visible()
    page.get_by_role("button", name="Share ISO 50001 readiness with the certification body"
                     ).click()
    expect(page.get_by_text("Readiness for ISO 50001:2018 is now shared with the "
                            "certification body.")).to_be_visible()
    expect(page.get_by_text("Shared with the certification body", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Stop sharing ISO 50001 readiness")).to_be_visible()

    # Rita, the CB reviewer, sees the shared readiness on the application's review page.
    rita = new_page()
    log_in(rita, RITA, totp=True)
    rita.goto(f"/review/{application.pk}/")
    shared = rita.get_by_role("region", name="Readiness shared by the client")
    expect(shared.get_by_test_id("verdict")).to_have_text("Ready for stage 1")
    expect(shared).to_contain_text("Internal audit of clauses 4–10 completed")
    expect(shared).to_contain_text("“EnMS internal audit of clauses 4–10” completed on "
                                   f"{shown(today - datetime.timedelta(days=1))}.")
    shared.get_by_role("link", name="Gap analysis v1").click()  # read-only for the CB
    expect(rita.get_by_role("heading", name="Gap analysis ISO 50001:2018 — version 1")
           ).to_be_visible()
    expect(rita.locator("canvas#readiness-chart")).to_have_attribute("data-rendered", "true")
    expect(rita.get_by_test_id("overall-score")).to_have_text("100.0 %")
    expect(rita.get_by_role("link", name=re.compile(r"^Edit \d"))).to_have_count(0)
