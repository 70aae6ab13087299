"""Readiness for stage 1: one verdict per standard, with the reasons; the journey follows it."""

import pytest
from readiness_helpers import (
    answer_all,
    completed_internal_audit,
    gap_action,
    management_review,
    row,
)

from isocert.improvement.stage1 import stage1_readiness
from isocert.portal.journey import current_step, journeys_for_organization
from isocert.registration import selectors as registration_selectors


def _verdict(organization, assessment):
    return stage1_readiness(organization=organization, standard=assessment.standard)


def test_nothing_on_record_is_not_ready_with_every_reason(nordlicht, gap9001):
    readiness = _verdict(nordlicht, gap9001)

    assert readiness.verdict == "Not ready" and not readiness.ready
    assert readiness.reasons == [
        "Gap analysis v1: 75 of 75 rows not assessed yet (first: 4).",
        "No internal audit on record.",
        "No management review on record.",
    ]
    assert [c.key for c in readiness.checks if c.ok] == ["actions"]  # none raised, none open


def test_everything_on_record_is_ready_for_stage_1(nordlicht, gap9001, alice):
    answer_all(gap9001, alice)
    gap_action(row(gap9001, "4.1"), status="done")
    gap_action(row(gap9001, "5.2"), status="cancelled")
    completed_internal_audit(nordlicht, gap9001.standard)
    management_review(nordlicht, gap9001.standard)

    readiness = _verdict(nordlicht, gap9001)

    assert readiness.ready and readiness.verdict == "Ready for stage 1"
    assert readiness.reasons == []
    assert readiness.check("actions").detail == "All 2 actions from the gap analysis are closed."


@pytest.fixture
def almost_ready(nordlicht, gap9001, alice):
    answer_all(gap9001, alice)
    completed_internal_audit(nordlicht, gap9001.standard)
    management_review(nordlicht, gap9001.standard)
    assert _verdict(nordlicht, gap9001).ready
    return gap9001


def test_an_unassessed_row_makes_it_not_ready(nordlicht, almost_ready, alice):
    item = row(almost_ready, "8.5.1")
    from isocert.readiness.services import update_gap_item

    update_gap_item(item=item, actor=alice, status="not_assessed",
                    expected_version=item.version)

    readiness = _verdict(nordlicht, almost_ready)
    assert not readiness.ready
    assert readiness.reasons == ["Gap analysis v1: 1 of 75 rows not assessed yet (first: 8.5.1)."]


def test_an_open_gap_action_makes_it_not_ready(nordlicht, almost_ready):
    gap_action(row(almost_ready, "6.2"), status="in_progress", title="Set quality objectives")

    readiness = _verdict(nordlicht, almost_ready)

    assert readiness.reasons == [
        "1 action from the gap analysis still open (e.g. “Set quality objectives”)."]


def test_the_internal_audit_must_be_completed_and_cover_clauses_4_to_10(nordlicht, gap9001,
                                                                       alice):
    answer_all(gap9001, alice)
    management_review(nordlicht, gap9001.standard)
    planned = completed_internal_audit(nordlicht, gap9001.standard, status="planned")
    assert _verdict(nordlicht, gap9001).reasons == [
        "The internal audit is planned but not completed."]

    planned.delete()
    completed_internal_audit(nordlicht, gap9001.standard,
                             numbers=("4", "5.1", "6", "7.5.1", "9.2"))
    assert _verdict(nordlicht, gap9001).reasons == [
        "No completed internal audit covers every main clause 4–10 "
        "(“Internal audit 2025” leaves out 8, 10)."]

    completed_internal_audit(nordlicht, gap9001.standard, numbers=(
        "4.1", "5.1", "6.1", "7.1", "8.1", "9.1", "10.1"))  # sub-clauses cover their clause
    assert _verdict(nordlicht, gap9001).ready


def test_the_verdict_is_per_standard(nordlicht, gap9001, gap50001, alice):
    answer_all(gap9001, alice)
    completed_internal_audit(nordlicht, gap9001.standard)
    management_review(nordlicht, gap9001.standard)

    assert _verdict(nordlicht, gap9001).ready
    assert not _verdict(nordlicht, gap50001).ready
    # An ISO 9001 audit and review do not count for ISO 50001.
    assert _verdict(nordlicht, gap50001).reasons[1:] == [
        "No internal audit on record.", "No management review on record."]


# --- the journey --------------------------------------------------------------------------------

def _journey(alice, nordlicht):
    applications = list(registration_selectors.applications_for_organization(
        user=alice, organization=nordlicht))
    [journey] = journeys_for_organization(applications, nordlicht)
    return journey.steps


def _states(steps):
    return [(s.key, s.state) for s in steps]


def test_the_journey_follows_the_readiness_checks(registered, nordlicht, alice):
    from isocert.readiness.services import start_gap_assessment

    assert current_step(_journey(alice, nordlicht)).key == "gap_analysis"
    gap = start_gap_assessment(organization=nordlicht, standard="ISO 50001", actor=alice)
    steps = _journey(alice, nordlicht)
    assert current_step(steps).key == "gap_analysis"
    assert current_step(steps).detail.startswith("Gap analysis v1: 38 of 38 rows not assessed")

    answer_all(gap, alice)
    action = gap_action(row(gap, "6.3"), status="open", title="Finish the energy review")
    steps = _journey(alice, nordlicht)
    assert _states(steps)[:4] == [("registration", "done"), ("gap_analysis", "done"),
                                  ("implementation", "current"), ("internal_audit", "todo")]

    action.status = "done"
    action.save()
    assert current_step(_journey(alice, nordlicht)).key == "internal_audit"

    completed_internal_audit(nordlicht, gap.standard)
    steps = _journey(alice, nordlicht)
    assert current_step(steps).key == "internal_audit"
    assert current_step(steps).detail == "No management review on record."

    management_review(nordlicht, gap.standard)
    steps = _journey(alice, nordlicht)
    assert _states(steps) == [
        ("registration", "done"), ("gap_analysis", "done"), ("implementation", "done"),
        ("internal_audit", "done"), ("certification_audit", "current"), ("decision", "todo")]
    assert current_step(steps).detail == "Ready for stage 1: ISO 50001:2018"


def test_ready_before_registration_leaves_registration_current(draft, nordlicht, gap50001,
                                                               alice):
    answer_all(gap50001, alice)
    completed_internal_audit(nordlicht, gap50001.standard)
    management_review(nordlicht, gap50001.standard)

    steps = _journey(alice, nordlicht)

    assert current_step(steps).key == "registration"
    assert [s.state for s in steps].count("current") == 1
    assert dict(_states(steps))["internal_audit"] == "done"


def test_the_dashboard_shows_the_verdict(registered, nordlicht, gap50001, alice, api_client):
    page = api_client(alice).get("/dashboard/").content.decode()

    assert "Readiness for stage 1" in page
    assert "ISO 50001:2018" in page and "Not ready" in page
    assert "38 of 38 rows not assessed yet" in page
