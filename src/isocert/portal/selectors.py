"""Reads on the audit trail: CB administrators browse it all; a client sees its own
organizations' milestones.

The trail itself (recording, hash chain, verification) is ``core.audit``'s; who may
read it is a question for the capability map, so the browsing lives in the portal."""

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.functional import cached_property

from isocert.accounts.permissions import can
from isocert.core.models import AuditChainHead, AuditEvent

TRAIL_PAGE_SIZE = 50


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


class _WholeTrailPaginator(Paginator):
    """The unfiltered trail, newest first, without ``COUNT(*)`` or ``OFFSET`` over millions
    of events: ``seq`` runs from 1 without gaps (the chain's own rule, checked by
    ``isocert verify-audit-trail``), so the head's ``last_seq`` is the count and page n is a
    range of ``seq`` read on its unique index."""

    @cached_property
    def count(self) -> int:
        head = AuditChainHead.objects.filter(pk=1).values_list("last_seq", flat=True).first()
        return head or 0

    def page(self, number) -> Page:
        number = self.validate_number(number)
        top = self.count - (number - 1) * self.per_page
        events = list(AuditEvent.objects.filter(seq__gt=max(0, top - self.per_page),
                                                seq__lte=top).order_by("-seq"))
        return self._get_page(events, number, self)


def audit_event_page(*, user, number, filtered: bool, events: QuerySet[AuditEvent]) -> Page:
    """Page ``number`` of ``events`` (from ``audit_events``); the whole trail, unfiltered,
    is paged by ``seq`` so a deep page costs what the first one does (issue #19)."""
    ensure_administrator(user)
    if filtered:
        return Paginator(events, TRAIL_PAGE_SIZE).get_page(number)
    return _WholeTrailPaginator(events, TRAIL_PAGE_SIZE).get_page(number)


# The milestones a client sees in "Recent events" on the dashboard. The CB's working steps
# (reviews' notes, team changes, impartiality declarations, checklists) are not the
# client's to read, so the list names what to show rather than what to hide.
CLIENT_MILESTONES = (
    "registration.application.", "registration.quotation.", "audits.cycle.created",
    "audits.plan.sent", "audits.plan.confirmed", "audits.plan.changes_requested",
    "audits.audit.scheduled", "audits.audit.started", "audits.audit.closed",
    "audits.audit.cancelled", "audits.report.issued", "audits.report.revised",
    "audits.finding.recorded", "certification.decision.", "certification.certificate.",
)


def recent_milestones(*, organization_ids: list[int], limit: int = 10) -> list[AuditEvent]:
    """The latest client-visible events of these organizations, newest first, each with a
    ``label`` ("Application submitted")."""
    visible = Q()
    for prefix in CLIENT_MILESTONES:
        visible |= Q(action__startswith=prefix)
    events = list(AuditEvent.objects.filter(visible, organization_id__in=organization_ids)
                  .order_by("-seq")[:limit])
    for event in events:
        thing, _, verb = event.action.partition(".")[2].rpartition(".")
        event.label = f"{thing.replace('_', ' ').capitalize()} {verb.replace('_', ' ')}"
    return events
