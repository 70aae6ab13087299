"""The public directory: typo-tolerant search, filters, pages, invalid filters (API and page).

Runs on whichever database the suite runs on: SQLite (FTS5 trigram table) or PostgreSQL
(pg_trgm); the expectations are the same.
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from registry_helpers import clear_public_state, make_certificate

from isocert.certification.names import name_key
from isocert.registry import directory

URL = "/api/v1/public/certificates"


@pytest.fixture(autouse=True)
def _fresh_public_state():
    clear_public_state()
    yield
    clear_public_state()


@pytest.fixture
def anonymous():
    return Client()


@pytest.fixture
def registry(db):
    """A small registry with names that share words, as real ones do."""
    make_certificate("Nordlicht Energie GmbH", number="N-1", country="DE")
    make_certificate("Nordwind Logistik AG", number="N-2", country="DE",
                     standards=[("ISO 9001", "2015")])
    make_certificate("Sonnenlicht Solar GmbH", number="S-1", country="AT",
                     standards=[("ISO 14001", "2015")], status="Suspended")
    make_certificate("Brightpath Services Ltd", number="B-1", country="GB",
                     standards=[("ISO 9001", "2015"), ("ISO/IEC 27001", "2022")])
    make_certificate("Énergie Verte SARL", number="E-1", country="FR", status="Expired")
    make_certificate("Hidden Nordlicht Works", number="H-1", country="DE", confidential=True)


def names(body):
    return [item["organization"]["name"] for item in body["items"]]


@pytest.mark.parametrize("typed", ["Nordlict", "nordlicht", "NORDLICHT ENERGIE", "Nordlicht Enrgie",
                                   "nordlihct"])
def test_a_typo_still_finds_the_organization(anonymous, registry, typed):
    body = anonymous.get(URL, {"q": typed}).json()

    assert names(body)[0] == "Nordlicht Energie GmbH"


def test_names_containing_the_text_come_before_similar_names(anonymous, registry):
    body = anonymous.get(URL, {"q": "licht"}).json()

    # Both contain "licht"; in name order. Nothing unrelated.
    assert names(body) == ["Nordlicht Energie GmbH", "Sonnenlicht Solar GmbH"]
    assert body["count"] == 2


def test_accents_do_not_matter(anonymous, registry):
    assert names(anonymous.get(URL, {"q": "energie verte"}).json())[0] == "Énergie Verte SARL"
    assert "Énergie Verte SARL" in names(anonymous.get(URL, {"q": "Énergie"}).json())


def test_unrelated_text_finds_nothing(anonymous, registry):
    body = anonymous.get(URL, {"q": "Zyxwvut"}).json()

    assert body == {"items": [], "count": 0, "count_capped": False, "page": 1, "pages": 1}


def test_short_text_finds_names_starting_with_it(anonymous, registry):
    assert names(anonymous.get(URL, {"q": "No"}).json()) == ["Nordlicht Energie GmbH",
                                                             "Nordwind Logistik AG"]


def test_confidential_certificates_are_not_listed(anonymous, registry):
    assert "Hidden Nordlicht Works" not in names(anonymous.get(URL, {"q": "nordlicht"}).json())
    assert "Hidden Nordlicht Works" not in names(anonymous.get(URL).json())
    assert anonymous.get(URL).json()["count"] == 5


def test_items_carry_the_verification_fields(anonymous, registry):
    item = anonymous.get(URL, {"q": "Brightpath"}).json()["items"][0]

    assert item["certificate_number"] == "B-1"
    assert item["standards"] == [{"code": "ISO 9001", "edition": "2015"},
                                 {"code": "ISO/IEC 27001", "edition": "2022"}]
    assert set(item) == {"certificate_number", "status", "organization", "standards", "scope",
                         "sites", "original_issue_date", "issue_date", "expiry_date",
                         "certification_body", "revision", "status_history"}


@pytest.mark.parametrize(("filters", "expected"), [
    ({"standard": "ISO 9001"}, ["Brightpath Services Ltd", "Nordwind Logistik AG"]),
    ({"country": "de"}, ["Nordlicht Energie GmbH", "Nordwind Logistik AG"]),
    ({"status": "Suspended"}, ["Sonnenlicht Solar GmbH"]),
    ({"status": "expired"}, ["Énergie Verte SARL"]),
    ({"q": "nord", "standard": "ISO 9001", "country": "DE", "status": "Active"},
     ["Nordwind Logistik AG"]),
    ({"q": "licht", "status": "Active"}, ["Nordlicht Energie GmbH"]),
])
def test_filters(anonymous, registry, filters, expected):
    assert names(anonymous.get(URL, filters).json()) == expected


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "Valid"}, "status"),
    ({"country": "DEU"}, "country"),
    ({"country": "D1"}, "country"),
    ({"page": 0}, "page"),
    ({"page": 2}, "page"),
    ({"page": "two"}, "page"),
])
def test_invalid_filters_are_422_naming_the_field(anonymous, registry, params, field):
    response = anonymous.get(URL, params)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]


def test_pages_of_twenty(anonymous, db):
    for i in range(45):
        make_certificate(f"Werk {i:02d} GmbH", number=f"W-{i:02d}")

    first = anonymous.get(URL, {"q": "werk"}).json()
    last = anonymous.get(URL, {"q": "werk", "page": 3}).json()
    listing = anonymous.get(URL, {"page": 2}).json()

    assert (first["count"], first["pages"], len(first["items"])) == (45, 3, 20)
    assert names(first)[0] == "Werk 00 GmbH"
    assert (last["page"], names(last)) == (3, [f"Werk {i} GmbH" for i in range(40, 45)])
    assert names(listing) == [f"Werk {i} GmbH" for i in range(20, 40)]
    assert anonymous.get(URL, {"q": "werk", "page": 4}).status_code == 422


def test_large_results_are_capped_not_counted_to_the_end(anonymous, db, monkeypatch):
    monkeypatch.setattr(directory, "COUNT_CAP", 30)
    monkeypatch.setattr(directory, "SEARCH_CAP", 30)
    for i in range(35):
        make_certificate(f"Werk {i:02d} GmbH", number=f"W-{i:02d}")

    listing = anonymous.get(URL).json()
    search = anonymous.get(URL, {"q": "werk"}).json()

    assert (listing["count"], listing["count_capped"], listing["pages"]) == (30, True, 2)
    assert (search["count"], search["count_capped"]) == (30, True)


def test_a_search_is_a_few_queries(anonymous, registry, django_assert_max_num_queries):
    # Search (names containing it, similar names — on PostgreSQL in a transaction that
    # steers the planner: 4 statements more), then the page's rows, sites and history.
    with django_assert_max_num_queries(6 if connection.vendor == "sqlite" else 10):
        anonymous.get(URL, {"q": "Nordlict"})
    # Turning the page reuses the ranked ids: rows, sites, history only.
    with django_assert_max_num_queries(3):
        anonymous.get(URL, {"q": "Nordlict"})


def test_new_and_renamed_certificates_are_found(anonymous, registry):
    certificate = make_certificate("Quarzwerk Technik KG", number="Q-1")
    assert names(anonymous.get(URL, {"q": "quarzwerk"}).json()) == ["Quarzwerk Technik KG"]

    clear_public_state()
    certificate.organization_name = "Kobaltwerk Technik KG"
    certificate.name_key = name_key(certificate.organization_name)
    certificate.save()
    assert names(anonymous.get(URL, {"q": "quarzwerk"}).json()) == []
    assert names(anonymous.get(URL, {"q": "kobaltwrk"}).json()) == ["Kobaltwerk Technik KG"]

    clear_public_state()
    certificate.delete()
    assert names(anonymous.get(URL, {"q": "kobaltwerk"}).json()) == []


# --- the page -----------------------------------------------------------------------------------

def test_the_page_lists_and_searches(anonymous, registry):
    response = anonymous.get(reverse("certificate_directory"), {"q": "Nordlict"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Nordlicht Energie GmbH" in html
    assert reverse("verify_certificate", args=["N-1"]) in html
    assert "Hidden Nordlicht Works" not in html


def test_the_page_without_filters_lists_everything_public(anonymous, registry):
    html = anonymous.get(reverse("certificate_directory")).content.decode()

    assert "Brightpath Services Ltd" in html and "Hidden Nordlicht Works" not in html
    assert "5 certificates" in html


def test_the_page_filters_and_pages(anonymous, db):
    for i in range(25):
        make_certificate(f"Werk {i:02d} GmbH", number=f"W-{i:02d}", country="AT")

    html = anonymous.get(reverse("certificate_directory"), {"country": "AT"}).content.decode()

    assert "page 1 of 2" in html
    assert 'href="/directory/?country=AT&amp;page=2"' in html
    assert '<option value="AT" selected>Austria</option>' in html


def test_the_country_is_chosen_by_name_and_a_lowercase_code_still_works(anonymous, registry):
    html = anonymous.get(reverse("certificate_directory")).content.decode()
    assert '<option value="" selected>Any country</option>' in html
    assert '<option value="DE">Germany</option>' in html

    html = anonymous.get(reverse("certificate_directory"), {"country": "gb"}).content.decode()
    assert "Brightpath Services Ltd" in html and "Nordlicht" not in html


@pytest.mark.parametrize(("params", "message"), [
    ({"status": "Valid"}, "Select a valid choice"),
    ({"country": "DEU"}, "two-letter country code"),
    ({"page": "0"}, "Pages start at 1"),
    ({"page": "9"}, "The last page is 1"),
])
def test_the_page_shows_invalid_filters_as_form_errors(anonymous, registry, params, message):
    response = anonymous.get(reverse("certificate_directory"), params)

    assert response.status_code == 200
    assert message in response.content.decode()


def test_the_page_is_a_bounded_number_of_queries(anonymous, registry):
    with CaptureQueriesContext(connection) as queries:
        anonymous.get(reverse("certificate_directory"), {"q": "nord"})

    assert len(queries) <= 12
