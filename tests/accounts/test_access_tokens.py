"""Personal access tokens: the secret is shown once, only its SHA-256 is kept."""

import datetime
import hashlib

import pytest
from django.utils import timezone

from isocert.accounts.models import PersonalAccessToken
from isocert.accounts.services import create_access_token, revoke_access_token, user_for_token
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
    assert event.payload == {"name": "ERP sync", "prefix": token.prefix}


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
