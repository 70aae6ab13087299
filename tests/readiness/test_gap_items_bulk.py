"""Saving several rows of a gap analysis at once (``update_gap_items``): every row checked
first, an invalid one refuses the whole save; stale rows are reported as conflicts and
the others saved; each change audit-trailed as a single row's save is."""

import pytest
from readiness_helpers import answer, row

from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.models import AuditEvent
from isocert.readiness.models import GapItem
from isocert.readiness.services import (
    freeze_gap_assessment,
    start_gap_assessment,
    update_gap_items,
)


def _events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="readiness.gap_item.updated").order_by("seq"))


def _state(assessment) -> list[tuple]:
    return list(assessment.items.order_by("pk").values_list(
        "pk", "status", "justification", "notes", "owner_id", "version", "updated_by"))


def test_several_rows_are_saved_in_one_go_and_each_is_audit_trailed(gap9001, alice, bob):
    answer(gap9001, "7.3", alice, "conforms")
    rows = {n: row(gap9001, n) for n in ("7.1", "7.2", "7.3", "8.3")}

    result = update_gap_items(assessment=gap9001, actor=bob, changes=[
        {"id": rows["7.1"].pk, "version": 1, "status": "partial", "owner_id": alice.pk},
        {"id": rows["7.2"].pk, "version": 1, "notes": "Training matrix 2024."},
        {"id": rows["7.3"].pk, "version": 2, "status": "conforms"},  # its answer already
        {"id": rows["8.3"].pk, "version": 1, "status": "not_applicable",
         "justification": "We build to customer drawings."},
    ])

    assert [i.clause.number for i in result.saved] == ["7.1", "7.2", "8.3"]
    assert [i.clause.number for i in result.unchanged] == ["7.3"]
    assert result.conflicts == []
    saved = {n: row(gap9001, n) for n in rows}
    assert (saved["7.1"].status, saved["7.1"].owner, saved["7.1"].version) == (
        "partial", alice, 2)
    assert (saved["7.2"].notes, saved["7.2"].status, saved["7.2"].updated_by) == (
        "Training matrix 2024.", "not_assessed", bob)
    assert (saved["7.3"].version, saved["7.3"].updated_by) == (2, alice)  # not bumped
    assert saved["8.3"].justification == "We build to customer drawings."
    events = _events()[-3:]
    assert [(e.actor, e.payload["clause"], e.payload["changed"], e.payload["row_version"])
            for e in events] == [(bob, "7.1", ["owner_id", "status"], 2),
                                 (bob, "7.2", ["notes"], 2),
                                 (bob, "8.3", ["justification", "status"], 2)]


def test_a_stale_row_is_a_conflict_and_the_other_rows_are_saved(gap9001, alice, bob):
    rows = {n: row(gap9001, n) for n in ("5.1", "5.2")}
    answer(gap9001, "5.2", alice, "conforms", notes="Policy signed 2024-01.")

    result = update_gap_items(assessment=gap9001, actor=bob, changes=[
        {"id": rows["5.1"].pk, "version": 1, "status": "partial"},
        {"id": rows["5.2"].pk, "version": 1, "status": "nonconforming", "notes": "No policy."},
    ])

    assert [i.clause.number for i in result.saved] == ["5.1"]
    [conflict] = result.conflicts
    assert (conflict.index, conflict.item.pk, conflict.item.version) == (1, rows["5.2"].pk, 2)
    assert "alice@nordlicht.example saved clause 5.2" in conflict.message
    assert "nothing was overwritten" in conflict.message
    assert conflict.fields == {"version": "Stale version."}
    kept = row(gap9001, "5.2")
    assert (kept.status, kept.notes, kept.updated_by) == ("conforms", "Policy signed 2024-01.",
                                                          alice)
    assert row(gap9001, "5.1").status == "partial"
    assert [e.payload["clause"] for e in _events() if e.actor == bob] == ["5.1"]


def test_an_invalid_row_refuses_the_whole_save_naming_each_field(gap9001, alice, charlie):
    rows = {n: row(gap9001, n) for n in ("4.1", "8.3", "9.1")}
    before, events = _state(gap9001), len(_events())

    with pytest.raises(InvalidInput) as refused:
        update_gap_items(assessment=gap9001, actor=alice, changes=[
            {"id": rows["4.1"].pk, "version": 1, "status": "conforms"},
            {"id": rows["8.3"].pk, "version": 1, "status": "not_applicable"},
            {"id": rows["9.1"].pk, "version": 1, "status": "great", "owner_id": charlie.pk},
        ])

    assert refused.value.message == "Nothing was saved: correct clause 8.3, 9.1."
    assert refused.value.fields == {
        "items.1.justification": "Say why this clause does not apply to you.",
        "items.2.status": ("Choose the status: Not assessed, Conforms, Partially conforms, "
                           "Does not conform or Not applicable."),
        "items.2.owner_id": "The owner must be a member of the organization."}
    assert _state(gap9001) == before and len(_events()) == events


def test_rows_of_another_analysis_twice_listed_or_without_version_are_refused(
        gap9001, gap27001, alice, charlie, brightpath):
    theirs = start_gap_assessment(organization=brightpath, standard="ISO 9001", actor=charlie)
    mine = row(gap9001, "4.1")
    before = _state(gap9001)

    with pytest.raises(InvalidInput) as refused:
        update_gap_items(assessment=gap9001, actor=alice, changes=[
            {"id": mine.pk, "version": 1, "status": "conforms"},
            {"id": row(theirs, "4.1").pk, "version": 1, "status": "conforms"},
            {"id": row(gap27001, "4.1").pk, "version": 1, "status": "conforms"},
            {"id": mine.pk, "version": 1, "status": "partial"},
            {"id": row(gap9001, "4.2").pk, "status": "partial"},
            {"version": 1, "status": "partial"},
        ])

    assert refused.value.fields == {
        "items.1.id": "Not a row of this gap analysis.",
        "items.2.id": "Not a row of this gap analysis.",
        "items.3.id": "Clause 4.1 is listed twice.",
        "items.4.version": "Send the version of the row you read.",
        "items.5.id": "Not a row of this gap analysis."}
    assert _state(gap9001) == before
    assert row(theirs, "4.1").status == "not_assessed"


def test_a_frozen_version_a_viewer_and_another_organization_are_refused(
        gap9001, alice, vic, charlie):
    item = row(gap9001, "4.1")
    change = [{"id": item.pk, "version": 1, "status": "conforms"}]

    with pytest.raises(NotPermitted):
        update_gap_items(assessment=gap9001, actor=vic, changes=change)
    with pytest.raises(NotPermitted):
        update_gap_items(assessment=gap9001, actor=charlie, changes=change)
    freeze_gap_assessment(assessment=gap9001, actor=alice)
    with pytest.raises(Conflict, match="frozen and read-only"):
        update_gap_items(assessment=gap9001, actor=alice, changes=change)

    item.refresh_from_db()
    assert (item.status, item.version) == ("not_assessed", 1)
    assert _events() == []


def test_an_excluded_control_stays_not_applicable(gap27001, alice):
    control = row(gap27001, "A.7.5")
    answer(gap27001, "A.7.5", alice, "not_applicable", soa_applicable=False,
           soa_justification="No premises of our own.")

    result = update_gap_items(assessment=gap27001, actor=alice, changes=[
        {"id": control.pk, "version": 2, "notes": "Shared office, landlord's controls."}])

    [saved] = result.saved
    assert (saved.status, saved.soa_applicable, saved.notes) == (
        GapItem.Status.NOT_APPLICABLE, False, "Shared office, landlord's controls.")
