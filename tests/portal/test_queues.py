"""The CB's work queues on the dashboard and the work page (portal/queues.py): who sees
which queue, what each queue holds and when it is due, the order (overdue first, then by
due date), filters, pagination, and a query count that does not grow with the work."""

import datetime

import pytest
import queues_helpers as make
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from factories import client_for, make_user
from helpers.dates import shown
from programme_helpers import profile_for, relationship

from isocert.audits.models import TeamMember
from isocert.portal import queues
from isocert.portal.queues import dashboard_summary, queues_for, work_page
from isocert.registration.models import Application, Quotation

pytestmark = pytest.mark.django_db
full_rows = queues._rows


def names(user) -> set[str]:
    return {queue.name for queue in queues_for(user)}


def items(user, queue: str = "", **filters):
    return list(work_page(user=user, queue=queue, **filters).object_list)


def days(n: int) -> datetime.date:
    return make.today() + datetime.timedelta(days=n)


# --- who sees which queue -------------------------------------------------------------------------

def test_each_role_sees_the_queues_of_its_work(rita, adam, dora, ada, alice):
    assert names(rita) == {"reviews_to_start", "reviews_to_finish", "quotations",
                           "audits_to_staff", "plans_to_send", "surveillance_due",
                           "reports_due", "registry_jobs"}
    assert names(adam) == {"plans_to_send", "reports_due", "corrective_actions"}
    assert names(dora) == {"decisions", "suspensions"}
    assert names(ada) == {"audits_to_staff", "plans_to_send", "surveillance_due",
                          "reports_due", "suspensions", "registry_jobs"}
    assert names(alice) == set()


def test_an_auditor_does_not_see_decisions_pending(nordlicht, adam, dora):
    make.audit(nordlicht, kind="stage2", status="closed", start=-20, lead=adam, closed=-2)
    assert [i.queue for i in items(dora, "decisions")] == ["decisions"]
    assert items(adam, "decisions") == items(adam) == []


@pytest.mark.parametrize("who", ["alice", "charlie"])
def test_clients_get_404_for_the_work_page_and_no_queue_on_the_dashboard(request, who,
                                                                          nordlicht):
    user = request.getfixturevalue(who)
    make.application(nordlicht, "submitted", days=-3)
    assert client_for(user).get(reverse("work_queue")).status_code == 404
    dashboard = client_for(user).get(reverse("dashboard"))
    assert dashboard.status_code == 200
    assert not dashboard.context.get("work_queues")
    assert b'data-testid="work-queues"' not in dashboard.content


# --- registration: reviews, audit time and quotations ---------------------------------------------

@override_settings(APPLICATION_REVIEW_START_DAYS=5)
def test_reviews_to_start_are_due_days_after_the_client_sent_them(nordlicht, rita):
    late = make.application(nordlicht, "submitted", days=-6)
    fresh = make.application(nordlicht, "submitted", days=-1)
    make.application(nordlicht, "draft", days=-9)
    make.application(nordlicht, "under_review", days=-9, reviewer=rita)
    listed = items(rita, "reviews_to_start")
    assert [i.title for i in listed] == [late.reference, fresh.reference]
    assert [(i.due, i.overdue) for i in listed] == [(days(-1), True), (days(4), False)]
    assert listed[0].url == reverse("review_detail", args=[late.pk])
    assert "§9.1.2" in listed[0].rule and "APPLICATION_REVIEW_START_DAYS" in listed[0].rule


def test_a_resubmitted_application_is_due_from_the_clients_answer(resubmitted, rita):
    Application.objects.filter(pk=resubmitted.pk).update(submitted_at=make.moment(-30))
    [item] = items(rita, "reviews_to_start")
    assert item.kind == "Review the resubmitted application"
    assert item.due == days(5) and not item.overdue


def test_reviews_to_finish_are_the_reviewers_own(nordlicht, rita):
    other = make_user("rhea@cb.example", "Rhea Reviewer", roles=["reviewer"])
    mine = make.application(nordlicht, "under_review", days=-25, reviewer=rita)
    nobodys = make.application(nordlicht, "under_review", days=-3)
    theirs = make.application(nordlicht, "under_review", days=-40, reviewer=other)
    listed = items(rita, "reviews_to_finish")
    assert [i.title for i in listed] == [mine.reference, nobodys.reference]
    assert listed[0].overdue and listed[0].due == days(-5)
    assert theirs.reference in [i.title for i in items(other, "reviews_to_finish")]


def test_audit_time_then_quotation_then_nothing(nordlicht, rita):
    app = make.application(nordlicht, "registered", days=-2)
    [item] = items(rita, "quotations")
    assert item.kind == "Determine the audit time" and item.due == days(8)
    make.complete_audit_time(app)
    [item] = items(rita, "quotations")
    assert item.kind == "Issue the quotation"
    quotation = Quotation.objects.create(
        application=app, number="QUO-T-1", currency="EUR", day_rate=1, vat_percent=0,
        lines=[], net_amount=1, vat_amount=0, total_amount=1, audit_time={},
        valid_until=days(10))
    assert items(rita, "quotations") == []
    # A quotation the client let expire is to be issued again.
    Quotation.objects.filter(pk=quotation.pk).update(valid_until=days(-1))
    [item] = items(rita, "quotations")
    assert item.overdue is False and item.kind == "Issue the quotation"


# --- audit programme: staffing, plans, surveillance --------------------------------------------

@override_settings(AUDIT_PLAN_LEAD_DAYS=14, WORK_QUEUE_HORIZON_DAYS=90)
def test_audits_to_staff_show_the_qualified_free_auditors(nordlicht, rita, adam):
    profile_for(adam, lead=True)
    quinn = make_user("quinn@cb.example", "Quinn Qualified", roles=["auditor"])
    profile_for(quinn)
    ned = make_user("ned@cb.example", "Ned NotQualified", roles=["auditor"])
    profile_for(ned, standards=("ISO 14001",))
    connie = make_user("connie@cb.example", "Connie Consultant", roles=["auditor"])
    profile_for(connie)
    relationship(connie, nordlicht, start=days(-400), end=days(-100))
    busy = make_user("bea@cb.example", "Bea Busy", roles=["auditor"])
    profile_for(busy)
    soon = make.audit(nordlicht, start=10)
    make.audit(nordlicht, start=11, lead=busy)   # Bea is on another audit those days
    make.audit(nordlicht, start=200)             # beyond the horizon
    undated = make.audit(nordlicht)
    listed = items(rita, "audits_to_staff")
    assert [i.detail for i in listed] == [f"{shown(days(10))} to {shown(days(11))}",
                                          "not scheduled yet"]
    assert listed[0].overdue and listed[0].due == days(-4)
    assert listed[0].auditors == [adam, quinn]          # the lead auditor first
    assert listed[1].auditors == [adam, busy, quinn]    # no dates: nobody is busy
    assert listed[0].url == reverse("audit_planning", args=[soon.pk])
    assert undated.pk != soon.pk
    page = client_for(rita).get(reverse("work_queue"), {"queue": "audits_to_staff"})
    assert "2 qualified and free: Adam Auditor, Quinn Qualified" in page.content.decode()


@override_settings(WORK_QUEUE_HORIZON_DAYS=90)
def test_surveillance_is_staffed_once_the_decision_has_dated_it(nordlicht, rita):
    """A new cycle plans its surveillance and recertification audits with no date: their
    due dates follow the certification decision (§9.6.2.2), so they are not to staff yet,
    while the cycle's stage 1 without a date is."""
    stage1 = make.audit(nordlicht)
    cycle = stage1.cycle
    for kind in ("surveillance1", "surveillance2", "recertification"):
        make.audit(nordlicht, kind=kind, in_cycle=cycle)
    assert [i.url for i in items(rita, "audits_to_staff")] == [
        reverse("audit_planning", args=[stage1.pk])]
    dated = make.audit(nordlicht, kind="surveillance1", target=60)
    scheduled = make.audit(nordlicht, kind="recertification", start=30)
    make.audit(nordlicht, kind="surveillance2", target=400)   # beyond the horizon
    assert {i.url for i in items(rita, "audits_to_staff")} == {
        reverse("audit_planning", args=[a.pk]) for a in (stage1, dated, scheduled)}


def test_plans_to_send_until_the_client_holds_the_plan(nordlicht, rita, adam):
    none_yet = make.audit(nordlicht, start=30, lead=adam)
    changes = make.audit(nordlicht, start=40, lead=adam)
    make.plan(changes, "changes_requested")
    make.plan(make.audit(nordlicht, start=35, lead=adam), "sent")
    make.plan(make.audit(nordlicht, start=36, lead=adam), "confirmed")
    make.audit(nordlicht, lead=adam)   # not scheduled: no plan to send yet
    listed = items(rita, "plans_to_send")
    assert [i.url for i in listed] == [reverse("audit_planning", args=[a.pk])
                                       for a in (none_yet, changes)]
    assert listed[0].due == days(16) and "plan: no plan yet" in listed[0].detail
    assert "client asked for changes" in listed[1].detail
    # The lead auditor sees the plans of the audits they lead; another auditor none.
    assert len(items(adam, "plans_to_send")) == 2
    eve = make_user("eve@cb.example", "Eve Auditor", roles=["auditor"])
    TeamMember.objects.create(audit=changes, auditor=eve, role=TeamMember.Role.MEMBER)
    assert items(eve, "plans_to_send") == []


@override_settings(WORK_QUEUE_HORIZON_DAYS=90)
def test_surveillance_due_in_the_horizon_overdue_first(nordlicht, rita, adam):
    late = make.audit(nordlicht, kind="surveillance1", target=-3, lead=adam)
    soon = make.audit(nordlicht, kind="recertification", target=60, lead=adam)
    make.audit(nordlicht, kind="surveillance2", target=120, lead=adam)
    make.audit(nordlicht, kind="surveillance1", target=10, status="closed", lead=adam)
    listed = items(rita, "surveillance_due")
    assert [(i.title, i.due, i.overdue) for i in listed] == [
        ("Surveillance 1", days(-3), True), ("Recertification", days(60), False)]
    assert listed[0].url == reverse("audit_planning", args=[late.pk])
    assert "§9.6.2.2" in listed[0].rule
    assert soon.pk


# --- audit conduct: reports and corrective actions -------------------------------------------

@override_settings(AUDIT_REPORT_DAYS=14)
def test_reports_due_for_the_lead_until_issued(nordlicht, rita, adam):
    late = make.audit(nordlicht, kind="stage2", status="in_progress", start=-20, lead=adam)
    recent = make.audit(nordlicht, kind="surveillance1", status="in_progress", start=-3,
                        lead=adam)
    listed = items(adam, "reports_due")
    assert [(i.url, i.overdue) for i in listed] == [
        (reverse("audit_report", args=[late.pk]), True),
        (reverse("audit_report", args=[recent.pk]), False)]
    assert listed[0].due == days(-19 + 14)
    make.report(late, adam)
    assert [i.url for i in items(adam, "reports_due")] == [
        reverse("audit_report", args=[recent.pk])]
    assert len(items(rita, "reports_due")) == 1      # the programme manager sees every one
    other = make_user("otto@cb.example", "Otto Auditor", roles=["auditor"])
    assert items(other, "reports_due") == []


@override_settings(CORRECTIVE_ACTION_REVIEW_DAYS=10)
def test_corrective_actions_for_the_audit_team(nordlicht, rita, adam):
    old = make.answered_finding(nordlicht, adam, days=-12)
    new = make.answered_finding(nordlicht, adam, days=-1, in_audit=old.audit)
    listed = items(adam, "corrective_actions")
    assert [(i.url, i.due, i.overdue) for i in listed] == [
        (reverse("finding_detail", args=[old.pk]), days(-2), True),
        (reverse("finding_detail", args=[new.pk]), days(9), False)]
    other = make_user("otto@cb.example", "Otto Auditor", roles=["auditor"])
    assert items(other, "corrective_actions") == []
    assert "corrective_actions" not in names(rita)


# --- certification: decisions, transfers, suspensions --------------------------------------------

@override_settings(DECISION_DUE_DAYS=30)
def test_decisions_pending_link_to_the_cycles_decision(nordlicht, dora, adam):
    closed = make.audit(nordlicht, kind="stage2", status="closed", start=-50, lead=adam,
                        closed=-40)
    make.audit(nordlicht, kind="stage1", status="closed", start=-60, lead=adam, closed=-55)
    [item] = items(dora, "decisions")
    assert item.url == reverse("cycle_decision", args=[closed.cycle_id])
    assert item.due == days(-10) and item.overdue


def test_suspensions_ending_by_their_end(nordlicht, dora, ada, rita):
    later = make.suspended_certificate(nordlicht, days=100)
    sooner = make.suspended_certificate(nordlicht, days=20)
    for user in (dora, ada):
        assert [i.title for i in items(user, "suspensions")] == [sooner.number, later.number]
    assert "suspensions" not in names(rita)


# --- registry jobs ---------------------------------------------------------------------------------

@override_settings(REGISTRY_JOB_TIMEOUT_MINUTES=60)
def test_registry_jobs_running_and_stale_ones_overdue(ada, rita):
    stale = make.running_import(ada, minutes_ago=90)
    make.running_export(ada, minutes_ago=5)
    listed = items(ada, "registry_jobs")
    assert [(i.kind, i.overdue) for i in listed] == [("Registry import", True),
                                                     ("CertSearch export", False)]
    assert listed[0].url == reverse("registry_import_detail", args=[stale.pk])
    assert [i.kind for i in items(rita, "registry_jobs")] == ["CertSearch export"]


# --- order, filters, pagination, dashboard -----------------------------------------------------

def test_overdue_first_then_by_due_date_across_queues(nordlicht, rita, adam):
    make.application(nordlicht, "submitted", days=-1)                 # due in 4 days
    make.application(nordlicht, "under_review", days=-30, reviewer=rita)   # overdue
    make.audit(nordlicht, kind="surveillance1", target=2, lead=adam)      # due in 2 days
    make.audit(nordlicht, kind="surveillance2", target=-1, lead=adam)     # overdue
    listed = items(rita)
    assert [i.overdue for i in listed] == [True, True, False, False]
    assert [i.due for i in listed] == sorted(i.due for i in listed[:2]) + sorted(
        i.due for i in listed[2:])
    assert [i.queue for i in listed] == ["reviews_to_finish", "surveillance_due",
                                         "surveillance_due", "reviews_to_start"]


def test_filters_by_queue_text_and_overdue(nordlicht, brightpath, rita):
    mine = make.application(nordlicht, "submitted", days=-9)
    make.application(brightpath, "submitted", days=-1)
    make.application(brightpath, "under_review", days=-1, reviewer=rita)
    assert len(items(rita)) == 3
    assert [i.organization for i in items(rita, text="nordlicht")] == [str(nordlicht)]
    assert [i.title for i in items(rita, overdue=True)] == [mine.reference]
    assert {i.queue for i in items(rita, "reviews_to_finish")} == {"reviews_to_finish"}
    page = client_for(rita).get(reverse("work_queue"), {"q": "Brightpath", "overdue": ""})
    assert page.status_code == 200
    assert [i.organization for i in page.context["page"]] == [str(brightpath)] * 2
    # An unknown queue name is a form error, not a 500; the page shows everything.
    page = client_for(rita).get(reverse("work_queue"), {"queue": "no-such-queue"})
    assert page.status_code == 200 and "queue" in page.context["form"].errors


def test_the_work_page_is_paginated(nordlicht, rita):
    for n in range(30):
        make.application(nordlicht, "submitted", days=-n)
    client = client_for(rita)
    first = client.get(reverse("work_queue"), {"queue": "reviews_to_start"})
    assert len(first.context["page"]) == 25
    second = client.get(reverse("work_queue"), {"queue": "reviews_to_start", "page": 2})
    assert len(second.context["page"]) == 5
    assert first.context["page"].paginator.count == 30
    everything = client.get(reverse("work_queue"), {"page": 2})
    assert len(everything.context["page"]) == 5
    assert "page=1" in second.content.decode() or "Previous" in second.content.decode()


def test_the_pages_across_queues_read_each_queue_only_as_far_as_they_reach(nordlicht, rita,
                                                                          adam, monkeypatch):
    """Across queues the list is merged in the database's order, reading each queue up to
    the page's end: the pages together are every item once, overdue first then by due
    date; the first page reads no more than 25 ids from any queue (with its count, in the
    same read), then only its own 25 rows in full."""
    for n in range(30):
        make.application(nordlicht, "submitted", days=-n)                 # 25 of them overdue
    for n in range(12):
        make.audit(nordlicht, kind="surveillance1", target=n - 3, lead=adam)
    first, second = work_page(user=rita), work_page(user=rita, page=2)
    assert first.paginator.count == 42 and (len(first), len(second)) == (25, 17)
    merged = list(first) + list(second)
    assert len({(i.queue, i.url) for i in merged}) == 42
    keys = [i.sort_key()[:3] for i in merged]
    assert keys == sorted(keys) and merged[0].overdue and not merged[-1].overdue
    with CaptureQueriesContext(connection) as captured:
        work_page(user=rita)
    heads = [q["sql"] for q in captured if "OVER" in q["sql"]]
    assert len(heads) == len(work_page(user=rita).paginator.object_list.querysets)
    assert all("LIMIT 25" in sql for sql in heads), heads
    read_in_full = []

    def rows(queryset, ids):
        read_in_full.extend(ids)
        return full_rows(queryset, ids)

    monkeypatch.setattr(queues, "_rows", rows)
    assert len(work_page(user=rita)) == 25 and len(read_in_full) == 25


def test_the_dashboard_shows_counts_and_the_five_most_urgent(nordlicht, rita):
    oldest = [make.application(nordlicht, "submitted", days=-20 - n) for n in range(3)]
    for n in range(5):
        make.application(nordlicht, "submitted", days=-n)
    [summary] = [s for s in dashboard_summary(user=rita) if s.queue.name == "reviews_to_start"]
    assert (summary.count, summary.overdue) == (8, 3)
    assert len(summary.items) == 5
    assert [i.title for i in summary.items[:3]] == [a.reference for a in reversed(oldest)]
    page = client_for(rita).get(reverse("dashboard")).content.decode()
    assert 'data-queue="reviews_to_start"' in page
    assert f'{reverse("work_queue")}?queue=reviews_to_start' in page
    assert "All reviews to start" in page


# --- the query count does not grow with the work ------------------------------------------------

def _queries(client, url, data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, data or {})
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["rita", "adam", "dora", "ada"])
def test_pages_do_not_grow_their_query_count_with_the_work(request, who, nordlicht, rita,
                                                           adam, dora, ada):
    profile_for(adam, lead=True)
    user = request.getfixturevalue(who)
    client = client_for(user)
    pages = [(reverse("dashboard"), None), (reverse("work_queue"), None),
             *[(reverse("work_queue"), {"queue": queue.name}) for queue in queues_for(user)]]
    counts = {}
    built = 0
    for round_, total in (("few", 2), ("many", 20)):
        while built < total:
            make.one_of_each(nordlicht, rita=rita, adam=adam, dora=dora, ada=ada,
                             offset=built)
            built += 1
        client.get(reverse("dashboard"))   # warm the session and the user's caches
        counts[round_] = [_queries(client, url, data) for url, data in pages]
    # The page across all queues reads each queue's head, then the rows of the queues
    # that have items on it: most when every queue is on the first page (the few items).
    merged = 1
    assert counts["many"][merged] <= counts["few"][merged], counts
    del counts["few"][merged], counts["many"][merged]
    assert counts["few"] == counts["many"], counts
    assert all(n < 60 for n in counts["many"]), counts
