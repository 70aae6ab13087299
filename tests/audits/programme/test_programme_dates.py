"""Programme and audit dates: surveillance at least once each calendar year (ISO/IEC
17021-1 §9.6.2.2), a past first day only as a justified late entry, no start before the
first day, no closing before the dates have begun."""

import datetime

import pytest
from conduct_helpers import make_audit
from programme_helpers import START, audit_of, cycle_for, event_count, ready_audit

from isocert.audits.conduct import services as conduct
from isocert.audits.models import Audit, CertificationCycle
from isocert.audits.programme import services as programme
from isocert.core.errors import Conflict, InvalidInput
from isocert.core.models import AuditEvent

D = datetime.date
DECIDED = D(2026, 3, 10)   # surveillance 1 due 2027-03-10, 2 by 2028-03-10, recert 2029-03-09
LATE = "Held on site as planned; the dates were recorded after the audit by mistake."


@pytest.fixture
def cycle(nordlicht, alice, rita, dora, today_is):
    cycle = cycle_for(nordlicht, alice, rita)
    programme.fix_surveillance_dates(cycle=cycle, decision_date=DECIDED, actor=dora)
    today_is(D(2026, 3, 20))   # ten days after the decision: every date below is ahead
    return cycle


def schedule(cycle, kind, start, days=2, **extra):
    return programme.schedule_audit(audit=audit_of(cycle, kind), actor=cycle.created_by,
                                    start_date=start,
                                    end_date=start + datetime.timedelta(days=days - 1), **extra)


def dates(cycle) -> dict:
    return {kind: (start, end) for kind, start, end in
            cycle.audits.values_list("kind", "start_date", "end_date")}


# --- surveillance each calendar year ---------------------------------------------------------

def test_two_surveillances_in_one_year_are_refused_naming_the_empty_year(cycle):
    # 2027 and 2028 each need a surveillance: the recertification is due by 2029-03-09.
    schedule(cycle, "surveillance1", D(2027, 1, 11))
    before, events = dates(cycle), event_count()

    with pytest.raises(programme.SurveillanceYearMissed) as refused:
        schedule(cycle, "surveillance2", D(2027, 11, 2))

    assert refused.value.message == (
        "Surveillance 2 from 2 Nov 2027 to 3 Nov 2027 would leave 2028 without an audit: "
        "surveillance is held at least once each calendar year between the certification "
        "decision (10 Mar 2026) and the recertification audit (ISO/IEC 17021-1 §9.6.2.2).")
    assert refused.value.fields == {"start_date": "Keep an audit in 2028."}
    assert refused.value.code == "surveillance_year_missed"
    assert (dates(cycle), event_count()) == (before, events)

    schedule(cycle, "surveillance2", D(2028, 2, 1))
    assert dates(cycle)["surveillance2"][0] == D(2028, 2, 1)
    # The recertification year needs no surveillance; moving the recertification a year
    # later would leave 2029 without an audit.
    schedule(cycle, "recertification", D(2029, 2, 1), days=3)
    with pytest.raises(programme.SurveillanceYearMissed, match="leave 2029 without"):
        schedule(cycle, "recertification", D(2030, 1, 7))


def test_surveillance_1_in_the_decisions_year_leaves_one_surveillance_for_two_years(cycle):
    # Within 12 months of the decision, but surveillance 2 cannot hold both 2027 and 2028.
    with pytest.raises(programme.SurveillanceYearMissed, match="leave 2028 without"):
        schedule(cycle, "surveillance1", D(2026, 12, 1))
    assert dates(cycle)["surveillance1"] == (None, None)


def test_with_the_recertification_brought_forward_an_early_programme_is_kept(cycle):
    # Recertification in November 2028: 2027 is the only year to fill, and surveillance 2
    # (due by 2028-03-10) can still fill it after surveillance 1 in December 2026 …
    schedule(cycle, "recertification", D(2028, 11, 6), days=3)
    schedule(cycle, "surveillance1", D(2026, 12, 1))
    # … unless it is held in 2028 instead.
    with pytest.raises(programme.SurveillanceYearMissed, match="leave 2027 without"):
        schedule(cycle, "surveillance2", D(2028, 2, 1))
    schedule(cycle, "surveillance2", D(2027, 12, 1))


def test_surveillance_follows_the_decision(nordlicht, alice, rita, dora, today_is):
    cycle = cycle_for(nordlicht, alice, rita)
    today_is(D(2026, 1, 5))
    events = event_count()
    with pytest.raises(InvalidInput) as refused:   # no decision yet: no due date
        schedule(cycle, "surveillance1", D(2026, 6, 1))
    assert "once the decision has fixed its due date" in refused.value.message
    assert set(refused.value.fields) == {"start_date"} and event_count() == events

    programme.fix_surveillance_dates(cycle=cycle, decision_date=DECIDED, actor=dora)
    events = event_count()
    with pytest.raises(InvalidInput) as refused:
        schedule(cycle, "surveillance1", D(2026, 3, 2))
    assert refused.value.fields == {"start_date": "On or after 10 Mar 2026."}
    assert event_count() == events and dates(cycle)["surveillance1"] == (None, None)


def test_the_programme_made_by_the_decision_keeps_every_year(nordlicht, alice, rita, dora):
    cycle = cycle_for(nordlicht, alice, rita)
    # Both surveillances dated in 2026 before this rule existed: the decision that makes
    # the programme refuses it, naming the year left out, and fixes nothing.
    Audit.objects.filter(cycle=cycle, kind__in=["surveillance1", "surveillance2"]).update(
        start_date=D(2026, 9, 1), end_date=D(2026, 9, 2))
    events = event_count()

    with pytest.raises(programme.SurveillanceYearMissed, match="leave 2027 without") as refused:
        programme.fix_surveillance_dates(cycle=cycle, decision_date=DECIDED, actor=dora)

    assert set(refused.value.fields) == {"decision_date"}
    assert CertificationCycle.objects.get(pk=cycle.pk).decision_date is None
    assert event_count() == events


def test_the_api_refuses_a_surveillance_year_in_the_error_shape(cycle, rita, api_client):
    schedule(cycle, "surveillance1", D(2027, 1, 11))
    response = api_client(rita).post(
        f"/api/v1/audits/{audit_of(cycle, 'surveillance2').pk}/schedule",
        {"start_date": "2027-11-02", "end_date": "2027-11-03"}, content_type="application/json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "surveillance_year_missed"
    assert error["fields"] == {"start_date": "Keep an audit in 2028."}
    assert audit_of(cycle, "surveillance2").start_date is None


# --- past dates are a justified late entry ----------------------------------------------------

def test_a_past_first_day_needs_a_late_entry_justification(nordlicht, alice, rita, today_is):
    cycle = cycle_for(nordlicht, alice, rita)
    stage1 = audit_of(cycle)
    today_is(D(2026, 5, 4))
    events = event_count()
    for text in ("", "late"):
        with pytest.raises(InvalidInput) as refused:
            programme.schedule_audit(audit=stage1, actor=rita, start_date="2021-04-12",
                                     end_date="2021-04-13", late_entry_justification=text)
        assert set(refused.value.fields) == {"late_entry_justification"}
        assert "12 Apr 2021, is past" in refused.value.message
    assert event_count() == events and audit_of(cycle).start_date is None

    programme.schedule_audit(audit=stage1, actor=rita, start_date="2026-05-01",
                             end_date="2026-05-02", late_entry_justification=f"  {LATE} ")
    stage1.refresh_from_db()
    assert (stage1.start_date, stage1.late_entry_justification) == (D(2026, 5, 1), LATE)
    event = AuditEvent.objects.order_by("seq").last()
    assert event.action == "audits.audit.scheduled"
    assert event.payload["late_entry_justification"] == LATE

    # From today on is no late entry: the justification goes with the past dates.
    programme.schedule_audit(audit=stage1, actor=rita, start_date="2026-05-04",
                             end_date="2026-05-05")
    stage1.refresh_from_db()
    assert stage1.late_entry_justification == ""
    assert "late_entry_justification" not in AuditEvent.objects.order_by("seq").last().payload


# --- starting and closing follow the dates ---------------------------------------------------

def test_an_audit_does_not_start_before_its_first_day(nordlicht, alice, rita, lead, today_is):
    audit = ready_audit(audit_of(cycle_for(nordlicht, alice, rita)), reviewer=rita,
                        owner=alice, lead=lead)
    today_is(START - datetime.timedelta(days=1))
    events = event_count()

    with pytest.raises(programme.AuditNotReady) as refused:
        programme.start_audit(audit=audit, actor=lead)

    assert set(refused.value.fields) == {"start_date"}
    assert refused.value.fields["start_date"].startswith(
        "The audit is scheduled from 5 May 2031: it starts on that day, not before.")
    assert "revise the plan" in refused.value.fields["start_date"]
    assert Audit.objects.get(pk=audit.pk).status == "planned" and event_count() == events

    today_is(START)
    assert programme.start_audit(audit=audit, actor=lead).status == "in_progress"


def test_an_audit_closes_once_its_dates_have_begun(registered, adam, today_is):
    stage1 = make_audit(registered, adam, kind="stage1")   # 2026-03-11 to 2026-03-13
    conduct.issue_report(audit=stage1, actor=adam, conclusion="Ready for stage 2.",
                                                   ready_for_stage2=True,
                                                   spent_days="1")
    today_is(D(2026, 3, 10))
    events = event_count()

    with pytest.raises(Conflict) as refused:
        conduct.close_audit(audit=stage1, actor=adam)

    assert refused.value.message == ("The audit is scheduled from 11 Mar 2026: it can be closed "
                                     "once its dates have begun.")
    assert Audit.objects.get(pk=stage1.pk).status == "in_progress" and event_count() == events

    today_is(D(2026, 3, 11))
    assert conduct.close_audit(audit=stage1, actor=adam).status == "closed"
