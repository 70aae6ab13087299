"""Log-in protection: rate limits, staff MFA, password reset by e-mail, argon2."""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core import mail
from django.urls import reverse
from factories import PASSWORD, client_for, make_user

pytestmark = pytest.mark.django_db


def _login(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_repeated_failed_logins_lock_the_account_even_with_the_right_password(client, alice):
    for _ in range(5):
        response = _login(client, alice.email, "wrong-password-123")
        assert response.status_code == 200
    response = _login(client, alice.email, PASSWORD)
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)
    assert b"Too many failed login attempts" in response.content


def test_a_correct_password_logs_in(client, alice):
    response = _login(client, alice.email, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_cb_staff_without_an_authenticator_are_sent_to_set_one_up(db):
    rita = make_user("rita.nomfa@cb.example", roles=["reviewer"])
    Authenticator.objects.filter(user=rita).delete()
    response = client_for(rita).get(reverse("review_queue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_cb_staff_with_an_authenticator_reach_their_pages(rita):
    assert client_for(rita).get(reverse("review_queue")).status_code == 200


def test_clients_are_not_forced_to_use_mfa(alice):
    assert client_for(alice).get(reverse("dashboard")).status_code == 200


def test_staff_log_in_needs_the_second_factor(client, rita):
    response = _login(client, rita.email, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_link_that_sets_a_new_password(client, alice,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": alice.email})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    response = client.get(link.group(1), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link.group(1)
    response = client.post(form_url, {"password1": "a-new-long-passphrase-42",
                                      "password2": "a-new-long-passphrase-42"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-new-long-passphrase-42")


def test_passwords_are_hashed_with_argon2_in_production_settings():
    from isocert import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    # The test run swaps in a fast hasher; production keeps argon2 first.
    assert settings.PASSWORD_HASHERS != production.PASSWORD_HASHERS
