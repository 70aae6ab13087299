"""CB staff sessions must have passed the second factor, not merely have one configured.

The probe behind issue #13 logged in at ``/admin/login/`` with Ada's password alone and
reached the audit trail, the registry, the review queue, the Django admin and token
creation. Now the admin's log-in is the portal's (password, then TOTP), and a staff
session opened any other way by password alone opens no page and no API operation
until the authenticator code is entered.
"""

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from factories import PASSWORD, client_for, current_totp_code, make_user

from isocert.accounts.models import PersonalAccessToken
from isocert.portal.api import api

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/cb/audit-trail/", "/cb/registry/", "/review/", "/admin/",
               "/admin/accounts/user/", "/account/tokens/", "/dashboard/"]
# Log-in, TOTP set-up and re-authentication; the API answers for itself; public files.
EXEMPT_PREFIXES = ("accounts/", "api/", "static/", "media/", ".well-known/")


def _password_only_session(user) -> Client:
    """A session authenticated by password and nothing else (what Django's own admin
    log-in made)."""
    return client_for(user, second_factor=False)


def _sample(converter) -> str:
    return "1" if converter.regex == "[0-9]+" else "x"


def _page_paths(resolver=None, prefix=""):
    """One concrete path for every page of the portal (the Django admin included)."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            if (prefix + route).startswith(EXEMPT_PREFIXES):
                continue
            if (prefix + route).startswith("admin/"):
                yield "/admin/"
                continue
            yield from _page_paths(entry, prefix + route)
        elif isinstance(entry, URLPattern):
            path = prefix + route
            if path.startswith(EXEMPT_PREFIXES) or path.startswith("^"):
                continue
            for name, converter in entry.pattern.converters.items():
                path = path.replace(f"<{name}>", _sample(converter))
                path = re.sub(rf"<[a-z]+:{name}>", _sample(converter), path)
            yield "/" + path


def test_the_admin_log_in_with_a_password_alone_logs_nobody_in(ada):
    client = Client()
    response = client.post("/admin/login/", {"username": ada.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    for url in STAFF_PAGES:
        assert client.get(url).status_code in (302, 404), url
    created = client.post("/api/v1/tokens", {"name": "bypass"}, content_type="application/json")
    assert created.status_code == 401
    assert not PersonalAccessToken.objects.exists()


def test_the_admin_sends_visitors_to_the_portal_log_in(ada):
    response = Client().get("/admin/")
    assert response.status_code == 302
    login = Client().get(response["Location"], follow=True)
    assert login.redirect_chain[-1][0].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", ["ada", "rita", "dora"])
def test_a_password_only_staff_session_opens_no_page(request, who):
    client = _password_only_session(request.getfixturevalue(who))
    paths = sorted(set(_page_paths()))
    assert "/cb/audit-trail/" in paths and "/admin/" in paths and len(paths) > 50

    for path in paths:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(reverse("mfa_reauthenticate") + "?next="), path


def _authenticated_operations():
    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                yield method, re.sub(r"\{[^}]+\}", "1", path)


def test_a_password_only_staff_session_reaches_no_api_operation(ada):
    client = _password_only_session(ada)
    operations = list(_authenticated_operations())
    assert len(operations) > 100

    for method, path in operations:
        response = getattr(client, method)(path, content_type="application/json")
        assert response.status_code == 403, (method, path, response.content[:200])
        assert response.json()["error"]["code"] == "forbidden"
    assert not PersonalAccessToken.objects.exists()


def test_clients_need_no_second_factor_on_their_session(alice):
    client = _password_only_session(alice)
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200


def test_entering_the_code_completes_the_session(ada):
    client = _password_only_session(ada)
    page = client.get("/cb/audit-trail/")
    assert page.status_code == 302

    confirmed = client.post(page["Location"], {"code": current_totp_code()})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/cb/audit-trail/"
    assert client.get("/cb/audit-trail/").status_code == 200
    created = client.post("/api/v1/tokens", {"name": "ops"}, content_type="application/json")
    assert created.status_code == 201


def test_a_wrong_code_leaves_the_session_incomplete(ada):
    client = _password_only_session(ada)
    client.post(reverse("mfa_reauthenticate"), {"code": "000000"})
    assert client.get("/cb/audit-trail/").status_code == 302


def test_the_portal_log_in_asks_staff_for_the_code_and_then_opens_their_pages(rita):
    client = Client()
    response = client.post(reverse("account_login"), {"login": rita.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get("/review/").status_code == 302

    response = client.post(reverse("mfa_authenticate"), {"code": current_totp_code()})
    assert response.status_code == 302
    assert client.get("/review/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200


@pytest.mark.django_db(transaction=True)     # allauth signals the new authenticator on commit
def test_setting_up_the_authenticator_completes_the_session():
    rita = make_user("rita.new@cb.example", roles=["reviewer"])
    Authenticator.objects.filter(user=rita).delete()
    client = _password_only_session(rita)
    assert client.get("/review/")["Location"].startswith(reverse("mfa_activate_totp"))

    # allauth asks for the password again before an authenticator is added.
    asked = client.get(reverse("mfa_activate_totp"))
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    client.post(asked["Location"], {"password": PASSWORD})
    assert client.get("/review/").status_code == 302    # a password is still not enough
    client.get(reverse("mfa_activate_totp"))     # the page keeps a new secret in the session
    secret = client.session["mfa.totp.secret"]
    counters = list(yield_hotp_counters_from_time())
    code = format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))
    response = client.post(reverse("mfa_activate_totp"), {"code": code})

    assert response.status_code == 302
    assert client.get("/review/").status_code == 200


def test_a_staff_token_cannot_mint_another(rita):
    created = client_for(rita).post("/api/v1/tokens", {"name": "ops"},
                                    content_type="application/json")
    assert created.status_code == 201
    bearer = {"Authorization": f"Bearer {created.json()['token']}"}

    assert Client().get("/api/v1/me", headers=bearer).status_code == 200
    refused = Client().post("/api/v1/tokens", {"name": "renewed"},
                            content_type="application/json", headers=bearer)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert PersonalAccessToken.objects.filter(user=rita).count() == 1


def test_a_client_token_may_mint_another(alice):
    created = client_for(alice).post("/api/v1/tokens", {"name": "ci"},
                                     content_type="application/json")
    bearer = {"Authorization": f"Bearer {created.json()['token']}"}
    again = Client().post("/api/v1/tokens", {"name": "ci-2"}, content_type="application/json",
                          headers=bearer)
    assert again.status_code == 201
