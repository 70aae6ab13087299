"""The auditor's impartiality declaration for one assignment (ISO/IEC 17021-1 §5.2): a
statement, and either the tick that no threat exists or the threat and its safeguard.
And the team rule reads the relationships every CB staff member declares
(accounts.ClientRelationship) — the same records the certification decision reads."""

import datetime

import pytest
from factories import client_for
from programme_helpers import (
    START,
    audit_of,
    cycle_for,
    event_count,
    sign_declaration,
)

from isocert.accounts.services import declare_client_relationship
from isocert.audits.models import TeamMember
from isocert.audits.programme import services as programme
from isocert.core.errors import InvalidInput


@pytest.fixture
def stage1(nordlicht, alice, rita):
    audit = audit_of(cycle_for(nordlicht, alice, rita))
    return programme.schedule_audit(audit=audit, actor=rita, start_date=START,
                                    end_date=START + datetime.timedelta(days=1))


@pytest.fixture
def member(stage1, rita, lead):
    return programme.assign_team_member(audit=stage1, actor=rita, auditor=lead, role="lead")


@pytest.mark.parametrize(("parts", "field"), [
    ({"statement": "", "no_threat": True}, "statement"),
    ({"statement": "   ", "no_threat": True}, "statement"),
    ({"statement": "I declare.", "no_threat": False}, "no_threat"),
    ({"statement": "I declare.", "threat": "My cousin works there."}, "safeguard"),
    ({"statement": "I declare.", "no_threat": True, "threat": "My cousin works there."},
     "threat"),
])
def test_an_incomplete_declaration_is_refused_naming_the_field(member, lead, parts, field):
    events = event_count()

    with pytest.raises(InvalidInput) as refused:
        programme.declare_impartiality(member=member, actor=lead, **parts)

    assert field in refused.value.fields
    member.refresh_from_db()
    assert member.impartiality_declared_at is None
    assert event_count() == events


def test_nothing_given_is_refused(member, lead):
    """The old service filled in the standard text for an empty statement."""
    with pytest.raises(InvalidInput) as refused:
        programme.declare_impartiality(member=member, actor=lead)

    assert {"statement", "no_threat"} <= set(refused.value.fields)


def test_a_threat_with_its_safeguard_is_recorded(member, lead):
    programme.declare_impartiality(
        member=member, actor=lead, statement="I know the quality manager from a course.",
        threat="Familiarity with the quality manager.",
        safeguard="Another auditor audits the quality department.")

    member = TeamMember.objects.get(pk=member.pk)
    assert member.impartiality_declared_at is not None and not member.no_threat
    assert member.threat == "Familiarity with the quality manager."
    assert member.safeguard == "Another auditor audits the quality department."


def test_no_threat_ticked_with_a_statement_is_recorded(member, lead, stage1):
    sign_declaration(member, lead)

    member.refresh_from_db()
    assert member.no_threat and member.declaration == programme.DECLARATION_TEXT
    assert "declarations" not in programme.team_problems(stage1, declarations=True)


def test_the_api_answers_422_naming_the_field(member, lead):
    response = client_for(lead).post(
        f"/api/v1/team-members/{member.pk}/declare-impartiality",
        {"statement": "", "no_threat": True}, content_type="application/json")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert "statement" in response.json()["error"]["fields"]


def test_the_api_records_the_threat_and_safeguard(member, lead):
    response = client_for(lead).post(
        f"/api/v1/team-members/{member.pk}/declare-impartiality",
        {"statement": "Declared.", "threat": "A friend works there.",
         "safeguard": "I do not audit her department."}, content_type="application/json")

    assert response.status_code == 200, response.content
    assert response.json()["impartiality_declared_at"]
    assert TeamMember.objects.get(pk=member.pk).threat == "A friend works there."
    page = client_for(lead).get(f"/audits/{member.audit_id}/planning/").content.decode()
    assert "Threat: A friend works there. — safeguard: I do not audit her department." in page


def test_the_page_shows_the_fields_error_and_keeps_the_input(member, lead, stage1):
    response = client_for(lead).post(f"/team-members/{member.pk}/declare/", {
        "statement": "My own words.", "threat": "A friend works there."})

    assert response.status_code == 422
    form = response.context["declaration_form"]
    assert "safeguard" in form.errors
    assert form["statement"].value() == "My own words."
    assert "Say how the threat is safeguarded." in response.content.decode()
    member.refresh_from_db()
    assert member.impartiality_declared_at is None


def test_the_page_signs_a_complete_declaration(member, lead, stage1):
    response = client_for(lead).post(f"/team-members/{member.pk}/declare/", {
        "statement": programme.DECLARATION_TEXT, "no_threat": "on"})

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.impartiality_declared_at is not None and member.no_threat


def test_a_relationship_declared_on_my_declarations_keeps_the_auditor_off_the_team(
        stage1, rita, lead, nordlicht):
    declare_client_relationship(user=lead, actor=lead, organization_id=nordlicht.pk,
                                kind="consultancy", start_date="2025-01-01")   # ongoing

    with pytest.raises(programme.ImpartialityThreat) as refused:
        programme.assign_team_member(audit=stage1, actor=rita, auditor=lead, role="lead")

    assert "impartiality" in refused.value.fields
    assert not stage1.team.exists()
