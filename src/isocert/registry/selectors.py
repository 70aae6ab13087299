"""Reads of the registry's imports and exports, already scoped to the user (404 to anyone
who may not see them)."""

from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404

from isocert.core.errors import Conflict

from .models import CertificateImport, RegistryExport
from .permissions import (
    can_export,
    can_import,
    ensure_registry_exporter,
    ensure_registry_importer,
)


def registry_exports(*, user):
    ensure_registry_exporter(user)
    return RegistryExport.objects.select_related("file", "created_by")


def registry_export_get(*, user, pk: int) -> RegistryExport:
    try:
        return registry_exports(user=user).get(pk=pk)
    except RegistryExport.DoesNotExist:
        raise Http404("No such export") from None


def ready_export(*, user, pk: int) -> RegistryExport:
    """An export to download: refused while it is being prepared or when it failed."""
    export = registry_export_get(user=user, pk=pk)
    if export.status != RegistryExport.Status.DONE:
        raise Conflict(f"This export is {export.get_status_display().lower()}: there is no "
                       "file to download.", fields={"export_id": "Not ready."})
    return export


def registry_imports(*, user):
    ensure_registry_importer(user)
    return CertificateImport.objects.select_related("created_by")


def registry_import_get(*, user, pk: int) -> CertificateImport:
    try:
        return registry_imports(user=user).get(pk=pk)
    except CertificateImport.DoesNotExist:
        raise Http404("No such import") from None


def export_file_name(export: RegistryExport) -> str:
    """``certsearch-2026-03-01-0300.csv``; ``-ict`` before the extension when the file has the
    optional ICT column (not CertSearch's template)."""
    ict = "-ict" if export.with_ict else ""
    return f"certsearch-{export.created_at:%Y-%m-%d-%H%M}{ict}.{export.format}"


# --- work queues (composed by the portal's work page and dashboard: docs/work-queues.md) ---
# A job queued or running is work in progress; one without progress for
# ``REGISTRY_JOB_TIMEOUT_MINUTES`` since ``queue_since`` (its last heartbeat, else its
# creation) is failed by the daily run (``jobs.fail_stale_registry_jobs``).

def imports_running(*, user) -> QuerySet[CertificateImport]:
    if not can_import(user):
        return CertificateImport.objects.none()
    return (CertificateImport.objects.filter(status__in=[CertificateImport.Status.QUEUED,
                                                         CertificateImport.Status.RUNNING])
            .annotate(queue_since=Coalesce("heartbeat_at", "created_at"))
            .order_by("queue_since", "pk"))


def exports_running(*, user) -> QuerySet[RegistryExport]:
    if not can_export(user):
        return RegistryExport.objects.none()
    return (RegistryExport.objects.filter(status__in=[RegistryExport.Status.QUEUED,
                                                      RegistryExport.Status.RUNNING])
            .annotate(queue_since=Coalesce("heartbeat_at", "created_at"))
            .order_by("queue_since", "pk"))
