"""Registry imports and exports whose task worker died: failed after
REGISTRY_JOB_TIMEOUT_MINUTES without progress (with the reason and an audit event), and
retried by the CB — only when failed, only by registry staff."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.http import Http404
from django.utils import timezone
from registry_io_helpers import csv_text, csv_upload, make_certificate, row

from isocert.certification.lifecycle import daily_run
from isocert.certification.models import Certificate
from isocert.core.errors import TransitionNotAllowed
from isocert.core.models import AuditEvent
from isocert.registry import certsearch, row_checks, runs, services
from isocert.registry.jobs import claim, fail_stale_registry_jobs
from isocert.registry.models import CertificateImport, RegistryExport

pytestmark = pytest.mark.django_db


def minutes_ago(minutes: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=minutes)


def running_import(actor, *, last_progress_minutes_ago: int = 0, rows=None) -> CertificateImport:
    """An import a worker took and then, perhaps, died under (its task never ran)."""
    started = services.start_import(upload=csv_upload(csv_text(rows or [row(1), row(2)])),
                                       actor=actor)
    assert claim(CertificateImport, started.pk)
    CertificateImport.objects.filter(pk=started.pk).update(
        heartbeat_at=minutes_ago(last_progress_minutes_ago))
    return CertificateImport.objects.get(pk=started.pk)


def running_export(actor, *, last_progress_minutes_ago: int = 0) -> RegistryExport:
    queued = services.request_registry_export(fmt="csv", actor=actor)
    assert claim(RegistryExport, queued.pk)
    RegistryExport.objects.filter(pk=queued.pk).update(
        heartbeat_at=minutes_ago(last_progress_minutes_ago))
    return RegistryExport.objects.get(pk=queued.pk)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=f"certification.registry.{action}"))


# --- stale jobs are failed -----------------------------------------------------------------------

def test_an_import_without_progress_past_the_timeout_is_failed_with_its_reason(ada, settings):
    settings.REGISTRY_JOB_TIMEOUT_MINUTES = 60
    alive = running_import(ada, last_progress_minutes_ago=59, rows=[row(3)])
    stuck = running_import(ada, last_progress_minutes_ago=61)

    assert fail_stale_registry_jobs() == 1

    stuck.refresh_from_db()
    assert stuck.status == CertificateImport.Status.FAILED and stuck.finished_at is not None
    (problem,) = stuck.errors
    assert problem["line"] == 0 and stuck.error_count == 1
    assert problem["message"].startswith("The task worker stopped working on this import: "
                                         "no progress since ")
    assert "(over 60 minutes); nothing was imported. Retry it." in problem["message"]
    alive.refresh_from_db()
    assert alive.status == CertificateImport.Status.RUNNING
    (event,) = events("import_failed")
    assert (event.actor, event.actor_label, event.object_id) == (None, "system", str(stuck.pk))
    assert event.payload["reason"] == problem["message"] and event.payload["attempt"] == 1
    # Idempotent: nothing more to fail, no second event.
    assert fail_stale_registry_jobs() == 0
    assert len(events("import_failed")) == 1


def test_an_export_without_progress_past_the_timeout_is_failed_with_its_reason(ada, settings):
    settings.REGISTRY_JOB_TIMEOUT_MINUTES = 30
    stuck = running_export(ada, last_progress_minutes_ago=31)

    assert fail_stale_registry_jobs() == 1

    stuck.refresh_from_db()
    assert stuck.status == RegistryExport.Status.FAILED and stuck.file is None
    assert stuck.error.startswith("The task worker stopped working on this export")
    assert "no file was stored" in stuck.error
    (event,) = events("export_failed")
    assert event.payload["reason"] == stuck.error


def test_a_running_job_from_before_heartbeats_counts_from_its_start(ada):
    stuck = running_export(ada)
    RegistryExport.objects.filter(pk=stuck.pk).update(heartbeat_at=None,
                                                      created_at=minutes_ago(120))

    assert fail_stale_registry_jobs() == 1


def test_queued_and_finished_jobs_are_left_alone(ada):
    make_certificate("NL-1")
    done = services.create_registry_export(fmt="csv", actor=ada)
    queued = services.request_registry_export(fmt="csv", actor=ada)
    RegistryExport.objects.filter(pk__in=[done.pk, queued.pk]).update(
        created_at=minutes_ago(600))

    assert fail_stale_registry_jobs(minutes=0) == 0
    assert sorted(RegistryExport.objects.values_list("status", flat=True)) == ["done",
                                                                               "queued"]


def test_the_daily_run_fails_stale_jobs(ada):
    running_import(ada, last_progress_minutes_ago=24 * 60)

    assert daily_run()["registry_jobs_failed"] == 1


def test_queueing_a_new_job_fails_stale_ones_first(ada, django_capture_on_commit_callbacks):
    stuck = running_export(ada, last_progress_minutes_ago=120)

    services.request_registry_export(fmt="xlsx", actor=ada)

    stuck.refresh_from_db()
    assert stuck.status == RegistryExport.Status.FAILED


def test_the_command_fails_every_running_job_with_minutes_0(ada):
    running_import(ada)
    running_export(ada)

    out = io.StringIO()
    call_command("fail-stale-registry-jobs", "--minutes", "0", stdout=out)

    assert out.getvalue().strip() == "Registry jobs failed after 0 minutes without progress: 2."
    assert set(CertificateImport.objects.values_list("status", flat=True)) == {"failed"}
    assert set(RegistryExport.objects.values_list("status", flat=True)) == {"failed"}


def test_a_worker_stopped_during_an_import_leaves_it_failed_not_running(ada, monkeypatch):
    started = services.start_import(upload=csv_upload(csv_text([row(1)])), actor=ada)

    def stopped(*args, **kwargs):
        raise SystemExit(1)  # db_worker's second Ctrl-C / SIGTERM while a task runs

    monkeypatch.setattr(runs, "check_file", stopped)
    with pytest.raises(SystemExit):
        services.run_import(import_id=started.pk)

    started.refresh_from_db()
    assert started.status == CertificateImport.Status.FAILED
    assert started.errors[0]["message"] == ("The task worker was stopped during this import; "
                                            "nothing was imported. Retry it.")


def test_a_worker_stopped_during_an_export_leaves_it_failed_not_running(ada, monkeypatch):
    make_certificate("NL-1")
    export = services.request_registry_export(fmt="csv", actor=ada)

    def stopped(rows, fh, columns):
        raise KeyboardInterrupt

    monkeypatch.setattr(runs, "write_csv", stopped)
    with pytest.raises(KeyboardInterrupt):
        services.run_registry_export(export_id=export.pk)

    export.refresh_from_db()
    assert export.status == RegistryExport.Status.FAILED
    assert export.error.startswith("The task worker was stopped during this export")


# --- a run given up while it was only slow writes nothing ----------------------------------------

def test_an_import_given_up_while_it_ran_stops_and_imports_nothing(ada, monkeypatch):
    monkeypatch.setattr(row_checks, "PROGRESS_EVERY", 1)
    started = services.start_import(upload=csv_upload(csv_text([row(1), row(2), row(3)])),
                                       actor=ada)

    def meanwhile(rows):
        fail_stale_registry_jobs(minutes=0)  # the daily run, deciding it died

    result = services.run_import(import_id=started.pk, progress=meanwhile)

    assert result.status == CertificateImport.Status.FAILED
    assert result.errors[0]["message"].startswith("The task worker stopped working")
    assert not Certificate.objects.exists()
    assert [len(events(a)) for a in ("import_failed", "import_refused", "imported")] == [1, 0,
                                                                                          0]


def test_an_import_given_up_before_it_commits_is_rolled_back(ada, monkeypatch):
    started = services.start_import(upload=csv_upload(csv_text([row(1), row(2)])),
                                       actor=ada)
    real_insert = runs._insert

    def given_up_first(certificate_import, spool, result):
        # Every row checked; the insert's own writes are invisible to others until it
        # commits, so another process may decide meanwhile that the worker died.
        fail_stale_registry_jobs(minutes=0)
        real_insert(certificate_import, spool, result)

    monkeypatch.setattr(runs, "_insert", given_up_first)
    result = services.run_import(import_id=started.pk)

    assert result.status == CertificateImport.Status.FAILED
    assert result.errors[0]["message"].startswith("The task worker stopped working")
    assert not Certificate.objects.exists()
    assert not events("imported")


def test_an_export_given_up_while_it_ran_stores_no_verdict_of_its_own(ada, monkeypatch):
    monkeypatch.setattr(runs, "EXPORT_PROGRESS_EVERY", 1)
    for n in range(3):
        make_certificate(f"NL-{n}")
    export = services.request_registry_export(fmt="csv", actor=ada)
    real = certsearch.write_csv

    def watched(rows, fh, columns):
        def given_up_after_the_first():
            for n, values in enumerate(rows):
                if n == 1:
                    fail_stale_registry_jobs(minutes=0)
                yield values
        return real(given_up_after_the_first(), fh, columns)

    monkeypatch.setattr(runs, "write_csv", watched)
    result = services.run_registry_export(export_id=export.pk)

    assert result.status == RegistryExport.Status.FAILED and result.file is None
    assert result.error.startswith("The task worker stopped working on this export")
    assert not events("exported")


# --- retry --------------------------------------------------------------------------------------

def test_a_failed_import_is_retried_with_the_same_file(ada, django_capture_on_commit_callbacks):
    stuck = running_import(ada, last_progress_minutes_ago=90)
    fail_stale_registry_jobs()

    with django_capture_on_commit_callbacks(execute=True) as queued:
        retried = services.retry_registry_import(import_id=stuck.pk, actor=ada)

    assert len(queued) == 1  # the task, after commit
    assert (retried.pk, retried.attempt) == (stuck.pk, 2)
    retried.refresh_from_db()
    assert retried.status == CertificateImport.Status.DONE and retried.imported_rows == 2
    assert retried.errors == [] and retried.file_id == stuck.file_id
    assert Certificate.objects.count() == 2
    (event,) = events("import_retried")
    assert event.actor == ada and event.payload == {
        "file_name": "registry.csv", "attempt": 2, "failed_with_errors": 1}


def test_a_failed_export_is_retried(rita, django_capture_on_commit_callbacks):
    make_certificate("NL-1")
    stuck = running_export(rita, last_progress_minutes_ago=90)
    fail_stale_registry_jobs()

    with django_capture_on_commit_callbacks(execute=True):
        retried = services.retry_registry_export(export_id=stuck.pk, actor=rita)

    retried.refresh_from_db()
    assert (retried.status, retried.attempt, retried.rows, retried.error) == (
        RegistryExport.Status.DONE, 2, 1, "")
    (event,) = events("export_retried")
    assert event.actor == rita and event.payload["attempt"] == 2
    assert event.payload["failed_because"].startswith("The task worker stopped working")


def test_only_a_failed_job_may_be_retried(ada, django_capture_on_commit_callbacks):
    make_certificate("NL-1")
    queued_import = services.start_import(upload=csv_upload(csv_text([row(1)])),
                                             actor=ada)
    running = running_import(ada, rows=[row(2)])
    with django_capture_on_commit_callbacks(execute=True):
        done_import = services.start_import(upload=csv_upload(csv_text([row(3)])),
                                               actor=ada)
    done_export = services.create_registry_export(fmt="csv", actor=ada)
    running_exp = running_export(ada)
    before = (sorted(CertificateImport.objects.values_list("pk", "status", "attempt")),
              sorted(RegistryExport.objects.values_list("pk", "status", "attempt")))

    for job in (queued_import, running, done_import):
        with pytest.raises(TransitionNotAllowed, match="only possible when it is failed"):
            services.retry_registry_import(import_id=job.pk, actor=ada)
    for job in (done_export, running_exp):
        with pytest.raises(TransitionNotAllowed):
            services.retry_registry_export(export_id=job.pk, actor=ada)

    assert before == (sorted(CertificateImport.objects.values_list("pk", "status", "attempt")),
                      sorted(RegistryExport.objects.values_list("pk", "status", "attempt")))
    assert not events("import_retried") and not events("export_retried")


@pytest.mark.parametrize("who", ["alice", "charlie", "dora", "rita"])
def test_only_administrators_retry_imports(request, ada, who):
    stuck = running_import(ada, last_progress_minutes_ago=90)
    fail_stale_registry_jobs()

    with pytest.raises(Http404):
        services.retry_registry_import(import_id=stuck.pk, actor=request.getfixturevalue(who))
    stuck.refresh_from_db()
    assert (stuck.status, stuck.attempt) == ("failed", 1)


@pytest.mark.parametrize("who", ["alice", "charlie", "dora", "adam"])
def test_only_registry_staff_retry_exports(request, ada, who):
    stuck = running_export(ada, last_progress_minutes_ago=90)
    fail_stale_registry_jobs()

    with pytest.raises(Http404):
        services.retry_registry_export(export_id=stuck.pk, actor=request.getfixturevalue(who))
    assert RegistryExport.objects.get(pk=stuck.pk).attempt == 1


# --- the API and the Registry page --------------------------------------------------------------

def test_the_api_retries_a_failed_import_and_refuses_others(ada, api_client,
                                                            django_capture_on_commit_callbacks):
    stuck = running_import(ada, last_progress_minutes_ago=90)
    fail_stale_registry_jobs()
    client = api_client(ada)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/registry/imports/{stuck.pk}/retry")

    assert response.status_code == 202
    assert {k: response.json()[k] for k in ("id", "status", "attempt", "errors")} == {
        "id": stuck.pk, "status": "queued", "attempt": 2, "errors": []}
    assert client.get(f"/api/v1/registry/imports/{stuck.pk}").json()["status"] == "done"
    again = client.post(f"/api/v1/registry/imports/{stuck.pk}/retry")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"
    assert set(again.json()["error"]) == {"code", "message", "fields"}


def test_the_api_retries_a_failed_export(rita, api_client):
    stuck = running_export(rita, last_progress_minutes_ago=90)
    fail_stale_registry_jobs()

    response = api_client(rita).post(f"/api/v1/registry/exports/{stuck.pk}/retry")

    assert response.status_code == 202
    assert {k: response.json()[k] for k in ("id", "status", "attempt", "error")} == {
        "id": stuck.pk, "status": "queued", "attempt": 2, "error": ""}


@pytest.mark.parametrize("who", ["alice", "charlie"])
def test_the_api_answers_404_to_clients(request, ada, api_client, who):
    stuck_import = running_import(ada, last_progress_minutes_ago=90)
    stuck_export = running_export(ada, last_progress_minutes_ago=90)
    fail_stale_registry_jobs()
    client = api_client(request.getfixturevalue(who))

    for url in (f"/api/v1/registry/imports/{stuck_import.pk}/retry",
                f"/api/v1/registry/exports/{stuck_export.pk}/retry"):
        assert client.post(url).status_code == 404
    assert not events("import_retried") and not events("export_retried")


def test_the_registry_page_offers_retry_for_failed_jobs(ada, api_client,
                                                        django_capture_on_commit_callbacks):
    stuck_import = running_import(ada, last_progress_minutes_ago=90)
    stuck_export = running_export(ada, last_progress_minutes_ago=90)
    fail_stale_registry_jobs()
    client = api_client(ada)

    page = client.get("/cb/registry/").content.decode()
    assert f'action="/cb/registry/exports/{stuck_export.pk}/retry/"' in page
    assert f'action="/cb/registry/imports/{stuck_import.pk}/retry/"' in page
    assert "The task worker stopped working on this export" in page
    detail = client.get(f"/cb/registry/imports/{stuck_import.pk}/").content.decode()
    assert f'action="/cb/registry/imports/{stuck_import.pk}/retry/"' in detail
    assert client.get(f"/cb/registry/exports/{stuck_export.pk}/retry/").status_code == 405

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/cb/registry/exports/{stuck_export.pk}/retry/")
    assert response.status_code == 302
    assert "Export queued again (CSV, attempt 2)." in client.get(
        response["Location"]).content.decode()
    refused = client.post(f"/cb/registry/exports/{stuck_export.pk}/retry/", follow=True)
    assert "only possible when it is failed" in refused.content.decode()

    response = client.post(f"/cb/registry/imports/{stuck_import.pk}/retry/")
    assert response["Location"] == f"/cb/registry/imports/{stuck_import.pk}/"


@pytest.mark.parametrize("who", ["alice", "dora"])
def test_the_retry_pages_answer_404_to_others(request, ada, api_client, who):
    stuck_import = running_import(ada, last_progress_minutes_ago=90)
    stuck_export = running_export(ada, last_progress_minutes_ago=90)
    fail_stale_registry_jobs()
    client = api_client(request.getfixturevalue(who))

    for url in (f"/cb/registry/imports/{stuck_import.pk}/retry/",
                f"/cb/registry/exports/{stuck_export.pk}/retry/"):
        assert client.post(url).status_code == 404
        assert client.get(url).status_code == 404
