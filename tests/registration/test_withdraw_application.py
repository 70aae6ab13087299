"""withdraw_application: the client gives up until the CB decides; withdrawn is final."""

import pytest

from isocert.core.errors import Conflict, NotPermitted, TransitionNotAllowed
from isocert.core.models import AuditEvent
from isocert.registration.models import Application
from isocert.registration.services import (
    resubmit_application,
    start_review,
    submit_application,
    update_application,
    withdraw_application,
)


@pytest.fixture
def withdrawn(submitted, alice):
    return withdraw_application(application=submitted, actor=alice, reason="Postponed.")


@pytest.mark.parametrize("state", [
    "draft", "submitted", "under_review", "information_requested", "resubmitted",
])
def test_client_withdraws_before_a_decision(request, alice, state):
    application = request.getfixturevalue(state)
    version = application.version

    withdraw_application(application=application, actor=alice, reason="  Budget moved to 2027. ")

    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN
    assert application.version == version + 1
    assert application.withdraw_reason == "Budget moved to 2027."
    event = AuditEvent.objects.last()
    assert event.action == "registration.application.withdrawn"
    assert event.actor == alice
    assert event.payload == {"from": state, "to": "withdrawn", "reason": "Budget moved to 2027."}


def test_editor_bob_may_withdraw(submitted, bob):
    withdraw_application(application=submitted, actor=bob)

    submitted.refresh_from_db()
    assert submitted.status == "withdrawn"
    assert submitted.withdraw_reason == ""


@pytest.mark.parametrize("actor", ["vera", "rita", "ada", "charlie"])
def test_only_owners_and_editors_withdraw(request, submitted, actor):
    user = request.getfixturevalue(actor)
    events = AuditEvent.objects.count()

    with pytest.raises(NotPermitted):
        withdraw_application(application=submitted, actor=user, reason="Not mine to withdraw.")

    submitted.refresh_from_db()
    assert (submitted.status, submitted.version, submitted.withdraw_reason) == ("submitted", 2, "")
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("state", ["registered", "declined", "withdrawn"])
def test_a_decided_or_withdrawn_application_cannot_be_withdrawn(request, alice, state):
    application = request.getfixturevalue(state)
    version = application.version
    events = AuditEvent.objects.count()

    with pytest.raises(TransitionNotAllowed):
        withdraw_application(application=application, actor=alice, reason="Again.")

    application.refresh_from_db()
    assert (application.status, application.version) == (state, version)
    assert application.withdraw_reason != "Again."
    assert AuditEvent.objects.count() == events


def test_withdrawn_is_final(withdrawn, alice, rita):
    version = withdrawn.version
    events = AuditEvent.objects.count()

    with pytest.raises(TransitionNotAllowed):
        resubmit_application(application=withdrawn, actor=alice, response="We changed our mind.")
    with pytest.raises(TransitionNotAllowed):
        submit_application(application=withdrawn, actor=alice)
    with pytest.raises(TransitionNotAllowed):
        start_review(application=withdrawn, actor=rita)
    with pytest.raises(Conflict):
        update_application(application=withdrawn, actor=alice, scope_statement="New")

    withdrawn.refresh_from_db()
    assert (withdrawn.status, withdrawn.version) == ("withdrawn", version)
    assert withdrawn.scope_statement == "Die casting of aluminium parts."
    assert AuditEvent.objects.count() == events
