"""Health endpoints for load balancers and monitoring (issue #16).

``GET /health/live`` answers 200 ``{"status": "ok"}`` while the process serves requests: it
touches nothing. ``GET /health/ready`` checks what a request needs and answers 200 when all
is well, 503 otherwise::

    {"status": "ok" | "fail",
     "checks": {"database": {...}, "cache": {...}, "storage": {...}, "worker": {...}}}

Each check gives ``status`` and what it measured; a failure names the exception's class,
never its message (which may hold a host name or a user) or any setting. The worker check
reads the task queue and the heartbeats (core/worker.py): it fails when the oldest ready
task has waited more than ``TASK_QUEUE_MAX_AGE_SECONDS`` or no worker beat within
``WORKER_HEARTBEAT_STALE_SECONDS``; with ``TASKS_BACKEND=immediate`` there is no worker to
check. The views read no session and no user and set no cookie; they are outside every rate
limit (only the public registry and the log-in are limited) and answer ``no-store``.
"""

import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.tasks import task_backends
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_tasks_db.backend import DatabaseBackend

from isocert.core.worker import queue_state


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        result = check() or {}
        result = {"status": "ok", **result}
    except Exception as exc:   # a health check reports every failure, never raises
        result = {"status": "fail", "error": type(exc).__name__}
    result["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def check_cache() -> dict:
    key = f"isocert:health:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    found = cache.get(key)
    cache.delete(key)
    if found != "1":
        raise LookupError("the cache did not keep a value")
    return {}


def check_storage() -> dict:
    # One existence query: a round trip to the store (S3: HeadObject) without writing.
    default_storage.exists("health/probe")
    return {}


def check_worker() -> dict:
    if not isinstance(task_backends["default"], DatabaseBackend):
        return {"backend": "immediate"}
    state = queue_state()
    result = {"queued": state.depth, "oldest_queued_seconds": round(state.oldest_age_seconds, 1),
              "running": state.running, "live_workers": state.live_workers,
              "last_heartbeat_seconds": (None if state.last_beat_age_seconds is None
                                         else round(state.last_beat_age_seconds, 1))}
    problems = []
    if state.oldest_age_seconds > settings.TASK_QUEUE_MAX_AGE_SECONDS:
        problems.append("queue_too_old")
    if not state.live_workers:
        problems.append("no_live_worker")
    if problems:
        return {"status": "fail", "problems": problems, **result}
    return result


CHECKS = {"database": check_database, "cache": check_cache, "storage": check_storage,
          "worker": check_worker}


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    checks = {name: _timed(check) for name, check in CHECKS.items()}
    ok = all(result["status"] == "ok" for result in checks.values())
    response = JsonResponse({"status": "ok" if ok else "fail", "checks": checks},
                            status=200 if ok else 503)
    # A 503 here is an answer, not a server error: Django would log it as one (and e-mail
    # ADMINS) at every probe of the load balancer, every few seconds.
    response._has_been_logged = True
    return response
