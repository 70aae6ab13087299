"""Freezing a version, starting the next one from it, comparing versions."""

import pytest
from factories import pdf_upload
from readiness_helpers import answer, row

from isocert.core.errors import Conflict, NotPermitted
from isocert.readiness.selectors import compare, trend
from isocert.readiness.services import (
    add_gap_evidence,
    freeze_gap_assessment,
    start_new_version,
)


@pytest.fixture
def frozen(gap9001, alice, bob):
    answer(gap9001, "4.1", alice, "partial", notes="Context drafted.", owner_id=bob.pk)
    answer(gap9001, "5.2", alice, "conforms")
    add_gap_evidence(item=row(gap9001, "4.1"), actor=alice, upload=pdf_upload("context.pdf"))
    return freeze_gap_assessment(assessment=gap9001, actor=bob)


def test_freezing_makes_a_snapshot(frozen, bob):
    assert frozen.status == "frozen" and frozen.frozen_by == bob and frozen.frozen_at


def test_a_viewer_cannot_freeze(gap9001, vic):
    with pytest.raises(NotPermitted):
        freeze_gap_assessment(assessment=gap9001, actor=vic)


def test_a_new_version_copies_every_row_and_leaves_the_old_one_alone(frozen, alice, bob):
    new = start_new_version(assessment=frozen, actor=alice)

    assert (new.number, new.status, new.previous) == (2, "open", frozen)
    assert new.items.count() == frozen.items.count()
    copied = row(new, "4.1")
    assert (copied.status, copied.notes, copied.owner) == ("partial", "Context drafted.", bob)
    assert [e.original_name for e in copied.evidence.all()] == ["context.pdf"]
    assert copied.evidence.get().file_id == row(frozen, "4.1").evidence.get().file_id

    answer(new, "4.1", alice, "conforms", notes="Context reviewed by management.")
    assert row(frozen, "4.1").status == "partial"  # the earlier version stays as it was


def test_new_versions_start_only_from_the_latest_frozen_one(gap9001, frozen, alice):
    with pytest.raises(Conflict, match="Freeze this version"):
        start_new_version(assessment=start_new_version(assessment=frozen, actor=alice),
                          actor=alice)
    with pytest.raises(Conflict, match="open version"):
        start_new_version(assessment=frozen, actor=alice)


def test_compare_lists_the_rows_whose_status_or_notes_differ(frozen, alice):
    new = start_new_version(assessment=frozen, actor=alice)
    answer(new, "4.1", alice, "conforms")
    answer(new, "5.2", alice, "conforms", notes="Policy signed by the CEO.")
    answer(new, "6.1", alice, "nonconforming")

    changes = compare(older=frozen, newer=new)

    assert [(c["clause"].number, c["fields"]) for c in changes] == [
        ("4.1", ["status"]), ("5.2", ["notes"]), ("6.1", ["status"])]
    assert changes[0]["old"].status == "partial" and changes[0]["new"].status == "conforms"


def test_the_trend_has_one_point_per_version(frozen, alice):
    new = start_new_version(assessment=frozen, actor=alice)
    answer(new, "4.1", alice, "conforms")

    points = trend(assessment=new)

    assert [(p["number"], str(p["overall"]["score"])) for p in points] == [
        (1, "75.0"), (2, "100.0")]


def test_the_compare_page_shows_the_changes(frozen, alice, vic, api_client):
    new = start_new_version(assessment=frozen, actor=alice)
    answer(new, "4.1", alice, "conforms", notes="Reviewed.")

    page = api_client(vic).get(f"/gap-analysis/{new.pk}/compare/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "1 row differs" in html
    assert "Partially conforms" in html and "Reviewed." in html
