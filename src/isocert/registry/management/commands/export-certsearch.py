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
        parser.add_argument("--with-ict", action="store_true",
                            help="Add the column 'Remote auditing (ICT)': where ICT was used "
                                 "in each certificate's audits (IAF MD 4:2022 §4.2). Not a "
                                 "CertSearch field: leave it off for the CertSearch upload.")

    def handle(self, *args, **options):
        fmt, output, with_ict = options["format"], options["output"], options["with_ict"]
        rows = certsearch.export_rows(with_ict=with_ict)
        columns = certsearch.export_columns(with_ict=with_ict)
        if not output:
            if fmt != "csv":
                raise CommandError("An Excel workbook needs --output FILE.")
            count = certsearch.write_csv(rows, self.stdout, columns)
            sys.stderr.write(f"{count} certificates\n")
            return
        if fmt == "csv":
            with open(output, "w", encoding="utf-8", newline="") as fh:
                count = certsearch.write_csv(rows, fh, columns)
        else:
            with open(output, "wb") as fh:
                count = certsearch.write_xlsx(rows, fh, columns)
        self.stderr.write(self.style.SUCCESS(f"Wrote {count} certificates to {output}."))
