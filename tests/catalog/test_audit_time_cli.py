"""``isocert audit-time``: JSON from a file or stdin, the quick form, exit 2 on bad input.

These tests carry no database mark: pytest-django would fail any of them that
touched the database, which is how "the CLI reads no database" is checked.
"""

import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

INPUT = {
    "standards": [
        {"code": "ISO 9001", "effective_personnel": 20},
        {"code": "ISO 14001", "effective_personnel": 120, "complexity": "medium"},
    ],
    "integration_reduction_percent": 20,
    "sites": {"count": 100, "sampling_allowed": True},
}


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("audit-time", *args, stdout=out, stderr=err)
    return out.getvalue()


def run_process(*args, stdin=None, tmp_path=None):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "isocert.settings"}
    if tmp_path is not None:
        env["ISOCERT_VAR_DIR"] = str(tmp_path)
    return subprocess.run([sys.executable, "-m", "isocert", "audit-time", *args],
                          input=stdin, capture_output=True, text=True, env=env, timeout=60,
                          check=False)


def test_json_from_a_file(tmp_path):
    path = tmp_path / "input.json"
    path.write_text(json.dumps(INPUT))
    result = json.loads(run("--json", str(path)))
    assert result["initial_days"] == 9.0  # (3 + 8) x 0.8 = 8.8 -> 9.0
    assert result["stage1_days"] == 3.0
    assert result["sites_to_visit"] == {"initial": 10, "surveillance": 6, "recertification": 8,
                                        "central_function": True}


def test_json_from_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(INPUT)))
    result = json.loads(run("--json", "-"))
    assert result["initial_days"] == 9.0


# The minimum on-site time is not less than 80 % of the audit time (IAF MD 5 / IAF MD 11):
# initial days x 0.8 rounded up to the next half day (it was the nearest: 4 -> 3.0, 9 -> 7.0).
@pytest.mark.parametrize(("personnel", "percent", "initial", "onsite"), [
    (30, 0, 4.0, 3.5), (125, 0, 7.0, 6.0), (126, "12.5", 9.0, 7.5), (1176, 4, 14.5, 12.0),
])
def test_json_minimum_on_site_days_are_80_percent_rounded_up(tmp_path, personnel, percent,
                                                              initial, onsite):
    path = tmp_path / "input.json"
    path.write_text(json.dumps({
        "standards": [{"code": "ISO 9001", "effective_personnel": personnel}],
        "adjustments": [{"reason": "languages", "percent": percent}] if percent else []}))
    result = json.loads(run("--json", str(path)))
    assert (result["initial_days"], result["min_onsite_days"]) == (initial, onsite)


def test_quick_form_shows_the_rounded_up_on_site_time():
    output = run("--standard", "ISO 9001", "--personnel", "30")  # 4 days
    assert "Minimum on-site                   3.5 days" in output
    assert ("Minimum on-site time (IAF MD 5 / IAF MD 11, not less than 80 % of the audit "
            "time): 80 % of 4 days = 3.2 days, rounded up to the next half day = 3.5 days."
            ) in output


def test_quick_form_prints_a_table_then_the_explanation():
    output = run("--standard", "ISO 14001", "--personnel", "120", "--complexity", "medium")
    lines = output.splitlines()
    assert lines[0].split() == ["Standard", "Complexity", "Table", "days", "Adjusted", "days"]
    assert lines[1].split() == ["ISO", "14001", "medium", "8.00", "8.00"]
    assert "Initial audit (stage 1 + 2)       8 days" in output
    explanation = lines.index("Explanation:")
    assert explanation > 5
    assert lines[explanation + 1] == (
        "  1. ISO 14001: 120 persons fall in the 86-125 band of IAF MD 5:2019 Table EMS 1, "
        "complexity medium: 8 days.")


def test_quick_form_with_sites_adjustments_and_share():
    output = run("--standard", "ISO 9001", "--personnel", "20", "--sites", "10", "--sampling",
                 "--adjust", "-10:mature system", "--adjust", "+20%:several languages",
                 "--stage1-share", "1/5")
    assert "Net adjustment                    10 %" in output
    assert "initial 4, surveillance 2, recertification 3" in output
    assert "-10 % mature system, +20 % several languages" in output
    assert "Stage 1 = 1/5 of 3.5 days" in output  # 3 x 1.1 = 3.3 -> 3.5


def test_quick_form_without_sampling():
    output = run("--standard", "ISO 9001", "--personnel", "20", "--sites", "10",
                 "--no-sampling")
    assert "initial 10, surveillance 3, recertification 10" in output


def test_quick_form_iso_50001_reports_the_missing_table():
    output = run("--standard", "ISO 50001", "--personnel", "20", "--energy-tj", "100",
                 "--energy-types", "2", "--seus", "5")
    assert "Needs configuration: ISO 50001 audit-day table (ISO 50003) not configured" in output
    assert "medium (1.15)" in output


def test_stage1_share_from_settings(settings):
    settings.AUDIT_TIME_STAGE1_SHARE = "1/5"
    data = json.dumps(INPUT)
    result = json.loads(run_json_stdin(data))
    assert (result["stage1_days"], result["stage2_days"]) == (2.0, 7.0)  # 9/5 = 1.8 -> 2.0
    # An explicit option wins over the setting.
    result = json.loads(run_json_stdin(data, "--stage1-share", "1/3"))
    assert result["stage1_days"] == 3.0


def run_json_stdin(text, *extra):
    old = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        return run("--json", "-", *extra)
    finally:
        sys.stdin = old


def test_bad_stage1_share_setting_is_named(settings):
    settings.AUDIT_TIME_STAGE1_SHARE = "one third"
    with pytest.raises(CommandError) as exc:
        run("--standard", "ISO 9001", "--personnel", "20")
    assert exc.value.returncode == 2
    assert "AUDIT_TIME_STAGE1_SHARE" in str(exc.value)


@pytest.mark.parametrize(("args", "field"), [
    (["--standard", "ISO 14001", "--personnel", "120"], "standards.0.complexity"),
    (["--standard", "ISO 22000", "--personnel", "120"], "standards.0.code"),
    (["--standard", "ISO 9001", "--personnel", "0.5"], "standards.0.effective_personnel"),
    (["--standard", "ISO 9001", "--personnel", "many"], "standards.0.effective_personnel"),
    (["--standard", "ISO 9001"], "standards.0.effective_personnel"),
    (["--standard", "ISO 9001", "--personnel", "5", "--adjust", "ten:x"],
     "adjustments.0.percent"),
    (["--standard", "ISO 9001", "--personnel", "5", "--adjust", "-10"], "adjustments.0"),
    (["--standard", "ISO 9001", "--personnel", "5", "--sites", "-2", "--sampling"],
     "sites.count"),
    (["--standard", "ISO 9001", "--personnel", "5", "--sites", "2"], "sites.sampling_allowed"),
    (["--standard", "ISO 9001", "--personnel", "5", "--stage1-share", "2"], "stage1_share"),
    (["--standard", "ISO 9001", "--personnel", "5", "--stage1-share", "x"], "--stage1-share"),
    (["--json", "/nonexistent/input.json"], "--json"),
    ([], "--json"),
])
def test_bad_input_raises_command_error_with_status_2(args, field):
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert exc.value.returncode == 2
    assert str(exc.value).startswith(f"{field}: ")
    assert "\n" not in str(exc.value)


def test_bad_json_on_stdin_names_the_field(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"standards": [{"code": "ISO 9001", '
                                                  '"effective_personnel": 20}], '
                                                  '"integration_reduction_percent": 10}'))
    with pytest.raises(CommandError) as exc:
        run("--json", "-")
    assert exc.value.returncode == 2
    assert str(exc.value).startswith("integration_reduction_percent: ")


# --- the real console entry point, in a subprocess -----------------------------------------


def test_process_json_from_stdin(tmp_path):
    done = run_process("--json", "-", stdin=json.dumps(INPUT), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["initial_days"] == 9.0
    assert done.stderr == ""


def test_process_quick_form(tmp_path):
    done = run_process("--standard", "ISO 45001", "--personnel", "30", "--complexity", "high",
                       "--adjust", "-10:mature system", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ISO 45001" in done.stdout
    assert "Explanation:" in done.stdout
    assert "Initial audit (stage 1 + 2)       6.5 days" in done.stdout  # 7 x 0.9 = 6.3 -> 6.5


@pytest.mark.parametrize(("args", "stdin", "field"), [
    (["--standard", "ISO 14001", "--personnel", "120"], None, "standards.0.complexity"),
    (["--json", "-"], '{"standards": [', "json"),
    (["--json", "-"], '{"standards": [{"code": "ISO 9001", "effective_personnel": 0}]}',
     "standards.0.effective_personnel"),
    (["--standard", "ISO 9001", "--personnel"], None, "--personnel"),
    (["--standard", "ISO 9001", "--personnel", "5", "--colour"], None, "--colour"),
])
def test_process_bad_input_exits_2_with_one_stderr_line(tmp_path, args, stdin, field):
    done = run_process(*args, stdin=stdin, tmp_path=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert field in lines[0]
