"""Living with SQLite's single write lock.

SQLite lets one connection write at a time; a writer waits for the lock up to
``SQLITE_BUSY_TIMEOUT_SECONDS`` and then fails with "database is locked" (PostgreSQL
waits on row locks instead and never says so). Transactions here are IMMEDIATE (see
``settings.DATABASES``), so the error comes when the transaction begins — nothing was
written yet, and the whole transaction can simply run again.
"""

import functools
import logging
import time
from collections.abc import Callable

from django.db import OperationalError, transaction
from django_tasks_db.utils import is_locked_database_exception

logger = logging.getLogger(__name__)

LOCKED_ATTEMPTS = 3
LOCKED_BACKOFF_SECONDS = 0.5


def is_locked(exc: BaseException) -> bool:
    """Whether ``exc`` is the database's "locked" error (SQLite, MySQL), as django-tasks-db's
    worker recognises it."""
    return isinstance(exc, OperationalError) and is_locked_database_exception(exc)


def retry_when_locked(*, attempts: int = LOCKED_ATTEMPTS,
                      backoff: float = LOCKED_BACKOFF_SECONDS) -> Callable:
    """Run the decorated transaction again when the database was locked: ``attempts`` in
    all, waiting ``backoff`` seconds before the second, twice that before the third …

    Decorate a function that is one whole transaction (``@transaction.atomic`` below
    this decorator) and writes nothing outside it. Inside another transaction the error
    is passed on: only whoever opened the outer transaction can run it again.
    """

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args, **kwargs):
            for attempt in range(1, attempts):
                try:
                    return func(*args, **kwargs)
                except OperationalError as exc:
                    if not is_locked(exc) or transaction.get_connection().in_atomic_block:
                        raise
                    delay = backoff * 2 ** (attempt - 1)
                    logger.warning("%s: the database is locked (attempt %d of %d); "
                                   "trying again in %.1f s.", func.__qualname__, attempt,
                                   attempts, delay)
                    time.sleep(delay)
            return func(*args, **kwargs)

        return run

    return decorate
