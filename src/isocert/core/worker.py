"""The task worker seen from outside: its heartbeat, the queue it works off, and the tasks a
dead worker left "running".

django-tasks-db records tasks in ``DBTaskResult``; a worker that dies (killed, out of
memory, the machine lost) leaves the task it had claimed "running" for ever, and nothing
says whether any worker is alive. ``isocert db_worker`` (core/management/commands) writes
a ``WorkerHeartbeat`` row every ``WORKER_HEARTBEAT_SECONDS`` from a background thread; the
readiness check (core/health.py) and the metrics read ``queue_state``; ``recover_lost_tasks``
(run when a worker starts and by ``isocert recover-tasks``, daily) puts a dead worker's
tasks back in the queue, or fails them with the reason once they were retried
``WORKER_LOST_TASK_RETRIES`` times.
"""

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Max, Min
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from isocert.core.models import WorkerHeartbeat

logger = logging.getLogger("isocert.worker")


class WorkerLost(Exception):
    """Recorded as a task's error when its worker died while running it."""


# --- heartbeat ---------------------------------------------------------------------------------

def beat(worker_id: str, started_at: datetime) -> None:
    """Record that ``worker_id`` (this process) is alive now."""
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"hostname": socket.gethostname()[:255], "pid": os.getpid(),
                  "started_at": started_at, "beat_at": timezone.now()})


def forget(worker_id: str) -> None:
    """A worker stopping cleanly takes its heartbeat away."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


class Heartbeat:
    """Beats once at once, then every ``WORKER_HEARTBEAT_SECONDS`` in a daemon thread.

    The thread has its own database connection, closed after each beat (a connection held
    for minutes by an idle thread would count against the server's limit). A failed beat
    is logged and tried again at the next interval: the worker keeps working.
    """

    def __init__(self, worker_id: str):
        self.worker_id = worker_id
        self.started_at = timezone.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="isocert-heartbeat", daemon=True)

    def start(self) -> None:
        self._beat()
        self._thread.start()

    def _beat(self) -> None:
        try:
            beat(self.worker_id, self.started_at)
        except DatabaseError as exc:
            logger.warning("worker_id=%s: heartbeat not recorded: %s", self.worker_id, exc)

    def _run(self) -> None:
        while not self._stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
            try:
                self._beat()
            finally:
                connection.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            forget(self.worker_id)
        except DatabaseError as exc:   # the heartbeat goes stale on its own
            logger.warning("worker_id=%s: heartbeat not removed: %s", self.worker_id, exc)


def live_workers(now: datetime | None = None) -> list[WorkerHeartbeat]:
    """Workers whose last beat is younger than ``WORKER_HEARTBEAT_STALE_SECONDS``."""
    now = now or timezone.now()
    since = now - timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS)
    return list(WorkerHeartbeat.objects.filter(beat_at__gte=since).order_by("-beat_at"))


# --- the queue ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueState:
    depth: int                        # tasks ready to run now
    oldest_age_seconds: float         # how long the oldest of them has waited (0 if none)
    running: int
    live_workers: int
    last_beat_age_seconds: float | None   # None: no worker ever beat


def queue_state(now: datetime | None = None) -> QueueState:
    """Depth and age of the ready queue, and the workers' heartbeats (two small queries on
    the status index plus one on the heartbeats)."""
    now = now or timezone.now()
    ready = DBTaskResult.objects.ready()
    depth = ready.count()
    oldest = None
    if depth:
        # A task without a delay (run_after = the library's "max date") waits since it was
        # enqueued; a delayed one since its run_after.
        undelayed = ready.filter(run_after=get_date_max()).aggregate(t=Min("enqueued_at"))["t"]
        delayed = ready.exclude(run_after=get_date_max()).aggregate(t=Min("run_after"))["t"]
        oldest = min(t for t in (undelayed, delayed) if t is not None)
    last_beat = WorkerHeartbeat.objects.aggregate(t=Max("beat_at"))["t"]
    return QueueState(
        depth=depth,
        oldest_age_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        running=DBTaskResult.objects.running().count(),
        live_workers=len(live_workers(now)),
        last_beat_age_seconds=(now - last_beat).total_seconds() if last_beat else None,
    )


# --- tasks a dead worker left running ----------------------------------------------------------

@dataclass(frozen=True)
class Recovery:
    retried: list[str]
    failed: list[str]


def recover_lost_tasks(now: datetime | None = None) -> Recovery:
    """Tasks "running" on a worker with no live heartbeat go back to the queue, or fail
    with the reason once they were claimed more than ``WORKER_LOST_TASK_RETRIES`` times.

    A task started less than ``WORKER_HEARTBEAT_STALE_SECONDS`` ago is left alone (its
    worker may not have beaten yet). Each change is conditional on the task still being
    "running", so two recoveries at once (or the worker finishing it) change nothing twice.
    """
    now = now or timezone.now()
    alive = {heartbeat.worker_id for heartbeat in live_workers(now)}
    started_before = now - timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS)
    retried, failed = [], []
    for task in DBTaskResult.objects.running().filter(started_at__lt=started_before):
        worker_id = task.worker_ids[-1] if task.worker_ids else ""
        if worker_id in alive:
            continue
        still_running = DBTaskResult.objects.filter(pk=task.pk,
                                                    status=TaskResultStatus.RUNNING)
        if len(task.worker_ids) <= settings.WORKER_LOST_TASK_RETRIES:
            changed = still_running.update(status=TaskResultStatus.READY, started_at=None,
                                           run_after=get_date_max())
            if changed:
                retried.append(str(task.pk))
                logger.warning("Task %s (%s) was running on worker %s, which is dead: queued "
                               "again.", task.pk, task.task_path, worker_id or "?")
            continue
        reason = (f"{WorkerLost.__name__}: the worker {worker_id or '?'} died while running "
                  f"this task (no heartbeat since before {started_before.isoformat()}); it "
                  f"was tried {len(task.worker_ids)} times.")
        changed = still_running.update(
            status=TaskResultStatus.FAILED, finished_at=now, return_value=None,
            exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
            traceback=reason)
        if changed:
            failed.append(str(task.pk))
            logger.error("Task %s (%s) failed: %s", task.pk, task.task_path, reason)
    return Recovery(retried=retried, failed=failed)
