"""Organizations, sites, memberships and invitations through /api/v1/."""

import pytest
from django.core import mail
from helpers.api import assert_error

from isocert.accounts.models import Invitation, Membership, Organization, Site, User
from isocert.core.models import AuditEvent

ORGANIZATION = {
    "legal_name": "Nordlicht Aluminium GmbH", "trading_name": "Nordlicht",
    "country": "de", "registered_address": "Hafenstraße 12, 28217 Bremen",
    "legal_identifier": "HRB 12345", "sector_codes": [17, 17, 14],
    "scope_statement": "Die casting of aluminium parts.",
}


def test_alice_creates_an_organization_and_becomes_its_owner(alice, api_client):
    client = api_client(alice)

    response = client.post("/api/v1/organizations", ORGANIZATION, content_type="application/json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["legal_name"] == "Nordlicht Aluminium GmbH"
    assert body["country"] == "DE"
    assert body["sector_codes"] == [14, 17]
    assert body["my_role"] == "owner"
    assert body["sites"] == []
    organization = Organization.objects.get(pk=body["id"])
    assert Membership.objects.get(organization=organization).user == alice
    assert AuditEvent.objects.filter(action="accounts.organization.created",
                                     object_id=str(organization.pk)).count() == 1
    listed = client.get("/api/v1/organizations").json()
    assert [o["id"] for o in listed] == [organization.pk]
    assert client.get(f"/api/v1/organizations/{organization.pk}").json() == body


@pytest.mark.parametrize(("change", "field"), [
    ({"country": "XX"}, "country"),
    ({"country": ""}, "country"),
    ({"legal_name": "   "}, "legal_name"),
    ({"registered_address": ""}, "registered_address"),
    ({"sector_codes": [17, 99]}, "sector_codes"),
    ({"legal_name": "x" * 201}, "legal_name"),
    ({"sector_codes": ["seventeen"]}, "sector_codes.0"),
])
def test_a_bad_organization_is_refused_field_by_field_and_nothing_is_created(
        alice, api_client, change, field):
    before = (Organization.objects.count(), Membership.objects.count(), AuditEvent.objects.count())

    response = api_client(alice).post("/api/v1/organizations", {**ORGANIZATION, **change},
                                      content_type="application/json")

    assert_error(response, 422, "invalid", field)
    assert (Organization.objects.count(), Membership.objects.count(),
            AuditEvent.objects.count()) == before


def test_missing_required_fields_are_each_named(alice, api_client):
    response = api_client(alice).post("/api/v1/organizations", {},
                                      content_type="application/json")

    error = assert_error(response, 422, "invalid", "legal_name", "country", "registered_address")
    assert "sector_codes" not in error["fields"]
    assert not Organization.objects.exists()


def test_sites_first_becomes_central_function_and_can_be_listed(alice, api_client):
    client = api_client(alice)
    org_id = client.post("/api/v1/organizations", ORGANIZATION,
                         content_type="application/json").json()["id"]

    head = client.post(f"/api/v1/organizations/{org_id}/sites",
                       {"name": "Bremen head office", "address": "Hafenstraße 12, Bremen",
                        "effective_personnel": "180", "shifts": 3},
                       content_type="application/json")
    plant = client.post(f"/api/v1/organizations/{org_id}/sites",
                        {"name": "Oldenburg plant", "address": "Industrieweg 4, Oldenburg",
                         "effective_personnel": 95.5, "shifts": 2},
                        content_type="application/json")

    assert head.status_code == 201 and plant.status_code == 201
    assert head.json()["is_central_function"] is True
    assert plant.json()["is_central_function"] is False
    assert plant.json()["effective_personnel"] == "95.50"
    listed = client.get(f"/api/v1/organizations/{org_id}/sites").json()
    assert [s["name"] for s in listed] == ["Bremen head office", "Oldenburg plant"]
    assert [s["name"] for s in client.get(f"/api/v1/organizations/{org_id}").json()["sites"]] == \
        ["Bremen head office", "Oldenburg plant"]


@pytest.mark.parametrize(("data", "field"), [
    ({"effective_personnel": "0"}, "effective_personnel"),
    ({"effective_personnel": "-3"}, "effective_personnel"),
    ({"effective_personnel": "lots"}, "effective_personnel"),
    ({"shifts": 6}, "shifts"),
    ({"name": " "}, "name"),
    ({"address": ""}, "address"),
])
def test_a_bad_site_is_refused_and_not_added(alice, nordlicht, api_client, data, field):
    site = {"name": "Hamburg depot", "address": "Kai 1, Hamburg", "effective_personnel": "12",
            **data}
    before = list(nordlicht.sites.values_list("pk", flat=True))

    response = api_client(alice).post(f"/api/v1/organizations/{nordlicht.pk}/sites", site,
                                      content_type="application/json")

    assert_error(response, 422, "invalid", field)
    assert list(nordlicht.sites.values_list("pk", flat=True)) == before


def test_bob_as_editor_changes_the_profile_and_a_site(bob, nordlicht, api_client):
    client = api_client(bob)
    plant = nordlicht.sites.get(name="Oldenburg plant")

    profile = client.patch(f"/api/v1/organizations/{nordlicht.pk}",
                           {"trading_name": "Nordlicht Alu", "sector_codes": [17, 18]},
                           content_type="application/json")
    site = client.patch(f"/api/v1/sites/{plant.pk}", {"effective_personnel": "101"},
                        content_type="application/json")

    assert profile.status_code == 200, profile.content
    assert profile.json()["trading_name"] == "Nordlicht Alu"
    assert profile.json()["legal_name"] == "Nordlicht Aluminium GmbH"
    assert profile.json()["sector_codes"] == [17, 18]
    assert profile.json()["my_role"] == "editor"
    assert site.status_code == 200
    assert site.json()["effective_personnel"] == "101.00"
    plant.refresh_from_db()
    assert plant.effective_personnel == 101


def test_a_viewer_can_read_but_not_change(nordlicht, api_client):
    vera = User.objects.create_user("vera@nordlicht.example", "x", full_name="Vera Viewer")
    Membership.objects.create(organization=nordlicht, user=vera, role=Membership.Role.VIEWER)
    client = api_client(vera)
    plant = nordlicht.sites.get(name="Oldenburg plant")
    events = AuditEvent.objects.count()

    assert client.get(f"/api/v1/organizations/{nordlicht.pk}").json()["my_role"] == "viewer"
    assert_error(client.patch(f"/api/v1/organizations/{nordlicht.pk}", {"legal_name": "Hijack"},
                              content_type="application/json"), 403, "forbidden")
    assert_error(client.post(f"/api/v1/organizations/{nordlicht.pk}/sites",
                             {"name": "Shed", "address": "Yard", "effective_personnel": "1"},
                             content_type="application/json"), 403, "forbidden")
    assert_error(client.patch(f"/api/v1/sites/{plant.pk}", {"name": "Renamed"},
                              content_type="application/json"), 403, "forbidden")
    assert_error(client.delete(f"/api/v1/sites/{plant.pk}"), 403, "forbidden")

    nordlicht.refresh_from_db()
    plant.refresh_from_db()
    assert nordlicht.legal_name == "Nordlicht Aluminium GmbH"
    assert plant.name == "Oldenburg plant"
    assert nordlicht.sites.count() == 2
    assert AuditEvent.objects.count() == events


def test_removing_sites_keeps_one_central_function(alice, nordlicht, api_client):
    client = api_client(alice)
    head = nordlicht.sites.get(is_central_function=True)
    plant = nordlicht.sites.get(name="Oldenburg plant")

    assert_error(client.delete(f"/api/v1/sites/{head.pk}"), 422, "invalid", "site")
    assert_error(client.patch(f"/api/v1/sites/{head.pk}", {"is_central_function": False},
                              content_type="application/json"),
                 422, "invalid", "is_central_function")
    assert nordlicht.sites.filter(is_central_function=True).get() == head

    response = client.delete(f"/api/v1/sites/{plant.pk}")

    assert response.status_code == 204
    assert not Site.objects.filter(pk=plant.pk).exists()
    assert AuditEvent.objects.filter(action="accounts.site.removed",
                                     object_id=str(plant.pk)).count() == 1


def test_a_site_of_a_submitted_application_cannot_be_removed(alice, submitted, api_client):
    plant = submitted.organization.sites.get(name="Oldenburg plant")

    assert_error(api_client(alice).delete(f"/api/v1/sites/{plant.pk}"), 409, "conflict")

    assert Site.objects.filter(pk=plant.pk).exists()


def test_owner_manages_member_roles_and_an_owner_always_remains(alice, bob, nordlicht,
                                                                api_client):
    alice_membership = Membership.objects.get(organization=nordlicht, user=alice)
    bob_membership = Membership.objects.get(organization=nordlicht, user=bob)

    listed = api_client(alice).get(f"/api/v1/organizations/{nordlicht.pk}/memberships").json()
    assert {(m["email"], m["role"]) for m in listed} == {
        ("alice@nordlicht.example", "owner"), ("bob@nordlicht.example", "editor")}

    # Bob, an editor, may not manage members.
    assert_error(api_client(bob).post(f"/api/v1/memberships/{alice_membership.pk}/role",
                                      {"role": "viewer"}, content_type="application/json"),
                 403, "forbidden")
    # Alice can't leave Nordlicht without an owner.
    assert_error(api_client(alice).post(f"/api/v1/memberships/{alice_membership.pk}/role",
                                        {"role": "editor"}, content_type="application/json"),
                 409, "conflict", "role")
    assert_error(api_client(alice).delete(f"/api/v1/memberships/{alice_membership.pk}"),
                 409, "conflict")
    assert_error(api_client(alice).post(f"/api/v1/memberships/{bob_membership.pk}/role",
                                        {"role": "boss"}, content_type="application/json"),
                 422, "invalid", "role")
    alice_membership.refresh_from_db()
    bob_membership.refresh_from_db()
    assert (alice_membership.role, bob_membership.role) == ("owner", "editor")

    response = api_client(alice).post(f"/api/v1/memberships/{bob_membership.pk}/role",
                                      {"role": "viewer"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"id": bob_membership.pk, "email": "bob@nordlicht.example",
                               "full_name": "Bob Editor", "role": "viewer"}

    # Bob may leave by himself.
    assert api_client(bob).delete(f"/api/v1/memberships/{bob_membership.pk}").status_code == 204
    assert not Membership.objects.filter(pk=bob_membership.pk).exists()


def test_owner_invites_and_revokes(alice, bob, nordlicht, api_client,
                                   django_capture_on_commit_callbacks):
    client = api_client(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/organizations/{nordlicht.pk}/invitations",
                               {"email": "Erik@Nordlicht.example", "role": "editor"},
                               content_type="application/json")

    assert response.status_code == 201, response.content
    invitation = response.json()
    assert (invitation["email"], invitation["role"], invitation["status"]) == \
        ("erik@nordlicht.example", "editor", "pending")
    assert [m.to for m in mail.outbox] == [["erik@nordlicht.example"]]
    assert "token" not in invitation and "token_hash" not in invitation
    listed = client.get(f"/api/v1/organizations/{nordlicht.pk}/invitations").json()
    assert [i["id"] for i in listed] == [invitation["id"]]

    assert_error(api_client(bob).post(f"/api/v1/invitations/{invitation['id']}/revoke"),
                 403, "forbidden")
    assert Invitation.objects.get(pk=invitation["id"]).status == "pending"

    revoked = client.post(f"/api/v1/invitations/{invitation['id']}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert_error(client.post(f"/api/v1/invitations/{invitation['id']}/revoke"), 409, "conflict")
    assert client.get(f"/api/v1/organizations/{nordlicht.pk}/invitations").json() == []


@pytest.mark.parametrize(("data", "status", "code", "field"), [
    ({"email": "not-an-address", "role": "editor"}, 422, "invalid", "email"),
    ({"email": "someone@example.com", "role": "chief"}, 422, "invalid", "role"),
    ({"email": "bob@nordlicht.example", "role": "viewer"}, 409, "conflict", "email"),
    ({"email": "someone@example.com"}, 422, "invalid", "role"),
])
def test_bad_invitations_are_refused(alice, nordlicht, api_client, data, status, code, field):
    response = api_client(alice).post(f"/api/v1/organizations/{nordlicht.pk}/invitations", data,
                                      content_type="application/json")

    assert_error(response, status, code, field)
    assert not Invitation.objects.exists()


def test_bob_as_editor_cannot_invite(bob, nordlicht, api_client):
    response = api_client(bob).post(f"/api/v1/organizations/{nordlicht.pk}/invitations",
                                    {"email": "x@example.com", "role": "owner"},
                                    content_type="application/json")

    assert_error(response, 403, "forbidden")
    assert not Invitation.objects.exists()
