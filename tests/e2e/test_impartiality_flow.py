"""End to end in a real browser: Ada, a CB administrator, sees the impartiality register
review due on her dashboard, records a risk, reviews it (mitigated), appoints two committee
members, plans a meeting, holds it and approves its minutes, then reviews the register at
that meeting — and the dashboard no longer says the review is due (ISO/IEC 17021-1 §5.2,
§6.2)."""

import re

import pytest
from django.utils import timezone
from factories import make_user
from helpers.browser import log_in, nav_group
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_an_administrator_keeps_the_register_and_runs_the_committee(new_page):
    make_user("ada@cb.example", "Ada Administrator", roles=["administrator"])
    make_user("rita@cb.example", "Rita Reviewer", roles=["reviewer"])
    today = timezone.localdate().isoformat()

    ada = new_page()
    log_in(ada, "ada@cb.example", totp=True)
    nav_group(ada, "Assurance").get_by_role("link", name="Impartiality").click()
    expect(ada.get_by_role("heading", name="Impartiality register")).to_be_visible()

    # 1. Record a risk; a refused form keeps what was typed and names the field.
    ada.get_by_role("link", name="Record a risk").click()
    ada.get_by_label("Threat").select_option(label="Familiarity (or trust)")
    ada.get_by_label("Source").fill("Same lead auditor at Hansa Metall for nine years")
    ada.get_by_label("Description").fill("Long association may blunt the auditor's judgement.")
    ada.get_by_label("Owner").select_option(label="Rita Reviewer")
    ada.get_by_label("Next review").fill("2001-01-01")
    ada.get_by_role("button", name="Record the risk").click()
    expect(ada.locator("#id_next_review_on_error")).to_contain_text("After")
    expect(ada.get_by_label("Source")).to_have_value(
        "Same lead auditor at Hansa Metall for nine years")
    ada.get_by_label("Next review").fill("")
    ada.get_by_label("Safeguard").fill("Rotate the lead auditor at recertification.")
    ada.get_by_role("button", name="Record the risk").click()
    expect(ada.get_by_role("heading", name=re.compile(r"^Risk IMP-\d{4}-\d{4}$"))).to_be_visible()
    expect(ada.get_by_test_id("risk-status")).to_have_text("Open")

    # 2. The dashboard says the register's review is due.
    ada.goto("/dashboard/")
    expect(ada.get_by_test_id("impartiality-queue")).to_contain_text(
        "Impartiality register review due")
    ada.go_back()

    # 3. Review the risk: the safeguard holds.
    ada.get_by_label("Outcome").select_option(label="Safeguard in place: mitigated")
    ada.get_by_label("Conclusion").fill("Rotation agreed with the programme manager.")
    ada.get_by_role("button", name="Record the review").click()
    expect(ada.get_by_test_id("risk-status")).to_have_text("Mitigated")
    expect(ada.get_by_test_id("risk-reviews")).to_contain_text("Rotation agreed")

    # 4. Two committee members of different interests.
    ada.get_by_role("navigation", name="Impartiality").get_by_role("link",
                                                                   name="Committee").click()
    for name, interest, email in (("Carla Brandt", "Industry associations", "carla@x.example"),
                                  ("Ralf Weber", "Government and regulators",
                                   "ralf@x.example")):
        ada.get_by_label("Name").fill(name)
        ada.get_by_label("Interest represented").select_option(label=interest)
        ada.get_by_label("E-mail address").fill(email)
        ada.get_by_label("Appointed on").fill(today)
        ada.get_by_role("button", name="Appoint").click()
        expect(ada.get_by_test_id("members")).to_contain_text(name)

    # 5. Plan, hold and approve the minutes of a meeting.
    ada.get_by_role("navigation", name="Impartiality").get_by_role("link",
                                                                   name="Meetings").click()
    ada.get_by_label("Date").fill(today)
    ada.get_by_label("Agenda").fill("Annual review of the impartiality register.")
    ada.get_by_role("button", name="Plan the meeting").click()
    expect(ada.get_by_test_id("meeting-status")).to_have_text("Planned")
    ada.get_by_label("Carla Brandt (Industry associations)").check()
    ada.get_by_label("Ralf Weber (Government and regulators)").check()
    ada.get_by_label(re.compile(r"IMP-\d{4}-\d{4}")).check()
    ada.get_by_label("Minutes", exact=True).fill("The register was read; rotation confirmed.")
    ada.get_by_role("button", name="Record as held").click()
    expect(ada.get_by_test_id("meeting-status")).to_have_text("Held")
    expect(ada.get_by_test_id("meeting-warning")).to_have_count(0)
    ada.get_by_role("button", name="Approve the minutes").click()
    expect(ada.get_by_test_id("meeting-status")).to_have_text("Minutes approved")

    # 6. Review the register at the meeting: no longer due.
    ada.get_by_role("navigation", name="Impartiality").get_by_role(
        "link", name="Register reviews").click()
    ada.get_by_label("Conclusion").fill("Register reviewed with the committee; no new threat.")
    ada.get_by_label("At the committee meeting").select_option(index=1)
    ada.get_by_role("button", name="Record the register review").click()
    expect(ada.get_by_test_id("impartiality-queue")).to_contain_text("Next register review due")
    ada.goto("/dashboard/")
    expect(ada.get_by_test_id("impartiality-queue")).not_to_contain_text(
        "Impartiality register review due")
