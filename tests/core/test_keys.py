"""The CB's Ed25519 signing key: from the setting or a file; made only on purpose (or with
DEBUG on), never half-written, never overwritten."""

import os
import stat
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured

from isocert.core import keys


@pytest.fixture
def key_file(settings, tmp_path):
    """Each test has its own key file, not yet created."""
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = tmp_path / "keys" / "certificate-signing-key.pem"
    return settings.CERTIFICATE_SIGNING_KEY_FILE


def test_a_written_key_file_is_private_and_read_by_every_process(key_file):
    keys.write_key_file(key_file)

    assert keys.signing_key_available()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    first_id = keys.public_key_id()
    keys._cache.clear()  # a new process
    assert keys.public_key_id() == first_id
    assert not [p for p in key_file.parent.iterdir() if p != key_file]  # no temp files left


def test_an_existing_key_file_is_never_overwritten(key_file):
    keys.write_key_file(key_file)
    content = key_file.read_bytes()

    with pytest.raises(FileExistsError):
        keys.write_key_file(key_file)

    assert key_file.read_bytes() == content
    assert not [p for p in key_file.parent.iterdir() if p != key_file]


def test_without_debug_a_missing_key_file_is_an_error_not_a_new_key(key_file, settings):
    settings.DEBUG = False

    with pytest.raises(ImproperlyConfigured, match="names .* which does not exist"):
        keys.signing_key()
    assert not key_file.exists()
    assert "does not exist" in keys.signing_key_problem()


def test_without_debug_and_without_any_setting_no_key_is_made(settings):
    settings.DEBUG = False
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = None

    with pytest.raises(ImproperlyConfigured, match="are not set, and DEBUG is off"):
        keys.signing_key()
    assert not keys.signing_key_available()


def test_with_debug_the_development_key_is_created_once(key_file, settings):
    settings.DEBUG = True
    assert not keys.signing_key_available()

    first_id = keys.public_key_id()

    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    keys._cache.clear()
    assert keys.public_key_id() == first_id


def test_processes_racing_to_create_the_development_key_end_with_one_key(key_file):
    barrier = threading.Barrier(8)
    ids = []

    def load():
        barrier.wait()
        key = keys._load_key("", str(key_file), create_missing=True)
        ids.append(keys.key_id(key.public_key()))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(ids)) == 1
    assert ids[0] == keys.key_id(keys._load_key("", str(key_file)).public_key())


def test_key_from_setting_wins_over_the_file(settings, key_file):
    key = Ed25519PrivateKey.generate()
    settings.CERTIFICATE_SIGNING_KEY = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode().replace("\n", "\\n")  # as an env variable holds it

    assert keys.public_key_id() == keys.key_id(key.public_key())
    assert keys.public_key_id(keys.public_key_pem()) == keys.key_id(key.public_key())
    assert not key_file.exists()


def test_unusable_key_setting_fails_loudly(settings):
    settings.CERTIFICATE_SIGNING_KEY = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"

    with pytest.raises(ImproperlyConfigured, match="CERTIFICATE_SIGNING_KEY"):
        keys.signing_key()


@pytest.mark.parametrize(("pem", "reason"), [
    ("not a key", "not a PEM public key"),
    ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a PEM public key"),
])
def test_a_public_key_that_is_not_one_is_refused_with_a_reason(pem, reason):
    with pytest.raises(ValueError, match=reason):
        keys.load_public_key(pem)


def test_an_rsa_public_key_is_refused():
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key() \
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    with pytest.raises(ValueError, match="not an Ed25519 key"):
        keys.load_public_key(rsa_pem)
