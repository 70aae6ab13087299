"""The task worker's heartbeat and the tasks a dead worker left "running" (issue #16)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from isocert.core import worker
from isocert.core.models import WorkerHeartbeat
from isocert.notifications.tasks import send_rendered_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def running_task(*worker_ids, started_minutes_ago=10) -> DBTaskResult:
    result = send_rendered_email.enqueue(subject="Hi", body="Hi", html="", to=["a@x.example"])
    DBTaskResult.objects.filter(pk=result.id).update(
        status=TaskResultStatus.RUNNING, worker_ids=list(worker_ids),
        started_at=timezone.now() - timedelta(minutes=started_minutes_ago))
    return DBTaskResult.objects.get(pk=result.id)


def test_a_heartbeat_marks_a_worker_alive_until_it_goes_stale(settings):
    worker.beat("w-1", timezone.now())

    assert [h.worker_id for h in worker.live_workers()] == ["w-1"]
    later = timezone.now() + timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS + 1)
    assert worker.live_workers(later) == []
    worker.forget("w-1")
    assert not WorkerHeartbeat.objects.exists()


def test_a_dead_workers_task_is_queued_again(database_tasks):
    task = running_task("dead-worker")

    recovery = worker.recover_lost_tasks()

    assert recovery.retried == [str(task.pk)] and recovery.failed == []
    task.refresh_from_db()
    assert task.status == TaskResultStatus.READY
    assert DBTaskResult.objects.ready().filter(pk=task.pk).exists()


def test_a_task_lost_again_after_its_retries_fails_with_the_reason(database_tasks, settings):
    settings.WORKER_LOST_TASK_RETRIES = 1
    task = running_task("dead-1", "dead-2")

    recovery = worker.recover_lost_tasks()

    assert recovery.failed == [str(task.pk)]
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert task.exception_class_path == "isocert.core.worker.WorkerLost"
    assert "the worker dead-2 died while running this task" in task.traceback
    assert task.finished_at is not None


def test_a_live_workers_task_and_a_task_just_started_are_left_alone(database_tasks):
    worker.beat("alive", timezone.now())
    busy = running_task("alive")
    just_started = running_task("new-worker", started_minutes_ago=0)

    recovery = worker.recover_lost_tasks()

    assert recovery.retried == recovery.failed == []
    for task in (busy, just_started):
        task.refresh_from_db()
        assert task.status == TaskResultStatus.RUNNING


def test_the_recover_tasks_command_reports_what_it_did(database_tasks, capsys):
    task = running_task("dead-worker")

    call_command("recover-tasks")

    out = capsys.readouterr().out
    assert "1 queued again, 0 failed" in out and str(task.pk) in out


@pytest.mark.django_db(transaction=True)
def test_the_worker_recovers_at_start_beats_and_removes_its_heartbeat_on_stop(
        database_tasks, monkeypatch):
    lost = running_task("crashed-worker")
    seen = []
    original_run = worker.Heartbeat.start

    def start_and_look(self):
        original_run(self)
        seen.append(list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)))

    monkeypatch.setattr(worker.Heartbeat, "start", start_and_look)

    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0",
                 "--queue-name", "*", "--worker-id", "w-batch", verbosity=0)

    assert seen == [["w-batch"]]                      # alive while it ran
    assert not WorkerHeartbeat.objects.exists()       # gone after a clean stop
    lost.refresh_from_db()
    assert lost.status == TaskResultStatus.SUCCESSFUL  # queued again, then run by this worker
    assert lost.worker_ids == ["crashed-worker", "w-batch"]
