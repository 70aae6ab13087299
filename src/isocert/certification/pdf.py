"""The printable certificate (ISO/IEC 17021-1 §8.2.2): one PDF per revision.

Rendered only from the revision's frozen ``content``, so a revision's PDF can be made
again years later and says the same thing; nothing here reads the clock or the live
organization profile.
"""

import base64
import hashlib
import io
import threading
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
# One pixel per module: the template scales the image to 42 mm with
# ``image-rendering: pixelated``, which WeasyPrint writes as /Interpolate false, so
# viewers and printers draw sharp modules. Eight pixels per module printed the same but
# made a 64 times larger PNG for segno to encode and WeasyPrint to decode and re-encode.
QR_SCALE = 1
QR_BORDER = 4


def certificate_qr(text: str) -> segno.QRCode:
    """The QR code printed on certificates for ``text`` (the signed verification address)."""
    return segno.make(text, error=QR_ERROR, micro=False)


def certificate_qr_png(text: str) -> bytes:
    """The printed QR code's image (PNG) for ``text``."""
    buffer = io.BytesIO()
    certificate_qr(text).save(buffer, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return buffer.getvalue()


@cache
def _cb_mark_path() -> Path:
    found = finders.find(CB_MARK)
    if not found:
        raise FileNotFoundError(f"Static file {CB_MARK} not found.")
    return Path(found).resolve()


def cb_mark_sha256() -> str:
    """The SHA-256 of the CB mark drawn on certificates now (read each time: a re-render
    run must notice the file it is told has changed)."""
    return hashlib.sha256(_cb_mark_path().read_bytes()).hexdigest()


class _Tools(threading.local):
    """WeasyPrint's URL fetcher and font configuration, made once per thread.

    Making them costs more than laying out a certificate: the fetcher loads the
    system's TLS roots and the font configuration asks fontconfig for every font.
    Neither keeps anything of one document for the next (certificates declare no
    ``@font-face``), so a worker re-rendering thousands of certificates reuses them."""

    fetcher = None
    font_config = None


_tools = _Tools()


def _weasyprint_tools():
    if _tools.fetcher is None:
        from weasyprint.text.fonts import FontConfiguration
        from weasyprint.urls import URLFetcher

        allowed = _cb_mark_path().as_uri()

        class _Fetcher(URLFetcher):
            """Fetch only the CB mark and inline data: the PDF never reaches the network
            or other local files, whatever the content says."""

            def fetch(self, url, headers=None):
                if url.startswith("data:") or url == allowed:
                    return super().fetch(url, headers)
                raise ValueError(f"Resource not allowed in a certificate PDF: {url}")

        _tools.fetcher, _tools.font_config = _Fetcher(), FontConfiguration()
    return _tools.fetcher, _tools.font_config


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


def certificate_context(content: dict, *, qr_png: bytes | None = None) -> dict:
    """What the certificate template shows, from a revision's content (``qr_png``: the QR
    code's image drawn before for this content, else drawn now)."""
    organization = content.get("organization") or {}
    sites = content.get("sites") or []
    revision = int(content["revision"])
    standards = content.get("standards") or []
    qr_png = bytes(qr_png) if qr_png else certificate_qr_png(content["qr_url"])
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
        "qr_data_uri": "data:image/png;base64," + base64.b64encode(qr_png).decode("ascii"),
        "cb_mark_uri": _cb_mark_path().as_uri(),
    }


def render_certificate_pdf(content: dict, *, qr_png: bytes | None = None) -> bytes:
    """The certificate PDF's bytes for one revision content."""
    from weasyprint import HTML

    fetcher, font_config = _weasyprint_tools()
    html = render_to_string("certification/certificate_pdf.html",
                            certificate_context(content, qr_png=qr_png))
    return HTML(string=html, base_url=str(_cb_mark_path().parent),
                url_fetcher=fetcher).write_pdf(font_config=font_config)


def render_certificate_pdf_file(*, revision: CertificateRevision,
                                mark: str | None = None) -> CertificateRevision:
    """Render one revision's certificate to PDF, store it and link it to the revision,
    with the SHA-256 of the CB mark it was drawn with (``mark``, when the caller read it).
    The QR code's image is drawn the first time and kept with the revision."""
    fields = ["pdf", "pdf_mark"]
    if not revision.qr_png:
        revision.qr_png = certificate_qr_png(revision.content["qr_url"])
        fields.append("qr_png")
    data = render_certificate_pdf(revision.content, qr_png=revision.qr_png)
    stored = store_file(UploadCheck(data=data, content_type="application/pdf",
                                    sha256=hashlib.sha256(data).hexdigest()))
    revision.pdf = stored
    revision.pdf_mark = mark or cb_mark_sha256()
    revision.save(update_fields=fields)
    return revision
