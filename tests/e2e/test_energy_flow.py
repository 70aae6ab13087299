"""In a real browser: Nordlicht proves energy performance improvement (ISO 50001).

Alice imports 18 months of monthly meter data (a CSV the test writes) through the
upload → preview → column mapping page, fits a 12-month baseline on production and
heating degree days, adds the following six months as the reporting period and sees
the normalized improvement with its three charts drawn; she downloads the energy
performance report (PDF) and its text is checked. Once Nordlicht's ISO 50001
application is submitted, Dora (decision maker, with her authenticator) sees
"improvement demonstrated" on the organization's energy summary page.
"""

import datetime
import re

import pytest
from factories import complete_application_data, make_user
from helpers.browser import log_in
from playwright.sync_api import Page, expect
from pypdf import PdfReader

ALICE, DORA = "alice@nordlicht.example", "dora@cb.example"

pytestmark = pytest.mark.browser


def _nordlicht_with_meters():
    """Nordlicht with its meters and variables (set up through the services)."""
    from django.apps import apps

    from isocert.accounts.services import add_site, create_organization
    from isocert.energy.demo import set_up_meters
    from isocert.energy.loader import load_carriers
    from isocert.energy.models import EnergyCarrier

    if not EnergyCarrier.objects.exists():  # a transactional test emptied the data table
        load_carriers(apps.get_model)
    alice = make_user(ALICE, "Alice Owner")
    organization = create_organization(actor=alice, legal_name="Nordlicht Aluminium GmbH",
                                       country="DE",
                                       registered_address="Hafenstraße 12, 28217 Bremen",
                                       sector_codes=[17],
                                       scope_statement="Die casting of aluminium parts.")
    add_site(organization=organization, actor=alice, name="Bremen plant",
             address="Hafenstraße 12, Bremen", effective_personnel=24, shifts=2)
    return alice, organization, set_up_meters(organization=organization, actor=alice)


def _chart_drawn(page: Page, canvas_id: str) -> None:
    canvas = page.locator(f"canvas#{canvas_id}")
    expect(canvas).to_have_attribute("data-rendered", "true")
    assert page.evaluate(f"() => Boolean(Chart.getChart(document.getElementById('{canvas_id}')))")
    box = canvas.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0, box


def test_alice_demonstrates_improvement_and_dora_sees_it(new_page, tmp_path):
    from isocert.energy.demo import monthly_csv

    alice, organization, objects = _nordlicht_with_meters()
    csv_path = tmp_path / "nordlicht-2024-2025.csv"
    csv_path.write_text(monthly_csv(start=datetime.date(2024, 1, 1), months=18))

    page = new_page()
    log_in(page, ALICE)
    page.goto(f"/organizations/{organization.pk}/")
    page.get_by_role("link", name="Energy performance (ISO 50001)").click()
    expect(page.get_by_role("heading", name="Energy performance (ISO 50001)")).to_be_visible()

    # 1. Upload, preview, map every column, import.
    nav = page.get_by_role("navigation", name="Energy performance")
    nav.get_by_role("link", name="Import data").click()
    page.get_by_label("CSV or Excel (XLSX) file").set_input_files(str(csv_path))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_text("18 data lines")).to_be_visible()
    expect(page.get_by_test_id("preview")).to_contain_text("2024-01")
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
    expect(page.get_by_text("Imported 72 values from 18 lines of nordlicht-2024-2025.csv."))\
        .to_be_visible()

    # 2. The 12-month baseline.
    nav.get_by_role("link", name="Baselines").click()
    page.get_by_label("Baseline name").fill("EnB 2024")
    page.get_by_label("Baseline period from").fill("2024-01-01")
    page.get_by_label("Baseline period to").fill("2024-12-31")
    page.get_by_label("Production (t)").check()
    page.get_by_label("Heating degree days (K·d)").check()
    page.get_by_role("button", name="Fit baseline").click()
    expect(page.get_by_text("Baseline “EnB 2024” fitted.")).to_be_visible()
    expect(page.get_by_test_id("r2")).to_have_text(re.compile(r"^0\.99\d$"))
    _chart_drawn(page, "scatter-chart")

    # 3. The reporting period: normalized improvement, three charts.
    page.get_by_label("Reporting period from").fill("2025-01-01")
    page.get_by_label("Reporting period to").fill("2025-06-30")
    page.get_by_label("Name").fill("2025 H1")
    page.get_by_role("button", name="Add reporting period").click()
    expect(page.get_by_role("heading", name="Improvement demonstrated")).to_be_visible()
    expect(page.get_by_test_id("savings")).to_contain_text(re.compile(r"kWh ± [\d,]+ kWh"))
    improvement = page.get_by_test_id("improvement").inner_text()
    percent = float(improvement.replace("%", "").strip())
    assert 5 < percent < 10, improvement
    for canvas in ("scatter-chart", "cusum-chart", "trend-chart"):
        _chart_drawn(page, canvas)

    # 4. The PDF report.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Energy performance report (PDF)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("energy-performance-nordlicht")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    text = "".join(p.extract_text() for p in PdfReader(path).pages)
    assert "Energy performance improvement demonstrated" in text
    assert "EnB 2024" in text and "2025 H1" in text
    assert f"improvement {percent:.1f} %" in text
    assert "CUSUM of savings" in text

    # 5. Nordlicht applies for ISO 50001: Dora, the decision maker, sees the verdict.
    from isocert.registration.services import create_application, submit_application

    application = create_application(organization=organization, actor=alice,
                                     **complete_application_data())
    submit_application(application=application, actor=alice)
    make_user(DORA, "Dora Decider", roles=["decision_maker"])
    dora = new_page()
    log_in(dora, DORA, totp=True)
    dora.goto(f"/organizations/{organization.pk}/energy/")
    verdict = dora.get_by_test_id("improvement-verdict")
    expect(verdict).to_contain_text("Energy performance improvement demonstrated")
    expect(verdict).to_contain_text(f"{percent:.1f} %")
    expect(dora.get_by_role("link", name="Import data")).to_have_count(0)
