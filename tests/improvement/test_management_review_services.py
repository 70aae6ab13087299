"""Management reviews: the standard's inputs, decisions and resulting actions."""

import json

import pytest

from isocert.core.errors import InvalidInput, NotPermitted
from isocert.core.models import AuditEvent
from isocert.improvement.services import (
    INPUTS_FILE,
    add_review_action,
    create_management_review,
    record_review_decisions,
    update_review_inputs,
)


@pytest.fixture
def review(nordlicht, alice):
    return create_management_review(organization=nordlicht, actor=alice, standard="ISO 50001",
            date="2026-03-02",
            attendees="Alice Owner, managing director\nBob Editor, energy manager")


def test_the_inputs_are_the_common_ones_plus_the_standards(review):
    keys = list(review.inputs.values_list("key", flat=True))
    assert keys[:8] == ["previous_actions", "issues_changes", "nonconformities",
                        "monitoring_results", "audit_results", "resources",
                        "risks_opportunities", "improvement_opportunities"]
    assert keys[8:] == ["energy_performance", "energy_objectives", "energy_policy",
                        "legal_compliance"]
    assert not review.inputs.filter(covered=True).exists()


@pytest.mark.parametrize("code, expected", [
    ("ISO 9001", {"customer_satisfaction", "supplier_performance"}),
    ("ISO 14001", {"compliance_obligations", "interested_party_communications"}),
    ("ISO 45001", {"worker_consultation", "incidents"}),
    ("ISO/IEC 27001", {"security_feedback", "risk_assessment"}),
])
def test_each_standard_has_its_own_inputs(nordlicht, alice, code, expected):
    review = create_management_review(organization=nordlicht, actor=alice, standard=code,
                                      date="2026-03-02", attendees="Alice")
    assert set(review.inputs.values_list("key", flat=True)[8:]) == expected


def test_the_data_file_covers_every_shipped_standard(db):
    from isocert.catalog.models import Standard

    data = json.loads(INPUTS_FILE.read_text())
    assert set(Standard.objects.filter(is_current=True).values_list("code", flat=True)) == set(
        data["standards"])


def test_inputs_are_recorded_at_creation_and_updated(nordlicht, alice, bob):
    review = create_management_review(organization=nordlicht, actor=alice, standard="ISO 9001",
            date="2026-03-02", attendees="Alice",
            inputs=[{"key": "audit_results", "covered": True, "notes": "Two minor NCs."}])
    assert review.inputs.get(key="audit_results").notes == "Two minor NCs."

    update_review_inputs(review=review, actor=bob, inputs=[
        {"key": "customer_satisfaction", "covered": True, "notes": "Survey 4.2/5"}])
    assert set(review.inputs.filter(covered=True).values_list("key", flat=True)) == {
        "audit_results", "customer_satisfaction"}
    assert AuditEvent.objects.filter(
        action="improvement.management_review.inputs_updated").count() == 1


def test_unknown_inputs_change_nothing(review, alice):
    with pytest.raises(InvalidInput) as refused:
        update_review_inputs(review=review, actor=alice, inputs=[
            {"key": "energy_policy", "covered": True}, {"key": "made_up", "covered": True}])
    assert "inputs.1.key" in refused.value.fields
    assert not review.inputs.filter(covered=True).exists()


def test_a_review_needs_a_date_attendees_and_a_standard(nordlicht, alice):
    with pytest.raises(InvalidInput) as refused:
        create_management_review(organization=nordlicht, actor=alice, standard="", date=None,
                                 attendees="")
    assert set(refused.value.fields) == {"standard", "date", "attendees"}


def test_decisions_and_resulting_actions(review, alice, bob):
    record_review_decisions(review=review, actor=alice,
                            decisions="Replace compressor 3; new EnPI for the furnace.")
    action = add_review_action(review=review, actor=bob, title="Replace compressor 3",
                               owner_id=bob.pk, clause="6.2")

    review.refresh_from_db()
    assert review.decisions.startswith("Replace compressor 3")
    assert (action.management_review, action.standard.code, action.clause.number) == (
        review, "ISO 50001", "6.2")
    assert list(review.actions.all()) == [action]


def test_a_viewer_cannot_record_reviews(nordlicht, vera, review):
    with pytest.raises(NotPermitted):
        create_management_review(organization=nordlicht, actor=vera, standard="ISO 9001",
                                 date="2026-03-02", attendees="Vera")
    with pytest.raises(NotPermitted):
        update_review_inputs(review=review, actor=vera, inputs=[])
    with pytest.raises(NotPermitted):
        record_review_decisions(review=review, actor=vera, decisions="x")
    with pytest.raises(NotPermitted):
        add_review_action(review=review, actor=vera, title="x")
