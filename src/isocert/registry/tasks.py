"""Background work of the registry: CertSearch imports and exports.

Tasks take primary keys and call ``runs``, which does the work.
"""

from django.tasks import task

from .runs import create_registry_export, run_import, run_registry_export


@task()
def run_certificate_import(*, import_id: int) -> str:
    """Check and import an uploaded registry file; returns the import's final status."""
    return run_import(import_id=import_id).status


@task()
def prepare_registry_export(*, export_id: int) -> str:
    """Write a queued IAF CertSearch export; returns its final status."""
    return run_registry_export(export_id=export_id).status


@task()
def prepare_certsearch_export() -> int:
    """Prepare this month's IAF CertSearch export (both formats); returns the row count."""
    rows = 0
    for fmt in ("xlsx", "csv"):
        rows = create_registry_export(fmt=fmt, actor=None).rows
    return rows
