"""The reviewer's side of the lifecycle, and the client's answer to a request.

start_review, request_information, resubmit, record_preliminary_assessment,
register, decline: only CB reviewers review, registered/declined/withdrawn are final.
"""

import pytest
from factories import PASSING_ASSESSMENT

from isocert.core.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent
from isocert.registration.models import Application, ApplicationMessage, PreliminaryAssessment
from isocert.registration.services import (
    decline_application,
    record_preliminary_assessment,
    register_application,
    request_information,
    resubmit_application,
    start_review,
    update_application,
    withdraw_application,
)


@pytest.fixture
def withdrawn(submitted, alice):
    return withdraw_application(application=submitted, actor=alice)


class Unchanged:
    """Remembers an application's state and the audit trail's length, to assert a refusal."""

    def __init__(self, application):
        self.application = application
        application.refresh_from_db()
        self.state = (application.status, application.version, application.reviewer_id,
                      application.registration_number)
        self.events = AuditEvent.objects.count()
        self.messages = ApplicationMessage.objects.count()

    def check(self):
        self.application.refresh_from_db()
        a = self.application
        assert (a.status, a.version, a.reviewer_id, a.registration_number) == self.state
        assert AuditEvent.objects.count() == self.events
        assert ApplicationMessage.objects.count() == self.messages


def last_event():
    return AuditEvent.objects.order_by("seq").last()


# --- start_review -------------------------------------------------------------------------------

def test_reviewer_starts_review_of_a_submitted_application(submitted, rita):
    start_review(application=submitted, actor=rita)

    submitted.refresh_from_db()
    assert submitted.status == Application.Status.UNDER_REVIEW
    assert submitted.version == 3
    assert submitted.reviewer == rita
    event = last_event()
    assert event.action == "registration.application.under_review"
    assert event.payload == {"from": "submitted", "to": "under_review", "reviewer": "rita@cb.example"}


def test_reviewer_starts_review_of_a_resubmitted_application(resubmitted, rita):
    start_review(application=resubmitted, actor=rita)

    resubmitted.refresh_from_db()
    assert resubmitted.status == "under_review"
    assert last_event().payload["from"] == "resubmitted"


@pytest.mark.parametrize("actor", ["alice", "adam", "dora", "ada"])
def test_only_a_reviewer_starts_review(request, submitted, actor):
    user = request.getfixturevalue(actor)
    unchanged = Unchanged(submitted)
    with pytest.raises(NotPermitted):
        start_review(application=submitted, actor=user)
    unchanged.check()


@pytest.mark.parametrize("state", ["draft", "under_review", "information_requested"])
def test_review_starts_only_from_submitted_or_resubmitted(request, rita, state):
    application = request.getfixturevalue(state)
    unchanged = Unchanged(application)
    with pytest.raises(TransitionNotAllowed):
        start_review(application=application, actor=rita)
    unchanged.check()


# --- request_information and resubmit ---------------------------------------------------------------

def test_reviewer_asks_for_information(under_review, rita):
    request_information(application=under_review, actor=rita, message=" Send the energy review. ")

    under_review.refresh_from_db()
    assert under_review.status == Application.Status.INFORMATION_REQUESTED
    assert under_review.version == 4
    message = under_review.messages.get()
    assert (message.kind, message.text, message.author) == (
        "information_request", "Send the energy review.", rita)
    assert last_event().action == "registration.application.information_requested"
    assert last_event().payload["message"] == "Send the energy review."


def test_a_request_needs_a_message(under_review, rita):
    unchanged = Unchanged(under_review)
    with pytest.raises(InvalidInput) as excinfo:
        request_information(application=under_review, actor=rita, message="   ")
    assert list(excinfo.value.fields) == ["message"]
    unchanged.check()


def test_the_client_cannot_request_information(under_review, alice):
    unchanged = Unchanged(under_review)
    with pytest.raises(NotPermitted):
        request_information(application=under_review, actor=alice, message="Hm?")
    unchanged.check()


def test_information_is_requested_only_under_review(submitted, rita):
    unchanged = Unchanged(submitted)
    with pytest.raises(TransitionNotAllowed):
        request_information(application=submitted, actor=rita, message="Send more.")
    unchanged.check()


def test_the_client_completes_and_resubmits(information_requested, bob):
    update_application(application=information_requested, actor=bob,
                       scope_statement="Die casting and anodising of aluminium parts.")

    resubmit_application(application=information_requested, actor=bob,
                         response="Energy review attached, scope clarified.")

    information_requested.refresh_from_db()
    assert information_requested.status == Application.Status.RESUBMITTED
    assert information_requested.version == 6
    assert information_requested.scope_statement == "Die casting and anodising of aluminium parts."
    assert [m.kind for m in information_requested.messages.all()] == [
        "information_request", "response"]
    assert last_event().action == "registration.application.resubmitted"
    assert last_event().actor == bob


def test_a_resubmission_needs_an_answer(information_requested, alice):
    unchanged = Unchanged(information_requested)
    with pytest.raises(InvalidInput) as excinfo:
        resubmit_application(application=information_requested, actor=alice, response="")
    assert list(excinfo.value.fields) == ["response"]
    unchanged.check()


def test_a_resubmission_must_still_be_complete(information_requested, alice):
    update_application(application=information_requested, actor=alice,
                       standards=[{"standard": "ISO 9001"}])
    unchanged = Unchanged(information_requested)

    with pytest.raises(InvalidInput) as excinfo:
        resubmit_application(application=information_requested, actor=alice, response="Done.")

    assert list(excinfo.value.fields) == ["standards.0.effective_personnel"]
    unchanged.check()


@pytest.mark.parametrize("actor", ["vera", "rita", "charlie"])
def test_only_the_clients_editors_resubmit(request, information_requested, actor):
    user = request.getfixturevalue(actor)
    unchanged = Unchanged(information_requested)
    with pytest.raises(NotPermitted):
        resubmit_application(application=information_requested, actor=user,
                             response="Here you are.")
    unchanged.check()


def test_resubmit_only_after_a_request(under_review, alice):
    unchanged = Unchanged(under_review)
    with pytest.raises(TransitionNotAllowed):
        resubmit_application(application=under_review, actor=alice, response="Unasked.")
    unchanged.check()


# --- preliminary assessment -------------------------------------------------------------------------

def test_reviewer_records_a_passing_assessment(under_review, rita):
    assessment = record_preliminary_assessment(application=under_review, actor=rita,
                                               **PASSING_ASSESSMENT)

    assert assessment.passed
    assert assessment.assessed_by == rita
    assert assessment.outcome == "Ready for registration"
    under_review.refresh_from_db()
    assert (under_review.status, under_review.version) == ("under_review", 3)
    event = last_event()
    assert event.action == "registration.assessment.recorded"
    assert event.payload == {"outcome": "Ready for registration", "passed": True,
                             "impartiality_risk": "none"}


def test_recording_again_replaces_the_assessment(under_review, rita):
    record_preliminary_assessment(application=under_review, actor=rita,
                                  **{**PASSING_ASSESSMENT, "scope_clear": False})
    record_preliminary_assessment(application=under_review, actor=rita, **PASSING_ASSESSMENT)

    assert PreliminaryAssessment.objects.filter(application=under_review).get().passed


@pytest.mark.parametrize(("data", "field"), [
    ({**PASSING_ASSESSMENT, "impartiality_risk": "tolerable"}, "impartiality_risk"),
    ({**PASSING_ASSESSMENT, "impartiality_risk": "managed", "notes": " "}, "notes"),
])
def test_assessment_input_is_checked(under_review, rita, data, field):
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as excinfo:
        record_preliminary_assessment(application=under_review, actor=rita, **data)
    assert list(excinfo.value.fields) == [field]
    assert not PreliminaryAssessment.objects.exists()
    assert AuditEvent.objects.count() == events


def test_declared_consultancy_needs_an_impartiality_risk_assessment(nordlicht, alice, rita):
    from factories import complete_application_data

    from isocert.registration.services import create_application, submit_application

    application = create_application(organization=nordlicht, actor=alice, **complete_application_data(
        consultancy_used=True, consultancy_by="EnergieBeratung Nord"))
    submit_application(application=application, actor=alice)
    start_review(application=application, actor=rita)

    with pytest.raises(InvalidInput) as excinfo:
        record_preliminary_assessment(application=application, actor=rita, **PASSING_ASSESSMENT)
    assert list(excinfo.value.fields) == ["impartiality_risk"]
    assert not PreliminaryAssessment.objects.exists()

    assessment = record_preliminary_assessment(application=application, actor=rita, **{
        **PASSING_ASSESSMENT, "impartiality_risk": "managed",
        "notes": "Consultant not related to any auditor."})
    assert assessment.passed


def test_only_a_reviewer_records_the_assessment(under_review, adam):
    unchanged = Unchanged(under_review)
    with pytest.raises(NotPermitted):
        record_preliminary_assessment(application=under_review, actor=adam, **PASSING_ASSESSMENT)
    assert not PreliminaryAssessment.objects.exists()
    unchanged.check()


def test_the_assessment_is_recorded_only_under_review(submitted, rita):
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict):
        record_preliminary_assessment(application=submitted, actor=rita, **PASSING_ASSESSMENT)
    assert not PreliminaryAssessment.objects.exists()
    assert AuditEvent.objects.count() == events


# --- register and decline ------------------------------------------------------------------------------

def test_reviewer_registers_after_a_passed_assessment(under_review, rita):
    record_preliminary_assessment(application=under_review, actor=rita, **PASSING_ASSESSMENT)

    register_application(application=under_review, actor=rita)

    under_review.refresh_from_db()
    assert under_review.status == Application.Status.REGISTERED
    assert under_review.version == 4
    assert under_review.registered_at is not None
    assert under_review.registration_number.startswith("REG-")
    event = last_event()
    assert event.action == "registration.application.registered"
    assert event.payload["registration_number"] == under_review.registration_number


def test_registering_needs_an_assessment(under_review, rita):
    unchanged = Unchanged(under_review)
    with pytest.raises(Conflict, match="Record the preliminary assessment"):
        register_application(application=under_review, actor=rita)
    unchanged.check()


def test_registering_needs_a_passed_assessment(under_review, rita):
    record_preliminary_assessment(application=under_review, actor=rita, **{
        **PASSING_ASSESSMENT, "cb_competent": False, "impartiality_risk": "unacceptable",
        "notes": "Our only qualified auditor consulted them."})
    unchanged = Unchanged(under_review)

    with pytest.raises(Conflict) as excinfo:
        register_application(application=under_review, actor=rita)

    assert "CB competent for the standards and sectors" in excinfo.value.message
    assert "Impartiality risk is unacceptable" in excinfo.value.message
    unchanged.check()


@pytest.mark.parametrize("actor", ["alice", "ada"])
def test_only_a_reviewer_registers(request, under_review, rita, actor):
    record_preliminary_assessment(application=under_review, actor=rita, **PASSING_ASSESSMENT)
    user = request.getfixturevalue(actor)
    unchanged = Unchanged(under_review)
    with pytest.raises(NotPermitted):
        register_application(application=under_review, actor=user)
    unchanged.check()


def test_registering_happens_under_review_only(resubmitted, rita):
    unchanged = Unchanged(resubmitted)
    with pytest.raises(TransitionNotAllowed):
        register_application(application=resubmitted, actor=rita)
    unchanged.check()


def test_reviewer_declines_with_a_reason(under_review, rita):
    decline_application(application=under_review, actor=rita, reason=" Scope outside accreditation. ")

    under_review.refresh_from_db()
    assert under_review.status == Application.Status.DECLINED
    assert under_review.decline_reason == "Scope outside accreditation."
    assert under_review.registration_number is None
    assert last_event().action == "registration.application.declined"
    assert last_event().payload["reason"] == "Scope outside accreditation."


def test_declining_needs_a_reason(under_review, rita):
    unchanged = Unchanged(under_review)
    with pytest.raises(InvalidInput) as excinfo:
        decline_application(application=under_review, actor=rita, reason="")
    assert list(excinfo.value.fields) == ["reason"]
    unchanged.check()


@pytest.mark.parametrize("actor", ["alice", "ada"])
def test_only_a_reviewer_declines(request, under_review, actor):
    user = request.getfixturevalue(actor)
    unchanged = Unchanged(under_review)
    with pytest.raises(NotPermitted):
        decline_application(application=under_review, actor=user, reason="No.")
    unchanged.check()


def test_declining_happens_under_review_only(submitted, rita):
    unchanged = Unchanged(submitted)
    with pytest.raises(TransitionNotAllowed):
        decline_application(application=submitted, actor=rita, reason="No.")
    unchanged.check()


# --- final states ------------------------------------------------------------------------------------

REVIEWER_ACTIONS = {
    "start_review": lambda a, rita: start_review(application=a, actor=rita),
    "request_information": lambda a, rita: request_information(application=a, actor=rita,
                                                               message="More."),
    "register": lambda a, rita: register_application(application=a, actor=rita),
    "decline": lambda a, rita: decline_application(application=a, actor=rita, reason="No."),
}


@pytest.mark.parametrize("state", ["registered", "declined", "withdrawn"])
def test_final_states_refuse_every_review_transition(request, rita, state):
    application = request.getfixturevalue(state)
    unchanged = Unchanged(application)
    for action, call in REVIEWER_ACTIONS.items():
        with pytest.raises(TransitionNotAllowed, match=f"'{action.replace('_', ' ')}' is only"):
            call(application, rita)
    unchanged.check()


@pytest.mark.parametrize("state", ["registered", "declined", "withdrawn"])
def test_final_states_refuse_a_new_assessment(request, rita, state):
    application = request.getfixturevalue(state)
    unchanged = Unchanged(application)
    with pytest.raises(Conflict):
        record_preliminary_assessment(application=application, actor=rita, **PASSING_ASSESSMENT)
    unchanged.check()


@pytest.mark.parametrize("state", ["registered", "declined", "withdrawn"])
def test_final_states_cannot_be_resubmitted(request, alice, state):
    application = request.getfixturevalue(state)
    unchanged = Unchanged(application)
    with pytest.raises(TransitionNotAllowed):
        resubmit_application(application=application, actor=alice, response="Please reconsider.")
    unchanged.check()
