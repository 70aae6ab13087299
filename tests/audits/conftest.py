"""Fixtures of the audits tests."""

import pytest
from django.utils import timezone
from programme_helpers import auditor, cycle_for


@pytest.fixture
def today_is(monkeypatch):
    """``today_is(day)`` makes ``day`` the portal's calendar day (``timezone.localdate()``)
    for the rest of the test.

    The programme's fixed dates (``programme_helpers.START``) stay in the future, so
    scheduling needs no late-entry justification; an audit starts and closes only once its
    first day has come, so the tests that run one move the calendar there. The clock
    (``timezone.now()``) is left alone: only the calendar day is read by these rules.
    """
    real = timezone.localdate

    def set_today(day):
        monkeypatch.setattr(timezone, "localdate",
                            lambda value=None, timezone=None: real(value, timezone)
                            if value is not None else day)
        return day
    return set_today


@pytest.fixture
def lead(db):
    """Lena, a qualified lead auditor."""
    return auditor("lena@cb.example", "Lena Lead", lead=True)


@pytest.fixture
def cycle(nordlicht, alice, rita):
    """Nordlicht's certification cycle (programme_helpers.cycle_for)."""
    return cycle_for(nordlicht, alice, rita)
