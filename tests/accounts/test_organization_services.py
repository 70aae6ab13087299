"""Organization profile and sites: field-named errors, one central function, editors only."""

import pytest
from factories import complete_application_data

from isocert.accounts.models import Membership, Organization, Site
from isocert.accounts.services import (
    add_site,
    create_organization,
    remove_site,
    update_organization,
    update_site,
)
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.models import AuditEvent
from isocert.registration.services import create_application, submit_application


def profile(**overrides):
    data = {"legal_name": "Küstenwerk Stahl AG", "country": "de",
            "registered_address": "Am Deich 1, Emden", "sector_codes": [17, 18]}
    data.update(overrides)
    return data


def profile_of(organization):
    organization.refresh_from_db()
    return (organization.legal_name, organization.trading_name, organization.country_id,
            organization.registered_address, organization.scope_statement,
            sorted(organization.sectors.values_list("code", flat=True)))


def sites_of(organization):
    return list(organization.sites.order_by("name").values_list("name", "is_central_function"))


# --- organizations -------------------------------------------------------------------------------

def test_the_creator_becomes_the_first_owner(charlie):
    organization = create_organization(actor=charlie, **profile(trading_name=" Küstenwerk "))

    assert profile_of(organization) == ("Küstenwerk Stahl AG", "Küstenwerk", "DE",
                                         "Am Deich 1, Emden", "", [17, 18])
    assert list(organization.memberships.values_list("user__email", "role")) == [
        ("charlie@brightpath.example", "owner")]
    event = AuditEvent.objects.last()
    assert (event.action, event.organization_id, event.actor) == (
        "accounts.organization.created", organization.pk, charlie)
    assert event.payload == {"legal_name": "Küstenwerk Stahl AG", "sectors": [17, 18]}


@pytest.mark.parametrize(("data", "field"), [
    (profile(country="XX"), "country"),
    (profile(country=""), "country"),
    (profile(sector_codes=[17, 999]), "sector_codes"),
    (profile(legal_name="   "), "legal_name"),
    (profile(legal_name=""), "legal_name"),
    (profile(registered_address=""), "registered_address"),
    (profile(legal_name="x" * 201), "legal_name"),
])
def test_a_bad_profile_names_the_field_and_creates_nothing(charlie, data, field):
    events = AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as excinfo:
        create_organization(actor=charlie, **data)

    assert list(excinfo.value.fields) == [field]
    assert not Organization.objects.exists()
    assert not Membership.objects.exists()
    assert AuditEvent.objects.count() == events


def test_unknown_sector_codes_are_listed(charlie):
    with pytest.raises(InvalidInput) as excinfo:
        create_organization(actor=charlie, **profile(sector_codes=[999, 17, 0]))
    assert excinfo.value.fields == {"sector_codes": "Unknown IAF sector code(s): 0, 999."}
    assert not Organization.objects.exists()


def test_a_sector_code_that_is_not_a_number_is_a_field_error(charlie):
    with pytest.raises(InvalidInput) as excinfo:
        create_organization(actor=charlie, **profile(sector_codes=["17", "metals"]))
    assert list(excinfo.value.fields) == ["sector_codes"]
    assert not Organization.objects.exists()


def test_all_errors_are_reported_together(charlie):
    with pytest.raises(InvalidInput) as excinfo:
        create_organization(actor=charlie, legal_name="", country="ZZ", registered_address="",
                            sector_codes=[99])
    assert set(excinfo.value.fields) == {"legal_name", "country", "registered_address",
                                         "sector_codes"}
    assert not Organization.objects.exists()


def test_an_editor_updates_only_what_is_given(nordlicht, bob):
    update_organization(organization=nordlicht, actor=bob, trading_name="Nordlicht",
                        sector_codes=[17, 18])

    assert profile_of(nordlicht) == ("Nordlicht Aluminium GmbH", "Nordlicht", "DE",
                                     "Hafenstraße 12, 28217 Bremen",
                                     "Die casting of aluminium parts.", [17, 18])
    event = AuditEvent.objects.last()
    assert event.action == "accounts.organization.updated"
    assert event.payload == {"changed": ["trading_name", "sector_codes"]}


@pytest.mark.parametrize(("data", "field"), [
    ({"country": "Germany"}, "country"),
    ({"sector_codes": [17, 404]}, "sector_codes"),
    ({"legal_name": ""}, "legal_name"),
])
def test_a_bad_update_changes_nothing(nordlicht, alice, data, field):
    before = profile_of(nordlicht), AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as excinfo:
        update_organization(organization=nordlicht, actor=alice, **data)

    assert list(excinfo.value.fields) == [field]
    assert (profile_of(nordlicht), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("actor", ["vera", "charlie", "rita", "ada"])
def test_viewers_and_outsiders_cannot_edit_the_profile(request, nordlicht, actor):
    user = request.getfixturevalue(actor)
    before = profile_of(nordlicht), AuditEvent.objects.count()

    with pytest.raises(NotPermitted):
        update_organization(organization=nordlicht, actor=user, legal_name="Taken over")

    assert (profile_of(nordlicht), AuditEvent.objects.count()) == before


# --- sites ---------------------------------------------------------------------------------------------

def test_the_first_site_is_the_central_function(brightpath, nordlicht):
    assert sites_of(brightpath) == [("Leeds office", True)]
    assert sites_of(nordlicht) == [("Bremen head office", True), ("Oldenburg plant", False)]
    event = AuditEvent.objects.filter(action="accounts.site.added").last()
    assert event.payload == {"name": "Oldenburg plant", "country": "DE",
                             "central_function": False}


def test_a_new_central_function_takes_over(nordlicht, alice):
    site = add_site(organization=nordlicht, actor=alice, name="Hamburg HQ",
                    address="Elbchaussee 1, Hamburg", effective_personnel="12.5",
                    is_central_function=True)

    assert site.is_central_function
    assert sites_of(nordlicht) == [("Bremen head office", False), ("Hamburg HQ", True),
                                   ("Oldenburg plant", False)]
    assert site.effective_personnel == 12.5 and site.shifts == 1


def test_marking_another_site_central_moves_the_role(nordlicht, bob):
    plant = nordlicht.sites.get(name="Oldenburg plant")

    update_site(site=plant, actor=bob, is_central_function=True, shifts=3)

    assert sites_of(nordlicht) == [("Bremen head office", False), ("Oldenburg plant", True)]
    plant.refresh_from_db()
    assert plant.shifts == 3


def test_the_central_function_cannot_simply_be_unmarked(nordlicht, alice):
    head_office = nordlicht.sites.get(is_central_function=True)
    events = AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as excinfo:
        update_site(site=head_office, actor=alice, is_central_function=False)

    assert list(excinfo.value.fields) == ["is_central_function"]
    assert sites_of(nordlicht) == [("Bremen head office", True), ("Oldenburg plant", False)]
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("data", "field"), [
    ({"effective_personnel": "0"}, "effective_personnel"),
    ({"effective_personnel": "many"}, "effective_personnel"),
    ({"effective_personnel": "NaN"}, "effective_personnel"),
    ({"shifts": 6}, "shifts"),
    ({"name": " "}, "name"),
    ({"address": ""}, "address"),
])
def test_site_input_is_checked(nordlicht, alice, data, field):
    complete = {"name": "Bremerhaven store", "address": "Kaje 3", "effective_personnel": "4"}
    before = sites_of(nordlicht), AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as excinfo:
        add_site(organization=nordlicht, actor=alice, **{**complete, **data})

    assert list(excinfo.value.fields) == [field]
    assert (sites_of(nordlicht), AuditEvent.objects.count()) == before


def test_the_central_function_cannot_be_removed_while_other_sites_exist(nordlicht, alice):
    head_office = nordlicht.sites.get(is_central_function=True)
    events = AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as excinfo:
        remove_site(site=head_office, actor=alice)

    assert list(excinfo.value.fields) == ["site"]
    assert sites_of(nordlicht) == [("Bremen head office", True), ("Oldenburg plant", False)]
    assert AuditEvent.objects.count() == events


def test_other_sites_and_finally_the_last_one_can_be_removed(nordlicht, alice):
    remove_site(site=nordlicht.sites.get(name="Oldenburg plant"), actor=alice)
    assert sites_of(nordlicht) == [("Bremen head office", True)]

    remove_site(site=nordlicht.sites.get(), actor=alice)
    assert sites_of(nordlicht) == []
    assert AuditEvent.objects.last().action == "accounts.site.removed"


def test_a_site_of_a_submitted_application_stays(nordlicht, alice):
    application = create_application(organization=nordlicht, actor=alice,
                                     **complete_application_data())
    submit_application(application=application, actor=alice)
    plant = nordlicht.sites.get(name="Oldenburg plant")
    events = AuditEvent.objects.count()

    with pytest.raises(Conflict):
        remove_site(site=plant, actor=alice)

    assert Site.objects.filter(pk=plant.pk).exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("actor", ["vera", "charlie"])
def test_viewers_and_outsiders_cannot_touch_sites(request, nordlicht, actor):
    user = request.getfixturevalue(actor)
    plant = nordlicht.sites.get(name="Oldenburg plant")
    before = sites_of(nordlicht), AuditEvent.objects.count()

    with pytest.raises(NotPermitted):
        add_site(organization=nordlicht, actor=user, name="Rogue", address="Nowhere",
                 effective_personnel=1)
    with pytest.raises(NotPermitted):
        update_site(site=plant, actor=user, is_central_function=True)
    with pytest.raises(NotPermitted):
        remove_site(site=plant, actor=user)

    assert (sites_of(nordlicht), AuditEvent.objects.count()) == before
