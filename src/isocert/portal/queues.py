"""The CB's work queues: what each person on the CB's staff has to do next, across apps
(docs/work-queues.md).

Each app that owns the work gives the items already scoped to the user and role (its
selectors: ``reviews_to_start``, ``plans_to_send``, ``decisions_pending`` …), each row
annotated with ``queue_since``, the day its due date counts from. This module turns them
into ``WorkItem``s with a due date, the rule it comes from (an ISO/IEC 17021-1 clause and
the setting that holds the CB's own time target) and the page where the work is done;
orders them overdue first, then by due date; filters and paginates them.

Efficiency: a queue reads its items in one query (``select_related``; on the dashboard its
counts come with its first ids, ``_first_and_counts``), the audits to staff add a fixed
number of queries for their qualified free auditors: nothing is read per item, whatever the
number of items (tests/portal/test_queues.py counts the queries).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Q, QuerySet, Window
from django.urls import reverse
from django.utils import timezone

from isocert.audits.conduct import selectors as conduct_selectors
from isocert.audits.programme import selectors as programme_selectors
from isocert.audits.programme.rules import free_qualified_auditors
from isocert.certification import selectors as certification_selectors
from isocert.core.dates import display_date, display_datetime, start_of_day
from isocert.registration import selectors as registration_selectors
from isocert.registry import selectors as registry_selectors

SUMMARY_ITEMS = 5
PAGE_SIZE = 25


def due_order(due: datetime.date | None, overdue: bool) -> tuple:
    """Where work stands in a list: overdue first, then the earliest due date; undated
    work last."""
    return (not overdue, due is None, due or datetime.date.max)


@dataclass
class WorkItem:
    """One piece of work: what to do on what, for whom, by when, and where — a CB queue's
    item (``queue``, ``kind``, ``rule`` set) or a client's (``portal.client_work``)."""

    title: str
    organization: str
    url: str
    due: datetime.date | None = None
    overdue: bool = False
    queue: str = ""
    kind: str = ""
    rule: str = ""
    detail: str = ""
    auditors: list = field(default_factory=list)

    def sort_key(self):
        """``due_order``, then the title."""
        return (*due_order(self.due, self.overdue), self.title)


@dataclass(frozen=True)
class Context:
    user: object
    today: datetime.date
    now: datetime.datetime


@dataclass(frozen=True)
class Source:
    """One selector feeding a queue.

    ``rows`` gives the scoped queryset (ordered by ``queue_since``); ``days`` the CB's time
    target counted from ``queue_since`` (negative: before it); ``moment`` says that
    ``queue_since`` is a date-time; ``item`` builds the ``WorkItem`` of one row; ``search``
    the fields the text filter reads.
    """

    rows: Callable[[Context], QuerySet]
    item: Callable[[object, datetime.date | None, bool], WorkItem]
    search: tuple[str, ...]
    days: Callable[[], int] = lambda: 0
    moment: bool = False
    minutes: Callable[[], int] | None = None

    def threshold(self, context: Context):
        """Rows whose ``queue_since`` is before this are overdue."""
        if self.minutes is not None:
            return context.now - datetime.timedelta(minutes=self.minutes())
        day = context.today - datetime.timedelta(days=self.days())
        return start_of_day(day) if self.moment else day

    def due(self, since) -> datetime.date | None:
        if since is None:
            return None
        if self.minutes is not None:
            return timezone.localdate(since + datetime.timedelta(minutes=self.minutes()))
        if self.moment:
            since = timezone.localdate(since)
        return since + datetime.timedelta(days=self.days())

    def queryset(self, context: Context, text: str = "", overdue: bool = False) -> QuerySet:
        rows = self.rows(context)
        if text:
            match = Q()
            for path in self.search:
                match |= Q(**{f"{path}__icontains": text})
            rows = rows.filter(match)
        if overdue:
            rows = rows.filter(queue_since__lt=self.threshold(context))
        return rows

    def standing(self, since, threshold) -> tuple[datetime.date | None, bool]:
        """The due date and lateness of an item whose due date counts from ``since``."""
        return self.due(since), since is not None and since < threshold

    def items(self, rows, context: Context) -> list[WorkItem]:
        threshold = self.threshold(context)
        return [self.item(row, *self.standing(row.queue_since, threshold)) for row in rows]


@dataclass(frozen=True)
class Queue:
    name: str
    label: str
    sources: tuple[Source, ...]


# --- what each item says ------------------------------------------------------------------------

ORGANIZATION = ("organization__legal_name", "organization__trading_name")
CYCLE_ORGANIZATION = ("cycle__organization__legal_name", "cycle__organization__trading_name")


def _application_item(queue: str, kind: str, rule: str, detail=None):
    def build(application, due, overdue) -> WorkItem:
        return WorkItem(queue=queue, kind=kind(application) if callable(kind) else kind,
                        title=application.reference, organization=str(application.organization),
                        due=due, rule=rule, overdue=overdue,
                        url=reverse("review_detail", args=[application.pk]),
                        detail=detail(application) if detail else "")
    return build


def _audit_item(queue: str, kind: str, rule: str, url_name: str, detail=None):
    def build(audit, due, overdue) -> WorkItem:
        return WorkItem(queue=queue, kind=kind, title=audit.get_kind_display(),
                        organization=str(audit.cycle.organization), due=due, rule=rule,
                        overdue=overdue, url=reverse(url_name, args=[audit.pk]),
                        detail=detail(audit) if detail else "")
    return build


def _audit_dates(audit) -> str:
    if audit.start_date and audit.end_date:
        return f"{display_date(audit.start_date)} to {display_date(audit.end_date)}"
    return "not scheduled yet"


def _plan_state(audit) -> str:
    plan = getattr(audit, "plan", None)
    state = plan.get_status_display().lower() if plan else "no plan yet"
    return f"{_audit_dates(audit)}; plan: {state}"


def _ca_item(response, due, overdue) -> WorkItem:
    finding = response.finding
    return WorkItem(queue="corrective_actions", kind="Review the client's answer",
                    title=f"Finding #{finding.number} ({finding.get_grade_display().lower()}, "
                          f"clause {finding.clause.number})",
                    organization=str(finding.audit.cycle.organization), due=due,
                    rule="§9.4.10; CORRECTIVE_ACTION_REVIEW_DAYS after the answer",
                    overdue=overdue, url=reverse("finding_detail", args=[finding.pk]),
                    detail=f"{finding.audit.get_kind_display()}, answer v{response.version}")


def _decision_item(audit, due, overdue) -> WorkItem:
    """A decision is taken on the cycle's page, on the audit's report."""
    return WorkItem(queue="decisions", kind="Review and decide", title=audit.get_kind_display(),
                    organization=str(audit.cycle.organization), due=due,
                    rule="§9.5; DECISION_DUE_DAYS after the audit closed", overdue=overdue,
                    url=reverse("cycle_decision", args=[audit.cycle_id]),
                    detail=f"closed {display_date(audit.closed_at)}"
                           if audit.closed_at else "")


def _transfer_item(application, due, overdue) -> WorkItem:
    return WorkItem(queue="decisions", kind="Issue the transferred certificate",
                    title=application.reference, organization=str(application.organization),
                    due=due, rule="IAF MD 2 §2.3; DECISION_DUE_DAYS after the transfer review",
                    overdue=overdue, url=reverse("transfer_issue", args=[application.pk]),
                    detail=f"from {application.current_cb_name}")


def _suspension_item(certificate, due, overdue) -> WorkItem:
    return WorkItem(queue="suspensions", kind="Restore, reduce or withdraw",
                    title=certificate.number,
                    organization=certificate.organization_name, due=due,
                    rule="§9.6.5; suspended at most SUSPENSION_MAX_MONTHS",
                    overdue=overdue, url=reverse("certificate_detail", args=[certificate.pk]),
                    detail="suspension ends" if due else "no end date recorded")


def _import_item(job, due, overdue) -> WorkItem:
    return WorkItem(queue="registry_jobs", kind="Registry import", title=job.file_name,
                    organization="", due=due, overdue=overdue,
                    rule="REGISTRY_JOB_TIMEOUT_MINUTES without progress fails it",
                    url=reverse("registry_import_detail", args=[job.pk]),
                    detail=f"{job.get_status_display()}: {job.processed_rows} of "
                           f"{job.total_rows} rows")


def _export_item(job, due, overdue) -> WorkItem:
    return WorkItem(queue="registry_jobs", kind="CertSearch export",
                    title=f"{job.get_format_display()} of {display_datetime(job.created_at)}",
                    organization="", due=due, overdue=overdue,
                    rule="REGISTRY_JOB_TIMEOUT_MINUTES without progress fails it",
                    url=reverse("registry_exports_table"),
                    detail=f"{job.get_status_display()}: {job.rows} of {job.total_rows} rows")


def _horizon(context: Context) -> datetime.date:
    return context.today + datetime.timedelta(days=settings.WORK_QUEUE_HORIZON_DAYS)


# --- the queues, in the order the dashboard shows them -------------------------------------------

QUEUES: tuple[Queue, ...] = (
    Queue("reviews_to_start", "Reviews to start", (Source(
        rows=lambda c: registration_selectors.reviews_to_start(user=c.user),
        item=_application_item("reviews_to_start", lambda a: (
            "Review the resubmitted application" if a.status == "resubmitted"
            else "Start the review"),
            "§9.1.2; APPLICATION_REVIEW_START_DAYS after the client sent it"),
        search=(*ORGANIZATION, "registration_number"),
        days=lambda: settings.APPLICATION_REVIEW_START_DAYS, moment=True),)),
    Queue("reviews_to_finish", "Reviews to finish", (Source(
        rows=lambda c: registration_selectors.reviews_to_finish(user=c.user),
        item=_application_item("reviews_to_finish", "Register or decline",
                               "§9.1.2; APPLICATION_REVIEW_DAYS after the client sent it"),
        search=(*ORGANIZATION, "registration_number"),
        days=lambda: settings.APPLICATION_REVIEW_DAYS, moment=True),)),
    Queue("quotations", "Audit time and quotations to issue", (Source(
        rows=lambda c: registration_selectors.quotations_to_issue(user=c.user, today=c.today),
        item=_application_item("quotations", lambda a: (
            "Issue the quotation" if a.audit_time_complete else "Determine the audit time"),
            "§9.1.2.2, §5.1.2; QUOTATION_ISSUE_DAYS after registration",
            detail=lambda a: a.registration_number or ""),
        search=(*ORGANIZATION, "registration_number"),
        days=lambda: settings.QUOTATION_ISSUE_DAYS, moment=True),)),
    Queue("audits_to_staff", "Audits to staff", (Source(
        rows=lambda c: programme_selectors.audits_to_staff(user=c.user, until=_horizon(c)),
        item=_audit_item("audits_to_staff", "Name the lead auditor and team",
                         "§9.2.2, §9.2.3.2; AUDIT_PLAN_LEAD_DAYS before the audit",
                         "audit_planning", detail=_audit_dates),
        search=CYCLE_ORGANIZATION, days=lambda: -settings.AUDIT_PLAN_LEAD_DAYS),)),
    Queue("plans_to_send", "Plans to send", (Source(
        rows=lambda c: programme_selectors.plans_to_send(user=c.user),
        item=_audit_item("plans_to_send", "Send the audit plan",
                         "§9.2.3.3; AUDIT_PLAN_LEAD_DAYS before the audit",
                         "audit_planning", detail=_plan_state),
        search=CYCLE_ORGANIZATION, days=lambda: -settings.AUDIT_PLAN_LEAD_DAYS),)),
    Queue("surveillance_due", "Surveillance and recertification due", (Source(
        rows=lambda c: programme_selectors.surveillance_audits_due(user=c.user,
                                                                   until=_horizon(c)),
        item=_audit_item("surveillance_due", "Hold the audit by its due date",
                         "§9.6.2.2: at least once each calendar year, the first within 12 "
                         "months of the decision", "audit_planning", detail=_audit_dates),
        search=CYCLE_ORGANIZATION),)),
    Queue("reports_due", "Reports due", (Source(
        rows=lambda c: conduct_selectors.reports_due(user=c.user),
        item=_audit_item("reports_due", "Issue the audit report",
                         "§9.4.8; AUDIT_REPORT_DAYS after the audit's last day",
                         "audit_report", detail=_audit_dates),
        search=CYCLE_ORGANIZATION, days=lambda: settings.AUDIT_REPORT_DAYS),)),
    Queue("corrective_actions", "Corrective actions to review", (Source(
        rows=lambda c: conduct_selectors.corrective_actions_to_review(user=c.user),
        item=_ca_item,
        search=("finding__audit__cycle__organization__legal_name",
                "finding__audit__cycle__organization__trading_name"),
        days=lambda: settings.CORRECTIVE_ACTION_REVIEW_DAYS, moment=True),)),
    Queue("decisions", "Decisions pending", (
        Source(rows=lambda c: certification_selectors.decisions_pending(user=c.user),
               item=_decision_item,
               search=CYCLE_ORGANIZATION, days=lambda: settings.DECISION_DUE_DAYS,
               moment=True),
        Source(rows=lambda c: certification_selectors.transfers_to_issue(user=c.user),
               item=_transfer_item, search=ORGANIZATION,
               days=lambda: settings.DECISION_DUE_DAYS, moment=True),
    )),
    Queue("suspensions", "Suspensions ending", (Source(
        rows=lambda c: certification_selectors.suspensions_ending(user=c.user),
        item=_suspension_item, search=("organization_name", "number")),)),
    Queue("registry_jobs", "Registry imports and exports running", (
        Source(rows=lambda c: registry_selectors.imports_running(user=c.user),
               item=_import_item, search=("file_name",),
               minutes=lambda: settings.REGISTRY_JOB_TIMEOUT_MINUTES),
        Source(rows=lambda c: registry_selectors.exports_running(user=c.user),
               item=_export_item, search=("format",),
               minutes=lambda: settings.REGISTRY_JOB_TIMEOUT_MINUTES),
    )),
)
QUEUE_NAMES = {queue.name: queue for queue in QUEUES}


def _context(user, today: datetime.date | None = None) -> Context:
    now = timezone.now()
    return Context(user=user, today=today or timezone.localdate(now), now=now)


def _visible(source: Source, context: Context) -> bool:
    """Whether the user's role does this work at all (``none()`` querysets cost nothing)."""
    return not source.rows(context).query.is_empty()


def _finish(items: list[WorkItem], rows_by_item: list) -> list[WorkItem]:
    """What an item needs beyond its row: the qualified free auditors of audits to staff
    (one batch for the whole list)."""
    staff = [row for item, row in zip(items, rows_by_item, strict=True)
             if item.queue == "audits_to_staff"]
    free = free_qualified_auditors(staff)
    for item, row in zip(items, rows_by_item, strict=True):
        if item.queue == "audits_to_staff":
            item.auditors = free.get(row.pk, [])
    return items


def _build(source: Source, rows, context: Context) -> tuple[list[WorkItem], list]:
    rows = list(rows)
    return source.items(rows, context), rows


def _ranked(queryset: QuerySet, threshold, limit: int) -> tuple[list, int, int]:
    """A queue's first ``limit`` rows in its order as (id, ``queue_since``), how many rows
    it has and how many are overdue (``queue_since`` before ``threshold``), in one narrow
    read: the counts are window aggregates over the whole queue, so its rows are filtered
    and sorted once, and the order needs no organization nor wide row. A queue's rows are
    unique, as its pages count them (``Paginator``: ``COUNT(*)``)."""
    ranked = list(queryset.annotate(
        _total=Window(Count("pk")),
        _late=Window(Count("pk", filter=Q(queue_since__lt=threshold))),
    ).values_list("pk", "queue_since", "_total", "_late")[:limit])
    if not ranked:
        return [], 0, 0
    return [(pk, since) for pk, since, _, _ in ranked], ranked[0][2], ranked[0][3]


def _rows(queryset: QuerySet, ids: list) -> list:
    """The rows of ``ids`` in full (the queue's joins and annotations), in that order (no
    query for no ids: Django answers an empty ``IN`` itself)."""
    found = {row.pk: row for row in queryset.filter(pk__in=ids)}
    return [found[pk] for pk in ids]


def _first_and_counts(queryset: QuerySet, threshold) -> tuple[list, int, int]:
    """A queue's ``SUMMARY_ITEMS`` first rows in its order (``_ranked``, then those few
    rows in full), how many rows it has and how many are overdue."""
    ranked, total, late = _ranked(queryset, threshold, SUMMARY_ITEMS)
    return _rows(queryset, [pk for pk, _ in ranked]), total, late


@dataclass
class QueueSummary:
    queue: Queue
    count: int
    overdue: int
    items: list[WorkItem]


def queues_for(user) -> list[Queue]:
    """The queues of the user's roles (none for a client)."""
    context = _context(user)
    return [queue for queue in QUEUES if any(_visible(s, context) for s in queue.sources)]


def dashboard_summary(*, user, today: datetime.date | None = None) -> list[QueueSummary]:
    """Each of the user's queues: how many items, how many overdue, the most urgent few."""
    context = _context(user, today)
    summaries = []
    for queue in QUEUES:
        count = overdue = 0
        items: list[WorkItem] = []
        rows: list = []
        visible = False
        for source in queue.sources:
            queryset = source.rows(context)
            if queryset.query.is_empty():
                continue
            visible = True
            first, total, late = _first_and_counts(queryset, source.threshold(context))
            count += total
            overdue += late
            built, built_rows = _build(source, first, context)
            items += built
            rows += built_rows
        if not visible:
            continue
        order = sorted(range(len(items)), key=lambda i: items[i].sort_key())[:SUMMARY_ITEMS]
        summaries.append(QueueSummary(queue=queue, count=count, overdue=overdue,
                                      items=_finish([items[i] for i in order],
                                                    [rows[i] for i in order])))
    return summaries


class _Merged:
    """The rows of several sources as one list in due order, for ``Paginator``. Each
    source is read narrow only as far as the page reaches (``reach``: the first n items of
    the merged list are among the first n of each source, since each source is ordered by
    ``queue_since`` and its due date and lateness only grow with it), with its count in
    the same read (``_ranked``); then only the rows on the page are read in full. Ties on
    the due date keep the queues' order, then each source's own."""

    def __init__(self, sources: list[Source], context: Context, text: str, overdue: bool,
                 reach: int):
        self.querysets = [
            (source, source.queryset(context, text, overdue).order_by(
                F("queue_since").asc(nulls_last=True), "pk"))
            for source in sources]
        self.context = context
        self.reach = reach
        self._heads = None

    def heads(self, reach: int) -> list[tuple[list, int]]:
        """Each source's first ``reach`` (id, ``queue_since``) and its count."""
        if self._heads is None or reach > self.reach:
            self.reach = max(reach, self.reach)
            self._heads = [_ranked(queryset, source.threshold(self.context), self.reach)[:2]
                           for source, queryset in self.querysets]
        return self._heads

    def count(self) -> int:
        return sum(total for _, total in self.heads(self.reach))

    def __getitem__(self, part: slice) -> list[tuple[WorkItem, object]]:
        ranked = []
        for number, ((source, _), (head, _)) in enumerate(zip(
                self.querysets, self.heads(part.stop), strict=True)):
            threshold = source.threshold(self.context)
            for position, (pk, since) in enumerate(head[:part.stop]):
                ranked.append((due_order(*source.standing(since, threshold)),
                               number, position, pk))
        ranked.sort()
        chosen = ranked[part]
        rows = {}
        for number, (source, queryset) in enumerate(self.querysets):
            ids = [pk for _, n, _, pk in chosen if n == number]
            rows.update(((number, row.pk), (item, row)) for item, row in zip(
                *_build(source, _rows(queryset, ids), self.context), strict=True))
        return [rows[(number, pk)] for _, number, _, pk in chosen]


def work_page(*, user, queue: str = "", text: str = "", overdue: bool = False,
              page: str | int | None = 1, today: datetime.date | None = None) -> Page:
    """One page of the user's work, overdue first then by due date, filtered by queue,
    text (organization, reference, file) and overdue only.

    Paginated in the database: one queue with one source as its queryset; several (all
    queues) merged by ``_Merged``, which reads each source only up to the page's end — so
    the first page costs the same with ten open items or ten thousand (issue #19)."""
    context = _context(user, today)
    queues = [QUEUE_NAMES[queue]] if queue in QUEUE_NAMES else list(QUEUES)
    sources = [s for q in queues for s in q.sources if _visible(s, context)]
    if len(sources) == 1:
        source = sources[0]
        current = Paginator(source.queryset(context, text, overdue), PAGE_SIZE).get_page(page)
        built, rows = _build(source, current.object_list, context)
        current.object_list = _finish(built, rows)
        return current
    try:
        reach = max(1, int(page or 1)) * PAGE_SIZE
    except (TypeError, ValueError):
        reach = PAGE_SIZE   # not a number: the paginator shows the first page
    current = Paginator(_Merged(sources, context, text, overdue, reach),
                        PAGE_SIZE).get_page(page)
    chosen = list(current.object_list)
    current.object_list = _finish([item for item, _ in chosen], [row for _, row in chosen])
    return current
