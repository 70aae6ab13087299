from django.core.management.base import BaseCommand

from isocert.registry.tasks import prepare_certsearch_export


class Command(BaseCommand):
    help = ("Prepare this month's IAF CertSearch export (Excel and CSV), listed on the "
            "Registry page. Run monthly from cron, e.g. "
            "'0 3 1 * *  isocert prepare-certsearch-export'; queues the work for the task "
            "worker unless --now.")

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true",
                            help="Prepare in this process instead of queueing for the worker.")

    def handle(self, *args, **options):
        if options["now"]:
            rows = prepare_certsearch_export.call()
            self.stdout.write(self.style.SUCCESS(f"Export prepared: {rows} certificates."))
            return
        result = prepare_certsearch_export.enqueue()
        self.stdout.write(self.style.SUCCESS(f"CertSearch export queued (task {result.id})."))
