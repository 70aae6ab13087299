"""Authentication on /api/v1/: personal access tokens, the session (CSRF), staff MFA."""

import datetime
import hashlib

from allauth.mfa.models import Authenticator
from django.test import Client
from django.utils import timezone
from helpers.api import assert_error

from isocert.accounts.models import Organization, PersonalAccessToken
from isocert.core.models import AuditEvent


def bearer(secret: str, **kwargs) -> Client:
    """A fresh client with no session, only the token."""
    return Client(headers={"Authorization": f"Bearer {secret}"}, **kwargs)


def create_token(client, name="CI pipeline", **extra) -> dict:
    response = client.post("/api/v1/tokens", {"name": name, **extra},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_token_created_with_the_session_authenticates_a_fresh_client(alice, api_client):
    created = create_token(api_client(alice), expires_in_days=30)
    secret = created["token"]

    assert secret.startswith("isc_") and len(secret) > 40
    assert created["prefix"] == secret[:10]
    assert created["expires_at"] is not None and created["revoked_at"] is None

    response = bearer(secret).get("/api/v1/me")

    assert response.status_code == 200, response.content
    assert response.json() == {"id": alice.pk, "email": "alice@nordlicht.example",
                               "full_name": "Alice Owner", "staff_roles": []}
    token = PersonalAccessToken.objects.get(pk=created["id"])
    assert token.last_used_at is not None
    assert AuditEvent.objects.filter(action="accounts.access_token.created",
                                     object_id=str(token.pk)).count() == 1


def test_only_the_hash_of_the_secret_is_stored(alice, api_client):
    client = api_client(alice)
    secret = create_token(client)["token"]

    token = PersonalAccessToken.objects.get(user=alice)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(v) for v in PersonalAccessToken.objects.values().get(pk=token.pk).values()]
    assert not any(secret in value for value in stored)
    assert not any(secret in str(e.payload) for e in AuditEvent.objects.all())
    listed = client.get("/api/v1/tokens").json()
    assert [t["id"] for t in listed] == [token.pk]
    assert "token" not in listed[0] and "token_hash" not in listed[0]
    assert secret not in client.get("/api/v1/tokens").content.decode()


def test_a_token_can_write_without_csrf_but_a_session_cannot(alice, api_client):
    secret = create_token(api_client(alice))["token"]
    strict_session = Client(enforce_csrf_checks=True)
    strict_session.force_login(alice)
    organization = {"legal_name": "Nordlicht Süd GmbH", "country": "AT",
                    "registered_address": "Ring 1, Wien"}

    refused = strict_session.post("/api/v1/organizations", organization,
                                  content_type="application/json")
    assert_error(refused, 403, "forbidden")
    assert not Organization.objects.exists()

    accepted = bearer(secret, enforce_csrf_checks=True).post(
        "/api/v1/organizations", organization, content_type="application/json")
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["my_role"] == "owner"


def test_a_revoked_token_is_401(alice, api_client):
    client = api_client(alice)
    created = create_token(client)
    assert bearer(created["token"]).get("/api/v1/me").status_code == 200

    revoked = client.post(f"/api/v1/tokens/{created['id']}/revoke")

    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert_error(bearer(created["token"]).get("/api/v1/me"), 401, "unauthenticated")
    assert_error(bearer(created["token"]).get("/api/v1/organizations"), 401, "unauthenticated")
    # Revoking again is harmless and keeps the first revocation time.
    again = client.post(f"/api/v1/tokens/{created['id']}/revoke")
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert AuditEvent.objects.filter(action="accounts.access_token.revoked").count() == 1


def test_a_token_can_revoke_itself(alice, api_client):
    created = create_token(api_client(alice))
    client = bearer(created["token"])

    assert client.post(f"/api/v1/tokens/{created['id']}/revoke").status_code == 200

    assert_error(client.get("/api/v1/me"), 401, "unauthenticated")


def test_an_expired_token_is_401(alice, api_client):
    created = create_token(api_client(alice), expires_in_days=1)
    PersonalAccessToken.objects.filter(pk=created["id"]).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1))

    assert_error(bearer(created["token"]).get("/api/v1/me"), 401, "unauthenticated")


def test_the_token_of_a_deactivated_user_is_401(alice, api_client):
    secret = create_token(api_client(alice))["token"]
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    assert_error(bearer(secret).get("/api/v1/me"), 401, "unauthenticated")


def test_unknown_or_malformed_credentials_are_401(alice, api_client):
    secret = create_token(api_client(alice))["token"]

    for header in (f"Bearer {secret}x", f"Bearer {secret[:-1]}", "Bearer isc_", "Bearer ",
                   f"Token {secret}", secret, f"Basic {secret}"):
        response = Client(headers={"Authorization": header}).get("/api/v1/me")
        assert_error(response, 401, "unauthenticated")
    assert_error(Client().get("/api/v1/me"), 401, "unauthenticated")


def test_a_token_is_not_a_session(alice, api_client):
    secret = create_token(api_client(alice))["token"]

    page = bearer(secret).get("/dashboard/")

    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/login/")


def test_nobody_else_can_revoke_alices_token(alice, bob, api_client):
    created = create_token(api_client(alice))

    assert_error(api_client(bob).post(f"/api/v1/tokens/{created['id']}/revoke"),
                 404, "not_found")

    assert PersonalAccessToken.objects.get(pk=created["id"]).revoked_at is None
    assert api_client(bob).get("/api/v1/tokens").json() == []


def test_bad_token_requests_are_refused(alice, api_client):
    client = api_client(alice)

    assert_error(client.post("/api/v1/tokens", {"name": " "}, content_type="application/json"),
                 422, "invalid", "name")
    assert_error(client.post("/api/v1/tokens", {"name": "x", "expires_in_days": 0},
                             content_type="application/json"),
                 422, "invalid", "expires_in_days")
    assert_error(client.post("/api/v1/tokens", {"name": "x", "expires_in_days": 731},
                             content_type="application/json"),
                 422, "invalid", "expires_in_days")
    assert_error(client.post("/api/v1/tokens", {}, content_type="application/json"),
                 422, "invalid", "name")
    assert not PersonalAccessToken.objects.exists()


# --- CB staff and MFA -------------------------------------------------------------------------

def test_cb_staff_with_mfa_use_the_session(rita, api_client):
    response = api_client(rita).get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["staff_roles"] == ["reviewer"]


def test_cb_staff_without_mfa_are_refused_on_session_calls(rita, submitted, api_client):
    Authenticator.objects.filter(user=rita).delete()
    client = api_client(rita)
    before = (submitted.status, submitted.version, AuditEvent.objects.count())

    assert_error(client.get("/api/v1/me"), 403, "forbidden")
    assert_error(client.get("/api/v1/applications"), 403, "forbidden")
    assert_error(client.post(f"/api/v1/applications/{submitted.pk}/start-review"),
                 403, "forbidden")
    assert_error(client.post("/api/v1/tokens", {"name": "bypass"},
                             content_type="application/json"), 403, "forbidden")

    submitted.refresh_from_db()
    assert (submitted.status, submitted.version, AuditEvent.objects.count()) == before
    assert not PersonalAccessToken.objects.filter(user=rita).exists()


def test_an_administrator_without_mfa_is_refused_too(ada, api_client):
    Authenticator.objects.filter(user=ada).delete()

    assert_error(api_client(ada).get("/api/v1/audit-events"), 403, "forbidden")


def test_clients_need_no_mfa(alice, api_client):
    assert not Authenticator.objects.filter(user=alice).exists()

    assert api_client(alice).get("/api/v1/me").status_code == 200


def test_a_staff_token_is_capped_to_the_staff_maximum(rita, api_client):
    client = api_client(rita)

    for asked in ({}, {"expires_in_days": 365}):
        created = create_token(client, **asked)
        expires_at = datetime.datetime.fromisoformat(created["expires_at"])
        days = (expires_at - timezone.now()) / datetime.timedelta(days=1)
        assert 89.9 < days <= 90, created
        assert bearer(created["token"]).get("/api/v1/me").json()["staff_roles"] == ["reviewer"]


def test_a_staff_token_past_the_staff_maximum_is_401(rita, api_client):
    created = create_token(api_client(rita))
    PersonalAccessToken.objects.filter(pk=created["id"]).update(
        created_at=timezone.now() - datetime.timedelta(days=91),
        expires_at=timezone.now() + datetime.timedelta(days=1))

    assert_error(bearer(created["token"]).get("/api/v1/me"), 401, "unauthenticated")
