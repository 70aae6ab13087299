"""/health/live and /health/ready: what a load balancer and monitoring ask (issue #16)."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from isocert.core import health
from isocert.core.models import WorkerHeartbeat
from isocert.core.worker import beat
from isocert.notifications.tasks import send_rendered_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def anonymous():
    return Client()


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_live_answers_ok_without_touching_session_or_database(anonymous,
                                                              django_assert_num_queries):
    with django_assert_num_queries(0):
        response = anonymous.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert not response.cookies
    assert "no-store" in response["Cache-Control"]


def test_ready_is_ok_when_everything_answers(anonymous):
    response = anonymous.get("/health/ready")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "storage", "worker"}
    assert all(check["status"] == "ok" for check in body["checks"].values())
    assert body["checks"]["worker"]["backend"] == "immediate"   # the test run's task backend
    assert not response.cookies


def test_a_failing_store_fails_readiness_without_telling_its_secrets(anonymous, monkeypatch,
                                                                      caplog):
    default_storage.exists("x")  # set up the lazy storage

    def unreachable(self, name):
        raise OSError("connection to s3.internal.example:9000 with key AKIA123 refused")

    monkeypatch.setattr(type(default_storage._wrapped), "exists", unreachable)

    response = anonymous.get("/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["storage"] == {"status": "fail", "error": "OSError",
                                         "duration_ms": body["checks"]["storage"]["duration_ms"]}
    assert body["checks"]["database"]["status"] == "ok"
    assert "AKIA" not in response.content.decode() and "internal" not in response.content.decode()
    assert not [r for r in caplog.records if r.name == "django.request"]  # no error mail


def test_a_failing_database_fails_readiness(anonymous, monkeypatch):
    def down():
        raise ConnectionError("db down")

    monkeypatch.setitem(health.CHECKS, "database", down)

    response = anonymous.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["database"]["error"] == "ConnectionError"


def test_without_a_live_worker_readiness_fails(anonymous, database_tasks):
    response = anonymous.get("/health/ready")

    assert response.status_code == 503
    worker = response.json()["checks"]["worker"]
    assert worker["status"] == "fail"
    assert worker["problems"] == ["no_live_worker"]
    assert worker["last_heartbeat_seconds"] is None


def test_a_live_worker_and_a_fresh_queue_are_ready(anonymous, database_tasks):
    beat("worker-a", timezone.now())
    send_rendered_email.enqueue(subject="Hi", body="Hi", html="", to=["a@x.example"])

    response = anonymous.get("/health/ready")

    assert response.status_code == 200, response.content
    worker = response.json()["checks"]["worker"]
    assert (worker["queued"], worker["live_workers"]) == (1, 1)
    assert worker["oldest_queued_seconds"] < 60


def test_a_task_waiting_too_long_fails_readiness(anonymous, database_tasks, settings):
    settings.TASK_QUEUE_MAX_AGE_SECONDS = 300
    beat("worker-a", timezone.now())
    result = send_rendered_email.enqueue(subject="Hi", body="Hi", html="", to=["a@x.example"])
    DBTaskResult.objects.filter(pk=result.id).update(
        enqueued_at=timezone.now() - timedelta(minutes=10))

    response = anonymous.get("/health/ready")

    assert response.status_code == 503
    worker = response.json()["checks"]["worker"]
    assert worker["problems"] == ["queue_too_old"]
    assert worker["oldest_queued_seconds"] >= 600


def test_a_stale_heartbeat_is_no_live_worker(anonymous, database_tasks, settings):
    beat("worker-a", timezone.now())
    WorkerHeartbeat.objects.update(beat_at=timezone.now() - timedelta(
        seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS + 1))

    worker = anonymous.get("/health/ready").json()["checks"]["worker"]

    assert worker["problems"] == ["no_live_worker"]
    assert worker["last_heartbeat_seconds"] > settings.WORKER_HEARTBEAT_STALE_SECONDS


def test_health_is_outside_the_public_rate_limit(anonymous, settings):
    settings.PUBLIC_API_RATE = "2/min"

    answers = {anonymous.get("/health/ready").status_code for _ in range(5)}

    assert answers == {200}


def test_health_answers_only_get(anonymous):
    assert anonymous.post("/health/ready").status_code == 405
