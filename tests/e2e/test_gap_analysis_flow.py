"""In a real browser: Alice starts a gap analysis, edits rows inline (htmx), sees the chart,
and Bob's stale save of the same row is refused with a clear message."""

import re

import pytest
from factories import make_user
from helpers.browser import log_in
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_gap_analysis_inline_edit_chart_and_conflict(new_page):
    from isocert.accounts.models import Membership
    from isocert.accounts.services import create_organization

    alice = make_user("alice@nordlicht.example", "Alice Owner")
    bob = make_user("bob@nordlicht.example", "Bob Editor")
    organization = create_organization(actor=alice, legal_name="Nordlicht Aluminium GmbH",
                                       country="DE", registered_address="Hafenstraße 12, Bremen")
    Membership.objects.create(organization=organization, user=bob, role="editor")

    page = new_page()
    log_in(page, alice.email)
    page.goto(f"/organizations/{organization.pk}/")
    page.get_by_role("link", name="Gap analysis").click()
    page.get_by_label("Standard").select_option("ISO 9001")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", name="Gap analysis ISO 9001:2015 — version 1")).to_be_visible()
    expect(page.locator("#readiness-chart[data-rendered=true]")).to_be_attached()

    other = new_page()
    log_in(other, bob.email)
    other.goto(page.url)
    other.get_by_role("link", name="Edit 4.1", exact=True).click()  # Bob opens the row

    page.get_by_role("link", name="Edit 4.1", exact=True).click()
    row = page.locator("article#" + page.locator("article", has_text="Understanding the "
                                                 "organization").first.get_attribute("id"))
    row.get_by_label("Status").select_option("partial")
    row.get_by_label("Notes").fill("SWOT from 2022, to be refreshed.")
    row.get_by_role("button", name="Save 4.1").click()
    expect(row.get_by_text("Saved.")).to_be_visible()
    expect(row.get_by_text("SWOT from 2022, to be refreshed.")).to_be_visible()

    bob_row = other.locator("article", has_text="Understanding the organization").first
    bob_row.get_by_label("Status").select_option("nonconforming")
    bob_row.get_by_role("button", name="Save 4.1").click()
    expect(bob_row.get_by_role("alert")).to_contain_text("nothing was overwritten")
    expect(bob_row.get_by_label("Notes")).to_have_value("SWOT from 2022, to be refreshed.")

    page.reload()
    expect(page.get_by_test_id("overall-score")).to_have_text("50.0 %")


def test_gap_analysis_filter_and_several_rows_at_once(new_page):
    """Alice filters clause 7, edits three rows in the several-rows editor (one not
    applicable, its justification appearing), saves once, and the back button returns
    to the previous filter."""
    from isocert.accounts.services import create_organization
    from isocert.readiness.services import start_gap_assessment

    alice = make_user("alice@nordlicht.example", "Alice Owner")
    organization = create_organization(actor=alice, legal_name="Nordlicht Aluminium GmbH",
                                       country="DE", registered_address="Hafenstraße 12, Bremen")
    assessment = start_gap_assessment(organization=organization, standard="ISO 9001",
                                      actor=alice)

    page = new_page()
    log_in(page, alice.email)
    page.goto(f"/gap-analysis/{assessment.pk}/")
    expect(page.get_by_test_id("gap-count")).to_have_text("All 75 clauses")
    page.get_by_label("Clause", exact=True).select_option("7")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("gap-count")).to_have_text("17 of 75 clauses — 7 Support")
    expect(page).to_have_url(re.compile(r"\?clause=7&status=$"))

    page.get_by_role("link", name="Edit these 17 clauses").click()
    grid = page.get_by_test_id("edit-rows")
    expect(grid.get_by_role("heading", name="Edit 17 clauses — 7 Support")).to_be_focused()
    grid.get_by_label("Status of 7.1", exact=True).select_option("conforms")
    grid.get_by_label("Status of 7.2", exact=True).select_option("partial")
    grid.get_by_label("Notes on 7.2", exact=True).fill("Training matrix not kept up to date.")
    expect(grid.get_by_label("Why 7.1.6 does not apply")).to_be_hidden()
    grid.get_by_label("Status of 7.1.6", exact=True).select_option("not_applicable")
    grid.get_by_label("Why 7.1.6 does not apply").fill("No organizational knowledge at risk.")
    grid.get_by_role("button", name="Save changed clauses").click()

    expect(page.get_by_text("3 clauses saved: 7.1, 7.1.6, 7.2.")).to_be_visible()
    expect(page.get_by_test_id("gap-count")).to_have_text("17 of 75 clauses — 7 Support")
    expect(page.locator("#row-" + str(assessment.items.get(clause__number="7.2").pk))
           ).to_contain_text("Training matrix not kept up to date.")

    page.get_by_label("Status", exact=True).select_option("partial")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("gap-count")).to_have_text(
        "1 of 75 clauses — 7 Support, partially conforms")
    page.go_back()
    expect(page.get_by_test_id("gap-count")).to_have_text("17 of 75 clauses — 7 Support")
    expect(page.get_by_test_id("overall-score")).to_have_text("75.0 %")
