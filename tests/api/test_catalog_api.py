"""The public catalog API and the OpenAPI document."""

import pytest

from isocert.portal.api import api

STANDARDS = {"ISO 9001": "2015", "ISO 14001": "2015", "ISO 45001": "2018",
             "ISO/IEC 27001": "2022", "ISO 50001": "2018"}

# The operations the API offers today: none may disappear from the document.
OPERATIONS = {
    ("get", "/api/v1/catalog/standards"), ("get", "/api/v1/catalog/standards/{code}"),
    ("get", "/api/v1/catalog/sectors"), ("get", "/api/v1/catalog/countries"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/organizations"), ("post", "/api/v1/organizations"),
    ("get", "/api/v1/organizations/{org_id}"), ("patch", "/api/v1/organizations/{org_id}"),
    ("get", "/api/v1/organizations/{org_id}/sites"),
    ("post", "/api/v1/organizations/{org_id}/sites"),
    ("patch", "/api/v1/sites/{site_id}"), ("delete", "/api/v1/sites/{site_id}"),
    ("get", "/api/v1/organizations/{org_id}/memberships"),
    ("post", "/api/v1/memberships/{membership_id}/role"),
    ("delete", "/api/v1/memberships/{membership_id}"),
    ("get", "/api/v1/organizations/{org_id}/invitations"),
    ("post", "/api/v1/organizations/{org_id}/invitations"),
    ("post", "/api/v1/invitations/{invitation_id}/revoke"),
    ("get", "/api/v1/tokens"), ("post", "/api/v1/tokens"),
    ("post", "/api/v1/tokens/{token_id}/revoke"),
    ("get", "/api/v1/applications"), ("post", "/api/v1/applications"),
    ("get", "/api/v1/applications/{app_id}"), ("patch", "/api/v1/applications/{app_id}"),
    ("get", "/api/v1/applications/{app_id}/timeline"),
    ("get", "/api/v1/applications/{app_id}/documents"),
    ("post", "/api/v1/applications/{app_id}/documents"),
    ("get", "/api/v1/documents/{doc_id}/download"), ("delete", "/api/v1/documents/{doc_id}"),
    ("post", "/api/v1/applications/{app_id}/submit"),
    ("post", "/api/v1/applications/{app_id}/resubmit"),
    ("post", "/api/v1/applications/{app_id}/withdraw"),
    ("post", "/api/v1/applications/{app_id}/start-review"),
    ("post", "/api/v1/applications/{app_id}/request-information"),
    ("put", "/api/v1/applications/{app_id}/assessment"),
    ("post", "/api/v1/applications/{app_id}/register"),
    ("post", "/api/v1/applications/{app_id}/decline"),
    ("get", "/api/v1/audit-events"),
    ("post", "/api/v1/audit-time"),
}
PUBLIC = {("get", "/api/v1/catalog/standards"), ("get", "/api/v1/catalog/standards/{code}"),
          ("get", "/api/v1/catalog/sectors"), ("get", "/api/v1/catalog/countries"),
          ("post", "/api/v1/audit-time"),
          ("get", "/api/v1/public/certificates"), ("get", "/api/v1/public/certificates/{number}"),
          ("post", "/api/v1/public/complaints")}
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}


def test_standards_are_public(client, db):
    response = client.get("/api/v1/catalog/standards")

    assert response.status_code == 200
    standards = response.json()
    assert {s["code"]: s["edition"] for s in standards} == STANDARDS
    assert all(s["clause_count"] > 20 and s["title"] for s in standards)


@pytest.mark.parametrize("code", ["ISO%2FIEC%2027001", "iso-iec-27001", "ISO/IEC 27001"])
def test_one_standard_by_code_or_slug(client, db, code):
    response = client.get(f"/api/v1/catalog/standards/{code}")

    assert response.status_code == 200, response.content
    standard = response.json()
    assert (standard["code"], standard["edition"]) == ("ISO/IEC 27001", "2022")
    assert len(standard["clauses"]) == standard["clause_count"]
    numbers = {c["number"]: c for c in standard["clauses"]}
    assert numbers["4"]["parent"] is None and numbers["4"]["depth"] == 0
    assert numbers["4.1"]["parent"] == "4" and numbers["4.1"]["depth"] == 1
    assert "A.5.1" in numbers


def test_an_unknown_standard_is_404_in_the_error_shape(client, db):
    response = client.get("/api/v1/catalog/standards/iso-99999")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.",
                                         "fields": {}}}


def test_sectors_and_countries_are_public(client, db):
    sectors = client.get("/api/v1/catalog/sectors")
    countries = client.get("/api/v1/catalog/countries")

    assert sectors.status_code == 200 and countries.status_code == 200
    assert [s["code"] for s in sectors.json()] == list(range(1, 40))
    by_code = {c["code"]: c["name"] for c in countries.json()}
    assert by_code["DE"] == "Germany"
    assert {"AT", "GB", "FR", "US"} <= set(by_code)


# --- OpenAPI ------------------------------------------------------------------------------------

def test_the_openapi_document_lists_every_operation_with_a_summary(client, db):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "isocert API"
    operations = {(method, path): operation
                  for path, methods in document["paths"].items()
                  for method, operation in methods.items() if method in HTTP_METHODS}
    assert set(operations) >= OPERATIONS
    undocumented = [key for key, operation in operations.items()
                    if not (operation.get("summary", "").strip()
                            or operation.get("description", "").strip())]
    assert undocumented == []
    ids = [operation["operationId"] for operation in operations.values()]
    assert len(ids) == len(set(ids))
    assert all(operation.get("tags") for operation in operations.values())


def test_the_openapi_document_declares_both_ways_to_authenticate(client, db):
    document = client.get("/api/v1/openapi.json").json()

    schemes = document["components"]["securitySchemes"]
    assert {"TokenAuth", "PortalSessionAuth"} <= set(schemes)
    assert schemes["TokenAuth"]["scheme"] == "bearer"
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if (method, path) in PUBLIC:
                assert not operation.get("security"), (method, path)
            else:
                assert {next(iter(s)) for s in operation["security"]} == \
                    {"TokenAuth", "PortalSessionAuth"}, (method, path)


def test_the_document_served_is_the_one_the_api_builds(client, db):
    served = client.get("/api/v1/openapi.json").json()

    assert set(served["paths"]) == set(api.get_openapi_schema()["paths"])


def test_interactive_docs_answer(client, db):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert b"openapi.json" in response.content
