"""In a real browser: a page showing "PDF being prepared" shows the download link by
itself once the worker has rendered the PDF (issue #19), with no reload."""

import datetime

import pytest
from factories import make_user, nordlicht_two_sites, qualify_decision_maker
from helpers.browser import log_in
from playwright.sync_api import expect
from programme_helpers import auditor

from isocert.certification.models import CertificateRevision
from isocert.certification.pdf import render_certificate_pdf_file

ALICE = "alice@nordlicht.example"

pytestmark = pytest.mark.browser


def test_the_certificate_page_shows_the_pdf_link_when_it_is_ready(new_page):
    from certification_helpers import certified_cycle

    alice = make_user(ALICE, "Alice Owner")
    rita = make_user("rita@cb.example", "Rita Reviewer", roles=["reviewer"])
    adam = auditor("adam@cb.example", "Adam Auditor", lead=True)
    dora = make_user("dora@cb.example", "Dora Decider", roles=["decision_maker"])
    qualify_decision_maker(dora)
    cycle = certified_cycle(nordlicht_two_sites(alice, shifts=1), alice, rita, adam, dora,
                            decided=datetime.date(2026, 6, 1))
    certificate = cycle.certificates.get()
    revision = certificate.revisions.get()
    # As right after the decision, before the worker has rendered the PDF.
    CertificateRevision.objects.filter(pk=revision.pk).update(pdf=None)

    page = new_page()
    log_in(page, ALICE)
    page.goto(f"/certificates/{certificate.pk}/")
    pending = page.locator(f"#revision-pdf-{revision.pk}")
    expect(pending).to_contain_text("being prepared")
    page.evaluate("window.stillTheSamePage = true")

    revision.refresh_from_db()
    render_certificate_pdf_file(revision=revision)   # the worker's task

    expect(pending.get_by_role("link", name="PDF")).to_be_visible(timeout=8_000)
    assert page.evaluate("window.stillTheSamePage") is True   # updated in place, no reload
