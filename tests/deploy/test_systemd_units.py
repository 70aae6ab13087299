"""The systemd units in deploy/systemd: what they run exists, and they restart and repeat
as docs/deployment.md says."""

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import get_commands

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"


def unit(name: str) -> configparser.ConfigParser:
    """A unit's sections (a repeated key such as ExecStart= keeps its last value: read
    those with ``exec_lines``)."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string((UNITS / name).read_text().replace("\\\n", " "))
    return parser


def exec_lines(name: str) -> list[str]:
    text = (UNITS / name).read_text().replace("\\\n", " ")
    return re.findall(r"^ExecStart=(.*)$", text, flags=re.M)


def isocert_commands(name: str) -> list[str]:
    return [re.search(r"bin/isocert (\S+)", line).group(1)
            for line in exec_lines(name) if "bin/isocert " in line]


def test_every_isocert_command_the_units_run_exists():
    named = [command for path in sorted(UNITS.glob("*.service"))
             for command in isocert_commands(path.name)]
    assert {"db_worker", "verify-audit-trail", "certificate-lifecycle",
            "prepare-certsearch-export", "backup"} <= set(named)
    assert set(named) <= set(get_commands()), set(named) - set(get_commands())


def test_the_daily_unit_verifies_the_trail_before_signing_its_head():
    commands = isocert_commands("isocert-daily.service")
    assert commands.index("verify-audit-trail") < commands.index("send-audit-trail-head")
    assert {"send-overdue-digests", "send-ca-reminders", "certificate-lifecycle",
            "recover-tasks"} <= set(commands)


@pytest.mark.parametrize(("name", "restart"), [("isocert-web.service", "on-failure"),
                                               ("isocert-worker.service", "always")])
def test_the_long_running_services_are_started_again(name, restart):
    # The worker whatever ended it: the queued tasks wait for it.
    service = unit(name)["Service"]
    assert service["Restart"] == restart
    assert service["EnvironmentFile"] == "/etc/isocert/isocert.env"


@pytest.mark.parametrize(("timer", "calendar"), [("isocert-daily.timer", "*-*-* 02:30:00"),
                                                 ("isocert-monthly.timer", "*-*-01 03:00:00"),
                                                 ("isocert-backup.timer", "*-*-* 01:30:00")])
def test_each_timer_has_its_service_and_catches_up(timer, calendar):
    assert (UNITS / timer.replace(".timer", ".service")).exists()
    section = unit(timer)["Timer"]
    assert section["OnCalendar"] == calendar
    assert section["Persistent"] == "true"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_accepts_the_units():
    result = subprocess.run(["systemd-analyze", "verify", *map(str, sorted(UNITS.iterdir()))],
                            capture_output=True, text=True)
    # The programs live on the server (/srv/isocert/venv), not here: nothing else may fail.
    problems = [line for line in result.stderr.splitlines() if "is not executable" not in line]
    assert problems == []
