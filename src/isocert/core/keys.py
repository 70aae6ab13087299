"""The certification body's Ed25519 signing key: loaded from the settings, created on first use.

One key signs what the CB vouches for outside the database: the certificate data in the
QR codes (``certification.signing``) and the audit trail's head (``core.audit``). It
lives in ``core`` because ``core`` imports no other isocert app (ARCHITECTURE.md:
imports point down only), and both uses need it.

From ``CERTIFICATE_SIGNING_KEY`` (PEM, PKCS#8) when set, otherwise from the file
``CERTIFICATE_SIGNING_KEY_FILE``. Production must configure one of them, the same on every
server: with DEBUG off a missing key is an error (``isocert.E002``, ``core.checks``), never
a new key made here — two servers with their own keys called each other's genuine
certificates forged. Only with DEBUG on is a missing file created with a new key (the
development installation's). ``isocert signing-key generate`` makes a key for production.
"""

import contextlib
import hashlib
import os
import tempfile
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_cache: dict[tuple[str, str], Ed25519PrivateKey] = {}
_cache_lock = threading.Lock()


def _load_private_pem(pem: bytes, origin: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{origin} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{origin} must hold an Ed25519 key, not {type(key).__name__}.")
    return key


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def new_private_pem() -> bytes:
    """A new Ed25519 private key as unencrypted PKCS#8 PEM (the format the settings read)."""
    return _private_pem(Ed25519PrivateKey.generate())


def write_key_file(path: Path) -> None:
    """Write a new key to ``path`` (mode 0600); ``FileExistsError`` if there is one.

    The key is written completely to a temporary file first and then hard-linked into
    place: ``os.link`` fails if the name exists, so of two processes the first wins, an
    existing key is never overwritten and nobody ever reads a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".signing-key-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(new_private_pem())
            tmp.flush()
            os.fsync(tmp.fileno())
        os.link(tmp_name, path)
    finally:
        os.unlink(tmp_name)


def _key_file_setting() -> str:
    key_file = settings.CERTIFICATE_SIGNING_KEY_FILE
    return str(key_file) if key_file else ""


def _load_key(pem_setting: str, key_file: str, create_missing: bool = False) -> Ed25519PrivateKey:
    if pem_setting.strip():
        # An environment variable often cannot hold line breaks: accept "\n" escapes.
        pem = pem_setting.strip().replace("\\n", "\n").encode()
        return _load_private_pem(pem, "CERTIFICATE_SIGNING_KEY")
    if not key_file:
        raise ImproperlyConfigured(
            "CERTIFICATE_SIGNING_KEY and CERTIFICATE_SIGNING_KEY_FILE are not set, and DEBUG "
            "is off.")
    path = Path(key_file)
    if not path.exists():
        if not create_missing:
            raise ImproperlyConfigured(
                f"CERTIFICATE_SIGNING_KEY_FILE names {path}, which does not exist.")
        with contextlib.suppress(FileExistsError):  # Another process was first: use its key.
            write_key_file(path)
    return load_private_key_file(path)


def load_private_key_file(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 key in ``path``; ImproperlyConfigured naming the file if unusable."""
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ImproperlyConfigured(f"Cannot read the certificate signing key {path}: {exc}") from exc
    return _load_private_pem(pem, f"The certificate signing key file {path}")


def signing_key() -> Ed25519PrivateKey:
    """The CB's signing key (see the module docstring for where it comes from).

    Cached per process (keyed by the settings, so tests that change them get their key).
    Raises ImproperlyConfigured when none is configured and DEBUG is off.
    """
    cache_key = (settings.CERTIFICATE_SIGNING_KEY or "", _key_file_setting())
    key = _cache.get(cache_key)
    if key is None:
        with _cache_lock:
            key = _cache.get(cache_key)
            if key is None:
                key = _cache[cache_key] = _load_key(*cache_key, create_missing=settings.DEBUG)
    return key


def signing_key_pem() -> bytes:
    """The signing key as unencrypted PEM (PKCS#8), for an encrypted backup."""
    return _private_pem(signing_key())


def forget_cached_keys() -> None:
    """Load the key again on next use (after a restore wrote the key file)."""
    with _cache_lock:
        _cache.clear()


def signing_key_available() -> bool:
    """Whether a key is configured or already created here (verifying must not create one)."""
    key_file = _key_file_setting()
    return bool((settings.CERTIFICATE_SIGNING_KEY or "").strip()) or bool(
        key_file and Path(key_file).exists())


def signing_key_problem() -> str | None:
    """Why the production signing key cannot be used, or None (the start-up check)."""
    try:
        _load_key(settings.CERTIFICATE_SIGNING_KEY or "", _key_file_setting())
    except ImproperlyConfigured as exc:
        return str(exc)
    return None


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint: the first 16 hex digits of SHA-256 of the key's raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(public_key_pem: str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from its PEM; raises ValueError naming what is wrong."""
    try:
        public_key = serialization.load_pem_public_key(
            public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise ValueError("the public key is not a PEM public key") from exc
    if not isinstance(public_key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return public_key


def public_key_pem() -> str:
    """The public half of the signing key, PEM (SubjectPublicKeyInfo)."""
    return signing_key().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def public_key_id(public_key_pem: str | None = None) -> str:
    """The fingerprint (``key_id``) of our public key, or of the PEM given.

    Raises ValueError for a PEM that is not an Ed25519 public key."""
    if public_key_pem is None:
        return key_id(signing_key().public_key())
    return key_id(load_public_key(public_key_pem))
