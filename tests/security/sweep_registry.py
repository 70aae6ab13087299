"""The tenant sweep's part for the registry's import and export (CB staff only): which
object each URL parameter names, the objects, and everything a request could change.

Imports and exports are the certification body's, not a client's: Charlie must get 404
from every page and operation, as if they did not exist."""

from django.core.files.uploadedfile import SimpleUploadedFile

from isocert.certification.models import Certificate
from isocert.registry import certsearch, services
from isocert.registry.jobs import claim, fail_stale_registry_jobs
from isocert.registry.models import CertificateImport, RegistryExport

HTML_PK_KINDS = {
    "registry_export_download": "registry_export",
    "registry_import_detail": "registry_import",
    "registry_import_progress": "registry_import",
    "registry_import_errors": "registry_import",
    "registry_export_retry": "registry_export",
    "registry_import_retry": "registry_import",
}
HTML_STAFF_ONLY = {"registry_home", "registry_imports", "registry_export_create",
                   "registry_exports_table"}
API_PARAM_KINDS = {"import_id": "registry_import", "export_id": "registry_export"}
API_STAFF_ONLY = {
    ("post", "/api/v1/registry/imports"),
    ("get", "/api/v1/registry/exports"), ("post", "/api/v1/registry/exports"),
}
API_SAMPLES = {"format": "csv"}


def build_world(*, ada) -> dict[str, list[int]]:
    """A failed and a prepared export, and a failed import — failed as their worker died,
    so each could be retried (the import's task is never run here)."""
    export = services.create_registry_export(fmt="csv", actor=ada)
    stuck = services.request_registry_export(fmt="xlsx", actor=ada)
    header = ",".join(certsearch.COLUMNS) + "\n"
    certificate_import = services.start_import(
        upload=SimpleUploadedFile("registry.csv", header.encode(), content_type="text/csv"),
        actor=ada)
    claim(RegistryExport, stuck.pk)
    claim(CertificateImport, certificate_import.pk)
    fail_stale_registry_jobs(minutes=0)
    return {"registry_export": [stuck.pk, export.pk], "registry_import": [certificate_import.pk]}


def state() -> dict:
    return {
        "certificates": Certificate.objects.count(),
        "imports": sorted(CertificateImport.objects.values_list("pk", "status", "attempt",
                                                                "processed_rows")),
        "exports": sorted(RegistryExport.objects.values_list("pk", "status", "attempt",
                                                             "rows")),
    }
