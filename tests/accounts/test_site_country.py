"""A site has its own country, printed with its address on the certificate (ISO/IEC 17021-1
§8.2.2): by default the organization's, else the one given — in the service, the page and
the API; existing sites took their organization's in the migration."""

import pytest
from factories import client_for

from isocert.accounts.services import add_site, update_site
from isocert.core.errors import InvalidInput
from isocert.core.models import AuditEvent

POLISH_PLANT = {"name": "Szczecin plant", "address": "ul. Portowa 3, Szczecin",
                "effective_personnel": "40"}


def test_a_site_takes_the_organizations_country_unless_given(nordlicht, alice):
    assert set(nordlicht.sites.values_list("country_id", flat=True)) == {"DE"}

    plant = add_site(organization=nordlicht, actor=alice, **POLISH_PLANT, country="pl")

    assert plant.country_id == "PL"
    event = AuditEvent.objects.filter(action="accounts.site.added").last()
    assert event.payload["country"] == "PL"


def test_an_unknown_country_is_refused_naming_the_field(nordlicht, alice):
    with pytest.raises(InvalidInput) as refused:
        add_site(organization=nordlicht, actor=alice, **POLISH_PLANT, country="XX")
    assert "country" in refused.value.fields
    assert not nordlicht.sites.filter(name="Szczecin plant").exists()


def test_an_update_without_a_country_keeps_the_sites_own(nordlicht, alice):
    plant = add_site(organization=nordlicht, actor=alice, **POLISH_PLANT, country="PL")

    update_site(site=plant, actor=alice, city="Szczecin")
    assert plant.country_id == "PL"
    update_site(site=plant, actor=alice, country="DK")
    plant.refresh_from_db()
    assert plant.country_id == "DK"


def test_the_site_page_defaults_to_the_organizations_country_and_saves_another(nordlicht,
                                                                               alice):
    client = client_for(alice)

    page = client.get(f"/organizations/{nordlicht.pk}/sites/new/")
    assert page.status_code == 200
    assert '<option value="DE" selected>' in page.content.decode()
    response = client.post(f"/organizations/{nordlicht.pk}/sites/new/", {
        **POLISH_PLANT, "shifts": 1, "country": "PL"})

    assert response.status_code == 302, response.content
    assert nordlicht.sites.get(name="Szczecin plant").country_id == "PL"


def test_the_api_reads_and_writes_the_sites_country(nordlicht, alice, api_client):
    client = api_client(alice)

    added = client.post(f"/api/v1/organizations/{nordlicht.pk}/sites", POLISH_PLANT,
                        content_type="application/json")
    assert added.status_code == 201, added.content
    assert added.json()["country"] == "DE"
    changed = client.patch(f"/api/v1/sites/{added.json()['id']}", {"country": "PL"},
                           content_type="application/json")
    assert changed.status_code == 200 and changed.json()["country"] == "PL"
    refused = client.patch(f"/api/v1/sites/{added.json()['id']}", {"country": "ZZ"},
                           content_type="application/json")
    assert refused.status_code == 422
    assert "country" in refused.json()["error"]["fields"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_sites_their_organizations_country():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("accounts", "0002_site_city_site_postcode")], [
        ("accounts", "0004_site_country_required")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Organization, Site = apps.get_model("accounts", "Organization"), apps.get_model(
        "accounts", "Site")
    organization = Organization.objects.create(legal_name="Fjord AS", country_id="NO",
                                               registered_address="Bryggen 1, Bergen")
    Site.objects.create(organization=organization, name="Bergen", address="Bryggen 1",
                        effective_personnel=10)

    try:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)

        apps = executor.loader.project_state(after).apps
        site = apps.get_model("accounts", "Site").objects.get(name="Bergen")
        assert site.country_id == "NO"
    finally:
        # Going back to 0002 unapplied every later migration that depends on accounts:
        # leave the schema complete for the tests after this one.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
