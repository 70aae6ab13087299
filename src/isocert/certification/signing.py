"""Signed certificate data: the QR code carries the essential data and an Ed25519 signature.

Anyone holding the CB's public key (``/.well-known/isocert-signing-key``) can check a
printed certificate offline: ``isocert verify-signature "<scanned QR text>"``. A valid
signature proves the CB issued that data; whether the certificate is still active is
answered by the verification page the QR code points at.

Format (stable: printed certificates carry it for years):

* ``signed_data`` — the essential data as canonical JSON (sorted keys, no spaces,
  UTF-8), base64url without padding;
* ``signature`` — Ed25519 over the ASCII bytes of ``signed_data``, base64url without
  padding.
"""

import base64
import binascii
import contextlib
import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DATA_VERSION = 1
SCOPE_LIMIT = 300
_SIGNATURE_BYTES = 64

_cache: dict[tuple[str, str], Ed25519PrivateKey] = {}
_cache_lock = threading.Lock()


# --- the key -------------------------------------------------------------------------------------

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


def _create_key_file(path: Path) -> None:
    """Write a new key to ``path`` unless one is there; two processes end with one key.

    The key is written completely to a temporary file first and then hard-linked into
    place: ``os.link`` fails if the name exists, so the first process wins and nobody
    ever reads a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".signing-key-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(_private_pem(Ed25519PrivateKey.generate()))
            tmp.flush()
            os.fsync(tmp.fileno())
        with contextlib.suppress(FileExistsError):  # Another process was first: use its key.
            os.link(tmp_name, path)
    finally:
        os.unlink(tmp_name)


def _load_key(pem_setting: str, key_file: str) -> Ed25519PrivateKey:
    if pem_setting.strip():
        # An environment variable often cannot hold line breaks: accept "\n" escapes.
        pem = pem_setting.strip().replace("\\n", "\n").encode()
        return _load_private_pem(pem, "CERTIFICATE_SIGNING_KEY")
    path = Path(key_file)
    if not path.exists():
        _create_key_file(path)
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ImproperlyConfigured(f"Cannot read the certificate signing key {path}: {exc}") from exc
    return _load_private_pem(pem, f"The certificate signing key file {path}")


def signing_key() -> Ed25519PrivateKey:
    """The CB's certificate signing key.

    From ``CERTIFICATE_SIGNING_KEY`` (PEM, PKCS#8) when set, otherwise from
    ``CERTIFICATE_SIGNING_KEY_FILE``, which is created with a new key on first use.
    Cached per process (keyed by the settings, so tests that change them get their key).
    """
    cache_key = (settings.CERTIFICATE_SIGNING_KEY or "", str(settings.CERTIFICATE_SIGNING_KEY_FILE))
    key = _cache.get(cache_key)
    if key is None:
        with _cache_lock:
            key = _cache.get(cache_key)
            if key is None:
                key = _cache[cache_key] = _load_key(*cache_key)
    return key


def signing_key_available() -> bool:
    """Whether a key is configured or already created here (verifying must not create one)."""
    return bool((settings.CERTIFICATE_SIGNING_KEY or "").strip()) or Path(
        settings.CERTIFICATE_SIGNING_KEY_FILE).exists()


def _public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def _key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem() -> str:
    """The public half of the signing key, PEM (SubjectPublicKeyInfo)."""
    return _public_pem(signing_key().public_key())


def public_key_id(public_key_pem: str | None = None) -> str:
    """A short fingerprint of the public key (ours, or the PEM given): the first 16 hex
    digits of SHA-256 of its raw bytes. Printed in the signed data (``k``) so a key change
    can be told apart. Raises ValueError for a PEM that is not an Ed25519 public key."""
    if public_key_pem is None:
        return _key_id(signing_key().public_key())
    public_key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(public_key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return _key_id(public_key)


# --- signing -------------------------------------------------------------------------------------

def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict base64url without padding (padding tolerated); raises ValueError."""
    if not isinstance(text, str) or not text:
        raise ValueError("empty")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise ValueError("not ASCII") from exc
    raw = raw.rstrip(b"=")
    try:
        return base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(str(exc)) from exc


def _truncate(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def essential_data(content: dict) -> dict:
    """The compact essential data of a certificate revision, as carried by the QR code."""
    organization = content.get("organization") or {}
    return {
        "v": DATA_VERSION,
        "n": content["number"],
        "c": content["public_code"],
        "o": organization.get("name", ""),
        "cc": organization.get("country", ""),
        "st": [f"{s['code']}:{s['edition']}" for s in content.get("standards", [])],
        "sc": _truncate(content.get("scope", ""), SCOPE_LIMIT),
        "i": str(content["issue_date"]),
        "e": str(content["expiry_date"]),
        "r": int(content["revision"]),
        "k": public_key_id(),
    }


def canonical_json(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_certificate_data(content: dict) -> tuple[str, str]:
    """Sign the essential data of ``content``; returns ``(signed_data, signature)``."""
    signed_data = _b64encode(canonical_json(essential_data(content)))
    signature = _b64encode(signing_key().sign(signed_data.encode("ascii")))
    return signed_data, signature


def qr_url(public_code: str, signed_data: str, signature: str) -> str:
    """The address printed as the QR code: the verification page with the signed data."""
    return f"{settings.SITE_URL}/verify/{public_code}?d={signed_data}&s={signature}"


# --- verifying -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignatureCheck:
    valid: bool
    data: dict | None
    reason: str


def _invalid(reason: str) -> SignatureCheck:
    return SignatureCheck(valid=False, data=None, reason=reason)


def decode_signed_data(signed_data: str) -> dict:
    """The data as the QR code claims it, NOT verified; raises ValueError with a reason."""
    try:
        raw = _b64decode(signed_data)
    except ValueError as exc:
        raise ValueError("the data part is not valid base64url") from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError("the data part does not decode to JSON") from exc
    if not isinstance(data, dict):
        raise ValueError("the data part is not a JSON object")
    return data


def verify_signature(signed_data: str, signature: str,
                     public_key_pem: str | None = None) -> SignatureCheck:
    """Check ``signature`` over ``signed_data`` with the given public key (PEM) or ours.

    Never raises on bad input: the answer says what is wrong. ``data`` is only given
    when the signature is valid, so nobody can display unverified data by mistake.
    """
    if public_key_pem is None:
        public_key = signing_key().public_key()
    else:
        try:
            public_key = serialization.load_pem_public_key(
                public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem)
        except (ValueError, TypeError, UnicodeError):
            return _invalid("the public key is not a PEM public key")
        if not isinstance(public_key, Ed25519PublicKey):
            return _invalid("the public key is not an Ed25519 key")
    if not signed_data:
        return _invalid("the signed data is missing")
    if not signature:
        return _invalid("the signature is missing")
    try:
        data = decode_signed_data(signed_data)
    except ValueError as exc:
        return _invalid(str(exc))
    try:
        signature_bytes = _b64decode(signature)
    except ValueError:
        return _invalid("the signature is not valid base64url")
    if len(signature_bytes) != _SIGNATURE_BYTES:
        return _invalid(f"the signature has {len(signature_bytes)} bytes; "
                        f"an Ed25519 signature has {_SIGNATURE_BYTES}")
    key_id = _key_id(public_key)
    try:
        public_key.verify(signature_bytes, signed_data.encode("ascii"))
    except InvalidSignature:
        claimed = data.get("k")
        if isinstance(claimed, str) and claimed != key_id:
            return _invalid(f"the data names signing key {claimed}, which is not the key "
                            f"checked against ({key_id})")
        return _invalid("the signature does not match the data: it was altered or "
                        "signed with another key")
    if data.get("v") != DATA_VERSION:
        return _invalid(f"unknown data format version {data.get('v')!r}")
    return SignatureCheck(valid=True, data=data, reason=f"signed with key {key_id}")


def verify_qr_text(text: str, public_key_pem: str | None = None) -> SignatureCheck:
    """Check the text scanned from a certificate's QR code (the full verification URL).

    Besides the signature, the certificate code in the address must be the signed one:
    otherwise a genuine signature could send the reader to another certificate's page.
    """
    if not isinstance(text, str) or not text.strip():
        return _invalid("the QR text is empty")
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return _invalid("the QR text is not an address")
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2 or segments[-2] != "verify":
        return _invalid("the address is not a certificate verification address (/verify/<code>)")
    path_code = unquote(segments[-1])
    query = parse_qs(parts.query, keep_blank_values=True)
    for name, label in (("d", "signed data"), ("s", "signature")):
        if len(query.get(name, [])) != 1:
            return _invalid(f"the address must carry exactly one {label} parameter ({name}=)")
    check = verify_signature(query["d"][0], query["s"][0], public_key_pem)
    if not check.valid:
        return check
    if check.data.get("c") != path_code:
        return _invalid(f"the address names certificate code {path_code}, but the signed "
                        f"data is for {check.data.get('c')}")
    return check
