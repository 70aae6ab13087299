from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.mfa.utils import decrypt
from django.core.management.base import BaseCommand, CommandError

from isocert.accounts.models import User
from isocert.core.demo import DEMO_DOMAIN


class Command(BaseCommand):
    help = "Print the current two-factor code of a demo CB staff account (demo data only)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        if not email.endswith("@" + DEMO_DOMAIN):
            raise CommandError(f"Only demo accounts (@{DEMO_DOMAIN}) have printable codes.")
        user = User.objects.filter(email=email).first()
        authenticator = Authenticator.objects.filter(
            user=user, type=Authenticator.Type.TOTP).first() if user else None
        if authenticator is None:
            raise CommandError(f"{email} has no authenticator; run `isocert seed-demo` first.")
        secret = decrypt(authenticator.data["secret"])
        counter = next(yield_hotp_counters_from_time())
        self.stdout.write(format_hotp_value(hotp_value(secret, counter)))
