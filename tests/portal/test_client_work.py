"""The client's dashboard follows the certification: what waits for them (with due
dates), what waits for the CB, one journey per standard, certificates with the next
audit, recent milestones — and the same number of queries whatever the data."""

import datetime

from certification_helpers import certified_cycle, decision_ready_cycle
from conduct_helpers import ANSWER, finding_data, make_audit
from django.db import connection
from django.test.utils import CaptureQueriesContext
from factories import client_for, qualify_decision_maker
from programme_helpers import audit_of, cycle_for, profile_for, quoted_application

from isocert.accounts.services import add_site, create_organization
from isocert.audits.conduct import services as conduct
from isocert.audits.programme import services as programme
from isocert.portal.client_work import client_work
from isocert.portal.journey import current_step, journeys_for_organization
from isocert.readiness.services import start_gap_assessment
from isocert.registration import selectors as registration_selectors

TODAY = datetime.date(2031, 4, 1)


def work_of(*organizations, today=TODAY):
    return client_work(organization_ids=[o.pk for o in organizations], today=today)


def titles(items):
    return [item.title for item in items]


def test_a_sent_plan_waits_for_the_client_with_the_audit_start_as_due_date(
        nordlicht, alice, rita, adam):
    cycle = cycle_for(nordlicht, alice, rita)
    stage1 = audit_of(cycle)
    profile_for(adam, lead=True)
    programme.schedule_audit(audit=stage1, actor=rita, start_date=datetime.date(2031, 5, 5),
                             end_date=datetime.date(2031, 5, 6))
    programme.assign_team_member(audit=stage1, actor=rita, auditor=adam, role="lead")
    programme.add_plan_session(audit=stage1, actor=rita, starts_at="2031-05-05T09:00",
                               ends_at="2031-05-05T10:00", topic="Opening meeting",
                               auditee="Alice", auditor_id=adam.pk)
    programme.send_plan(audit=stage1, actor=rita)

    work = work_of(nordlicht)

    [item] = [i for i in work.waiting_for_you if "plan" in i.title]
    assert item.title == "Confirm the plan of the stage 1 audit"
    assert item.due == datetime.date(2031, 5, 5) and not item.overdue
    assert item.url == f"/audits/{stage1.pk}/plan/"
    assert "Stage 1 audit — 5 May 2031" in titles(work.waiting_for_cb)

    programme.confirm_plan(audit=stage1, actor=alice)
    assert not [i for i in work_of(nordlicht).waiting_for_you if "plan" in i.title]


def test_an_open_nonconformity_waits_for_the_client_and_an_answer_for_the_cb(
        nordlicht, alice, rita, adam):
    application = quoted_application(nordlicht, alice, rita)
    audit = make_audit(application, adam)
    finding = conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, "minor"))

    [item] = work_of(nordlicht).waiting_for_you
    assert item.title.startswith(f"Answer nonconformity #{finding.number} (minor nonconformity")
    assert item.due == finding.plan_due
    assert item.url == f"/findings/{finding.pk}/"

    # Past its due date it is overdue and comes first.
    late = work_of(nordlicht, today=finding.plan_due + datetime.timedelta(days=1))
    assert late.waiting_for_you[0].overdue

    conduct.submit_corrective_action(finding=finding, actor=alice, **ANSWER)
    work = work_of(nordlicht)
    assert not work.waiting_for_you
    assert f"Review of your answer to nonconformity #{finding.number}" in titles(
        work.waiting_for_cb)


def test_a_sent_quotation_waits_for_acceptance_until_it_expires(nordlicht, alice, rita):
    application = quoted_application(nordlicht, alice, rita, accept=False)
    quotation = application.quotations.get()

    [item] = work_of(nordlicht).waiting_for_you

    assert item.title == f"Accept quotation {quotation.number}"
    assert item.due == quotation.valid_until


def test_a_draft_and_a_request_for_information_are_the_clients_turn(
        information_requested, nordlicht):
    [item] = work_of(nordlicht).waiting_for_you

    assert item.title == (f"Answer the CB's questions on application "
                          f"{information_requested.reference}")
    assert item.url == f"/applications/{information_requested.pk}/"


def test_after_the_grant_the_journey_is_complete_and_the_certificate_listed(
        nordlicht, alice, rita, adam, dora):
    qualify_decision_maker(dora)
    cycle = certified_cycle(nordlicht, alice, rita, adam, dora,
                            decided=datetime.date(2026, 6, 1))
    certificate = cycle.certificates.get()
    work = work_of(nordlicht)
    applications = list(registration_selectors.applications_for_organization(
        user=alice, organization=nordlicht))

    [journey] = journeys_for_organization(applications, nordlicht, work.facts)

    assert [s.state for s in journey.steps] == ["done"] * 6
    assert journey.steps[-1].detail == (f"Certified: {certificate.number}, valid until "
                                        f"{certificate.expiry_date:%-d %b %Y}")
    [listed] = work.certificates
    assert listed.pk == certificate.pk
    assert listed.next_audit_label == "Surveillance 1" and listed.next_audit_due is not None
    assert "Certificate issued" in [event.label for event in work.events]


def test_a_closed_audit_makes_the_decision_the_current_step(nordlicht, alice, rita, adam):
    decision_ready_cycle(nordlicht, alice, rita, adam)
    work = work_of(nordlicht)
    applications = list(registration_selectors.applications_for_organization(
        user=alice, organization=nordlicht))

    [journey] = journeys_for_organization(applications, nordlicht, work.facts)

    assert current_step(journey.steps).key == "decision"
    assert "Certification decision by an independent decision maker" in titles(
        work.waiting_for_cb)


def test_each_standard_walks_its_own_journey(nordlicht, alice, rita):
    quoted_application(nordlicht, alice, rita)   # ISO 9001: contracted
    start_gap_assessment(organization=nordlicht, standard="ISO 14001", actor=alice)
    applications = list(registration_selectors.applications_for_organization(
        user=alice, organization=nordlicht))

    journeys = {j.standard.code: j.steps for j in
                journeys_for_organization(applications, nordlicht)}

    assert current_step(journeys["ISO 9001"]).key == "certification_audit"
    # ISO 14001 has no application: its journey starts at registration, and none of
    # ISO 9001's contract shows in it.
    assert current_step(journeys["ISO 14001"]).key == "registration"
    assert current_step(journeys["ISO 14001"]).detail == "Not applied yet"


def test_clients_see_only_their_own_organizations_work(nordlicht, brightpath, alice, rita,
                                                       charlie):
    quoted_application(nordlicht, alice, rita, accept=False)

    page = client_for(charlie).get("/dashboard/").content.decode()

    assert "Accept quotation" not in page
    assert not work_of(brightpath).waiting_for_you


def test_the_dashboard_shows_the_work_list(nordlicht, alice, rita):
    application = quoted_application(nordlicht, alice, rita, accept=False)
    quotation = application.quotations.get()

    page = client_for(alice).get("/dashboard/").content.decode()

    assert "Waiting for you" in page
    assert f"Accept quotation {quotation.number}" in page
    assert f"Certification journey of {nordlicht}, ISO 9001" in page


def _dashboard_queries(user) -> int:
    client = client_for(user)
    client.get("/dashboard/")   # sessions, caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/dashboard/").status_code == 200
    return len(queries)


def test_the_work_list_reads_the_same_number_of_queries_whatever_the_data(
        nordlicht, alice, rita, adam):
    quoted_application(nordlicht, alice, rita, accept=False)
    few = _dashboard_queries(alice)

    application = quoted_application(nordlicht, alice, rita)
    audit = make_audit(application, adam)
    for number in ("4.1", "5.1", "6.1"):
        conduct.create_finding(audit=audit, actor=adam, **finding_data(audit, "minor", number))
    cycle_for(nordlicht, alice, rita)
    many = work_of(nordlicht)
    assert len(many.waiting_for_you) >= 4

    assert _dashboard_queries(alice) == few


def test_a_second_organization_adds_no_work_list_query(nordlicht, alice, rita):
    quoted_application(nordlicht, alice, rita, accept=False)
    with CaptureQueriesContext(connection) as one:
        work_of(nordlicht)
    other = create_organization(actor=alice, legal_name="Nordlicht Logistik GmbH", country="DE",
                                registered_address="Kai 1, Bremen", sector_codes=[31],
                                scope_statement="Warehousing.")
    add_site(organization=other, actor=alice, name="Bremen", address="Kai 1, Bremen",
             effective_personnel=20)
    quoted_application(other, alice, rita, accept=False)
    with CaptureQueriesContext(connection) as two:
        work = work_of(nordlicht, other)

    assert len(work.waiting_for_you) == 2
    assert len(two) == len(one)
