"""Carrying a gap analysis on a superseded edition to the new edition (``carry_gap_analysis``):
rows whose clause keeps its number and title are copied with their evidence, new and changed
clauses start blank; owners and editors only, other tenants see nothing."""

import pytest
from readiness_helpers import answer, row
from transition_helpers import NEW_CLAUSE, NEW_EDITION, new_edition, transition_to_new_edition

from isocert.core.errors import Conflict, NotPermitted
from isocert.core.models import AuditEvent
from isocert.readiness.models import GapAssessment, GapEvidence, GapItem
from isocert.readiness.services import add_gap_evidence, carry_gap_analysis

pytestmark = pytest.mark.django_db


def _counts():
    return (GapAssessment.objects.count(), GapItem.objects.count(), AuditEvent.objects.count())


def test_matching_rows_are_copied_and_new_clauses_start_blank(gap9001, alice, bob, ada):
    answer(gap9001, "4.1", alice, "conforms", notes="Context reviewed yearly.", owner_id=bob.pk)
    answer(gap9001, "8.3", alice, "partial", notes="Design reviews missing.")
    add_gap_evidence(item=row(gap9001, "4.1"), actor=alice, title="Context memo",
                     link="https://intranet.example/context")
    transition = transition_to_new_edition(ada)  # retitles 8.3, adds 8.8
    new = carry_gap_analysis(assessment=gap9001, actor=bob)
    assert (new.standard, new.number, new.status) == (transition.to_standard, 1, "open")
    assert new.items.count() == transition.to_standard.clauses.count()
    copied = row(new, "4.1")
    assert (copied.status, copied.notes, copied.owner_id) == (
        "conforms", "Context reviewed yearly.", bob.pk)
    assert list(GapEvidence.objects.filter(item=copied).values_list("title", flat=True)) == [
        "Context memo"]
    assert row(new, "8.3").status == "not_assessed"  # changed in the new edition
    assert row(new, NEW_CLAUSE).status == "not_assessed"  # new in the new edition
    # The old analysis stays as it was.
    assert row(gap9001, "4.1").status == "conforms"
    event = AuditEvent.objects.get(action="readiness.gap_assessment.carried_to_new_edition")
    assert event.actor == bob
    assert event.payload["from_standard"] == "ISO 9001:2015"
    assert event.payload["blank"] >= 2 and event.payload["copied"] > 0


def test_an_edition_not_superseded_is_not_carried(gap9001, alice):
    new_edition("ISO 9001")  # loaded, but no transition recorded
    before = _counts()
    with pytest.raises(Conflict):
        carry_gap_analysis(assessment=gap9001, actor=alice)
    assert _counts() == before


def test_a_second_carry_is_refused(gap9001, alice, ada):
    transition_to_new_edition(ada)
    carry_gap_analysis(assessment=gap9001, actor=alice)
    before = _counts()
    with pytest.raises(Conflict):
        carry_gap_analysis(assessment=gap9001, actor=alice)
    assert _counts() == before


def test_viewers_and_cb_staff_do_not_carry(gap9001, vic, ada):
    transition_to_new_edition(ada)
    before = _counts()
    for actor in (vic, ada):
        with pytest.raises(NotPermitted):
            carry_gap_analysis(assessment=gap9001, actor=actor)
    assert _counts() == before


def test_the_page_offers_the_carry_and_the_api_does_it(gap9001, alice, ada, api_client):
    client = api_client(alice)
    assert "Carry this gap analysis" not in client.get(
        f"/gap-analysis/{gap9001.pk}/").content.decode()
    transition_to_new_edition(ada)
    page = client.get(f"/gap-analysis/{gap9001.pk}/").content.decode()
    assert f"Carry this gap analysis to ISO 9001:{NEW_EDITION}" in page
    response = client.post(f"/gap-analysis/{gap9001.pk}/carry/")
    new = GapAssessment.objects.get(standard__edition=NEW_EDITION)
    assert response.status_code == 302 and response["Location"] == f"/gap-analysis/{new.pk}/"
    page = client.get(f"/gap-analysis/{gap9001.pk}/").content.decode()
    assert "Carry this gap analysis" not in page and f"/gap-analysis/{new.pk}/" in page
    again = client.post(f"/api/v1/gap-assessments/{gap9001.pk}/carry-to-new-edition")
    assert again.status_code == 409


def test_the_api_carries_a_gap_analysis(gap9001, bob, ada, api_client):
    transition_to_new_edition(ada)
    response = api_client(bob).post(f"/api/v1/gap-assessments/{gap9001.pk}/carry-to-new-edition")
    assert response.status_code == 201, response.content
    assert (response.json()["standard"], response.json()["edition"]) == ("ISO 9001",
                                                                         NEW_EDITION)


def test_charlie_cannot_carry_alices_gap_analysis(gap9001, charlie, ada, api_client):
    transition_to_new_edition(ada)
    before = _counts()
    client = api_client(charlie)
    assert client.post(f"/gap-analysis/{gap9001.pk}/carry/").status_code == 404
    assert client.post(
        f"/api/v1/gap-assessments/{gap9001.pk}/carry-to-new-edition").status_code == 404
    assert _counts() == before
