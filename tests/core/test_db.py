"""A transaction that meets a locked database runs again — a bounded number of times."""

import pytest
from django.db import OperationalError

from isocert.core import db
from isocert.core.db import retry_when_locked


@pytest.fixture
def sleeps(monkeypatch):
    waited: list[float] = []
    monkeypatch.setattr(db.time, "sleep", waited.append)
    return waited


def failing(*errors):
    """A function raising ``errors`` in turn, then returning the number of calls."""
    calls = []

    @retry_when_locked()
    def run():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return len(calls)

    return run


def test_a_locked_database_is_tried_again_with_a_growing_pause(sleeps):
    locked = OperationalError("database is locked")

    assert failing(locked, locked)() == 3
    assert sleeps == [0.5, 1.0]


def test_after_three_attempts_the_error_is_passed_on(sleeps):
    locked = OperationalError("database is locked")

    with pytest.raises(OperationalError, match="locked"):
        failing(locked, locked, locked)()
    assert len(sleeps) == 2


def test_other_database_errors_are_not_tried_again(sleeps):
    with pytest.raises(OperationalError, match="no such table"):
        failing(OperationalError("no such table: energy_reading"))()
    assert sleeps == []


def test_inside_another_transaction_the_error_is_passed_on(db, sleeps):
    # The test runs in a transaction: only its opener could run it again.
    with pytest.raises(OperationalError, match="locked"):
        failing(OperationalError("database is locked"))()
    assert sleeps == []
