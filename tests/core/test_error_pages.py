"""The portal's error pages and favicon (issue #19; core/errorpages.py, core/favicon.py).

400, 403, the CSRF failure, 404 and 500 are pages in the portal's layout: a main landmark,
a title "… — CB name", links on (WCAG 2.2 SC 1.3.1, 2.4.1, 2.4.2). 500 and 400 need
neither the request's context nor the database (these tests hold no database access for
them: pytest-django refuses any query). Under /api/ every error keeps the API's error
shape. /favicon.ico answers with the portal's SVG icon.
"""

import json
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import get_resolver

from isocert.core import errorpages
from isocert.core.favicon import FAVICON


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


def _assert_portal_page(html: str, title: str) -> None:
    assert _title(html) == f"{title} — {settings.CB_NAME}"
    assert '<main id="main"' in html
    assert 'href="#main"' in html            # the skip link
    assert "<h1>" in html
    assert 'href="/"' in html                # a way on: the start page


def test_the_url_conf_names_the_portal_handlers():
    resolver = get_resolver()
    assert resolver.resolve_error_handler(400) is errorpages.bad_request
    assert resolver.resolve_error_handler(403) is errorpages.permission_denied
    assert resolver.resolve_error_handler(404) is errorpages.page_not_found
    assert resolver.resolve_error_handler(500) is errorpages.server_error
    assert settings.CSRF_FAILURE_VIEW == "isocert.core.errorpages.csrf_failure"


def test_404_is_a_page_in_the_portal_layout(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    _assert_portal_page(html, "Page not found")
    assert "Log in" in html                   # the visitor's own navigation


def _request(path="/somewhere/"):
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    return request


def test_403_is_a_page_in_the_portal_layout_and_names_no_reason(db):
    response = errorpages.permission_denied(_request(),
                                            PermissionDenied("organization 7 of Bob"))

    assert response.status_code == 403
    html = response.content.decode()
    _assert_portal_page(html, "Not allowed")
    assert "organization 7" not in html


def test_500_needs_no_request_context_and_no_database():
    """No ``db`` fixture: a query here would fail the test."""
    response = errorpages.server_error(_request())

    assert response.status_code == 500
    html = response.content.decode()
    _assert_portal_page(html, "Something went wrong")
    assert "Log in" not in html               # no user-dependent navigation
    assert 'rel="icon"' in html


def test_500_without_a_request_at_all():
    response = errorpages.server_error(None)

    assert response.status_code == 500
    _assert_portal_page(response.content.decode(), "Something went wrong")


def test_400_needs_no_request_context_and_no_database():
    response = errorpages.bad_request(_request(), Exception("bad"))

    assert response.status_code == 400
    _assert_portal_page(response.content.decode(), "Bad request")


def test_an_error_page_that_cannot_render_falls_back_to_plain_text(monkeypatch):
    def broken(name):
        raise RuntimeError("template storage gone")

    monkeypatch.setattr(errorpages.loader, "get_template", broken)
    response = errorpages.server_error(_request())

    assert response.status_code == 500
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"Server error."


def test_a_failed_csrf_check_shows_the_portal_page_and_logs_nobody_in(db):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"login": "alice@nordlicht.example",
                                                "password": "whatever"})

    assert response.status_code == 403
    html = response.content.decode()
    _assert_portal_page(html, "The form has expired")
    assert "Nothing was saved" in html
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(("handler", "args", "status", "code"), [
    (errorpages.bad_request, (Exception(),), 400, "bad_request"),
    (errorpages.permission_denied, (PermissionDenied(),), 403, "forbidden"),
    (errorpages.page_not_found, (None,), 404, "not_found"),
    (errorpages.server_error, (), 500, "server_error"),
    (errorpages.csrf_failure, (), 403, "csrf_failed"),
])
def test_api_errors_keep_the_api_error_shape(handler, args, status, code):
    response = handler(_request("/api/v1/organizations/1"), *args)

    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert body["error"]["code"] == code
    assert set(body["error"]) == {"code", "message", "fields"}


def test_an_unknown_api_path_still_answers_json(client, db):
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_favicon_ico_answers_the_svg_icon(client, db):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content == FAVICON.read_bytes()
    assert response.content.startswith(b"<svg")
    assert "max-age=86400" in response["Cache-Control"]


def test_favicon_refuses_other_methods(client, db):
    assert client.post("/favicon.ico").status_code == 405


def test_pages_link_the_svg_icon(client, db):
    html = client.get("/").content.decode()

    assert re.search(r'<link rel="icon" href="/static/isocert/favicon[^"]*\.svg"'
                     r' type="image/svg\+xml">', html)
