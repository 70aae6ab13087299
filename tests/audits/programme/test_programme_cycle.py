"""The certification cycle: created from a registered application with an accepted
quotation; days from the audit time; surveillance dates from the decision; special audits;
IAF MD 1 site selection (≥ 25 % at random, different sites across the cycle)."""

import datetime
import random
from decimal import Decimal

import pytest
from django.core import mail
from programme_helpers import (
    START,
    add_sites,
    audit_of,
    cycle_for,
    event_count,
    quoted_application,
)

from isocert.audits.models import Audit, CertificationCycle
from isocert.audits.programme import services as programme
from isocert.core.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent


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


D = datetime.date


@pytest.mark.parametrize("decided, expiry, targets", [
    # Initial certification: the certificate expires 3 years after the decision.
    (D(2026, 3, 10), None, (D(2027, 3, 10), D(2028, 3, 10), D(2029, 3, 9))),
    (D(2026, 1, 1), None, (D(2027, 1, 1), D(2028, 1, 1), D(2028, 12, 31))),
    (D(2028, 2, 29), None, (D(2029, 2, 28), D(2030, 2, 28), D(2031, 2, 27))),
    # Recertified shortly before the expiry of 2029-03-10: renewed until 2032-03-10.
    (D(2029, 2, 1), D(2032, 3, 10), (D(2030, 2, 1), D(2031, 2, 1), D(2032, 3, 9))),
    # Restored on 2026-05-01 after the expiry of 2026-01-10: renewed until 2029-01-10.
    (D(2026, 5, 1), D(2029, 1, 10), (D(2027, 5, 1), D(2028, 5, 1), D(2029, 1, 9))),
    # Recertified in the calendar year before the expiry of 2029-04-01 (renewed until
    # 2032-04-01): the recertification audit falls in 2031, or 2031 would have no audit.
    (D(2028, 12, 15), D(2032, 4, 1), (D(2029, 12, 15), D(2030, 12, 15), D(2031, 12, 31))),
])
def test_due_dates_keep_surveillance_in_every_calendar_year(decided, expiry, targets):
    due = programme.surveillance_targets(decided, expiry)

    first, second, recertification = targets
    assert due == {"surveillance1": first, "surveillance2": second,
                   "recertification": recertification}
    assert first <= programme.add_months(decided, 12)      # within 12 months of the decision
    assert first.year < second.year                        # never twice in one calendar year
    assert recertification < (expiry or programme.add_months(decided, 36))
    # Every calendar year between the decision's and the recertification's holds a
    # surveillance audit.
    assert set(range(decided.year + 1, recertification.year)) <= {first.year, second.year}


def test_the_next_cycle_follows_the_recertification(cycle, rita, dora, alice,
                                                    django_capture_on_commit_callbacks):
    programme.fix_surveillance_dates(cycle=cycle, decision_date=D(2026, 3, 10), actor=dora)
    events = event_count()

    with django_capture_on_commit_callbacks(execute=True):
        successor = programme.start_next_cycle(cycle=cycle, decision_date=D(2029, 2, 1),
                                               expiry_date=D(2032, 3, 10), actor=dora)

    cycle.refresh_from_db()
    assert cycle.status == CertificationCycle.Status.CLOSED
    assert set(cycle.audits.values_list("status", flat=True)) == {"cancelled"}
    # Their pages say why: the reason is kept on the audit as on its event.
    assert set(cycle.audits.values_list("cancellation_reason", flat=True)) == {
        "Superseded by the recertification decision of 1 Feb 2029."}
    determination = cycle.application.audit_time
    assert list(successor.audits.order_by("pk").values_list(
        "kind", "planned_days", "status", "target_date")) == [
        ("surveillance1", determination.surveillance_days, "planned", D(2030, 2, 1)),
        ("surveillance2", determination.surveillance_days, "planned", D(2031, 2, 1)),
        ("recertification", determination.recertification_days, "planned", D(2032, 3, 9))]
    assert (successor.status, successor.decision_date) == ("active", D(2029, 2, 1))
    assert (successor.application, successor.organization, successor.scope) == (
        cycle.application, cycle.organization, cycle.scope)
    assert [s.code for s in successor.standards.all()] == ["ISO 9001"]
    assert successor.created_by == rita   # plan answers still reach the programme's manager
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))[events:]
    assert actions == ["audits.audit.cancelled"] * 5 + [
        "audits.cycle.created", "audits.cycle.closed", "audits.cycle.surveillance_fixed"]
    notice = next(m for m in mail.outbox if "Next certification cycle" in m.subject)
    assert alice.email in notice.to and "Recertification: 9 Mar 2032" in notice.body

    # One active cycle per application: the application cannot start another.
    with pytest.raises(Conflict):
        programme.create_cycle(application=cycle.application, actor=rita)


def test_the_next_cycle_is_started_once_and_by_a_decision_maker(cycle, rita, dora):
    events = event_count()
    with pytest.raises(NotPermitted):
        programme.start_next_cycle(cycle=cycle, decision_date=D(2026, 5, 4),
                                   expiry_date=D(2029, 6, 1), actor=rita)
    with pytest.raises(InvalidInput) as refused:
        programme.start_next_cycle(cycle=cycle, decision_date=D(2026, 5, 4),
                                   expiry_date=D(2026, 5, 4), actor=dora)
    assert "expiry_date" in refused.value.fields
    assert event_count() == events and CertificationCycle.objects.get().status == "active"

    successor = programme.start_next_cycle(cycle=cycle, decision_date=D(2026, 5, 4),
                                           expiry_date=D(2029, 6, 1), actor=dora)
    events = event_count()
    with pytest.raises(TransitionNotAllowed):
        programme.start_next_cycle(cycle=cycle, decision_date=D(2026, 5, 4),
                                   expiry_date=D(2029, 6, 1), actor=dora)
    assert event_count() == events
    assert list(CertificationCycle.objects.order_by("pk").values_list("pk", "status")) == [
        (cycle.pk, "closed"), (successor.pk, "active")]
    with pytest.raises(Conflict):
        programme.add_special_audit(cycle=cycle, actor=rita, kind="short_notice",
                                    reason="Complaint about a product recall")


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
