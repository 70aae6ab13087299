"""``isocert energy-analyse --json FILE|-``: the measurement-and-verification analysis.

Reads the contract's input (docs/energy.md, "Analysis contract"), prints the result as JSON
and reads no database. Bad input exits with status 2 and one line naming the field.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from isocert.energy.mv import MVInputError, analyse_json, load_json


class Command(BaseCommand):
    help = ("Energy savings with their uncertainty and the verdict 'improvement demonstrated' "
            "(ASHRAE Guideline 14, ISO 50006): --json FILE, or - for standard input; prints "
            "JSON.")
    requires_system_checks = []

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        command_line_error = parser.error

        def error(message):
            if parser.called_from_command_line:
                parser.exit(2, f"CommandError: {message}\n")
            command_line_error(message)

        parser.error = error
        return parser

    def add_arguments(self, parser):
        parser.add_argument("--json", metavar="FILE",
                            help="JSON input file, or - for standard input")

    def handle(self, *args, **options):
        try:
            if options["json"] is None:
                raise MVInputError("--json", "give --json FILE, or - for standard input")
            result = analyse_json(load_json(self._read(options["json"])))
        except MVInputError as exc:
            raise CommandError(" ".join(str(exc).split()), returncode=2)
        self.stdout.write(json.dumps(result, indent=2))

    def _read(self, path: str) -> str:
        if path == "-":
            return sys.stdin.read()
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise MVInputError("--json", f"cannot read {path}: {exc}")
