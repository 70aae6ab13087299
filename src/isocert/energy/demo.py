"""Demo energy data for Nordlicht: 18 months of meter readings and relevant variables,
a 12-month baseline and a 6-month reporting period that shows an improvement.

The numbers come from a fixed model with deterministic noise, so the demo (and the
tests and the benchmark, which use the same generator) always gives the same figures.
"""

import datetime
import math
import random

from isocert.accounts.models import Organization, User
from isocert.core.demo import DEMO_DOMAIN

from . import services
from .importer import MappingChoice, month_end

ELECTRICITY, GAS, PRODUCTION, HDD = "Electricity (kWh)", "Natural gas (m³)", "Production (t)", \
    "Heating degree days (K·d)"
HEADERS = ["Month", ELECTRICITY, GAS, PRODUCTION, HDD]


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.month - 1 + months
    return day.replace(year=day.year + index // 12, month=index % 12 + 1, day=1)


def monthly_rows(*, start: datetime.date = datetime.date(2024, 1, 1), months: int = 18,
                 baseline_months: int = 12, improvement: float = 0.08,
                 seed: int = 50001) -> list[list]:
    """[month, electricity kWh, gas m³, production t, HDD] per month.

    Electricity follows production (40,000 kWh + 95 kWh/t), gas the heating degree days
    (15,000 kWh + 180 kWh per K·d, 10 kWh/m³); after the baseline months both use
    ``improvement`` less energy for the same conditions.
    """
    rng = random.Random(seed)
    rows = []
    for i in range(months):
        month = _add_months(start, i)
        production = 800 + 150 * math.sin(i * 2 * math.pi / 12 + 1) + rng.uniform(-40, 40)
        hdd = max(0.0, 300 + 250 * math.cos(2 * math.pi * (month.month - 1) / 12)
                  + rng.uniform(-30, 30))
        factor = 1 - improvement if i >= baseline_months else 1.0
        electricity = (40_000 + 95 * production + rng.uniform(-1500, 1500)) * factor
        gas_kwh = (15_000 + 180 * hdd + rng.uniform(-1000, 1000)) * factor
        rows.append([month.strftime("%Y-%m"), round(electricity), round(gas_kwh / 10, 1),
                     round(production, 1), round(hdd, 1)])
    return rows


def monthly_csv(**kwargs) -> str:
    lines = [",".join(HEADERS)]
    lines += [",".join(str(v) for v in row) for row in monthly_rows(**kwargs)]
    return "\n".join(lines) + "\n"


def set_up_meters(*, organization, actor) -> dict:
    """Two meters, two variables and two uses (one significant) via the services."""
    site = organization.sites.order_by("-is_central_function", "pk").first()
    site_id = site.pk if site else None
    electricity = services.create_meter(organization=organization, actor=actor,
                                        name="Electricity", carrier="electricity",
                                        unit="kWh", site_id=site_id)
    gas = services.create_meter(organization=organization, actor=actor, name="Natural gas",
                                carrier="natural-gas", unit="m³", site_id=site_id)
    production = services.create_variable(organization=organization, actor=actor,
                                          name="Production", kind="production", unit="t")
    hdd = services.create_variable(organization=organization, actor=actor,
                                   name="Heating degree days", kind="hdd", unit="K·d")
    services.create_energy_use(organization=organization, actor=actor,
                               name="Die-casting furnaces", is_significant=True,
                               meter_ids=[electricity.pk])
    services.create_energy_use(organization=organization, actor=actor, name="Space heating",
                               is_significant=False, meter_ids=[gas.pk])
    return {"electricity": electricity, "gas": gas, "production": production, "hdd": hdd}


def monthly_mapping(objects: dict) -> dict:
    """The column mapping of ``monthly_csv`` in its JSON form (as the API takes it)."""
    return {"frequency": "monthly", "date": "Month", "columns": [
        {"column": ELECTRICITY, "meter_id": objects["electricity"].pk, "unit": "kWh"},
        {"column": GAS, "meter_id": objects["gas"].pk, "unit": "m³"},
        {"column": PRODUCTION, "variable_id": objects["production"].pk},
        {"column": HDD, "variable_id": objects["hdd"].pk}]}


def build_energy_story(*, organization, actor, start=datetime.date(2024, 1, 1),
                       months: int = 18) -> dict:
    """Meters, 18 months of data, the 12-month baseline and the reporting period."""
    objects = set_up_meters(organization=organization, actor=actor)
    services.import_energy_data(organization=organization, actor=actor,
                                data=monthly_csv(start=start, months=months).encode(),
                                file_name="nordlicht-energy.csv",
                                mapping=MappingChoice.from_json(monthly_mapping(objects)))
    baseline_end = month_end(_add_months(start, 11))
    baseline = services.create_baseline(
        organization=organization, actor=actor, name=f"EnB {start.year}", period_start=start,
        period_end=baseline_end, variable_ids=[objects["production"].pk, objects["hdd"].pk])
    period = services.add_reporting_period(
        baseline=baseline, actor=actor, name="First reporting period",
        period_start=baseline_end + datetime.timedelta(days=1),
        period_end=month_end(_add_months(start, months - 1)))
    services.create_enpi(organization=organization, actor=actor, name="kWh per tonne",
                         kind="ratio", variable_id=objects["production"].pk,
                         meter_ids=[objects["electricity"].pk])
    services.create_enpi(organization=organization, actor=actor,
                         name="Normalized consumption index", kind="regression",
                         baseline_id=baseline.pk)
    return {**objects, "baseline": baseline, "period": period}


def seed_energy_demo() -> bool:
    """Nordlicht's demo energy data, once (idempotent); True when created."""
    organization = Organization.objects.filter(legal_name="Nordlicht Aluminium GmbH").first()
    alice = User.objects.filter(email=f"alice@{DEMO_DOMAIN}").first()
    if organization is None or alice is None or organization.energy_meters.exists():
        return False
    build_energy_story(organization=organization, actor=alice)
    return True
