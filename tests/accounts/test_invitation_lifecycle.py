"""The invitation's status table: pending, then accepted or revoked, once."""

import pytest

from isocert.accounts.models import INVITATION_LIFECYCLE, Invitation
from isocert.core.errors import TransitionNotAllowed

PENDING, ACCEPTED, REVOKED = (Invitation.Status.PENDING, Invitation.Status.ACCEPTED,
                              Invitation.Status.REVOKED)


def test_a_pending_invitation_is_accepted_or_revoked():
    assert INVITATION_LIFECYCLE.allowed_actions(PENDING) == ["accept", "revoke"]
    assert INVITATION_LIFECYCLE.target("accept", PENDING) == ACCEPTED
    assert INVITATION_LIFECYCLE.target("revoke", PENDING) == REVOKED


@pytest.mark.parametrize("state", [ACCEPTED, REVOKED])
@pytest.mark.parametrize("action", ["accept", "revoke"])
def test_an_answered_invitation_moves_no_more(state, action):
    assert INVITATION_LIFECYCLE.allowed_actions(state) == []
    with pytest.raises(TransitionNotAllowed):
        INVITATION_LIFECYCLE.target(action, state)
