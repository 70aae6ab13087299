"""The state-machine helper and the application lifecycle table built on it."""

import pytest

from isocert.core.errors import TransitionNotAllowed
from isocert.core.statemachine import StateMachine
from isocert.registration.models import APPLICATION_LIFECYCLE

DOOR = StateMachine(
    "door",
    {"open": ({"closed"}, "open"), "close": ({"open"}, "closed"),
     "lock": ({"closed"}, "locked"), "unlock": ({"locked"}, "closed")},
    labels={"open": "Open", "closed": "Closed", "locked": "Locked"},
)


def test_target_follows_the_table():
    assert DOOR.target("open", "closed") == "open"
    assert DOOR.target("lock", "closed") == "locked"


def test_allowed_actions_and_can():
    assert DOOR.allowed_actions("closed") == ["open", "lock"]
    assert DOOR.allowed_actions("locked") == ["unlock"]
    assert DOOR.can("close", "open")
    assert not DOOR.can("open", "locked")


def test_a_refusal_says_what_is_possible():
    with pytest.raises(TransitionNotAllowed) as excinfo:
        DOOR.target("open", "locked")
    assert excinfo.value.message == "This door is locked; 'open' is only possible when it is closed."
    assert excinfo.value.status == 409


def test_an_unknown_action_is_a_programming_error():
    with pytest.raises(KeyError):
        DOOR.target("kick", "closed")


@pytest.mark.parametrize(("state", "actions"), [
    ("draft", ["submit", "withdraw"]),
    ("submitted", ["start_review", "withdraw"]),
    ("under_review", ["request_information", "register", "decline", "withdraw"]),
    ("information_requested", ["resubmit", "withdraw"]),
    ("resubmitted", ["start_review", "withdraw"]),
    ("registered", []),
    ("declined", []),
    ("withdrawn", []),
])
def test_the_application_lifecycle(state, actions):
    assert APPLICATION_LIFECYCLE.allowed_actions(state) == actions


def test_the_application_lifecycle_message_uses_labels():
    with pytest.raises(TransitionNotAllowed, match=(
            "This application is information requested; 'start review' is only possible "
            "when it is resubmitted, submitted.")):
        APPLICATION_LIFECYCLE.target("start_review", "information_requested")
