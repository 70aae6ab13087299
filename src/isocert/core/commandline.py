"""What the portal's calculator commands share (``isocert audit-time``, ``isocert
energy-analyse``): every bad input — argparse's own errors included — exits with status 2
and one line, so a script calling them can tell "refused" from "failed"; ``--json FILE``
reads a file, ``--json -`` standard input."""

import sys

from django.core.management.base import BaseCommand, CommandError


class CalculatorCommand(BaseCommand):
    """A command that reads no database unless asked: no system checks before it runs."""

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

    def read_input(self, path: str) -> str:
        """The text of ``path``, or of standard input for ``-``."""
        if path == "-":
            return sys.stdin.read()
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"--json: cannot read {path}: {exc}", returncode=2)
