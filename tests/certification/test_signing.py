"""Ed25519 signatures over a certificate's essential data (the QR code)."""

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from signing_helpers import BASE_CONTENT, certificate_content, key_file  # noqa: F401

from isocert.certification import signing
from isocert.core.keys import key_id, load_private_key_file, write_key_file

pytestmark = pytest.mark.usefixtures("key_file")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _decode(signed_data: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(signed_data + "=" * (-len(signed_data) % 4)))


def _reencode(data: dict) -> str:
    return _b64(json.dumps(data, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False).encode())


def _other_key_pem() -> tuple[Ed25519PrivateKey, str]:
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return key, pem


def test_essential_data_is_compact_and_complete():
    content = dict(BASE_CONTENT, standards=[
        {"code": "ISO 50001", "edition": "2018", "title": "Energy"},
        {"code": "ISO/IEC 27001", "edition": "2022", "title": "Information security"}])

    data = signing.essential_data(content)

    assert data == {
        "v": 1, "n": "ISO50001-2026-000001", "c": "K7Q2M4XPA9TB",
        "o": "Nordlicht Aluminium GmbH", "cc": "DE",
        "st": ["ISO 50001:2018", "ISO/IEC 27001:2022"],
        "sc": "Die casting of aluminium parts for the automotive industry.",
        "i": "2026-11-26", "e": "2029-11-25", "r": 1, "k": signing.public_key_id(),
    }


def test_long_scope_is_truncated_to_300_characters():
    data = signing.essential_data(dict(BASE_CONTENT, scope="Casting " * 100))

    assert len(data["sc"]) == 300
    assert data["sc"].endswith("…")


def test_round_trip():
    signed_data, signature = signing.sign_certificate_data(BASE_CONTENT)

    check = signing.verify_signature(signed_data, signature)

    assert check.valid, check.reason
    assert check.data["n"] == "ISO50001-2026-000001"
    assert check.data["o"] == "Nordlicht Aluminium GmbH"
    assert "=" not in signed_data + signature
    assert len(base64.urlsafe_b64decode(signature + "==")) == 64


def test_signed_data_is_canonical_json():
    signed_data, _ = signing.sign_certificate_data(BASE_CONTENT)
    raw = base64.urlsafe_b64decode(signed_data + "=" * (-len(signed_data) % 4))

    assert raw == json.dumps(_decode(signed_data), sort_keys=True, separators=(",", ":"),
                             ensure_ascii=False).encode()


def test_non_ascii_names_survive():
    content = dict(BASE_CONTENT, organization={**BASE_CONTENT["organization"],
                                               "name": "Größe & Söhne Łódź"})
    signed_data, signature = signing.sign_certificate_data(content)

    check = signing.verify_signature(signed_data, signature)

    assert check.valid
    assert check.data["o"] == "Größe & Söhne Łódź"


@pytest.mark.parametrize("field", ["v", "n", "c", "o", "cc", "st", "sc", "i", "e", "r", "k"])
def test_tampering_with_any_field_is_detected(field):
    signed_data, signature = signing.sign_certificate_data(BASE_CONTENT)
    data = _decode(signed_data)
    data[field] = ["ISO 9001:2015"] if field == "st" else (
        data[field] + 1 if isinstance(data[field], int) else data[field] + "X")

    check = signing.verify_signature(_reencode(data), signature)

    assert not check.valid
    assert check.data is None
    assert check.reason


def test_added_field_is_detected():
    signed_data, signature = signing.sign_certificate_data(BASE_CONTENT)
    data = {**_decode(signed_data), "x": "extra"}

    assert not signing.verify_signature(_reencode(data), signature).valid


def test_altered_signature_is_detected():
    signed_data, signature = signing.sign_certificate_data(BASE_CONTENT)
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[10] ^= 0x01

    check = signing.verify_signature(signed_data, _b64(bytes(raw)))

    assert not check.valid
    assert "does not match" in check.reason


def test_signature_of_another_key_is_rejected():
    other, other_pem = _other_key_pem()
    signed_data, _ = signing.sign_certificate_data(BASE_CONTENT)
    forged = _b64(other.sign(signed_data.encode()))

    check = signing.verify_signature(signed_data, forged)

    assert not check.valid
    # And our genuine signature does not pass for someone else's key.
    _, signature = signing.sign_certificate_data(BASE_CONTENT)
    assert not signing.verify_signature(signed_data, signature, other_pem).valid


def test_data_signed_by_another_key_names_the_key(settings, tmp_path):
    signed_data, signature = signing.sign_certificate_data(BASE_CONTENT)
    our_id = signing.public_key_id()
    settings.CERTIFICATE_SIGNING_KEY_FILE = tmp_path / "another-key.pem"
    write_key_file(settings.CERTIFICATE_SIGNING_KEY_FILE)

    check = signing.verify_signature(signed_data, signature)

    assert not check.valid
    assert our_id in check.reason
    assert signing.public_key_id() in check.reason


def test_explicit_public_key_verifies():
    signed_data, signature = signing.sign_certificate_data(BASE_CONTENT)

    check = signing.verify_signature(signed_data, signature, signing.public_key_pem())

    assert check.valid
    assert check.reason == f"signed with key {signing.public_key_id()}"


@pytest.mark.parametrize(("signed_data", "signature", "reason"), [
    ("", "abc", "missing"),
    ("eyJ2IjoxfQ", "", "missing"),
    ("!!!not-base64!!!", "A" * 86, "base64url"),
    ("€uro", "A" * 86, "base64url"),
    (_b64(b"\xff\xfe not utf-8"), "A" * 86, "JSON"),
    (_b64(b"not json"), "A" * 86, "JSON"),
    (_b64(b"[1, 2, 3]"), "A" * 86, "JSON object"),
    ("eyJ2IjoxfQ", "!!", "base64url"),
    ("eyJ2IjoxfQ", _b64(b"short"), "64"),
    ("eyJ2IjoxfQ", _b64(b"x" * 65), "64"),
    ("eyJ2IjoxfQ", "A" * 86, "does not match"),
])
def test_garbage_is_rejected_with_a_reason(signed_data, signature, reason):
    check = signing.verify_signature(signed_data, signature)

    assert not check.valid
    assert check.data is None
    assert reason in check.reason


@pytest.mark.parametrize("pem", ["", "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END "
                                 "PUBLIC KEY-----\n"])
def test_garbage_public_key_is_rejected_with_a_reason(pem):
    signed_data, signature = signing.sign_certificate_data(BASE_CONTENT)

    check = signing.verify_signature(signed_data, signature, pem)

    assert not check.valid
    assert "public key" in check.reason


def test_rsa_public_key_is_refused():
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key() \
        .public_bytes(serialization.Encoding.PEM,
                      serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    signed_data, signature = signing.sign_certificate_data(BASE_CONTENT)

    check = signing.verify_signature(signed_data, signature, rsa_pem)

    assert not check.valid
    assert "Ed25519" in check.reason


def test_qr_url_has_the_documented_shape():
    content = certificate_content()
    parts = urlsplit(content["qr_url"])
    query = parse_qs(parts.query)

    assert content["qr_url"].startswith("http://127.0.0.1:8000/verify/K7Q2M4XPA9TB?d=")
    assert parts.path == "/verify/K7Q2M4XPA9TB"
    assert set(query) == {"d", "s"}


def test_qr_text_round_trip():
    content = certificate_content()

    check = signing.verify_qr_text(content["qr_url"])

    assert check.valid, check.reason
    assert check.data["c"] == "K7Q2M4XPA9TB"


def test_qr_text_with_another_public_code_is_rejected():
    content = certificate_content()
    swapped = content["qr_url"].replace("/verify/K7Q2M4XPA9TB?", "/verify/ZZZZZZZZZZZZ?")

    check = signing.verify_qr_text(swapped)

    assert not check.valid
    assert "ZZZZZZZZZZZZ" in check.reason
    assert "K7Q2M4XPA9TB" in check.reason


def test_qr_text_with_the_data_of_another_certificate_is_rejected():
    genuine = certificate_content()
    other = certificate_content(public_code="B4DC0DE5B4DC", number="ISO50001-2026-000002")
    mixed = genuine["qr_url"].split("&s=")[0] + "&s=" + other["qr_url"].split("&s=")[1]

    assert not signing.verify_qr_text(mixed).valid


@pytest.mark.parametrize("text", [
    "", "   ", "not an address", "http://127.0.0.1:8000/", "http://[::1/verify/X?d=a&s=b",
    "http://127.0.0.1:8000/verify/K7Q2M4XPA9TB",
    "http://127.0.0.1:8000/verify/K7Q2M4XPA9TB?d=abc",
    "http://127.0.0.1:8000/verify/K7Q2M4XPA9TB?d=a&d=b&s=c",
    "http://127.0.0.1:8000/verify/K7Q2M4XPA9TB?d=%%%&s=%%%",
    "http://127.0.0.1:8000/elsewhere/K7Q2M4XPA9TB?d=abc&s=def",
])
def test_garbage_qr_text_is_rejected_with_a_reason(text):
    check = signing.verify_qr_text(text)

    assert not check.valid
    assert check.reason


def test_key_from_setting_wins_over_the_file(settings, key_file):  # noqa: F811
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    settings.CERTIFICATE_SIGNING_KEY = pem.replace("\n", "\\n")  # as an env variable holds it

    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)

    assert signing.public_key_pem() == public.decode()
    assert signing.public_key_id() != key_id(load_private_key_file(key_file).public_key())
    signed_data, signature = signing.sign_certificate_data(BASE_CONTENT)
    assert signing.verify_signature(signed_data, signature, public.decode()).valid


def test_public_key_id_is_a_short_fingerprint():
    assert len(signing.public_key_id()) == 16
    int(signing.public_key_id(), 16)
    assert signing.public_key_pem().startswith("-----BEGIN PUBLIC KEY-----")
    assert signing.public_key_id(signing.public_key_pem()) == signing.public_key_id()
    _, other_pem = _other_key_pem()
    assert signing.public_key_id(other_pem) != signing.public_key_id()
