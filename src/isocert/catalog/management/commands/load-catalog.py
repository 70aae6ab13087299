from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from isocert.catalog.loader import load_catalog


class Command(BaseCommand):
    help = "Load (or refresh) standards, clauses, IAF sectors and countries from the data files."

    def handle(self, *args, **options):
        with transaction.atomic():
            counts = load_catalog(apps.get_model)
        self.stdout.write(self.style.SUCCESS(
            "Catalog loaded: " + ", ".join(f"{v} {k}" for k, v in counts.items())
        ))
