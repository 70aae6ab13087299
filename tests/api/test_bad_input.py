"""Bad input is a 4xx in the error shape, never a 500, and changes nothing (issue #13).

A JSON body past ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413), a multipart body without its
boundary (400), a lone surrogate or a NUL in a text, an integer beyond 64 bits (422 naming
the field). Each case runs on both databases: NUL failed only on PostgreSQL, the integers
only on SQLite, the others on both.
"""

import json
import re

import pytest
from django.apps import apps
from factories import pdf_upload
from helpers.api import assert_error

from isocert.accounts.models import Organization, Site
from isocert.core.models import AuditEvent
from isocert.portal.api import api
from isocert.registration.models import ApplicationDocument

BIG = 2**63  # one past the largest integer SQLite and PostgreSQL's bigint hold
NUL = "a\x00b"
SURROGATE = "\ud800x"  # a high surrogate without its low half: not Unicode


def raw(data) -> str:
    """The JSON text sent: NUL and lone surrogates as the escapes \\u0000 and \\ud800."""
    text = json.dumps(data)
    assert text.isascii()
    return text


def row_counts() -> dict[str, int]:
    """Rows of every isocert table: an insert anywhere shows (an update writes an audit event)."""
    return {model._meta.label: model.objects.count()
            for model in apps.get_models() if model.__module__.startswith("isocert.")}


def site_state(organization) -> list:
    return sorted(Site.objects.filter(organization=organization)
                  .values_list("name", "address", "shifts"))


def operations(content_type: str) -> list[tuple[str, str]]:
    """(method, url) of every documented operation taking this kind of body, path
    parameters filled in (the body is read before any object is looked up)."""
    found = []
    for path, methods in api.get_openapi_schema()["paths"].items():
        for method, operation in methods.items():
            if content_type in operation.get("requestBody", {}).get("content", {}):
                found.append((method, re.sub(r"\{[^}]+\}", "1", path)))
    return found


JSON_OPERATIONS = operations("application/json")
UPLOAD_OPERATIONS = operations("multipart/form-data")


def test_the_operations_are_found():
    assert ("post", "/api/v1/organizations") in JSON_OPERATIONS
    assert ("post", "/api/v1/audit-time") in JSON_OPERATIONS
    # Every upload of the API (issue #13 counted eight, each answering 500).
    assert len(UPLOAD_OPERATIONS) >= 8
    assert ("post", "/api/v1/applications/1/documents") in UPLOAD_OPERATIONS
    assert ("post", "/api/v1/registry/imports") in UPLOAD_OPERATIONS


# --- a body past the size limit: 413 -----------------------------------------------------------

@pytest.mark.parametrize(("method", "url"), JSON_OPERATIONS)
def test_a_json_body_past_the_limit_is_413_on_every_operation(alice, api_client, settings,
                                                              method, url):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    before = row_counts()
    body = '{"name": "' + "x" * 2_000 + '"}'

    response = getattr(api_client(alice), method)(url, body, content_type="application/json")

    error = assert_error(response, 413, "too_large")
    assert "1,000 bytes" in error["message"]
    assert row_counts() == before


def test_a_body_within_the_limit_is_read(alice, nordlicht, api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    site = nordlicht.sites.get(name="Oldenburg plant")

    response = api_client(alice).patch(f"/api/v1/sites/{site.pk}", {"name": "Oldenburg works"},
                                       content_type="application/json")

    assert response.status_code == 200
    assert response.json()["name"] == "Oldenburg works"


def test_the_default_limit_is_djangos_setting(alice, api_client, settings):
    body = '{"legal_name": "' + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + '"}'

    response = api_client(alice).post("/api/v1/organizations", body,
                                      content_type="application/json")

    assert_error(response, 413, "too_large")
    assert not Organization.objects.filter(legal_name__startswith="xxx").exists()


def test_too_many_form_fields_is_400(alice, draft, api_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    data = {f"field{i}": "x" for i in range(10)} | {"file": pdf_upload()}

    response = api_client(alice).post(f"/api/v1/applications/{draft.pk}/documents", data)

    assert_error(response, 400, "bad_request")
    assert not ApplicationDocument.objects.exists()


# --- multipart without its boundary: 400 -------------------------------------------------------

@pytest.mark.parametrize(("method", "url"), UPLOAD_OPERATIONS)
def test_multipart_without_a_boundary_is_400_on_every_upload(alice, api_client, method, url):
    before = row_counts()

    response = getattr(api_client(alice), method)(
        url, b"--x\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nA\r\n--x--\r\n",
        content_type="multipart/form-data")

    error = assert_error(response, 400, "bad_request")
    assert "boundary" in error["message"]
    assert row_counts() == before


def test_an_upload_with_its_boundary_still_works(alice, draft, api_client):
    response = api_client(alice).post(f"/api/v1/applications/{draft.pk}/documents",
                                      {"file": pdf_upload(), "kind": "manual"})

    assert response.status_code in (200, 201), response.content
    assert ApplicationDocument.objects.count() == 1


# --- a lone surrogate in a text: 422 -----------------------------------------------------------

def test_a_lone_surrogate_in_a_text_field_is_422(alice, nordlicht, api_client):
    site = nordlicht.sites.get(name="Oldenburg plant")
    before, events = site_state(nordlicht), AuditEvent.objects.count()

    response = api_client(alice).patch(f"/api/v1/sites/{site.pk}",
                                       raw({"name": SURROGATE}),
                                       content_type="application/json")

    error = assert_error(response, 422, "invalid", "name")
    assert "surrogate" in error["fields"]["name"]
    assert site_state(nordlicht) == before
    assert AuditEvent.objects.count() == events


def test_a_lone_surrogate_in_a_new_object_is_422_and_nothing_is_created(alice, api_client):
    before = row_counts()

    response = api_client(alice).post(
        "/api/v1/organizations",
        raw({"legal_name": "Nord" + SURROGATE, "country": "DE",
             "registered_address": "Hafenstraße 12", "sector_codes": [17]}),
        content_type="application/json")

    assert_error(response, 422, "invalid", "legal_name")
    assert row_counts() == before


def test_a_lone_surrogate_deep_in_a_body_names_its_place(alice, nordlicht, api_client):
    before = row_counts()

    response = api_client(alice).post(
        "/api/v1/applications",
        raw({"organization_id": nordlicht.pk, "standards": [
            {"standard": "ISO 9001"}, {"standard": "ISO 14001", "complexity": SURROGATE}]}),
        content_type="application/json")

    error = assert_error(response, 422, "invalid")
    assert list(error["fields"]) == ["standards.1.complexity"]
    assert row_counts() == before


def test_a_paired_surrogate_is_an_ordinary_character(alice, nordlicht, api_client):
    site = nordlicht.sites.get(name="Oldenburg plant")

    response = api_client(alice).patch(f"/api/v1/sites/{site.pk}",
                                       raw({"name": "Plant \N{FACTORY}"}),
                                       content_type="application/json")

    assert response.status_code == 200, response.content
    site.refresh_from_db()
    assert site.name == "Plant \N{FACTORY}"


# --- a NUL in a text, query parameter or path: 4xx ---------------------------------------------

def test_a_nul_in_a_json_text_field_is_422(alice, nordlicht, api_client):
    site = nordlicht.sites.get(name="Oldenburg plant")
    before, events = site_state(nordlicht), AuditEvent.objects.count()

    response = api_client(alice).patch(f"/api/v1/sites/{site.pk}",
                                       raw({"name": NUL, "address": "ok"}),
                                       content_type="application/json")

    error = assert_error(response, 422, "invalid", "name")
    assert list(error["fields"]) == ["name"]
    assert "NUL" in error["fields"]["name"]
    assert site_state(nordlicht) == before
    assert AuditEvent.objects.count() == events


def test_a_nul_in_an_email_address_is_422(alice, nordlicht, api_client):
    before = row_counts()

    response = api_client(alice).post(
        f"/api/v1/organizations/{nordlicht.pk}/invitations",
        raw({"email": f"dan{NUL}@nordlicht.example", "role": "viewer"}),
        content_type="application/json")

    assert_error(response, 422, "invalid", "email")
    assert row_counts() == before


def test_a_nul_in_a_query_parameter_is_422(alice, nordlicht, api_client):
    client = api_client(alice)

    for url, field in [
        ("/api/v1/applications?status=draft%00", "status"),
        (f"/api/v1/organizations/{nordlicht.pk}/actions?clause=4.1%00", "clause"),
    ]:
        assert_error(client.get(url), 422, "invalid", field)


def test_a_nul_in_a_form_field_of_an_upload_is_422(alice, draft, api_client):
    response = api_client(alice).post(f"/api/v1/applications/{draft.pk}/documents",
                                      {"file": pdf_upload(), "description": "Manual\x00"})

    assert_error(response, 422, "invalid", "description")
    assert not ApplicationDocument.objects.exists()


def test_a_nul_in_a_path_parameter_is_404(alice, api_client):
    response = api_client(alice).get("/api/v1/catalog/standards/ISO%209001%00")

    assert_error(response, 404, "not_found")


def test_a_nul_in_an_integer_path_parameter_is_422(alice, api_client):
    assert_error(api_client(alice).get("/api/v1/organizations/1%00"), 422, "invalid", "org_id")


# --- integers beyond 64 bits: 422 naming the field ---------------------------------------------

@pytest.mark.parametrize("value", [BIG, -BIG - 1, 10**30])
def test_an_integer_beyond_64_bits_in_a_body_is_422(alice, nordlicht, api_client, value):
    before = row_counts()
    sectors = sorted(nordlicht.sectors.values_list("code", flat=True))

    response = api_client(alice).patch(f"/api/v1/organizations/{nordlicht.pk}",
                                       {"sector_codes": [17, value]},
                                       content_type="application/json")

    error = assert_error(response, 422, "invalid", "sector_codes.1")
    assert "whole number" in error["fields"]["sector_codes.1"]
    assert sorted(nordlicht.sectors.values_list("code", flat=True)) == sectors
    assert row_counts() == before


def test_an_integer_beyond_64_bits_written_as_text_is_422(alice, nordlicht, api_client):
    site = nordlicht.sites.get(name="Oldenburg plant")
    before = site_state(nordlicht)

    response = api_client(alice).patch(f"/api/v1/sites/{site.pk}", {"shifts": str(BIG)},
                                       content_type="application/json")

    assert_error(response, 422, "invalid", "shifts")
    assert site_state(nordlicht) == before


def test_the_largest_64_bit_integer_passes_the_check(alice, nordlicht, api_client):
    site = nordlicht.sites.get(name="Oldenburg plant")

    response = api_client(alice).patch(f"/api/v1/sites/{site.pk}", {"shifts": BIG - 1},
                                       content_type="application/json")

    # Storable, so it reaches the service, whose own rule (1 to 5 shifts) answers.
    error = assert_error(response, 422, "invalid", "shifts")
    assert "whole number" not in error["fields"]["shifts"]


@pytest.mark.parametrize(("url", "field"), [
    ("/api/v1/applications?organization_id={big}", "organization_id"),
    ("/api/v1/organizations/{org}/actions?owner_id={big}", "owner_id"),
    ("/api/v1/public/certificates?page={big}", "page"),
    ("/api/v1/organizations/{big}", "org_id"),
])
def test_an_integer_beyond_64_bits_in_the_query_or_path_is_422(alice, nordlicht, api_client,
                                                               url, field):
    response = api_client(alice).get(url.format(big=BIG, org=nordlicht.pk))

    assert_error(response, 422, "invalid", field)


def test_an_integer_beyond_64_bits_in_a_form_field_is_422(alice, api_client):
    before = row_counts()

    response = api_client(alice).post("/api/v1/internal-audits/1/findings", {
        "kind": "nonconformity", "clause": "4.1", "statement": "s", "owner_id": str(BIG)})

    assert_error(response, 422, "invalid", "owner_id")
    assert row_counts() == before


# --- the audit-time estimate reads its body itself ---------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    (raw({"standards": [{"code": "ISO 9001", "effective_personnel": BIG}]}),
     "standards.0.effective_personnel"),
    (raw({"standards": [{"code": "ISO 9001" + NUL, "effective_personnel": 10}]}),
     "standards.0.code"),
    (raw({"standards": [{"code": "ISO 9001", "effective_personnel": 10}],
          "adjustments": [{"reason": SURROGATE, "percent": -10}]}),
     "adjustments.0.reason"),
    (raw({"standards": [{"code": "ISO 9001", "effective_personnel": 10}],
          "adjustments": [{"reason": NUL, "percent": -10}]}),
     "adjustments.0.reason"),
], ids=["integer", "nul-code", "surrogate-reason", "nul-reason"])
def test_the_audit_time_estimate_refuses_bad_input_naming_the_field(client, db, body, field):
    response = client.post("/api/v1/audit-time", body, content_type="application/json")

    assert_error(response, 422, "invalid", field)
