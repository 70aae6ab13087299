"""CB administrators browse and filter the audit trail; nobody else sees it."""

import datetime
import zoneinfo

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.urls import reverse
from factories import client_for

from isocert.core.audit import record_event, verify_chain
from isocert.core.models import AuditEvent
from isocert.portal import selectors

pytestmark = pytest.mark.django_db


def test_ada_filters_the_trail_by_action_on_the_page(ada, submitted):
    page = client_for(ada).get(reverse("audit_trail"),
                               {"action": "registration.application.submitted"})
    assert page.status_code == 200
    rows = list(page.context["page"])
    assert [e.action for e in rows] == ["registration.application.submitted"]
    assert rows[0].object_id == str(submitted.pk)


def test_a_bad_date_filter_is_named_and_shows_no_500(ada, submitted):
    page = client_for(ada).get(reverse("audit_trail"), {"date_from": "2026-13-45"})
    assert page.status_code == 200
    assert "date_from" in page.context["form"].errors


@pytest.mark.parametrize("who", ["alice", "rita"])
def test_clients_and_reviewers_get_404_for_the_trail(request, who, submitted):
    user = request.getfixturevalue(who)
    assert client_for(user).get(reverse("audit_trail")).status_code == 404
    response = client_for(user).get("/api/v1/audit-events")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_api_lists_newest_first_and_pages_with_before_seq(ada, submitted):
    client = client_for(ada)
    first = client.get("/api/v1/audit-events", {"limit": 2}).json()
    assert len(first) == 2 and first[0]["seq"] > first[1]["seq"]
    older = client.get("/api/v1/audit-events", {"limit": 2, "before_seq": first[-1]["seq"]}).json()
    assert older and all(e["seq"] < first[-1]["seq"] for e in older)
    only_org = client.get("/api/v1/audit-events",
                          {"organization_id": submitted.organization_id}).json()
    assert only_org and {e["organization_id"] for e in only_org} == {submitted.organization_id}


def _trail_of(count: int, ada):
    with transaction.atomic():
        for n in range(count):
            record_event(actor=ada, action="test.event.recorded", object_type="test.thing",
                         object_id=n)


def test_the_whole_trail_pages_by_sequence_newest_first(ada):
    """Unfiltered, page n is a range of sequence numbers: the same rows as counting and
    skipping would give, without counting or skipping millions of events."""
    _trail_of(55, ada)
    client = client_for(ada)
    newest = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True)

    first, second = client.get(reverse("audit_trail")), client.get(reverse("audit_trail"),
                                                                   {"page": 2})
    assert [e.seq for e in first.context["page"]] == list(newest[:50])
    assert [e.seq for e in second.context["page"]] == list(newest[50:])
    assert first.context["page"].paginator.num_pages == 2
    assert [e.seq for e in client.get(reverse("audit_trail"), {"page": 99}).context["page"]] \
        == list(newest[50:])  # past the end: the last page, as before


def test_a_deep_page_of_the_trail_counts_and_skips_nothing(ada):
    _trail_of(120, ada)
    client = client_for(ada)
    client.get(reverse("audit_trail"), {"page": 3})
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        page = client.get(reverse("audit_trail"), {"page": 3})
    assert [e.seq for e in page.context["page"]] == list(range(AuditEvent.objects.count()
                                                               - 100, 0, -1))
    trail_reads = [sql for sql in statements if "core_auditevent" in sql]
    assert trail_reads and not any("COUNT(" in sql.upper() or "OFFSET" in sql.upper()
                                   for sql in trail_reads)


@override_settings(TIME_ZONE="Europe/Berlin")
def test_the_date_filters_take_whole_days_in_the_portals_time_zone(ada):
    """"From" and "To" are days of the portal's time zone, both included, read as a range
    of the indexed time (not a date computed for every event)."""
    _trail_of(4, ada)
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    times = [datetime.datetime(2026, 3, 9, 23, 59, tzinfo=berlin),     # before From
             datetime.datetime(2026, 3, 10, 0, 0, tzinfo=berlin),      # the first moment
             datetime.datetime(2026, 3, 11, 23, 59, 59, tzinfo=berlin),  # the last day
             datetime.datetime(2026, 3, 12, 0, 0, tzinfo=berlin)]      # after To
    events = list(AuditEvent.objects.filter(action="test.event.recorded").order_by("seq"))
    for event, moment in zip(events, times, strict=True):
        AuditEvent.objects.filter(pk=event.pk).update(created_at=moment)
    page = client_for(ada).get(reverse("audit_trail"),
                               {"date_from": "2026-03-10", "date_to": "2026-03-11"})
    assert [e.seq for e in page.context["page"]] == [events[2].seq, events[1].seq]


def test_a_filtered_trail_is_counted_up_to_the_cap(ada, monkeypatch):
    """A filter matching more than ``TRAIL_COUNT_CAP`` events shows the newest of them and
    says so; the count stops at the cap (a COUNT over a LIMIT)."""
    monkeypatch.setattr(selectors, "TRAIL_COUNT_CAP", 5)
    monkeypatch.setattr(selectors, "TRAIL_PAGE_SIZE", 2)
    _trail_of(8, ada)
    client = client_for(ada)
    newest = list(AuditEvent.objects.filter(action="test.event.recorded")
                  .order_by("-seq").values_list("seq", flat=True))
    first = client.get(reverse("audit_trail"), {"action": "test."})
    assert first.context["page"].paginator.num_pages == 3
    assert 'data-testid="trail-capped"' in first.content.decode()
    last = client.get(reverse("audit_trail"), {"action": "test.", "page": 3})
    assert [e.seq for e in last.context["page"]] == newest[4:5]
    # Under the cap: every match counted, no notice.
    for n in range(3):
        record_event(actor=ada, action="test.other.recorded", object_type="test.thing",
                     object_id=n)
    few = client.get(reverse("audit_trail"), {"action": "test.other."})
    assert few.context["page"].paginator.count == 3
    assert 'data-testid="trail-capped"' not in few.content.decode()
    assert client.get(reverse("audit_trail"), {"actor": "nobody-like-this"}).context[
        "page"].paginator.count == 0


def _actions(page) -> list[str]:
    return [event.action for event in page.context["page"]]


def test_the_actor_filter_finds_the_people_whose_e_mail_contains_the_text(ada, alice, rita):
    """Matched on the people's e-mail (case aside) through the indexed actor, not on the
    label of each of millions of events; the system's events when the text is in "system"."""
    with transaction.atomic():
        record_event(actor=alice, action="test.alice.acted", object_type="test.thing")
        record_event(actor=rita, action="test.rita.acted", object_type="test.thing")
        record_event(actor=None, action="test.system.acted", object_type="test.thing")
    client = client_for(ada)
    assert _actions(client.get(reverse("audit_trail"), {"actor": "NORDLICHT"})) \
        == ["test.alice.acted"]
    assert _actions(client.get(reverse("audit_trail"), {"actor": "@cb.example"})) \
        == ["test.rita.acted"]
    assert _actions(client.get(reverse("audit_trail"), {"actor": "syst", "action": "test."})) \
        == ["test.system.acted"]
    assert [e["action"] for e in client.get("/api/v1/audit-events",
                                            {"actor": "alice@"}).json()] == ["test.alice.acted"]


def test_an_account_without_e_mail_is_recorded_and_found_as_system(ada, alice):
    alice.email = ""
    alice.save(update_fields=["email"])
    with transaction.atomic():
        event = record_event(actor=alice, action="test.blank.acted", object_type="test.thing")
    assert event.actor_label == "system"
    assert _actions(client_for(ada).get(reverse("audit_trail"),
                                        {"actor": "system", "action": "test."})) \
        == ["test.blank.acted"]


def test_a_person_is_found_under_their_e_mail_now_also_for_events_before_a_change(ada, alice):
    with transaction.atomic():
        event = record_event(actor=alice, action="test.before.change", object_type="test.thing")
    alice.email = "alice@nordlicht-aluminium.example"
    alice.save(update_fields=["email"])
    page = client_for(ada).get(reverse("audit_trail"), {"actor": "nordlicht-aluminium"})
    assert _actions(page) == ["test.before.change"]
    assert list(page.context["page"])[0].actor_label == event.actor_label  # as recorded


def test_a_deleted_account_keeps_its_events_chained_and_found_by_its_e_mail(ada, bob):
    """Deleting a user in the admin leaves the actor of their events as recorded: it is
    part of each event's hash (it was set to NULL, breaking the chain)."""
    with transaction.atomic():
        event = record_event(actor=bob, action="test.bob.acted", object_type="test.thing")
    assert client_for(ada).post(f"/admin/accounts/user/{bob.pk}/delete/",
                                {"post": "yes"}).status_code == 302
    event.refresh_from_db()
    assert event.actor_id == bob.pk
    assert verify_chain() is None
    assert _actions(client_for(ada).get(reverse("audit_trail"),
                                        {"actor": "bob@", "action": "test."})) \
        == ["test.bob.acted"]
