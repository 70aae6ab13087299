"""End to end in a real browser: from an audit-day estimate to the signed contract.

A visitor estimates the audit days of a 30-person ISO 9001 organization. Nordlicht's
ISO 9001 application is registered (built with services); Rita, the reviewer, logs in
with her authenticator, fixes the audit time with the initial days set by hand and a
justification, and issues the quotation. Alice, Nordlicht's owner, reads it with the
justification, accepts it online and downloads the PDF.
"""

import datetime
import re

import pytest
from django.utils import timezone
from factories import PASSING_ASSESSMENT, make_user, nordlicht_two_sites
from helpers.browser import log_in
from helpers.pdf import pdf_text
from playwright.sync_api import expect

JUSTIFICATION = "Two sites and three shifts at the Oldenburg die-casting plant."
QUOTATION_NUMBER = re.compile(r"QUO-\d{4}-\d{6}")

pytestmark = pytest.mark.browser


def _registered_application():
    """Nordlicht's ISO 9001 application (30 persons, two sites), registered by Rita."""
    from isocert.registration import services

    alice = make_user("alice@nordlicht.example", "Alice Owner")
    rita = make_user("rita@cb.example", "Rita Reviewer", roles=["reviewer"])
    organization = nordlicht_two_sites(alice, shifts=3)
    application = services.create_application(organization=organization, actor=alice,
            standards=[{"standard": "ISO 9001", "effective_personnel": "30"}],
            desired_audit_from=timezone.localdate() + datetime.timedelta(days=60))
    services.submit_application(application=application, actor=alice)
    services.start_review(application=application, actor=rita)
    services.record_preliminary_assessment(application=application, actor=rita,
                                           **PASSING_ASSESSMENT)
    return services.register_application(application=application, actor=rita)


def test_estimate_then_quotation_accepted_online(new_page, tmp_path):
    # (a) A visitor estimates the audit days.
    visitor = new_page()
    visitor.goto("/audit-time/")
    expect(visitor.get_by_role("heading", name="Estimate your audit days", level=1)
           ).to_be_visible()
    visitor.get_by_label("ISO 9001 — quality management").check()
    quality = visitor.get_by_role("group", name="ISO 9001", exact=True)
    quality.get_by_label("Effective personnel (FTE)").fill("30")
    visitor.get_by_role("button", name="Estimate audit days").click()
    result = visitor.get_by_role("region", name="Your estimate")
    expect(result.locator("dt:text-is('Initial audit (stage 1 + stage 2)') + dd")
           ).to_have_text("4 days")
    expect(result.locator("dt:text-is('Stage 1') + dd")).to_have_text("1.5 days")
    expect(result.get_by_role("listitem").filter(
        has_text="30 persons fall in the 26-45 band of IAF MD 5:2019 Table QMS 1: 4 days."
    )).to_have_count(1)

    # (b) Rita fixes the audit time of the registered application and issues the quotation.
    application = _registered_application()
    rita = new_page()
    log_in(rita, "rita@cb.example", totp=True)
    rita.goto(f"/review/{application.pk}/")
    expect(rita.get_by_test_id("status")).to_have_text("Registered")
    expect(rita.get_by_text("The audit time has not been determined yet.")).to_be_visible()
    expect(rita.get_by_role("button", name="Prepare the quotation")).to_be_disabled()
    rita.get_by_label("Initial audit (stage 1 + stage 2) — set by hand (days)").fill("6")
    rita.get_by_label("Initial audit (stage 1 + stage 2) — justification").fill(JUSTIFICATION)
    rita.get_by_role("button", name="Compute and save").click()
    expect(rita.get_by_text("Audit time saved.")).to_be_visible()
    audit_time = rita.get_by_role("region", name=re.compile(r"^Audit time"))
    expect(audit_time.get_by_role("row", name=re.compile(r"^Initial audit"))).to_contain_text(
        JUSTIFICATION)
    expect(audit_time.get_by_role("row", name=re.compile(r"^Stage 2 "))).to_contain_text("4.0")
    rita.get_by_role("link", name="Prepare the quotation").click()
    # The preview: 2 + 4 + 2 x 2 days at 1250.00 EUR = 12500.00, with 19 % VAT.
    expect(rita.get_by_test_id("preview-total")).to_have_text("14875.00 EUR")
    # An adjustment without its reason is refused on its field; nothing is sent.
    rita.get_by_label("Adjustment (optional)").fill("-500")
    rita.get_by_role("button", name="Update the preview").click()
    expect(rita.locator("#id_adjustment_reason_error")).to_contain_text(
        "Explain the adjustment (at least 5 characters).")
    rita.get_by_label("Reason for the adjustment").fill("Multi-year framework agreement")
    rita.get_by_role("button", name="Update the preview").click()
    # 12000.00 net + 19 % VAT.
    expect(rita.get_by_test_id("preview-total")).to_have_text("14280.00 EUR")
    rita.get_by_role("button", name="Send the quotation").click()
    sent = rita.get_by_text(re.compile(r"Quotation QUO-\d{4}-\d{6} sent to the client\."))
    expect(sent).to_be_visible()
    number = QUOTATION_NUMBER.search(sent.inner_text()).group(0)
    expect(rita.get_by_test_id("quotation-total")).to_have_text("14280.00 EUR")

    # (c) Alice reads the quotation with its justification, accepts it and downloads the PDF.
    alice = new_page()
    log_in(alice, "alice@nordlicht.example")
    alice.get_by_role("link", name=application.reference).click()
    quotation = alice.get_by_role("region", name="Quotation and audit time")
    expect(quotation.get_by_role("heading", name=re.compile(f"Quotation {number}"))
           ).to_be_visible()
    expect(quotation.get_by_test_id("quotation-status")).to_have_text("Sent to the client")
    expect(quotation.get_by_test_id("quotation-total")).to_have_text("14280.00 EUR")
    expect(quotation.get_by_role("row", name=re.compile(r"^Adjustment: Multi-year"))
           ).to_contain_text("-500.00")
    expect(quotation.get_by_role("row", name=re.compile(r"^Initial audit"))).to_contain_text(
        JUSTIFICATION)
    accept = quotation.get_by_role("button", name="Accept quotation")
    accept.click()  # not yet confirmed: refused
    expect(alice.get_by_text("Tick the box to confirm you accept the quotation.")).to_be_visible()
    quotation.get_by_label(re.compile(r"^I accept this quotation")).check()
    quotation.get_by_role("button", name="Accept quotation").click()
    expect(alice.get_by_text(f"Quotation {number} accepted: it is now your certification "
                             "contract.")).to_be_visible()
    expect(quotation.get_by_test_id("quotation-status")).to_have_text("Accepted")
    expect(quotation.get_by_role("button", name="Accept quotation")).to_have_count(0)

    with alice.expect_download() as download_info:
        quotation.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"{number}.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    text = pdf_text(path.read_bytes())
    assert f"Quotation {number}" in text
    assert f"Set by the CB: {JUSTIFICATION}" in text
    assert "14280.00 EUR" in text and "Adjustment: Multi-year framework agreement" in text
    assert "Accepted online on" in text and "by alice@nordlicht.example" in text

    # The journey moves on to the certification audit.
    alice.get_by_role("link", name="Dashboard").click()
    expect(alice.get_by_text(f"Contract signed (quotation {number})")).to_be_visible()
