"""`make run PORT=…` and SITE_URL agree: the portal's links (e-mails, the certificate's
"Verify at" line and signed QR) point where it serves, unless SITE_URL is configured."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SITE_URL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "HOST", "PORT")}
    env.update(extra)
    return env


def dry_run(target: str, *args: str, **env) -> list[str]:
    """The commands ``make -n`` would run that start the portal, its worker or the demo."""
    out = subprocess.run(["make", "-n", target, *args], cwd=ROOT, env=_env(**env), check=True,
                         capture_output=True, text=True).stdout
    return [line for line in out.splitlines()
            if any(cmd in line for cmd in ("granian", "runserver", "db_worker", "seed-demo"))]


@pytest.mark.parametrize("target, expected", [("run", 3), ("dev", 3), ("worker", 1)])
def test_the_links_follow_the_port_the_portal_is_started_on(target, expected):
    lines = dry_run(target, "PORT=8123")
    # `make run`'s server part is one shell command starting the worker and granian.
    assert sum(line.count("SITE_URL='http://127.0.0.1:8123'") for line in lines) == expected
    assert all("SITE_URL='http://127.0.0.1:8123'" in line for line in lines), lines


def test_a_wildcard_host_links_to_the_local_address():
    assert all("SITE_URL='http://127.0.0.1:8000'" in line
               for line in dry_run("run", "HOST=0.0.0.0"))


@pytest.mark.parametrize("how", ["environment", "command line"])
def test_a_configured_site_url_wins(how):
    url = "https://certs.example.com"
    lines = (dry_run("run", "PORT=8123", SITE_URL=url) if how == "environment"
             else dry_run("run", "PORT=8123", f"SITE_URL={url}"))
    assert lines and all(f"SITE_URL='{url}'" in line for line in lines), lines


def test_the_settings_take_the_site_url_they_are_started_with():
    code = ("import django; django.setup(); from django.conf import settings; "
            "from isocert.certification.signing import qr_url; "
            "print(settings.SITE_URL, settings.CSRF_TRUSTED_ORIGINS[0], qr_url('C', 'd', 's'))")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True,
        env=_env(DJANGO_SETTINGS_MODULE="isocert.settings", DEBUG="1",
                 SITE_URL="http://127.0.0.1:8123")).stdout.split()
    assert out == ["http://127.0.0.1:8123", "http://127.0.0.1:8123",
                   "http://127.0.0.1:8123/verify/C?d=d&s=s"]
