"""The certificate page, its PDF downloads, the lifecycle forms and the certificate list:
the client's members see their certificate, CB staff every certificate, and only decision
makers and administrators change a certificate's status."""

import datetime

import pytest
from certification_helpers import DECIDED, decision_ready_cycle
from django.utils import timezone
from helpers.dates import shown

from isocert.audits.models import Audit
from isocert.certification import services
from isocert.certification.lifecycle import suspend_certificate
from isocert.certification.models import Certificate


@pytest.fixture
def cycle(nordlicht, alice, rita, adam):
    return decision_ready_cycle(nordlicht, alice, rita, adam)


@pytest.fixture
def certificate(cycle, dora):
    return services.decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                           decision_date=DECIDED).certificate


def page_url(certificate) -> str:
    return f"/certificates/{certificate.pk}/"


def state(certificate) -> tuple:
    certificate.refresh_from_db()
    return (certificate.status, certificate.suspended_until, certificate.revision,
            certificate.status_history.count())


@pytest.mark.parametrize("who", ["alice", "bob", "dora", "ada", "rita"])
def test_members_and_cb_staff_see_the_certificate(certificate, who, request, api_client):
    page = api_client(request.getfixturevalue(who)).get(page_url(certificate))

    assert page.status_code == 200
    html = page.content.decode()
    for text in (certificate.number, "Nordlicht Aluminium GmbH", "Hafenstraße 12",
                 "ISO 9001:2015", "Bremen head office", "Oldenburg plant",
                 "Active: valid until 1 Apr 2029.", "1 Apr 2026", "Initial certification",
                 "Certification granted", "Surveillance 1", "Surveillance 2",
                 "Recertification", f"/verify/{certificate.public_code}",
                 "The PDF is being prepared", "isocert Certification Body"):
        assert text in html, (who, text)
    assert "?d=" in html  # the signed QR address


@pytest.mark.parametrize("who", ["charlie", "adam"])
def test_others_get_404(certificate, who, request, api_client):
    client = api_client(request.getfixturevalue(who))
    revision = certificate.revisions.get()
    before = state(certificate)

    assert client.get(page_url(certificate)).status_code == 404
    assert client.get(f"/certificates/revisions/{revision.pk}/pdf/").status_code == 404
    for action in ("suspend", "restore", "withdraw"):
        response = client.post(f"/certificates/{certificate.pk}/{action}/",
                               {f"{action}-reason": "Charlie tries this."})
        assert response.status_code == 404
    assert certificate.number not in client.get("/certificates/").content.decode()
    assert state(certificate) == before


def test_the_client_sees_no_lifecycle_forms_and_cannot_post_them(certificate, alice,
                                                                  api_client):
    client = api_client(alice)
    html = client.get(page_url(certificate)).content.decode()
    assert "Suspend the certificate" not in html and "Withdraw the certificate" not in html
    before = state(certificate)

    for action in ("suspend", "restore", "withdraw"):
        response = client.post(f"/certificates/{certificate.pk}/{action}/",
                               {f"{action}-reason": "Alice would like this."})
        assert response.status_code == 404, action
    assert state(certificate) == before


def test_dora_suspends_restores_and_withdraws_on_the_page(certificate, dora, api_client):
    client = api_client(dora)
    html = client.get(page_url(certificate)).content.decode()
    assert "Suspend the certificate" in html and "Withdraw the certificate" in html
    assert "Restore the certificate" not in html

    today = timezone.localdate()
    until = today + datetime.timedelta(days=60)
    suspended = client.post(f"/certificates/{certificate.pk}/suspend/", {
        "suspend-reason": "Surveillance 1 refused by the client.",
        "suspend-until": until.isoformat()})
    assert suspended.status_code == 302
    page = client.get(page_url(certificate)).content.decode()
    assert "Certificate suspended." in page
    assert (f"Suspended on {shown(today)} until {shown(until)}: the "
            "certification is temporarily invalid") in page
    assert "Restore the certificate" in page and "Suspend the certificate" not in page
    assert "Surveillance 1 refused by the client." in page

    restored = client.post(f"/certificates/{certificate.pk}/restore/", {
        "restore-reason": "Surveillance 1 held and passed."})
    assert restored.status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == "Active" and certificate.suspended_until is None

    withdrawn = client.post(f"/certificates/{certificate.pk}/withdraw/", {
        "withdraw-reason": "The client ended the contract."})
    assert withdrawn.status_code == 302
    page = client.get(page_url(certificate)).content.decode()
    assert "Withdrawn on" in page and "the certification has ended" in page
    assert "Suspend the certificate" not in page and "Withdraw the certificate" not in page
    assert [c.status for c in certificate.status_history.all()] == [
        "Active", "Suspended", "Active", "Withdrawn"]


def test_lifecycle_errors_show_on_the_field(certificate, ada, api_client):
    client = api_client(ada)
    before = state(certificate)
    too_long = timezone.localdate() + datetime.timedelta(days=250)

    response = client.post(f"/certificates/{certificate.pk}/suspend/", {
        "suspend-reason": "Serious failure found.", "suspend-until": too_long.isoformat()})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_suspend-until_error"' in html and "at most 6 months" in html.lower()

    short = client.post(f"/certificates/{certificate.pk}/suspend/", {"suspend-reason": "no"})
    assert short.status_code == 422
    assert 'id="id_suspend-reason_error"' in short.content.decode()

    wrong_state = client.post(f"/certificates/{certificate.pk}/restore/",
                              {"restore-reason": "It is not even suspended."})
    assert wrong_state.status_code == 409
    assert "only possible when it is suspended" in wrong_state.content.decode()
    assert state(certificate) == before


def test_the_pdf_downloads_once_rendered(cycle, dora, alice, api_client,
                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        certificate = services.decide(cycle=cycle, actor=dora, kind="initial",
                                      outcome="grant", decision_date=DECIDED).certificate
    revision = certificate.revisions.get()
    client = api_client(alice)

    html = client.get(page_url(certificate)).content.decode()
    assert f"/certificates/revisions/{revision.pk}/pdf/" in html
    assert "The PDF is being prepared" not in html
    response = client.get(f"/certificates/revisions/{revision.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"certificate-{certificate.number}-rev1.pdf" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_pdf_still_rendering_answers_404(certificate, alice, api_client):
    revision = certificate.revisions.get()
    assert revision.pdf is None
    assert api_client(alice).get(f"/certificates/revisions/{revision.pk}/pdf/").status_code == 404


def test_earlier_revisions_are_labelled_superseded(certificate, cycle, dora, alice, api_client):
    services.decide(cycle=cycle, actor=dora, kind="scope_reduction", outcome="grant",
                    reason="The Oldenburg plant stopped machining.",
                    scope="Die casting of aluminium parts (no machining).")
    first = certificate.revisions.get(revision=1)
    html = api_client(alice).get(page_url(certificate)).content.decode()
    superseded = timezone.localdate(first.superseded_at)
    assert (f'Superseded on <time datetime="{superseded.isoformat()}">{shown(superseded)}</time>'
            in html)
    assert "Revision 2 — Scope reduced: The Oldenburg plant stopped machining." in html
    assert "Die casting of aluminium parts (no machining)." in html


def test_overdue_surveillance_is_marked(certificate, alice, api_client):
    first = certificate.cycle.audits.get(kind=Audit.Kind.SURVEILLANCE1)
    Audit.objects.filter(pk=first.pk).update(
        target_date=timezone.localdate() - datetime.timedelta(days=3))
    html = api_client(alice).get(page_url(certificate)).content.decode()
    assert 'class="overdue"' in html and "Overdue" in html


def test_the_first_surveillance_is_due_within_12_months_of_the_decision(certificate):
    from isocert.certification.selectors import surveillance_due

    dates = {a.kind: a.target_date for a in surveillance_due(certificate=certificate)}
    assert DECIDED < dates["surveillance1"] <= datetime.date(2027, 4, 1)
    assert dates["surveillance1"] < dates["surveillance2"] < certificate.expiry_date


def test_the_certificate_list(certificate, dora, alice, charlie, brightpath, api_client):
    mine = api_client(alice).get("/certificates/")
    assert mine.status_code == 200 and certificate.number in mine.content.decode()
    assert "Your certificates" in mine.content.decode()
    assert certificate.number not in api_client(charlie).get("/certificates/").content.decode()

    staff = api_client(dora)
    assert certificate.number in staff.get("/certificates/").content.decode()
    assert certificate.number in staff.get("/certificates/?status=Active").content.decode()
    suspend_certificate(certificate=certificate, actor=dora, reason="Client asked for it.")
    assert certificate.number not in staff.get("/certificates/?status=Active").content.decode()
    suspended = staff.get("/certificates/?status=Suspended").content.decode()
    assert certificate.number in suspended and "until" in suspended
    assert staff.get("/certificates/?status=bogus").status_code == 200


def test_the_navigation_links(certificate, dora, alice, api_client):
    dora_nav = api_client(dora).get("/certificates/").content.decode()
    assert 'href="/cb/decisions/"' in dora_nav and 'href="/certificates/"' in dora_nav
    alice_nav = api_client(alice).get("/certificates/").content.decode()
    assert 'href="/cb/decisions/"' not in alice_nav and 'href="/certificates/"' in alice_nav


def test_an_expired_certificate_says_until_when_it_can_be_restored(certificate):
    from isocert.certification.views_staff import _status_text

    Certificate.objects.filter(pk=certificate.pk).update(status="Expired")
    certificate.refresh_from_db()
    assert _status_text(certificate, None) == (
        "Expired: it was not recertified before 1 Apr 2029. A completed recertification "
        "can restore it until 1 Oct 2029.")
