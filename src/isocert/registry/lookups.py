"""Lookup counts: how often each certificate was verified, without a write per request.

``record_lookup`` adds one to a counter in this process's memory; ``flush_lookup_counts``
turns the counters into a few ``UPDATE ... SET lookups = lookups + n`` statements. Only
the certificate's id is kept: no address, no user, no time of the lookup.

**Several servers (``REDIS_URL``).** A flush first adds this process's counters to one
Redis hash shared by every process (``HINCRBY`` in one ``MULTI``: atomic, one round trip
per flush instead of one per lookup), then — if it gets the flush lock (``SET NX`` with an
expiry; it waits up to ``FLUSH_LOCK_WAIT_SECONDS`` for a flush running elsewhere) — moves
the hash aside (``RENAME``) and writes it. One process at a time writes; what another
process added before the ``RENAME`` goes in the same write, the rest in the next one. If
the write fails, the moved counts stay in Redis and the next flush writes them first. When
Redis does not answer, a process writes its own counters directly (the database adds).

**When.** A timer thread in every process that counts (started by its first lookup)
flushes every ``LOOKUP_FLUSH_SECONDS`` — not at the next lookup, so a quiet registry is
written too — and a flush also runs as soon as ``LOOKUP_FLUSH_AT`` lookups wait. A process
flushes when it stops: through ``atexit`` (the task worker, ``runserver``) and through
``multiprocessing``'s exit finalizers, which are what runs when a granian worker (a forked
``multiprocessing`` process that ends with ``os._exit``, skipping ``atexit``) returns after
SIGTERM or SIGINT. Only a process killed without notice (SIGKILL, a crash) loses counts:
those of its last interval. Counts of this process that a failed database write could not
store are dropped (statistics must not hold up verification).
"""

import atexit
import contextlib
import logging
import multiprocessing.util
import os
import threading

import redis
from django.conf import settings
from django.db import connections, transaction
from django.db.models import F

from isocert.certification.models import Certificate
from isocert.core.shared_store import shared_key, shared_redis, shared_redis_failed

logger = logging.getLogger(__name__)

LOOKUP_FLUSH_AT = 50_000
# Off in tests: due flushes then run in the request's thread and no timer starts.
FLUSH_IN_BACKGROUND = True
# The flush lock expires on its own after this long if its holder died mid-flush.
FLUSH_LOCK_SECONDS = 60
# How long a flush waits for one running in another process before leaving its counts in
# Redis for the next flush (of any process) to write.
FLUSH_LOCK_WAIT_SECONDS = 2.0


class _LookupCounter:
    """Lookups per certificate id, in this process, until the next flush."""

    def __init__(self):
        self.lock = threading.Lock()
        self.flushing = threading.Lock()  # held while a background flush runs
        self.pending: dict[int, int] = {}
        self.total = 0

    def add(self, certificate_id: int) -> bool:
        """Count one lookup; True when so many wait that they should be written now."""
        with self.lock:
            self.pending[certificate_id] = self.pending.get(certificate_id, 0) + 1
            self.total += 1
            return self.total >= LOOKUP_FLUSH_AT

    def take(self) -> dict[int, int]:
        with self.lock:
            pending, self.pending, self.total = self.pending, {}, 0
            return pending


_counter = _LookupCounter()
_timer_pid: int | None = None
_timer_lock = threading.Lock()


def _pending_key() -> str:
    return shared_key("lookups")


def _flushing_key() -> str:
    return shared_key("lookups", "flushing")


def record_lookup(certificate_id: int) -> None:
    """Count one public verification of this certificate; who looked is not kept.

    Due flushes run in a thread of their own (``FLUSH_IN_BACKGROUND``): writing a thousand
    counters takes tens of milliseconds (random pages of a large table), which no request
    should wait for.
    """
    if _counter.add(certificate_id):
        if FLUSH_IN_BACKGROUND:
            _flush_in_background()
        else:
            flush_lookup_counts()
    _start_timer()


def _start_timer() -> None:
    """Start this process's flush timer once (again in a forked child: threads are not
    inherited)."""
    global _timer_pid
    if not FLUSH_IN_BACKGROUND or _timer_pid == os.getpid():
        return
    with _timer_lock:
        if _timer_pid == os.getpid():
            return
        _timer_pid = os.getpid()
        threading.Thread(target=_flush_every_interval, name="lookup-flush-timer",
                         daemon=True).start()


def _flush_every_interval() -> None:
    stop = threading.Event()  # never set: the daemon thread ends with its process
    while not stop.wait(settings.LOOKUP_FLUSH_SECONDS):
        if FLUSH_IN_BACKGROUND:
            _flush_in_background(wait=True)


def _flush_in_background(wait: bool = False) -> None:
    if not _counter.flushing.acquire(blocking=False):
        return  # one is running; the next due lookup or tick starts another

    def run():
        try:
            flush_lookup_counts()
        except Exception:  # noqa: BLE001 — a timer that dies would never flush again
            logger.exception("Could not flush lookup counts")
        finally:
            connections.close_all()  # this thread's own connections
            _counter.flushing.release()

    if wait:
        run()
    else:
        threading.Thread(target=run, name="lookup-flush", daemon=True).start()


def wait_for_background_flush(timeout: float = 10.0) -> None:
    """Return when no background flush is running (tests, shutdown)."""
    if _counter.flushing.acquire(timeout=timeout):
        _counter.flushing.release()


def pending_lookup_counts() -> dict[int, int]:
    """What this process has counted since its last flush (tests, diagnostics)."""
    with _counter.lock:
        return dict(_counter.pending)


def shared_pending_lookup_counts() -> dict[int, int]:
    """What waits in Redis to be written (tests, diagnostics); empty without Redis."""
    client = shared_redis()
    if client is None:
        return {}
    return {int(k): int(v) for k, v in client.hgetall(_pending_key()).items()}


def flush_lookup_counts(*, lock_wait: float | None = None) -> int:
    """Write this process's counters, through Redis when it is configured; returns how many
    lookups this call wrote to the database.

    With Redis: nothing when another process holds the flush lock for more than
    ``lock_wait`` seconds (default ``FLUSH_LOCK_WAIT_SECONDS``) — the counts wait in Redis
    for the next flush; a database error is raised and the counts stay in Redis. Without
    Redis (or when it does not answer): a database error is logged and the counts dropped.
    """
    pending = _counter.take()
    client = shared_redis()
    if client is not None:
        try:
            _add_to_shared(client, pending)
        except redis.RedisError:
            shared_redis_failed("lookup counts are written by each process")
        else:
            wait = FLUSH_LOCK_WAIT_SECONDS if lock_wait is None else lock_wait
            try:
                return _flush_shared(client, wait)
            except redis.RedisError:
                shared_redis_failed("shared lookup counts wait in Redis")
                return 0
    if not pending:
        return 0
    try:
        return _write_counts(pending)
    except Exception:  # noqa: BLE001 — see the docstring
        logger.exception("Could not write %d lookup counts", sum(pending.values()))
        return 0


def _add_to_shared(client: redis.Redis, pending: dict[int, int]) -> None:
    """This process's counters into the shared hash, all or none (``MULTI``)."""
    if not pending:
        return
    pipe = client.pipeline(transaction=True)
    for certificate_id, n in pending.items():
        pipe.hincrby(_pending_key(), str(certificate_id), n)
    pipe.execute()


def _flush_shared(client: redis.Redis, lock_wait: float) -> int:
    """Under the flush lock: move the shared hash aside and write it. Counts moved aside
    by an earlier flush that failed (or died) are written first, with nothing added."""
    lock = client.lock(shared_key("lookups", "flush-lock"), timeout=FLUSH_LOCK_SECONDS,
                       blocking_timeout=lock_wait)
    if not lock.acquire(blocking=lock_wait > 0):
        return 0
    try:
        flushing = _flushing_key()
        if not client.exists(flushing):
            try:
                client.rename(_pending_key(), flushing)
            except redis.ResponseError:  # no such key: nothing was counted
                return 0
        counts = {int(k): int(v) for k, v in client.hgetall(flushing).items()}
        written = _write_counts(counts) if counts else 0
        client.delete(flushing)
        return written
    finally:
        with contextlib.suppress(redis.exceptions.LockError):
            lock.release()


def _write_counts(counts: dict[int, int]) -> int:
    """One ``lookups = lookups + n`` per certificate, certificates with the same count in
    one statement (``WHERE id IN (...)``): a flush after a burst of single lookups is a
    handful of statements."""
    by_count: dict[int, list[int]] = {}
    for certificate_id, n in counts.items():
        by_count.setdefault(n, []).append(certificate_id)
    with transaction.atomic():
        for n, ids in by_count.items():
            for start in range(0, len(ids), 500):
                Certificate.objects.filter(pk__in=ids[start:start + 500]).update(
                    lookups=F("lookups") + n)
    return sum(counts.values())


def _flush_at_exit() -> None:
    # The process is ending: nothing is left to tell about a failure.
    with contextlib.suppress(Exception):
        wait_for_background_flush()
        flush_lookup_counts()


atexit.register(_flush_at_exit)
# A granian worker is a forked multiprocessing.Process: it ends with os._exit(), after
# multiprocessing's own exit function has run the finalizers registered like this.
multiprocessing.util.Finalize(None, _flush_at_exit, exitpriority=10)
