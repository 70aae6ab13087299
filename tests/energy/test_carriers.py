"""The CB's energy-carrier table: loaded by the data migration, reloadable, consistent."""

import json
from decimal import Decimal

from django.apps import apps

from isocert.energy.loader import CARRIERS_FILE, load_carriers
from isocert.energy.models import CarrierUnit, EnergyCarrier


def test_the_data_migration_loaded_every_carrier_and_unit(db):
    data = json.loads(CARRIERS_FILE.read_text(encoding="utf-8"))

    assert EnergyCarrier.objects.count() == len(data["carriers"])
    assert CarrierUnit.objects.count() == sum(len(c["units"]) for c in data["carriers"])
    assert {"electricity", "natural-gas", "fuel-oil", "lpg", "district-heat", "steam",
            "diesel"} <= set(EnergyCarrier.objects.values_list("code", flat=True))


def test_every_carrier_has_kwh_and_gj_agrees_with_0_0036(db):
    for carrier in EnergyCarrier.objects.prefetch_related("units"):
        units = {u.unit: u.kwh_per_unit for u in carrier.units.all()}
        assert units["kWh"] == 1, carrier
        if "GJ" in units:
            assert abs(units["GJ"] * Decimal("0.0036") - 1) < Decimal("1e-9"), carrier
        if "MWh" in units:
            assert units["MWh"] == 1000, carrier


def test_reloading_keeps_units_the_cb_added(db):
    gas = EnergyCarrier.objects.get(code="natural-gas")
    CarrierUnit.objects.create(carrier=gas, unit="Nm³", kwh_per_unit=Decimal("10.5"))
    CarrierUnit.objects.filter(carrier=gas, unit="m³").update(kwh_per_unit=Decimal("11"))

    load_carriers(apps.get_model)

    assert CarrierUnit.objects.get(carrier=gas, unit="Nm³").kwh_per_unit == Decimal("10.5")
    assert CarrierUnit.objects.get(carrier=gas, unit="m³").kwh_per_unit == Decimal("10")
