"""End to end in a real browser: from the landing page to a registration number.

A visitor signs up, confirms the e-mail link, describes the organization and two
sites, fills the ISO 50001 application step by step (with a PDF upload) and submits
it. Rita, a CB reviewer with a TOTP authenticator, asks for information; the client
answers and resubmits; Rita records a passed preliminary assessment and registers
the application; the client sees the REG-YYYY-NNNNNN number.
"""

import datetime
import re

import pytest
from django.utils import timezone
from factories import make_user
from helpers.browser import log_in, nav_group
from helpers.mail import wait_for_mail
from playwright.sync_api import Page, expect

CLIENT_EMAIL = "erika@solarwerk.example"
CLIENT_PASSWORD = "sun-and-wind-2035"
QUESTION = "Which of the two sites runs the compressed-air system?"
ANSWER = "The Kassel plant; the head office only has offices."
REGISTRATION_NUMBER = re.compile(r"^REG-\d{4}-\d{6}$")

pytestmark = pytest.mark.browser


def _log_out(page: Page) -> None:
    nav_group(page, "Account").get_by_role("button", name=re.compile(r"^Log out")).click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def _status(page: Page):
    return page.get_by_test_id("status")


def test_visitor_applies_and_is_registered(new_page, live_server, tmp_path):
    client = new_page()

    # 1. A visitor signs up from the landing page.
    client.goto("/")
    client.get_by_role("link", name="Apply for certification").click()
    expect(client).to_have_url(re.compile(r"/accounts/signup/$"))
    client.get_by_label("Email:", exact=True).fill(CLIENT_EMAIL)
    client.get_by_label("Password:", exact=True).fill(CLIENT_PASSWORD)
    client.get_by_label("Password (again):", exact=True).fill(CLIENT_PASSWORD)
    client.get_by_role("button", name="Sign Up").click()
    expect(client.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()

    # 2. The confirmation link arrives by e-mail (task enqueued on commit).
    message = wait_for_mail(CLIENT_EMAIL, "Confirm")
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body)
    assert link, message.body
    assert link.group(0).startswith(live_server.url)
    client.goto(link.group(0))
    client.get_by_role("button", name="Confirm").click()
    expect(client.get_by_role("heading", name="Welcome")).to_be_visible()

    # 3. The organization and its two sites.
    client.get_by_role("link", name="Create your organization").click()
    client.get_by_label("Legal name").fill("Solarwerk Kassel GmbH")
    client.get_by_label("Country").select_option("DE")
    client.get_by_label("Registered address").fill("Sonnenallee 5\n34117 Kassel")
    # The 39 sector codes are a checkbox list with a filter box (no Ctrl-click).
    sectors = client.get_by_role("group", name="IAF sector codes")
    sectors.get_by_role("searchbox").fill("metal")
    expect(sectors.get_by_role("checkbox", name=re.compile(r"^IAF 19 "))).to_be_hidden()
    sectors.get_by_role("checkbox", name=re.compile(r"^IAF 17 ")).check()
    sectors.get_by_role("searchbox").fill("electrical")
    sectors.get_by_role("checkbox", name=re.compile(r"^IAF 19 ")).check()
    expect(sectors).to_contain_text("2 selected")
    # A ticked sector stays visible whatever the filter says.
    expect(sectors.get_by_role("checkbox", name=re.compile(r"^IAF 17 "))).to_be_visible()
    client.get_by_label("Scope statement").fill("Manufacture of photovoltaic inverters.")
    client.get_by_role("button", name="Create organization").click()

    expect(client.get_by_role("heading", name=re.compile("Add a site"))).to_be_visible()
    expect(client.get_by_label("This is the central function")).to_be_checked()
    client.get_by_label("Site name").fill("Kassel head office")
    client.get_by_label("Address").fill("Sonnenallee 5, Kassel")
    client.get_by_label("Effective personnel (FTE)").fill("40")
    client.get_by_role("button", name="Save and add another").click()
    expect(client.get_by_text("Site “Kassel head office” added.")).to_be_visible()
    expect(client.get_by_label("This is the central function")).not_to_be_checked()
    client.get_by_label("Site name").fill("Kassel plant")
    client.get_by_label("Address").fill("Industriepark 9, Kassel")
    client.get_by_label("Effective personnel (FTE)").fill("120")
    client.get_by_label("Shifts").fill("2")
    client.get_by_role("button", name="Save site", exact=True).click()
    expect(client.get_by_role("heading", name="Solarwerk Kassel GmbH")).to_be_visible()
    sites = client.get_by_role("region", name="Sites")
    expect(sites.get_by_role("row", name=re.compile("Kassel head office central function"))
           ).to_be_visible()
    expect(sites.get_by_role("row", name=re.compile("Kassel plant"))).to_be_visible()

    # 4. The ISO 50001 application, step by step.
    client.get_by_role("button", name="Apply for ISO 50001").click()
    energy = client.get_by_role("group", name=re.compile("ISO 50001"))
    expect(energy.get_by_role("checkbox", name=re.compile("ISO 50001"))).to_be_checked()
    energy.get_by_label("Effective personnel (FTE)").fill("160")
    energy.get_by_label("Annual energy consumption (TJ)").fill("42.5")
    energy.get_by_label("Number of energy types").fill("3")
    energy.get_by_label("Number of significant energy uses (SEUs)").fill("4")
    client.get_by_role("button", name="Save and continue").click()

    expect(client.get_by_role("link", name="2. Scope and sites")).to_have_attribute(
        "aria-current", "step")
    client.get_by_label("Scope of certification").fill(
        "Design and manufacture of photovoltaic inverters.")
    client.get_by_label(re.compile("Kassel head office")).check()
    client.get_by_label(re.compile("Kassel plant")).check()
    client.get_by_role("button", name="Save and continue").click()

    expect(client.get_by_role("link", name="3. Consultancy and transfer")).to_have_attribute(
        "aria-current", "step")
    expect(client.get_by_label(re.compile("received management-system consultancy"))
           ).not_to_be_checked()
    client.get_by_role("button", name="Save and continue").click()

    expect(client.get_by_role("link", name="4. Audit period")).to_have_attribute(
        "aria-current", "step")
    today = timezone.localdate()
    client.get_by_label("Desired audit period — from").fill(
        (today + datetime.timedelta(days=45)).isoformat())
    client.get_by_label("Desired audit period — to", exact=True).fill((today + datetime.timedelta(days=75)).isoformat())
    client.get_by_role("button", name="Save and continue").click()

    expect(client.get_by_role("heading", name="Supporting documents")).to_be_visible()
    manual = tmp_path / "energy-manual.pdf"
    manual.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n"
                       b"trailer<</Root 1 0 R>>\n%%EOF\n")
    client.get_by_label("File").set_input_files(manual)
    client.get_by_label("Document type").select_option(index=0)
    client.get_by_label("Description").fill("Energy management manual")
    client.get_by_role("button", name="Upload").click()
    expect(client.get_by_text("“energy-manual.pdf” uploaded.")).to_be_visible()
    expect(client.get_by_role("link", name="energy-manual.pdf")).to_be_visible()
    client.get_by_role("link", name="Continue to review").click()

    expect(client.get_by_role("heading", name="Review and submit")).to_be_visible()
    expect(client.get_by_text(re.compile(r"160 FTE, 42\.50* TJ/year, 3 energy types, 4 SEUs"))
           ).to_be_visible()
    client.get_by_role("button", name="Submit application").click()
    expect(_status(client)).to_have_text("Submitted")
    application_url = client.url
    match = re.search(r"APP-\d{6}", client.get_by_role("heading", level=1).inner_text())
    assert match
    reference = match.group(0)
    _log_out(client)

    # 5. Rita logs in with her authenticator and asks for information.
    make_user("rita@cb.example", "Rita Reviewer", roles=["reviewer"])
    rita = new_page()
    log_in(rita, "rita@cb.example", totp=True, landing=None)
    expect(rita.get_by_role("heading", name="Dashboard")).to_be_visible()
    nav_group(rita, "Work").get_by_role("link", name="Review queue").click()
    rita.get_by_role("link", name=reference).click()
    expect(_status(rita)).to_have_text("Submitted")
    rita.get_by_role("button", name="Start review").click()
    expect(_status(rita)).to_have_text("Under review")
    rita.get_by_text("Request information from the client").click()
    rita.get_by_label("What information do you need?").fill(QUESTION)
    rita.get_by_role("button", name="Send request").click()
    expect(rita.get_by_text("Request sent to the client.")).to_be_visible()
    expect(_status(rita)).to_have_text("Information requested")
    assert QUESTION in wait_for_mail(CLIENT_EMAIL, "more information needed").body

    # 6. The client logs in again, answers and resubmits.
    log_in(client, CLIENT_EMAIL, password=CLIENT_PASSWORD)  # lands on the dashboard
    expect(client.get_by_role("row", name=re.compile(reference))).to_contain_text(
        "Information requested")
    client.get_by_role("link", name=reference, exact=True).click()
    expect(client).to_have_url(application_url)
    request_box = client.get_by_role("alert")
    expect(request_box).to_contain_text(QUESTION)
    request_box.get_by_role("link", name="Answer and resubmit").click()
    client.get_by_label("Your answer to the reviewer").fill(ANSWER)
    client.get_by_role("button", name="Send answer and resubmit").click()
    expect(_status(client)).to_have_text("Resubmitted")
    expect(client.get_by_role("region", name="Timeline")).to_contain_text(ANSWER)

    # 7. Rita (still logged in) assesses and registers.
    rita.reload()
    expect(_status(rita)).to_have_text("Resubmitted")
    rita.get_by_role("button", name="Start review").click()
    expect(_status(rita)).to_have_text("Under review")
    for check in ("Documents reviewed", "Scope clear and certifiable",
                  "Sites and personnel plausible",
                  "CB competent for the standards and IAF sectors"):
        rita.get_by_label(check).check()
    expect(rita.get_by_label("No risk identified")).to_be_checked()
    rita.get_by_role("button", name="Save assessment").click()
    expect(rita.get_by_text(re.compile("Preliminary assessment saved"))).to_be_visible()
    rita.get_by_role("button", name="Register", exact=True).click()
    expect(rita.get_by_text(re.compile(r"Registered as REG-\d{4}-\d{6}\."))).to_be_visible()
    expect(_status(rita)).to_have_text("Registered")

    # 8. The client sees the registration number, on the application and the dashboard.
    client.reload()
    expect(_status(client)).to_have_text("Registered")
    number = client.get_by_test_id("registration-number")
    expect(number).to_have_text(REGISTRATION_NUMBER)
    registration_number = number.inner_text()
    assert registration_number.startswith(f"REG-{timezone.now().year}-")
    assert registration_number in wait_for_mail(CLIENT_EMAIL, "is registered").body
    client.get_by_role("link", name="Dashboard").click()
    row = client.get_by_role("row", name=re.compile(reference))
    expect(row).to_contain_text("Registered")
    expect(row).to_contain_text(registration_number)
    client.screenshot(path=tmp_path / "registered-dashboard.png", full_page=True)
