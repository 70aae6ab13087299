"""Reads on the audit trail: CB administrators browse it all.

The trail itself (recording, hash chain, verification) is ``core.audit``'s; who may
read it is a question for the capability map, so the browsing lives in the portal."""

from django.db.models import QuerySet
from django.http import Http404

from isocert.accounts.permissions import can
from isocert.core.models import AuditEvent


def ensure_administrator(user) -> None:
    if not (user.is_superuser or can(user, "administer")):
        raise Http404("Not a CB administrator")


def audit_events(*, user, action: str = "", object_type: str = "", actor: str = "",
                 organization_id: int | None = None, date_from=None, date_to=None
                 ) -> QuerySet[AuditEvent]:
    ensure_administrator(user)
    queryset = AuditEvent.objects.order_by("-seq")
    if action:
        queryset = queryset.filter(action__startswith=action)
    if object_type:
        queryset = queryset.filter(object_type=object_type)
    if actor:
        queryset = queryset.filter(actor_label__icontains=actor)
    if organization_id:
        queryset = queryset.filter(organization_id=organization_id)
    if date_from:
        queryset = queryset.filter(created_at__date__gte=date_from)
    if date_to:
        queryset = queryset.filter(created_at__date__lte=date_to)
    return queryset
