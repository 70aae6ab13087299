import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from isocert.certification.signing import (
    SignatureCheck,
    decode_signed_data,
    public_key_id,
    signing_key_available,
    verify_qr_text,
)

# What each key of the signed data means, in the order a person reads a certificate.
LABELS = [
    ("n", "Certificate number"),
    ("c", "Public code"),
    ("o", "Organization"),
    ("cc", "Country"),
    ("st", "Standards"),
    ("sc", "Scope"),
    ("i", "Effective date"),
    ("e", "Expiry date"),
    ("r", "Revision"),
    ("k", "Signing key id"),
]


class Command(BaseCommand):
    help = ("Check the signature in the text of a certificate's QR code (the verification "
            "address). Works offline; exit 0 when valid, 1 when not.")
    requires_system_checks = []
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("qr_text", metavar="QR_TEXT",
                            help="The text scanned from the QR code, or - to read it from stdin.")
        parser.add_argument("--public-key", metavar="FILE",
                            help="The CB's public key (PEM), e.g. downloaded from "
                                 "/.well-known/isocert-signing-key. Default: this install's key.")

    def handle(self, *args, qr_text, public_key=None, **options):
        if qr_text == "-":
            qr_text = (options.get("stdin") or sys.stdin).read()
        qr_text = qr_text.strip()
        public_key_pem = self._public_key(public_key)
        check = verify_qr_text(qr_text, public_key_pem)
        self._write_data(qr_text, check)
        if not check.valid:
            self.stdout.write(self.style.ERROR(f"Signature: INVALID — {check.reason}"))
            raise SystemExit(1)
        key_id = public_key_id(public_key_pem)  # the key that checked it, not the claimed one
        self.stdout.write(self.style.SUCCESS(f"Signature: VALID (key {key_id})"))
        self.stdout.write("A valid signature proves the certification body issued this data. "
                          "Whether the certificate is still active (not suspended, withdrawn "
                          f"or expired) is shown on its verification page: "
                          f"{self._status_page(qr_text, check.data['c'], public_key)}")

    def _status_page(self, qr_text: str, code: str, public_key: str | None) -> str:
        if public_key is None:
            # Checked with this install's key: this install is the certification body.
            return f"{settings.SITE_URL}/verify/{code}"
        # The signature does not cover the address's host: say so rather than vouch for it.
        parts = urlsplit(qr_text)
        return (f"{parts.scheme}://{parts.netloc}{parts.path} (the address in the QR code; "
                "make sure it is the certification body's own site)")

    def _public_key(self, path: str | None) -> str | None:
        if path:
            try:
                return Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"Cannot read the public key {path}: {exc}", returncode=2) from exc
        if not signing_key_available():
            # Creating a key here would only make every genuine certificate look forged.
            raise CommandError(
                "This install has no certificate signing key. Pass --public-key FILE with the "
                "certification body's key (from <site>/.well-known/isocert-signing-key).",
                returncode=2)
        return None

    def _write_data(self, qr_text: str, check: SignatureCheck) -> None:
        data = check.data
        if data is None:
            # Show what the code claims so a forgery can be reported, marked as unproven.
            try:
                query = parse_qs(urlsplit(qr_text).query)
                data = decode_signed_data(query.get("d", [""])[0])
            except ValueError:
                return
            self.stdout.write("The QR code claims (NOT verified):")
        width = max(len(label) for _, label in LABELS) + 1
        for key, label in LABELS:
            if key in data:
                value = data[key]
                if isinstance(value, list):
                    value = ", ".join(str(v) for v in value)
                self.stdout.write(f"{label + ':':<{width}} {value}")
