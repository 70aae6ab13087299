"""``isocert db_worker``: django-tasks-db's task worker, kept alive when SQLite is locked.

django-tasks-db 0.13's worker ignores a locked database while it looks for a task, but
not when the claim's transaction cannot even begin: on SQLite it is ``BEGIN EXCLUSIVE``,
which waits ``SQLITE_BUSY_TIMEOUT_SECONDS`` for the write lock and then raises "database
is locked" outside the worker's ``try``; so does recording a task's result when the
database is still locked after the library's three tries. Either ended the process, and
nothing started it again (``make run`` starts it in the background). This command has
the same name and options (``isocert.core`` comes before ``django_tasks_db`` in
``INSTALLED_APPS``, so Django picks it) and runs the same worker again after a pause
instead. A task whose result could not be recorded stays "running".

It also says it is alive: a heartbeat row every ``WORKER_HEARTBEAT_SECONDS`` while it runs
(removed on a clean stop), read by ``/health/ready`` and ``/metrics``; and when it starts, it
first recovers the tasks a dead worker left "running" (core/worker.py).
"""

import logging
import os
import time

from django.core.management.base import CommandError
from django.db import DatabaseError, OperationalError, close_old_connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from isocert.core.db import is_locked
from isocert.core.worker import Heartbeat, recover_lost_tasks

logger = logging.getLogger("django_tasks_db")

# The pause after a locked database doubles up to this; a run that lasted longer than it
# starts the count again. Each attempt has already waited the busy timeout for the lock.
FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 30.0


class Worker(db_worker.Worker):
    def run(self) -> None:
        pauses = 0
        while True:
            started = time.monotonic()
            try:
                return super().run()
            except OperationalError as exc:
                if not is_locked(exc):
                    raise
                if time.monotonic() - started > LONGEST_PAUSE_SECONDS:
                    pauses = 0
                pause = min(FIRST_PAUSE_SECONDS * 2 ** pauses, LONGEST_PAUSE_SECONDS)
                pauses += 1
                logger.warning("worker_id=%s: the database is locked (%s); carrying on in "
                               "%.0f s.", self.worker_id, exc, pause)
                close_old_connections()
                time.sleep(pause)
                if not self.running:   # a signal came during the pause
                    return None


class Command(db_worker.Command):
    help = db_worker.Command.help + " (kept running when the database is locked)"

    def handle(self, *, verbosity, queue_name, interval, batch, backend_name, startup_delay,
               reload, max_tasks, worker_id, exclude_queues, **options) -> None:
        # As django-tasks-db 0.13's own command, with this module's Worker.
        self.configure_logging(verbosity)
        if reload and batch:
            logger.warning("Warning: --reload and --batch cannot be specified together. "
                           "Disabling autoreload.")
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(queue_names=queue_names, interval=interval, batch=batch,
                        backend_name=backend_name, startup_delay=startup_delay,
                        max_tasks=max_tasks, worker_id=worker_id,
                        excluded_queue_names=excluded_queue_names)
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()   # only the child that runs the worker
            run_with_reloader(lambda: self._run_alive(worker))
        else:
            worker.configure_signals()
            self._run_alive(worker)

    def _run_alive(self, worker: Worker) -> None:
        """Recover a dead worker's tasks, then run with a heartbeat (removed on the way out,
        Ctrl-C and SIGTERM included: the library ends with ``sys.exit``)."""
        try:
            recovery = recover_lost_tasks()
        except DatabaseError as exc:   # e.g. SQLite locked: the daily recover-tasks retries
            logger.warning("Tasks of dead workers not recovered now: %s", exc)
        else:
            if recovery.retried or recovery.failed:
                logger.warning("Tasks of a dead worker: %d queued again, %d failed.",
                               len(recovery.retried), len(recovery.failed))
        heartbeat = Heartbeat(worker.worker_id)
        heartbeat.start()
        try:
            worker.run()
        finally:
            heartbeat.stop()
