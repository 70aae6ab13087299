"""Lookup counts: how often each certificate was verified, without a write per request.

``record_lookup`` adds to a counter in this process; ``flush_lookup_counts`` turns the
counters into a few ``UPDATE ... SET lookups = lookups + n`` statements, at most every
``LOOKUP_FLUSH_SECONDS`` or ``LOOKUP_FLUSH_AT`` lookups, in a background thread (so no
request waits for it), and when the process exits. A worker that crashes loses its
unflushed counts — at most ``LOOKUP_FLUSH_SECONDS``' worth: the counts are statistics, not
records. Only the certificate's id is kept: no address, no user, no time of the lookup.
"""

import atexit
import contextlib
import threading
import time

from django.db import connections, transaction
from django.db.models import F

from isocert.certification.models import Certificate

LOOKUP_FLUSH_SECONDS = 10.0
LOOKUP_FLUSH_AT = 50_000
FLUSH_IN_BACKGROUND = True


class _LookupCounter:
    """Lookups per certificate id, in this process, until the next flush."""

    def __init__(self):
        self.lock = threading.Lock()
        self.flushing = threading.Lock()  # held while a background flush runs
        self.pending: dict[int, int] = {}
        self.total = 0
        self.last_flush = time.monotonic()

    def add(self, certificate_id: int) -> bool:
        """Count one lookup; True when it is time to flush."""
        with self.lock:
            self.pending[certificate_id] = self.pending.get(certificate_id, 0) + 1
            self.total += 1
            return (self.total >= LOOKUP_FLUSH_AT
                    or time.monotonic() - self.last_flush >= LOOKUP_FLUSH_SECONDS)

    def take(self) -> dict[int, int]:
        with self.lock:
            pending, self.pending, self.total = self.pending, {}, 0
            self.last_flush = time.monotonic()
            return pending


_counter = _LookupCounter()


def record_lookup(certificate_id: int) -> None:
    """Count one public verification of this certificate; who looked is not kept.

    When a flush is due it runs in a thread of its own (``FLUSH_IN_BACKGROUND``): writing
    a thousand counters takes tens of milliseconds (random pages of a large table), which
    the request that happened to be the thousandth should not wait for.
    """
    if _counter.add(certificate_id):
        if FLUSH_IN_BACKGROUND:
            _flush_in_background()
        else:
            flush_lookup_counts()


def _flush_in_background() -> None:
    if not _counter.flushing.acquire(blocking=False):
        return  # one is running; the next due lookup starts another

    def run():
        try:
            flush_lookup_counts()
        finally:
            connections.close_all()  # this thread's own connections
            _counter.flushing.release()

    threading.Thread(target=run, name="lookup-flush", daemon=True).start()


def wait_for_background_flush(timeout: float = 10.0) -> None:
    """Return when no background flush is running (tests, shutdown)."""
    if _counter.flushing.acquire(timeout=timeout):
        _counter.flushing.release()


def pending_lookup_counts() -> dict[int, int]:
    """What this process has counted since its last flush (for tests and diagnostics)."""
    with _counter.lock:
        return dict(_counter.pending)


def flush_lookup_counts() -> int:
    """Write this process's counts: one ``lookups = lookups + n`` per certificate.

    Certificates with the same count share a statement (``WHERE id IN (...)``), so a flush
    after a burst of single lookups is a handful of statements. Returns how many lookups
    were written. On a database error the counts are dropped rather than retried: a
    statistic must not hold up verification.
    """
    pending = _counter.take()
    if not pending:
        return 0
    by_count: dict[int, list[int]] = {}
    for certificate_id, n in pending.items():
        by_count.setdefault(n, []).append(certificate_id)
    try:
        with transaction.atomic():
            for n, ids in by_count.items():
                for start in range(0, len(ids), 500):
                    Certificate.objects.filter(pk__in=ids[start:start + 500]).update(
                        lookups=F("lookups") + n)
    except Exception:  # noqa: BLE001 — see the docstring
        import logging

        logging.getLogger(__name__).exception("Could not write %d lookup counts",
                                              sum(pending.values()))
        return 0
    return sum(pending.values())


def _flush_at_exit():
    # The process is ending: nothing is left to tell about a failure.
    with contextlib.suppress(Exception):
        wait_for_background_flush()
        flush_lookup_counts()


atexit.register(_flush_at_exit)
