"""Revision content as the issuing service builds it, for the signing and PDF tests."""

import copy

import pytest

from isocert.core.keys import write_key_file

BASE_CONTENT = {
    "number": "ISO50001-2026-000001", "public_code": "K7Q2M4XPA9TB", "revision": 1,
    "reason": "Initial certification",
    "organization": {"name": "Nordlicht Aluminium GmbH", "address": "Hafenstraße 12, 28217 Bremen",
                     "country": "DE", "country_name": "Germany", "legal_identifier": "HRB 12345"},
    "sites": [
        {"name": "Bremen head office", "address": "Hafenstraße 12", "city": "Bremen",
         "postcode": "28217", "country": "DE", "country_name": "Germany",
         "scope": "Management, purchasing and energy management of the group.", "central": True},
        {"name": "Oldenburg plant", "address": "Industrieweg 4", "city": "Oldenburg",
         "postcode": "26122", "country": "DE", "country_name": "Germany",
         "scope": "Die casting and machining of aluminium parts.", "central": False},
    ],
    "standards": [{"code": "ISO 50001", "edition": "2018", "title": "Energy management systems"}],
    "scope": "Die casting of aluminium parts for the automotive industry.", "sectors": [17],
    "original_issue_date": "2026-11-26", "issue_date": "2026-11-26",
    "expiry_date": "2029-11-25", "decision_date": "2026-11-26", "soa_version": "",
    "certification_body": {"name": "Hanse Certification GmbH",
                           "address": "1 Assurance Street, 10115 Berlin, Germany"},
    "verify_url": "http://127.0.0.1:8000/verify/K7Q2M4XPA9TB",
}


def certificate_content(**overrides) -> dict:
    """A signed revision content, the way the issuing service stores it."""
    from isocert.certification.signing import qr_url, sign_certificate_data

    content = copy.deepcopy(BASE_CONTENT)
    content.update(copy.deepcopy(overrides))
    signed_data, signature = sign_certificate_data(content)
    content["qr_url"] = qr_url(content["public_code"], signed_data, signature)
    return content


@pytest.fixture
def key_file(settings, tmp_path):
    """Each test signs with its own new key file."""
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = tmp_path / "keys" / "certificate-signing-key.pem"
    write_key_file(settings.CERTIFICATE_SIGNING_KEY_FILE)  # as `isocert signing-key generate`
    settings.SITE_URL = "http://127.0.0.1:8000"
    return settings.CERTIFICATE_SIGNING_KEY_FILE
