"""Security headers: Content-Security-Policy, Permissions-Policy, no-store for private answers.

The policy is strict (no inline script or style), so the templates must hold none: the
scan at the end fails when one appears. The browser test
``tests/e2e/test_content_security_policy.py`` checks that key pages report no violation.
"""

import json
import re
from pathlib import Path

import pytest
from django.test import Client
from factories import pdf_upload
from registry_helpers import clear_public_state, make_certificate

from isocert.accounts.services import create_access_token
from isocert.registration.models import ApplicationDocument
from isocert.registration.services import add_application_document

SRC = Path(__file__).resolve().parents[2] / "src" / "isocert"


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


def _assert_strict_policy(response) -> None:
    directives = _directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    for values in directives.values():
        assert "'unsafe-inline'" not in values and "'unsafe-eval'" not in values


def _assert_permissions_policy(response) -> None:
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def _assert_no_inline_code(html: str) -> None:
    """What the browser gets: no inline script, event handler or style."""
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"<style\b", html)
    assert not re.search(r"\sstyle\s*=", html)
    assert not re.search(r"\son[a-z]+\s*=", html)


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.fixture
def anonymous():
    clear_public_state()
    yield Client()
    clear_public_state()


def test_landing_page_has_a_strict_policy_and_may_be_cached(anonymous, db):
    response = anonymous.get("/")

    assert response.status_code == 200
    _assert_strict_policy(response)
    _assert_permissions_policy(response)
    assert not _no_store(response)
    _assert_no_inline_code(response.content.decode())


def test_htmx_adds_no_inline_style_and_evaluates_no_code(anonymous, db):
    html = anonymous.get("/").content.decode()

    configs = re.findall(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert len(configs) == 1  # htmx reads only the first one
    config = json.loads(configs[0])
    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False
    # A refused edit's fragment (409 stale version, 422 invalid) is swapped in, not dropped.
    assert {"code": "409|422", "swap": True, "error": False} in config["responseHandling"]


def test_log_in_page_has_the_policy(anonymous, db):
    response = anonymous.get("/accounts/login/")

    assert response.status_code == 200
    _assert_strict_policy(response)
    _assert_no_inline_code(response.content.decode())


def test_dashboard_of_a_signed_in_user_is_not_stored(api_client, alice, nordlicht):
    response = api_client(alice).get("/dashboard/")

    assert response.status_code == 200
    _assert_strict_policy(response)
    _assert_permissions_policy(response)
    assert _no_store(response)
    assert "private" in response["Cache-Control"]
    _assert_no_inline_code(response.content.decode())


def test_a_public_page_seen_signed_in_is_not_stored(api_client, alice):
    """It names the person in its header: a shared cache must not keep it."""
    response = api_client(alice).get("/")

    assert "alice@nordlicht.example" in response.content.decode()
    assert _no_store(response)


def test_api_answer_to_a_token_is_not_stored(alice, nordlicht):
    _, secret = create_access_token(actor=alice, name="ERP")
    response = Client(headers={"Authorization": f"Bearer {secret}"}).get(
        "/api/v1/organizations")

    assert response.status_code == 200
    assert _no_store(response)
    _assert_permissions_policy(response)


def test_api_answer_to_a_session_is_not_stored(api_client, alice, nordlicht):
    response = api_client(alice).get("/api/v1/organizations")

    assert response.status_code == 200
    assert _no_store(response)


def test_private_download_is_not_stored_and_keeps_its_own_policy(api_client, alice, draft):
    document = add_application_document(application=draft, actor=alice, upload=pdf_upload(),
                                        kind=ApplicationDocument.Kind.MANUAL)

    response = api_client(alice).get(f"/documents/{document.pk}/download/")

    assert response.status_code == 200
    assert _no_store(response)
    # The download's own sandbox policy is kept (Django's middleware does not overwrite it).
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_public_verification_may_be_cached(anonymous, db):
    certificate = make_certificate()

    page = anonymous.get(f"/verify/{certificate.number}")
    api = anonymous.get(f"/api/v1/public/certificates/{certificate.number}")

    assert page.status_code == 200 and api.status_code == 200
    assert not _no_store(page) and not _no_store(api)
    _assert_strict_policy(page)
    _assert_permissions_policy(page)
    _assert_permissions_policy(api)
    _assert_no_inline_code(page.content.decode())


def test_api_docs_are_served_from_this_site(anonymous, db):
    """Swagger UI from /static/ (django-ninja's copy), not from a CDN the policy refuses."""
    response = anonymous.get("/api/v1/docs")

    html = response.content.decode()
    assert response.status_code == 200
    _assert_strict_policy(response)
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "https://" not in html and "//cdn" not in html
    _assert_no_inline_code(html)
    # Without this Swagger UI loads a badge from the online validator (another origin).
    settings = re.search(r'<script type="application/json" id="swagger-settings">(.*?)</script>',
                         html, re.DOTALL)
    assert json.loads(settings.group(1))["validatorUrl"] is None


def test_admin_nonce_is_sent_only_with_the_page_that_uses_it(api_client, ada):
    """The Django admin marks its style sheets with the request's nonce; the header then
    names that nonce for styles (scripts stay 'self' only). Portal pages send none."""
    client = api_client(ada)
    admin_page = client.get("/admin/accounts/user/")
    portal_page = client.get("/dashboard/")

    assert admin_page.status_code == 200
    nonces = set(re.findall(r'nonce="([^"]+)"', admin_page.content.decode()))
    assert len(nonces) == 1
    directives = _directives(admin_page)
    assert directives["style-src"] == ["'self'", f"'nonce-{nonces.pop()}'"]
    assert directives["script-src"] == ["'self'"]
    assert _directives(portal_page)["style-src"] == ["'self'"]


# --- The templates keep the policy true ---------------------------------------------------

# Rendered to PDF by WeasyPrint on the server, never sent to a browser: they may style inline.
PDF_TEMPLATES = "_pdf.html"

FORBIDDEN = {
    "inline <script> (move it to static/…/*.js)": re.compile(
        r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE),
    "<style> block (move it to a style sheet)": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute (use a CSS class)": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "inline event handler (add a listener in a static script)": re.compile(
        r"\son[a-z]+\s*=\s*[\"'{]", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "htmx attribute that evaluates code (hx-on, js: values)": re.compile(
        r"\bhx-on\b|\bhx-on[:-]|\bhx-vars\s*=|\bhx-vals\s*=\s*[\"']\s*(js|javascript):",
        re.IGNORECASE),
}


def _templates() -> list[Path]:
    return sorted(path for path in SRC.rglob("templates/**/*.html")
                  if not path.name.endswith(PDF_TEMPLATES))


TEMPLATE_COMMENT = re.compile(r"{#.*?#}|{% comment %}.*?{% endcomment %}", re.DOTALL)


def inline_code(text: str) -> list[str]:
    text = TEMPLATE_COMMENT.sub("", text)  # never sent to the browser
    return [name for name, pattern in FORBIDDEN.items() if pattern.search(text)]


def test_the_scan_finds_what_the_policy_forbids():
    assert inline_code('<script>alert(1)</script>') == ["inline <script> (move it to static/…/*.js)"]
    assert inline_code('<p style="color:red">') == ["style attribute (use a CSS class)"]
    assert inline_code('<button onclick="go()">') == [
        "inline event handler (add a listener in a static script)"]
    assert inline_code("<style>p{}</style>") == ["<style> block (move it to a style sheet)"]
    assert inline_code('<a href="javascript:go()">') == ["javascript: URL"]
    assert inline_code('<div hx-on:click="go()">') == [
        "htmx attribute that evaluates code (hx-on, js: values)"]
    assert inline_code('<script src="/static/x.js" defer></script>') == []
    assert inline_code('<script type="application/json" id="d">{}</script>') == []
    assert inline_code('<p>Based on the data</p><div hx-get="/x" hx-trigger="every 1s">') == []
    assert inline_code("{# htmx could add a <style> #}<p>") == []


def test_no_template_holds_inline_script_handler_or_style():
    templates = _templates()
    assert len(templates) > 50  # the scan reaches every app's templates

    found = {str(path.relative_to(SRC)): problems
             for path in templates if (problems := inline_code(path.read_text()))}

    assert found == {}
