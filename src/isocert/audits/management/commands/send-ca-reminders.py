from django.core.management.base import BaseCommand

from isocert.audits.conduct.tasks import send_ca_reminders


class Command(BaseCommand):
    help = ("E-mail clients and audit teams about overdue corrective actions (at most once a "
            "day per audit). Run daily from cron; queues the work for the task worker unless "
            "--now.")

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true",
                            help="Send in this process instead of queueing for the worker.")

    def handle(self, *args, **options):
        if options["now"]:
            sent = send_ca_reminders.call()
            self.stdout.write(self.style.SUCCESS(f"Audits reminded: {sent}."))
            return
        result = send_ca_reminders.enqueue()
        self.stdout.write(self.style.SUCCESS(f"Corrective-action reminders queued "
                                             f"(task {result.id})."))
