"""The published OpenAPI document (/api/v1/openapi.json) tells the truth.

django-ninja names each component after its class (``SiteOut``) and keeps the last
class of a name it meets, so two classes of one name silently document one operation
with the other's fields (``GET /organizations`` once showed the public certificate's
``{name, country}``).
"""

import typing
from collections import defaultdict

import pydantic
import pytest
from ninja import NinjaAPI, Router, Schema

from isocert.api import api


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
