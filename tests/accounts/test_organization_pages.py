"""The organization's pages (issue #19): removing a site asks first, then removes it
through the service, another organization's user gets nothing; sector codes are ticked in
a filterable list, not picked with Ctrl-click."""

from factories import client_for

from isocert.accounts.models import Site
from isocert.core.models import AuditEvent


def test_remove_asks_for_confirmation_before_anything_changes(nordlicht, alice):
    site = nordlicht.sites.get(name="Oldenburg plant")
    client = client_for(alice)

    detail = client.get(f"/organizations/{nordlicht.pk}/").content.decode()
    assert f'href="/sites/{site.pk}/delete/"' in detail   # a link to the question, not a form

    page = client.get(f"/sites/{site.pk}/delete/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Remove the site “Oldenburg plant”?" in html and "Keep it" in html
    assert Site.objects.filter(pk=site.pk).exists()
    assert not AuditEvent.objects.filter(action="accounts.site.removed").exists()


def test_confirming_removes_the_site(nordlicht, alice):
    site = nordlicht.sites.get(name="Oldenburg plant")

    response = client_for(alice).post(f"/sites/{site.pk}/delete/")

    assert response.status_code == 302 and response.url == f"/organizations/{nordlicht.pk}/"
    assert not Site.objects.filter(pk=site.pk).exists()
    assert AuditEvent.objects.filter(action="accounts.site.removed").count() == 1


def test_another_organizations_user_cannot_see_the_question(nordlicht, brightpath, charlie):
    site = nordlicht.sites.get(name="Oldenburg plant")

    assert client_for(charlie).get(f"/sites/{site.pk}/delete/").status_code == 404
    assert Site.objects.filter(pk=site.pk).exists()


def test_sector_codes_are_a_checkbox_list_with_a_filter_box(alice):
    html = client_for(alice).get("/organizations/new/").content.decode()

    assert 'type="checkbox" name="sector_codes"' in html
    assert 'class="choice-filter" hidden aria-controls="id_sector_codes"' in html
    assert "Ctrl" not in html
