"""End to end in a real browser: a member of the public lodges a complaint on /complaints/
without an account, with an attachment; Rita, a CB complaint handler, finds it in the
complaints list and acknowledges it; the complainant receives the reference by e-mail."""

import re

import pytest
from factories import make_user
from helpers.browser import log_in
from helpers.mail import wait_for_mail
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_public_complaint_is_lodged_and_acknowledged(new_page, tmp_path):
    evidence = tmp_path / "brochure.pdf"
    evidence.write_bytes(PDF)
    make_user("rita@cb.example", "Rita Reviewer", roles=["reviewer"])

    # 1. A visitor finds the process from the footer and lodges a complaint.
    visitor = new_page()
    visitor.goto("/")
    visitor.get_by_role("link", name="Complaints").click()
    expect(visitor.get_by_role("heading", name="Complaints", exact=True)).to_be_visible()
    expect(visitor.get_by_text("ISO/IEC 17021-1 §9.8")).to_be_visible()
    visitor.get_by_label("Your name").fill("Petra Public")
    visitor.get_by_label("Your e-mail address").fill("petra@example.org")
    visitor.get_by_label("Organization complained about").fill("Nordlicht Aluminium GmbH")
    visitor.get_by_label("Subject").fill("Energy claims in the brochure")
    visitor.get_by_label("What happened").fill("The brochure claims a certified 30 % saving.")
    visitor.get_by_label("Attachments").set_input_files(str(evidence))
    visitor.get_by_role("button", name="Send the complaint").click()
    reference = visitor.get_by_test_id("complaint-reference")
    expect(reference).to_have_text(re.compile(r"^CMP-\d{4}-\d{6}$"))
    number = reference.inner_text()

    # 2. Rita sees it in the CB's list, with its attachment, and acknowledges it.
    rita = new_page()
    log_in(rita, "rita@cb.example", totp=True, landing=None)
    rita.goto("/cb/complaints/")
    rita.get_by_role("link", name=number).click()
    expect(rita.get_by_test_id("complaint-status")).to_have_text("Received")
    expect(rita.get_by_role("link", name="brochure.pdf")).to_be_visible()
    rita.get_by_role("button", name="Acknowledge receipt").click()
    expect(rita.get_by_test_id("complaint-status")).to_have_text("Acknowledged")

    # 3. The complainant gets the acknowledgment with the reference.
    message = wait_for_mail("petra@example.org", f"Your complaint {number} was received")
    assert number in message.body
