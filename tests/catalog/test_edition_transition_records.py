"""The CB's record of an edition transition (IAF transition notices, e.g. IAF MD 26:2023):
recorded and changed by administrators only, with the from-edition superseded and every
refusal leaving nothing behind."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from helpers.api import assert_error
from transition_helpers import NOTICE, deadline_in, new_edition, transition_to_new_edition

from isocert.catalog import selectors
from isocert.catalog.models import EditionTransition, Standard
from isocert.certification import editions
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _nothing_recorded():
    assert not EditionTransition.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="catalog.transition").exists()


def test_no_transition_is_shipped():
    assert not EditionTransition.objects.exists()
    assert selectors.transitions_by_edition() == {}


def test_an_administrator_records_a_transition_and_the_old_edition_is_superseded(ada):
    old, new = new_edition("ISO 9001")
    transition = editions.record_transition(
        from_standard="ISO 9001:2015", to_standard=f"ISO 9001:{new.edition}",
        deadline=deadline_in(400), extra_audit_days="1", extra_audit_percent=10,
        notice_reference="  IAF MD 26:2023  ", actor=ada)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (transition.from_standard, transition.to_standard) == (old, new)
    assert transition.extra_audit_days == Decimal("1")
    assert transition.notice_reference == "IAF MD 26:2023"
    assert transition.created_by == ada
    # New applications and gap analyses take the new edition.
    assert not old.is_current and new.is_current
    assert list(selectors.standards_current().filter(code="ISO 9001")) == [new]
    assert selectors.transition_successor(old) == new
    event = AuditEvent.objects.get(action="catalog.transition.recorded")
    assert event.actor == ada
    assert event.payload["from"] == "ISO 9001:2015"
    assert event.payload["deadline"] == deadline_in(400).isoformat()


@pytest.mark.parametrize("who", ["rita", "dora", "alice"])
def test_only_an_administrator_records_a_transition(request, who):
    old, new = new_edition("ISO 9001")
    with pytest.raises(NotPermitted):
        editions.record_transition(from_standard=old, to_standard=new,
                                   deadline=deadline_in(400), notice_reference=NOTICE,
                                   actor=request.getfixturevalue(who))
    _nothing_recorded()
    old.refresh_from_db()
    assert old.is_current


@pytest.mark.parametrize(("change", "field"), [
    ({"to_standard": "ISO 14001:2015"}, "to_standard"),        # another standard
    ({"to_standard": "ISO 9001:2015"}, "to_standard"),         # the same edition
    ({"to_standard": "ISO 9001:1999"}, "to_standard"),         # no such edition
    ({"deadline": timezone.localdate()}, "deadline"),          # not in the future
    ({"deadline": ""}, "deadline"),
    ({"extra_audit_days": "-1"}, "extra_audit_days"),          # below 0
    ({"extra_audit_days": "0.3"}, "extra_audit_days"),         # not half days
    ({"extra_audit_percent": "101"}, "extra_audit_percent"),
    ({"notice_reference": " "}, "notice_reference"),
])
def test_invalid_transitions_are_refused_and_nothing_changes(ada, change, field):
    old, new = new_edition("ISO 9001")
    data = {"from_standard": old, "to_standard": new, "deadline": deadline_in(400),
            "notice_reference": NOTICE, **change}
    with pytest.raises(InvalidInput) as refused:
        editions.record_transition(actor=ada, **data)
    assert field in refused.value.fields
    _nothing_recorded()
    old.refresh_from_db()
    assert old.is_current


def test_an_older_edition_cannot_supersede_a_newer_one(ada):
    Standard.objects.create(code="ISO 9001", edition="2008", title="Old", is_current=False)
    with pytest.raises(InvalidInput) as refused:
        editions.record_transition(from_standard="ISO 9001:2015", to_standard="ISO 9001:2008",
                                   deadline=deadline_in(400), notice_reference=NOTICE,
                                   actor=ada)
    assert "newer" in refused.value.fields["to_standard"]
    _nothing_recorded()


def test_one_transition_per_superseded_edition(ada):
    first = transition_to_new_edition(ada)
    other = Standard.objects.create(code="ISO 9001", edition="2031", title="Later",
                                    is_current=False)
    with pytest.raises(Conflict) as refused:
        editions.record_transition(from_standard=first.from_standard, to_standard=other,
                                   deadline=deadline_in(500), notice_reference=NOTICE,
                                   actor=ada)
    assert refused.value.code == "transition_exists"
    assert EditionTransition.objects.count() == 1
    assert AuditEvent.objects.filter(action="catalog.transition.recorded").count() == 1


def test_the_deadline_and_extra_time_change_with_an_event(ada):
    transition = transition_to_new_edition(ada)
    later = deadline_in(500)
    editions.change_transition(transition=transition, actor=ada, deadline=later,
                               extra_audit_days="0.5")
    transition.refresh_from_db()
    assert (transition.deadline, transition.extra_audit_days) == (later, Decimal("0.5"))
    event = AuditEvent.objects.get(action="catalog.transition.changed")
    assert set(event.payload["changed"]) == {"deadline", "extra_audit_days"}
    # The same values again change nothing and record nothing.
    editions.change_transition(transition=transition, actor=ada, deadline=later)
    assert AuditEvent.objects.filter(action="catalog.transition.changed").count() == 1


def test_a_change_is_refused_for_others_and_after_the_deadline(ada, rita):
    transition = transition_to_new_edition(ada)
    with pytest.raises(NotPermitted):
        editions.change_transition(transition=transition, actor=rita, deadline=deadline_in(9))
    with pytest.raises(InvalidInput):
        editions.change_transition(transition=transition, actor=ada,
                                   deadline=timezone.localdate() - datetime.timedelta(days=1))
    EditionTransition.objects.filter(pk=transition.pk).update(
        deadline=timezone.localdate() - datetime.timedelta(days=1))
    with pytest.raises(Conflict):
        editions.change_transition(transition=transition, actor=ada, deadline=deadline_in(9))
    assert not AuditEvent.objects.filter(action="catalog.transition.changed").exists()


# --- the administrators' pages ---------------------------------------------------------------------

def test_the_transitions_page_records_a_transition(ada, api_client):
    old, new = new_edition("ISO 9001")
    client = api_client(ada)
    assert client.get("/cb/transitions/").status_code == 200
    response = client.post("/cb/transitions/", {
        "from_standard": old.pk, "to_standard": new.pk, "deadline": deadline_in(300),
        "extra_audit_days": "1", "extra_audit_percent": "0", "notice_reference": NOTICE})
    assert response.status_code == 302
    page = client.get("/cb/transitions/").content.decode()
    assert "ISO 9001:2015" in page and NOTICE in page
    # A second one for the same edition is refused on the form, nothing written.
    again = client.post("/cb/transitions/", {
        "from_standard": old.pk, "to_standard": new.pk, "deadline": deadline_in(300),
        "extra_audit_days": "1", "extra_audit_percent": "0", "notice_reference": NOTICE})
    assert again.status_code == 409
    assert "Already superseded" in again.content.decode()
    assert EditionTransition.objects.count() == 1


def test_the_change_page_moves_the_deadline(ada, api_client):
    transition = transition_to_new_edition(ada)
    client = api_client(ada)
    url = f"/cb/transitions/{transition.pk}/"
    assert client.get(url).status_code == 200
    refused = client.post(url, {"deadline": timezone.localdate(), "extra_audit_days": "0",
                                "extra_audit_percent": "0", "notice_reference": NOTICE})
    assert refused.status_code == 422
    saved = client.post(url, {"deadline": deadline_in(450), "extra_audit_days": "0",
                              "extra_audit_percent": "0", "notice_reference": NOTICE})
    assert saved.status_code == 302
    transition.refresh_from_db()
    assert transition.deadline == deadline_in(450)


@pytest.mark.parametrize("who", ["rita", "dora", "alice", "charlie"])
def test_the_pages_do_not_exist_for_anyone_but_administrators(request, ada, api_client, who):
    transition = transition_to_new_edition(ada)
    client = api_client(request.getfixturevalue(who))
    assert client.get("/cb/transitions/").status_code == 404
    assert client.post("/cb/transitions/", {}).status_code == 404
    assert client.post(f"/cb/transitions/{transition.pk}/",
                       {"deadline": deadline_in(9)}).status_code == 404
    transition.refresh_from_db()
    assert transition.deadline == deadline_in(400)


# --- the API ------------------------------------------------------------------------------------

def test_the_api_records_lists_and_changes_transitions(ada, api_client):
    old, new = new_edition("ISO 9001")
    client = api_client(ada)
    created = client.post("/api/v1/catalog/transitions", {
        "from_standard": "ISO 9001:2015", "to_standard": str(new),
        "deadline": deadline_in(300).isoformat(), "extra_audit_days": "1",
        "notice_reference": NOTICE}, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["from_standard"], body["to_standard"]) == ("ISO 9001:2015", str(new))
    assert [t["id"] for t in client.get("/api/v1/catalog/transitions").json()] == [body["id"]]
    changed = client.patch(f"/api/v1/catalog/transitions/{body['id']}",
                           {"extra_audit_percent": 20}, content_type="application/json")
    assert changed.status_code == 200
    assert changed.json()["extra_audit_percent"] == 20
    assert_error(client.post("/api/v1/catalog/transitions", {
        "from_standard": "ISO 9001:2015", "to_standard": str(new),
        "deadline": deadline_in(300).isoformat(), "notice_reference": NOTICE},
        content_type="application/json"), 409, "transition_exists", "from_standard")
    assert_error(client.patch(f"/api/v1/catalog/transitions/{body['id']}",
                              {"deadline": "2000-01-01"}, content_type="application/json"),
                 422, "invalid", "deadline")


def test_the_api_is_404_for_others(ada, dora, api_client):
    transition = transition_to_new_edition(ada)
    client = api_client(dora)
    assert client.get("/api/v1/catalog/transitions").status_code == 404
    assert client.patch(f"/api/v1/catalog/transitions/{transition.pk}",
                        {"extra_audit_percent": 5},
                        content_type="application/json").status_code == 404
    transition.refresh_from_db()
    assert transition.extra_audit_percent == 0
