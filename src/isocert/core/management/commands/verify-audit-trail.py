from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from isocert.core.audit import check_head_signature, head_problem, verify_chain
from isocert.core.keys import signing_key_available
from isocert.core.models import AuditEvent


class Command(BaseCommand):
    help = ("Recompute the audit trail's hash chain; exit non-zero naming the first broken "
            "event. With --head, also check that the trail still holds a head signed by "
            "`isocert audit-trail-head` (a rewrite of the whole chain passes the plain check).")

    def add_arguments(self, parser):
        parser.add_argument("--head", metavar="FILE",
                            help="A signed head kept outside the database (the JSON document "
                                 "or the e-mail that carried it).")
        parser.add_argument("--public-key", metavar="FILE",
                            help="The CB's public key (PEM) to check the head's signature with, "
                                 "e.g. from /.well-known/isocert-signing-key. Default: this "
                                 "install's key.")

    def handle(self, *args, head=None, public_key=None, **options):
        signed = self._signed_head(head, public_key) if head else None
        problem = verify_chain()
        if problem is not None:
            raise CommandError(f"Audit trail broken at event #{problem.seq}: {problem.reason}.")
        if signed is not None:
            reason = head_problem(signed)
            if reason is not None:
                raise CommandError(
                    f"Audit trail does not hold the head signed at {signed.get('signed_at')} "
                    f"(event #{signed['sequence']}): {reason}.")
        count = AuditEvent.objects.count()
        message = f"Audit trail intact: {count} events verified."
        if signed is not None:
            message += (f" It holds the head signed at {signed.get('signed_at')} "
                        f"(event #{signed['sequence']}).")
        self.stdout.write(self.style.SUCCESS(message))

    def _signed_head(self, path: str, public_key: str | None) -> dict:
        text = _read(path, "head")
        if public_key:
            public_key_pem = _read(public_key, "public key")
        elif signing_key_available():
            public_key_pem = None  # this install's key
        else:
            # Creating a key here would only make every genuine head look forged.
            raise CommandError("This install has no signing key. Pass --public-key FILE with "
                               "the certification body's key.", returncode=2)
        check = check_head_signature(text, public_key_pem)
        if not check.valid:
            raise CommandError(f"The head in {path} is refused: {check.reason}.")
        return check.head


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"Cannot read the {what} {path}: {exc}", returncode=2) from exc
