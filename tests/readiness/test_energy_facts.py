"""ISO 50001 energy-review facts: exact conversion to TJ, and the application pre-fill."""

from decimal import Decimal

import pytest

from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.models import AuditEvent
from isocert.readiness.selectors import energy_inputs_for
from isocert.readiness.services import (
    freeze_gap_assessment,
    save_energy_facts,
    start_new_version,
    to_terajoules,
)

FACTS = {"annual_consumption": "86111111", "unit": "kWh",
         "energy_types": ["Electricity", "Natural gas", "electricity", "Diesel"],
         "significant_uses": [{"name": "Melting furnaces", "share_percent": "58.5"},
                              {"name": "Compressed air", "share_percent": "12"}],
         "enpis": "kWh per tonne of castings", "baseline": "2023, monthly, production"}


@pytest.mark.parametrize(("amount", "unit", "tj"), [
    ("1", "kWh", "0.0000036"), ("86111111", "kWh", "309.9999996"), ("0.001", "kWh",
                                                                      "0.0000000036"),
    ("1", "MWh", "0.0036"), ("86111.111", "MWh", "309.9999996"), ("2500", "GJ", "2.5"),
    ("0.5", "GJ", "0.0005"), ("310", "TJ", "310"),
])
def test_consumption_converts_to_terajoules_exactly(amount, unit, tj):
    assert to_terajoules(Decimal(amount), unit) == Decimal(tj)


def test_the_facts_are_stored_exactly_and_audit_trailed(gap50001, bob):
    facts = save_energy_facts(assessment=gap50001, actor=bob, **FACTS)

    facts.refresh_from_db()
    assert facts.annual_consumption_tj == Decimal("309.9999996")
    assert facts.energy_types == ["Electricity", "Natural gas", "Diesel"]
    assert [(u.name, u.share_percent) for u in facts.significant_uses.all()] == [
        ("Melting furnaces", Decimal("58.50")), ("Compressed air", Decimal("12.00"))]
    event = AuditEvent.objects.filter(action="readiness.energy_facts.saved").last()
    assert event.payload["annual_consumption_tj"] == "309.9999996"
    assert event.actor == bob


def test_saving_again_replaces_the_facts(gap50001, alice):
    save_energy_facts(assessment=gap50001, actor=alice, **FACTS)
    facts = save_energy_facts(assessment=gap50001, actor=alice, **{
        **FACTS, "annual_consumption": "2500", "unit": "GJ", "significant_uses": []})
    assert facts.annual_consumption_tj == Decimal("2.5")
    assert facts.significant_uses.count() == 0


@pytest.mark.parametrize(("change", "field"), [
    ({"unit": "Wh"}, "unit"),
    ({"annual_consumption": "-5"}, "annual_consumption"),
    ({"annual_consumption": "1.0001"}, "annual_consumption"),
    ({"energy_types": [" "]}, "energy_types"),
    ({"significant_uses": [{"name": "Furnaces", "share_percent": "70"},
                           {"name": "Air", "share_percent": "40"}]}, "significant_uses"),
    ({"significant_uses": [{"name": "", "share_percent": "10"}]}, "significant_uses.0.name"),
])
def test_wrong_facts_are_refused(gap50001, alice, change, field):
    with pytest.raises(InvalidInput) as refused:
        save_energy_facts(assessment=gap50001, actor=alice, **{**FACTS, **change})
    assert field in refused.value.fields
    assert not hasattr(gap50001, "energy_facts") or gap50001.energy_facts is None


def test_only_iso_50001_editors_of_open_versions_record_facts(gap9001, gap50001, alice, vic):
    with pytest.raises(InvalidInput, match="ISO 50001"):
        save_energy_facts(assessment=gap9001, actor=alice, **FACTS)
    with pytest.raises(NotPermitted):
        save_energy_facts(assessment=gap50001, actor=vic, **FACTS)
    freeze_gap_assessment(assessment=gap50001, actor=alice)
    with pytest.raises(Conflict):
        save_energy_facts(assessment=gap50001, actor=alice, **FACTS)


def test_energy_inputs_come_from_the_latest_version(nordlicht, gap50001, alice):
    assert energy_inputs_for(nordlicht) is None
    save_energy_facts(assessment=gap50001, actor=alice, **FACTS)
    freeze_gap_assessment(assessment=gap50001, actor=alice)
    new = start_new_version(assessment=gap50001, actor=alice)
    assert energy_inputs_for(nordlicht) == {"annual_energy_consumption_tj":
                                            Decimal("309.9999996"), "energy_types": 3,
                                            "significant_energy_uses": 2}

    save_energy_facts(assessment=new, actor=alice, **{
        **FACTS, "annual_consumption": "320", "unit": "TJ", "energy_types": ["Electricity"]})

    assert energy_inputs_for(nordlicht) == {"annual_energy_consumption_tj": Decimal("320"),
                                            "energy_types": 1, "significant_energy_uses": 2}


def test_the_application_form_is_prefilled_when_its_energy_inputs_are_empty(
        nordlicht, gap50001, alice, api_client):
    from isocert.registration.services import create_application

    save_energy_facts(assessment=gap50001, actor=alice, **FACTS)
    application = create_application(organization=nordlicht, actor=alice,
            standards=[{"standard": "ISO 50001", "effective_personnel": "24"}])

    page = api_client(alice).get(f"/applications/{application.pk}/edit/standards/")

    html = page.content.decode()
    assert 'name="iso-50001__energy_tj" value="310.000"' in html
    assert 'name="iso-50001__energy_types" value="3"' in html
    assert 'name="iso-50001__seus" value="2"' in html


def test_inputs_already_given_on_the_application_are_kept(nordlicht, gap50001, alice,
                                                          api_client):
    from factories import complete_application_data

    from isocert.registration.services import create_application

    save_energy_facts(assessment=gap50001, actor=alice, **FACTS)
    application = create_application(organization=nordlicht, actor=alice,
                                     **complete_application_data())  # 310 TJ, 3 types, 5 SEUs

    html = api_client(alice).get(f"/applications/{application.pk}/edit/standards/").content.decode()

    assert 'name="iso-50001__seus" value="5"' in html


def test_the_energy_facts_page_saves_through_the_form(gap50001, bob, api_client):
    client = api_client(bob)
    response = client.post(f"/gap-analysis/{gap50001.pk}/energy/", {
        "annual_consumption": "1500", "unit": "MWh", "energy_types": "Electricity\nGas",
        "seu_0_name": "Furnaces", "seu_0_share": "60", "enpis": "", "baseline": ""})

    assert response.status_code == 302
    page = client.get(f"/gap-analysis/{gap50001.pk}/energy/").content.decode()
    assert "1500 MWh = 5.4 TJ" in page
    refused = client.post(f"/gap-analysis/{gap50001.pk}/energy/", {
        "annual_consumption": "1500", "unit": "MWh", "energy_types": "Electricity",
        "seu_0_name": "Furnaces", "seu_0_share": "80", "seu_1_name": "Air",
        "seu_1_share": "30"})
    assert refused.status_code == 422
    assert "add up to more than 100" in refused.content.decode()
