"""The registry's jobs as the task worker runs them: writing a CertSearch export and
checking then importing a registry file, with progress, the claim that makes a job run
once, and the failure record when it stops (``jobs``).

**Import** (``run_import``) is all or nothing. The first pass checks every row — required
fields, dates and their order, status, countries, standards, sectors, duplicates inside the
file and against the registry, lengths — and spools the converted rows to a temporary file;
if any row is wrong nothing is written and the import ends *failed* with its row-level error
report. Otherwise the second pass inserts everything in one transaction (``bulk``).
"""

import contextlib
import tempfile
from collections.abc import Iterable, Iterator
from hashlib import sha256
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from isocert.certification.models import (
    Certificate,
)
from isocert.core.audit import record_event
from isocert.core.errors import InvalidInput
from isocert.core.models import StoredFile

from .bulk import (
    _Inserter,
)
from .certsearch import (
    export_columns,
    export_rows,
    write_csv,
    write_xlsx,
)
from .directory import forget_searches
from .jobs import (
    RunGivenUp,
    beat,
    claim,
    fail_stale_registry_jobs,
    settle,
    stopped_reason,
)
from .models import CertificateImport, RegistryExport, audit_type
from .row_checks import (
    MAX_STORED_ERRORS,
    CheckResult,
    _count_lines,
    _Problem,
    _spool_read,
    check_file,
)

CONTENT_TYPES = {
    RegistryExport.Format.CSV: "text/csv",
    RegistryExport.Format.XLSX:
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def store_path(path: Path, content_type: str) -> StoredFile:
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


def queue_export(fmt: str, actor, with_ict: bool = False) -> RegistryExport:
    """A queued export; ``with_ict`` adds the optional column "Remote auditing (ICT)"
    (``certsearch.COL_ICT``, IAF MD 4:2022 §4.2), not part of CertSearch's template."""
    if fmt not in RegistryExport.Format.values:
        raise InvalidInput("Choose xlsx or csv.", fields={"format": "Choose xlsx or csv."})
    fail_stale_registry_jobs()  # a job stuck since its worker died is not left "running"
    export = RegistryExport.objects.create(format=fmt, with_ict=bool(with_ict),
                                           created_by=actor)
    record_event(actor=actor, action="certification.registry.export_queued", obj=export, object_type=audit_type(export),
                 payload={"format": fmt, "with_ict": export.with_ict})
    return export


def create_registry_export(*, fmt: str, with_ict: bool = False, actor) -> RegistryExport:
    """Queue an export and prepare it in this process (the monthly task, commands)."""
    with transaction.atomic():
        export = queue_export(fmt, actor, with_ict)
    return run_registry_export(export_id=export.pk)


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


def _counted(rows: Iterable[list[str]], export: RegistryExport) -> Iterator[list[str]]:
    """``rows``, writing the count (and a heartbeat) to the export row every
    ``EXPORT_PROGRESS_EVERY``."""
    for count, row in enumerate(rows, 1):
        if count % EXPORT_PROGRESS_EVERY == 0:
            beat(export, rows=count)
        yield row


def _write_export(export: RegistryExport) -> RegistryExport:
    fmt = export.format
    columns = export_columns(with_ict=export.with_ict)
    with tempfile.TemporaryDirectory(prefix="isocert-export-") as tmp:
        path = Path(tmp) / f"export.{fmt}"
        rows = _counted(export_rows(with_ict=export.with_ict), export)
        if fmt == RegistryExport.Format.CSV:
            with open(path, "w", encoding="utf-8", newline="") as fh:
                count = write_csv(rows, fh, columns)
        else:
            with open(path, "wb") as fh:
                count = write_xlsx(rows, fh, columns)
        with transaction.atomic():
            settle(export, status=RegistryExport.Status.DONE, rows=count, total_rows=count,
                   file=store_path(path, CONTENT_TYPES[fmt]))
            record_event(actor=export.created_by, action="certification.registry.exported",
                         obj=export, object_type=audit_type(export), payload={"format": fmt, "rows": count,
                                              "sha256": export.file.sha256})
    return export


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
