"""The printable certificate (ISO/IEC 17021-1 §8.2.2): one PDF per revision.

Rendered only from the revision's frozen ``content``, so a revision's PDF can be made
again years later and says the same thing; nothing here reads the clock or the live
organization profile.
"""

import hashlib
from functools import cache
from pathlib import Path

import segno
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from isocert.core.files import UploadCheck, store_file

from .models import CertificateRevision

CB_MARK = "isocert/cb-mark.svg"
# Printed about 42 mm wide: with medium error correction the long signed address still
# gives modules of 0.3-0.4 mm (version 23-27), which phone cameras read from paper.
QR_ERROR = "m"
QR_SCALE = 8
QR_BORDER = 4


def certificate_qr(text: str) -> segno.QRCode:
    """The QR code printed on certificates for ``text`` (the signed verification address)."""
    return segno.make(text, error=QR_ERROR, micro=False)


@cache
def _cb_mark_path() -> Path:
    found = finders.find(CB_MARK)
    if not found:
        raise FileNotFoundError(f"Static file {CB_MARK} not found.")
    return Path(found).resolve()


def _url_fetcher(cb_mark_uri: str):
    """Fetch only the CB mark and inline data: the PDF never reaches the network or
    other local files, whatever the content says."""
    from weasyprint.urls import URLFetcher

    class _Fetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:") or url == cb_mark_uri:
                return super().fetch(url, headers)
            raise ValueError(f"Resource not allowed in a certificate PDF: {url}")

    return _Fetcher()


def _address_lines(*, address: str, postcode: str = "", city: str = "",
                   country_name: str = "") -> list[str]:
    """Address lines without repeating what the address text already says."""
    lines = [line.strip() for line in (address or "").splitlines() if line.strip()]
    text = " ".join(lines).casefold()
    place = " ".join(part for part in (postcode, city) if part).strip()
    if place and not all(part.casefold() in text for part in (postcode, city) if part):
        lines.append(place)
    if country_name and country_name.casefold() not in text:
        lines.append(country_name)
    return lines


def certificate_context(content: dict) -> dict:
    """What the certificate template shows, from a revision's content."""
    organization = content.get("organization") or {}
    sites = content.get("sites") or []
    revision = int(content["revision"])
    standards = content.get("standards") or []
    qr = certificate_qr(content["qr_url"])
    return {
        "content": content,
        "revision": revision,
        "previous_revision": revision - 1 if revision > 1 else None,
        "standard_labels": [f"{s['code']}:{s['edition']}" for s in standards],
        "standards": standards,
        "is_27001": any(s["code"].replace(" ", "").upper().endswith("27001") for s in standards),
        "organization": organization,
        "organization_lines": _address_lines(address=organization.get("address", ""),
                                             country_name=organization.get("country_name", "")),
        "sites": [{**site, "lines": _address_lines(
            address=site.get("address", ""), postcode=site.get("postcode", ""),
            city=site.get("city", ""), country_name=site.get("country_name", ""))}
            for site in sites],
        "cb": content.get("certification_body") or {},
        "qr_data_uri": qr.png_data_uri(scale=QR_SCALE, border=QR_BORDER),
        "cb_mark_uri": _cb_mark_path().as_uri(),
    }


def render_certificate_pdf(content: dict) -> bytes:
    """The certificate PDF's bytes for one revision content."""
    from weasyprint import HTML

    context = certificate_context(content)
    html = render_to_string("certification/certificate_pdf.html", context)
    return HTML(string=html, base_url=str(_cb_mark_path().parent),
                url_fetcher=_url_fetcher(context["cb_mark_uri"])).write_pdf()


def render_certificate_pdf_file(*, revision: CertificateRevision) -> CertificateRevision:
    """Render one revision's certificate to PDF, store it and link it to the revision."""
    data = render_certificate_pdf(revision.content)
    stored = store_file(UploadCheck(data=data, content_type="application/pdf",
                                    sha256=hashlib.sha256(data).hexdigest()))
    revision.pdf = stored
    revision.save(update_fields=["pdf"])
    return revision
