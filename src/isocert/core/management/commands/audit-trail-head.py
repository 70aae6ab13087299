import json

from django.core.management.base import BaseCommand, CommandError

from isocert.core.audit import ChainBroken, signed_head


class Command(BaseCommand):
    help = ("Verify the audit trail, then print its head (sequence, hash, time) signed with "
            "the CB's key, as JSON. Keep it outside the database (a file, a ticket, an "
            "e-mail): `isocert verify-audit-trail --head FILE` then fails if the trail was "
            "rewritten since.")

    def handle(self, *args, **options):
        try:
            head = signed_head()
        except ChainBroken as exc:
            raise CommandError(f"{exc} No head signed.") from exc
        self.stdout.write(json.dumps(head, indent=2))
