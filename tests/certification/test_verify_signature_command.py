"""`isocert verify-signature`: checks a scanned QR code offline."""

import io

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from signing_helpers import certificate_content, key_file  # noqa: F401

from isocert.certification import signing

pytestmark = pytest.mark.usefixtures("key_file")


def run(*args, stdin=None) -> str:
    out = io.StringIO()
    call_command("verify-signature", *args, stdout=out, stdin=stdin)
    return out.getvalue()


def run_failing(*args, stdin=None) -> str:
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify-signature", *args, stdout=out, stdin=stdin)
    assert exit_info.value.code == 1
    return out.getvalue()


def test_valid_qr_text_prints_the_data_and_valid():
    content = certificate_content()

    output = run(content["qr_url"])

    assert "Certificate number:" in output
    assert "ISO50001-2026-000001" in output
    assert "Nordlicht Aluminium GmbH" in output
    assert "ISO 50001:2018" in output
    assert "2029-11-25" in output
    assert f"Signature: VALID (key {signing.public_key_id()})" in output
    assert "http://127.0.0.1:8000/verify/K7Q2M4XPA9TB" in output  # where the status is


def test_qr_text_from_stdin():
    content = certificate_content()

    output = run("-", stdin=io.StringIO(content["qr_url"] + "\n"))

    assert "Signature: VALID" in output


def test_tampered_qr_text_exits_1_and_says_why():
    content = certificate_content()
    tampered = content["qr_url"].replace("/verify/K7Q2M4XPA9TB?", "/verify/AAAAAAAAAAAA?")

    output = run_failing(tampered)

    assert "Signature: INVALID — " in output
    assert "AAAAAAAAAAAA" in output
    assert "VALID (" not in output


def test_forged_signature_shows_the_claimed_data_as_unverified():
    content = certificate_content()
    forged = content["qr_url"].split("&s=")[0] + "&s=" + "A" * 86

    output = run_failing(forged)

    assert "NOT verified" in output
    assert "Nordlicht Aluminium GmbH" in output
    assert "Signature: INVALID — the signature does not match the data" in output


@pytest.mark.parametrize("text", ["garbage", "http://127.0.0.1:8000/verify/X?d=%%&s=!!", ""])
def test_garbage_exits_1(text):
    signing.signing_key()  # this install has its key
    assert "Signature: INVALID — " in run_failing(text)


def test_public_key_file_works_without_any_local_key(settings, tmp_path):
    """Offline: the public key file is all it needs (no settings key, no database)."""
    content = certificate_content()
    public_file = tmp_path / "cb.pem"
    public_file.write_text(signing.public_key_pem())
    settings.CERTIFICATE_SIGNING_KEY_FILE = tmp_path / "nowhere" / "key.pem"

    output = run(content["qr_url"], "--public-key", str(public_file))

    assert f"Signature: VALID (key {signing.public_key_id(public_file.read_text())})" in output
    assert "make sure it is the certification body's own site" in output
    assert not (tmp_path / "nowhere").exists()


def test_public_key_of_another_body_rejects(tmp_path):
    content = certificate_content()
    other = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    public_file = tmp_path / "other.pem"
    public_file.write_bytes(other)

    output = run_failing(content["qr_url"], "--public-key", str(public_file))

    assert "Signature: INVALID — " in output
    assert signing.public_key_id() in output  # the data names the key that signed it


def test_unreadable_public_key_file_is_a_usage_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read the public key"):
        run("http://x/verify/A?d=a&s=b", "--public-key", str(tmp_path / "missing.pem"))


def test_without_any_key_it_asks_for_one_instead_of_creating_one(settings, tmp_path):
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = tmp_path / "no-key-here.pem"

    with pytest.raises(CommandError, match="--public-key"):
        run("http://x/verify/A?d=a&s=b")
    assert not (tmp_path / "no-key-here.pem").exists()
