"""The printed certificate (ISO/IEC 17021-1 §8.2.2): what the PDF must say."""

import datetime
import io
import re

import pytest
from django.core.files.storage import default_storage
from pypdf import PdfReader
from signing_helpers import certificate_content, key_file  # noqa: F401

from isocert.certification import pdf
from isocert.certification.models import Certificate, CertificateRevision

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("key_file")]


def make_revision(content: dict) -> CertificateRevision:
    """A registry row and one revision, straight through the ORM."""
    certificate, _ = Certificate.objects.get_or_create(
        number=content["number"],
        defaults={
            "public_code": content["public_code"], "identity_number": content["number"],
            "entity_id": "DE-HRB-12345", "organization_name": content["organization"]["name"],
            "name_key": content["organization"]["name"].lower(),
            "organization_country": content["organization"]["country"],
            "standards": content["standards"], "scope": content["scope"],
            "original_issue_date": datetime.date.fromisoformat(content["original_issue_date"]),
            "issue_date": datetime.date.fromisoformat(content["issue_date"]),
            "expiry_date": datetime.date.fromisoformat(content["expiry_date"]),
            "revision": content["revision"],
        })
    signed_data, signature = content["qr_url"].split("?d=")[1].split("&s=")
    return CertificateRevision.objects.create(
        certificate=certificate, revision=content["revision"], reason=content["reason"],
        content=content, signed_data=signed_data, signature=signature)


def rendered(content: dict) -> tuple[CertificateRevision, PdfReader, str]:
    revision = pdf.render_certificate_pdf_file(revision=make_revision(content))
    with default_storage.open(revision.pdf.storage_name, "rb") as stored:
        reader = PdfReader(io.BytesIO(stored.read()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return revision, reader, text


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_pdf_is_stored_and_linked_to_the_revision():
    revision, reader, _ = rendered(certificate_content())

    revision.refresh_from_db()
    assert revision.pdf is not None
    assert revision.pdf.content_type == "application/pdf"
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)


def test_pdf_says_everything_17021_requires():
    _, _, text = rendered(certificate_content())
    flat_text = flat(text)

    assert "ISO50001-2026-000001" in text
    assert "Revision 1" in text
    assert "Nordlicht Aluminium GmbH" in text
    assert "Hafenstraße 12, 28217 Bremen" in text
    assert "ISO 50001:2018" in text
    assert "Energy management systems" in text
    assert "Die casting of aluminium parts for the automotive industry." in flat_text
    # The one display format, also on the signed statement (the QR code keeps ISO 8601).
    assert "Original certification date 26 Nov 2026" in flat_text
    assert "Effective date of this revision 26 Nov 2026" in flat_text
    assert "Expiry date 25 Nov 2029" in flat_text
    assert "YYYY-MM-DD" not in flat_text
    assert "Hanse Certification GmbH" in text
    assert "1 Assurance Street, 10115 Berlin, Germany" in text
    assert "Verify at http://127.0.0.1:8000/verify/K7Q2M4XPA9TB" in flat_text
    assert "supersedes" not in text
    assert "Statement of Applicability" not in text


def test_every_site_with_its_address_and_scope():
    _, _, text = rendered(certificate_content())
    flat_text = flat(text)

    for name, address, scope in [
        ("Bremen head office", "Hafenstraße 12 28217 Bremen Germany",
         "Management, purchasing and energy management of the group."),
        ("Oldenburg plant", "Industrieweg 4 26122 Oldenburg Germany",
         "Die casting and machining of aluminium parts."),
    ]:
        assert name in flat_text
        assert address in flat_text
        assert scope in flat_text
    assert "Central function" in text


def test_many_sites_flow_over_pages_without_losing_one():
    sites = [{"name": f"Plant {i:03d}", "address": f"Werkstraße {i}", "city": "Hamburg",
              "postcode": "20095", "country": "DE", "country_name": "Germany",
              "scope": f"Anodising line {i:03d} for extruded profiles.", "central": False}
             for i in range(60)]

    _, reader, text = rendered(certificate_content(sites=sites))
    flat_text = flat(text)

    assert len(reader.pages) >= 3
    for i in range(60):
        assert f"Plant {i:03d}" in flat_text
        assert f"Anodising line {i:03d} for extruded profiles." in flat_text
    # Each page carries the certificate number and the table's heading again.
    for page in reader.pages[1:]:
        page_text = page.extract_text()
        assert "ISO50001-2026-000001" in page_text
        assert "Scope at this site" in page_text
    # A site's row is never split across two pages.
    for page in reader.pages[1:]:
        names = re.findall(r"Plant (\d{3})", page.extract_text())
        lines = re.findall(r"Anodising line (\d{3})", page.extract_text())
        assert names == lines


def test_revision_2_says_what_it_supersedes():
    _, _, text = rendered(certificate_content(revision=2, reason="Scope extension: new plant"))

    assert "Revision 2 — supersedes revision 1" in text
    assert "Scope extension: new plant" in text


def test_27001_prints_the_statement_of_applicability_version():
    content = certificate_content(
        number="ISO27001-2026-000007", public_code="S0AS0AS0AS0A",
        standards=[{"code": "ISO/IEC 27001", "edition": "2022",
                    "title": "Information security management systems"}],
        soa_version="SoA v3 (2026-10-01)")

    _, _, text = rendered(content)

    assert "ISO/IEC 27001:2022" in text
    assert "Statement of Applicability: SoA v3 (2026-10-01)" in flat(text)


def test_organization_text_is_escaped_not_interpreted():
    content = certificate_content(organization={
        "name": "<b>Bold</b> & <img src='http://evil.example/x.png'>", "address": "Somewhere",
        "country": "DE", "country_name": "Germany", "legal_identifier": ""})

    _, _, text = rendered(content)

    assert "<b>Bold</b> & <img src='http://evil.example/x.png'>" in text


def _pdf_qr_matrix(reader: PdfReader, qr) -> list[list[int]]:
    """Read the QR image back from the PDF, one sample per module."""
    size = qr.symbol_size(scale=pdf.QR_SCALE, border=pdf.QR_BORDER)[0]
    images = [image for image in reader.pages[0].images if image.image.size == (size, size)]
    assert len(images) == 1, [image.image.size for image in reader.pages[0].images]
    picture = images[0].image.convert("L")
    modules = qr.symbol_size(scale=1, border=0)[0]
    offset = pdf.QR_BORDER * pdf.QR_SCALE + pdf.QR_SCALE // 2
    return [[1 if picture.getpixel((offset + x * pdf.QR_SCALE, offset + y * pdf.QR_SCALE)) < 128
             else 0 for x in range(modules)] for y in range(modules)]


def test_qr_code_encodes_the_signed_verification_address():
    content = certificate_content()
    _, reader, _ = rendered(content)

    expected = pdf.certificate_qr(content["qr_url"])
    printed = _pdf_qr_matrix(reader, expected)

    assert printed == [[1 if bit else 0 for bit in row] for row in expected.matrix]
    # One pixel per module, drawn without smoothing: sharp modules at the printed size.
    [image] = [i for i in reader.pages[0].images if i.image.size[0] == len(expected.matrix) + 8]
    assert image.indirect_reference.get_object()["/Interpolate"].value is False
    # And that address carries a valid signature of this certificate.
    from isocert.certification.signing import verify_qr_text
    check = verify_qr_text(content["qr_url"])
    assert check.valid
    assert check.data["n"] == "ISO50001-2026-000001"


def test_cb_mark_is_drawn_and_nothing_else_is_fetched(monkeypatch):
    """The mark is read from the static files; the PDF never fetches other files or the
    network, whatever the content says."""
    fetched = []
    from weasyprint.urls import URLFetcher

    original = URLFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(URLFetcher, "fetch", spy)
    content = certificate_content(scope="Scope with url(file:///etc/passwd) in it")

    _, reader, text = rendered(content)

    assert any(url.startswith("file://") and url.endswith("/isocert/cb-mark.svg")
               for url in fetched)
    assert all(url.startswith("data:") or url.endswith("/isocert/cb-mark.svg") for url in fetched)
    assert "url(file:///etc/passwd)" in flat(text)
    # The mark's white tick is the only white stroke on the page.
    assert "1 1 1 RG" in reader.pages[0].get_contents().get_data().decode("latin-1")
