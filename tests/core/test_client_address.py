"""One setting, TRUSTED_PROXY_COUNT, tells every rate limit who the client is.

Issue #13: it reached django-ninja but not allauth, so behind the documented TLS proxy
every client shared the proxy's address and 10 failed log-ins from anyone locked every
user out."""

import pytest
from allauth.account.adapter import get_adapter
from django.test import RequestFactory
from django.urls import reverse
from factories import PASSWORD

from isocert.catalog.api import AUDIT_TIME_THROTTLE
from isocert.core.client_address import client_address
from isocert.registry.ratelimit import PUBLIC_THROTTLE

PROXY = "10.0.0.2"


def _request(forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=PROXY, **headers)


@pytest.mark.parametrize(("count", "forwarded", "expected"), [
    (0, "203.0.113.5", PROXY),                       # no trusted proxy: the header is ignored
    (1, None, PROXY),                                # reached directly
    (1, "203.0.113.5", "203.0.113.5"),
    (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),      # the client's own entry is not trusted
    (2, "6.6.6.6, 203.0.113.5, 10.0.0.1", "203.0.113.5"),
    (2, "203.0.113.5", "203.0.113.5"),               # fewer entries than proxies
    (1, " , ", PROXY),
])
def test_the_client_is_the_entry_the_trusted_proxies_wrote(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    assert client_address(_request(forwarded)) == expected


@pytest.mark.parametrize("count", [0, 1])
def test_log_in_limits_api_throttles_and_public_pages_read_the_same_address(settings, count):
    settings.TRUSTED_PROXY_COUNT = count
    request = _request("6.6.6.6, 203.0.113.5")
    expected = client_address(request)

    assert get_adapter(request).get_client_ip(request) == expected
    assert AUDIT_TIME_THROTTLE.get_ident(request) == expected
    assert PUBLIC_THROTTLE.get_ident(request) == expected


@pytest.mark.django_db
def test_behind_the_proxy_one_clients_failed_log_ins_lock_out_nobody_else(settings, client,
                                                                          alice):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    for n in range(10):     # LOGIN_RATE_LIMIT: 10 failed log-ins a minute per address
        client.post(reverse("account_login"),
                    {"login": f"guess{n}@nordlicht.example", "password": "wrong-password-1"},
                    **attacker)
    blocked = client.post(reverse("account_login"),
                          {"login": "guess@nordlicht.example", "password": "wrong-password-1"},
                          **attacker)
    assert b"Too many failed login attempts" in blocked.content

    response = client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD},
                           REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)
