"""A NUL in the public registry's paths and queries is a 4xx on every door (issue #13).

PostgreSQL refuses NUL in a query (``DataError``), so ``/api/v1/public/certificates/a%00b``
and ``/verify/a%00b`` were server errors there. The verification has two doors — the
WSGI front door (``PublicVerificationApp``) and django-ninja behind the full stack — and
each must answer as the other does.
"""

import pytest
from django.test import Client
from registry_helpers import WSGIClient, clear_public_state, make_certificate

from isocert.registry import lookups, verification

URL = "/api/v1/public/certificates/"
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


@pytest.fixture(autouse=True)
def _fresh_public_state():
    clear_public_state()
    yield
    clear_public_state()


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["a%00b", "C-1%00", "%00"])
def test_a_nul_in_the_number_is_404_through_every_door(number):
    make_certificate(number="C-1")

    full, front = Client().get(URL + number), WSGIClient().get(URL + number)

    for response in (full, front):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    assert front.content == full.content
    assert lookups.pending_lookup_counts() == {}


@pytest.mark.django_db
def test_the_front_door_answers_a_nul_itself(monkeypatch):
    make_certificate(number="C-2")
    from isocert.wsgi import application

    def django_must_not_answer(environ, start_response):
        raise AssertionError("handed to Django")

    monkeypatch.setattr(application, "django_app", django_must_not_answer)

    assert WSGIClient().get(URL + "C-2%00").status_code == 404


@pytest.mark.django_db
def test_the_lookup_finds_nothing_for_a_nul():
    make_certificate(number="C-3")

    assert verification.certificate_for_public("C-3\x00") is None
    assert verification.certificate_for_public("C-3").number == "C-3"


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["q", "standard", "country", "status"])
def test_a_nul_in_a_directory_filter_is_422_naming_it(field):
    response = Client().get(URL.rstrip("/"), {field: "a\x00b"})

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == [field]


@pytest.mark.django_db
def test_the_verification_page_answers_404_for_a_nul_in_the_number():
    make_certificate(number="C-4")

    assert Client().get("/verify/C-4%00").status_code == 404
    assert Client().get("/verify/C-4").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["q=a%00b", "standard=ISO%00", "status=Active%00"])
def test_the_directory_page_answers_400_for_a_nul_in_a_filter(query):
    assert Client().get("/directory/?" + query).status_code == 400
