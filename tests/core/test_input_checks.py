"""Values no database column can hold (core.input_checks): what counts as one, and the
HTML pages' middleware refusing them with 400/404 instead of a 500 (issue #13).

On PostgreSQL a NUL in any value a page looked up was a server error; the tests run on
both databases and expect the same answer on each.
"""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from ninja import Schema

from isocert.accounts.models import Organization
from isocert.core.input_checks import INTEGER_MAX, INTEGER_MIN, text_problem, value_problems
from isocert.core.models import AuditEvent


class Line(Schema):
    text: str
    count: int = 0


class Body(Schema):
    name: str
    lines: list[Line] = []
    extra: dict = {}


# --- what cannot be stored -------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "Nordlicht", "Hafenstraße 12", "Plant \N{FACTORY}",
                                  "line\nbreak\ttab"])
def test_ordinary_text_is_storable(text):
    assert text_problem(text) is None


@pytest.mark.parametrize(("text", "word"), [("a\x00b", "NUL"), ("\x00", "NUL"),
                                            ("\ud800x", "surrogate"), ("x\udfff", "surrogate")])
def test_nul_and_lone_surrogates_are_not(text, word):
    assert word in text_problem(text)


def test_integers_are_storable_exactly_within_64_bits():
    assert value_problems(INTEGER_MAX) == {}
    assert value_problems(INTEGER_MIN) == {}
    assert list(value_problems(INTEGER_MAX + 1)) == [()]
    assert list(value_problems(INTEGER_MIN - 1)) == [()]


def test_other_values_are_storable():
    for value in (True, 1.5e300, Decimal("1e40"), datetime.date(2026, 1, 1), None):
        assert value_problems(value) == {}


def test_problems_are_found_in_schemas_lists_and_dicts_by_their_path():
    body = Body(name="a\x00b", lines=[Line(text="ok"), Line(text="\ud800", count=2**64)],
                extra={"k\x00": 1, "deep": [{"n": -(2**70)}]})

    problems = value_problems(body)

    assert set(problems) == {("name",), ("lines", 1, "text"), ("lines", 1, "count"),
                             ("extra", "k\x00"), ("extra", "deep", 0, "n")}


def test_a_path_prefix_is_kept():
    assert list(value_problems(["ok", "\x00"], ("tags",))) == [("tags", 1)]


# --- the HTML pages: 400 for a query, form or cookie, 404 for a path -------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/directory/?q=a%00b", "/directory/?country=D%00E",
                                 "/verify/?number=a%00b", "/audit-time/?standards=a%00"])
def test_a_nul_in_a_page_query_is_400(client, url):
    assert client.get(url).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/directory/?q=Nordlicht", "/verify/?number=",
                                 "/audit-time/"])
def test_a_clean_page_query_is_answered(client, url):
    assert client.get(url).status_code == 200


def test_a_nul_in_a_page_path_is_404(alice, api_client):
    # No page has such an address (the verification page: tests/certification).
    assert api_client(alice).get("/invitations/accept/a%00b/").status_code == 404


@pytest.fixture
def organization_form(nordlicht):
    return {"legal_name": "Nordlicht Aluminium GmbH", "country": "DE",
            "registered_address": "Hafenstraße 12, 28217 Bremen", "sector_codes": ["17"],
            "scope_statement": "Die casting of aluminium parts."}


def profile(organization) -> tuple:
    organization.refresh_from_db()
    return (organization.legal_name, organization.country_id,
            organization.registered_address, AuditEvent.objects.count())


@pytest.mark.parametrize(("field", "value"), [
    ("legal_name", "Nordlicht\x00 GmbH"),  # a text field
    ("country", "D\x00E"),  # looked up in the database: PostgreSQL's DataError
    ("sector_codes", "1\x007"),
])
def test_a_nul_in_a_form_field_is_400_and_changes_nothing(alice, nordlicht, api_client,
                                                          organization_form, field, value):
    before = profile(nordlicht)

    response = api_client(alice).post(f"/organizations/{nordlicht.pk}/edit/",
                                      organization_form | {field: value})

    assert response.status_code == 400
    assert profile(nordlicht) == before


def test_a_nul_in_a_form_field_name_is_400(alice, nordlicht, api_client, organization_form):
    response = api_client(alice).post(f"/organizations/{nordlicht.pk}/edit/",
                                      organization_form | {"x\x00": "1"})

    assert response.status_code == 400


def test_the_same_form_without_a_nul_is_saved(alice, nordlicht, api_client, organization_form):
    response = api_client(alice).post(f"/organizations/{nordlicht.pk}/edit/",
                                      organization_form | {"legal_name": "Nordlicht AG"})

    assert response.status_code == 302
    assert Organization.objects.get(pk=nordlicht.pk).legal_name == "Nordlicht AG"


def test_a_nul_in_a_multipart_form_field_is_400(alice, draft, api_client):
    from factories import pdf_upload

    response = api_client(alice).post(f"/applications/{draft.pk}/documents/",
                                      {"file": pdf_upload(), "description": "a\x00b"})

    assert response.status_code == 400
    assert not draft.documents.exists()


def test_a_page_upload_without_a_boundary_is_400(alice, draft, api_client):
    response = api_client(alice).post(f"/applications/{draft.pk}/documents/", b"--x--",
                                      content_type="multipart/form-data")

    assert response.status_code == 400


@pytest.mark.django_db
def test_a_nul_in_a_cookie_is_400():
    client = Client()
    client.cookies["sessionid"] = "\x00" * 32  # would be looked up as a session key

    assert client.get("/dashboard/").status_code == 400


@pytest.mark.django_db
def test_the_api_is_left_to_django_ninja_which_names_the_field(client):
    response = client.get("/api/v1/public/certificates?q=a%00b")

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "q": "Text cannot contain the NUL character (\\u0000)."}
