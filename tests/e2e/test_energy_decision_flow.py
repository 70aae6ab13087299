"""In a real browser: from an energy import to the certification decision's checklist.

Nordlicht's ISO 50001 cycle has its stage 2 closed (built with services). Alice imports
18 months of monthly meter data through the upload → preview → mapping page; the baseline
2024 and the reporting period 2025 H1 are added through the services. Dora, the decision
maker, opens the decision page: the checklist item "Energy performance improvement
demonstrated" carries the M&V verdict, the savings with their uncertainty and the reporting
period judged. Then Alice adds a second, later reporting period holding half of its months:
Dora's checklist now shows it not demonstrated, with the reason.
"""

import datetime
import re

import pytest
from factories import ENERGY_LINE, make_user, nordlicht_two_sites
from helpers.browser import log_in, signed_in_message
from playwright.sync_api import expect
from programme_helpers import auditor

ALICE, RITA, ADAM, DORA = ("alice@nordlicht.example", "rita@cb.example", "adam@cb.example",
                           "dora@cb.example")

pytestmark = pytest.mark.browser


def _set_up():
    from certification_helpers import decision_ready_cycle
    from django.apps import apps

    from isocert.energy.demo import set_up_meters
    from isocert.energy.loader import load_carriers
    from isocert.energy.models import EnergyCarrier

    if not EnergyCarrier.objects.exists():  # a transactional test emptied the data table
        load_carriers(apps.get_model)
    alice = make_user(ALICE, "Alice Owner")
    rita = make_user(RITA, "Rita Reviewer", roles=["reviewer"])
    adam = auditor(ADAM, "Adam Auditor", lead=True)
    make_user(DORA, "Dora Decider", roles=["decision_maker"])
    organization = nordlicht_two_sites(alice, shifts=1)
    cycle = decision_ready_cycle(organization, alice, rita, adam, standards=[ENERGY_LINE])
    return alice, organization, set_up_meters(organization=organization, actor=alice), cycle


def _import_in_the_browser(page, organization, csv_path):
    page.goto(f"/organizations/{organization.pk}/energy/")
    nav = page.get_by_role("navigation", name="Energy performance")
    nav.get_by_role("link", name="Import data").click()
    page.get_by_label("CSV or Excel (XLSX) file").set_input_files(str(csv_path))
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_label("Each line is").select_option("monthly")
    page.get_by_label("Column “Month”").select_option("date")
    page.get_by_label("Column “Electricity (kWh)”").select_option(label="Meter: Electricity (kWh)")
    page.get_by_label("Unit of “Electricity (kWh)”").select_option("kWh")
    page.get_by_label("Column “Natural gas (m³)”").select_option(label="Meter: Natural gas (m³)")
    page.get_by_label("Unit of “Natural gas (m³)”").select_option("m³")
    page.get_by_label("Column “Production (t)”").select_option(label="Variable: Production (t)")
    page.get_by_label("Column “Heating degree days (K·d)”").select_option(
        label="Variable: Heating degree days (K·d)")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text(re.compile(r"Imported \d+ values from 18 lines"))).to_be_visible()


def test_from_an_energy_import_to_the_decision_checklist(new_page, tmp_path):
    from isocert.energy import services
    from isocert.energy.demo import monthly_csv

    alice, organization, objects, cycle = _set_up()
    csv_path = tmp_path / "nordlicht-2024-2025.csv"
    csv_path.write_text(monthly_csv(start=datetime.date(2024, 1, 1), months=18))

    page = new_page()
    log_in(page, ALICE)
    _import_in_the_browser(page, organization, csv_path)
    baseline = services.create_baseline(
        organization=organization, actor=alice, name="EnB 2024",
        period_start=datetime.date(2024, 1, 1), period_end=datetime.date(2024, 12, 31),
        variable_ids=[objects["production"].pk, objects["hdd"].pk])
    services.add_reporting_period(baseline=baseline, actor=alice, name="2025 H1",
                                  period_start=datetime.date(2025, 1, 1),
                                  period_end=datetime.date(2025, 6, 30))

    dora = new_page()
    log_in(dora, DORA, totp=True, landing=signed_in_message)
    dora.goto(f"/cb/cycles/{cycle.pk}/decision/")
    item = dora.get_by_test_id("checklist").get_by_test_id("check-energy_improvement")
    expect(item).to_contain_text("Energy performance improvement demonstrated.")
    expect(item).to_contain_text("Reporting period “2025 H1” (1 Jan 2025 – 30 Jun 2025)")
    expect(item).to_contain_text(re.compile(r"savings [\d,]+ kWh ± [\d,]+ kWh \(fsu [\d.]+% at "
                                            r"68% confidence\)"))
    expect(item).to_contain_text("The reporting period lies within the cycle being decided")

    # A later reporting period, 2025-04 … 2025-09, of which only April–June have data.
    services.add_reporting_period(baseline=baseline, actor=alice, name="2025 Q2–Q3",
                                  period_start=datetime.date(2025, 4, 1),
                                  period_end=datetime.date(2025, 9, 30))
    dora.reload()
    item = dora.get_by_test_id("checklist").get_by_test_id("check-energy_improvement")
    expect(item).to_contain_text("Energy performance improvement not demonstrated: The "
                                 "reporting period (1 Apr 2025 – 30 Sep 2025) has data for 49.7%")
    expect(item).to_contain_text("Reporting period “2025 Q2–Q3”")
