"""The certification cycle: created from a registered application with an accepted
quotation; days from the audit time; surveillance dates from the decision; special audits;
IAF MD 1 site selection (≥ 25 % at random, different sites across the cycle)."""

import datetime
import random
from decimal import Decimal

import pytest
from programme_helpers import (
    START,
    add_sites,
    audit_of,
    cycle_for,
    event_count,
    quoted_application,
)

from isocert.audits import programme
from isocert.audits.models import Audit, CertificationCycle
from isocert.core.errors import Conflict, InvalidInput, NotPermitted


@pytest.fixture
def cycle(nordlicht, alice, rita):
    return cycle_for(nordlicht, alice, rita)


def test_a_cycle_has_the_five_audits_with_the_accepted_days(cycle, nordlicht):
    determination = cycle.application.audit_time
    kinds = list(cycle.audits.order_by("pk").values_list("kind", "planned_days", "status"))

    assert kinds == [
        ("stage1", determination.stage1_days, "planned"),
        ("stage2", determination.stage2_days, "planned"),
        ("surveillance1", determination.surveillance_days, "planned"),
        ("surveillance2", determination.surveillance_days, "planned"),
        ("recertification", determination.recertification_days, "planned"),
    ]
    assert [s.code for s in cycle.standards.all()] == ["ISO 9001"]
    assert cycle.organization == nordlicht


def test_no_cycle_without_an_accepted_quotation(nordlicht, alice, rita):
    application = quoted_application(nordlicht, alice, rita, accept=False)
    events = event_count()

    with pytest.raises(Conflict) as refused:
        programme.create_cycle(application=application, actor=rita)

    assert "application" in refused.value.fields
    assert not CertificationCycle.objects.exists()
    assert event_count() == events


def test_only_cb_reviewers_start_a_cycle_and_only_once(cycle, alice, adam, rita):
    events = event_count()
    for actor in (alice, adam):
        with pytest.raises(NotPermitted):
            programme.create_cycle(application=cycle.application, actor=actor)
    with pytest.raises(Conflict):
        programme.create_cycle(application=cycle.application, actor=rita)
    assert CertificationCycle.objects.count() == 1
    assert event_count() == events


def test_surveillance_dates_follow_the_decision(cycle, dora):
    programme.fix_surveillance_dates(cycle=cycle, decision_date=datetime.date(2026, 3, 10),
                                     actor=dora)

    first, second = audit_of(cycle, "surveillance1"), audit_of(cycle, "surveillance2")
    assert first.target_date == datetime.date(2027, 3, 10)  # within 12 months of the decision
    assert second.target_date.year == 2028  # the next calendar year
    assert audit_of(cycle, "recertification").target_date == datetime.date(2029, 3, 9)
    cycle.refresh_from_db()
    assert cycle.decision_date == datetime.date(2026, 3, 10)

    events = event_count()
    programme.fix_surveillance_dates(cycle=cycle, decision_date="2026-03-10", actor=dora)
    with pytest.raises(Conflict) as refused:
        programme.fix_surveillance_dates(cycle=cycle, decision_date="2026-04-01", actor=dora)
    assert "decision_date" in refused.value.fields
    assert event_count() == events
    assert audit_of(cycle, "surveillance1").target_date == datetime.date(2027, 3, 10)


def test_a_surveillance_audit_is_scheduled_by_its_target_date(cycle, dora, rita):
    programme.fix_surveillance_dates(cycle=cycle, decision_date=datetime.date(2026, 3, 10),
                                     actor=dora)
    audit = audit_of(cycle, "surveillance1")
    events = event_count()

    with pytest.raises(InvalidInput) as refused:
        programme.schedule_audit(audit=audit, actor=rita, start_date="2027-03-10",
                                 end_date="2027-03-11")
    assert "end_date" in refused.value.fields
    assert event_count() == events

    programme.schedule_audit(audit=audit, actor=rita, start_date="2027-03-09",
                             end_date="2027-03-10")
    audit.refresh_from_db()
    assert audit.end_date == datetime.date(2027, 3, 10)


def test_special_audits_can_be_added(cycle, rita, alice):
    audit = programme.add_special_audit(cycle=cycle, actor=rita, kind="short_notice",
                                        reason="Complaint about a product recall",
                                        planned_days="1.5")
    assert (audit.kind, audit.planned_days) == ("short_notice", Decimal("1.5"))

    events = event_count()
    for kind, reason, field in (("stage1", "A reason", "kind"),
                                ("transfer", "", "reason")):
        with pytest.raises(InvalidInput) as refused:
            programme.add_special_audit(cycle=cycle, actor=rita, kind=kind, reason=reason)
        assert field in refused.value.fields
    with pytest.raises(NotPermitted):
        programme.add_special_audit(cycle=cycle, actor=alice, kind="transfer",
                                    reason="Transfer review")
    assert cycle.audits.count() == 6
    assert event_count() == events


# --- sites ---------------------------------------------------------------------------------------

@pytest.fixture
def multi_site_cycle(nordlicht, alice, rita):
    """Head office and 9 branches besides the two plants: 11 sites to sample from:
    initial ceil(sqrt 11) = 4, surveillance ceil(0.6 sqrt 11) = 2."""
    add_sites(nordlicht, alice, 9)
    return cycle_for(nordlicht, alice, rita)


def test_at_least_a_quarter_of_the_sample_is_drawn_at_random(multi_site_cycle, rita, nordlicht):
    stage1 = audit_of(multi_site_cycle)
    candidates = [s.pk for s in programme.candidate_sites(stage1)]
    assert programme.required_site_count(stage1) == 4
    events = event_count()

    with pytest.raises(programme.SiteSelectionInvalid) as refused:
        programme.select_audit_sites(audit=stage1, actor=rita, chosen_site_ids=candidates[:4])
    assert "chosen_site_ids" in refused.value.fields
    assert stage1.sites.count() == 0 and event_count() == events

    programme.select_audit_sites(audit=stage1, actor=rita, chosen_site_ids=candidates[:3],
                                 rng=random.Random(1))
    stage1.refresh_from_db()
    selection = stage1.site_selection
    assert selection["chosen"] == candidates[:3]
    assert len(selection["random"]) == 1 and selection["random"][0] in candidates[3:]
    central = nordlicht.sites.get(is_central_function=True)
    assert set(stage1.sites.values_list("pk", flat=True)) == {
        central.pk, *candidates[:3], *selection["random"]}


def test_sites_of_the_central_function_or_another_organization_are_refused(
        multi_site_cycle, rita, nordlicht, brightpath):
    stage1 = audit_of(multi_site_cycle)
    for site in (nordlicht.sites.get(is_central_function=True), brightpath.sites.first()):
        with pytest.raises(programme.SiteSelectionInvalid):
            programme.select_audit_sites(audit=stage1, actor=rita, chosen_site_ids=[site.pk])


def test_surveillance_audits_visit_different_sites(multi_site_cycle, rita):
    first = audit_of(multi_site_cycle, "surveillance1")
    second = audit_of(multi_site_cycle, "surveillance2")
    candidates = [s.pk for s in programme.candidate_sites(first)]
    programme.select_audit_sites(audit=first, actor=rita, chosen_site_ids=[candidates[0]])
    first.refresh_from_db()
    visited = first.site_selection["chosen"] + first.site_selection["random"]
    events = event_count()

    with pytest.raises(programme.SiteSelectionInvalid) as refused:
        programme.select_audit_sites(audit=second, actor=rita, chosen_site_ids=[candidates[0]])
    assert "different sites" in refused.value.fields["chosen_site_ids"].lower()
    assert event_count() == events

    fresh = next(pk for pk in candidates if pk not in visited)
    programme.select_audit_sites(audit=second, actor=rita, chosen_site_ids=[fresh])
    second.refresh_from_db()
    assert not set(second.site_selection["chosen"] + second.site_selection["random"]) & set(
        visited)


def test_scheduling_stage2_before_stage1_ends_is_refused(cycle, rita):
    programme.schedule_audit(audit=audit_of(cycle), actor=rita, start_date=START,
                             end_date=START + datetime.timedelta(days=1))
    stage2 = audit_of(cycle, "stage2")
    with pytest.raises(InvalidInput) as refused:
        programme.schedule_audit(audit=stage2, actor=rita, start_date=START,
                                 end_date=START + datetime.timedelta(days=3))
    assert "start_date" in refused.value.fields
    assert Audit.objects.get(pk=stage2.pk).start_date is None
