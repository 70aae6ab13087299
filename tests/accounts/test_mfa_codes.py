"""Two-factor codes at log-in: a right code used twice within its window is named as used,
not as incorrect (accounts.mfa_adapter)."""

import pytest
from allauth.mfa.totp.internal import auth
from django.urls import reverse
from factories import PASSWORD, STAFF_TOTP_SECRET

pytestmark = pytest.mark.django_db

COUNTER = 59_000_000  # one fixed 30-second step: the test never depends on the clock


@pytest.fixture(autouse=True)
def _one_time_step(monkeypatch):
    monkeypatch.setattr(auth, "yield_hotp_counters_from_time", lambda: iter([COUNTER]))


def code(counter: int = COUNTER) -> str:
    return auth.format_hotp_value(auth.hotp_value(STAFF_TOTP_SECRET, counter))


def second_step(client, user, totp: str):
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    return client.post(reverse("mfa_authenticate"), {"code": totp})


def test_a_code_used_twice_in_its_window_is_named_as_used(client, rita):
    from django.test import Client

    first = second_step(client, rita, code())
    assert first.status_code == 302 and client.session["_auth_user_id"] == str(rita.pk)

    again = second_step(Client(), rita, code())

    html = again.content.decode()
    assert again.status_code == 200
    assert "This code was already used. Wait for the next code" in html
    assert "Incorrect code." not in html


def test_a_wrong_code_is_still_incorrect(client, rita):
    wrong = code(COUNTER + 7)  # another step's code: never valid in this one
    response = second_step(client, rita, wrong)
    html = response.content.decode()
    assert "Incorrect code." in html and "already used" not in html
    assert "_auth_user_id" not in client.session
