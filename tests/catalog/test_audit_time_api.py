"""``POST /api/v1/audit-time``: public, the engine's JSON in and out, 422 naming the field."""

import json
from decimal import Decimal
from fractions import Fraction

import pytest

from isocert.catalog import api as catalog_api
from isocert.catalog.audittime import compute_audit_time
from isocert.catalog.models import EnmsDayTableRow

URL = "/api/v1/audit-time"
INTEGRATED = {
    "standards": [
        {"code": "ISO 9001", "effective_personnel": 30},
        {"code": "ISO 14001", "effective_personnel": "120.5", "complexity": "Medium"},
        {"code": "ISO/IEC 27001", "effective_personnel": 12,
         "part_time": [{"headcount": 4, "hours_per_day": 4}]},
    ],
    "adjustments": [{"reason": "mature system", "percent": -10},
                    {"reason": "several languages", "percent": 5.5}],
    "integration_reduction_percent": 15,
    "sites": {"count": 7, "sampling_allowed": True},
}
ENERGY = {"code": "ISO 50001", "effective_personnel": 24, "annual_energy_consumption_tj": 310,
          "energy_types": 3, "significant_energy_uses": 5}
# Made-up figures for the tests: ISO 50003's real table is entered by the CB.
TABLE = [(1, 30, "3", "2.5", "2"), (31, 100, "5", "4", "3.5"), (101, None, "8", "6.5", "5")]


def post(client, data, **headers):
    body = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(URL, body, content_type="application/json", headers=headers)


def error(response, status=422):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


@pytest.fixture
def enms_table(db):
    for low, high, *days in TABLE:
        EnmsDayTableRow.objects.create(personnel_min=low, personnel_max=high,
                                       **dict(zip(("high", "medium", "low"), map(Decimal, days),
                                                  strict=True)))
    return [{"personnel_min": low, "personnel_max": high, "high": h, "medium": m, "low": lo}
            for low, high, h, m, lo in TABLE]


def test_the_answer_is_exactly_the_engines(client, db):
    response = post(client, INTEGRATED)

    assert response.status_code == 200, response.content
    assert response.json() == compute_audit_time(INTEGRATED, stage1_share=Fraction(1, 3))
    # Keys the engine leaves out stay out: no "complexity": null for ISO 9001.
    assert "complexity" not in response.json()["standards"][0]


def test_iso_9001_for_30_persons(client, db):
    result = post(client, {"standards": [{"code": "ISO 9001", "effective_personnel": 30}]}).json()

    assert (result["initial_days"], result["stage1_days"], result["stage2_days"]) == (4, 1.5, 2.5)
    assert (result["surveillance_days"], result["recertification_days"]) == (1.5, 2.5)
    assert "sites_to_visit" not in result
    assert result["needs_configuration"] == []


# The minimum on-site time is not less than 80 % of the audit time (IAF MD 5 / IAF MD 11):
# initial days x 0.8 rounded up to the next half day (it was the nearest: 4 -> 3.0, 9 -> 7.0).
@pytest.mark.parametrize(("standard", "adjust", "initial", "onsite"), [
    ({"code": "ISO 9001", "effective_personnel": 30}, [], 4.0, 3.5),
    ({"code": "ISO 9001", "effective_personnel": 125}, [], 7.0, 6.0),
    ({"code": "ISO 9001", "effective_personnel": 126}, ["12.5"], 9.0, 7.5),
    ({"code": "ISO 9001", "effective_personnel": 1176}, [4], 14.5, 12.0),
])
def test_minimum_on_site_days_are_80_percent_rounded_up(client, db, standard, adjust, initial,
                                                         onsite):
    data = {"standards": [standard],
            "adjustments": [{"reason": "languages", "percent": p} for p in adjust]}
    result = post(client, data).json()

    assert (result["initial_days"], result["min_onsite_days"]) == (initial, onsite)
    assert any(s.startswith("Minimum on-site time (IAF MD 5 / IAF MD 11") and
               s.endswith(f"rounded up to the next half day = {onsite:g} days.")
               for s in result["explanation"])


def test_the_configured_stage1_share_is_used(client, db, settings):
    settings.AUDIT_TIME_STAGE1_SHARE = "1/4"

    result = post(client, {"standards": [{"code": "ISO 9001", "effective_personnel": 30}]}).json()

    assert (result["stage1_days"], result["stage2_days"]) == (1.0, 3.0)
    assert "Stage 1 = 1/4 of 4 days" in " ".join(result["explanation"])


def test_no_login_and_no_csrf_token_needed(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = post(client, {"standards": [{"code": "ISO 9001", "effective_personnel": 5}]})

    assert response.status_code == 200


def test_iso_50001_without_the_table_gives_no_invented_days(client, db):
    result = post(client, {"standards": [ENERGY]}).json()

    entry = result["standards"][0]
    assert entry["complexity"] == "medium" and entry["complexity_score"] == 1.25
    assert entry["table_days"] is None and entry["adjusted_days"] is None
    assert result["initial_days"] is None and result["stage1_days"] is None
    assert result["needs_configuration"] == [
        "ISO 50001 audit-day table (ISO 50003) not configured"]


def test_iso_50001_with_the_cbs_table(client, enms_table):
    data = {"standards": [{"code": "ISO 9001", "effective_personnel": 30}, ENERGY]}

    result = post(client, data).json()

    assert result["needs_configuration"] == []
    energy = result["standards"][1]
    assert (energy["code"], energy["complexity"], energy["table_days"]) == ("ISO 50001",
                                                                           "medium", 2.5)
    assert result["initial_days"] == 6.5  # 4 + 2.5
    assert result == compute_audit_time(data, enms_days_table=enms_table)


def test_a_head_count_outside_the_configured_bands_needs_configuration(client, db):
    EnmsDayTableRow.objects.create(personnel_min=1, personnel_max=10, high=3, medium=2, low=1)

    result = post(client, {"standards": [ENERGY]}).json()

    assert result["standards"][0]["table_days"] is None
    assert result["needs_configuration"] == [
        "ISO 50001 audit-day table (ISO 50003) not configured for 24 effective personnel"]


@pytest.mark.parametrize(("data", "field"), [
    ({}, "standards"),
    ({"standards": []}, "standards"),
    ({"standards": "ISO 9001"}, "standards"),
    ({"standards": [{"code": "ISO 14001", "effective_personnel": 50}]},
     "standards.0.complexity"),
    ({"standards": [{"code": "ISO 9001", "effective_personnel": 5},
                    {"code": "ISO 45001", "effective_personnel": 5, "complexity": "extreme"}]},
     "standards.1.complexity"),
    ({"standards": [{"code": "ISO 22000", "effective_personnel": 5}]}, "standards.0.code"),
    ({"standards": [{"code": "ISO 9001", "effective_personnel": 0}]},
     "standards.0.effective_personnel"),
    ({"standards": [{"code": "ISO 9001", "effective_personnel": "many"}]},
     "standards.0.effective_personnel"),
    ({"standards": [{"code": "ISO 9001", "effective_personnel": 5, "complexity": "low"}]},
     "standards.0.complexity"),
    ({"standards": [{**ENERGY, "energy_types": 0}]}, "standards.0.energy_types"),
    ({"standards": [{k: v for k, v in ENERGY.items() if k != "significant_energy_uses"}]},
     "standards.0.significant_energy_uses"),
    ({"standards": [{"code": "ISO 9001", "effective_personnel": 5, "shifts": 2}]},
     "standards.0.shifts"),
    ({"standards": [{"code": "ISO 9001", "effective_personnel": 5}],
      "adjustments": [{"percent": -10}]}, "adjustments.0.reason"),
    ({"standards": [{"code": "ISO 9001", "effective_personnel": 5}],
      "integration_reduction_percent": 10}, "integration_reduction_percent"),
    ({"standards": [{"code": "ISO 9001", "effective_personnel": 5},
                    {"code": "ISO 27001", "effective_personnel": 5}],
      "integration_reduction_percent": 25}, "integration_reduction_percent"),
    ({"standards": [{"code": "ISO 9001", "effective_personnel": 5}],
      "sites": {"count": 3}}, "sites.sampling_allowed"),
    ({"standards": [{"code": "ISO 9001", "effective_personnel": 5}], "colour": "red"}, "colour"),
    ([{"code": "ISO 9001", "effective_personnel": 5}], "input"),
])
def test_bad_input_is_422_naming_the_field(client, db, data, field):
    body = error(post(client, data))

    assert body["code"] == "invalid"
    assert list(body["fields"]) == [field]
    assert body["fields"][field]
    assert body["message"].startswith(f"{field}: ")


@pytest.mark.parametrize("text", ['{"standards": [', "", "not json", '{"standards": NaN}',
                                  '{"a": 1,}'])
def test_malformed_json_is_422_on_the_field_json(client, db, text):
    body = error(post(client, text))

    assert body["code"] == "invalid"
    assert list(body["fields"]) == ["json"]


def test_deeply_nested_json_is_refused_not_crashed(client, db):
    body = error(post(client, "[" * 100_000 + "]" * 100_000))

    assert list(body["fields"]) == ["json"]


def test_an_oversized_body_is_413_in_the_error_shape(client, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    body = error(post(client, {"standards": [], "padding": "x" * 2000}), 413)

    assert body["code"] == "too_large"


@pytest.mark.parametrize("value", ["1e99999999", "1e-99999999", 10**40])
def test_numbers_too_large_or_too_fine_are_refused_quickly(client, db, value):
    text = '{"standards": [{"code": "ISO 9001", "effective_personnel": VALUE}]}'
    text = text.replace("VALUE", str(value))

    body = error(post(client, text))

    assert list(body["fields"]) == ["standards.0.effective_personnel"]


def test_too_many_requests_answer_429_in_the_error_shape(client, db, monkeypatch):
    monkeypatch.setattr(catalog_api.AUDIT_TIME_THROTTLE, "num_requests", 2)
    data = {"standards": [{"code": "ISO 9001", "effective_personnel": 5}]}

    answers = [post(client, data) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    body = error(answers[2], 429)
    assert body["code"] == "rate_limited"
    assert body["fields"] == {}
    assert int(answers[2]["Retry-After"]) > 0


def test_the_limit_is_per_client_address(db, monkeypatch):
    from django.test import Client

    monkeypatch.setattr(catalog_api.AUDIT_TIME_THROTTLE, "num_requests", 1)
    data = {"standards": [{"code": "ISO 9001", "effective_personnel": 5}]}
    first, second = Client(REMOTE_ADDR="192.0.2.1"), Client(REMOTE_ADDR="192.0.2.2")

    assert post(first, data).status_code == 200
    assert post(first, data).status_code == 429
    assert post(second, data).status_code == 200


def test_a_forged_forwarded_for_header_does_not_reset_the_limit(client, db, monkeypatch):
    monkeypatch.setattr(catalog_api.AUDIT_TIME_THROTTLE, "num_requests", 1)
    data = {"standards": [{"code": "ISO 9001", "effective_personnel": 5}]}

    assert post(client, data, X_Forwarded_For="198.51.100.1").status_code == 200
    assert post(client, data, X_Forwarded_For="198.51.100.2").status_code == 429


def test_behind_a_proxy_the_forwarded_address_counts(db, settings, monkeypatch):
    from django.test import Client

    settings.TRUSTED_PROXY_COUNT = 1
    monkeypatch.setattr(catalog_api.AUDIT_TIME_THROTTLE, "num_requests", 1)
    data = {"standards": [{"code": "ISO 9001", "effective_personnel": 5}]}
    proxy = Client(REMOTE_ADDR="10.0.0.1")

    assert post(proxy, data, X_Forwarded_For="198.51.100.1").status_code == 200
    assert post(proxy, data, X_Forwarded_For="198.51.100.1").status_code == 429
    assert post(proxy, data, X_Forwarded_For="198.51.100.2").status_code == 200


def test_other_methods_answer_405_in_the_error_shape(client, db):
    body = error(client.get(URL), 405)

    assert body["code"] == "method_not_allowed"


def test_the_openapi_document_describes_body_and_answer(client, db):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"][URL]["post"]

    assert not operation.get("security")
    content = operation["requestBody"]["content"]["application/json"]
    assert content["example"]["standards"][0] == {"code": "ISO 9001", "effective_personnel": 30}
    assert post(client, content["example"]).status_code == 200
    schema = content["schema"]
    assert schema["required"] == ["standards"]
    standard = schema["properties"]["standards"]["items"]["properties"]
    assert {"code", "effective_personnel", "complexity", "part_time",
            "annual_energy_consumption_tj", "energy_types", "significant_energy_uses"} \
        == set(standard)
    assert all(prop.get("description") for prop in standard.values())
    assert all(schema["properties"][key].get("description")
               for key in ("standards", "adjustments", "integration_reduction_percent", "sites"))

    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    out = document["components"]["schemas"][ok.rsplit("/", 1)[-1]]
    assert {"standards", "initial_days", "stage1_days", "stage2_days", "surveillance_days",
            "recertification_days", "min_onsite_days", "sites_to_visit", "needs_configuration",
            "explanation"} <= set(out["properties"])
    assert "rounded up to the next half day" in out["properties"]["min_onsite_days"][
        "description"]
    for status in ("422", "429"):
        ref = operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorOut")
