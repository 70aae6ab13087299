"""The verification page /verify/{number-or-code}: status banners and the QR signature check."""

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from registry_helpers import certificate_content, clear_public_state, make_certificate

from isocert.certification.models import Certificate
from isocert.certification.signing import qr_url, sign_certificate_data
from isocert.core.keys import write_key_file
from isocert.registry import lookups


@pytest.fixture(autouse=True)
def _fresh_public_state():
    clear_public_state()
    yield
    clear_public_state()


@pytest.fixture
def anonymous():
    return Client()


@pytest.fixture
def key_file(settings, tmp_path):
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = tmp_path / "keys" / "certificate-signing-key.pem"
    write_key_file(settings.CERTIFICATE_SIGNING_KEY_FILE)  # as `isocert signing-key generate`
    return settings.CERTIFICATE_SIGNING_KEY_FILE


def page(client, number, **params):
    response = client.get(reverse("verify_certificate", args=[number]), params)
    return response, response.content.decode()


def scanned_path(certificate) -> str:
    """The path and query of the certificate's QR address, as a phone would open it."""
    signed_data, signature = sign_certificate_data(certificate_content(certificate))
    parts = urlsplit(qr_url(certificate.public_code, signed_data, signature))
    return f"{parts.path}?{parts.query}"


@pytest.mark.django_db
def test_an_active_certificate_shows_its_record(anonymous):
    make_certificate("Nordlicht Energie GmbH", number="ISO50001-2026-000042",
                     standards=[("ISO 50001", "2018")])

    response, html = page(anonymous, "ISO50001-2026-000042")

    assert response.status_code == 200
    assert "This certificate is valid (Active)." in html
    for text in ("Nordlicht Energie GmbH", "ISO 50001:2018", "Production of aluminium profiles",
                 "Werk Nord", "Hafenstraße 4", "2023-03-01", "2026-03-01", "2029-02-28",
                 "isocert Certification Body"):
        assert text in html
    assert 'role="alert"' not in html


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "headline", "explanation"), [
    ("Suspended", "This certificate is suspended.",
     "temporarily invalid: the organization may not advertise it"),
    ("Withdrawn", "This certificate has been withdrawn.", "no longer certified"),
    ("Expired", "This certificate has expired.", "no longer certified"),
])
def test_suspended_withdrawn_and_expired_get_a_prominent_banner(anonymous, status, headline,
                                                                explanation):
    make_certificate(number="C-1", status=status)

    response, html = page(anonymous, "C-1")

    assert response.status_code == 200
    banner = html.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert headline in banner and explanation in banner
    assert "This certificate is valid" not in html


@pytest.mark.django_db
def test_the_public_code_opens_the_same_page(anonymous):
    certificate = make_certificate(number="C-2")

    _, html = page(anonymous, certificate.public_code)

    assert "Certificate C-2" in html


@pytest.mark.django_db
def test_a_confidential_certificate_is_verifiable(anonymous):
    make_certificate("Hidden Works AG", number="CONF-1", confidential=True)

    response, html = page(anonymous, "CONF-1")

    assert response.status_code == 200 and "Hidden Works AG" in html


@pytest.mark.django_db
def test_an_unknown_number_is_a_404_that_says_so(anonymous):
    response, html = page(anonymous, "NO-SUCH-1")

    assert response.status_code == 404
    assert "No certificate NO-SUCH-1 is in our registry." in html
    assert anonymous.post(reverse("verify_certificate", args=["NO-SUCH-1"])).status_code == 404


@pytest.mark.django_db
def test_other_methods_are_refused(anonymous):
    make_certificate(number="C-3")

    assert anonymous.post(reverse("verify_certificate", args=["C-3"])).status_code == 405


@pytest.mark.django_db
def test_the_lookup_form_goes_to_the_certificate(anonymous):
    make_certificate(number="C-4")

    form = anonymous.get(reverse("verify_lookup"))
    response = anonymous.get(reverse("verify_lookup"), {"number": " C-4 "})

    assert form.status_code == 200 and 'name="number"' in form.content.decode()
    assert response.status_code == 302
    assert response["Location"] == reverse("verify_certificate", args=["C-4"])


@pytest.mark.django_db
def test_page_views_are_counted_like_api_lookups(anonymous):
    certificate = make_certificate(number="C-5")

    page(anonymous, "C-5")
    page(anonymous, certificate.public_code)
    lookups.flush_lookup_counts()

    assert Certificate.objects.get(pk=certificate.pk).lookups == 2


@pytest.mark.django_db
def test_a_genuine_qr_code_is_confirmed(anonymous, key_file):
    certificate = make_certificate(number="C-6")

    html = anonymous.get(scanned_path(certificate)).content.decode()

    assert "Signature valid, and the signed data matches the registry." in html
    assert "forged" not in html


@pytest.mark.django_db
def test_altered_signed_data_is_detected_as_forged(anonymous, key_file):
    certificate = make_certificate("Nordlicht Energie GmbH", number="C-7")
    path = scanned_path(certificate)
    signed_data = path.split("d=", 1)[1].split("&", 1)[0]
    # A forger re-encodes the data with another organization name, keeping the signature.
    import base64
    import json
    data = json.loads(base64.urlsafe_b64decode(signed_data + "=" * (-len(signed_data) % 4)))
    data["o"] = "Forged Holdings Ltd"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    html = anonymous.get(path.replace(signed_data, forged)).content.decode()

    assert "Signature not valid — this paper certificate may be forged or altered." in html
    assert "Signature valid" not in html


@pytest.mark.django_db
def test_a_signature_from_another_key_is_detected(anonymous, key_file, settings, tmp_path):
    certificate = make_certificate(number="C-8")
    settings.CERTIFICATE_SIGNING_KEY_FILE = tmp_path / "forger" / "key.pem"
    write_key_file(settings.CERTIFICATE_SIGNING_KEY_FILE)
    path = scanned_path(certificate)  # signed with the forger's own key
    settings.CERTIFICATE_SIGNING_KEY_FILE = key_file

    html = anonymous.get(path).content.decode()

    assert "Signature not valid" in html


@pytest.mark.django_db
def test_a_genuine_but_outdated_paper_shows_what_changed(anonymous, key_file):
    certificate = make_certificate("Nordlicht Energie GmbH", number="C-9")
    path = scanned_path(certificate)
    Certificate.objects.filter(pk=certificate.pk).update(
        revision=2, organization_name="Nordlicht Energie SE", status="Suspended")

    html = anonymous.get(path).content.decode()

    assert "The signature is genuine, but the signed data differs from the registry." in html
    assert "earlier revision" in html
    assert "Nordlicht Energie GmbH" in html and "Nordlicht Energie SE" in html
    assert "This certificate is suspended." in html


@pytest.mark.django_db
def test_without_a_signing_key_no_signature_is_accepted(anonymous, settings, tmp_path):
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = tmp_path / "none" / "key.pem"
    make_certificate(number="C-10")

    html = page(anonymous, "C-10", d="abc", s="def")[1]

    assert "Signature not valid" in html
    assert not settings.CERTIFICATE_SIGNING_KEY_FILE.exists()


@pytest.mark.django_db
def test_the_navigation_links_to_verification_and_directory(anonymous):
    html = anonymous.get("/").content.decode()

    assert f'href="{reverse("verify_lookup")}"' in html
    assert f'href="{reverse("certificate_directory")}"' in html
