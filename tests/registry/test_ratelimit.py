"""The public registry's rate limit: one budget per client address for the verification
and the directory, shared by the API operations and the pages /verify/… and /directory/."""

from types import SimpleNamespace

import pytest
from django.test import Client
from registry_helpers import WSGIClient, clear_public_state, make_certificate

from isocert.certification.models import Certificate
from isocert.registry import lookups, ratelimit

API = "/api/v1/public/certificates/"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_public_state(monkeypatch):
    # The limit counts in fixed windows: a test's requests must not straddle a window's end
    # (on a slow run the third request could start a new minute and be let through).
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    clear_public_state()
    yield
    clear_public_state()


@pytest.fixture
def anonymous():
    return Client()


def assert_refused_page(response):
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert "Too many requests" in response.content.decode()
    assert 1 <= int(response["Retry-After"]) <= 60


def test_the_verification_page_answers_429_past_the_limit(anonymous, settings):
    settings.PUBLIC_API_RATE = "3/min"
    make_certificate(number="C-1")

    answers = [anonymous.get("/verify/C-1") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert_refused_page(answers[3])
    assert lookups.pending_lookup_counts() == {Certificate.objects.get(number="C-1").pk: 3}


def test_unknown_numbers_count_too_so_numbers_cannot_be_probed_past_the_limit(anonymous,
                                                                              settings):
    settings.PUBLIC_API_RATE = "2/min"

    codes = [anonymous.get(f"/verify/NO-{n}").status_code for n in range(3)]

    assert codes == [404, 404, 429]


def test_the_directory_page_answers_429_past_the_limit(anonymous, settings):
    settings.PUBLIC_API_RATE = "2/min"
    make_certificate("Nordlicht Energie GmbH")

    answers = [anonymous.get("/directory/", {"q": "Nordlicht"}) for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert_refused_page(answers[2])


@pytest.mark.parametrize("front", ["django", "wsgi"])
def test_pages_and_api_share_one_budget(anonymous, settings, front):
    settings.PUBLIC_API_RATE = "4/min"
    make_certificate(number="C-2")
    api = Client() if front == "django" else WSGIClient()

    codes = [api.get(API + "C-2").status_code,
             anonymous.get("/verify/C-2").status_code,
             api.get("/api/v1/public/certificates").status_code,
             anonymous.get("/directory/").status_code]
    assert codes == [200, 200, 200, 200]

    assert api.get(API + "C-2").status_code == 429
    assert_refused_page(anonymous.get("/verify/C-2"))
    assert_refused_page(anonymous.get("/directory/"))
    # Another address has its own budget.
    assert anonymous.get("/verify/C-2", REMOTE_ADDR="198.51.100.2").status_code == 200


def test_a_forged_forwarded_for_header_does_not_dodge_the_pages_limit(anonymous, settings):
    settings.PUBLIC_API_RATE = "2/min"
    make_certificate(number="C-3")
    settings.TRUSTED_PROXY_COUNT = 0

    codes = [anonymous.get("/verify/C-3", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
             for i in range(3)]

    assert codes == [200, 200, 429]


def test_behind_a_trusted_proxy_the_pages_count_the_forwarded_client(anonymous, settings):
    settings.PUBLIC_API_RATE = "1/min"
    make_certificate(number="C-4")
    settings.TRUSTED_PROXY_COUNT = 1

    first = anonymous.get("/verify/C-4", HTTP_X_FORWARDED_FOR="192.0.2.1")
    same = anonymous.get(API + "C-4", HTTP_X_FORWARDED_FOR="192.0.2.1")
    other = anonymous.get("/verify/C-4", HTTP_X_FORWARDED_FOR="192.0.2.2")

    assert [first.status_code, same.status_code, other.status_code] == [200, 429, 200]


def test_the_lookup_form_does_not_count(anonymous, settings):
    # It only sends the visitor on to the certificate's page, which counts.
    settings.PUBLIC_API_RATE = "1/min"
    make_certificate(number="C-5")

    assert anonymous.get("/verify/").status_code == 200
    assert anonymous.get("/verify/", {"number": "C-5"}, follow=True).status_code == 200
    assert anonymous.get("/verify/C-5").status_code == 429
