"""Accessibility of the shared templates (issue #19; WCAG 2.2 references per test).

The browser tests run axe-core on every page state they visit (tests/e2e/a11y.py); these
tests pin the shared pieces without a browser: the page title, the error summary of every
form, and scans of all templates for patterns axe reported (a list given another role,
a scrolled table wrapper the keyboard cannot reach).
"""

import re
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.template import Context, RequestContext, Template
from django.template.loader import render_to_string
from django.test import RequestFactory
from factories import client_for, make_user

from isocert.accounts.services import create_organization
from isocert.core.templatetags.page_title import page_title

SRC = Path(__file__).resolve().parents[2] / "src" / "isocert"
TEMPLATES = sorted(SRC.rglob("templates/**/*.html"))


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


# --- Page titles (SC 2.4.2 Page Titled) ---------------------------------------------------

def test_a_page_title_reads_page_then_cb_name(client, db):
    html = client.get("/audit-time/").content.decode()

    assert _title(html) == f"Estimate your audit days — {settings.CB_NAME}"


def test_the_log_in_page_title_reads_page_then_cb_name(client, db):
    html = client.get("/accounts/login/").content.decode()

    assert _title(html) == f"Sign In — {settings.CB_NAME}"


def test_the_dashboard_title(client, db):
    alice = make_user("alice@nordlicht.example", "Alice Owner")
    create_organization(actor=alice, legal_name="Nordlicht Aluminium GmbH", country="DE",
                        registered_address="Hafenstraße 12, 28217 Bremen", sector_codes=[17],
                        scope_statement="Die casting of aluminium parts.")
    html = client_for(alice).get("/dashboard/").content.decode()

    assert _title(html) == f"Dashboard — {settings.CB_NAME}"


def _render_base(title_block: str, **context) -> str:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    template = Template('{% extends "base.html" %}' + title_block)
    return template.render(RequestContext(request, context))


def test_a_page_without_a_title_reads_the_cb_name_alone(db):
    assert _title(_render_base("")) == settings.CB_NAME


def test_a_title_is_escaped_once_and_its_white_space_folded(db):
    html = _render_base("{% block title %}\n  Nordlicht {{ x }}\n{% endblock %}", x="A & B")

    assert _title(html) == f"Nordlicht A &amp; B — {settings.CB_NAME}"


def test_the_filter_escapes_what_is_not_already_safe():
    assert page_title("<b>", "CB & Co") == "&lt;b&gt; — CB &amp; Co"
    assert page_title("  ", "CB & Co") == "CB &amp; Co"


# --- The error summary (SC 3.3.1 Error Identification, 2.4.3 Focus Order) ----------------

class ExampleForm(forms.Form):
    name = forms.CharField(label="Legal name")
    kind = forms.ChoiceField(label="Kind", choices=[("a", "A"), ("b", "B")],
                             widget=forms.RadioSelect)
    note = forms.CharField(label="Note", required=False)

    def clean(self):
        raise forms.ValidationError("The whole form is wrong.")


def _render_form(form) -> str:
    return render_to_string("form_fields.html", {"form": form})


def test_an_invalid_form_starts_with_an_error_summary_linking_each_field():
    html = _render_form(ExampleForm(data={}))

    summary = html.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert 'tabindex="-1"' in html.split("data-error-summary", 1)[1].split(">", 1)[0]
    assert "There is a problem" in summary
    assert "<li>The whole form is wrong.</li>" in summary
    assert '<a href="#id_name">Legal name: This field is required.</a>' in summary
    # A radio group has no single id: the link goes to its first choice.
    assert '<a href="#id_kind_0">Kind: This field is required.</a>' in summary
    assert "Note" not in summary
    assert html.index("data-error-summary") < html.index('id="id_name"')


def test_a_valid_or_unbound_form_has_no_summary():
    assert "data-error-summary" not in _render_form(ExampleForm())


def test_field_errors_are_a_plain_list_described_by_the_field():
    html = _render_form(ExampleForm(data={}))

    assert re.search(r'<ul class="errorlist" id="id_name_error"><li>', html)
    assert re.search(r'<input[^>]*aria-describedby="id_name_error"[^>]*>', html)
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*name="name"|'
                     r'<input[^>]*name="name"[^>]*aria-invalid="true"', html)


def test_allauth_forms_get_the_summary_too(client, db):
    html = client.post("/accounts/login/", {"login": "nobody@example.com",
                                            "password": "wrong"}).content.decode()

    assert "data-error-summary" in html
    assert "There is a problem" in html


def test_an_allauth_whole_form_error_is_stated_once_in_the_summary(client, db):
    html = client.post("/accounts/login/", {"login": "nobody@example.com",
                                            "password": "wrong"}).content.decode()

    summary = html.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert "not correct" in summary
    assert html.count("not correct") == 1
    assert 'id="id_login"' in html and 'id="id_password"' in html


def test_the_summary_is_focused_by_the_portal_script(client, db):
    """No inline script (Content-Security-Policy): base.html loads static/isocert/portal.js."""
    html = client.get("/").content.decode()
    script = (SRC / "static" / "isocert" / "portal.js").read_text()

    assert re.search(r'<script src="/static/isocert/portal[^"]*\.js" defer></script>', html)
    assert "[data-error-summary]" in script and ".focus(" in script


# --- Scans of every template ---------------------------------------------------------------

@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_list_is_given_another_role(path):
    """axe ``listitem`` (SC 1.3.1): a role on <ul>/<ol> hides its items' list; put the
    live-region role on a wrapper instead."""
    html = path.read_text()

    assert not re.search(r"<(ul|ol)\b[^>]*\brole=", html), path


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(SRC)))
def test_scrolled_table_wrappers_are_labelled_focusable_regions(path):
    """axe ``scrollable-region-focusable`` (SC 2.1.1 Keyboard): a wrapper that scrolls at
    narrow widths takes the focus (tabindex 0) and is a named region."""
    for tag in re.findall(r"<div\b[^>]*\bclass=\"[^\"]*\btable-wrap\b[^>]*>", path.read_text()):
        assert 'tabindex="0"' in tag, (path, tag)
        assert 'role="region"' in tag, (path, tag)
        assert re.search(r'aria-label(ledby)?="[^"]+"', tag), (path, tag)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(SRC)))
def test_forms_render_through_the_shared_templates(path):
    """``form.as_div`` and friends bypass the error summary: use form_fields.html."""
    assert not re.search(r"\.as_(div|p|table|ul)\b", path.read_text()) or path.match(
        "*/allauth/elements/fields.html"), path


def test_the_context_needs_nothing_for_the_summary():
    """The summary renders from the form alone (any template may include it)."""
    html = Template('{% include "error_summary.html" %}').render(
        Context({"form": ExampleForm(data={})}))

    assert "There is a problem" in html


def test_the_admin_inline_delete_boxes_are_labelled(db):
    """axe ``label`` (critical) on Django's tabular inline: each row's box is named."""
    ada = make_user("ada@cb.example", "Ada Administrator", roles=["administrator"])

    html = client_for(ada).get(f"/admin/accounts/user/{ada.pk}/change/").content.decode()

    boxes = re.findall(r'<input type="checkbox" name="staff_roles-\d+-DELETE"[^>]*>', html)
    assert boxes
    assert all('aria-label="Delete ' in box for box in boxes), boxes
