"""The one error shape: malformed requests, missing objects, auth, and our own failures."""

import re

import pytest
from helpers.api import assert_error

from isocert.accounts.models import Organization, Site
from isocert.core.models import AuditEvent
from isocert.portal.api import api

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def snapshot(organization) -> tuple:
    organization.refresh_from_db()
    return (organization.legal_name, organization.country_id,
            sorted(organization.sectors.values_list("code", flat=True)),
            sorted(Site.objects.filter(organization=organization).values_list("name", "shifts")),
            Organization.objects.count(), AuditEvent.objects.count())


@pytest.mark.parametrize("body", [
    "{", '{"legal_name": "Nordlicht",}', "legal_name=Nordlicht", "\x00\xff", "{'a': 1}",
])
def test_malformed_json_is_400_in_the_error_shape_and_changes_nothing(alice, nordlicht,
                                                                     api_client, body):
    client = api_client(alice)
    before = snapshot(nordlicht)

    responses = [
        client.post("/api/v1/organizations", body, content_type="application/json"),
        client.patch(f"/api/v1/organizations/{nordlicht.pk}", body,
                     content_type="application/json"),
        client.post(f"/api/v1/organizations/{nordlicht.pk}/sites", body,
                    content_type="application/json"),
    ]

    for response in responses:
        assert_error(response, 400, "bad_request")
    assert snapshot(nordlicht) == before


@pytest.mark.parametrize("body", ["[]", '"Nordlicht"', "null", "1"])
def test_json_that_is_not_an_object_is_422(alice, nordlicht, api_client, body):
    before = snapshot(nordlicht)

    response = api_client(alice).post("/api/v1/organizations", body,
                                      content_type="application/json")

    assert_error(response, 422, "invalid", "legal_name", "country", "registered_address")
    assert snapshot(nordlicht) == before


@pytest.mark.parametrize(("data", "field"), [
    ({"effective_personnel": "lots"}, "effective_personnel"),
    ({"shifts": "two"}, "shifts"),
    ({"shifts": 2.5}, "shifts"),
    ({"is_central_function": "maybe"}, "is_central_function"),
    ({"name": ["Plant"]}, "name"),
])
def test_wrong_types_are_422_naming_the_field(alice, nordlicht, api_client, data, field):
    site = nordlicht.sites.get(name="Oldenburg plant")
    before = snapshot(nordlicht)

    response = api_client(alice).patch(f"/api/v1/sites/{site.pk}", data,
                                       content_type="application/json")

    error = assert_error(response, 422, "invalid", field)
    assert error["message"] == "The request is not valid."
    assert snapshot(nordlicht) == before


def test_nested_field_names_are_dotted(alice, nordlicht, api_client):
    response = api_client(alice).post("/api/v1/applications", {
        "organization_id": nordlicht.pk,
        "standards": [{"standard": "ISO 14001", "energy_types": "three"}],
    }, content_type="application/json")

    error = assert_error(response, 422, "invalid", "standards.0.energy_types")
    assert list(error["fields"]) == ["standards.0.energy_types"]


def test_an_invalid_query_parameter_is_422(alice, api_client):
    response = api_client(alice).get("/api/v1/applications?organization_id=abc")

    assert_error(response, 422, "invalid", "organization_id")


def test_a_non_integer_id_in_the_path_is_refused_without_a_server_error(alice, api_client):
    response = api_client(alice).get("/api/v1/organizations/abc")

    assert_error(response, 422, "invalid", "org_id")


@pytest.mark.parametrize("url", [
    "/api/v1/organizations/987654", "/api/v1/organizations/987654/sites",
    "/api/v1/applications/987654", "/api/v1/applications/987654/timeline",
    "/api/v1/documents/987654/download",
])
def test_a_missing_object_is_404_not_found(alice, api_client, url):
    response = api_client(alice).get(url)

    assert response.json() == {"error": {"code": "not_found", "message": "Not found.",
                                         "fields": {}}}
    assert response.status_code == 404


def test_only_the_catalog_the_registry_and_complaints_are_public_the_rest_answers_401(client,
                                                                                     db):
    public, checked = set(), []
    for path, methods in api.get_openapi_schema()["paths"].items():
        for method, operation in methods.items():
            if method not in HTTP_METHODS:
                continue
            if not operation.get("security"):
                public.add((method, path))
                continue
            url = re.sub(r"\{[^}]+\}", "1", path)
            response = getattr(client, method)(url, {}, content_type="application/json")
            assert_error(response, 401, "unauthenticated")
            checked.append((method, path))
    assert public == {("get", "/api/v1/catalog/standards"),
                      ("get", "/api/v1/catalog/standards/{code}"),
                      ("get", "/api/v1/catalog/sectors"), ("get", "/api/v1/catalog/countries"),
                      ("post", "/api/v1/audit-time"),
                      ("get", "/api/v1/public/certificates"),
                      ("get", "/api/v1/public/certificates/{number}"),
                      # Anyone may lodge a complaint (ISO/IEC 17021-1 §9.8.1).
                      ("post", "/api/v1/public/complaints")}
    assert len(checked) >= 36


def test_an_unexpected_failure_is_500_in_the_error_shape_and_logged(alice, api_client,
                                                                    monkeypatch, caplog):
    from isocert.accounts import api as accounts_api

    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(accounts_api.selectors, "organizations_for_user", broken)

    response = api_client(alice).get("/api/v1/organizations")

    error = assert_error(response, 500, "server_error")
    assert "database on fire" not in response.content.decode()
    assert error["fields"] == {}
    assert any("Unhandled API error" in r.getMessage() for r in caplog.records)


def test_domain_errors_keep_their_message(alice, nordlicht, api_client):
    head = nordlicht.sites.get(is_central_function=True)

    error = assert_error(api_client(alice).delete(f"/api/v1/sites/{head.pk}"), 422, "invalid",
                         "site")

    assert error["message"] == ("Mark another site as the central function before removing "
                                "this one.")
