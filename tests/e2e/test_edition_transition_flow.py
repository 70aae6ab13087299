"""In a real browser: Ada, a CB administrator, records an edition transition from its IAF
notice; Alice sees on her certificate that her edition is superseded, and carries her gap
analysis to the new edition from its page.

The new edition is a fictitious one loaded only in the test database (none is shipped)."""

import pytest
from certification_helpers import DECIDED, certified_cycle
from factories import make_user, nordlicht_two_sites
from helpers.browser import log_in, nav_group
from helpers.dates import shown
from playwright.sync_api import expect
from programme_helpers import auditor
from transition_helpers import NEW_CLAUSE, NEW_EDITION, NOTICE, deadline_in, new_edition

pytestmark = pytest.mark.browser


def test_admin_records_a_transition_and_the_client_carries_the_gap_analysis(new_page):
    from isocert.accounts.models import Membership
    from isocert.readiness.services import start_gap_assessment

    alice = make_user("alice@nordlicht.example", "Alice Owner")
    bob = make_user("bob@nordlicht.example", "Bob Editor")
    rita = make_user("rita@cb.example", "Rita Reviewer", roles=["reviewer"])
    adam = auditor("adam@cb.example", "Adam Auditor", lead=True)
    dora = make_user("dora@cb.example", "Dora Decider", roles=["decision_maker"])
    ada = make_user("ada@cb.example", "Ada Administrator", roles=["administrator"])
    organization = nordlicht_two_sites(alice, shifts=1)
    Membership.objects.create(organization=organization, user=bob, role="editor")
    cycle = certified_cycle(organization, alice, rita, adam, dora, decided=DECIDED)
    certificate = cycle.certificates.get()
    gap = start_gap_assessment(organization=organization, standard="ISO 9001", actor=alice)
    old, new = new_edition("ISO 9001")
    deadline = deadline_in(400)

    admin = new_page()
    log_in(admin, ada.email, totp=True)
    nav_group(admin, "Administration").get_by_role("link", name="Transitions").click()
    expect(admin.get_by_test_id("edition-transitions")).to_contain_text("No transition recorded")
    admin.get_by_label("Superseded edition").select_option(label=str(old))
    admin.get_by_label("New edition").select_option(label=str(new))
    admin.get_by_label("Transition deadline").fill(deadline.isoformat())
    admin.get_by_label("Extra audit days").fill("1")
    admin.get_by_label("Transition notice").fill(NOTICE)
    admin.get_by_role("button", name="Record the transition").click()
    expect(admin.get_by_test_id("edition-transitions")).to_contain_text(NOTICE)
    expect(admin.get_by_test_id("edition-transitions")).to_contain_text(shown(deadline))

    client = new_page()
    log_in(client, alice.email)
    client.goto(f"/certificates/{certificate.pk}/")
    expect(client.get_by_test_id("edition-notice")).to_contain_text(
        f"ISO 9001:2015 — superseded by :{NEW_EDITION}; transition by {shown(deadline)}")
    client.goto(f"/gap-analysis/{gap.pk}/")
    expect(client.get_by_test_id("edition-notice")).to_contain_text(shown(deadline))
    client.get_by_role("button", name=f"Carry this gap analysis to ISO 9001:{NEW_EDITION}").click()
    expect(client.get_by_role("heading", name=f"Gap analysis ISO 9001:{NEW_EDITION} — version 1")
           ).to_be_visible()
    expect(client.locator("article", has_text="A requirement new in this edition").first
           ).to_contain_text(NEW_CLAUSE)
