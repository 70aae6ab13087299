"""The certification decision (ISO/IEC 17021-1 §9.5): who may decide, what a grant needs,
and the certificate a grant issues, renews or revises."""

import datetime
import re

import pytest
from certification_helpers import (
    DECIDED,
    ENERGY_LINE,
    STAGE2_END,
    certified_cycle,
    closed_audit,
    decision_ready_cycle,
    recertify,
)
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from factories import client_for, qualify_decision_maker
from programme_helpers import relationship

from isocert.accounts.models import DecisionMakerProfile
from isocert.accounts.services import declare_client_relationship
from isocert.audits.models import Audit, CertificationCycle, TeamMember
from isocert.certification import decision_checks
from isocert.certification.decision_checks import DecisionMakerNotQualified, ImpartialityThreat
from isocert.certification.lifecycle import daily_run
from isocert.certification.models import Certificate, CertificationDecision
from isocert.certification.services import CODE_ALPHABET, DecisionInputsMissing, decide
from isocert.certification.signing import verify_signature
from isocert.core.audit import verify_chain
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.models import AuditEvent

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def cycle(nordlicht, alice, rita, adam):
    return decision_ready_cycle(nordlicht, alice, rita, adam)


def grant(cycle, dora, **extra):
    return decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                  decision_date=extra.pop("decision_date", DECIDED), **extra)


def test_a_grant_issues_a_numbered_signed_certificate(cycle, dora, alice,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        decision = grant(cycle, dora)

    certificate = decision.certificate
    assert decision.outcome == "grant" and decision.decided_by == dora
    assert certificate.number == "ISO9001-2026-000001"
    assert len(certificate.public_code) == 12
    assert set(certificate.public_code) <= set(CODE_ALPHABET)
    assert certificate.status == Certificate.Status.ACTIVE
    assert certificate.organization_name == "Nordlicht Aluminium GmbH"
    assert certificate.standards == [{"code": "ISO 9001", "edition": "2015"}]
    assert certificate.original_issue_date == certificate.issue_date == DECIDED
    assert certificate.expiry_date == datetime.date(2029, 4, 1)   # decision + 3 years
    assert [s.name for s in certificate.sites.all()] == [
        s.name for s in cycle.organization.sites.order_by("-is_central_function", "name")]
    revision = certificate.revisions.get()
    assert revision.revision == 1 and revision.superseded_at is None
    assert revision.content["sites"][0]["scope"]
    assert revision.content["certification_body"]["name"]
    assert revision.content["qr_url"].startswith(revision.content["verify_url"] + "?d=")
    check = verify_signature(revision.signed_data, revision.signature)
    assert check.valid and check.data["n"] == certificate.number
    revision.refresh_from_db()
    assert revision.pdf is not None   # rendered by the task after commit
    history = list(certificate.status_history.values_list("status", "date"))
    assert history == [("Active", DECIDED)]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"certification.decision.grant", "certification.certificate.issued",
            "audits.cycle.surveillance_fixed"} <= actions
    assert verify_chain() is None
    assert any(alice.email in m.to and "Granted" in m.subject for m in mail.outbox)


def test_the_grant_fixes_the_surveillance_due_dates(cycle, dora):
    grant(cycle, dora)

    due = dict(cycle.audits.values_list("kind", "target_date"))
    assert due[Audit.Kind.SURVEILLANCE1] == datetime.date(2027, 4, 1)  # within 12 months
    assert due[Audit.Kind.SURVEILLANCE2] == datetime.date(2028, 4, 1)  # next calendar year
    cycle.refresh_from_db()
    assert cycle.decision_date == DECIDED


def test_the_effective_date_is_never_before_the_decision(cycle, dora):
    with pytest.raises(InvalidInput) as refused:
        grant(cycle, dora, effective_date=DECIDED - datetime.timedelta(days=1))

    assert "effective_date" in refused.value.fields
    assert not Certificate.objects.exists()
    later = grant(cycle, dora, effective_date=DECIDED + datetime.timedelta(days=5)).certificate
    assert later.issue_date == DECIDED + datetime.timedelta(days=5)
    assert later.expiry_date == datetime.date(2029, 4, 1)


@pytest.mark.parametrize("day, field", [
    (timezone.localdate() + datetime.timedelta(days=1), "decision_date"),
    (STAGE2_END - datetime.timedelta(days=1), "decision_date"),
])
def test_decision_dates_are_checked(cycle, dora, day, field):
    before = AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as refused:
        grant(cycle, dora, decision_date=day)

    assert field in refused.value.fields
    assert AuditEvent.objects.count() == before
    assert not CertificationDecision.objects.exists()


def test_only_a_decision_maker_decides(cycle, rita):
    with pytest.raises(NotPermitted):
        grant(cycle, rita)
    assert not CertificationDecision.objects.exists()


def test_a_member_of_the_audit_team_may_not_decide(cycle, dora):
    stage2 = cycle.audits.get(kind="stage2")
    TeamMember.objects.create(audit=stage2, auditor=dora, role=TeamMember.Role.MEMBER)

    with pytest.raises(ImpartialityThreat) as refused:
        grant(cycle, dora)

    assert "audit team" in refused.value.message
    assert not Certificate.objects.exists()


def test_consultancy_within_two_years_bars_the_decision_maker(cycle, dora, nordlicht):
    # Dora is no auditor: the relationship is hers, not an auditor profile's.
    relationship(dora, nordlicht, start=datetime.date(2023, 1, 1), end=datetime.date(2024, 6, 1))

    with pytest.raises(ImpartialityThreat) as refused:
        grant(cycle, dora)

    assert "consultancy" in refused.value.message
    assert decision_checks.independence_problems(dora, cycle, DECIDED)


def test_consultancy_ended_more_than_two_years_ago_is_no_bar(cycle, dora, nordlicht):
    relationship(dora, nordlicht, start=datetime.date(2020, 1, 1), end=datetime.date(2024, 3, 1))

    assert grant(cycle, dora).certificate is not None


def test_employment_declared_on_my_declarations_bars_the_decision(cycle, dora, nordlicht):
    """The record Dora declares herself is the one the decision reads (and the team rule:
    tests/audits/test_team_rules.py)."""
    declare_client_relationship(user=dora, actor=dora, organization_id=nordlicht.pk,
                                kind="employment", start_date="2022-09-01", end_date="2024-12-31")
    assert not hasattr(dora, "auditor_profile")

    with pytest.raises(ImpartialityThreat) as refused:
        decide(cycle=cycle, actor=dora, kind="initial", outcome="refuse",
               decision_date=DECIDED, reason="Refused for the test.")

    assert "employment" in refused.value.message
    assert not CertificationDecision.objects.exists()


@pytest.mark.parametrize("outcome", ["grant", "refuse", "defer"])
def test_a_decision_maker_not_qualified_for_the_standard_may_not_decide(cycle, dora, outcome):
    qualify_decision_maker(dora, ["ISO 14001", "ISO 50001"])
    events = AuditEvent.objects.count()

    with pytest.raises(DecisionMakerNotQualified) as refused:
        decide(cycle=cycle, actor=dora, kind="initial", outcome=outcome,
               decision_date=DECIDED, reason="A reason for the record.")

    assert "ISO 9001:2015" in refused.value.message
    assert refused.value.status == 403
    assert not CertificationDecision.objects.exists()
    assert AuditEvent.objects.count() == events
    assert decision_checks.decider_problems(dora, cycle) == [refused.value.message]


def test_a_decision_maker_without_any_qualification_may_not_decide(cycle, dora):
    DecisionMakerProfile.objects.filter(user=dora).delete()

    with pytest.raises(DecisionMakerNotQualified) as refused:
        grant(cycle, dora)

    assert "ISO 9001:2015" in refused.value.message


def test_the_decision_page_names_the_missing_qualification(cycle, dora):
    qualify_decision_maker(dora, ["ISO 14001"])

    page = client_for(dora).get(f"/cb/cycles/{cycle.pk}/decision/")

    assert page.status_code == 200
    assert "not qualified to decide on ISO 9001:2015" in page.content.decode()


def test_no_grant_while_a_minor_has_no_accepted_plan(nordlicht, alice, rita, adam, dora):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam, findings=("minor",), verify=False)

    with pytest.raises(DecisionInputsMissing) as refused:
        grant(cycle, dora)

    assert set(refused.value.fields) == {"minors_planned"}
    assert not Certificate.objects.exists()
    deferred = decide(cycle=cycle, actor=dora, kind="initial", outcome="defer",
                      decision_date=DECIDED, reason="Waiting for the plan of minor #1.")
    assert deferred.certificate is None
    assert {c["key"]: c["ok"] for c in deferred.checks}["minors_planned"] is False


def test_a_verified_major_and_an_accepted_minor_allow_the_grant(nordlicht, alice, rita, adam,
                                                                 dora):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam, findings=("major", "minor"))

    decision = grant(cycle, dora)

    assert {c["key"] for c in decision.checks} >= {"majors_closed", "minors_planned",
                                                   "majors_in_time"}
    assert all(c["ok"] for c in decision.checks)


def test_no_grant_without_a_recommending_report(nordlicht, alice, rita, adam, dora):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam,
                                 recommendation="do_not_recommend")

    with pytest.raises(DecisionInputsMissing) as refused:
        grant(cycle, dora)

    assert "report" in refused.value.fields


def test_no_grant_before_stage_2_is_closed(nordlicht, alice, rita, adam, dora):
    from programme_helpers import cycle_for

    cycle = cycle_for(nordlicht, alice, rita, standards=[{"standard": "ISO 9001",
                                                           "effective_personnel": "30"}])
    with pytest.raises(DecisionInputsMissing) as refused:
        grant(cycle, dora)
    assert "report" in refused.value.fields


@pytest.mark.parametrize("outcome", ["refuse", "defer"])
def test_refusal_and_deferral_need_a_reason(cycle, dora, outcome):
    with pytest.raises(InvalidInput) as refused:
        decide(cycle=cycle, actor=dora, kind="initial", outcome=outcome, decision_date=DECIDED)
    assert "reason" in refused.value.fields

    decision = decide(cycle=cycle, actor=dora, kind="initial", outcome=outcome,
                      decision_date=DECIDED, reason="The scope is not covered by the audit.")
    assert decision.certificate is None
    assert AuditEvent.objects.filter(action=f"certification.decision.{outcome}").exists()
    assert not Certificate.objects.exists()


def test_a_second_initial_grant_is_refused(cycle, dora):
    grant(cycle, dora)

    with pytest.raises(DecisionInputsMissing) as refused:
        grant(cycle, dora)
    assert "no_certificate" in refused.value.fields
    assert Certificate.objects.count() == 1


# --- ISO 50001 ----------------------------------------------------------------------------------

@pytest.fixture
def energy_cycle(nordlicht, alice, rita, adam):
    return decision_ready_cycle(nordlicht, alice, rita, adam, standards=[ENERGY_LINE])


def evidence(demonstrated: bool) -> dict:
    return {"demonstrated": demonstrated, "improvement_percent": 6.2 if demonstrated else -1.0,
            "savings_kwh": 41000.0, "expected_kwh": 660000.0, "actual_kwh": 619000.0,
            "baseline": "2025", "baseline_period": "2025-01-01 – 2025-12-31",
            "reporting_period": "2026-01-01 – 2026-06-30", "r2": 0.91, "points": 12,
            "warnings": [], "summary": f"Improvement {'6.2' if demonstrated else '-1.0'} %."}


def test_iso_50001_without_energy_data_needs_evidence_and_a_statement(energy_cycle, dora,
                                                                     monkeypatch):
    monkeypatch.setattr("isocert.energy.selectors.improvement_evidence", lambda **kw: None)
    with pytest.raises(DecisionInputsMissing) as refused:
        grant(energy_cycle, dora)
    assert set(refused.value.fields) == {"energy_improvement"}

    decision = grant(energy_cycle, dora, energy_statement="EnPI kWh/t fell 7 % against 2024.",
                     energy_evidence=SimpleUploadedFile("enpi.pdf", PDF, "application/pdf"))

    assert decision.energy_evidence is not None
    assert decision.certificate.number == "ISO50001-2026-000001"
    assert decision.certificate.standards == [{"code": "ISO 50001", "edition": "2018"}]


def test_iso_50001_reads_the_energy_modules_conclusion(energy_cycle, dora, monkeypatch):
    monkeypatch.setattr("isocert.energy.selectors.improvement_evidence",
                        lambda **kw: evidence(False))
    with pytest.raises(DecisionInputsMissing) as refused:
        grant(energy_cycle, dora)
    assert "Improvement -1.0 %" in refused.value.fields["energy_improvement"]

    monkeypatch.setattr("isocert.energy.selectors.improvement_evidence",
                        lambda **kw: evidence(True))
    decision = grant(energy_cycle, dora)
    check = next(c for c in decision.checks if c["key"] == "energy_improvement")
    assert check["ok"] and "6.2" in check["detail"]


def test_iso_27001_needs_the_soa_version(nordlicht, alice, rita, adam, dora):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam, standards=[
        {"standard": "ISO/IEC 27001", "effective_personnel": "30"}])

    with pytest.raises(DecisionInputsMissing) as refused:
        grant(cycle, dora)
    assert set(refused.value.fields) == {"soa_version"}

    certificate = grant(cycle, dora, soa_version="SoA v3 (2026-02-01)").certificate
    assert certificate.number == "ISOIEC27001-2026-000001"
    assert certificate.revisions.get().content["soa_version"] == "SoA v3 (2026-02-01)"


# --- renewal and scope changes -------------------------------------------------------------------

def test_recertification_before_expiry_carries_the_expiry_forward(cycle, dora, adam, alice):
    certificate = grant(cycle, dora).certificate

    renewed = recertify(cycle, dora, adam, alice, audit_end=datetime.date(2026, 6, 1),
                        decision_date=datetime.date(2026, 6, 15)).certificate

    assert renewed.pk == certificate.pk and renewed.number == certificate.number
    assert renewed.expiry_date == datetime.date(2032, 4, 1)   # old expiry + 3 years
    assert renewed.original_issue_date == DECIDED
    assert renewed.issue_date == datetime.date(2026, 6, 15)
    assert renewed.revision == 2
    first, second = renewed.revisions.order_by("revision")
    assert first.superseded_at is not None and second.superseded_at is None
    assert second.reason == "Recertification"


@pytest.fixture
def expired(nordlicht, alice, rita, adam, dora):
    """Granted 2023-01-10, expired 2026-01-10 without recertification."""
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam)
    Audit.objects.filter(cycle=cycle, kind="stage2").update(
        start_date=datetime.date(2022, 12, 8), end_date=datetime.date(2022, 12, 10))
    certificate = grant(cycle, dora, decision_date=datetime.date(2023, 1, 10)).certificate
    daily_run(today=datetime.date(2026, 1, 11))
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.EXPIRED
    return cycle


def test_restoration_within_six_months_after_expiry(expired, dora, adam, alice):
    renewed = recertify(expired, dora, adam, alice, audit_end=datetime.date(2026, 4, 20),
                        decision_date=datetime.date(2026, 5, 1)).certificate

    assert renewed.status == Certificate.Status.ACTIVE
    assert renewed.expiry_date == datetime.date(2029, 1, 10)
    assert renewed.original_issue_date == datetime.date(2023, 1, 10)
    assert list(renewed.status_history.values_list("status", flat=True)) == [
        "Active", "Expired", "Active"]
    # The restoration starts the next cycle too, its dates from the restoring decision.
    expired.refresh_from_db()
    assert expired.status == CertificationCycle.Status.CLOSED
    assert renewed.cycle.decision_date == datetime.date(2026, 5, 1)
    assert due_dates(renewed.cycle) == {
        "surveillance1": datetime.date(2027, 5, 1), "surveillance2": datetime.date(2028, 5, 1),
        "recertification": datetime.date(2029, 1, 9)}


def test_after_the_restoration_window_a_new_stage_2_is_needed(expired, dora, adam, alice):
    with pytest.raises(Conflict) as refused:
        recertify(expired, dora, adam, alice, audit_end=datetime.date(2026, 7, 20),
                  decision_date=datetime.date(2026, 8, 1))

    assert "new stage 2" in refused.value.message
    assert Certificate.objects.get().status == Certificate.Status.EXPIRED
    assert list(CertificationCycle.objects.values_list("pk", "status")) == [
        (expired.pk, CertificationCycle.Status.ACTIVE)]


# --- the next cycle ------------------------------------------------------------------------------

RECERT_END = datetime.date(2026, 4, 20)
RECERTIFIED = datetime.date(2026, 5, 4)


def due_dates(cycle) -> dict:
    return dict(cycle.audits.values_list("kind", "target_date"))


@pytest.fixture
def certified(nordlicht, alice, rita, adam, dora):
    """Certified on 2023-06-01: the certificate expires on 2026-06-01."""
    return certified_cycle(nordlicht, alice, rita, adam, dora, decided=datetime.date(2023, 6, 1))


def test_a_recertification_grant_closes_the_cycle_and_starts_the_next(
        certified, dora, adam, alice, django_capture_on_commit_callbacks):
    from isocert.certification.selectors import cycles_awaiting_decision

    with django_capture_on_commit_callbacks(execute=True):
        decision = recertify(certified, dora, adam, alice, audit_end=RECERT_END,
                             decision_date=RECERTIFIED)

    certificate = decision.certificate
    successor = certificate.cycle
    certified.refresh_from_db()
    assert decision.cycle == certified and certified.status == CertificationCycle.Status.CLOSED
    assert successor.pk != certified.pk
    assert successor.status == CertificationCycle.Status.ACTIVE
    assert (successor.organization, successor.application) == (certified.organization,
                                                               certified.application)
    assert successor.scope == certificate.scope
    assert list(successor.standards.all()) == list(certified.standards.all())
    assert successor.decision_date == RECERTIFIED
    assert certificate.expiry_date == datetime.date(2029, 6, 1)   # old expiry + 3 years
    days = certified.application.audit_time
    assert list(successor.audits.order_by("pk").values_list("kind", "planned_days", "status")) == [
        ("surveillance1", days.surveillance_days, "planned"),
        ("surveillance2", days.surveillance_days, "planned"),
        ("recertification", days.recertification_days, "planned")]
    due = due_dates(successor)
    assert due == {"surveillance1": datetime.date(2027, 5, 4),      # within 12 months
                   "surveillance2": datetime.date(2028, 5, 4),      # the next calendar year
                   "recertification": datetime.date(2029, 5, 31)}  # the day before expiry
    # Once each calendar year between the two recertification years (2026, 2029).
    assert [due["surveillance1"].year, due["surveillance2"].year] == [2027, 2028]
    # The old cycle's audits that never took place are superseded by the recertification.
    assert dict(certified.audits.values_list("kind", "status")) == {
        "stage1": "cancelled", "stage2": "closed", "surveillance1": "cancelled",
        "surveillance2": "cancelled", "recertification": "closed"}
    assert decision_checks.current_certificate(certified) == certificate
    assert decision_checks.current_certificate(successor) == certificate
    assert not cycles_awaiting_decision(user=dora).exists()

    closed = AuditEvent.objects.get(action="audits.cycle.closed")
    assert (closed.object_id, closed.actor) == (str(certified.pk), dora)
    assert closed.payload["next_cycle"] == successor.pk
    started = AuditEvent.objects.get(action="audits.cycle.created", object_id=str(successor.pk))
    assert started.payload["previous_cycle"] == certified.pk
    assert AuditEvent.objects.filter(action="audits.cycle.surveillance_fixed",
                                     object_id=str(successor.pk)).exists()
    assert AuditEvent.objects.filter(action="audits.audit.cancelled").count() == 3
    renewed = AuditEvent.objects.get(action="certification.certificate.renewed")
    assert renewed.payload["cycle"] == successor.pk
    assert verify_chain() is None
    notice = next(m for m in mail.outbox if m.subject.startswith("Next certification cycle"))
    assert alice.email in notice.to
    assert "Surveillance 1: 4 May 2027" in notice.body
    assert f"/cycles/{successor.pk}/" in notice.body


def test_the_next_recertification_is_decided_on_the_new_cycle(certified, dora, adam, alice):
    first = recertify(certified, dora, adam, alice, audit_end=RECERT_END,
                      decision_date=RECERTIFIED).certificate
    successor = first.cycle
    for outcome, reason in (("grant", ""), ("defer", "Waiting for the new site's records.")):
        with pytest.raises(Conflict) as refused:
            decide(cycle=certified, actor=dora, kind="recertification", outcome=outcome,
                   decision_date=RECERTIFIED, reason=reason)
        assert "closed" in refused.value.message and "kind" in refused.value.fields

    second = recertify(successor, dora, adam, alice, audit_end=datetime.date(2026, 10, 20),
                       decision_date=datetime.date(2026, 11, 2)).certificate

    assert second.pk == first.pk and second.revision == 3
    assert second.expiry_date == datetime.date(2032, 6, 1)   # + 3 years again
    third = second.cycle
    successor.refresh_from_db()
    assert successor.status == CertificationCycle.Status.CLOSED
    assert third.pk not in (certified.pk, successor.pk) and third.decision_date == datetime.date(
        2026, 11, 2)
    assert CertificationCycle.objects.get(status=CertificationCycle.Status.ACTIVE) == third
    for cycle in (certified, successor, third):
        assert decision_checks.current_certificate(cycle) == second
    assert CertificationDecision.objects.filter(kind="recertification").count() == 2


@pytest.mark.parametrize("outcome", ["refuse", "defer"])
def test_a_refused_or_deferred_recertification_starts_no_cycle(certified, dora, adam, alice,
                                                               outcome):
    decision = recertify(certified, dora, adam, alice, audit_end=RECERT_END,
                         decision_date=RECERTIFIED, outcome=outcome,
                         reason="The major nonconformity on clause 8.5 is not closed.")

    assert decision.certificate is None
    certificate = Certificate.objects.get()
    assert certificate.cycle == certified and certificate.expiry_date == datetime.date(2026, 6, 1)
    assert list(CertificationCycle.objects.values_list("pk", "status")) == [
        (certified.pk, CertificationCycle.Status.ACTIVE)]
    assert not AuditEvent.objects.filter(action="audits.cycle.closed").exists()


def test_a_suspended_certificate_is_not_recertified_and_no_cycle_starts(certified, dora, adam,
                                                                      alice):
    from isocert.certification.lifecycle import suspend_certificate

    suspend_certificate(certificate=Certificate.objects.get(), actor=dora,
                        date=datetime.date(2026, 3, 2), reason="Surveillance refused.")

    with pytest.raises(Conflict) as refused:
        recertify(certified, dora, adam, alice, audit_end=RECERT_END, decision_date=RECERTIFIED)

    assert "suspended" in refused.value.message
    assert list(CertificationCycle.objects.values_list("pk", "status")) == [
        (certified.pk, CertificationCycle.Status.ACTIVE)]
    assert Certificate.objects.get().cycle == certified
    assert not CertificationDecision.objects.filter(kind="recertification").exists()


def test_scope_reduction_makes_a_new_revision(cycle, dora):
    certificate = grant(cycle, dora).certificate

    decision = decide(cycle=cycle, actor=dora, kind="scope_reduction", outcome="grant",
                      decision_date=datetime.date(2026, 5, 4),
                      scope="Die casting of aluminium housings.",
                      reason="Machining outsourced; no longer performed on site.")

    certificate.refresh_from_db()
    assert decision.certificate == certificate
    assert certificate.scope == "Die casting of aluminium housings."
    assert certificate.revision == 2
    assert certificate.revisions.get(revision=2).reason.startswith("Scope reduced")
    assert certificate.status_history.last().reason.startswith("Scope reduced")


def test_scope_reduction_needs_a_new_scope_and_a_reason(cycle, dora):
    grant(cycle, dora)

    with pytest.raises(InvalidInput) as refused:
        decide(cycle=cycle, actor=dora, kind="scope_reduction", outcome="grant",
               decision_date=datetime.date(2026, 5, 4), reason="Machining outsourced.")
    assert "scope" in refused.value.fields
    assert Certificate.objects.get().revision == 1


def test_scope_extension_needs_a_closed_extension_audit(cycle, dora, adam, alice, rita):
    from isocert.audits.programme.services import add_special_audit

    grant(cycle, dora)
    with pytest.raises(DecisionInputsMissing):
        decide(cycle=cycle, actor=dora, kind="scope_extension", outcome="grant",
               decision_date=datetime.date(2026, 6, 1), scope="Casting and machining.")

    audit = add_special_audit(cycle=cycle, actor=rita, kind="scope_extension",
                              reason="Machining line added.")
    closed_audit(audit, lead=adam, owner=alice, end=datetime.date(2026, 5, 20))
    certificate = decide(cycle=cycle, actor=dora, kind="scope_extension", outcome="grant",
                         decision_date=datetime.date(2026, 6, 1),
                         scope="Die casting and machining of aluminium parts.").certificate
    assert certificate.revision == 2
    assert certificate.scope == "Die casting and machining of aluminium parts."


def test_iso_50001_granted_on_the_clients_own_energy_data(energy_cycle, dora, nordlicht, alice):
    """No stand-in: the energy module's baseline (2024) and reporting period (2025 H1)."""
    from isocert.energy.demo import build_energy_story

    build_energy_story(organization=nordlicht, actor=alice)

    decision = grant(energy_cycle, dora)

    check = next(c for c in decision.checks if c["key"] == "energy_improvement")
    assert check["ok"] and "%" in check["detail"]
    assert decision.certificate.standards == [{"code": "ISO 50001", "edition": "2018"}]


def test_iso_50001_recertification_reads_only_the_current_cycles_reporting_period(
        nordlicht, alice, rita, adam, dora):
    """The initial evidence (2022 H2) is not reused at recertification: the period judged
    starts on or after the decision that began the cycle (2023-06-01)."""
    from isocert.energy import services as energy
    from isocert.energy.demo import build_energy_story, monthly_csv, monthly_mapping
    from isocert.energy.importer import MappingChoice

    story = build_energy_story(organization=nordlicht, actor=alice,
                               start=datetime.date(2021, 7, 1))  # reporting 2022-07 … 12
    certified = certified_cycle(nordlicht, alice, rita, adam, dora, standards=[ENERGY_LINE],
                                decided=datetime.date(2023, 6, 1))

    with pytest.raises(DecisionInputsMissing) as refused:
        recertify(certified, dora, adam, alice, audit_end=RECERT_END,
                  decision_date=RECERTIFIED)

    assert set(refused.value.fields) == {"energy_improvement"}
    detail = refused.value.fields["energy_improvement"]
    assert detail.startswith("Energy performance improvement not demonstrated: no reporting "
                             "period lies within the cycle being decided (from 1 Jun 2023 "
                             "to 4 May 2026)")
    assert ("“First reporting period” (1 Jul 2022 – 31 Dec 2022), starts before 1 Jun 2023"
            in detail)
    assert not CertificationDecision.objects.filter(kind="recertification").exists()

    # 2025 H1, within the cycle, 8 % below what the 2021/22 baseline expects.
    energy.import_energy_data(organization=nordlicht, actor=alice, file_name="2025.csv",
                              data=monthly_csv(start=datetime.date(2025, 1, 1), months=6,
                                               baseline_months=0).encode(),
                              mapping=MappingChoice.from_json(monthly_mapping(story)))
    energy.add_reporting_period(
        baseline=story["baseline"], actor=alice,
        name="2025 H1", period_start=datetime.date(2025, 1, 1), period_end=datetime.date(2025, 6, 30))
    decision = decide(cycle=certified, actor=dora, kind="recertification", outcome="grant",
                      decision_date=RECERTIFIED)

    check = next(c for c in decision.checks if c["key"] == "energy_improvement")
    assert check["ok"]
    assert check["detail"].startswith("Energy performance improvement demonstrated. ")
    assert "Reporting period “2025 H1” (1 Jan 2025 – 30 Jun 2025)" in check["detail"]
    assert "The reporting period lies within the cycle being decided (from 1 Jun 2023" \
        in check["detail"]
    assert re.search(r"savings [\d,]+ kWh ± [\d,]+ kWh \(fsu [\d.]+% at 68% confidence\)",
                     check["detail"])


def test_iso_50001_a_reporting_period_still_running_is_not_judged(energy_cycle, dora,
                                                                   nordlicht, alice):
    """The story's period ends 2025-06-30: a decision dated before it cannot judge it."""
    from isocert.energy.demo import build_energy_story

    build_energy_story(organization=nordlicht, actor=alice)
    Audit.objects.filter(cycle=energy_cycle, kind=Audit.Kind.STAGE2).update(
        start_date=datetime.date(2025, 6, 1), end_date=datetime.date(2025, 6, 3))

    with pytest.raises(DecisionInputsMissing) as refused:
        grant(energy_cycle, dora, decision_date=datetime.date(2025, 6, 20))

    assert "ends after 20 Jun 2025, the decision date: its data is not complete" in (
        refused.value.fields["energy_improvement"])
