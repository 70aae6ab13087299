"""A new password, by whatever path, revokes the person's API tokens in the same transaction
and is written to the audit trail (never the hash). The admin path is in test_admin_audit."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from factories import PASSWORD, client_for

from isocert.accounts.models import PersonalAccessToken
from isocert.accounts.services import create_access_token, user_for_token
from isocert.core.models import AuditEvent

NEW_PASSWORD = "a-new-long-passphrase-42"


@pytest.fixture
def token(alice):
    """Alice's live token: (token, secret)."""
    return create_access_token(actor=alice, name="ERP sync")


def assert_revoked_by(via: str, alice, token) -> None:
    token_row, secret = token
    assert user_for_token(secret) is None
    assert PersonalAccessToken.objects.get(pk=token_row.pk).revoked_at is not None
    (event,) = AuditEvent.objects.filter(action="accounts.user.password_changed")
    assert (event.actor, event.object_id) == (alice, str(alice.pk))
    assert event.payload == {"user": alice.email, "via": via,
                             "tokens_revoked": [token_row.prefix]}
    alice.refresh_from_db()
    assert alice.password not in str(event.payload)


def test_changing_the_password_revokes_the_tokens(alice, token):
    response = client_for(alice).post(reverse("account_change_password"), {
        "oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302, response.content.decode()[:2000]
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert_revoked_by("password_change", alice, token)


def test_a_refused_password_change_keeps_the_tokens(alice, token):
    response = client_for(alice).post(reverse("account_change_password"), {
        "oldpassword": "not-the-password-1", "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD})

    assert response.status_code == 200
    assert user_for_token(token[1]) == alice
    assert not AuditEvent.objects.filter(action="accounts.user.password_changed").exists()


def test_setting_a_first_password_revokes_the_tokens(alice, token):
    alice.set_unusable_password()
    alice.save(update_fields=["password"])

    response = client_for(alice).post(reverse("account_set_password"), {
        "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert_revoked_by("password_set", alice, token)


def test_resetting_the_password_by_e_mail_revokes_the_tokens(client, alice, token,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": alice.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    response = client.get(link.group(1), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link.group(1)
    assert user_for_token(token[1]) == alice  # asking for a reset changes nothing yet

    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert_revoked_by("password_reset", alice, token)
