import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from isocert.core.audit import ChainBroken, signed_head
from isocert.notifications.services import notify


class Command(BaseCommand):
    help = ("E-mail the audit trail's head, signed with the CB's key, to AUDIT_TRAIL_HEAD_EMAIL "
            "(nothing when empty), so a copy lives outside the database. Verifies the trail "
            "first and sends nothing if it is broken. Run daily from cron.")

    def handle(self, *args, **options):
        recipients = settings.AUDIT_TRAIL_HEAD_EMAIL
        if not recipients:
            self.stdout.write("AUDIT_TRAIL_HEAD_EMAIL is empty: no head sent.")
            return
        for address in recipients:
            try:
                validate_email(address)
            except ValidationError as exc:
                raise CommandError(f"AUDIT_TRAIL_HEAD_EMAIL: {address!r} is not an e-mail "
                                   "address.") from exc
        try:
            head = signed_head()
        except ChainBroken as exc:
            raise CommandError(f"{exc} No head sent.") from exc
        notify(template="audit_trail_head", to=recipients,
               context={"sequence": head["sequence"], "signed_at": head["signed_at"],
                        "head": json.dumps(head, indent=2)})
        self.stdout.write(self.style.SUCCESS(
            f"Audit trail head #{head['sequence']} sent to {', '.join(recipients)}."))
