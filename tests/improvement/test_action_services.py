"""Implementation actions: who may write, the lifecycle, versions, the re-assess hint."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from isocert.core.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent
from isocert.improvement.models import Action
from isocert.improvement.selectors import reassess_hints
from isocert.improvement.services import (
    add_action_evidence,
    add_action_note,
    cancel_action,
    complete_action,
    create_action,
    delete_action,
    reopen_action,
    start_action,
    update_action,
)


def in_days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def action(nordlicht, alice, bob):
    return create_action(organization=nordlicht, actor=alice,
                         title="Write the production control procedure", standard="ISO 9001",
                         clause="8.5.1", owner_id=bob.pk, due_date=in_days(20))


def test_an_editor_creates_an_action_and_it_is_audit_trailed(nordlicht, bob):
    action = create_action(organization=nordlicht, actor=bob, title="Calibrate the gauges",
                           standard="ISO 9001", clause="7.1.5", owner_id=bob.pk,
                           due_date=in_days(10))

    assert (action.status, action.version, action.clause.number, action.owner) == (
        "open", 1, "7.1.5", bob)
    event = AuditEvent.objects.get(action="improvement.action.created", object_id=str(action.pk))
    assert event.payload["clause"] == "7.1.5" and event.organization_id == nordlicht.pk


def test_an_action_needs_no_clause(nordlicht, alice):
    action = create_action(organization=nordlicht, actor=alice, title="Buy a printer")
    assert action.clause is None and action.standard is None and action.owner is None


def test_a_viewer_cannot_create_or_change_actions(nordlicht, vera, action):
    count = Action.objects.count()
    with pytest.raises(NotPermitted):
        create_action(organization=nordlicht, actor=vera, title="Sneaky")
    with pytest.raises(NotPermitted):
        start_action(action=action, actor=vera)
    with pytest.raises(NotPermitted):
        add_action_note(action=action, actor=vera, text="hello")
    assert Action.objects.count() == count
    action.refresh_from_db()
    assert (action.status, action.version) == ("open", 1)


def test_an_outsider_cannot_write_either(action, charlie):
    with pytest.raises(NotPermitted):
        update_action(action=action, actor=charlie, title="Mine now")


def test_the_owner_must_be_a_member(nordlicht, alice, charlie, action):
    with pytest.raises(InvalidInput) as refused:
        create_action(organization=nordlicht, actor=alice,
                      title="x", owner_id=charlie.pk)
    assert "owner_id" in refused.value.fields
    with pytest.raises(InvalidInput):
        update_action(action=action, actor=alice, owner_id=charlie.pk)
    action.refresh_from_db()
    assert action.owner.email == "bob@nordlicht.example"


def test_unknown_clause_and_missing_title_are_refused(nordlicht, alice):
    with pytest.raises(InvalidInput) as refused:
        create_action(organization=nordlicht, actor=alice,
                      title="x", standard="ISO 9001", clause="11.9")
    assert refused.value.fields == {"clause": "ISO 9001 has no clause 11.9."}
    with pytest.raises(InvalidInput) as refused:
        create_action(organization=nordlicht, actor=alice, title=" ")
    assert "title" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        create_action(organization=nordlicht, actor=alice, title="x", clause="8.5")
    assert "standard" in refused.value.fields


def test_the_lifecycle_follows_the_state_machine(action, bob):
    outcome = start_action(action=action, actor=bob, expected_version=1)
    assert (outcome.action.status, outcome.action.version) == ("in_progress", 2)
    with pytest.raises(TransitionNotAllowed):
        start_action(action=action, actor=bob)
    done = complete_action(action=action, actor=bob).action
    assert done.status == "done" and done.completed_at is not None
    with pytest.raises(TransitionNotAllowed):
        cancel_action(action=action, actor=bob)
    reopened = reopen_action(action=action, actor=bob).action
    assert reopened.status == "in_progress" and reopened.completed_at is None
    assert cancel_action(action=action, actor=bob).action.status == "cancelled"
    with pytest.raises(TransitionNotAllowed):
        complete_action(action=action, actor=bob)
    actions = list(AuditEvent.objects.filter(object_type="improvement.action",
                                             object_id=str(action.pk))
                   .order_by("seq").values_list("action", flat=True))
    assert actions == ["improvement.action.created", "improvement.action.in_progress",
                       "improvement.action.done", "improvement.action.in_progress",
                       "improvement.action.cancelled"]


def test_an_open_action_cannot_be_reopened(action, bob):
    with pytest.raises(TransitionNotAllowed, match="only possible when it is"):
        reopen_action(action=action, actor=bob)


def test_a_stale_version_is_refused_and_nothing_changes(action, alice, bob):
    update_action(action=action, actor=alice, title="Renamed", expected_version=1)
    events = AuditEvent.objects.count()

    with pytest.raises(Conflict):
        complete_action(action=action, actor=bob, expected_version=1)
    with pytest.raises(Conflict):
        update_action(action=action, actor=bob, title="Lost update",
                      expected_version=1)

    action.refresh_from_db()
    assert (action.status, action.version, action.title) == ("open", 2, "Renamed")
    assert AuditEvent.objects.count() == events


def test_only_an_owner_deletes_an_action(action, alice, bob):
    with pytest.raises(NotPermitted):
        delete_action(action=action, actor=bob)
    delete_action(action=action, actor=alice)
    assert not Action.objects.filter(pk=action.pk).exists()
    assert AuditEvent.objects.filter(action="improvement.action.deleted").exists()


def test_notes_and_evidence(action, bob):
    from factories import pdf_upload

    note = add_action_note(action=action, actor=bob, text="Draft circulated.")
    linked = add_action_evidence(action=action, actor=bob, title="Procedure in the DMS",
                                 link="https://dms.nordlicht.example/p/85")
    filed = add_action_evidence(action=action, actor=bob, title="Signed procedure",
                                upload=pdf_upload())
    assert note.author == bob and linked.file is None and filed.file.content_type == "application/pdf"
    with pytest.raises(InvalidInput):
        add_action_evidence(action=action, actor=bob, title="Nothing")
    with pytest.raises(InvalidInput):
        add_action_evidence(action=action, actor=bob, title="Bad", link="javascript:alert(1)")
    assert action.evidence.count() == 2


# --- from gap rows, and the re-assess suggestion -------------------------------------------------

def test_a_partial_gap_row_spawns_actions_with_its_clause(nordlicht, alice, gap_row):
    action = create_action(organization=nordlicht, actor=alice,
                           title="Control of production", gap_item_id=gap_row.pk)
    assert (action.gap_item, action.standard.code, action.clause.number) == (
        gap_row, "ISO 9001", "8.5")


def test_a_conforming_gap_row_spawns_no_action(nordlicht, alice, gap_row):
    gap_row.status = "conforms"
    gap_row.save()
    with pytest.raises(InvalidInput, match="partial or nonconforming"):
        create_action(organization=nordlicht, actor=alice,
                      title="x", gap_item_id=gap_row.pk)


def test_another_organizations_gap_row_is_refused(brightpath, charlie, gap_row):
    with pytest.raises(InvalidInput):
        create_action(organization=brightpath, actor=charlie,
                      title="x", gap_item_id=gap_row.pk)


def test_closing_the_last_action_of_a_gap_clause_suggests_reassessing_it(nordlicht, alice,
                                                                        gap_row):
    first = create_action(organization=nordlicht, actor=alice,
                          title="One", gap_item_id=gap_row.pk)
    second = create_action(organization=nordlicht, actor=alice,
                           title="Two", standard="ISO 9001", clause="8.5")

    assert complete_action(action=first, actor=alice).reassess_message == ""
    assert reassess_hints(user=alice, organization=nordlicht) == []
    outcome = cancel_action(action=second, actor=alice)

    assert outcome.reassess_message == ("All actions for 8.5 are closed — re-assess the clause "
                                        "in the gap analysis.")
    assert outcome.reassess_url == reverse("gap_assessment_detail",
                                           args=[gap_row.assessment_id])
    hints = reassess_hints(user=alice, organization=nordlicht)
    assert [(h.standard, h.clause) for h in hints] == [("ISO 9001", "8.5")]

    reopen_action(action=second, actor=alice)
    assert reassess_hints(user=alice, organization=nordlicht) == []


def test_no_suggestion_without_a_gap_row(nordlicht, alice):
    action = create_action(organization=nordlicht, actor=alice,
                           title="One", standard="ISO 9001", clause="7.2")
    assert complete_action(action=action, actor=alice).reassess_message == ""


def test_the_hint_disappears_once_the_row_is_reassessed(nordlicht, alice, gap_row):
    action = create_action(organization=nordlicht, actor=alice,
                           title="One", gap_item_id=gap_row.pk)
    complete_action(action=action, actor=alice)
    gap_row.status = "conforms"
    gap_row.save()
    assert reassess_hints(user=alice, organization=nordlicht) == []
