"""End to end in a real browser: a certification transferred from another CB (IAF MD 2).

Nordlicht's ISO 9001 transfer application is registered and quoted (built with services).
Rita, the reviewer, records the pre-transfer review's checks on the review page and
accepts the transfer with her reasons; Dora, the decision maker, finds it on her decision
queue and issues the certificate, which keeps the current expiry and names the previous CB.
"""

import pytest
from factories import make_user, nordlicht_two_sites
from helpers.browser import log_in
from helpers.dates import shown
from playwright.sync_api import expect
from transfer_helpers import PREVIOUS_CB, PREVIOUS_NUMBER, transfer_application

from isocert.registration.models import TransferReview

pytestmark = pytest.mark.browser


def test_review_accept_and_issue(new_page):
    alice = make_user("alice@nordlicht.example", "Alice Owner")
    rita = make_user("rita@cb.example", "Rita Reviewer", roles=["reviewer"])
    make_user("dora@cb.example", "Dora Decider", roles=["decision_maker"])
    application = transfer_application(nordlicht_two_sites(alice, shifts=1), alice, rita)

    reviewer = new_page()
    log_in(reviewer, "rita@cb.example", totp=True, landing=None)
    reviewer.goto(f"/review/{application.pk}/")
    panel = reviewer.get_by_role("region", name="Pre-transfer review (IAF MD 2)")
    expect(panel.get_by_test_id("transfer-status")).to_have_text("Not reviewed yet")
    for label in TransferReview.CHECKS.values():
        panel.get_by_label(label).check()
    panel.get_by_role("button", name="Save transfer review").click()
    expect(reviewer.get_by_text("Transfer review saved: every check passed.")).to_be_visible()
    panel = reviewer.get_by_role("region", name="Pre-transfer review (IAF MD 2)")
    panel.get_by_label("Accept the transfer").check()
    panel.get_by_label("Reasons (the client is told)").fill(
        "Valid DAkkS-accredited certificate, reports read, no open majors.")
    panel.get_by_role("button", name="Conclude the transfer review").click()
    expect(reviewer.get_by_test_id("transfer-status")).to_have_text("Transfer accepted")

    decider = new_page()
    log_in(decider, "dora@cb.example", totp=True, landing=None)
    decider.goto("/cb/decisions/")
    queue = decider.get_by_test_id("transfer-queue")
    expect(queue).to_contain_text(PREVIOUS_NUMBER)
    queue.get_by_role("link", name="Issue the transferred certificate of Nordlicht").click()
    decider.get_by_role("button", name="Issue the transferred certificate").click()
    expect(decider.get_by_text("continues the transferred cycle")).to_be_visible()
    expect(decider.get_by_text(f"Certification transferred from {PREVIOUS_CB}")).to_be_visible()
    expiry = application.current_certificate_expiry   # kept from the previous CB's certificate
    expect(decider.get_by_text(f"Active: valid until {shown(expiry)}.")
           ).to_be_visible()
