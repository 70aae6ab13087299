"""What an upheld appeal (ISO/IEC 17021-1 §9.7) asks of certification: a decision reopened
and taken again through ``decide``, and a withdrawn certificate reinstated."""

import pytest
from certification_helpers import DECIDED, decision_ready_cycle

from isocert.certification.lifecycle import reinstate_certificate, withdraw_certificate
from isocert.certification.models import Certificate, CertificationDecision
from isocert.certification.selectors import cycles_awaiting_decision
from isocert.certification.services import decide, reopen_decision
from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent

REASON = "Appeal APL-2026-000001 upheld: the major was verified before the decision."


@pytest.fixture
def cycle(nordlicht, alice, rita, adam):
    return decision_ready_cycle(nordlicht, alice, rita, adam)


@pytest.fixture
def refusal(cycle, dora):
    return decide(cycle=cycle, actor=dora, kind="initial", outcome="refuse",
                  decision_date=DECIDED, reason="Major 8.5 not closed.")


def test_a_reopened_refusal_is_back_in_the_queue_and_decided_again(refusal, cycle, dora, ada):
    assert cycle not in cycles_awaiting_decision(user=dora)
    reopen_decision(decision=refusal, actor=ada, reason=REASON)
    refusal.refresh_from_db()
    assert refusal.status == CertificationDecision.Status.REOPENED
    assert refusal.reopen_reason == REASON
    assert AuditEvent.objects.filter(action="certification.decision.reopened",
                                     object_id=str(refusal.pk)).exists()
    assert cycle in cycles_awaiting_decision(user=dora)
    granted = decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                     decision_date=DECIDED)
    assert granted.certificate.status == Certificate.Status.ACTIVE


def test_a_decision_is_reopened_once(refusal, ada):
    reopen_decision(decision=refusal, actor=ada, reason=REASON)
    with pytest.raises(TransitionNotAllowed):
        reopen_decision(decision=refusal, actor=ada, reason=REASON)


def test_only_cb_staff_reopen_and_with_a_reason(refusal, alice, ada):
    with pytest.raises(NotPermitted):
        reopen_decision(decision=refusal, actor=alice, reason=REASON)
    with pytest.raises(InvalidInput):
        reopen_decision(decision=refusal, actor=ada, reason="")
    refusal.refresh_from_db()
    assert refusal.status == CertificationDecision.Status.FINAL


def test_a_withdrawn_certificate_is_reinstated(cycle, dora, alice):
    certificate = decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                         decision_date=DECIDED).certificate
    withdrawn = withdraw_certificate(certificate=certificate, actor=dora,
                                     reason="Misuse of the certification mark.")
    with pytest.raises(NotPermitted):
        reinstate_certificate(certificate=withdrawn, actor=alice, reason=REASON)
    reinstated = reinstate_certificate(certificate=withdrawn, actor=dora, reason=REASON)
    assert reinstated.status == Certificate.Status.ACTIVE
    assert reinstated.status_history.order_by("-pk").first().reason == REASON
    with pytest.raises(TransitionNotAllowed):
        reinstate_certificate(certificate=reinstated, actor=dora, reason=REASON)
