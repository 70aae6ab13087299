"""In a real browser: an import whose numbers and dates can be read two ways.

Alice uploads a semicolon-separated export from a German metering portal: monthly dates
written 01/03/2025 and values such as 12,500 — nothing in the file says whether that is
1 March or 3 January, twelve and a half or twelve thousand five hundred. The mapping step
flags both, the import is refused while they are open, and once she chooses day first and
the decimal comma the values land as she meant them.
"""

import datetime
from decimal import Decimal

import pytest
from helpers.browser import log_in
from playwright.sync_api import expect
from test_energy_flow import ALICE, _nordlicht_with_meters

pytestmark = pytest.mark.browser

EXPORT = ("Datum;Electricity (kWh);Natural gas (m³)\n"
          "01/03/2025;12,500;1.250\n"
          "01/04/2025;13,750;1.100\n"
          "01/05/2025;11,000;900\n")


def test_alice_chooses_the_date_order_and_decimal_comma_of_an_ambiguous_file(new_page,
                                                                             tmp_path):
    from isocert.energy.models import Reading

    _alice, organization, objects = _nordlicht_with_meters()
    path = tmp_path / "zaehler-export.csv"
    path.write_text(EXPORT, encoding="utf-8")

    page = new_page()
    log_in(page, ALICE)
    page.goto(f"/organizations/{organization.pk}/energy/import/")
    page.get_by_label("CSV or Excel (XLSX) file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and preview").click()

    # The columns are matched by name; the ambiguous values are flagged.
    expect(page.get_by_label("Column “Datum”")).to_have_value("date")
    expect(page.get_by_label("Column “Electricity (kWh)”")).to_have_value(
        f"meter:{objects['electricity'].pk}")
    flags = page.get_by_test_id("format-flags")
    expect(flags).to_contain_text("“12,500” (line 2) may be 12.5 or 12,500")
    expect(flags).to_contain_text("“01/03/2025” (line 2) may be day first or month first")
    expect(page.get_by_label("Decimal separator")).to_have_value("")
    expect(page.get_by_label("Date order (dates not written YYYY-MM-DD)")).to_have_value("")

    # Importing without choosing is refused, naming what to choose; nothing is written.
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Choose how the file writes numbers and dates")).to_be_visible()
    assert not Reading.objects.exists()

    page.get_by_label("Decimal separator").select_option(",")
    page.get_by_label("Date order (dates not written YYYY-MM-DD)").select_option("dmy")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported 6 values from 3 lines of zaehler-export.csv.")).to_be_visible()

    electricity = dict(Reading.objects.filter(meter=objects["electricity"])
                       .values_list("period_start", "quantity"))
    gas = dict(Reading.objects.filter(meter=objects["gas"]).values_list("period_start",
                                                                        "quantity"))
    assert electricity == {datetime.date(2025, 3, 1): Decimal("12.5"),
                           datetime.date(2025, 4, 1): Decimal("13.75"),
                           datetime.date(2025, 5, 1): Decimal("11")}
    # Once the comma is the decimal mark, 1.250 can only group thousands.
    assert gas[datetime.date(2025, 3, 1)] == Decimal("1250")
