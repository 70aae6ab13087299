"""The analysis contract: ``isocert energy-analyse --json FILE|-`` (exit 2 naming the field)
and ``POST /api/v1/energy/analyse`` (authenticated, stores nothing, 422 naming the field).

The command tests carry no database mark: pytest-django fails any of them that touches
the database, which is how "the command reads no database" is checked."""

import copy
import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from helpers.api import assert_error

from isocert.core.models import AuditEvent

MONTHS_2016 = [f"2016-{m:02d}" for m in range(1, 13)]
MONTHS_2017 = [f"2017-{m:02d}" for m in range(1, 13)]
HDD = [10.0 * i for i in range(12)]
PRODUCTION = [50.0, 52, 49, 55, 60, 58, 51, 53, 57, 54, 56, 59]
INPUT = {
    "baseline": {"periods": MONTHS_2016,
                 "energy": [1000 + 5 * x + 20 * p + (20 if i % 2 == 0 else -20)
                            for i, (x, p) in enumerate(zip(HDD, PRODUCTION, strict=True))],
                 "variables": {"hdd": list(HDD), "production": list(PRODUCTION)}},
    "reporting": {"periods": MONTHS_2017,
                  "energy": [0.9 * (1000 + 5 * x + 20 * p)
                             for x, p in zip(HDD, PRODUCTION, strict=True)],
                  "variables": {"hdd": list(HDD), "production": list(PRODUCTION)}},
}


def changed(path: str, value) -> dict:
    """INPUT with the value at a dotted path replaced (``None`` value deletes the key)."""
    data = copy.deepcopy(INPUT)
    *parents, last = path.split(".")
    target = data
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        target[int(last)] = value
    elif value is None:
        del target[last]
    else:
        target[last] = value
    return data


BAD_INPUT = [
    ("lengths differ", changed("baseline.energy", INPUT["baseline"]["energy"][:11]),
     "baseline.energy"),
    ("variable lengths differ", changed("reporting.variables.hdd", HDD[:5]),
     "reporting.variables.hdd"),
    ("NaN", changed("baseline.energy.3", float("nan")), "baseline.energy.3"),
    ("infinite", changed("reporting.variables.production.2", float("inf")),
     "reporting.variables.production.2"),
    ("non-numeric", changed("baseline.energy.0", "12,500"), "baseline.energy.0"),
    ("out of range", changed("reporting.energy.5", 1e300), "reporting.energy.5"),
    ("a boolean is no number", changed("baseline.variables.hdd.1", True),
     "baseline.variables.hdd.1"),
    ("fewer points than parameters",
     {"baseline": {"periods": MONTHS_2016[:3], "energy": [1.0, 2.0, 3.0],
                   "variables": {"hdd": [1.0, 2.0, 4.0], "production": [3.0, 1.0, 2.0]}},
      "reporting": INPUT["reporting"]}, "baseline.periods"),
    ("constant variable", changed("baseline.variables.production", [5.0] * 12),
     "baseline.variables.production"),
    ("collinear variables", changed("baseline.variables.production", [2 * x + 1 for x in HDD]),
     "baseline.variables.production"),
    ("periods out of order",
     changed("baseline.periods", [*MONTHS_2016[:5], MONTHS_2016[6], MONTHS_2016[5],
                                  *MONTHS_2016[7:]]), "baseline.periods.6"),
    ("periods overlapping", changed("baseline.periods.4", "2016-04"), "baseline.periods.4"),
    ("mixed kinds of period", changed("baseline.periods.4", "2016-05-01"),
     "baseline.periods.4"),
    ("not a period", changed("reporting.periods.0", "03/04/2025"), "reporting.periods.0"),
    ("reporting before baseline",
     changed("reporting.periods", [f"2015-{m:02d}" for m in range(1, 13)]),
     "reporting.periods.0"),
    ("reporting overlapping the baseline",
     changed("reporting.periods", [f"2016-{m:02d}" for m in range(12, 13)] + [
         f"2017-{m:02d}" for m in range(1, 12)]), "reporting.periods.0"),
    ("reporting in days, baseline in months",
     changed("reporting.periods", [f"2017-01-{d:02d}" for d in range(1, 13)]),
     "reporting.periods"),
    ("a variable missing in the reporting period",
     changed("reporting.variables", {"hdd": HDD}), "reporting.variables.production"),
    ("unknown model", {**INPUT, "model": "quadratic"}, "model"),
    ("unknown confidence", {**INPUT, "confidence": 0.75}, "confidence"),
    ("auto without temperature", {**INPUT, "model": "auto"}, "temperature"),
    ("temperature without auto", {**INPUT, "temperature": {"baseline": HDD, "reporting": HDD}},
     "temperature"),
    ("unknown field", {**INPUT, "baseline_period": "2016"}, "baseline_period"),
    ("no reporting", changed("reporting", None), "reporting"),
]


def run(*args):
    out = io.StringIO()
    call_command("energy-analyse", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_json_from_a_file(tmp_path):
    path = tmp_path / "input.json"
    path.write_text(json.dumps(INPUT))
    result = json.loads(run("--json", str(path)))
    assert result["model"]["form"] == "linear"
    assert result["model"]["variables"] == ["hdd", "production"]
    assert result["reporting"]["savings_fraction"] == pytest.approx(0.1, abs=0.002)
    assert result["verdict"]["improvement_demonstrated"] is True


def test_json_from_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({**INPUT, "confidence": 0.95})))
    assert json.loads(run("--json", "-"))["reporting"]["confidence"] == 0.95


@pytest.mark.parametrize(("case", "data", "field"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_exits_2_naming_the_field(case, data, field, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(data)))
    with pytest.raises(CommandError) as exc:
        run("--json", "-")
    assert exc.value.returncode == 2
    assert str(exc.value).startswith(f"{field}: "), str(exc.value)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize(("args", "stdin", "field"), [
    ([], None, "--json"), (["--json", "/nonexistent/input.json"], None, "--json"),
    (["--json", "-"], '{"baseline": [', "json")])
def test_bad_invocation_exits_2(args, stdin, field, monkeypatch):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert exc.value.returncode == 2 and str(exc.value).startswith(f"{field}: ")


def test_the_console_script_exits_2_with_one_line(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "isocert.settings",
           "ISOCERT_VAR_DIR": str(tmp_path)}
    bad = json.dumps(changed("baseline.energy.3", "n/a"))
    done = subprocess.run([sys.executable, "-m", "isocert", "energy-analyse", "--json", "-"],
                          input=bad, capture_output=True, text=True, env=env, timeout=60,
                          check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "CommandError: baseline.energy.3: 'n/a' is not a number"]
    good = subprocess.run([sys.executable, "-m", "isocert", "energy-analyse", "--json", "-"],
                          input=json.dumps(INPUT), capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["verdict"]["improvement_demonstrated"] is True


# --- the API ----------------------------------------------------------------------------------

URL = "/api/v1/energy/analyse"


@pytest.mark.django_db
def test_api_answers_as_the_command_and_stores_nothing(alice, api_client, tmp_path):
    events = AuditEvent.objects.count()
    response = api_client(alice).post(URL, INPUT, content_type="application/json")
    assert response.status_code == 200, response.content
    path = tmp_path / "input.json"
    path.write_text(json.dumps(INPUT))
    assert response.json() == json.loads(run("--json", str(path)))
    assert "balance_points" not in response.json()["model"]
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_api_change_point_model_reports_its_balance_points(rita, api_client):
    temps = [0, 2, 6, 10, 14, 18, 21, 20, 16, 11, 5, 1]
    energy = [31 * (50 + 2 * max(15 - t, 0)) + (9 if i % 2 else -9) for i, t in enumerate(temps)]
    data = {"model": "auto", "temperature": {"baseline": temps, "reporting": temps},
            "baseline": {"periods": MONTHS_2016, "energy": energy},
            "reporting": {"periods": MONTHS_2017, "energy": [0.9 * e for e in energy]}}
    body = api_client(rita).post(URL, data, content_type="application/json").json()
    assert body["model"]["form"] == "3p-heating"
    assert set(body["model"]["balance_points"]) == {"heating"}


@pytest.mark.django_db
def test_api_needs_authentication(client):
    response = client.post(URL, INPUT, content_type="application/json")
    assert_error(response, 401, "unauthenticated")


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "data", "field"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_api_refuses_bad_input_with_422_naming_the_field(case, data, field, alice, api_client):
    body = json.dumps(data)   # NaN and Infinity as Python writes them: not JSON, still named
    response = api_client(alice).post(URL, body, content_type="application/json")
    assert_error(response, 422, "invalid", field, exact_fields=True)


@pytest.mark.django_db
def test_api_refuses_malformed_json(alice, api_client):
    response = api_client(alice).post(URL, "{", content_type="application/json")
    assert_error(response, 422, "invalid", "json", exact_fields=True)
