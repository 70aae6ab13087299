"""Issuing the certificate of an accepted transfer (IAF MD 2 §2.3): it keeps the current
cycle's expiry, continues its surveillance programme without an initial audit and names
the previous CB in its history; every refusal writes nothing."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from factories import make_user
from transfer_helpers import (
    ALL_CHECKS,
    PREVIOUS_CB,
    PREVIOUS_NUMBER,
    accepted_transfer,
    previous_decision,
    transfer_application,
)

from isocert.audits.models import Audit, CertificationCycle
from isocert.audits.programme import services as programme
from isocert.audits.programme.rules import add_months
from isocert.certification.models import Certificate, CertificationDecision
from isocert.certification.services import decide
from isocert.certification.transfers import TransferReviewerDecides, issue_transfer
from isocert.core.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent
from isocert.registration.models import TransferReview
from isocert.registration.services import conclude_transfer_review, record_transfer_review


@pytest.fixture
def accepted(nordlicht, alice, rita):
    application = transfer_application(nordlicht, alice, rita)
    accepted_transfer(application, rita)
    return application


def test_the_certificate_keeps_the_expiry_and_names_the_previous_cb(
        accepted, dora, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        decision = issue_transfer(application=accepted, actor=dora)

    certificate = decision.certificate
    assert decision.kind == CertificationDecision.Kind.TRANSFER and decision.audit is None
    assert {check["key"] for check in decision.checks} == set(ALL_CHECKS)
    assert certificate.status == Certificate.Status.ACTIVE
    assert certificate.expiry_date == accepted.current_certificate_expiry
    revision = certificate.revisions.get()
    assert revision.reason == (f"Transfer of certification from {PREVIOUS_CB} "
                               f"(certificate {PREVIOUS_NUMBER})")
    assert revision.content["expiry_date"] == accepted.current_certificate_expiry.isoformat()
    history = certificate.status_history.get()
    assert PREVIOUS_CB in history.reason and PREVIOUS_NUMBER in history.reason
    assert TransferReview.objects.get().status == TransferReview.Status.ISSUED
    assert AuditEvent.objects.filter(action="certification.certificate.transferred").exists()
    assert any(alice.email in m.to for m in mail.outbox)


def test_the_programme_continues_from_the_stage_the_client_is_in(accepted, dora):
    decision = issue_transfer(application=accepted, actor=dora)

    cycle = decision.cycle
    decided = previous_decision()
    assert cycle.transferred_from == PREVIOUS_CB
    assert cycle.decision_date == decided
    assert cycle.transferred_on == timezone.localdate()
    # Surveillance 1 was held with the previous CB: no stage 1, stage 2 or surveillance 1.
    due = dict(cycle.audits.values_list("kind", "target_date"))
    assert due == {
        Audit.Kind.SURVEILLANCE2: add_months(decided, 24),
        Audit.Kind.RECERTIFICATION: accepted.current_certificate_expiry
        - datetime.timedelta(days=1),
    }


def test_a_cycle_after_initial_certification_plans_both_surveillances(nordlicht, alice, rita,
                                                                     dora):
    decided = add_months(timezone.localdate(), -6)
    application = transfer_application(
        nordlicht, alice, rita, current_cycle_stage="initial",
        current_cycle_decision_date=decided,
        current_certificate_expiry=add_months(decided, 36))
    accepted_transfer(application, rita)

    cycle = issue_transfer(application=application, actor=dora).cycle

    assert sorted(cycle.audits.values_list("kind", flat=True)) == sorted(
        [Audit.Kind.SURVEILLANCE1, Audit.Kind.SURVEILLANCE2, Audit.Kind.RECERTIFICATION])
    assert cycle.audits.get(kind="surveillance1").target_date == add_months(decided, 12)


def test_an_overdue_surveillance_of_the_previous_cb_is_refused(nordlicht, alice, rita, dora):
    application = transfer_application(nordlicht, alice, rita, current_cycle_stage="initial")
    accepted_transfer(application, rita)

    with pytest.raises(Conflict) as refused:
        issue_transfer(application=application, actor=dora)

    assert "current_cycle_stage" in refused.value.fields
    assert not Certificate.objects.exists() and not CertificationCycle.objects.exists()
    assert TransferReview.objects.get().status == TransferReview.Status.ACCEPTED


def test_an_accepted_transfer_gets_no_initial_cycle(accepted, rita):
    with pytest.raises(Conflict, match="no stage 1"):
        programme.create_cycle(application=accepted, actor=rita)


def test_a_refused_transfer_is_a_new_initial_certification(nordlicht, alice, rita, dora):
    application = transfer_application(nordlicht, alice, rita)
    record_transfer_review(application=application, actor=rita)
    conclude_transfer_review(application=application, accept=False, actor=rita,
                             reasons="The certificate is suspended.")

    with pytest.raises(TransitionNotAllowed):
        issue_transfer(application=application, actor=dora)
    cycle = programme.create_cycle(application=application, actor=rita)

    assert {Audit.Kind.STAGE1, Audit.Kind.STAGE2} <= set(
        cycle.audits.values_list("kind", flat=True))
    assert not cycle.transferred_from


def test_an_open_review_issues_nothing(nordlicht, alice, rita, dora):
    application = transfer_application(nordlicht, alice, rita)
    with pytest.raises(Conflict):
        issue_transfer(application=application, actor=dora)
    record_transfer_review(application=application, actor=rita, **ALL_CHECKS)
    with pytest.raises(TransitionNotAllowed):
        issue_transfer(application=application, actor=dora)
    assert not Certificate.objects.exists()


def test_only_a_decision_maker_issues(accepted, rita, adam, alice):
    for person in (rita, adam, alice):
        with pytest.raises(NotPermitted):
            issue_transfer(application=accepted, actor=person)
    assert not Certificate.objects.exists()


def test_the_transfer_reviewer_does_not_decide(nordlicht, alice, dora):
    both = make_user("rhea@cb.example", "Rhea Both", roles=["reviewer", "decision_maker"])
    application = transfer_application(nordlicht, alice, both)
    accepted_transfer(application, both)

    with pytest.raises(TransferReviewerDecides):
        issue_transfer(application=application, actor=both)
    assert not Certificate.objects.exists()
    assert issue_transfer(application=application, actor=dora).certificate


def test_issued_once(accepted, dora):
    issue_transfer(application=accepted, actor=dora)
    with pytest.raises(TransitionNotAllowed):
        issue_transfer(application=accepted, actor=dora)
    assert Certificate.objects.count() == 1


def test_dates_are_checked(accepted, dora):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(InvalidInput) as refused:
        issue_transfer(application=accepted, actor=dora, decision_date=tomorrow)
    assert "decision_date" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        issue_transfer(application=accepted, actor=dora,
                       effective_date=timezone.localdate() - datetime.timedelta(days=1))
    assert "effective_date" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        issue_transfer(application=accepted, actor=dora,
                       decision_date=timezone.localdate() - datetime.timedelta(days=3))
    assert "decision_date" in refused.value.fields   # before the review's conclusion


def test_an_expired_certificate_is_not_transferred(nordlicht, alice, rita, dora):
    application = transfer_application(nordlicht, alice, rita)
    accepted_transfer(application, rita)
    type(application).objects.filter(pk=application.pk).update(
        current_certificate_expiry=timezone.localdate())

    with pytest.raises(Conflict) as refused:
        issue_transfer(application=application, actor=dora)
    assert "current_certificate_expiry" in refused.value.fields


def test_the_audit_decision_refuses_the_transfer_kind(accepted, dora):
    cycle_like = CertificationCycle(pk=0)
    with pytest.raises(InvalidInput) as refused:
        decide(cycle=cycle_like, actor=dora, kind="transfer", outcome="grant")
    assert "kind" in refused.value.fields
