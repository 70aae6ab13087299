"""In a real browser: from the certification decision to the suspended certificate.

Nordlicht's ISO 9001 cycle has its stage 2 closed with a report recommending
certification (built with services). Dora, the decision maker, logs in with her
authenticator, finds the cycle in her queue, reads the checklist and grants. On the
certificate page she downloads the PDF (rendered by the task right after the decision):
it names the certificate number, the organization, the standard with its edition and
the dates. The QR code's signed address, opened by anyone, says the certificate is valid
and the signature genuine. Dora suspends the certificate on its page; the same QR
address now says it is suspended.
"""

import re

import pytest
from django.conf import settings
from django.utils import timezone
from factories import make_user, nordlicht_two_sites
from helpers.browser import log_in, nav_group, signed_in_message
from helpers.dates import shown
from helpers.pdf import pdf_text
from playwright.sync_api import expect
from programme_helpers import auditor

from isocert.certification.models import Certificate

ALICE, RITA, ADAM, DORA = ("alice@nordlicht.example", "rita@cb.example", "adam@cb.example",
                           "dora@cb.example")
CLIENT = "Nordlicht Aluminium GmbH"
SUSPENSION = "The client refused the first surveillance audit."

pytestmark = pytest.mark.browser


def _set_up():
    from certification_helpers import decision_ready_cycle

    alice = make_user(ALICE, "Alice Owner")
    rita = make_user(RITA, "Rita Reviewer", roles=["reviewer"])
    adam = auditor(ADAM, "Adam Auditor", lead=True)
    make_user(DORA, "Dora Decider", roles=["decision_maker"])
    organization = nordlicht_two_sites(alice, shifts=1)
    return decision_ready_cycle(organization, alice, rita, adam)


def _qr_path(certificate: Certificate) -> str:
    """The QR code's address on this test server (it prints the configured SITE_URL)."""
    qr_url = certificate.revisions.get(superseded_at__isnull=True).content["qr_url"]
    assert qr_url.startswith(settings.SITE_URL), qr_url
    return qr_url.removeprefix(settings.SITE_URL)


def test_dora_grants_downloads_verifies_and_suspends(new_page, tmp_path):
    cycle = _set_up()
    today = timezone.localdate()

    # 1. Dora's queue and the decision page.
    dora = new_page()
    log_in(dora, DORA, totp=True, landing=signed_in_message)
    nav_group(dora, "Work").get_by_role("link", name="Decisions").click()
    expect(dora.get_by_role("heading", level=1)).to_have_text("Certification decisions awaiting")
    dora.get_by_role("link", name=f"Decide on {CLIENT}").click()
    expect(dora).to_have_url(re.compile(rf"/cb/cycles/{cycle.pk}/decision/$"))
    checklist = dora.get_by_test_id("checklist")
    expect(checklist.get_by_test_id("check-report")).to_contain_text(
        "Report revision 1: Recommend certification.")
    expect(checklist.get_by_test_id("check-majors_closed")).to_contain_text("met")
    expect(dora.get_by_text("Every item is met: certification can be granted.")).to_be_visible()

    # 2. She grants.
    decide = dora.get_by_role("region", name="Record the decision")
    expect(decide.get_by_label("Kind of decision")).to_have_value("initial")
    decide.get_by_label("Grant certification").check()
    decide.get_by_role("button", name="Record the decision").click()
    certificate = Certificate.objects.get(cycle=cycle)
    expect(dora).to_have_url(re.compile(rf"/certificates/{certificate.pk}/$"))
    expect(dora.get_by_text(f"Initial certification granted: certificate "
                            f"{certificate.number}, revision 1.")).to_be_visible()
    expect(dora.get_by_test_id("certificate-status")).to_have_text("Active")

    # 3. The PDF of revision 1.
    revisions = dora.get_by_role("region", name="Revisions")
    with dora.expect_download() as download_info:
        revisions.get_by_role("link", name="PDF of revision 1").click()
    download = download_info.value
    assert download.suggested_filename == f"certificate-{certificate.number}-rev1.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    text = pdf_text(path.read_bytes())
    for expected in (certificate.number, CLIENT, "ISO 9001:2015", shown(today),
                     shown(certificate.expiry_date), "Oldenburg plant"):
        assert expected in text, (expected, text)

    # 4. Anyone opening the QR code's address: valid, signature genuine.
    qr_path = _qr_path(certificate)
    visitor = new_page()
    visitor.goto(qr_path)
    expect(visitor.get_by_text("This certificate is valid (Active).")).to_be_visible()
    expect(visitor.get_by_text("Signature valid, and the signed data matches the "
                               "registry.")).to_be_visible()

    # 5. Dora suspends the certificate on its page.
    suspend = dora.get_by_role("region", name="Suspend the certificate")
    suspend.get_by_label("Reason for the suspension").fill(SUSPENSION)
    suspend.get_by_role("button", name="Suspend").click()
    expect(dora.get_by_text("Certificate suspended.")).to_be_visible()
    expect(dora.get_by_test_id("certificate-status")).to_have_text("Suspended")
    expect(dora.get_by_test_id("status-text")).to_contain_text(
        "the certification is temporarily invalid")
    expect(dora.get_by_test_id("status-history")).to_contain_text(SUSPENSION)
    expect(dora.get_by_role("region", name="Restore the certificate")).to_be_visible()

    # 6. The same QR address now says suspended.
    visitor.goto(qr_path)
    expect(visitor.get_by_text("This certificate is suspended.")).to_be_visible()
    expect(visitor.get_by_text("This certificate is valid (Active).")).to_have_count(0)
