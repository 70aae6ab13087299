"""Reads on the audit trail: CB administrators browse it all; a client sees its own
organizations' milestones.

The trail itself (recording, hash chain, verification) is ``core.audit``'s; who may
read it is a question for the capability map, so the browsing lives in the portal."""

import datetime

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.functional import cached_property

from isocert.accounts.permissions import can
from isocert.core.audit import SYSTEM_ACTOR
from isocert.core.dates import start_of_day
from isocert.core.models import AuditChainHead, AuditEvent

TRAIL_PAGE_SIZE = 50
# A filtered trail is counted up to this many matching events: "action starts with
# audits." matches a million events of a large CB, and counting them all took seconds.
# Past it the pages stop; a narrower filter (dates, organization) reaches older events.
TRAIL_COUNT_CAP = 10_000
USER_DELETED = "accounts.user.deleted"  # recorded by the admin (accounts.admin_audit)


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
        queryset = queryset.filter(_actor_match(actor))
    if organization_id:
        queryset = queryset.filter(organization_id=organization_id)
    # Days as ranges of the indexed time (in the portal's time zone, as ``__date`` read
    # them): a date of every event computed in a full scan took 16 s on 2.4 million.
    if date_from:
        queryset = queryset.filter(created_at__gte=start_of_day(date_from))
    if date_to:
        queryset = queryset.filter(created_at__lt=start_of_day(date_to + datetime.timedelta(days=1)))
    return queryset


def _actor_match(text: str) -> Q:
    """The events of the people whose e-mail contains ``text`` — the accounts there are and
    those deleted in the admin (by the e-mail their deletion event recorded) — read on the
    indexed actor, as matching every event's label took a second on 2.4 million events; and
    the events labelled "system" when ``text`` is part of it (``core.audit``: those without
    an actor, and those of an account without an e-mail). A person's events are found under
    their e-mail now, also those recorded under an earlier one."""
    system = text.lower() in SYSTEM_ACTOR
    people = Q(email__icontains=text)
    if system:
        people |= Q(email="")
    match = Q(actor_id__in=get_user_model().objects.filter(people).values("pk"))
    deleted = [int(pk) for pk in AuditEvent.objects.filter(
        action=USER_DELETED, payload__user__icontains=text).values_list("object_id", flat=True)]
    if deleted:
        match |= Q(actor_id__in=deleted)
    if system:
        match |= Q(actor__isnull=True)
    return match


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


class _CappedPaginator(Paginator):
    """A filtered trail, counted up to ``TRAIL_COUNT_CAP`` events (a ``COUNT`` over a
    ``LIMIT``: it stops there): ``capped`` says there are more."""

    @cached_property
    def matched(self) -> int:
        """The matching events, counted up to one more than the cap."""
        return self.object_list[:TRAIL_COUNT_CAP + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self.matched, TRAIL_COUNT_CAP)

    @cached_property
    def capped(self) -> bool:
        return self.matched > TRAIL_COUNT_CAP


def audit_event_page(*, user, number, filtered: bool, events: QuerySet[AuditEvent]) -> Page:
    """Page ``number`` of ``events`` (from ``audit_events``); the whole trail, unfiltered,
    is paged by ``seq`` so a deep page costs what the first one does, a filtered one is
    counted up to ``TRAIL_COUNT_CAP`` events (issue #19)."""
    ensure_administrator(user)
    if filtered:
        return _CappedPaginator(events, TRAIL_PAGE_SIZE).get_page(number)
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
