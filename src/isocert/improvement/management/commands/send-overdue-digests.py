from django.core.management.base import BaseCommand

from isocert.improvement.tasks import send_overdue_digests


class Command(BaseCommand):
    help = ("E-mail each owner of overdue actions one digest of them (at most once a day). "
            "Run daily from cron; queues the work for the task worker unless --now.")

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true",
                            help="Send in this process instead of queueing for the worker.")

    def handle(self, *args, **options):
        if options["now"]:
            sent = send_overdue_digests.call()
            self.stdout.write(self.style.SUCCESS(f"Overdue digests sent: {sent}."))
            return
        result = send_overdue_digests.enqueue()
        self.stdout.write(self.style.SUCCESS(f"Overdue digests queued (task {result.id})."))
