"""The published OpenAPI document (/api/v1/openapi.json) tells the truth.

django-ninja names each component after its class (``SiteOut``) and keeps the last
class of a name it meets, so two classes of one name silently document one operation
with the other's fields (``GET /organizations`` once showed the public certificate's
``{name, country}``).
"""

import typing
from collections import defaultdict

import jsonschema_rs
import pydantic
import pytest
from ninja import NinjaAPI, Router, Schema

from isocert.portal.api import api


def _models(annotation, found: set) -> None:
    """Every pydantic model an annotation reaches (fields, list items, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        if annotation in found:
            return
        found.add(annotation)
        for field in annotation.model_fields.values():
            _models(field.annotation, found)
    for argument in typing.get_args(annotation):
        _models(argument, found)


def document_models(ninja_api: NinjaAPI, package: str) -> set[type]:
    """The schema classes of ``package`` the operations' bodies, parameters and
    responses reach: the classes that become the document's components."""
    found: set[type] = set()
    for bound_router in ninja_api._get_bound_routers():
        for path_view in bound_router.path_operations.values():
            for operation in path_view.operations:
                for model in [*operation.response_models.values(), *operation.models]:
                    _models(model, found)
    return {model for model in found if model.__module__.startswith(package)}


def name_collisions(models: set[type]) -> dict[str, list[str]]:
    by_name = defaultdict(list)
    for model in models:
        by_name[model.__name__].append(f"{model.__module__}.{model.__qualname__}")
    return {name: sorted(paths) for name, paths in by_name.items() if len(paths) > 1}


def test_no_two_schema_classes_share_a_name_in_the_document():
    assert name_collisions(document_models(api, "isocert.")) == {}


@pytest.fixture
def document(client):
    """The document as published."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_document_has_one_component_per_schema_class(document):
    """The walk above sees exactly what reaches the document (so it cannot pass by
    missing a router)."""
    models = document_models(api, "isocert.")

    assert set(document["components"]["schemas"]) == {m.__name__ for m in models}
    assert len(models) > 100


def test_the_collision_check_finds_two_classes_of_one_name():
    first = type("SiteOut", (Schema,), {"__annotations__": {"name": str},
                                        "__module__": "tests_fake.one"})
    second = type("SiteOut", (Schema,), {"__annotations__": {"city": str},
                                         "__module__": "tests_fake.two"})
    router = Router()
    router.get("/a", response=first)(lambda request: {})
    router.get("/b", response=list[second])(lambda request: [])
    fake = NinjaAPI(urls_namespace="fake-collision")
    fake.add_router("/", router)

    assert name_collisions(document_models(fake, "tests_fake.")) == {
        "SiteOut": ["tests_fake.one.SiteOut", "tests_fake.two.SiteOut"]}


@pytest.mark.parametrize(("path", "fields"), [
    ("/api/v1/organizations", {"id", "legal_name", "sites"}),
    ("/api/v1/public/certificates/{number}", {"certificate_number", "organization"}),
    ("/api/v1/internal-audits/{internal_audit_id}", {"findings", "checklist"}),
])
def test_operations_are_documented_with_their_own_schema(document, path, fields):
    schema = document["paths"][path]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    ref = schema.get("items", schema)["$ref"]
    component = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]

    assert fields <= set(component["properties"])


# --- error responses ---------------------------------------------------------------------------

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def _operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def _error_statuses(operation) -> set[str]:
    return {status for status, response in operation["responses"].items()
            if response.get("content", {}).get("application/json", {}).get("schema")
            == ERROR_REF}


def test_every_operation_that_needs_a_log_in_documents_401_and_403(document):
    missing = {label for label, operation in _operations(document)
               if operation.get("security") and not {"401", "403"} <= _error_statuses(operation)}

    assert missing == set()
    assert sum(1 for _, operation in _operations(document) if operation.get("security")) > 150


def test_ids_in_the_path_or_the_input_document_404(document):
    paths = {label for label, operation in _operations(document)
             if any(p["in"] == "path" for p in operation["parameters"])
             and "404" not in _error_statuses(operation)}

    assert paths == set()
    assert "404" in _error_statuses(document["paths"]["/api/v1/applications"]["post"])


def test_bodies_document_400_413_and_422(document):
    missing = {label for label, operation in _operations(document)
               if "requestBody" in operation
               and not {"400", "413", "422"} <= _error_statuses(operation)}

    # The audit-time estimate parses its raw body itself: malformed JSON is its 422 (the
    # engine's field names), so 400 is not documented there.
    assert missing == {"POST /api/v1/audit-time"}
    assert {"413", "422"} <= _error_statuses(document["paths"]["/api/v1/audit-time"]["post"])


def test_throttled_operations_document_429_and_reads_no_conflict(document):
    paths = document["paths"]

    assert "429" in _error_statuses(paths["/api/v1/audit-time"]["post"])
    assert "429" in _error_statuses(paths["/api/v1/public/certificates"]["get"])
    assert "429" not in _error_statuses(paths["/api/v1/organizations"]["get"])
    assert _error_statuses(paths["/api/v1/organizations"]["get"]) == {"401", "403"}
    assert _error_statuses(paths["/api/v1/catalog/standards"]["get"]) == set()
    assert "409" in _error_statuses(paths["/api/v1/applications/{app_id}/submit"]["post"])
    assert "409" not in _error_statuses(paths["/api/v1/applications/{app_id}"]["get"])


def test_the_error_responses_say_what_they_mean(document):
    responses = document["paths"]["/api/v1/organizations/{org_id}"]["patch"]["responses"]

    assert "not yours" in responses["404"]["description"]
    assert "conflict" in responses["409"]["description"]
    assert document["components"]["schemas"]["ErrorOut"]["required"] == ["error"]


# --- real responses against the document --------------------------------------------------------

def assert_documented(document, method: str, path: str, response) -> None:
    """The answer's status is documented for the operation and its body matches the schema
    documented for that status."""
    responses = document["paths"][path][method]["responses"]
    assert str(response.status_code) in responses, (response.status_code, sorted(responses))
    schema = responses[str(response.status_code)]["content"]["application/json"]["schema"]
    validator = jsonschema_rs.validator_for({"components": document["components"], **schema})
    errors = [error.message for error in validator.iter_errors(response.json())]
    assert errors == [], errors


def test_real_answers_match_the_document(document, alice, nordlicht, api_client, client):
    from registry_helpers import make_certificate

    certificate = make_certificate("Nordlicht Aluminium GmbH")
    owner = api_client(alice)
    org = f"/api/v1/organizations/{nordlicht.pk}"
    json = "application/json"

    answers = [
        ("get", "/api/v1/organizations", owner.get("/api/v1/organizations")),
        ("get", "/api/v1/organizations/{org_id}", owner.get(org)),
        ("get", "/api/v1/organizations/{org_id}/sites", owner.get(org + "/sites")),
        ("get", "/api/v1/organizations/{org_id}", owner.get("/api/v1/organizations/987654")),
        ("get", "/api/v1/organizations", client.get("/api/v1/organizations")),
        ("post", "/api/v1/organizations", owner.post("/api/v1/organizations", {},
                                                     content_type=json)),
        ("patch", "/api/v1/organizations/{org_id}", owner.patch(org, "{not json",
                                                                content_type=json)),
        ("get", "/api/v1/me", owner.get("/api/v1/me")),
        ("get", "/api/v1/public/certificates/{number}",
         client.get(f"/api/v1/public/certificates/{certificate.number}")),
        ("get", "/api/v1/public/certificates/{number}",
         client.get("/api/v1/public/certificates/NO-SUCH-NUMBER")),
        ("get", "/api/v1/public/certificates", client.get("/api/v1/public/certificates")),
    ]

    assert [r.status_code for _, _, r in answers] == [200, 200, 200, 404, 401, 422, 400, 200,
                                                      200, 404, 200]
    for method, path, response in answers:
        assert_documented(document, method, path, response)


def test_a_documented_schema_that_differs_from_the_answer_is_caught(document, alice, nordlicht,
                                                                     api_client):
    """The check above fails on the mismatch the name collision caused: the organization
    list checked against the public certificate's organization (``{name, country}``)."""
    response = api_client(alice).get("/api/v1/organizations")
    wrong = {**document, "paths": {"/x": {"get": {"responses": {"200": {"content": {
        "application/json": {"schema": {"type": "array", "items": {
            "$ref": "#/components/schemas/PublicOrganizationOut"}}}}}}}}}}

    with pytest.raises(AssertionError):
        assert_documented(wrong, "get", "/x", response)
