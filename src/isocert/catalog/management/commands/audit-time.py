"""``isocert audit-time``: the audit-time engine on the command line.

It reads no database unless ``--configured-enms-table`` asks for the CB's ISO 50003 table.
"""

import json
import re
from argparse import BooleanOptionalAction
from fractions import Fraction

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError

from isocert.catalog.audittime import (
    DEFAULT_STAGE1_SHARE,
    AuditTimeInputError,
    compute_audit_time,
    load_audit_time_json,
)
from isocert.catalog.selectors import enms_days_table
from isocert.core.commandline import CalculatorCommand

# "-10:mature system" is a value, not an unknown option, for --adjust.
_NEGATIVE_VALUE = re.compile(r"^-\d+(\.\d+)?%?(:.*)?$|^-\.\d+%?(:.*)?$")


class Command(CalculatorCommand):
    help = (
        "Compute audit time (IAF MD 5/MD 11/MD 1, ISO/IEC 27006, ISO 50003). Either "
        "--json FILE|- (prints the result as JSON) or the quick form for one standard, "
        'e.g. --standard "ISO 14001" --personnel 120 --complexity medium.'
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser._negative_number_matcher = _NEGATIVE_VALUE
        return parser

    def add_arguments(self, parser):
        parser.add_argument("--json", metavar="FILE",
                            help="JSON input file, or - for standard input; prints JSON")
        quick = parser.add_argument_group("quick form, one standard")
        quick.add_argument("--standard", help='e.g. "ISO 9001", "ISO/IEC 27001"')
        quick.add_argument("--personnel", help="effective personnel (FTE, >= 1)")
        quick.add_argument("--complexity", help="ISO 14001: high|medium|low|limited; "
                                                "ISO 45001: high|medium|low")
        quick.add_argument("--energy-tj", help="ISO 50001: annual energy consumption in TJ")
        quick.add_argument("--energy-types", help="ISO 50001: number of energy types")
        quick.add_argument("--seus", help="ISO 50001: number of significant energy uses")
        quick.add_argument("--sites", help="number of sites besides the central function")
        quick.add_argument("--sampling", action=BooleanOptionalAction, default=None,
                           help="whether IAF MD 1 sampling is allowed (with --sites)")
        quick.add_argument("--adjust", action="append", default=[], metavar="PERCENT:REASON",
                           help='signed adjustment, repeatable, e.g. --adjust "-10:mature system"')
        parser.add_argument("--stage1-share", metavar="FRACTION",
                            help="stage 1 share of the initial time, e.g. 1/3 (default: "
                                 "settings.AUDIT_TIME_STAGE1_SHARE or 1/3)")
        parser.add_argument("--configured-enms-table", action="store_true",
                            help="use the ISO 50003 audit-day table the certification body "
                                 "entered in the admin (reads the database); without it ISO "
                                 "50001 days are reported as not configured")

    def handle(self, *args, **options):
        try:
            share = self._stage1_share(options["stage1_share"])
            if options["json"] is not None:
                if options["standard"] is not None:
                    raise AuditTimeInputError("--json", "give either --json or --standard")
                data = load_audit_time_json(self.read_input(options["json"]))
            elif options["standard"] is not None:
                data = self._quick_input(options)
            else:
                raise AuditTimeInputError("--json", "give --json FILE (or -) or --standard")
            table = self._enms_table() if options["configured_enms_table"] else None
            result = compute_audit_time(data, stage1_share=share, enms_days_table=table)
        except AuditTimeInputError as exc:
            raise CommandError(" ".join(str(exc).split()), returncode=2)

        if options["json"] is not None:
            self.stdout.write(json.dumps(result, indent=2))
        else:
            self.stdout.write(render_breakdown(result))

    def _stage1_share(self, option):
        if option is not None:
            return _fraction(option, "--stage1-share")
        configured = getattr(settings, "AUDIT_TIME_STAGE1_SHARE", None)
        if configured in (None, ""):
            return DEFAULT_STAGE1_SHARE
        return _fraction(configured, "AUDIT_TIME_STAGE1_SHARE")

    def _enms_table(self):
        try:
            return enms_days_table()
        except DatabaseError as exc:
            raise AuditTimeInputError("--configured-enms-table",
                                      f"cannot read the table from the database: {exc}")

    def _quick_input(self, options):
        standard = {"code": options["standard"], "effective_personnel": options["personnel"]}
        for option, field in (("complexity", "complexity"),
                              ("energy_tj", "annual_energy_consumption_tj"),
                              ("energy_types", "energy_types"),
                              ("seus", "significant_energy_uses")):
            if options[option] is not None:
                standard[field] = options[option]
        data = {"standards": [standard]}
        adjustments = []
        for i, text in enumerate(options["adjust"]):
            percent, sep, reason = text.partition(":")
            if not sep:
                raise AuditTimeInputError(f"adjustments.{i}",
                                          f"expected PERCENT:REASON, not {text!r}")
            adjustments.append({"reason": reason, "percent": percent.strip().removesuffix("%")})
        if adjustments:
            data["adjustments"] = adjustments
        if options["sites"] is not None:
            data["sites"] = {"count": options["sites"], "sampling_allowed": options["sampling"]}
        elif options["sampling"] is not None:
            raise AuditTimeInputError("sites.count", "--sampling/--no-sampling needs --sites N")
        return data


def _fraction(text, field):
    try:
        return Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        raise AuditTimeInputError(field, f"must be a fraction such as 1/3, not {text!r}")


def _num(value):
    return "-" if value is None else f"{value:g}"


def render_breakdown(result):
    """The readable form: a table of days, then the explanation, one sentence a line."""
    lines = [f"{'Standard':<15}{'Complexity':<12}{'Table days':>11}{'Adjusted days':>15}"]
    for entry in result["standards"]:
        complexity = entry.get("complexity", "")
        if "complexity_score" in entry:
            complexity += f" ({entry['complexity_score']:g})"
        table = "-" if entry["table_days"] is None else f"{entry['table_days']:.2f}"
        adjusted = "-" if entry["adjusted_days"] is None else f"{entry['adjusted_days']:.2f}"
        lines.append(f"{entry['code']:<15}{complexity:<12}{table:>11}{adjusted:>15}")
    lines += [
        "",
        f"{'Net adjustment':<34}{_num(result['net_adjustment_percent'])} %",
        f"{'Integration reduction':<34}{_num(result['integration_reduction_percent'])} %",
        f"{'Initial audit (stage 1 + 2)':<34}{_num(result['initial_days'])} days",
        f"{'  Stage 1':<34}{_num(result['stage1_days'])} days",
        f"{'  Stage 2':<34}{_num(result['stage2_days'])} days",
        f"{'Surveillance (each year)':<34}{_num(result['surveillance_days'])} days",
        f"{'Recertification':<34}{_num(result['recertification_days'])} days",
        f"{'Minimum on-site':<34}{_num(result['min_onsite_days'])} days",
    ]
    visits = result.get("sites_to_visit")
    if visits:
        lines.append(
            f"{'Sites to visit':<34}initial {visits['initial']}, surveillance "
            f"{visits['surveillance']}, recertification {visits['recertification']}"
            " + the central function each time"
        )
    for item in result["needs_configuration"]:
        lines.append(f"Needs configuration: {item}")
    lines += ["", "Explanation:"]
    lines += [f"  {i}. {sentence}" for i, sentence in enumerate(result["explanation"], 1)]
    return "\n".join(lines)
