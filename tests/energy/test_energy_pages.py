"""Energy pages: setup, the import with its column mapping, review, baselines, analysis
with chart data, the PDF report, and who sees what."""

import datetime
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from isocert.energy.demo import monthly_csv, monthly_mapping
from isocert.energy.importer import MappingChoice
from isocert.energy.models import Baseline, EnPI, ImportBatch, Meter, ReportingPeriod


@pytest.fixture
def alice_web(alice, api_client):
    return api_client(alice)


def _json_script(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html,
                      re.S)
    assert match, element_id
    return json.loads(match.group(1))


def test_the_organization_page_links_to_the_energy_section(nordlicht, alice_web):
    page = alice_web.get(f"/organizations/{nordlicht.pk}/").content.decode()

    assert f'href="/organizations/{nordlicht.pk}/energy/"' in page


def test_setting_up_a_meter_variable_and_use_in_the_page(nordlicht, alice_web):
    url = f"/organizations/{nordlicht.pk}/energy/setup/"

    alice_web.post(url, {"what": "meter", "meter-name": "Main", "meter-carrier": "electricity",
                         "meter-unit": "kWh", "meter-site_id": ""})
    alice_web.post(url, {"what": "variable", "variable-name": "Output",
                         "variable-kind": "production", "variable-unit": "t"})
    meter = Meter.objects.get(organization=nordlicht)
    alice_web.post(url, {"what": "use", "use-name": "Furnaces", "use-is_significant": "on",
                         "use-meter_ids": [str(meter.pk)]})
    refused = alice_web.post(url, {"what": "meter", "meter-name": "Oil",
                                   "meter-carrier": "fuel-oil", "meter-unit": "barrel"})

    page = alice_web.get(url).content.decode()
    assert "Main" in page and "Output" in page and "Furnaces" in page and "SEU" in page
    assert refused.status_code == 200 and "Fuel oil (light) is metered in" in \
        refused.content.decode()


def test_upload_preview_map_and_import(nordlicht, alice_web, setup):
    url = f"/organizations/{nordlicht.pk}/energy/import/"
    uploaded = alice_web.post(url, {"file": SimpleUploadedFile(
        "nordlicht.csv", monthly_csv(months=18).encode())})
    assert uploaded.status_code == 302 and uploaded["Location"].endswith("/import/map/")

    preview = alice_web.get(url + "map/").content.decode()
    # The preview shows the first lines; meters and variables are guessed from the headers.
    assert "2024-01" in preview and "18 data lines" in preview
    assert f'<option value="meter:{setup["electricity"].pk}" selected>' in preview
    assert '<option value="date" selected>' in preview

    confirmed = alice_web.post(url + "map/", {
        "frequency": "monthly", "col_0": "date", "col_1": f"meter:{setup['electricity'].pk}",
        "unit_1": "kWh", "col_2": f"meter:{setup['gas'].pk}", "unit_2": "m³",
        "col_3": f"variable:{setup['production'].pk}", "col_4": f"variable:{setup['hdd'].pk}"})

    assert confirmed.status_code == 302
    assert ImportBatch.objects.get().values == 72


def test_a_refused_import_lists_its_lines_and_keeps_the_file(nordlicht, alice_web, setup):
    url = f"/organizations/{nordlicht.pk}/energy/import/"
    bad = monthly_csv(months=6).replace("2024-04,", "April,")
    alice_web.post(url, {"file": SimpleUploadedFile("bad.csv", bad.encode())})

    response = alice_web.post(url + "map/", {
        "frequency": "monthly", "col_0": "date", "col_1": f"meter:{setup['electricity'].pk}"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "nothing was imported" in page
    assert "<strong>line 5</strong>" in page and "<strong>line 6</strong>" in page
    assert not ImportBatch.objects.exists()
    assert alice_web.get(url + "map/").status_code == 200  # still pending: fix the mapping


def test_fitting_a_baseline_and_adding_a_reporting_period_in_the_pages(nordlicht, alice_web,
                                                                       setup, alice):
    from isocert.energy import services
    from isocert.energy.demo import monthly_mapping

    services.import_energy_data(organization=nordlicht, actor=alice, file_name="d.csv",
                                data=monthly_csv(months=18).encode(),
                                mapping=MappingChoice.from_json(monthly_mapping(setup)))
    fitted = alice_web.post(f"/organizations/{nordlicht.pk}/energy/baselines/", {
        "name": "EnB 2024", "period_start": "2024-01-01", "period_end": "2024-12-31",
        "variable_ids": [str(setup["production"].pk), str(setup["hdd"].pk)]})
    baseline = Baseline.objects.get()
    assert fitted["Location"] == f"/energy/baselines/{baseline.pk}/"

    detail = alice_web.get(fitted["Location"]).content.decode()
    assert 'data-testid="r2">0.999' in detail
    scatter = _json_script(detail, "scatter-data")
    assert len(scatter["baseline"]) == 12 and len(scatter["line"]) == 2

    added = alice_web.post(fitted["Location"], {"name": "2025 H1", "period_start": "2025-01-01",
                                                "period_end": "2025-06-30"})
    period = ReportingPeriod.objects.get()
    assert added["Location"] == f"/energy/reporting-periods/{period.pk}/"


def test_the_analysis_page_has_its_three_charts(story, alice_web):
    page = alice_web.get(f"/energy/reporting-periods/{story['period'].pk}/").content.decode()

    assert "Improvement demonstrated" in page
    for chart in ("scatter-chart", "cusum-chart", "trend-chart"):
        assert f'id="{chart}"' in page
    assert len(_json_script(page, "cusum-data")["values"]) == 6
    assert len(_json_script(page, "trend-data")["labels"]) == 18
    assert "/static/energy/charts.js" in page and "/static/vendor/chartjs/" in page
    assert "<script>" not in page  # no inline scripts


def test_the_analysis_page_shows_savings_with_their_uncertainty(story, alice_web):
    evaluation = story["period"]
    page = alice_web.get(f"/energy/reporting-periods/{evaluation.pk}/").content.decode()

    assert re.search(r'data-testid="savings">[\d,]+ kWh ± [\d,]+ kWh<', page), page
    assert re.search(r'data-testid="fsu">\d+\.\d % of the savings at 68 % confidence<', page)
    assert 'data-testid="verdict-reasons"' not in page
    assert "savings uncertainty is below 50%" in page   # the rule, with the CB's figures


def test_the_analysis_page_lists_every_reason_it_is_not_demonstrated(nordlicht, alice, setup,
                                                                     alice_web):
    from isocert.energy import services

    services.import_energy_data(organization=nordlicht, actor=alice, file_name="a.csv",
                                data=monthly_csv(months=12, baseline_months=8).encode(),
                                mapping=MappingChoice.from_json(monthly_mapping(setup)))
    baseline = services.create_baseline(
        organization=nordlicht, actor=alice, name="Eight months",
        period_start=datetime.date(2024, 1, 1), period_end=datetime.date(2024, 8, 31),
        variable_ids=[setup["production"].pk, setup["hdd"].pk])
    period = services.add_reporting_period(
        baseline=baseline, actor=alice,
        period_start=datetime.date(2024, 9, 1), period_end=datetime.date(2025, 2, 28))

    page = alice_web.get(f"/energy/reporting-periods/{period.pk}/").content.decode()
    pdf = alice_web.get(f"/energy/reporting-periods/{period.pk}/report.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)

    assert "Improvement not demonstrated" in page
    reasons = re.search(r'data-testid="verdict-reasons">(.*?)</ul>', page, re.S).group(1)
    assert "The baseline spans 244 days" in reasons      # 2024-01-01 … 2024-08-31
    assert "has data for 67.4% of its days" in reasons   # Sep–Dec of Sep–Feb: 122 of 181 days
    assert 'data-testid="fit-validity"' in page
    assert "Why improvement is not demonstrated" in text and "244 days" in text


def test_the_pdf_report_has_the_figures_and_the_charts(story, alice_web):
    response = alice_web.get(f"/energy/reporting-periods/{story['period'].pk}/report.pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Energy performance improvement demonstrated" in text
    assert "EnB 2024" in text and "1 Jan 2025 – 30 Jun 2025" in text
    assert "CUSUM of savings" in text and "Consumption against Heating degree days" in text


def test_review_and_enpi_pages(nordlicht, story, alice_web):
    review = alice_web.get(f"/organizations/{nordlicht.pk}/energy/review/").content.decode()
    enpis = alice_web.get(f"/organizations/{nordlicht.pk}/energy/enpis/").content.decode()

    pareto = _json_script(review, "pareto-data")
    assert pareto["labels"][0] == "Die-casting furnaces" and pareto["cumulative"][-1] == 100.0
    assert 'data-testid="annual-tj"' in review
    assert len(_json_script(enpis, "enpi-data")["series"]) == 2
    added = alice_web.post(f"/organizations/{nordlicht.pk}/energy/enpis/", {
        "name": "kWh per HDD", "kind": "ratio", "variable_id": str(story["hdd"].pk)})
    assert added.status_code == 302 and EnPI.objects.count() == 3


def test_a_viewer_sees_the_pages_without_write_controls(nordlicht, vera, story, api_client):
    client = api_client(vera)

    home = client.get(f"/organizations/{nordlicht.pk}/energy/").content.decode()
    setup_page = client.get(f"/organizations/{nordlicht.pk}/energy/setup/").content.decode()

    assert "Energy performance improvement demonstrated" in home
    assert "Copy into the ISO 50001 application" not in home
    assert "Add a meter" not in setup_page
    assert client.get(f"/organizations/{nordlicht.pk}/energy/import/").status_code == 404
    assert client.post(f"/energy/meters/{story['electricity'].pk}/delete/").status_code == 404
    assert Meter.objects.filter(pk=story["electricity"].pk).exists()


def test_dora_sees_the_verdict_once_the_application_is_submitted(nordlicht, dora, alice, draft,
                                                                 story, api_client):
    from isocert.registration.services import submit_application

    client = api_client(dora)
    url = f"/organizations/{nordlicht.pk}/energy/"
    assert client.get(url).status_code == 404

    submit_application(application=draft, actor=alice)

    page = client.get(url).content.decode()
    assert "Energy performance improvement demonstrated" in page
    assert "Import data" not in page
    assert client.post(f"/organizations/{nordlicht.pk}/energy/setup/", {
        "what": "variable", "variable-name": "x", "variable-kind": "other",
        "variable-unit": "h"}).status_code == 404


def test_prefill_from_the_summary_page(nordlicht, draft, story, alice_web):
    response = alice_web.post(f"/organizations/{nordlicht.pk}/energy/prefill-application/")

    assert response["Location"] == f"/applications/{draft.pk}/"
    line = draft.standard_lines.get()
    assert (line.energy_types, line.significant_energy_uses) == (2, 1)
