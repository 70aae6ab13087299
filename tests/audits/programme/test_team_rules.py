"""Audit team rules: a lead auditor, coverage of the scope's standards and sectors, no
consultancy or employment for the client within 2 years, no overlapping audits, a signed
impartiality declaration; and the finder."""

import datetime

import pytest
from django.urls import reverse
from factories import client_for
from programme_helpers import (
    START,
    audit_of,
    auditor,
    cycle_for,
    event_count,
    relationship,
    sign_declaration,
)

from isocert.audits.models import Audit, TeamMember
from isocert.audits.programme import selectors
from isocert.audits.programme import services as programme
from isocert.core.errors import NotPermitted


@pytest.fixture
def stage1(cycle, rita):
    audit = audit_of(cycle)
    return programme.schedule_audit(audit=audit, actor=rita, start_date=START,
                                    end_date=START + datetime.timedelta(days=1))


def unchanged(audit, events):
    return audit.team.count() == 0 and event_count() == events


def test_a_lead_auditor_is_needed(stage1, rita, adam):
    from programme_helpers import profile_for

    profile_for(adam, lead=False)
    events = event_count()

    with pytest.raises(programme.TeamRuleViolation) as refused:
        programme.assign_team_member(audit=stage1, actor=rita, auditor=adam, role="lead")
    assert "role" in refused.value.fields
    assert unchanged(stage1, events)

    programme.assign_team_member(audit=stage1, actor=rita, auditor=adam, role="member")
    assert programme.team_problems(stage1)["team"] == "The team needs a lead auditor."
    with pytest.raises(programme.AuditNotReady) as not_ready:
        programme.ensure_team_ready(stage1)
    assert "team" in not_ready.value.fields


def test_together_the_team_covers_every_standard_and_sector(stage1, rita):
    partial = auditor("paul@cb.example", "Paul", lead=True, standards=["ISO 9001"], sectors=[])
    sector = auditor("sara@cb.example", "Sara", standards=["ISO 9001"], sectors=[17])
    programme.assign_team_member(audit=stage1, actor=rita, auditor=partial, role="lead")

    problems = programme.team_problems(stage1)
    assert "sectors" in problems and "17" in problems["sectors"]
    assert "standards" not in problems

    programme.assign_team_member(audit=stage1, actor=rita, auditor=sector, role="member")
    assert programme.team_problems(stage1) == {}


def test_an_auditor_qualified_for_none_of_the_standards_is_refused(stage1, rita):
    energy = auditor("erin@cb.example", "Erin", lead=True, standards=["ISO 50001"])
    events = event_count()
    with pytest.raises(programme.TeamRuleViolation) as refused:
        programme.assign_team_member(audit=stage1, actor=rita, auditor=energy, role="lead")
    assert "auditor_id" in refused.value.fields
    assert unchanged(stage1, events)


@pytest.mark.parametrize(("kind", "start", "end", "allowed"), [
    ("consultancy", datetime.date(2029, 1, 1), START - datetime.timedelta(days=365), False),
    ("consultancy", datetime.date(2026, 1, 1), START - datetime.timedelta(days=3 * 365), True),
    ("employment", datetime.date(2020, 1, 1), None, False),
])
def test_impartiality_two_years_after_consultancy_or_employment(stage1, rita, lead, nordlicht,
                                                               kind, start, end, allowed):
    relationship(lead, nordlicht, kind=kind, start=start, end=end)
    events = event_count()
    if allowed:
        member = programme.assign_team_member(audit=stage1, actor=rita, auditor=lead,
                                              role="lead")
        assert member.role == "lead"
        return
    with pytest.raises(programme.ImpartialityThreat) as refused:
        programme.assign_team_member(audit=stage1, actor=rita, auditor=lead, role="lead")
    assert "impartiality" in refused.value.fields
    assert unchanged(stage1, events)


def test_a_relationship_with_another_client_is_no_threat(stage1, rita, lead, brightpath):
    relationship(lead, brightpath, kind="employment", start=datetime.date(2020, 1, 1))
    programme.assign_team_member(audit=stage1, actor=rita, auditor=lead, role="lead")


def test_nobody_is_on_two_overlapping_audits(cycle, stage1, rita, lead, brightpath, charlie):
    other = audit_of(cycle_for(brightpath, charlie, rita))
    programme.schedule_audit(audit=other, actor=rita, start_date=START + datetime.timedelta(1),
                             end_date=START + datetime.timedelta(days=3))
    programme.assign_team_member(audit=other, actor=rita, auditor=lead, role="lead")
    events = event_count()

    with pytest.raises(programme.TeamRuleViolation) as refused:
        programme.assign_team_member(audit=stage1, actor=rita, auditor=lead, role="lead")
    assert "dates" in refused.value.fields
    assert unchanged(stage1, events)

    # The day after the other audit ends the auditor is free again.
    stage2 = audit_of(cycle, "stage2")
    programme.schedule_audit(audit=stage2, actor=rita, start_date=START + datetime.timedelta(4),
                             end_date=START + datetime.timedelta(days=5))
    programme.assign_team_member(audit=stage2, actor=rita, auditor=lead, role="lead")
    # …and moving it onto the other audit's dates is refused.
    with pytest.raises(programme.TeamRuleViolation):
        programme.schedule_audit(audit=stage2, actor=rita, start_date=START + datetime.timedelta(2),
                                 end_date=START + datetime.timedelta(days=5))


def test_each_member_signs_the_declaration_before_the_start(stage1, rita, lead, adam):
    member = programme.assign_team_member(audit=stage1, actor=rita, auditor=lead, role="lead")
    assert "declarations" in programme.team_problems(stage1, declarations=True)
    events = event_count()

    with pytest.raises(NotPermitted):
        programme.declare_impartiality(member=member, actor=adam)
    assert event_count() == events

    sign_declaration(member, lead)
    member.refresh_from_db()
    assert member.impartiality_declared_at is not None
    assert "two years" in member.declaration and member.no_threat
    programme.ensure_team_ready(stage1)


def test_only_programme_managers_assign(stage1, lead, adam, alice):
    for actor in (adam, alice):
        with pytest.raises(NotPermitted):
            programme.assign_team_member(audit=stage1, actor=actor, auditor=lead, role="lead")
    assert not TeamMember.objects.exists()


def test_the_finder_suggests_qualified_impartial_free_auditors(stage1, rita, lead, nordlicht):
    member = auditor("mia@cb.example", "Mia", standards=["ISO 9001"], sectors=[17])
    conflicted = auditor("carl@cb.example", "Carl", lead=True)
    relationship(conflicted, nordlicht, start=datetime.date(2020, 1, 1))
    auditor("ed@cb.example", "Ed", lead=True, standards=["ISO 50001"])

    names = [s["auditor"] for s in selectors.auditor_suggestions(user=rita, audit=stage1)]
    assert names == [lead, member]

    programme.assign_team_member(audit=stage1, actor=rita, auditor=lead, role="lead")
    names = [s["auditor"] for s in selectors.auditor_suggestions(user=rita, audit=stage1)]
    assert names == [member]


def test_the_planning_page_shows_the_finder_while_the_team_can_change(stage1, rita, lead,
                                                                       monkeypatch):
    url = reverse("audit_planning", args=[stage1.pk])
    page = client_for(rita).get(url).content.decode()
    assert 'data-testid="finder"' in page and f"{lead} (lead auditor)" in page
    # Once the audit has started its team is fixed: no finder, and no candidates judged.
    Audit.objects.filter(pk=stage1.pk).update(status=Audit.Status.IN_PROGRESS)

    def judged(**kwargs):
        raise AssertionError("the finder ran for an audit in progress")

    monkeypatch.setattr(selectors, "auditor_suggestions", judged)
    page = client_for(rita).get(url)
    assert page.status_code == 200 and 'data-testid="finder"' not in page.content.decode()
