"""The registry's background jobs — CertSearch imports and exports — as the task worker runs
them, and what happens when the worker dies under one.

Both kinds share one lifecycle::

    queued ──start──▶ running ──finish──▶ done
                         │
                         └──fail──▶ failed ──retry──▶ queued (attempt + 1)

*start* is a claim (``claim``): one conditional UPDATE, so a task delivered twice runs once.
While it runs, the worker reports progress (``beat``), which also stamps ``heartbeat_at``;
its last write (``settle``) ends the attempt. Every write of a run is conditional on the job
still being *running* in the same ``attempt``: a run that was given up — failed as stale, and
perhaps retried since — finds nothing to write and stops (``RunGivenUp``), rolling back what
it had not committed (an import's certificates), so a worker that was only slow never
overwrites the verdict or a newer attempt.

A worker that dies (killed, out of memory, the machine restarted) leaves its job *running*.
``fail_stale_registry_jobs`` fails every job without progress for
``REGISTRY_JOB_TIMEOUT_MINUTES``, with the reason and an audit event; it runs in the daily
``certificate-lifecycle`` run, whenever a registry job is queued or a worker starts one, and
as ``isocert fail-stale-registry-jobs`` (``--minutes 0`` when the only worker is being
(re)started: nothing can be running then). Reading the Registry page never writes.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from isocert.core.audit import record_event
from isocert.core.dates import display_datetime
from isocert.core.statemachine import StateMachine

from .models import CertificateImport, RegistryExport, audit_type

# Imports and exports have the same status values (their labels differ).
S = CertificateImport.Status
_TABLE = {
    "start": ({S.QUEUED}, S.RUNNING),
    "finish": ({S.RUNNING}, S.DONE),
    "fail": ({S.RUNNING}, S.FAILED),
    "retry": ({S.FAILED}, S.QUEUED),
}
IMPORT_LIFECYCLE = StateMachine("import", _TABLE, labels=dict(CertificateImport.Status.choices))
EXPORT_LIFECYCLE = StateMachine("export", _TABLE, labels=dict(RegistryExport.Status.choices))

JOB_KINDS = {CertificateImport: "import", RegistryExport: "export"}


class RunGivenUp(Exception):  # noqa: N818 — a signal to stop, not an error to report
    """This run is no longer its job's current attempt (failed as stale, or retried)."""


def claim(model, pk: int, **fields) -> bool:
    """*start*: the queued job ``pk`` is now running here (False: it was not queued)."""
    return bool(model.objects.filter(pk=pk, status=S.QUEUED).update(
        status=S.RUNNING, heartbeat_at=timezone.now(), **fields))


def _current(job):
    return type(job).objects.filter(pk=job.pk, status=S.RUNNING, attempt=job.attempt)


def beat(job, **fields) -> None:
    """Progress of the running attempt (``fields``), with a fresh heartbeat."""
    if not _current(job).update(heartbeat_at=timezone.now(), **fields):
        raise RunGivenUp(job.pk)


def settle(job, **fields) -> None:
    """*finish* or *fail*: the running attempt's last write (``fields`` include the status);
    also set on ``job``."""
    fields["finished_at"] = timezone.now()
    if not _current(job).update(**fields):
        raise RunGivenUp(job.pk)
    for name, value in fields.items():
        setattr(job, name, value)


def stopped_reason(kind: str, exc: BaseException) -> str:
    """Why a run ended by an exception, in words for the Registry page."""
    nothing = "nothing was imported" if kind == "import" else "no file was stored"
    if not isinstance(exc, Exception):  # SystemExit, KeyboardInterrupt: the worker stopped
        return f"The task worker was stopped during this {kind}; {nothing}. Retry it."
    return f"The {kind} stopped: {exc!r}; {nothing}."


def fail_stale_registry_jobs(*, minutes: int | None = None,
                             now: datetime.datetime | None = None) -> int:
    """*fail* every running import and export without progress for ``minutes`` (default
    ``REGISTRY_JOB_TIMEOUT_MINUTES``; 0: every running one), with the reason and an audit
    event each; returns how many. Idempotent."""
    minutes = settings.REGISTRY_JOB_TIMEOUT_MINUTES if minutes is None else minutes
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(minutes=minutes)
    failed = 0
    for model in JOB_KINDS:
        stale = model.objects.filter(status=S.RUNNING).filter(
            Q(heartbeat_at__lte=cutoff) | Q(heartbeat_at=None, created_at__lte=cutoff))
        for job in stale.order_by("pk"):
            failed += _give_up(job, minutes, now)
    return failed


def _give_up(job, minutes: int, now: datetime.datetime) -> int:
    kind = JOB_KINDS[type(job)]
    since = job.heartbeat_at or job.created_at
    nothing = "nothing was imported" if kind == "import" else "no file was stored"
    reason = (f"The task worker stopped working on this {kind}: no progress since "
              f"{display_datetime(since)} (over {minutes} minutes); {nothing}. Retry it.")
    fields = ({"errors": [{"line": 0, "field": "", "message": reason}], "error_count": 1}
              if kind == "import" else {"error": reason})
    with transaction.atomic():
        # Only if nothing moved since it was read: a beat in between keeps it running.
        if not type(job).objects.filter(
                pk=job.pk, status=S.RUNNING, attempt=job.attempt,
                heartbeat_at=job.heartbeat_at).update(status=S.FAILED, finished_at=now,
                                                      **fields):
            return 0
        record_event(actor=None, action=f"certification.registry.{kind}_failed", obj=job, object_type=audit_type(job),
                     payload={"reason": reason, "attempt": job.attempt,
                              "last_progress": since.isoformat()})
    return 1
