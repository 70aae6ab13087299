from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from isocert.registry.jobs import fail_stale_registry_jobs


class Command(BaseCommand):
    help = ("Mark registry imports and exports whose task worker died as failed (with the "
            "reason and an audit event), so the CB can retry them: every running one without "
            "progress for REGISTRY_JOB_TIMEOUT_MINUTES. The daily certificate-lifecycle run "
            "does this too. With --minutes 0 every running one: for the start of the only "
            "task worker (e.g. ExecStartPre), when nothing can be running.")

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=None,
                            help="Without progress for this long (default "
                                 "REGISTRY_JOB_TIMEOUT_MINUTES); 0: every running one.")

    def handle(self, *args, **options):
        minutes = options["minutes"]
        if minutes is not None and minutes < 0:
            raise CommandError("--minutes must be 0 or more.")
        failed = fail_stale_registry_jobs(minutes=minutes)
        limit = settings.REGISTRY_JOB_TIMEOUT_MINUTES if minutes is None else minutes
        self.stdout.write(self.style.SUCCESS(
            f"Registry jobs failed after {limit} minutes without progress: {failed}."))
