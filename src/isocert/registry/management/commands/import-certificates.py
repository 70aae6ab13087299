import time

from django.core.management.base import BaseCommand, CommandError

from isocert.core.errors import DomainError
from isocert.registry import services
from isocert.registry.models import CertificateImport


class Command(BaseCommand):
    help = ("Import existing certificates from a CSV in the registry's IAF CertSearch layout "
            "(the columns of an export), in this process. Every row is checked first: if any "
            "is wrong, nothing is imported, the problems are listed and the exit status is 1.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file (UTF-8).")
        parser.add_argument("--max-errors", type=int, default=50,
                            help="Problems to print (all are counted; default 50).")

    def handle(self, *args, **options):
        try:
            certificate_import = services.create_import_from_path(path=options["file"],
                                                                     actor=None)
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {options['file']}") from exc
        except DomainError as exc:
            raise CommandError("; ".join([exc.message, *exc.fields.values()])) from exc
        started = time.perf_counter()
        certificate_import = services.run_import(import_id=certificate_import.pk,
                                                    progress=self._progress)
        took = time.perf_counter() - started
        if certificate_import.status == CertificateImport.Status.DONE:
            self.stdout.write(self.style.SUCCESS(
                f"Imported {certificate_import.imported_rows} certificates in {took:.1f} s "
                f"(import {certificate_import.pk})."))
            return
        shown = certificate_import.errors[:options["max_errors"]]
        for problem in shown:
            field = f" [{problem['field']}]" if problem["field"] else ""
            self.stderr.write(f"line {problem['line']}{field}: {problem['message']}")
        more = certificate_import.error_count - len(shown)
        if more > 0:
            self.stderr.write(f"... and {more} more.")
        self.stderr.write(self.style.ERROR(
            f"Nothing imported: {certificate_import.error_count} problem(s) in "
            f"{certificate_import.total_rows} rows."))
        raise SystemExit(1)

    def _progress(self, rows: int) -> None:
        self.stdout.write(f"checked {rows} rows")
