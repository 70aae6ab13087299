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
import json
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from django.conf import settings

# The key is loaded (and created on first use) in core.keys: the audit trail's signed head
# uses it too. Certification's callers keep importing these names from here (``X as X``
# marks a re-export).
from isocert.core.keys import key_id, load_public_key
from isocert.core.keys import public_key_id as public_key_id
from isocert.core.keys import public_key_pem as public_key_pem
from isocert.core.keys import signing_key as signing_key
from isocert.core.keys import signing_key_available as signing_key_available

DATA_VERSION = 1
SCOPE_LIMIT = 300
_SIGNATURE_BYTES = 64

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
            public_key = load_public_key(public_key_pem)
        except ValueError as exc:
            return _invalid(str(exc))
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
    checked_key_id = key_id(public_key)
    try:
        public_key.verify(signature_bytes, signed_data.encode("ascii"))
    except InvalidSignature:
        claimed = data.get("k")
        if isinstance(claimed, str) and claimed != checked_key_id:
            return _invalid(f"the data names signing key {claimed}, which is not the key "
                            f"checked against ({checked_key_id})")
        return _invalid("the signature does not match the data: it was altered or "
                        "signed with another key")
    if data.get("v") != DATA_VERSION:
        return _invalid(f"unknown data format version {data.get('v')!r}")
    return SignatureCheck(valid=True, data=data, reason=f"signed with key {checked_key_id}")


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
