"""Certificates on a superseded edition (IAF transition notices, e.g. IAF MD 26:2023): the
notice on the pages, the expiry cap, the daily warnings and expiry at the deadline, and the
transition decision that revises the certificate onto the new edition."""

import datetime

import pytest
from certification_helpers import DECIDED, certified_cycle, closed_audit, decision_ready_cycle
from django.core import mail
from django.utils import timezone
from helpers.dates import shown
from transition_helpers import NEW_EDITION, NOTICE, transition_to_new_edition

from isocert.accounts.models import DecisionMakerProfile
from isocert.audits.models import Audit
from isocert.audits.programme import services as programme
from isocert.catalog.models import EditionTransition
from isocert.certification.editions import daily_transition_run
from isocert.certification.lifecycle import daily_run, suspend_certificate
from isocert.certification.models import Certificate, CertificationDecision, TransitionWarning
from isocert.certification.services import decide
from isocert.core.errors import Conflict
from isocert.core.models import AuditEvent

pytestmark = pytest.mark.django_db
EXPIRY = datetime.date(2029, 4, 1)  # three years after DECIDED


@pytest.fixture
def certificate(nordlicht, alice, rita, adam, dora):
    cycle = certified_cycle(nordlicht, alice, rita, adam, dora, decided=DECIDED)
    return cycle.certificates.get()


@pytest.fixture
def transition(ada):
    return transition_to_new_edition(ada, days=400, extra_audit_days="1")


def _transition_audit(certificate, *, rita, adam, alice, end=None) -> Audit:
    audit = programme.add_special_audit(cycle=certificate.cycle, actor=rita, kind="transition",
                                        reason="Move to the new edition.")
    return closed_audit(audit, lead=adam, owner=alice,
                        end=end or timezone.localdate() - datetime.timedelta(days=1))


def _warnings(outbox=None) -> list:
    return [m for m in (outbox or mail.outbox) if "move from" in m.subject]


# --- the notice ---------------------------------------------------------------------------------

def test_a_certificate_on_the_superseded_edition_shows_the_deadline(certificate, transition,
                                                                    alice, dora, api_client):
    text = (f"ISO 9001:2015 — superseded by :{NEW_EDITION}; transition by "
            f"{shown(transition.deadline)}")
    for user in (alice, dora):
        client = api_client(user)
        assert text in client.get(f"/certificates/{certificate.pk}/").content.decode()
        assert text in client.get("/certificates/").content.decode()


def test_the_clients_dashboard_shows_the_deadline(certificate, transition, alice, api_client):
    page = api_client(alice).get("/dashboard/").content.decode()
    assert f"transition by {shown(transition.deadline)}" in page
    assert certificate.number in page


def test_no_notice_without_a_transition(certificate, alice, api_client):
    page = api_client(alice).get(f"/certificates/{certificate.pk}/").content.decode()
    assert "superseded by" not in page


# --- the expiry cap -----------------------------------------------------------------------------

def test_a_certificate_issued_on_a_superseded_edition_expires_at_the_deadline(
        nordlicht, alice, rita, adam, dora, ada):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam)
    transition = transition_to_new_edition(ada)
    certificate = decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                         decision_date=DECIDED).certificate
    assert certificate.expiry_date == transition.deadline
    assert certificate.expiry_before_cap == EXPIRY
    assert certificate.revisions.get().content["expiry_date"] == transition.deadline.isoformat()
    daily_run(transition.deadline + datetime.timedelta(days=1))
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.EXPIRED
    assert "not transitioned" in certificate.status_history.last().reason


def test_no_certification_is_granted_on_an_edition_past_its_deadline(
        nordlicht, alice, rita, adam, dora, ada):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam)
    transition = transition_to_new_edition(ada)
    EditionTransition.objects.filter(pk=transition.pk).update(
        deadline=DECIDED - datetime.timedelta(days=1))
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict) as refused:
        decide(cycle=cycle, actor=dora, kind="initial", outcome="grant", decision_date=DECIDED)
    assert "transition deadline" in refused.value.message
    assert not Certificate.objects.exists()
    assert not CertificationDecision.objects.exists()
    assert AuditEvent.objects.count() == events


# --- the daily run ------------------------------------------------------------------------------

def test_the_daily_run_warns_once_per_lead_time(certificate, transition, alice, bob, ada,
                                                dora, django_capture_on_commit_callbacks):
    deadline = transition.deadline
    with django_capture_on_commit_callbacks(execute=True):
        assert daily_transition_run(deadline - datetime.timedelta(days=200)) == {
            "expired_untransitioned": 0, "transition_warnings": 0}
        summary = daily_run(deadline - datetime.timedelta(days=80))
    assert summary["transition_warnings"] == 1
    warnings = _warnings()
    # Client and CB apart, each once: the 180-day warning is passed, only the 90-day one sent.
    assert sorted(sorted(m.to) for m in warnings) == [
        sorted([ada.email, dora.email]), sorted([alice.email, bob.email])]
    assert f"The transition deadline is {shown(deadline)}" in warnings[0].body
    assert NOTICE in warnings[0].body
    assert set(TransitionWarning.objects.values_list("days", flat=True)) == {180, 90}
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        daily_run(deadline - datetime.timedelta(days=75))
    assert _warnings() == []
    with django_capture_on_commit_callbacks(execute=True):
        daily_run(deadline - datetime.timedelta(days=30))
    assert len(_warnings()) == 2
    assert AuditEvent.objects.filter(
        action="certification.certificate.transition_warned").count() == 2


def test_a_certificate_not_transitioned_expires_after_the_deadline(
        certificate, transition, alice, django_capture_on_commit_callbacks):
    deadline = transition.deadline
    assert daily_run(deadline)["expired_untransitioned"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        summary = daily_run(deadline + datetime.timedelta(days=1))
    assert summary["expired_untransitioned"] == 1
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.EXPIRED
    change = certificate.status_history.last()
    assert change.date == deadline + datetime.timedelta(days=1)
    assert "not transitioned" in change.reason and NOTICE in change.reason
    event = AuditEvent.objects.get(action="certification.certificate.expired")
    assert event.payload["transition_deadline"] == deadline.isoformat()
    assert any(alice.email in m.to and "Expired" in m.subject for m in mail.outbox)
    # Idempotent.
    assert daily_run(deadline + datetime.timedelta(days=2))["expired_untransitioned"] == 0


# --- the transition decision --------------------------------------------------------------------

def test_a_transition_decision_revises_the_certificate_onto_the_new_edition(
        certificate, transition, rita, adam, alice, dora, api_client):
    audit = _transition_audit(certificate, rita=rita, adam=adam, alice=alice)
    assert audit.planned_days == 1  # the CB's extra transition time
    # The transition audit checked the new edition's clauses.
    assert set(audit.coverage.values_list("clause__standard__edition", flat=True)) == {
        NEW_EDITION}
    decision = decide(cycle=certificate.cycle, actor=dora, kind="transition", outcome="grant")
    certificate.refresh_from_db()
    assert decision.audit == audit and decision.certificate == certificate
    assert certificate.standards == [{"code": "ISO 9001", "edition": NEW_EDITION}]
    assert list(certificate.standard_rows.values_list("code", "edition")) == [
        ("ISO 9001", NEW_EDITION)]
    assert (certificate.revision, certificate.expiry_date) == (2, EXPIRY)
    assert certificate.status == Certificate.Status.ACTIVE
    current = certificate.revisions.get(superseded_at__isnull=True)
    assert current.revision == 2 and current.reason.startswith("Transitioned")
    assert current.content["standards"][0]["edition"] == NEW_EDITION
    assert certificate.revisions.get(revision=1).superseded_at is not None
    assert [str(s) for s in certificate.cycle.standards.all()] == [f"ISO 9001:{NEW_EDITION}"]
    assert AuditEvent.objects.filter(action="certification.certificate.transitioned").exists()
    assert AuditEvent.objects.filter(action="audits.cycle.editions_moved").exists()
    page = api_client(alice).get(f"/certificates/{certificate.pk}/").content.decode()
    assert "superseded by" not in page
    # Nothing left to warn about or expire.
    assert daily_transition_run(transition.deadline + datetime.timedelta(days=1)) == {
        "expired_untransitioned": 0, "transition_warnings": 0}


def test_the_transition_gives_back_the_expiry_capped_at_the_deadline(
        nordlicht, alice, rita, adam, dora, ada):
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam)
    transition = transition_to_new_edition(ada)
    certificate = decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                         decision_date=DECIDED).certificate
    assert certificate.expiry_date == transition.deadline
    _transition_audit(certificate, rita=rita, adam=adam, alice=alice)
    decide(cycle=cycle, actor=dora, kind="transition", outcome="grant")
    certificate.refresh_from_db()
    assert (certificate.expiry_date, certificate.expiry_before_cap) == (EXPIRY, None)


def test_a_second_transition_decision_is_refused(certificate, transition, rita, adam, alice,
                                                 dora):
    _transition_audit(certificate, rita=rita, adam=adam, alice=alice)
    decide(cycle=certificate.cycle, actor=dora, kind="transition", outcome="grant")
    # The cycle is on the new edition now: Dora is qualified for it too.
    DecisionMakerProfile.objects.get(user=dora).standards.add(transition.to_standard)
    decisions, events = CertificationDecision.objects.count(), AuditEvent.objects.count()
    with pytest.raises(Conflict) as refused:
        decide(cycle=certificate.cycle, actor=dora, kind="transition", outcome="grant")
    assert "nothing to transition" in refused.value.message
    assert CertificationDecision.objects.count() == decisions
    assert AuditEvent.objects.count() == events
    certificate.refresh_from_db()
    assert certificate.revision == 2


def test_a_suspended_certificate_is_not_transitioned(certificate, transition, rita, adam, alice,
                                                     dora):
    _transition_audit(certificate, rita=rita, adam=adam, alice=alice)
    suspend_certificate(certificate=certificate, actor=dora, reason="Surveillance refused.")
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict):
        decide(cycle=certificate.cycle, actor=dora, kind="transition", outcome="grant")
    certificate.refresh_from_db()
    assert certificate.standards == [{"code": "ISO 9001", "edition": "2015"}]
    assert certificate.revision == 1
    assert AuditEvent.objects.count() == events
