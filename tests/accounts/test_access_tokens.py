"""Personal access tokens: the secret is shown once, only its SHA-256 is kept."""

import datetime
import hashlib

import pytest
from django.utils import timezone
from factories import client_for
from helpers.dates import shown

from isocert.accounts.models import PersonalAccessToken
from isocert.accounts.services import (
    create_access_token,
    grant_staff_role,
    record_password_change,
    revoke_access_token,
    user_for_token,
)
from isocert.core.errors import InvalidInput, NotPermitted
from isocert.core.models import AuditEvent


def test_the_secret_is_returned_once_and_only_its_hash_is_stored(alice):
    token, secret = create_access_token(actor=alice, name=" ERP sync ", expires_in_days=30)

    assert secret.startswith("isc_") and len(secret) > 40
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:10]
    stored = PersonalAccessToken.objects.filter(pk=token.pk).values().get()
    assert secret not in str(stored)
    assert (stored["name"], stored["user_id"]) == ("ERP sync", alice.pk)
    assert stored["expires_at"] - timezone.now() > datetime.timedelta(days=29)
    event = AuditEvent.objects.last()
    assert event.action == "accounts.access_token.created"
    assert secret not in str(event.payload)
    assert event.payload == {"name": "ERP sync", "prefix": token.prefix, "expires_in_days": 30}


def test_two_tokens_have_different_secrets(alice):
    _, first = create_access_token(actor=alice, name="one")
    _, second = create_access_token(actor=alice, name="two")
    assert first != second


def test_a_valid_token_authenticates_its_user_and_notes_its_use(alice):
    token, secret = create_access_token(actor=alice, name="ERP sync")

    assert user_for_token(secret) == alice

    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.expires_at is None


@pytest.mark.parametrize("secret", ["", "isc_", "isc_made-up", "Bearer isc_x"])
def test_unknown_secrets_do_not_authenticate(alice, secret):
    create_access_token(actor=alice, name="ERP sync")
    assert user_for_token(secret) is None


def test_the_hash_itself_does_not_authenticate(alice):
    token, _ = create_access_token(actor=alice, name="ERP sync")
    assert user_for_token(token.token_hash) is None
    assert user_for_token("isc_" + token.token_hash) is None


def test_a_revoked_token_does_not_authenticate(alice):
    token, secret = create_access_token(actor=alice, name="ERP sync")

    revoke_access_token(token=token, actor=alice)

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert user_for_token(secret) is None
    assert AuditEvent.objects.last().action == "accounts.access_token.revoked"


def test_an_expired_token_does_not_authenticate(alice):
    token, secret = create_access_token(actor=alice, name="ERP sync", expires_in_days=1)
    PersonalAccessToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1))

    assert user_for_token(secret) is None


def test_a_deactivated_users_token_does_not_authenticate(alice):
    _, secret = create_access_token(actor=alice, name="ERP sync")
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    assert user_for_token(secret) is None


def test_only_the_owner_revokes_a_token(alice, bob):
    token, secret = create_access_token(actor=alice, name="ERP sync")
    events = AuditEvent.objects.count()

    with pytest.raises(NotPermitted):
        revoke_access_token(token=token, actor=bob)

    token.refresh_from_db()
    assert token.revoked_at is None
    assert user_for_token(secret) == alice
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("name", "days", "field"), [
    ("", None, "name"),
    ("x" * 101, None, "name"),
    ("ERP sync", 0, "expires_in_days"),
    ("ERP sync", 731, "expires_in_days"),
])
def test_bad_token_requests_are_refused(alice, name, days, field):
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as excinfo:
        create_access_token(actor=alice, name=name, expires_in_days=days)
    assert list(excinfo.value.fields) == [field]
    assert not PersonalAccessToken.objects.exists()
    assert AuditEvent.objects.count() == events


# --- CB staff: a maximum lifetime ---------------------------------------------------------------

def days_left(token) -> float:
    return (token.expires_at - timezone.now()) / datetime.timedelta(days=1)


@pytest.mark.parametrize("asked", [None, 91, 730])
def test_a_staff_token_without_or_with_a_longer_expiry_is_capped(rita, asked):
    token, secret = create_access_token(actor=rita, name="Review export", expires_in_days=asked)

    assert 89.9 < days_left(token) <= 90
    assert user_for_token(secret) == rita
    assert AuditEvent.objects.last().payload["expires_in_days"] == 90


def test_a_shorter_staff_token_keeps_its_expiry(ada):
    token, _ = create_access_token(actor=ada, name="Audit-trail export", expires_in_days=30)

    assert 29.9 < days_left(token) <= 30


def test_the_staff_limit_follows_the_setting(settings, dora):
    settings.STAFF_TOKEN_MAX_DAYS = 7

    token, _ = create_access_token(actor=dora, name="Decisions")

    assert 6.9 < days_left(token) <= 7


def test_a_client_token_may_live_without_expiry(alice):
    token, _ = create_access_token(actor=alice, name="ERP sync")

    assert token.expires_at is None


def test_a_staff_token_older_than_the_limit_is_refused_whatever_its_expiry(ada, alice):
    """A token from before its owner became staff (or before a shorter setting)."""
    token, secret = create_access_token(actor=alice, name="ERP sync")
    PersonalAccessToken.objects.filter(pk=token.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=91))
    assert user_for_token(secret) == alice  # a client's token has no age limit

    grant_staff_role(user=alice, role="reviewer", actor=ada)

    assert user_for_token(secret) is None


def test_a_staff_token_within_the_limit_authenticates(rita):
    token, secret = create_access_token(actor=rita, name="Review export")
    PersonalAccessToken.objects.filter(pk=token.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=89))

    assert user_for_token(secret) == rita


def test_the_tokens_page_tells_staff_their_token_was_shortened(rita):
    client = client_for(rita)
    assert "at most 90 days" in client.get("/account/tokens/").content.decode()

    response = client.post("/account/tokens/", {"name": "Review export", "expires_in_days": ""})

    assert response.status_code == 200
    token = PersonalAccessToken.objects.get(user=rita)
    page = response.content.decode()
    assert f"this one expires on {shown(timezone.localdate(token.expires_at))}" in page
    assert 89.9 < days_left(token) <= 90


def test_the_tokens_page_says_nothing_of_a_limit_to_clients(alice):
    client = client_for(alice)
    response = client.post("/account/tokens/", {"name": "ERP sync", "expires_in_days": ""})

    assert "at most" not in response.content.decode()
    assert PersonalAccessToken.objects.get(user=alice).expires_at is None


# --- a new password revokes the tokens ------------------------------------------------------------

def test_recording_a_password_change_revokes_every_live_token(alice, bob):
    old, old_secret = create_access_token(actor=alice, name="old")
    revoke_access_token(token=old, actor=alice)
    first, first_secret = create_access_token(actor=alice, name="ERP sync")
    second, second_secret = create_access_token(actor=alice, name="CI")
    _, bobs_secret = create_access_token(actor=bob, name="Bob's")
    revoked_at = PersonalAccessToken.objects.get(pk=old.pk).revoked_at

    prefixes = record_password_change(user=alice, actor=alice, via="password_change")

    assert prefixes == [first.prefix, second.prefix]
    assert user_for_token(first_secret) is None and user_for_token(second_secret) is None
    assert user_for_token(bobs_secret) == bob
    assert PersonalAccessToken.objects.get(pk=old.pk).revoked_at == revoked_at
    changed = AuditEvent.objects.get(action="accounts.user.password_changed")
    assert (changed.actor, changed.object_id) == (alice, str(alice.pk))
    assert changed.payload == {"user": alice.email, "via": "password_change",
                               "tokens_revoked": prefixes}
    revoked = AuditEvent.objects.filter(action="accounts.access_token.revoked",
                                        payload__reason="password changed")
    assert sorted(e.payload["prefix"] for e in revoked) == sorted(prefixes)
