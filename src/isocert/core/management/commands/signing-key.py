"""``isocert signing-key generate``: a new Ed25519 key for CERTIFICATE_SIGNING_KEY(_FILE).

Production refuses to start without a configured key (``isocert.E002``), so this command
runs without the system checks: it is how the first key is made. The key is printed to
stdout (PKCS#8 PEM, the format ``core.keys`` reads) or written with ``--output FILE``
(mode 0600; an existing file is never overwritten — a replaced key makes every printed
QR code fail verification).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from isocert.core.keys import key_id, load_private_key_file, new_private_pem, write_key_file


class Command(BaseCommand):
    help = "Make a new certificate signing key (Ed25519, PKCS#8 PEM): print it or write FILE."
    requires_system_checks = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="generate")
        generate = sub.add_parser("generate", help=self.help)
        generate.add_argument("--output", metavar="FILE",
                              help="write the key to FILE (created with mode 0600; must not "
                                   "exist) instead of printing it")

    def handle(self, *, action, output=None, **options):
        if output is None:
            self.stdout.write(new_private_pem().decode("ascii"), ending="")
            return
        path = Path(output)
        try:
            write_key_file(path)
        except FileExistsError:
            raise CommandError(f"{path} exists: a signing key is never overwritten "
                               "(every printed QR code would fail verification).") from None
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc}") from exc
        fingerprint = key_id(load_private_key_file(path).public_key())
        self.stderr.write(f"Wrote a new signing key to {path} (key id {fingerprint}).")
