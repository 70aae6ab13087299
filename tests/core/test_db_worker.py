"""`isocert db_worker` keeps running when the database is locked."""

from contextlib import contextmanager

import pytest
from django.core import mail
from django.core.management import call_command, get_commands
from django.db import OperationalError
from django_tasks_db.management.commands import db_worker as library_worker
from django_tasks_db.models import DBTaskResult

from isocert.core.management.commands import db_worker
from isocert.notifications.tasks import send_rendered_email


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def pauses(monkeypatch):
    waited: list[float] = []
    monkeypatch.setattr(db_worker.time, "sleep", waited.append)
    return waited


def fail_first_claims(monkeypatch, *errors):
    """The worker's claim transaction raises ``errors`` in turn, as SQLite's ``BEGIN
    EXCLUSIVE`` does when another connection kept the write lock past the busy timeout."""
    exclusive_transaction = library_worker.exclusive_transaction
    left = list(errors)

    @contextmanager
    def flaky(using=None):
        if left:
            raise left.pop(0)
        with exclusive_transaction(using):
            yield

    monkeypatch.setattr(library_worker, "exclusive_transaction", flaky)


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0",
                 "--queue-name", "*", verbosity=0)


def test_isocert_db_worker_is_the_command_that_survives_a_locked_database():
    assert get_commands()["db_worker"] == "isocert.core"


# Transactional: the worker closes a connection it finds inside a transaction.
@pytest.mark.django_db(transaction=True)
def test_a_locked_database_pauses_the_worker_which_then_runs_the_task(
        database_tasks, monkeypatch, pauses):
    result = send_rendered_email.enqueue(subject="Hello", body="Hi", html="", to=["a@x.example"])
    locked = OperationalError("database is locked")
    fail_first_claims(monkeypatch, locked, locked)

    run_worker()

    assert pauses == [1.0, 2.0]
    assert DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL"
    assert [m.subject for m in mail.outbox] == ["Hello"]


@pytest.mark.django_db(transaction=True)
def test_other_database_errors_still_stop_the_worker(database_tasks, monkeypatch, pauses):
    fail_first_claims(monkeypatch, OperationalError("disk I/O error"))

    with pytest.raises(OperationalError, match="disk I/O"):
        run_worker()
    assert pauses == []
