"""The registry's import and export services: queue, run and retry CertSearch exports
and bulk imports of existing certificates.

**Import** (``start_import`` → task → ``run_import``) is all or nothing. The first pass
checks every row — required fields, dates and their order, status, countries, standards,
sectors, duplicates inside the file and against the registry, lengths — and spools the
converted rows to a temporary file; if any row is wrong nothing is written and the import
ends *failed* with its row-level error report. Otherwise the second pass inserts
everything in one transaction (``bulk``).

The file layout is in ``certsearch``, the row checks in ``row_checks``, the insert in
``bulk``.
"""

import contextlib
import csv
import io
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from hashlib import sha256
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F

from isocert.certification.models import (
    Certificate,
)
from isocert.core.audit import record_event
from isocert.core.errors import Conflict, InvalidInput
from isocert.core.models import StoredFile

from .bulk import (
    _Inserter,
)
from .certsearch import (
    _header_problem_of,
    export_rows,
    header_problem,
    write_csv,
    write_xlsx,
)
from .directory import forget_searches
from .jobs import (
    EXPORT_LIFECYCLE,
    IMPORT_LIFECYCLE,
    RunGivenUp,
    beat,
    claim,
    fail_stale_registry_jobs,
    settle,
    stopped_reason,
)
from .models import CertificateImport, RegistryExport, audit_type
from .permissions import ensure_registry_exporter, ensure_registry_importer
from .row_checks import (
    MAX_STORED_ERRORS,
    CheckResult,
    _count_lines,
    _Problem,
    _spool_read,
    check_file,
)
from .selectors import registry_export_get, registry_import_get

CONTENT_TYPES = {
    RegistryExport.Format.CSV: "text/csv",
    RegistryExport.Format.XLSX:
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _store_path(path: Path, content_type: str) -> StoredFile:
    """``core.files.store_file`` for a file on disk: hashed and copied in chunks, so a
    registry-sized file is never held in memory."""
    digest, size = sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    stored, _ = StoredFile.objects.get_or_create(
        sha256=digest.hexdigest(), defaults={"size": size, "content_type": content_type})
    if not default_storage.exists(stored.storage_name):
        with open(path, "rb") as fh:
            default_storage.save(stored.storage_name, File(fh))
    return stored


EXPORT_PROGRESS_EVERY = 20_000  # rows between two progress updates of the export row


@transaction.atomic
def request_registry_export(*, fmt: str, actor) -> RegistryExport:
    """Queue an export of the whole registry in the CertSearch layout (``xlsx`` or
    ``csv``) for the task worker ("Prepare export now", the API): a registry of a million
    certificates takes minutes to write, longer than a request may."""
    from .tasks import prepare_registry_export

    ensure_registry_exporter(actor)
    export = _queue_export(fmt, actor)
    transaction.on_commit(lambda: prepare_registry_export.enqueue(export_id=export.pk))
    return export


def create_registry_export(*, fmt: str, actor) -> RegistryExport:
    """Queue an export and prepare it in this process (the monthly task, commands)."""
    with transaction.atomic():
        export = _queue_export(fmt, actor)
    return run_registry_export(export_id=export.pk)


def _queue_export(fmt: str, actor) -> RegistryExport:
    if fmt not in RegistryExport.Format.values:
        raise InvalidInput("Choose xlsx or csv.", fields={"format": "Choose xlsx or csv."})
    fail_stale_registry_jobs()  # a job stuck since its worker died is not left "running"
    export = RegistryExport.objects.create(format=fmt, created_by=actor)
    record_event(actor=actor, action="certification.registry.export_queued", obj=export, object_type=audit_type(export),
                 payload={"format": fmt})
    return export


def run_registry_export(*, export_id: int) -> RegistryExport:
    """Write a queued export: the file is stored and the export marked done in one
    transaction, with its audit event; a failure marks it failed (and is raised). An export
    that is no longer queued is returned as it is (a task run twice); one given up while it
    ran (``registry_jobs``) is returned as the verdict left it."""
    fail_stale_registry_jobs()
    claimed = claim(RegistryExport, export_id, total_rows=Certificate.objects.count())
    export = RegistryExport.objects.select_related("file", "created_by").get(pk=export_id)
    if not claimed:
        return export
    try:
        return _write_export(export)
    except RunGivenUp:
        export.refresh_from_db()
        return export
    except BaseException as exc:  # the worker being stopped, too: not left "running"
        with contextlib.suppress(RunGivenUp), transaction.atomic():
            settle(export, status=RegistryExport.Status.FAILED,
                   error=stopped_reason("export", exc))
            record_event(actor=None, action="certification.registry.export_failed",
                         obj=export, object_type=audit_type(export), payload={"format": export.format, "error": repr(exc)})
        raise


@transaction.atomic
def retry_registry_export(*, export_id: int, actor) -> RegistryExport:
    """Queue a failed export again (its next ``attempt``) for the task worker. Refused for an
    export that has not failed (409); registry staff only (404 to anyone else)."""
    from .tasks import prepare_registry_export

    export = registry_export_get(user=actor, pk=export_id)
    EXPORT_LIFECYCLE.target("retry", export.status)
    # Conditional on what was read: of two retries at once, one queues it.
    if not RegistryExport.objects.filter(pk=export.pk, status=export.status,
                                         attempt=export.attempt).update(
            status=RegistryExport.Status.QUEUED, attempt=F("attempt") + 1, rows=0,
            total_rows=0, error="", heartbeat_at=None, finished_at=None):
        raise Conflict("Someone else retried this export first.")
    record_event(actor=actor, action="certification.registry.export_retried", obj=export, object_type=audit_type(export),
                 payload={"format": export.format, "attempt": export.attempt + 1,
                          "failed_because": export.error})
    export.refresh_from_db()
    transaction.on_commit(lambda: prepare_registry_export.enqueue(export_id=export.pk))
    return export


def _counted(rows: Iterable[list[str]], export: RegistryExport) -> Iterator[list[str]]:
    """``rows``, writing the count (and a heartbeat) to the export row every
    ``EXPORT_PROGRESS_EVERY``."""
    for count, row in enumerate(rows, 1):
        if count % EXPORT_PROGRESS_EVERY == 0:
            beat(export, rows=count)
        yield row


def _write_export(export: RegistryExport) -> RegistryExport:
    fmt = export.format
    with tempfile.TemporaryDirectory(prefix="isocert-export-") as tmp:
        path = Path(tmp) / f"export.{fmt}"
        rows = _counted(export_rows(), export)
        if fmt == RegistryExport.Format.CSV:
            with open(path, "w", encoding="utf-8", newline="") as fh:
                count = write_csv(rows, fh)
        else:
            with open(path, "wb") as fh:
                count = write_xlsx(rows, fh)
        with transaction.atomic():
            settle(export, status=RegistryExport.Status.DONE, rows=count, total_rows=count,
                   file=_store_path(path, CONTENT_TYPES[fmt]))
            record_event(actor=export.created_by, action="certification.registry.exported",
                         obj=export, object_type=audit_type(export), payload={"format": fmt, "rows": count,
                                              "sha256": export.file.sha256})
    return export


# --- import: the upload -------------------------------------------------------------------------

def import_max_bytes() -> int:
    return settings.REGISTRY_IMPORT_MAX_BYTES


def _check_csv_upload(upload) -> None:
    """Refuse what is not a UTF-8 CSV in the registry layout before anything is stored
    (``core.files.check_upload`` accepts documents and images only)."""
    if upload is None:
        raise InvalidInput("Choose a file to upload.", fields={"file": "A file is required."})
    if upload.size is not None and upload.size > import_max_bytes():
        raise InvalidInput("The file is too large.", fields={
            "file": f"Registry files may be at most {import_max_bytes() // (1024 * 1024)} MB."})
    upload.seek(0)
    head = upload.read(64 * 1024)
    upload.seek(0)
    if not head:
        raise InvalidInput("The file is empty.", fields={"file": "The file is empty."})
    if b"\0" in head:
        raise InvalidInput("This kind of file is not accepted.", fields={
            "file": "This is not a text file: upload a CSV (UTF-8)."})
    text = head.decode("utf-8-sig", errors="ignore")
    header = next(csv.reader(io.StringIO(text.splitlines()[0] if text else "")), [])
    problem = header_problem(header)
    if problem:
        raise InvalidInput("The file is not in the registry layout.", fields={"file": problem})


def _store_upload(upload) -> StoredFile:
    with tempfile.NamedTemporaryFile(prefix="isocert-import-") as tmp:
        upload.seek(0)
        shutil.copyfileobj(upload, tmp, 1 << 20)
        tmp.flush()
        return _store_path(Path(tmp.name), "text/csv")


@transaction.atomic
def start_import(*, upload, actor) -> CertificateImport:
    """Check and keep an uploaded registry CSV and queue its import (after commit)."""
    from .tasks import run_certificate_import

    ensure_registry_importer(actor)
    _check_csv_upload(upload)
    fail_stale_registry_jobs()  # a job stuck since its worker died is not left "running"
    stored = _store_upload(upload)
    name = Path(getattr(upload, "name", "") or "registry.csv").name[:255]
    certificate_import = CertificateImport.objects.create(file=stored, file_name=name,
                                                          created_by=actor)
    record_event(actor=actor, action="certification.registry.import_queued",
                 obj=certificate_import, object_type=audit_type(certificate_import), payload={"file_name": name, "sha256": stored.sha256})
    transaction.on_commit(
        lambda: run_certificate_import.enqueue(import_id=certificate_import.pk))
    return certificate_import


@transaction.atomic
def retry_registry_import(*, import_id: int, actor) -> CertificateImport:
    """Queue a failed import again (its next ``attempt``, the same stored file) for the task
    worker — after its worker died, or after the catalogue or the registry changed. Refused
    for an import that has not failed (409); CB administrators only (404 to anyone else)."""
    from .tasks import run_certificate_import

    certificate_import = registry_import_get(user=actor, pk=import_id)
    IMPORT_LIFECYCLE.target("retry", certificate_import.status)
    # Conditional on what was read: of two retries at once, one queues it.
    if not CertificateImport.objects.filter(
            pk=certificate_import.pk, status=certificate_import.status,
            attempt=certificate_import.attempt).update(
            status=CertificateImport.Status.QUEUED, attempt=F("attempt") + 1, total_rows=0,
            processed_rows=0, imported_rows=0, errors=[], error_count=0, heartbeat_at=None,
            finished_at=None):
        raise Conflict("Someone else retried this import first.")
    record_event(actor=actor, action="certification.registry.import_retried",
                 obj=certificate_import, object_type=audit_type(certificate_import),
                 payload={"file_name": certificate_import.file_name,
                          "attempt": certificate_import.attempt + 1,
                          "failed_with_errors": certificate_import.error_count})
    certificate_import.refresh_from_db()
    transaction.on_commit(
        lambda: run_certificate_import.enqueue(import_id=certificate_import.pk))
    return certificate_import


def create_import_from_path(*, path: str | Path, actor) -> CertificateImport:
    """A queued import of a file on disk (the ``import-certificates`` command, the bench):
    no upload size limit, the file is stored like an upload."""
    path = Path(path)
    with open(path, "rb") as fh:
        problem = _header_problem_of(fh)
    if problem:
        raise InvalidInput("The file is not in the registry layout.", fields={"file": problem})
    with transaction.atomic():
        stored = _store_path(path, "text/csv")
        certificate_import = CertificateImport.objects.create(
            file=stored, file_name=path.name[:255], created_by=actor)
        record_event(actor=actor, action="certification.registry.import_queued",
                     obj=certificate_import, object_type=audit_type(certificate_import),
                     payload={"file_name": path.name, "sha256": stored.sha256})
    return certificate_import


def run_import(*, import_id: int, progress=None) -> CertificateImport:
    """Check every row of a queued import; import all of it in one transaction, or nothing.

    A wrong row anywhere refuses the whole file: the import ends *failed* with the first
    1,000 problems (``{line, field, message}``, header = line 1) and the count of all.
    An import that is no longer queued is returned as it is (a task run twice); one given
    up while it ran (``registry_jobs``) is returned as the verdict left it, nothing imported.
    ``progress`` (optional) is called with the rows checked so far.
    """
    fail_stale_registry_jobs()
    claimed = claim(CertificateImport, import_id, total_rows=0, processed_rows=0)
    certificate_import = CertificateImport.objects.select_related("file", "created_by").get(
        pk=import_id)
    if not claimed:
        return certificate_import
    try:
        return _run_claimed(certificate_import, progress)
    except RunGivenUp:
        certificate_import.refresh_from_db()
        return certificate_import
    except BaseException as exc:
        # Not left "running" for ever (the worker being stopped, too): the page and the API
        # show that it stopped.
        with contextlib.suppress(RunGivenUp):
            _refuse(certificate_import, [_Problem(0, "", stopped_reason("import", exc))], 1,
                    {"total_rows": 0, "processed_rows": 0})
        raise


def _run_claimed(certificate_import: CertificateImport, progress) -> CertificateImport:
    total = max(_count_lines(certificate_import.file) - 1, 0)
    beat(certificate_import, total_rows=total)

    def report(rows: int) -> None:
        beat(certificate_import, processed_rows=rows, total_rows=max(total, rows))
        if progress:
            progress(rows)

    with tempfile.TemporaryFile(prefix="isocert-import-") as spool:
        result = check_file(certificate_import.file, spool=spool, progress=report)
        counts = {"total_rows": result.rows, "processed_rows": result.rows}
        if result.problem_count or not result.rows:
            problems = result.problems or [_Problem(1, "", "The file has no certificates.")]
            return _refuse(certificate_import, problems, max(result.problem_count, 1), counts)
        beat(certificate_import, **counts)
        spool.seek(0)
        try:
            _insert(certificate_import, spool, result)
        except IntegrityError as exc:
            # Someone registered the same number while the file was checked.
            return _refuse(certificate_import, [_Problem(0, "", "The registry changed while "
                           f"the file was checked; nothing was imported ({exc}).")], 1, counts)
    certificate_import.refresh_from_db()
    return certificate_import


def _refuse(certificate_import, problems: list[_Problem], count: int, counts: dict):
    with transaction.atomic():
        settle(certificate_import, status=CertificateImport.Status.FAILED,
                errors=[p.as_dict() for p in problems[:MAX_STORED_ERRORS]],
                error_count=count, **counts)
        record_event(actor=certificate_import.created_by,
                     action="certification.registry.import_refused", obj=certificate_import, object_type=audit_type(certificate_import),
                     payload={"file_name": certificate_import.file_name,
                              "rows": counts["total_rows"], "errors": count})
    return certificate_import


def _insert(certificate_import: CertificateImport, spool, result: CheckResult) -> None:
    inserter = _Inserter(file_name=certificate_import.file_name,
                         actor_id=certificate_import.created_by_id, rows=result.rows)
    with transaction.atomic():
        inserter.start()
        for batch in _spool_read(spool):
            inserter.insert_batch(batch)
        inserter.finish()
        # Given up meanwhile (``RunGivenUp``): the whole insert is rolled back.
        settle(certificate_import, status=CertificateImport.Status.DONE,
                imported_rows=result.rows, errors=[], error_count=0)
        record_event(actor=certificate_import.created_by,
                     action="certification.registry.imported", obj=certificate_import, object_type=audit_type(certificate_import),
                     payload={"file_name": certificate_import.file_name,
                              "certificates": result.rows, "sites": result.sites,
                              "standards": result.standards})
    # Committed (the task and the command run the import outside any transaction): the new
    # certificates are in the directory, cached searches on every server are stale.
    forget_searches()
    inserter.vacuum()
