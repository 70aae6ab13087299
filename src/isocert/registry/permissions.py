"""Who may use the registry's CertSearch exports and imports: ``accounts.permissions``'
``export_registry`` and ``import_registry`` (superusers too). To anyone else they don't exist
(404)."""

from django.http import Http404

from isocert.accounts.permissions import can


def _has_role(user, capability: str) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or can(user, capability)))


def ensure_registry_exporter(user) -> None:
    """Exports are for CB administrators and reviewers; to anyone else they don't exist."""
    if not _has_role(user, "export_registry"):
        raise Http404("Not CB registry staff")


def ensure_registry_importer(user) -> None:
    """Importing writes the public registry: CB administrators only."""
    if not _has_role(user, "import_registry"):
        raise Http404("Not a CB administrator")


def can_import(user) -> bool:
    return _has_role(user, "import_registry")


def can_export(user) -> bool:
    return _has_role(user, "export_registry")
