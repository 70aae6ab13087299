import datetime

from django.core.management.base import BaseCommand, CommandError

from isocert.certification.lifecycle import daily_run


class Command(BaseCommand):
    help = ("The certificates' daily run: expire certificates past their expiry date, remind "
            "about suspensions running out, propose withdrawal or scope reduction when a "
            "suspension has run out and withdraw it SUSPENSION_WITHDRAWAL_GRACE_DAYS later, "
            "flag overdue surveillance audits (each once); "
            "fail registry imports and exports whose task worker died. Idempotent; run daily "
            "from cron.")

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Run as of this day (YYYY-MM-DD); default today.")

    def handle(self, *args, **options):
        today = None
        if options["date"]:
            try:
                today = datetime.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"--date: {options['date']!r} is not a date (YYYY-MM-DD).")
        counts = daily_run(today)
        self.stdout.write(self.style.SUCCESS(
            f"Certificates expired: {counts['expired']}. "
            f"Suspension reminders: {counts['suspension_reminders']}. "
            f"Suspension ends proposed: {counts['suspension_ends_proposed']}. "
            f"Withdrawn after suspension: {counts['withdrawn_after_suspension']}. "
            f"Overdue surveillance flagged: {counts['surveillance_overdue']}. "
            f"Registry jobs failed: {counts['registry_jobs_failed']}."))
