"""``isocert certificate-lifecycle``: the daily run from cron, with its counts."""

import datetime
import io
import re

import pytest
from certification_helpers import DECIDED, decision_ready_cycle
from django.core.management import CommandError, call_command

from isocert.certification import services
from isocert.certification.models import Certificate


@pytest.fixture
def certificate(nordlicht, alice, rita, adam, dora):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam)
    return services.decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                           decision_date=DECIDED).certificate


def run(*args) -> str:
    out = io.StringIO()
    call_command("certificate-lifecycle", *args, stdout=out)
    return out.getvalue().strip()


def test_the_command_expires_and_flags_once(certificate):
    # A day after the first surveillance was due it is flagged; it never took place.
    due = certificate.cycle.audits.get(kind="surveillance1").target_date
    flagged = run("--date", (due + datetime.timedelta(days=1)).isoformat())
    assert flagged == ("Certificates expired: 0. Suspension reminders: 0. "
                       "Suspension ends proposed: 0. Withdrawn after suspension: 0. "
                       "Overdue surveillance flagged: 1. Registry jobs failed: 0.")
    assert run("--date", (due + datetime.timedelta(days=2)).isoformat()).endswith(
        "Overdue surveillance flagged: 0. Registry jobs failed: 0.")

    after_expiry = (certificate.expiry_date + datetime.timedelta(days=1)).isoformat()
    assert run("--date", after_expiry).startswith("Certificates expired: 1.")
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.EXPIRED
    assert run("--date", after_expiry).startswith("Certificates expired: 0.")


def test_today_by_default(certificate):
    assert re.fullmatch(r"Certificates expired: \d+\. Suspension reminders: \d+\. "
                        r"Suspension ends proposed: \d+\. Withdrawn after suspension: \d+\. "
                        r"Overdue surveillance flagged: \d+\. Registry jobs failed: \d+\.",
                        run())


def test_a_bad_date_is_refused(db):
    with pytest.raises(CommandError, match="not a date"):
        run("--date", "2026-13-40")
