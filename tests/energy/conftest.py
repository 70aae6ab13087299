"""Fixtures of the energy tests: Nordlicht's meters, variables and uses."""

import pytest


@pytest.fixture
def setup(nordlicht, alice):
    """Electricity (kWh) and natural gas (m³) meters, production and HDD variables,
    furnaces (an SEU, on electricity) and space heating (on gas)."""
    from isocert.energy.demo import set_up_meters

    return set_up_meters(organization=nordlicht, actor=alice)


@pytest.fixture
def story(nordlicht, alice):
    """Setup, 18 months of data (2024-01 … 2025-06), baseline 2024, reporting 2025 H1."""
    from isocert.energy.demo import build_energy_story

    return build_energy_story(organization=nordlicht, actor=alice)


@pytest.fixture
def near_duplicate(nordlicht, alice, setup):
    """A variable "Shifts" equal to Production but for January, a millionth of a unit more,
    with 2024's electricity: a design that made numpy raise LinAlgError (a 500) when the
    baseline was fitted."""
    from isocert.energy import services
    from isocert.energy.demo import monthly_rows
    from isocert.energy.importer import MappingChoice

    shifts = services.create_variable(
        organization=nordlicht, actor=alice,
        name="Shifts", kind="other", unit="t")
    rows = ["Month,Electricity (kWh),Production (t),Shifts"]
    for i, (month, kwh, _gas, production, _hdd) in enumerate(monthly_rows(months=12)):
        rows.append(f"{month},{kwh},{production},{production + (0.000001 if i == 0 else 0)}")
    services.import_energy_data(
        organization=nordlicht, actor=alice, file_name="shifts.csv",
        data=("\n".join(rows) + "\n").encode(),
        mapping=MappingChoice.from_json({"frequency": "monthly", "date": "Month", "columns": [
            {"column": "Electricity (kWh)", "meter_id": setup["electricity"].pk,
             "unit": "kWh"},
            {"column": "Production (t)", "variable_id": setup["production"].pk},
            {"column": "Shifts", "variable_id": shifts.pk}]}))
    return shifts
