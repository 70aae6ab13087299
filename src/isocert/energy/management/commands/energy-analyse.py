"""``isocert energy-analyse --json FILE|-``: the measurement-and-verification analysis.

Reads the contract's input (docs/energy.md, "Analysis contract"), prints the result as JSON
and reads no database. Bad input exits with status 2 and one line naming the field.
"""

import json

from django.core.management.base import CommandError

from isocert.core.commandline import CalculatorCommand
from isocert.energy.mv import MVInputError, analyse_json, load_json


class Command(CalculatorCommand):
    help = ("Energy savings with their uncertainty and the verdict 'improvement demonstrated' "
            "(ASHRAE Guideline 14, ISO 50006): --json FILE, or - for standard input; prints "
            "JSON.")

    def add_arguments(self, parser):
        parser.add_argument("--json", metavar="FILE",
                            help="JSON input file, or - for standard input")

    def handle(self, *args, **options):
        try:
            if options["json"] is None:
                raise MVInputError("--json", "give --json FILE, or - for standard input")
            result = analyse_json(load_json(self.read_input(options["json"])))
        except MVInputError as exc:
            raise CommandError(" ".join(str(exc).split()), returncode=2)
        self.stdout.write(json.dumps(result, indent=2))
