"""The registry's import and export services: queue, run and retry CertSearch exports
and bulk imports of existing certificates.

An export or import is queued here (``request_registry_export``, ``start_import``, the
retries) and run by the task worker (``runs``: ``run_registry_export``, ``run_import``). The
file layout is in ``certsearch``, the row checks in ``row_checks``, the insert in ``bulk``.
"""

import csv
import io
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F

from isocert.core.audit import record_event
from isocert.core.errors import Conflict, InvalidInput
from isocert.core.models import StoredFile

from .certsearch import (
    _header_problem_of,
    header_problem,
)
from .jobs import (
    EXPORT_LIFECYCLE,
    IMPORT_LIFECYCLE,
    fail_stale_registry_jobs,
)
from .models import CertificateImport, RegistryExport, audit_type
from .permissions import ensure_registry_exporter, ensure_registry_importer
from .runs import (
    create_registry_export,
    queue_export,
    run_import,
    run_registry_export,
    store_path,
)
from .selectors import registry_export_get, registry_import_get
from .tasks import prepare_registry_export, run_certificate_import

__all__ = ["create_registry_export", "run_import", "run_registry_export"]


@transaction.atomic
def request_registry_export(*, fmt: str, with_ict: bool = False, actor) -> RegistryExport:
    """Queue an export of the whole registry in the CertSearch layout (``xlsx`` or
    ``csv``) for the task worker ("Prepare export now", the API): a registry of a million
    certificates takes minutes to write, longer than a request may. ``with_ict`` adds the
    optional column "Remote auditing (ICT)" (IAF MD 4:2022 §4.2; not a CertSearch field)."""
    ensure_registry_exporter(actor)
    export = queue_export(fmt, actor, with_ict)
    transaction.on_commit(lambda: prepare_registry_export.enqueue(export_id=export.pk))
    return export


@transaction.atomic
def retry_registry_export(*, export_id: int, actor) -> RegistryExport:
    """Queue a failed export again (its next ``attempt``) for the task worker. Refused for an
    export that has not failed (409); registry staff only (404 to anyone else)."""
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
        return store_path(Path(tmp.name), "text/csv")


@transaction.atomic
def start_import(*, upload, actor) -> CertificateImport:
    """Check and keep an uploaded registry CSV and queue its import (after commit)."""
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
        stored = store_path(path, "text/csv")
        certificate_import = CertificateImport.objects.create(
            file=stored, file_name=path.name[:255], created_by=actor)
        record_event(actor=actor, action="certification.registry.import_queued",
                     obj=certificate_import, object_type=audit_type(certificate_import),
                     payload={"file_name": path.name, "sha256": stored.sha256})
    return certificate_import
