"""In a real browser: an appeal against a suspension (ISO/IEC 17021-1 §9.7).

Nordlicht's certificate was suspended by Dora (built with services). Alice appeals from
the certificate page with her grounds. Ada, who handles appeals, acknowledges it; the
panel she tries to appoint with Dora is refused (Dora took the decision appealed), so
she appoints herself; she records the investigation, dismisses the appeal with reasons
and closes it. Alice receives the formal notice and reads the outcome on her appeal page.
"""

import datetime
import re

import pytest
from factories import make_user, nordlicht_two_sites, qualify_decision_maker
from helpers.browser import log_in
from helpers.mail import wait_for_mail
from playwright.sync_api import expect
from programme_helpers import auditor

from isocert.certification.lifecycle import suspend_certificate

ALICE, ADA = "alice@nordlicht.example", "ada@cb.example"
GROUNDS = "The surveillance audit was postponed by the CB's own auditor, not by us."
REASONS = "The postponement was the client's request of 3 June; the suspension stands."

pytestmark = pytest.mark.browser


def _suspended_certificate():
    from certification_helpers import certified_cycle

    alice = make_user(ALICE, "Alice Owner")
    rita = make_user("rita@cb.example", "Rita Reviewer", roles=["reviewer"])
    adam = auditor("adam@cb.example", "Adam Auditor", lead=True)
    dora = make_user("dora@cb.example", "Dora Decider", roles=["decision_maker"])
    make_user(ADA, "Ada Administrator", roles=["administrator"])
    qualify_decision_maker(dora)
    cycle = certified_cycle(nordlicht_two_sites(alice, shifts=1), alice, rita, adam, dora,
                            decided=datetime.date(2026, 6, 1))
    return suspend_certificate(certificate=cycle.certificates.get(), actor=dora,
                               reason="The client refused the first surveillance audit.")


def test_alice_appeals_a_suspension_and_the_panel_dismisses_it(new_page):
    certificate = _suspended_certificate()

    # 1. Alice appeals from the certificate page.
    alice = new_page()
    log_in(alice, ALICE)
    alice.goto(f"/certificates/{certificate.pk}/")
    alice.get_by_role("link", name="Appeal the suspension").click()
    alice.get_by_label("Grounds for the appeal").fill(GROUNDS)
    alice.get_by_role("button", name="Lodge the appeal").click()
    heading = alice.get_by_role("heading", name=re.compile(r"^Appeal APL-\d{4}-\d{6}$"))
    expect(heading).to_be_visible()
    reference = heading.inner_text().removeprefix("Appeal ")
    expect(alice.get_by_test_id("appeal-status")).to_have_text("Lodged")
    appeal_url = alice.url

    # 2. Ada acknowledges and appoints a panel of people not involved.
    ada = new_page()
    log_in(ada, ADA, totp=True, landing=None)
    ada.goto(appeal_url)
    ada.get_by_role("button", name="Acknowledge").click()
    expect(ada.get_by_test_id("appeal-status")).to_have_text("Acknowledged")
    panel = ada.get_by_role("group", name="Panel members")
    panel.get_by_label("Dora Decider").check()
    ada.get_by_role("button", name="Appoint").click()
    expect(ada.locator("#id_member_ids_error")).to_contain_text("Dora Decider")
    expect(ada.get_by_test_id("appeal-status")).to_have_text("Acknowledged")
    ada.get_by_role("group", name="Panel members").get_by_label("Dora Decider").uncheck()
    ada.get_by_role("group", name="Panel members").get_by_label("Ada Administrator").check()
    ada.get_by_role("button", name="Appoint").click()
    expect(ada.get_by_test_id("appeal-status")).to_have_text("Panel appointed")

    # 3. The panel investigates, dismisses with reasons, and the appeal is closed.
    ada.get_by_label("What the investigation examined and found").fill(
        "Read the audit programme's correspondence of May and June.")
    ada.get_by_role("button", name="Record").click()
    expect(ada.get_by_test_id("appeal-status")).to_have_text("Investigation recorded")
    ada.get_by_label("Dismissed").check()
    ada.get_by_label("Reasons").fill(REASONS)
    ada.get_by_role("button", name="Decide").click()
    expect(ada.get_by_test_id("appeal-status")).to_have_text("Dismissed")
    ada.get_by_role("button", name="Close the appeal").click()
    expect(ada.get_by_test_id("appeal-status")).to_have_text("Closed")

    # 4. Alice gets the formal notice and reads the outcome.
    notice = wait_for_mail(ALICE, f"Outcome of your appeal {reference}")
    assert REASONS in notice.body
    alice.goto(appeal_url)
    expect(alice.get_by_test_id("appeal-status")).to_have_text("Closed")
    expect(alice.get_by_text(REASONS)).to_be_visible()
    # The suspension stands: the certificate is still suspended.
    alice.goto(f"/certificates/{certificate.pk}/")
    expect(alice.get_by_text("Suspended").first).to_be_visible()
