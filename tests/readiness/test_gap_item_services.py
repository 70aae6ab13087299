"""Starting a gap analysis and saving its rows: who may, and what is refused."""

import pytest
from readiness_helpers import answer, row

from isocert.catalog.models import Clause
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.models import AuditEvent
from isocert.readiness.models import GapAssessment, GapItem
from isocert.readiness.services import (
    freeze_gap_assessment,
    start_gap_assessment,
    update_gap_item,
)


def test_a_gap_analysis_has_one_row_per_clause_of_the_pinned_edition(gap9001, gap27001):
    clauses = Clause.objects.filter(standard=gap9001.standard)

    assert gap9001.standard.edition == "2015"
    assert gap9001.items.count() == clauses.count() == 75
    assert list(gap9001.items.values_list("clause__number", flat=True)[:3]) == ["4", "4.1", "4.2"]
    assert set(gap9001.items.values_list("status", flat=True)) == {"not_assessed"}
    # ISO/IEC 27001: its clauses and the Annex A controls.
    assert gap27001.items.filter(clause__group="clauses").count() == 41
    assert gap27001.items.filter(clause__group="annex_a").count() == 97
    event = AuditEvent.objects.filter(action="readiness.gap_assessment.started").last()
    assert event.payload["rows"] == 138 and event.object_id == str(gap27001.pk)


def test_only_owners_and_editors_start_one_and_only_one_open_per_standard(
        nordlicht, bob, vic, charlie, gap9001):
    with pytest.raises(NotPermitted):
        start_gap_assessment(organization=nordlicht, standard="ISO 14001", actor=vic)
    with pytest.raises(NotPermitted):
        start_gap_assessment(organization=nordlicht, standard="ISO 14001", actor=charlie)
    with pytest.raises(Conflict, match="already has a gap analysis"):
        start_gap_assessment(organization=nordlicht, standard="ISO 9001", actor=bob)
    with pytest.raises(InvalidInput):
        start_gap_assessment(organization=nordlicht, standard="ISO 9999", actor=bob)

    started = start_gap_assessment(organization=nordlicht, standard="ISO 14001", actor=bob)
    assert started.created_by == bob and started.number == 1
    assert GapAssessment.objects.filter(organization=nordlicht).count() == 2


def test_an_editor_saves_a_row_and_the_save_is_audit_trailed(gap9001, bob, alice):
    item = row(gap9001, "4.1")

    saved = update_gap_item(item=item, actor=bob, expected_version=1, status="partial",
                            notes="Context analysis exists, not reviewed since 2021.",
                            owner_id=alice.pk)

    saved.refresh_from_db()
    assert (saved.status, saved.owner, saved.version, saved.updated_by) == (
        "partial", alice, 2, bob)
    event = AuditEvent.objects.filter(action="readiness.gap_item.updated").last()
    assert event.actor == bob
    assert event.payload["clause"] == "4.1"
    assert event.payload["from"] == "not_assessed" and event.payload["to"] == "partial"
    assert event.payload["changed"] == ["notes", "owner_id", "status"]


def test_a_viewer_cannot_edit_a_row(gap9001, vic):
    item = row(gap9001, "4.1")
    events = AuditEvent.objects.count()

    with pytest.raises(NotPermitted):
        update_gap_item(item=item, actor=vic, status="conforms", expected_version=1)

    item.refresh_from_db()
    assert (item.status, item.version) == ("not_assessed", 1)
    assert AuditEvent.objects.count() == events


def test_a_stale_save_is_refused_and_overwrites_nothing(gap9001, alice, bob):
    item = row(gap9001, "5.2")
    alice_copy, bob_copy = GapItem.objects.get(pk=item.pk), GapItem.objects.get(pk=item.pk)
    update_gap_item(item=alice_copy, actor=alice, expected_version=alice_copy.version,
                    status="conforms", notes="Policy signed 2024-01.")

    with pytest.raises(Conflict) as refused:
        update_gap_item(item=bob_copy, actor=bob, expected_version=bob_copy.version,
                        status="nonconforming", notes="No policy.")

    assert "alice@nordlicht.example saved clause 5.2" in refused.value.message
    assert "nothing was overwritten" in refused.value.message
    assert refused.value.fields == {"version": "Stale version."}
    item.refresh_from_db()
    assert (item.status, item.notes, item.version, item.updated_by) == (
        "conforms", "Policy signed 2024-01.", 2, alice)


def test_the_version_is_required(gap9001, alice):
    with pytest.raises(InvalidInput) as refused:
        update_gap_item(item=row(gap9001, "4.1"), actor=alice, status="conforms",
                        expected_version=None)
    assert "version" in refused.value.fields


def test_not_applicable_needs_a_justification(gap9001, alice):
    item = row(gap9001, "8.3")

    with pytest.raises(InvalidInput) as refused:
        update_gap_item(item=item, actor=alice, status="not_applicable", justification="   ",
                        expected_version=1)
    assert "justification" in refused.value.fields
    item.refresh_from_db()
    assert (item.status, item.version) == ("not_assessed", 1)

    saved = answer(gap9001, "8.3", alice, "not_applicable",
                   justification="We build to customer drawings; no design.")
    assert saved.status == "not_applicable" and saved.version == 2


def test_unknown_status_and_foreign_owner_are_refused(gap9001, alice, charlie):
    with pytest.raises(InvalidInput) as refused:
        update_gap_item(item=row(gap9001, "4.1"), actor=alice, expected_version=1,
                        status="great", owner_id=charlie.pk)
    assert set(refused.value.fields) == {"status", "owner_id"}


def test_a_frozen_version_is_read_only(gap9001, alice):
    answer(gap9001, "4.1", alice, "conforms")
    freeze_gap_assessment(assessment=gap9001, actor=alice)
    item = row(gap9001, "4.2")

    with pytest.raises(Conflict, match="frozen and read-only"):
        update_gap_item(item=item, actor=alice, status="conforms",
                        expected_version=item.version)
    with pytest.raises(Conflict):
        freeze_gap_assessment(assessment=gap9001, actor=alice)
    item.refresh_from_db()
    assert item.status == "not_assessed"


def test_the_soa_is_only_for_annex_a_controls(gap27001, gap9001, alice):
    for assessment, number in ((gap27001, "6.1.3"), (gap9001, "4.1")):
        item = row(assessment, number)
        with pytest.raises(InvalidInput, match="Annex A controls only"):
            update_gap_item(item=item, actor=alice, expected_version=1,
                            soa_applicable=True, soa_justification="x")
        item.refresh_from_db()
        assert item.soa_applicable is None

    control = row(gap27001, "A.5.1")
    saved = update_gap_item(item=control, actor=alice, expected_version=1, status="partial",
                            soa_applicable=True, soa_justification="Required by risk R-3.",
                            soa_implementation="partial")
    assert (saved.soa_applicable, saved.soa_implementation) == (True, "partial")


def test_the_soa_needs_a_justification_and_an_exclusion_makes_the_row_not_applicable(
        gap27001, alice):
    control = row(gap27001, "A.7.5")
    with pytest.raises(InvalidInput) as refused:
        update_gap_item(item=control, actor=alice, expected_version=1,
                        soa_applicable=False)
    assert "soa_justification" in refused.value.fields

    saved = update_gap_item(item=control, actor=alice, expected_version=1, soa_applicable=False,
                            soa_justification="No physical premises of our own.",
                            soa_implementation="implemented")

    assert saved.status == "not_applicable"
    assert saved.justification == "No physical premises of our own."
    assert saved.soa_implementation == ""


def test_implementation_status_needs_an_applicability_decision(gap27001, alice):
    with pytest.raises(InvalidInput) as refused:
        update_gap_item(item=row(gap27001, "A.8.1"), actor=alice, expected_version=1,
                        soa_implementation="implemented")
    assert "soa_implementation" in refused.value.fields


def test_choice_errors_name_the_choices_as_the_page_shows_them(gap27001, alice):
    with pytest.raises(InvalidInput) as refused:
        update_gap_item(item=row(gap27001, "A.5.1"), actor=alice, expected_version=1,
                        status="ok", soa_applicable=True, soa_justification="Risk R-3.",
                        soa_implementation="begun")
    assert refused.value.fields["status"] == (
        "Choose the status: Not assessed, Conforms, Partially conforms, Does not conform or "
        "Not applicable.")
    assert refused.value.fields["soa_implementation"] == (
        "Choose the implementation: Not started, Partly implemented or Implemented.")
