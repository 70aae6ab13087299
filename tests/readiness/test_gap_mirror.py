"""Harmonized-structure clauses answered once, mirrored to the other open gap analyses."""

import pytest
from readiness_helpers import answer, row

from isocert.core.errors import InvalidInput, NotPermitted
from isocert.readiness.services import (
    freeze_gap_assessment,
    mirror_gap_item,
    start_gap_assessment,
    update_gap_item,
)


def test_mirroring_copies_to_other_open_assessments_only(nordlicht, alice, gap9001, gap27001):
    frozen14001 = start_gap_assessment(organization=nordlicht, standard="ISO 14001", actor=alice)
    freeze_gap_assessment(assessment=frozen14001, actor=alice)
    source = answer(gap9001, "5.1", alice, "partial", notes="Top management briefed.",
                    owner_id=alice.pk)

    targets = mirror_gap_item(item=source, actor=alice)

    assert [t.assessment_id for t in targets] == [gap27001.pk]
    mirrored = row(gap27001, "5.1")
    assert (mirrored.status, mirrored.notes, mirrored.owner, mirrored.mirrored_from) == (
        "partial", "Top management briefed.", alice, source)
    assert mirrored.version == 2
    assert row(frozen14001, "5.1").status == "not_assessed"  # frozen: untouched
    assert row(gap27001, "5.2").status == "not_assessed"  # other clauses: untouched


def test_a_mirrored_row_stays_editable_per_standard(gap9001, gap27001, alice):
    source = answer(gap9001, "7.5.1", alice, "conforms")
    mirror_gap_item(item=source, actor=alice)
    mirrored = row(gap27001, "7.5.1")

    edited = update_gap_item(item=mirrored, actor=alice, expected_version=mirrored.version,
                             status="partial", notes="SoA not yet controlled.")

    assert edited.status == "partial" and edited.mirrored_from is None
    assert row(gap9001, "7.5.1").status == "conforms"


def test_only_assessed_harmonized_clauses_are_mirrored_by_editors(gap9001, gap27001, alice,
                                                                 vic):
    with pytest.raises(InvalidInput, match="Assess the row"):
        mirror_gap_item(item=row(gap9001, "4.1"), actor=alice)
    control = answer(gap27001, "A.5.1", alice, "conforms", soa_applicable=True,
                     soa_justification="Needed.")
    with pytest.raises(InvalidInput, match="harmonized"):
        mirror_gap_item(item=control, actor=alice)
    source = answer(gap9001, "4.1", alice, "conforms")
    with pytest.raises(NotPermitted):
        mirror_gap_item(item=source, actor=vic)
    assert row(gap27001, "4.1").status == "not_assessed"
