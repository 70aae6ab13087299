"""The energy API: setup, multipart import, baselines, reporting, EnPIs; one error shape."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from isocert.energy.demo import monthly_csv, monthly_mapping
from isocert.energy.models import Reading

NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


@pytest.fixture
def alice_api(alice, api_client):
    return api_client(alice)


def test_setting_up_meters_variables_and_uses(nordlicht, alice_api):
    base = f"/api/v1/organizations/{nordlicht.pk}/energy"
    site = nordlicht.sites.first()

    meter = post(alice_api, base + "/meters", {"name": "Main", "carrier": "electricity",
                                               "unit": "MWh", "site_id": site.pk})
    variable = post(alice_api, base + "/variables", {"name": "Output", "kind": "production",
                                                     "unit": "t"})
    use = post(alice_api, base + "/uses", {"name": "Furnaces", "is_significant": True,
                                           "meter_ids": [meter.json()["id"]]})
    patched = alice_api.patch(f"{base}/meters/{meter.json()['id']}", {"name": "Main supply"},
                              content_type="application/json")

    assert (meter.status_code, variable.status_code, use.status_code) == (201, 201, 201)
    assert meter.json() | {"id": 0} == {"id": 0, "name": "Main", "carrier": "electricity",
                                        "unit": "MWh", "site_id": site.pk, "site": site.name,
                                        "readings": 0}
    assert use.json()["meter_ids"] == [meter.json()["id"]]
    assert patched.json()["name"] == "Main supply"
    assert [m["name"] for m in alice_api.get(base + "/meters").json()] == ["Main supply"]
    carriers = alice_api.get(base + "/carriers").json()
    assert {"unit": "m³", "kwh_per_unit": 10.0} in next(
        c for c in carriers if c["code"] == "natural-gas")["units"]
    assert alice_api.delete(f"{base}/uses/{use.json()['id']}").status_code == 204


def test_bad_input_answers_422_in_the_error_shape(nordlicht, alice_api):
    response = post(alice_api, f"/api/v1/organizations/{nordlicht.pk}/energy/meters",
                    {"name": "Oil tank", "carrier": "fuel-oil", "unit": "barrel"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert "unit" in response.json()["error"]["fields"]


def _upload(client, nordlicht, setup, text, name="energy.csv"):
    return client.post(f"/api/v1/organizations/{nordlicht.pk}/energy/imports", {
        "file": SimpleUploadedFile(name, text.encode(), content_type="text/csv"),
        "mapping": json.dumps(monthly_mapping(setup))})


def test_multipart_import_and_refusal_with_line_numbers(nordlicht, alice_api, setup):
    bad = monthly_csv(months=4).replace("2024-03,", "2024-3x,")

    refused = _upload(alice_api, nordlicht, setup, bad)
    imported = _upload(alice_api, nordlicht, setup, monthly_csv(months=18))

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "import_refused"
    fields = refused.json()["error"]["fields"]
    assert list(fields) == ["line 4", "line 5"]  # the bad date, and the gap it leaves
    assert "not a date" in fields["line 4"] and "Gap before this line" in fields["line 5"]
    assert imported.status_code == 201, imported.content
    assert imported.json()["rows"] == 18 and imported.json()["values"] == 72
    assert Reading.objects.count() == 36


def test_a_mapping_that_is_not_json_is_refused(nordlicht, alice_api, setup):
    response = alice_api.post(f"/api/v1/organizations/{nordlicht.pk}/energy/imports", {
        "file": SimpleUploadedFile("e.csv", b"a,b\n1,2\n"), "mapping": "{not json"})

    assert response.status_code == 422
    assert "mapping" in response.json()["error"]["fields"]


def test_baseline_reporting_period_and_improvement(nordlicht, alice_api, setup):
    base = f"/api/v1/organizations/{nordlicht.pk}/energy"
    assert _upload(alice_api, nordlicht, setup, monthly_csv(months=18)).status_code == 201

    baseline = post(alice_api, base + "/baselines", {
        "name": "EnB 2024", "period_start": "2024-01-01", "period_end": "2024-12-31",
        "variable_ids": [setup["production"].pk, setup["hdd"].pk]})
    assert alice_api.get(base + "/improvement").status_code == 204
    period = post(alice_api, f"{base}/baselines/{baseline.json()['id']}/reporting-periods",
                  {"name": "2025 H1", "period_start": "2025-01-01", "period_end": "2025-06-30"})
    improvement = alice_api.get(base + "/improvement")
    review = alice_api.get(base + "/review")

    assert baseline.status_code == 201, baseline.content
    fit = baseline.json()["fit"]
    assert fit["usable"] and fit["n"] == 12 and len(fit["p_values"]) == 3
    assert period.status_code == 201, period.content
    assert period.json()["demonstrated"] and len(period.json()["points"]) == 6
    assert period.json()["points"][-1]["cusum"] == pytest.approx(period.json()["savings_kwh"])
    assert improvement.json()["demonstrated"] is True
    assert review.json()["energy_types"] == 2 and review.json()["by_use"][0]["significant"]
    got = alice_api.get(f"{base}/reporting-periods/{period.json()['id']}")
    assert got.json()["improvement_percent"] == period.json()["improvement_percent"]


def test_a_near_singular_baseline_is_422_naming_the_variables(nordlicht, alice_api, setup,
                                                               near_duplicate):
    response = post(alice_api, f"/api/v1/organizations/{nordlicht.pk}/energy/baselines", {
        "name": "EnB", "period_start": "2024-01-01", "period_end": "2024-12-31",
        "meter_ids": [setup["electricity"].pk],
        "variable_ids": [setup["production"].pk, near_duplicate.pk]})

    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert "“Production” and “Shifts” (nearly) follow from one another" in error["message"]
    assert "variable_ids" in error["fields"]


def test_a_reporting_period_before_the_baseline_is_422(nordlicht, alice_api, story):
    base = f"/api/v1/organizations/{nordlicht.pk}/energy"
    response = post(alice_api, f"{base}/baselines/{story['baseline'].pk}/reporting-periods",
                    {"period_start": "2023-01-01", "period_end": "2023-06-30"})

    assert response.status_code == 422, response.content
    assert response.json()["error"]["message"] == (
        "The reporting period comes before the baseline period.")


def test_enpis(nordlicht, alice_api, story):
    base = f"/api/v1/organizations/{nordlicht.pk}/energy"

    created = post(alice_api, base + "/enpis", {"name": "kWh per HDD", "kind": "ratio",
                                                "variable_id": story["hdd"].pk})
    wrong = post(alice_api, base + "/enpis", {"name": "?", "kind": "magic"})

    assert created.status_code == 201 and created.json()["unit"] == "kWh/K·d"
    assert len(created.json()["months"]) == 18
    assert wrong.status_code == 422 and "kind" in wrong.json()["error"]["fields"]
    assert len(alice_api.get(base + "/enpis").json()) == 3


def test_prefill_through_the_api(nordlicht, alice_api, draft, story):
    response = post(alice_api, f"/api/v1/organizations/{nordlicht.pk}/energy/prefill-application")

    assert response.status_code == 200, response.content
    assert response.json()["application_id"] == draft.pk
    assert (response.json()["energy_types"], response.json()["significant_energy_uses"]) == (2, 1)


def test_a_viewer_reads_but_gets_403_on_writes(nordlicht, vera, api_client, setup):
    client = api_client(vera)
    base = f"/api/v1/organizations/{nordlicht.pk}/energy"

    assert client.get(base + "/meters").status_code == 200
    refused = post(client, base + "/variables", {"name": "x", "unit": "h"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert client.delete(f"{base}/meters/{setup['electricity'].pk}").status_code == 403


def test_objects_of_another_organization_are_404(nordlicht, brightpath, alice_api, charlie,
                                                 api_client, setup):
    own = f"/api/v1/organizations/{nordlicht.pk}/energy"
    other = f"/api/v1/organizations/{brightpath.pk}/energy"
    meter = setup["electricity"].pk

    # Alice names her meter under Brightpath's id: 404, as for Charlie under hers.
    assert alice_api.get(f"{other}/meters").json() == NOT_FOUND
    assert alice_api.delete(f"{other}/meters/{meter}").json() == NOT_FOUND
    charlie_api = api_client(charlie)
    assert charlie_api.get(f"{own}/meters").json() == NOT_FOUND
    assert charlie_api.patch(f"{own}/meters/{meter}", {"name": "x"},
                             content_type="application/json").json() == NOT_FOUND


def test_the_openapi_document_describes_the_energy_operations(alice_api, db):
    schema = alice_api.get("/api/v1/openapi.json").json()

    operation = schema["paths"]["/api/v1/organizations/{org_id}/energy/imports"]["post"]
    assert "all or nothing" in operation["summary"]
    assert "line N" in operation["description"]
