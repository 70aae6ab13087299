"""GET /api/v1/public/certificates/{number}: the public verification API (no log-in).

Each test runs twice: through Django's test client (the django-ninja operation behind the
full middleware stack) and through ``isocert.wsgi.application`` (what granian serves: the
public API's WSGI front door, ``PublicVerificationApp``) — the two must answer alike.
"""

import datetime
import json
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from registry_helpers import WSGIClient, clear_public_state, make_certificate

from isocert.certification.models import Certificate
from isocert.certification.names import name_key
from isocert.registry import lookups, verification

URL = "/api/v1/public/certificates/"


@pytest.fixture(autouse=True)
def _fresh_public_state():
    clear_public_state()
    yield
    clear_public_state()


@pytest.fixture(params=["django", "wsgi"])
def anonymous(request):
    return Client() if request.param == "django" else WSGIClient()


@pytest.mark.django_db
def test_an_active_certificate_answers_every_field_of_the_contract(anonymous, settings):
    settings.CB_NAME = "Nordic Assurance CB"
    make_certificate(
        "Nordlicht Energie GmbH", number="ISO50001-2026-000042",
        standards=[("ISO 50001", "2018"), ("ISO 9001", "2015")],
        sites=[{"name": "Werk Nord", "address": "Hafenstraße 4", "city": "Hamburg",
                "postcode": "20457", "country": "DE", "scope": ""},
               {"name": "Lager Süd", "address": "Ringstraße 9", "city": "München",
                "postcode": "80331", "country": "DE", "scope": "Storage"}],
        revision=2)

    response = anonymous.get(URL + "ISO50001-2026-000042")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "certificate_number": "ISO50001-2026-000042",
        "status": "Active",
        "organization": {"name": "Nordlicht Energie GmbH", "country": "DE"},
        "standards": [{"code": "ISO 50001", "edition": "2018"},
                      {"code": "ISO 9001", "edition": "2015"}],
        "scope": "Production of aluminium profiles",
        "sites": [
            {"name": "Werk Nord", "address": "Hafenstraße 4", "city": "Hamburg",
             "postcode": "20457", "country": "DE", "scope": ""},
            {"name": "Lager Süd", "address": "Ringstraße 9", "city": "München",
             "postcode": "80331", "country": "DE", "scope": "Storage"},
        ],
        "original_issue_date": "2023-03-01",
        "issue_date": "2026-03-01",
        "expiry_date": "2029-02-28",
        "certification_body": {"name": "Nordic Assurance CB"},
        "revision": 2,
        "status_history": [{"status": "Active", "date": "2023-03-01"}],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["Suspended", "Withdrawn", "Expired"])
def test_other_statuses_and_their_history_with_reasons(anonymous, status):
    make_certificate(number="C-1", status=status, status_date=datetime.date(2026, 10, 2))

    body = anonymous.get(URL + "C-1").json()

    assert body["status"] == status
    expected_last = {"status": status, "date": "2026-10-02"}
    if status == "Suspended":
        expected_last["reason"] = "Surveillance audit not carried out within the required time."
    if status == "Withdrawn":
        expected_last["reason"] = "Suspension not resolved within six months."
    assert body["status_history"] == [{"status": "Active", "date": "2023-03-01"},
                                      expected_last]


@pytest.mark.django_db
def test_the_qr_public_code_finds_the_certificate_too(anonymous):
    certificate = make_certificate(number="C-2")

    body = anonymous.get(URL + certificate.public_code).json()

    assert body["certificate_number"] == "C-2"


@pytest.mark.django_db
def test_numbers_with_slashes_are_verifiable(anonymous):
    make_certificate(number="Q-123/2020")

    assert anonymous.get(URL + "Q-123/2020").json()["certificate_number"] == "Q-123/2020"


@pytest.mark.django_db
def test_an_unknown_number_is_a_404_in_the_error_shape(anonymous):
    make_certificate(number="C-3")

    response = anonymous.get(URL + "C-4")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.",
                                         "fields": {}}}


@pytest.mark.django_db
def test_a_confidential_certificate_verifies_by_its_number(anonymous):
    make_certificate("Hidden Works AG", number="CONF-1", confidential=True)

    assert anonymous.get(URL + "CONF-1").json()["organization"]["name"] == "Hidden Works AG"


@pytest.mark.django_db
def test_verification_is_three_small_queries_and_no_session(monkeypatch,
                                                            django_assert_num_queries):
    # The front door (what granian serves) is the one path past the session machinery.
    anonymous = WSGIClient()
    make_certificate(number="C-5")
    lookups.flush_lookup_counts()
    statements = []
    driver_cursor = verification._driver_cursor

    def counting_cursor():
        cursor = driver_cursor()
        execute = cursor.execute

        class Counting:
            def execute(self, sql, params=()):
                statements.append(sql)
                return execute(sql, params)

            def __getattr__(self, name):
                return getattr(cursor, name)
        return Counting()

    monkeypatch.setattr(verification, "_driver_cursor", counting_cursor)

    # The certificate, its sites, its status history on the driver's cursor (PostgreSQL:
    # in one statement); nothing through Django's (no session, user or cache query).
    with django_assert_num_queries(0):
        response = anonymous.get(URL + "C-5")

    assert response.status_code == 200
    tables = ["certification_certificate", "certification_certificatesite",
              "certification_certificatestatuschange"]
    if connection.vendor == "postgresql":
        assert len(statements) == 1
        assert all(f"FROM {table} " in statements[0] for table in tables)
    else:
        assert [s.split(" FROM ")[1].split()[0] for s in statements] == tables
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


@pytest.mark.django_db
def test_lookups_are_counted_in_memory_then_flushed_in_one_update(anonymous):
    first = make_certificate(number="C-6")
    second = make_certificate(number="C-7")
    for _ in range(3):
        anonymous.get(URL + "C-6")
    anonymous.get(URL + "C-7")

    assert lookups.pending_lookup_counts() == {first.id: 3, second.id: 1}
    assert Certificate.objects.get(pk=first.pk).lookups == 0  # nothing written per request

    # One UPDATE per count (certificates with the same count share one).
    with CaptureQueriesContext(connection) as queries:
        written = lookups.flush_lookup_counts()

    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 2
    assert all('"lookups" = ("certification_certificate"."lookups" + ' in u for u in updates)

    assert written == 4
    assert Certificate.objects.get(pk=first.pk).lookups == 3
    assert Certificate.objects.get(pk=second.pk).lookups == 1
    assert lookups.pending_lookup_counts() == {}
    assert lookups.flush_lookup_counts() == 0


@pytest.mark.django_db
def test_unknown_numbers_count_nothing(anonymous):
    anonymous.get(URL + "NOPE")

    assert lookups.pending_lookup_counts() == {}


@pytest.mark.django_db
def test_counting_flushes_by_itself_after_enough_lookups(anonymous, monkeypatch):
    certificate = make_certificate(number="C-8")
    monkeypatch.setattr(lookups, "LOOKUP_FLUSH_AT", 2)

    anonymous.get(URL + "C-8")
    anonymous.get(URL + "C-8")

    assert Certificate.objects.get(pk=certificate.pk).lookups == 2


@pytest.mark.django_db(transaction=True)
def test_nothing_about_the_requester_is_stored(anonymous):
    make_certificate(number="C-9")
    anonymous.get(URL + "C-9", REMOTE_ADDR="203.0.113.77",
                  HTTP_USER_AGENT="PrivacyProbe/1.0")
    lookups.flush_lookup_counts()

    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table.startswith("certification_certificate_fts"):
                continue  # index shadow tables hold names only
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                text = repr(row)
                assert "203.0.113.77" not in text, table
                assert "PrivacyProbe" not in text, table
    assert Certificate.objects.get(number="C-9").lookups == 1


@pytest.mark.django_db
def test_the_rate_limit_answers_429_in_the_error_shape(anonymous, settings):
    settings.PUBLIC_API_RATE = "3/min"
    make_certificate(number="C-10")

    answers = [anonymous.get(URL + "C-10").status_code for _ in range(3)]
    refused = anonymous.get(URL + "C-10")

    assert answers == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert set(refused.json()["error"]) == {"code", "message", "fields"}
    assert 1 <= int(refused["Retry-After"]) <= 60
    # The directory shares the limit; another address has its own.
    assert anonymous.get("/api/v1/public/certificates").status_code == 429
    assert anonymous.get(URL + "C-10", REMOTE_ADDR="198.51.100.2").status_code == 200


@pytest.mark.django_db
def test_a_forged_forwarded_for_header_does_not_dodge_the_limit(anonymous, settings):
    settings.PUBLIC_API_RATE = "2/min"
    make_certificate(number="C-11")
    settings.TRUSTED_PROXY_COUNT = 0

    codes = [anonymous.get(URL + "C-11", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
             for i in range(3)]

    assert codes == [200, 200, 429]


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_forwarded_client_counts(anonymous, settings):
    settings.PUBLIC_API_RATE = "1/min"
    make_certificate(number="C-12")
    settings.TRUSTED_PROXY_COUNT = 1

    first = anonymous.get(URL + "C-12", HTTP_X_FORWARDED_FOR="192.0.2.1")
    same = anonymous.get(URL + "C-12", HTTP_X_FORWARDED_FOR="192.0.2.1")
    other = anonymous.get(URL + "C-12", HTTP_X_FORWARDED_FOR="192.0.2.2")

    assert [first.status_code, same.status_code, other.status_code] == [200, 429, 200]


def test_the_operations_are_public_and_documented():
    schema = Client().get("/api/v1/openapi.json").json()  # as published: string status keys
    one = schema["paths"]["/api/v1/public/certificates/{number}"]["get"]
    listing = schema["paths"]["/api/v1/public/certificates"]["get"]

    for operation in (one, listing):
        assert operation["tags"] == ["public registry"]
        assert "security" not in operation
        assert "429" in operation["responses"]
    assert "404" in one["responses"]
    for operation in (one, listing):
        # The example is merged into the documented response, not put in its place.
        for status in ("200", "429"):
            content = operation["responses"][status]["content"]["application/json"]
            assert "$ref" in content["schema"] and content["example"]
    assert one["responses"]["200"]["content"]["application/json"]["example"]["status"]
    assert {p["name"] for p in listing["parameters"]} == {"q", "standard", "country", "status",
                                                          "page"}


def test_name_key_is_lower_case_and_accent_free():
    assert name_key("  Nordlicht  Énergie GmbH ") == "nordlicht energie gmbh"
    assert name_key("Straße Müller-Čapek") == "strasse muller-capek"
    assert name_key("") == ""


@pytest.mark.django_db(transaction=True)
def test_a_due_flush_runs_in_the_background(anonymous, monkeypatch):
    certificate = make_certificate(number="C-13")
    monkeypatch.setattr(lookups, "FLUSH_IN_BACKGROUND", True)
    monkeypatch.setattr(lookups, "LOOKUP_FLUSH_AT", 2)

    anonymous.get(URL + "C-13")
    anonymous.get(URL + "C-13")
    lookups.wait_for_background_flush()

    assert Certificate.objects.get(pk=certificate.pk).lookups == 2
    assert lookups.pending_lookup_counts() == {}


@pytest.mark.django_db(transaction=True)
def test_the_timer_writes_the_counts_without_waiting_for_another_lookup(anonymous, settings,
                                                                        monkeypatch):
    certificate = make_certificate(number="C-15")
    monkeypatch.setattr(lookups, "FLUSH_IN_BACKGROUND", True)
    monkeypatch.setattr(lookups, "_timer_pid", None)  # this test's own timer
    settings.LOOKUP_FLUSH_SECONDS = 1

    anonymous.get(URL + "C-15")
    deadline = time.monotonic() + 5
    while Certificate.objects.get(pk=certificate.pk).lookups == 0 and time.monotonic() < deadline:
        time.sleep(0.1)

    assert Certificate.objects.get(pk=certificate.pk).lookups == 1
    assert lookups.pending_lookup_counts() == {}


# --- the WSGI front door (what granian serves) -------------------------------------------------

@pytest.mark.django_db
def test_the_front_door_leaves_a_wrong_host_and_other_methods_to_django():
    make_certificate(number="C-14")
    client = WSGIClient()

    assert client.get(URL + "C-14", HTTP_HOST="evil.example").status_code == 400
    assert client.get(URL.rstrip("/"), HTTP_HOST="evil.example").status_code == 400
    posted = Client().post(URL + "C-14")
    assert posted.status_code == 405
    assert posted.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_the_front_door_keeps_djangos_https_rules(settings):
    make_certificate(number="C-15")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    client = WSGIClient()

    plain = client.get(URL + "C-15")
    secure = client.get(URL + "C-15", secure=True)

    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver" + URL + "C-15"
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=3600"
    assert secure["X-Content-Type-Options"] == "nosniff"
    assert secure["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_the_front_door_answers_like_the_full_stack():
    make_certificate(number="C-16", status="Suspended")

    for path in (URL + "C-16", URL + "NOPE"):
        full, front = Client().get(path), WSGIClient().get(path)
        assert front.status_code == full.status_code
        assert front.content == full.content
        for header in ("Content-Type", "X-Content-Type-Options", "Referrer-Policy",
                       "Cross-Origin-Opener-Policy"):
            assert front[header] == full[header]


@pytest.mark.django_db
def test_the_front_door_serves_the_directory_like_the_full_stack_without_a_session(
        monkeypatch, django_assert_num_queries):
    make_certificate("Nordlicht Energie GmbH", number="C-18")
    from isocert.wsgi import application

    def django_must_not_answer(environ, start_response):
        raise AssertionError("handed to Django")

    monkeypatch.setattr(application, "django_app", django_must_not_answer)
    directory = URL.rstrip("/")
    for query in ({"q": "Nordlict"}, {"status": "Bogus"}, {"page": "0"}, {}):
        full = Client().get(directory, query)
        front = WSGIClient().get(directory, query)
        assert front.status_code == full.status_code
        assert front.content == full.content
        for header in ("Content-Type", "X-Content-Type-Options", "Referrer-Policy",
                       "Cross-Origin-Opener-Policy", "Content-Security-Policy",
                       "Permissions-Policy"):
            assert front[header] == full[header]
        assert not front.cookies
        assert "Cookie" not in front.get("Vary", "")
    assert WSGIClient().get(directory, {"q": "Nordlict"}).json()["items"][0][
        "certificate_number"] == "C-18"


@pytest.mark.django_db
def test_the_directory_answer_matches_the_documented_schema():
    from isocert.registry.api_public import DirectoryOut

    make_certificate("Nordlicht Energie GmbH")
    response = WSGIClient().get(URL.rstrip("/"))

    assert response.status_code == 200
    DirectoryOut.model_validate(response.json())
    assert set(response.json()) == set(DirectoryOut.model_fields)


@pytest.mark.django_db
def test_an_unexpected_error_in_the_front_door_is_djangos_500(monkeypatch):
    make_certificate(number="C-17")

    def broken(number):
        raise RuntimeError("database went away")

    monkeypatch.setattr(verification, "certificate_for_public", broken)
    response = WSGIClient().get(URL + "C-17")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


@pytest.mark.django_db
def test_an_unexpected_error_in_the_directory_is_a_500_in_the_error_shape(monkeypatch):
    from isocert.registry import api_public

    def broken(*args):
        raise RuntimeError("database went away")

    monkeypatch.setattr(api_public, "search_directory", broken)
    response = WSGIClient().get(URL.rstrip("/"))

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


def _front_door_get(path: str):
    """GET ``path`` through ``isocert.wsgi.application`` (the WSGI front door)."""
    response = WSGIClient().get(path)
    return response.status_code, response.content


def test_the_front_door_answer_matches_the_documented_schema(db):
    from isocert.registry.api_public import PublicCertificateOut

    certificate = make_certificate("Nordlicht Energie GmbH")
    status, content = _front_door_get(f"/api/v1/public/certificates/{certificate.number}")

    assert status == 200
    data = json.loads(content)
    PublicCertificateOut.model_validate(data)
    documented = set(PublicCertificateOut.model_fields)
    # "reason" of a status change is left out when none was recorded (exclude_none).
    assert set(data) == documented


def test_an_error_in_the_front_door_answers_500_in_the_error_shape_and_counts_once(db,
        monkeypatch):
    from isocert.registry import api_public

    certificate = make_certificate("Nordlicht Energie GmbH")
    counted = []
    monkeypatch.setattr(lookups, "record_lookup", counted.append)

    def broken(certificate):
        raise RuntimeError("boom")

    monkeypatch.setattr(api_public.verification, "public_certificate_dict", broken)
    status, content = _front_door_get(f"/api/v1/public/certificates/{certificate.number}")

    assert status == 500
    assert json.loads(content) == {"error": {
        "code": "server_error",
        "message": "Something went wrong on our side; nothing was changed.", "fields": {}}}
    assert counted == [certificate.id]
