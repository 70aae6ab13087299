import sys

from django.core.management.base import BaseCommand, CommandError

from isocert.registry import certsearch


class Command(BaseCommand):
    help = ("Write the registry in IAF CertSearch's layout (IAF MD 28 fields) to a file, or "
            "as CSV to standard output. Nothing is stored: for a prepared export kept in the "
            "portal use prepare-certsearch-export.")

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["xlsx", "csv"], default="csv")
        parser.add_argument("--output", help="File to write (default: standard output, CSV "
                                             "only).")

    def handle(self, *args, **options):
        fmt, output = options["format"], options["output"]
        if not output:
            if fmt != "csv":
                raise CommandError("An Excel workbook needs --output FILE.")
            rows = certsearch.write_csv(certsearch.export_rows(), self.stdout)
            sys.stderr.write(f"{rows} certificates\n")
            return
        if fmt == "csv":
            with open(output, "w", encoding="utf-8", newline="") as fh:
                rows = certsearch.write_csv(certsearch.export_rows(), fh)
        else:
            with open(output, "wb") as fh:
                rows = certsearch.write_xlsx(certsearch.export_rows(), fh)
        self.stderr.write(self.style.SUCCESS(f"Wrote {rows} certificates to {output}."))
