"""The pre-transfer review (IAF MD 2 §2.2): Rita records the checks and concludes; every
refusal leaves nothing written."""

import pytest
from django.core import mail
from factories import make_user
from transfer_helpers import ALL_CHECKS, PREVIOUS_NUMBER, accepted_transfer, transfer_application

from isocert.core.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent
from isocert.registration.models import TransferReview
from isocert.registration.services import (
    conclude_transfer_review,
    record_transfer_review,
    submit_application,
    update_application,
)


@pytest.fixture
def transfer(nordlicht, alice, rita):
    return transfer_application(nordlicht, alice, rita, quote=False)


def test_the_checks_are_recorded_with_an_audit_event(transfer, rita):
    review = record_transfer_review(application=transfer, actor=rita,
                                    **{**ALL_CHECKS, "open_majors_closed": False})

    assert review.status == TransferReview.Status.OPEN and review.reviewed_by == rita
    assert not review.passed
    assert review.failed_checks() == [TransferReview.CHECKS["open_majors_closed"]]
    event = AuditEvent.objects.filter(action="registration.transfer.reviewed").get()
    assert event.payload["checks"]["open_majors_closed"] is False
    assert event.payload["passed"] is False


def test_accepting_tells_the_client_and_the_decision_makers(transfer, rita, alice, dora,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        review = accepted_transfer(transfer, rita)

    assert review.status == TransferReview.Status.ACCEPTED and review.concluded_at
    assert "no open majors" in review.reasons
    to_client = [m for m in mail.outbox
                 if m.subject == f"Transfer of certificate {PREVIOUS_NUMBER}: accepted"]
    assert len(to_client) == 1 and alice.email in to_client[0].to
    assert "continuing your current certification cycle" in to_client[0].body
    assert any(dora.email in m.to and "certificate to decide" in m.subject for m in mail.outbox)
    assert AuditEvent.objects.filter(action="registration.transfer.accepted").exists()


def test_a_failed_check_refuses_acceptance_and_names_it(transfer, rita):
    record_transfer_review(application=transfer, actor=rita,
                           **{**ALL_CHECKS, "not_suspended": False})

    with pytest.raises(Conflict) as refused:
        conclude_transfer_review(application=transfer, accept=True, actor=rita,
                                 reasons="Looks fine to me.")

    assert "suspended" in str(refused.value)
    assert TransferReview.objects.get().status == TransferReview.Status.OPEN


@pytest.mark.parametrize("visit", ["pending", "unsatisfactory"])
def test_a_visit_pending_or_unsatisfactory_refuses_acceptance(transfer, rita, visit):
    extra = ({"visit_date": "2026-01-05", "visit_findings": "Records missing."}
             if visit == "unsatisfactory" else {})
    record_transfer_review(application=transfer, actor=rita, visit=visit, **ALL_CHECKS,
                           **extra)

    with pytest.raises(Conflict, match="visit"):
        conclude_transfer_review(application=transfer, accept=True, actor=rita,
                                 reasons="Documents are fine.")


def test_a_held_visit_needs_its_date_and_findings(transfer, rita):
    with pytest.raises(InvalidInput) as refused:
        record_transfer_review(application=transfer, actor=rita, visit="satisfactory",
                               visit_date="2026-01-05", **ALL_CHECKS)
    assert "visit_findings" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        record_transfer_review(application=transfer, actor=rita, visit="satisfactory",
                               visit_findings="All fine.", **ALL_CHECKS)
    assert "visit_date" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        record_transfer_review(application=transfer, actor=rita, visit="maybe", **ALL_CHECKS)
    assert "visit" in refused.value.fields
    assert not TransferReview.objects.exists()


def test_refusing_needs_reasons_and_tells_the_client(transfer, rita, alice,
                                                     django_capture_on_commit_callbacks):
    record_transfer_review(application=transfer, actor=rita)
    with pytest.raises(InvalidInput) as refused:
        conclude_transfer_review(application=transfer, accept=False, actor=rita, reasons=" ")
    assert "reasons" in refused.value.fields

    with django_capture_on_commit_callbacks(execute=True):
        review = conclude_transfer_review(application=transfer, accept=False, actor=rita,
                                          reasons="The accreditation body is not an IAF MLA "
                                                  "signatory.")

    assert review.status == TransferReview.Status.REFUSED
    assert any("refused" in m.subject and alice.email in m.to for m in mail.outbox)
    with pytest.raises(TransitionNotAllowed):
        conclude_transfer_review(application=transfer, accept=True, actor=rita,
                                 reasons="Changed my mind.")
    with pytest.raises(Conflict, match="concluded"):
        record_transfer_review(application=transfer, actor=rita, **ALL_CHECKS)


def test_only_a_transfer_reviewer_reviews(transfer, adam, dora, alice):
    for person in (adam, dora, alice):
        with pytest.raises(NotPermitted):
            record_transfer_review(application=transfer, actor=person, **ALL_CHECKS)
    assert not TransferReview.objects.exists()


def test_an_application_without_transfer_is_refused(registered, rita):
    with pytest.raises(Conflict) as refused:
        record_transfer_review(application=registered, actor=rita, **ALL_CHECKS)
    assert "is_transfer" in refused.value.fields


def test_a_draft_is_not_reviewed(nordlicht, alice, rita):
    from transfer_helpers import transfer_data

    from isocert.registration.services import create_application

    draft = create_application(organization=nordlicht, actor=alice, **transfer_data())
    with pytest.raises(Conflict, match="under review or registered"):
        record_transfer_review(application=draft, actor=rita, **ALL_CHECKS)


def test_concluding_without_a_review_is_refused(transfer, rita):
    with pytest.raises(Conflict) as refused:
        conclude_transfer_review(application=transfer, accept=False, actor=rita,
                                 reasons="Nothing reviewed.")
    assert "transfer_review" in refused.value.fields


def test_a_transfer_application_needs_its_cycle_data_to_be_submitted(nordlicht, alice):
    from factories import complete_application_data

    from isocert.registration.services import create_application

    application = create_application(
        organization=nordlicht, actor=alice,
        **complete_application_data(is_transfer=True, current_cb_name="Hanse",
                                    current_certificate_number="HZ-1"))
    with pytest.raises(InvalidInput) as refused:
        submit_application(application=application, actor=alice)
    assert {"current_certificate_expiry", "current_cycle_decision_date",
            "current_cycle_stage"} <= set(refused.value.fields)
    with pytest.raises(InvalidInput) as refused:
        update_application(application=application, actor=alice, current_cycle_stage="stage9")
    assert "current_cycle_stage" in refused.value.fields


def test_a_second_reviewer_may_be_named_competent(transfer):
    """The capability follows the role map: any reviewer may review a transfer."""
    rex = make_user("rex@cb.example", "Rex Reviewer", roles=["reviewer"])
    assert record_transfer_review(application=transfer, actor=rex, **ALL_CHECKS).passed
