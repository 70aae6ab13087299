"""Prometheus metrics of the portal (``/metrics``, portal/metrics.py serves them).

Per request (recorded by ``core.requestlog.RequestLogMiddleware``): a counter and a duration
histogram labelled by method, route (the URL pattern, a bounded set) and status. At each
scrape: the task queue's depth and the age of its oldest ready task, the running tasks and
live workers (core/worker.py), and whatever the apps add through ``scrape_gauges`` (the
certificates by status: certification's, read by the portal).

granian runs several worker processes: with ``PROMETHEUS_MULTIPROC_DIR`` set (an empty
directory, emptied before each start) every process writes its samples there and a scrape
adds them up; without it, a scrape sees the one process that answered it.
"""

import os
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import REGISTRY as PROCESS_REGISTRY
from prometheus_client import multiprocess as prometheus_multiprocess

if TYPE_CHECKING:
    from .worker import QueueState

CONTENT_TYPE = CONTENT_TYPE_LATEST

REQUESTS = Counter("isocert_http_requests", "HTTP requests answered",
                   ["method", "route", "status"])
REQUEST_DURATION = Histogram("isocert_http_request_duration_seconds",
                             "Time to answer an HTTP request", ["method", "route"],
                             buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def record_request(*, method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in _METHODS else "other"   # any word is a method to HTTP
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_DURATION.labels(method, route).observe(seconds)


def _request_metrics() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(PROCESS_REGISTRY)


def exposition(state: "QueueState",
               extra_gauges: dict[str, tuple[str, str, dict[tuple[str, ...], float]]]) -> bytes:
    """The text exposition: request metrics, the queue ``state`` (``worker.queue_state()``)
    and ``extra_gauges`` given as ``{name: (help, label_name, {label_values: value})}``, all
    read at this scrape. (This module imports no model: the logging set-up loads it, through
    the request log, before Django's apps are ready.)"""
    scrape = CollectorRegistry()
    for name, documentation, value in (
        ("isocert_task_queue_depth", "Tasks ready to run", state.depth),
        ("isocert_task_queue_oldest_age_seconds", "How long the oldest ready task has waited",
         state.oldest_age_seconds),
        ("isocert_tasks_running", "Tasks being run", state.running),
        ("isocert_task_workers_live", "Task workers with a fresh heartbeat", state.live_workers),
    ):
        Gauge(name, documentation, registry=scrape).set(value)
    for name, (documentation, label, values) in extra_gauges.items():
        gauge = Gauge(name, documentation, [label], registry=scrape)
        for label_values, value in values.items():
            gauge.labels(*label_values).set(value)
    return _request_metrics() + generate_latest(scrape)
