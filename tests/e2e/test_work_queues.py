"""End to end in a real browser: Rita's dashboard shows her work queues, and the review to
start links to the application's review page."""

import re

import pytest
from factories import complete_application_data, make_user
from helpers.browser import log_in
from playwright.sync_api import expect

from isocert.accounts.services import add_site, create_organization
from isocert.registration.services import create_application, submit_application

pytestmark = pytest.mark.browser


def test_ritas_dashboard_shows_a_review_to_start_and_links_to_it(new_page):
    alice = make_user("alice@nordlicht.example", "Alice Owner")
    nordlicht = create_organization(actor=alice, legal_name="Nordlicht Aluminium GmbH",
                                    country="DE", registered_address="Hafenstraße 12, Bremen",
                                    sector_codes=[17], scope_statement="Die casting.")
    add_site(organization=nordlicht, actor=alice, name="Bremen head office",
             address="Hafenstraße 12, Bremen", effective_personnel=180, shifts=3)
    application = create_application(organization=nordlicht, actor=alice,
                                      **complete_application_data())
    submit_application(application=application, actor=alice)
    make_user("rita@cb.example", "Rita Reviewer", roles=["reviewer"])

    rita = new_page()
    log_in(rita, "rita@cb.example", totp=True)
    queue = rita.locator('[data-queue="reviews_to_start"]')
    expect(queue.get_by_role("heading", name="Reviews to start")).to_be_visible()
    link = queue.get_by_role("link", name=f"Start the review: {application.reference}")
    expect(link).to_be_visible()
    expect(queue).to_contain_text("Nordlicht Aluminium GmbH")
    link.click()
    expect(rita).to_have_url(re.compile(rf"/review/{application.pk}/$"))
    expect(rita.get_by_test_id("status")).to_have_text("Submitted")
    expect(rita.get_by_role("button", name="Start review")).to_be_visible()
    # The whole list, filtered to this queue, is one click away.
    rita.go_back()
    queue.get_by_role("link", name="All reviews to start").click()
    expect(rita.get_by_role("heading", name="Reviews to start")).to_be_visible()
    expect(rita.get_by_test_id("work-items")).to_contain_text(application.reference)
