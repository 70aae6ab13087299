"""In a real browser: key pages work under the strict Content-Security-Policy.

A visitor opens the landing page, the audit-time estimator (and estimates), the log-in page,
a verification and the API docs; Alice logs in, sees her dashboard, edits a gap-analysis row
inline (htmx) under its chart and opens an energy analysis with its three charts; Ada opens
the Django admin's index, a change list and a change form. Chromium must report no CSP
violation on any of them (a blocked script, style or image would be one); the listener is
shown to work by a deliberate inline style at the end.
"""

import re

import pytest
from django.urls import reverse
from factories import make_user
from helpers.browser import log_in, sign_in_by_cookie
from playwright.sync_api import Page, expect
from registry_helpers import make_certificate

pytestmark = pytest.mark.browser

# Chromium reports a violation twice: as a console message ("Refused to … because it
# violates the following Content Security Policy directive …") and as an event.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`
                + ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""


def _watched(new_page, violations: list[str]) -> Page:
    page = new_page()
    page.context.add_init_script(REPORT_VIOLATIONS)  # runs outside the page's policy
    page.on("console", lambda message: violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text or "CSP violation" in message.text
            else None)
    return page


def _alice_with_data():
    from django.apps import apps

    from isocert.accounts.services import add_site, create_organization
    from isocert.energy.demo import build_energy_story
    from isocert.energy.loader import load_carriers
    from isocert.energy.models import EnergyCarrier
    from isocert.readiness.services import start_gap_assessment

    if not EnergyCarrier.objects.exists():  # a transactional test emptied the data table
        load_carriers(apps.get_model)
    alice = make_user("alice@nordlicht.example", "Alice Owner")
    organization = create_organization(actor=alice, legal_name="Nordlicht Aluminium GmbH",
                                       country="DE",
                                       registered_address="Hafenstraße 12, 28217 Bremen",
                                       sector_codes=[17],
                                       scope_statement="Die casting of aluminium parts.")
    add_site(organization=organization, actor=alice, name="Bremen plant",
             address="Hafenstraße 12, Bremen", effective_personnel=24, shifts=2)
    assessment = start_gap_assessment(organization=organization, standard="ISO 9001",
                                      actor=alice)
    story = build_energy_story(organization=organization, actor=alice)
    return alice, assessment, story["period"]


def test_key_pages_report_no_policy_violation(new_page, live_server):
    violations: list[str] = []
    certificate = make_certificate()
    alice, assessment, period = _alice_with_data()
    ada = make_user("ada@cb.example", "Ada Administrator", roles=["administrator"])

    visitor = _watched(new_page, violations)
    visitor.goto("/")
    expect(visitor.get_by_role("heading", level=1)).to_be_visible()
    visitor.goto("/audit-time/")
    visitor.get_by_label("ISO 9001 — quality management").check()
    visitor.get_by_role("group", name="ISO 9001", exact=True).get_by_label(
        "Effective personnel (FTE)").fill("30")
    visitor.get_by_role("button", name="Estimate audit days").click()
    expect(visitor.get_by_role("region", name="Your estimate")).to_be_visible()
    visitor.goto(f"/verify/{certificate.number}")
    expect(visitor.get_by_text("This certificate is valid (Active).")).to_be_visible()
    visitor.goto("/api/v1/docs")
    # Swagger UI draws once it has /api/v1/openapi.json, which takes seconds on a busy machine.
    expect(visitor.get_by_role("heading", name=re.compile("isocert API"))).to_be_visible(
        timeout=30_000)
    expect(visitor.locator(".opblock").first).to_be_visible()

    page = _watched(new_page, violations)
    log_in(page, alice.email)
    page.goto(reverse("gap_assessment_detail", args=[assessment.pk]))
    expect(page.locator("#readiness-chart[data-rendered=true]")).to_be_attached()
    page.get_by_role("link", name="Edit 4.1", exact=True).click()  # htmx swaps the row in
    row = page.locator("article", has_text="Understanding the organization").first
    row.get_by_label("Status").select_option("partial")
    row.get_by_role("button", name="Save 4.1").click()
    expect(row.get_by_text("Saved.")).to_be_visible()
    page.goto(reverse("reporting_period_detail", args=[period.pk]))
    for chart in ("scatter-chart", "cusum-chart", "trend-chart"):
        expect(page.locator(f"#{chart}[data-rendered=true]")).to_be_attached()

    admin = _watched(new_page, violations)
    sign_in_by_cookie(admin, ada, live_server.url)
    admin.goto("/admin/")
    expect(admin.get_by_role("link", name="Users")).to_be_visible()
    admin.goto("/admin/catalog/enmsdaytablerow/")
    expect(admin.locator(".table-help")).to_be_visible()
    admin.goto(f"/admin/accounts/user/{ada.pk}/change/")
    # The inline's "add another" button is made by the admin's inlines.js.
    expect(admin.get_by_role("button", name="Add another Staff role")).to_be_visible()

    assert violations == []

    # The listener hears a violation: an inline style is refused and reported.
    visitor.goto("/")
    with visitor.expect_console_message(lambda message: "CSP violation" in message.text):
        visitor.evaluate("document.body.insertAdjacentHTML('beforeend', "
                         "'<p style=\"color: red\">inline</p>')")
    assert any("CSP violation: style-src" in v for v in violations), violations
