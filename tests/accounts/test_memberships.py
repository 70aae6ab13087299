"""Invitations and memberships: the invited address accepts; an organization keeps an owner."""

import datetime
import hashlib
import re

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from factories import make_user

from isocert.accounts.models import Invitation, Membership
from isocert.accounts.services import (
    accept_invitation,
    change_member_role,
    invite_member,
    remove_member,
    revoke_invitation,
)
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.models import AuditEvent

LINK = re.compile(re.escape(settings.SITE_URL) + r"/invitations/accept/(?P<secret>[\w-]+)/")


@pytest.fixture
def dave(db):
    return make_user("dave@nordlicht.example", "Dave Newcomer")


@pytest.fixture
def invite(nordlicht, alice, django_capture_on_commit_callbacks):
    """``invite(email, role)`` -> (invitation, secret from the e-mailed link)."""

    def send(email="dave@nordlicht.example", role="editor"):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            invitation = invite_member(organization=nordlicht, actor=alice, email=email, role=role)
        (message,) = mail.outbox
        return invitation, LINK.search(message.body)["secret"]

    return send


def membership(organization, user):
    return Membership.objects.get(organization=organization, user=user)


def test_an_invitation_is_e_mailed_with_an_accept_link(nordlicht, alice,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite_member(organization=nordlicht, actor=alice,
                                   email="  Dave@Nordlicht.example ", role="editor")

    (message,) = mail.outbox
    assert message.to == ["dave@nordlicht.example"]
    assert message.subject == (
        f"[isocert] You are invited to join an organization on {settings.CB_NAME}")
    assert "alice@nordlicht.example invites you to join an organization" in message.body
    assert 'with the role "Editor"' in message.body
    assert '    "Nordlicht Aluminium GmbH"\n' in message.body
    assert "valid for 14 days" in message.body
    secret = LINK.search(message.body)["secret"]
    # Only the hash of the link's secret is kept.
    assert invitation.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(Invitation.objects.filter(pk=invitation.pk).values().get())
    assert (invitation.email, invitation.role, invitation.status) == (
        "dave@nordlicht.example", "editor", "pending")
    assert (invitation.expires_at - timezone.now()).days == 13  # 14 days minus a moment
    assert AuditEvent.objects.last().action == "accounts.invitation.sent"


def test_the_invited_address_accepts(invite, nordlicht, dave):
    invitation, secret = invite(role="viewer")

    accepted = accept_invitation(secret=secret, actor=dave)

    assert (accepted.organization, accepted.user, accepted.role) == (nordlicht, dave, "viewer")
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by) == ("accepted", dave)
    assert AuditEvent.objects.last().action == "accounts.invitation.accepted"


def test_someone_else_cannot_use_the_link(invite, nordlicht, charlie):
    invitation, secret = invite()
    events = AuditEvent.objects.count()

    with pytest.raises(NotPermitted, match="dave@nordlicht.example"):
        accept_invitation(secret=secret, actor=charlie)

    invitation.refresh_from_db()
    assert invitation.status == "pending"
    assert not Membership.objects.filter(organization=nordlicht, user=charlie).exists()
    assert AuditEvent.objects.count() == events


def test_a_link_works_once(invite, dave):
    _, secret = invite()
    accept_invitation(secret=secret, actor=dave)
    events = AuditEvent.objects.count()

    with pytest.raises(InvalidInput):
        accept_invitation(secret=secret, actor=dave)

    assert Membership.objects.filter(user=dave).count() == 1
    assert AuditEvent.objects.count() == events


def test_a_made_up_secret_is_refused(nordlicht, dave):
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as excinfo:
        accept_invitation(secret="not-a-real-secret", actor=dave)
    assert list(excinfo.value.fields) == ["token"]
    assert not Membership.objects.filter(user=dave).exists()
    assert AuditEvent.objects.count() == events


def test_an_expired_invitation_is_refused(invite, nordlicht, dave):
    invitation, secret = invite()
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1))
    events = AuditEvent.objects.count()

    with pytest.raises(InvalidInput, match="expired"):
        accept_invitation(secret=secret, actor=dave)

    invitation.refresh_from_db()
    assert invitation.status == "pending"
    assert not Membership.objects.filter(user=dave).exists()
    assert AuditEvent.objects.count() == events


def test_a_revoked_invitation_is_refused(invite, alice, dave):
    invitation, secret = invite()
    revoke_invitation(invitation=invitation, actor=alice)
    events = AuditEvent.objects.count()

    with pytest.raises(InvalidInput, match="not valid any more"):
        accept_invitation(secret=secret, actor=dave)

    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert not Membership.objects.filter(user=dave).exists()
    assert AuditEvent.objects.count() == events


def test_a_new_invitation_replaces_the_pending_one(invite, dave):
    first, first_secret = invite(role="viewer")
    second, second_secret = invite(role="editor")

    first.refresh_from_db()
    assert first.status == "revoked"
    with pytest.raises(InvalidInput):
        accept_invitation(secret=first_secret, actor=dave)
    assert accept_invitation(secret=second_secret, actor=dave).role == "editor"


@pytest.mark.parametrize(("email", "role", "error", "field"), [
    ("not-an-address", "editor", InvalidInput, "email"),
    ("dave@nordlicht.example", "admin", InvalidInput, "role"),
    ("BOB@nordlicht.example", "viewer", Conflict, "email"),
])
def test_bad_invitations_are_refused(nordlicht, alice, bob, email, role, error, field,
                                     django_capture_on_commit_callbacks):
    events = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(error) as excinfo:
        invite_member(organization=nordlicht, actor=alice, email=email, role=role)
    assert list(excinfo.value.fields) == [field]
    assert not Invitation.objects.exists()
    assert mail.outbox == []
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("actor", ["bob", "charlie", "ada"])
def test_only_owners_invite(request, nordlicht, actor):
    user = request.getfixturevalue(actor)
    events = AuditEvent.objects.count()
    with pytest.raises(NotPermitted):
        invite_member(organization=nordlicht, actor=user, email="eve@example.com", role="owner")
    assert not Invitation.objects.exists()
    assert AuditEvent.objects.count() == events


def test_only_owners_revoke(invite, bob):
    invitation, _ = invite()
    events = AuditEvent.objects.count()
    with pytest.raises(NotPermitted):
        revoke_invitation(invitation=invitation, actor=bob)
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    assert AuditEvent.objects.count() == events


# --- roles and removal -------------------------------------------------------------------------------

def test_the_last_owner_cannot_be_demoted(nordlicht, alice):
    events = AuditEvent.objects.count()

    with pytest.raises(Conflict) as excinfo:
        change_member_role(membership=membership(nordlicht, alice), actor=alice, role="editor")

    assert list(excinfo.value.fields) == ["role"]
    assert membership(nordlicht, alice).role == "owner"
    assert AuditEvent.objects.count() == events


def test_the_last_owner_cannot_be_removed_not_even_by_herself(nordlicht, alice):
    events = AuditEvent.objects.count()

    with pytest.raises(Conflict):
        remove_member(membership=membership(nordlicht, alice), actor=alice)

    assert membership(nordlicht, alice).role == "owner"
    assert AuditEvent.objects.count() == events


def test_with_a_second_owner_the_first_may_step_down(nordlicht, alice, bob):
    change_member_role(membership=membership(nordlicht, bob), actor=alice, role="owner")
    assert AuditEvent.objects.last().payload == {"user": "bob@nordlicht.example",
                                                 "from": "editor", "to": "owner"}

    change_member_role(membership=membership(nordlicht, alice), actor=bob, role="viewer")
    remove_member(membership=membership(nordlicht, alice), actor=bob)

    assert list(nordlicht.memberships.values_list("user__email", "role")) == [
        ("bob@nordlicht.example", "owner")]
    assert AuditEvent.objects.last().action == "accounts.membership.removed"


def test_a_member_may_leave(nordlicht, bob):
    remove_member(membership=membership(nordlicht, bob), actor=bob)
    assert not Membership.objects.filter(organization=nordlicht, user=bob).exists()


def test_an_editor_cannot_manage_members(nordlicht, alice, bob):
    events = AuditEvent.objects.count()

    with pytest.raises(NotPermitted):
        change_member_role(membership=membership(nordlicht, bob), actor=bob, role="owner")
    with pytest.raises(NotPermitted):
        remove_member(membership=membership(nordlicht, alice), actor=bob)

    assert membership(nordlicht, bob).role == "editor"
    assert membership(nordlicht, alice).role == "owner"
    assert AuditEvent.objects.count() == events


def test_an_unknown_role_is_refused(nordlicht, alice, bob):
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as excinfo:
        change_member_role(membership=membership(nordlicht, bob), actor=alice, role="superuser")
    assert list(excinfo.value.fields) == ["role"]
    assert membership(nordlicht, bob).role == "editor"
    assert AuditEvent.objects.count() == events
