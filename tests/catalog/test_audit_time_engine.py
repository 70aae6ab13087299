"""The audit-time engine (pure functions): tables, adjustments, integration, rounding, sites.

Expected values are written out by hand from the reference tables, never read
back from the data file, so a wrong table or a wrong lookup makes these fail.
"""

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from isocert.catalog.audittime import (
    TABLES_PATH,
    AuditTimeInputError,
    ceil_half_day,
    ceil_k_sqrt,
    compute_audit_time,
    enms_complexity,
    load_audit_time_json,
    round_half_day,
    sites_to_visit,
)

SHARED_REFERENCE = Path("/work/shared/reference/audit-time-tables.json")

# Figures for the tests only: a made-up CB-entered ISO 50003 table, NOT ISO 50003's.
TEST_ENMS_TABLE = [
    {"personnel_min": 1, "personnel_max": 30, "high": 4, "medium": 3, "low": 2},
    {"personnel_min": 31, "personnel_max": None, "high": "6.5", "medium": "5", "low": "3.5"},
]


def one(code, personnel, **extra):
    return {"standards": [{"code": code, "effective_personnel": personnel, **extra}]}


def enms(personnel=20, tj=100, types=2, seus=5):
    return {"code": "ISO 50001", "effective_personnel": personnel,
            "annual_energy_consumption_tj": tj, "energy_types": types,
            "significant_energy_uses": seus}


def table_days(code, personnel, complexity=None):
    extra = {"complexity": complexity} if complexity else {}
    return compute_audit_time(one(code, personnel, **extra))["standards"][0]["table_days"]


# --- data file ---------------------------------------------------------------------------


def test_packaged_tables_are_a_copy_of_the_shared_reference():
    if not SHARED_REFERENCE.exists():
        pytest.skip("shared reference not available outside the workspace")
    assert json.loads(TABLES_PATH.read_text()) == json.loads(SHARED_REFERENCE.read_text())


def test_packaged_tables_live_inside_the_package():
    assert TABLES_PATH.parent.name == "data"
    assert TABLES_PATH.parent.parent.name == "catalog"


# --- step 1: band edges of every table ----------------------------------------------------


@pytest.mark.parametrize(("personnel", "days"), [
    (1, 1.5), (5, 1.5), (6, 2), (10, 2), (11, 2.5), (15, 2.5), (16, 3), (25, 3), (26, 4),
    (45, 4), (46, 5), (125, 7), (126, 8), (1175, 13), (1176, 14), (6800, 20), (6801, 21),
    (8500, 21), (8501, 22), (10700, 22),
    # above the last band: through (8500, 21) and (10700, 22), i.e. +1 day per 2200 persons
    (11800, 22.5), (12900, 23), (15100, 24),
])
def test_qms_band_edges(personnel, days):
    assert table_days("ISO 9001", personnel) == days


@pytest.mark.parametrize(("personnel", "days"), [
    (1, 5), (10, 5), (11, 6), (15, 6), (16, 7), (25, 7), (26, 8.5), (45, 8.5), (46, 10),
    (425, 15), (426, 16.5), (1550, 19.5), (1551, 21), (8500, 27), (8501, 28), (10700, 28),
    # through (8500, 27) and (10700, 28)
    (11800, 28.5), (12900, 29),
])
def test_isms_band_edges(personnel, days):
    assert table_days("ISO/IEC 27001", personnel) == days


@pytest.mark.parametrize(("personnel", "high", "medium", "low"), [
    (1, 3, 2.5, 2.5), (5, 3, 2.5, 2.5), (6, 3.5, 3, 3), (10, 3.5, 3, 3), (11, 4.5, 3.5, 3),
    (86, 11, 8, 5.5), (125, 11, 8, 5.5), (126, 12, 9, 6), (875, 17, 13, 10),
    (876, 19, 15, 11), (8500, 32, 25, 19), (8501, 34, 27, 20), (10700, 34, 27, 20),
    # high through (8500, 32), (10700, 34); medium (25, 27); low (19, 20)
    (11800, 35, 28, 20.5), (12900, 36, 29, 21),
])
def test_ohsms_band_edges(personnel, high, medium, low):
    for complexity, days in (("high", high), ("medium", medium), ("low", low)):
        assert table_days("ISO 45001", personnel, complexity) == days, complexity


@pytest.mark.parametrize(("personnel", "high", "medium", "low", "limited"), [
    (1, 3, 2.5, 2.5, 2.5), (5, 3, 2.5, 2.5, 2.5), (6, 3.5, 3, 3, 3), (25, 5.5, 4.5, 3.5, 3),
    (26, 7, 5.5, 4, 3), (45, 7, 5.5, 4, 3), (46, 8, 6, 4.5, 3.5), (626, 17, 13, 10, 6.5),
    (875, 17, 13, 10, 6.5), (876, 19, 15, 11, 7), (8500, 32, 25, 19, 13),
    (8501, 34, 27, 20, 14), (10700, 34, 27, 20, 14),
    # limited through (8500, 13) and (10700, 14)
    (11800, 35, 28, 20.5, 14.5),
])
def test_ems_band_edges(personnel, high, medium, low, limited):
    for complexity, days in (("high", high), ("medium", medium), ("low", low),
                             ("limited", limited)):
        assert table_days("ISO 14001", personnel, complexity) == days, complexity


def test_just_above_the_last_band_continues_the_progression():
    result = compute_audit_time(one("ISO 9001", 10701))
    assert result["standards"][0]["table_days"] == pytest.approx(22 + 1 / 2200)
    assert result["standards"][0]["table_days"] > 22
    assert result["initial_days"] == 22.0
    assert any("continued linearly through (8500, 21 days) and (10700, 22 days)" in s
               for s in result["explanation"])


def test_fractional_personnel_is_rounded_up_for_the_lookup():
    assert table_days("ISO 9001", 5.01) == 2  # 6 persons: band 6-10
    assert table_days("ISO 9001", "25.5") == 4  # 26 persons: band 26-45
    assert table_days("ISO 9001", 10700.2) == pytest.approx(22 + 1 / 2200)
    result = compute_audit_time(one("ISO 9001", "5.5"))
    assert any("rounded up to 6 persons" in s for s in result["explanation"])


def test_numbers_arrive_as_int_float_str_or_decimal():
    results = [compute_audit_time(one("ISO 14001", p, complexity="high"))
               for p in (120, 120.0, "120", Decimal("120"))]
    assert all(r == results[0] for r in results)


def test_complexity_is_case_insensitive_and_reported():
    result = compute_audit_time(one("ISO 45001", 30, complexity=" High "))
    assert result["standards"][0] == {"code": "ISO 45001", "complexity": "high",
                                      "table_days": 7.0, "adjusted_days": 7.0}


def test_standards_without_complexity_have_no_complexity_key():
    entry = compute_audit_time(one("ISO 9001", 30))["standards"][0]
    assert set(entry) == {"code", "table_days", "adjusted_days"}


def test_code_alias_for_27001():
    assert compute_audit_time(one("iso 27001", 12))["standards"][0]["code"] == "ISO/IEC 27001"


def test_disputed_ems_cell_is_flagged():
    result = compute_audit_time(one("ISO 14001", 700, complexity="limited"))
    assert result["standards"][0]["table_days"] == 6.5
    assert any("disagree" in s and "6.5 or 6" in s for s in result["explanation"])
    other = compute_audit_time(one("ISO 14001", 700, complexity="low"))
    assert not any("disagree" in s for s in other["explanation"])


def test_explanation_names_the_table():
    result = compute_audit_time(one("ISO 14001", 120, complexity="medium"))
    assert result["explanation"][0] == (
        "ISO 14001: 120 persons fall in the 86-125 band of IAF MD 5:2019 Table EMS 1, "
        "complexity medium: 8 days."
    )


# --- part-time staff ------------------------------------------------------------------------


def test_part_time_ten_people_four_hours_are_five_fte():
    data = one("ISO 9001", 20, part_time=[{"headcount": 10, "hours_per_day": 4}])
    result = compute_audit_time(data)
    assert result["standards"][0]["table_days"] == 3  # 25 persons: band 16-25
    assert any("10 x 4 h / 8 h = 5 FTE, giving 25 effective personnel" in s
               for s in result["explanation"])


def test_part_time_crossing_a_band_edge():
    # 20 + 10 x 4.8 / 8 = 26 persons: band 26-45, 4 days
    data = one("ISO 9001", 20, part_time=[{"headcount": 10, "hours_per_day": "4.8"}])
    assert compute_audit_time(data)["standards"][0]["table_days"] == 4


def test_several_part_time_groups_add_up_and_round_up():
    # 20 + 3 x 2 / 8 + 1 x 1 / 8 = 20.875 -> 21 persons (band 16-25)
    data = one("ISO 9001", 20, part_time=[{"headcount": 3, "hours_per_day": 2},
                                          {"headcount": 1, "hours_per_day": 1}])
    result = compute_audit_time(data)
    assert result["standards"][0]["table_days"] == 3
    assert any("rounded up to 21 persons" in s for s in result["explanation"])


def test_part_time_24_hours_is_the_limit():
    data = one("ISO 9001", 1, part_time=[{"headcount": 1, "hours_per_day": 24}])
    assert compute_audit_time(data)["standards"][0]["table_days"] == 1.5  # 4 persons


# --- step 2: adjustments and the 30 % cap -------------------------------------------------


def test_net_reduction_is_capped_at_30_percent():
    data = one("ISO 9001", 20)  # 3 days
    data["adjustments"] = [{"reason": "mature system", "percent": -20},
                           {"reason": "low risk", "percent": -15}]
    result = compute_audit_time(data)
    assert result["net_adjustment_percent"] == -30.0
    assert result["standards"][0]["adjusted_days"] == pytest.approx(2.1)
    assert result["initial_days"] == 2.0  # 2.1 -> 2.0
    assert any("together -35 %" in s and "capped at -30 %" in s for s in result["explanation"])


def test_exactly_30_percent_is_not_reported_as_capped():
    data = one("ISO 9001", 20)
    data["adjustments"] = [{"reason": "mature system", "percent": -20},
                           {"reason": "low risk", "percent": -10}]
    result = compute_audit_time(data)
    assert result["net_adjustment_percent"] == -30.0
    assert not any("capped" in s for s in result["explanation"])


def test_increases_are_not_capped():
    data = one("ISO 9001", 20)  # 3 days
    data["adjustments"] = [{"reason": "several languages", "percent": 10},
                           {"reason": "complex processes", "percent": "15"}]
    result = compute_audit_time(data)
    assert result["net_adjustment_percent"] == 25.0
    assert result["standards"][0]["adjusted_days"] == 3.75
    assert result["initial_days"] == 4.0  # 3.75 -> 4.0 (tie upward)


def test_net_adjustment_is_the_sum_of_the_percents():
    data = one("ISO 9001", 30)  # 4 days
    data["adjustments"] = [{"reason": "mature system", "percent": -10},
                           {"reason": "several languages", "percent": 10}]
    result = compute_audit_time(data)
    assert result["net_adjustment_percent"] == 0.0
    assert result["initial_days"] == 4.0


def test_float_noise_in_percents_does_not_matter():
    # In binary floats 0.1 + 0.2 - 0.3 != 0; through Decimal(str(x)) it is exactly 0.
    data = one("ISO 9001", 30)
    data["adjustments"] = [{"reason": "a", "percent": 0.1}, {"reason": "b", "percent": 0.2},
                           {"reason": "c", "percent": -0.3}]
    result = compute_audit_time(data)
    assert result["net_adjustment_percent"] == 0.0
    assert result["standards"][0]["adjusted_days"] == 4.0


def test_adjustment_applies_to_every_standard():
    data = {"standards": [{"code": "ISO 9001", "effective_personnel": 20},
                          {"code": "ISO 14001", "effective_personnel": 120,
                           "complexity": "medium"}],
            "adjustments": [{"reason": "mature system", "percent": -10}]}
    result = compute_audit_time(data)
    assert [s["adjusted_days"] for s in result["standards"]] == [2.7, 7.2]
    assert result["initial_days"] == 10.0  # 9.9 -> 10.0


# --- step 3: integration ------------------------------------------------------------------


def two_standards(**top):
    # ISO 9001 with 20 persons: 3 days; ISO 14001 with 120 persons, medium: 8 days.
    return {"standards": [{"code": "ISO 9001", "effective_personnel": 20},
                          {"code": "ISO 14001", "effective_personnel": 120,
                           "complexity": "medium"}], **top}


def test_integration_reduction_of_20_percent():
    result = compute_audit_time(two_standards(integration_reduction_percent=20))
    assert result["integration_reduction_percent"] == 20.0
    assert result["initial_days"] == 9.0  # 11 x 0.8 = 8.8 -> 9.0
    assert any("IAF MD 11" in s and "= 8.8 days" in s for s in result["explanation"])


def test_no_integration_reduction_sums_the_standards():
    result = compute_audit_time(two_standards())
    assert result["integration_reduction_percent"] == 0.0
    assert result["initial_days"] == 11.0
    assert "Sum over the standards: 3 + 8 = 11 days." in result["explanation"]


def test_md5_cap_then_md11_reduction_combine_to_44_percent():
    data = two_standards(integration_reduction_percent=20,
                         adjustments=[{"reason": "mature system", "percent": -40}])
    result = compute_audit_time(data)
    assert result["net_adjustment_percent"] == -30.0
    assert result["initial_days"] == 6.0  # 11 x 0.7 x 0.8 = 6.16 -> 6.0


@pytest.mark.parametrize("percent", [20.5, "20.5", 21, -1])
def test_integration_out_of_range_is_refused(percent):
    with pytest.raises(AuditTimeInputError) as exc:
        compute_audit_time(two_standards(integration_reduction_percent=percent))
    assert exc.value.field == "integration_reduction_percent"


def test_integration_with_one_standard_is_refused():
    data = one("ISO 9001", 20)
    data["integration_reduction_percent"] = 10
    with pytest.raises(AuditTimeInputError) as exc:
        compute_audit_time(data)
    assert exc.value.field == "integration_reduction_percent"


def test_zero_integration_with_one_standard_is_harmless():
    data = one("ISO 9001", 20)
    data["integration_reduction_percent"] = 0
    assert compute_audit_time(data)["initial_days"] == 3.0


# --- step 4: rounding and derived times -------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("4.25", "4.5"), ("4.75", "5"), ("4.1", "4"), ("4.24", "4"), ("4.26", "4.5"),
    ("4.5", "4.5"), ("4.74", "4.5"), ("0.25", "0.5"), ("0", "0"), ("1/3", "0.5"),
])
def test_round_half_day(value, expected):
    assert round_half_day(Fraction(value)) == Fraction(expected)


@pytest.mark.parametrize(("percent", "initial"), [
    (6.25, 4.5),  # 4 x 1.0625 = 4.25 -> 4.5 (tie upward)
    (18.75, 5.0),  # 4.75 -> 5.0 (tie upward)
    (2.5, 4.0),  # 4.1 -> 4.0
    ("-1.25", 4.0),  # 3.95 -> 4.0
])
def test_rounding_ties_in_the_engine(percent, initial):
    data = one("ISO 9001", 30)  # 4 days
    data["adjustments"] = [{"reason": "test", "percent": percent}]
    assert compute_audit_time(data)["initial_days"] == initial


def test_stage_split_and_derived_times():
    result = compute_audit_time(two_standards(integration_reduction_percent=20))  # 9 days
    assert result["initial_days"] == 9.0
    assert result["stage1_days"] == 3.0
    assert result["stage2_days"] == 6.0
    assert result["surveillance_days"] == 3.0
    assert result["recertification_days"] == 6.0
    assert result["min_onsite_days"] == 7.5  # 7.2 -> 7.5: never below 80 %


def test_derived_times_round_to_half_days():
    result = compute_audit_time(one("ISO 45001", 20, complexity="medium"))  # 4.5 days
    assert result["initial_days"] == 4.5
    assert result["stage1_days"] == 1.5  # 1.5
    assert result["stage2_days"] == 3.0
    assert result["surveillance_days"] == 1.5  # 1.5
    assert result["recertification_days"] == 3.0  # 3.0
    assert result["min_onsite_days"] == 4.0  # 3.6 -> 4.0: never below 80 %


# Initial days -> (input, minimum on-site days). The minimum on-site time is not less than
# 80 % of the audit time (IAF MD 5 / IAF MD 11): rounded UP to the next half day, where the
# nearest half day gave 3.0 (75 %) for 4 days and 7.0 for 9.
ONSITE_EXAMPLES = [
    (one("ISO 9001", 30), 4.0, 3.5),  # 3.2 -> 3.5
    (one("ISO 9001", 125), 7.0, 6.0),  # 5.6 -> 6.0
    ({**one("ISO 9001", 126), "adjustments": [{"reason": "languages", "percent": "12.5"}]},
     9.0, 7.5),  # 8 x 1.125 = 9; 7.2 -> 7.5
    ({**one("ISO 9001", 1176), "adjustments": [{"reason": "languages", "percent": 4}]},
     14.5, 12.0),  # 14 x 1.04 = 14.56 -> 14.5; 11.6 -> 12.0
]


@pytest.mark.parametrize(("data", "initial", "onsite"), ONSITE_EXAMPLES,
                         ids=[str(i) for _, i, _ in ONSITE_EXAMPLES])
def test_minimum_on_site_time_is_80_percent_rounded_up(data, initial, onsite):
    result = compute_audit_time(data)
    assert result["initial_days"] == initial
    assert result["min_onsite_days"] == onsite
    assert result["min_onsite_days"] >= 0.8 * initial


def test_the_explanation_shows_the_on_site_rounding():
    result = compute_audit_time(one("ISO 9001", 30))  # 4 days
    assert result["explanation"][-1] == (
        "Minimum on-site time (IAF MD 5 / IAF MD 11, not less than 80 % of the audit time): "
        "80 % of 4 days = 3.2 days, rounded up to the next half day = 3.5 days.")


@pytest.mark.parametrize(("value", "expected"), [
    (Fraction(0), 0), (Fraction(1, 10), Fraction(1, 2)), (Fraction(1, 2), Fraction(1, 2)),
    (Fraction(16, 5), Fraction(7, 2)), (Fraction(7, 2), Fraction(7, 2)),
    (Fraction(36, 5), Fraction(15, 2)), (Fraction(58, 5), 12), (Fraction(6), 6),
])
def test_ceil_half_day(value, expected):
    assert ceil_half_day(value) == expected


def test_stage1_share_parameter():
    data = two_standards(integration_reduction_percent=20)  # 9 days
    result = compute_audit_time(data, stage1_share=Fraction(1, 5))
    assert (result["stage1_days"], result["stage2_days"]) == (2.0, 7.0)  # 1.8 -> 2.0
    assert any("Stage 1 = 1/5 of 9 days" in s for s in result["explanation"])


def test_stage1_share_rounding_keeps_the_total():
    result = compute_audit_time(one("ISO 9001", 100))  # 7 days
    assert result["stage1_days"] == 2.5  # 7/3 = 2.33 -> 2.5
    assert result["stage2_days"] == 4.5
    assert result["stage1_days"] + result["stage2_days"] == result["initial_days"]


@pytest.mark.parametrize("share", [Fraction(0), Fraction(1), Fraction(3, 2), "abc", "1/0"])
def test_bad_stage1_share(share):
    with pytest.raises(AuditTimeInputError) as exc:
        compute_audit_time(one("ISO 9001", 20), stage1_share=share)
    assert exc.value.field == "stage1_share"


# --- step 5: ISO 50003 complexity and the CB-entered day table ----------------------------


@pytest.mark.parametrize(("tj", "types", "seus", "score", "category"), [
    # 100 TJ -> F_EC 1.2, 2 types -> F_ET 1.0, 5 SEUs -> F_SEU 1.2:
    # 0.3 + 0.25 + 0.6 = 1.15 exactly -> medium (lower bound inclusive)
    (100, 2, 5, Fraction(115, 100), "medium"),
    # 20 TJ -> F_EC 1.0 (a value equal to a max is in that band), 2 -> 1.0, 5 -> 1.2:
    # 0.25 + 0.25 + 0.6 = 1.1 -> low
    (20, 2, 5, Fraction(110, 100), "low"),
    # 20.001 TJ -> F_EC 1.2: back to 1.15 -> medium
    ("20.001", 2, 5, Fraction(115, 100), "medium"),
    # 2000 TJ -> F_EC 1.4, 4 types -> F_ET 1.4, 8 SEUs -> F_SEU 1.3:
    # 0.35 + 0.35 + 0.65 = 1.35 exactly -> medium (upper bound inclusive)
    (2000, 4, 8, Fraction(135, 100), "medium"),
    # 10 TJ -> 1.0, 3 types -> 1.2, 16 SEUs -> 1.6: 0.25 + 0.3 + 0.8 = 1.35 -> medium
    (10, 3, 16, Fraction(135, 100), "medium"),
    # 2000.5 TJ -> F_EC 1.6, 4 -> 1.4, 8 -> 1.3: 0.4 + 0.35 + 0.65 = 1.4 -> high
    ("2000.5", 4, 8, Fraction(140, 100), "high"),
    # 1 TJ, 1 type, 1 SEU: all 1.0 -> C = 1.0 -> low
    (1, 1, 1, Fraction(1), "low"),
    # 5000 TJ -> 1.6, 5 types -> 1.4, 20 SEUs -> 1.6: 0.4 + 0.35 + 0.8 = 1.55 -> high
    (5000, 5, 20, Fraction(155, 100), "high"),
])
def test_iso_50003_complexity(tj, types, seus, score, category):
    computed, computed_category, _ = enms_complexity(Fraction(Decimal(str(tj))), types, seus)
    assert computed == score
    assert computed_category == category
    result = compute_audit_time({"standards": [enms(tj=tj, types=types, seus=seus)]})
    entry = result["standards"][0]
    assert entry["complexity"] == category
    assert entry["complexity_score"] == float(score)


def test_enms_without_a_day_table_gives_no_days_and_says_so():
    result = compute_audit_time({"standards": [enms()]})
    assert result["standards"][0]["table_days"] is None
    assert result["standards"][0]["adjusted_days"] is None
    assert result["standards"][0]["complexity"] == "medium"
    assert result["needs_configuration"] == [
        "ISO 50001 audit-day table (ISO 50003) not configured"]
    for key in ("initial_days", "stage1_days", "stage2_days", "surveillance_days",
                "recertification_days", "min_onsite_days"):
        assert result[key] is None
    json.dumps(result)


def test_enms_unconfigured_totals_cover_the_other_standards_only():
    data = {"standards": [enms(), {"code": "ISO 9001", "effective_personnel": 20}]}
    result = compute_audit_time(data)
    assert result["initial_days"] == 3.0
    assert len(result["needs_configuration"]) == 1
    assert any("other standards only" in s for s in result["explanation"])


def test_integration_is_not_applied_to_a_single_known_standard():
    data = {"standards": [enms(), {"code": "ISO 9001", "effective_personnel": 20}],
            "integration_reduction_percent": 10}
    result = compute_audit_time(data)
    assert result["initial_days"] == 3.0
    assert result["integration_reduction_percent"] == 0.0
    assert any("is not applied" in s for s in result["explanation"])


def test_enms_with_a_configured_table():
    data = {"standards": [enms(personnel=40), {"code": "ISO 9001", "effective_personnel": 20}],
            "integration_reduction_percent": 10}
    result = compute_audit_time(data, enms_days_table=TEST_ENMS_TABLE)
    enms_entry = next(s for s in result["standards"] if s["code"] == "ISO 50001")
    assert enms_entry["table_days"] == 5.0  # row 31+, medium
    assert result["needs_configuration"] == []
    assert result["initial_days"] == 7.0  # (5 + 3) x 0.9 = 7.2 -> 7.0
    assert any("CB" in s or "certification body's" in s for s in result["explanation"])


def test_enms_table_row_missing_for_the_personnel():
    table = [{"personnel_min": 1, "personnel_max": 10, "high": 2, "medium": 1.5, "low": 1}]
    result = compute_audit_time({"standards": [enms(personnel=50)]}, enms_days_table=table)
    assert result["standards"][0]["table_days"] is None
    assert result["needs_configuration"] == [
        "ISO 50001 audit-day table (ISO 50003) not configured for 50 effective personnel"]


def test_bad_enms_table_is_named():
    table = [{"personnel_min": 1, "personnel_max": 10, "high": "x", "medium": 1, "low": 1}]
    with pytest.raises(AuditTimeInputError) as exc:
        compute_audit_time({"standards": [enms()]}, enms_days_table=table)
    assert exc.value.field == "enms_days_table.0.high"


# --- step 6: IAF MD 1 sites ----------------------------------------------------------------

# Hand-computed: sqrt(2) = 1.414, sqrt(10) = 3.162, sqrt(50) = 7.071.
MD1_SAMPLING = [
    # x, initial ceil(sqrt x), surveillance ceil(0.6 sqrt x), recertification ceil(0.8 sqrt x)
    (1, 1, 1, 1),  # 1, 0.6, 0.8
    (2, 2, 1, 2),  # 1.414, 0.849, 1.131
    (4, 2, 2, 2),  # 2, 1.2, 1.6
    (10, 4, 2, 3),  # 3.162, 1.897, 2.530
    (25, 5, 3, 4),  # 5, 3 exactly, 4 exactly
    (50, 8, 5, 6),  # 7.071, 4.243, 5.657
    (100, 10, 6, 8),  # 10, 6 exactly, 8 exactly
]
MD1_NO_SAMPLING = [
    # x, initial x, surveillance ceil(0.3 x), recertification x
    (1, 1, 1, 1), (2, 2, 1, 2), (4, 4, 2, 4), (10, 10, 3, 10), (25, 25, 8, 25),
    (50, 50, 15, 50), (100, 100, 30, 100),
]


@pytest.mark.parametrize(("x", "initial", "surveillance", "recertification"), MD1_SAMPLING)
def test_md1_with_sampling(x, initial, surveillance, recertification):
    data = one("ISO 9001", 20)
    data["sites"] = {"count": x, "sampling_allowed": True}
    assert compute_audit_time(data)["sites_to_visit"] == {
        "initial": initial, "surveillance": surveillance, "recertification": recertification,
        "central_function": True}


@pytest.mark.parametrize(("x", "initial", "surveillance", "recertification"), MD1_NO_SAMPLING)
def test_md1_without_sampling(x, initial, surveillance, recertification):
    data = one("ISO 9001", 20)
    data["sites"] = {"count": str(x), "sampling_allowed": False}
    assert compute_audit_time(data)["sites_to_visit"] == {
        "initial": initial, "surveillance": surveillance, "recertification": recertification,
        "central_function": True}


def test_md1_zero_sites_is_the_central_function_only():
    assert sites_to_visit(0, True) == {"initial": 0, "surveillance": 0, "recertification": 0,
                                       "central_function": True}


def test_ceil_k_sqrt_is_exact():
    # Floats give 0.6 * sqrt(25) = 3.0000000000000004 -> ceil 4; exact arithmetic gives 3.
    assert ceil_k_sqrt(Fraction(3, 5), 25) == 3
    assert ceil_k_sqrt(Fraction(4, 5), 100) == 8
    assert ceil_k_sqrt(Fraction(1), 10**12) == 10**6
    # sqrt(10**16 + 1) = 10**8 + 5e-9: a float square root returns exactly 10**8.
    assert ceil_k_sqrt(Fraction(1), 10**16 + 1) == 10**8 + 1
    # 0.6 * sqrt(25 * 10**16 + 1) is just above 3 * 10**8.
    assert ceil_k_sqrt(Fraction(3, 5), 25 * 10**16 + 1) == 3 * 10**8 + 1
    assert ceil_k_sqrt(Fraction(3, 5), 25 * 10**16) == 3 * 10**8
    assert sites_to_visit(10**16 + 1, True)["initial"] == 10**8 + 1


def test_no_sites_key_without_sites():
    assert "sites_to_visit" not in compute_audit_time(one("ISO 9001", 20))


def test_sites_explanation():
    data = one("ISO 9001", 20)
    data["sites"] = {"count": 10, "sampling_allowed": False}
    assert any("IAF MD 1" in s and "central function" in s
               for s in compute_audit_time(data)["explanation"])


# --- output shape -------------------------------------------------------------------------


def test_result_is_json_ready_with_float_days():
    data = two_standards(integration_reduction_percent=5,
                         adjustments=[{"reason": "mature", "percent": Decimal("-7.5")}],
                         sites={"count": 3, "sampling_allowed": True})
    result = compute_audit_time(data)
    assert json.loads(json.dumps(result)) == result
    assert set(result) == {
        "standards", "net_adjustment_percent", "integration_reduction_percent", "initial_days",
        "stage1_days", "stage2_days", "surveillance_days", "recertification_days",
        "min_onsite_days", "sites_to_visit", "needs_configuration", "explanation"}
    for key in ("initial_days", "stage1_days", "stage2_days", "surveillance_days",
                "recertification_days", "min_onsite_days", "net_adjustment_percent"):
        assert type(result[key]) is float, key
    assert all(isinstance(s, str) and s for s in result["explanation"])


def test_standards_come_back_in_catalog_order():
    data = {"standards": [enms(), {"code": "ISO 45001", "effective_personnel": 5,
                                   "complexity": "low"},
                          {"code": "ISO 9001", "effective_personnel": 5}]}
    codes = [s["code"] for s in compute_audit_time(data)["standards"]]
    assert codes == ["ISO 9001", "ISO 45001", "ISO 50001"]


# --- bad input: every case names its field ------------------------------------------------


def std(**fields):
    return {"code": "ISO 9001", "effective_personnel": 10, **fields}


BAD_INPUTS = [
    ({"standards": [std(code="ISO 22000")]}, "standards.0.code"),
    ({"standards": [{"effective_personnel": 10}]}, "standards.0.code"),
    ({"standards": [std(code=9001)]}, "standards.0.code"),
    ({"standards": [std(code="ISO 14001")]}, "standards.0.complexity"),
    ({"standards": [std(code="ISO 45001")]}, "standards.0.complexity"),
    ({"standards": [std(code="ISO 45001", complexity="limited")]}, "standards.0.complexity"),
    ({"standards": [std(code="ISO 14001", complexity="extreme")]}, "standards.0.complexity"),
    ({"standards": [std(complexity="high")]}, "standards.0.complexity"),
    ({"standards": [std(), std(code="ISO 27001", effective_personnel=0.5)]},
     "standards.1.effective_personnel"),
    ({"standards": [std(effective_personnel=0)]}, "standards.0.effective_personnel"),
    ({"standards": [std(effective_personnel=-3)]}, "standards.0.effective_personnel"),
    ({"standards": [std(effective_personnel="many")]}, "standards.0.effective_personnel"),
    ({"standards": [std(effective_personnel=None)]}, "standards.0.effective_personnel"),
    ({"standards": [std(effective_personnel=True)]}, "standards.0.effective_personnel"),
    ({"standards": [std(effective_personnel=[10])]}, "standards.0.effective_personnel"),
    ({"standards": [std(effective_personnel="NaN")]}, "standards.0.effective_personnel"),
    ({"standards": [std(effective_personnel="Infinity")]}, "standards.0.effective_personnel"),
    ({"standards": [{"code": "ISO 9001"}]}, "standards.0.effective_personnel"),
    ({"standards": [std(), std(code="ISO 14001", complexity="low")],
      "integration_reduction_percent": 25}, "integration_reduction_percent"),
    ({"standards": [std(), std(code="ISO 14001", complexity="low")],
      "integration_reduction_percent": "lots"}, "integration_reduction_percent"),
    ({"standards": [std()], "integration_reduction_percent": 5}, "integration_reduction_percent"),
    ({"standards": [std()], "adjustments": {"reason": "x", "percent": 5}}, "adjustments"),
    ({"standards": [std()], "adjustments": "-10"}, "adjustments"),
    ({"standards": [std()], "adjustments": [{"reason": "x", "percent": "ten"}]},
     "adjustments.0.percent"),
    ({"standards": [std()], "adjustments": [{"reason": "x", "percent": 5}, {"reason": "y"}]},
     "adjustments.1.percent"),
    ({"standards": [std()], "adjustments": [{"percent": 5}]}, "adjustments.0.reason"),
    ({"standards": [std()], "adjustments": [5]}, "adjustments.0"),
    ({"standards": [std(), std(effective_personnel=20)]}, "standards.1.code"),
    ({"standards": [std(code="ISO/IEC 27001"), std(code="iso 27001")]}, "standards.1.code"),
    ({"standards": [std()], "sites": {"count": -1, "sampling_allowed": True}}, "sites.count"),
    ({"standards": [std()], "sites": {"count": 2.5, "sampling_allowed": True}}, "sites.count"),
    ({"standards": [std()], "sites": {"sampling_allowed": True}}, "sites.count"),
    ({"standards": [std()], "sites": {"count": 3}}, "sites.sampling_allowed"),
    ({"standards": [std()], "sites": {"count": 3, "sampling_allowed": "yes"}},
     "sites.sampling_allowed"),
    ({"standards": [std()], "sites": 3}, "sites"),
    ({"standards": [std(part_time=[{"headcount": 2, "hours_per_day": 0}])]},
     "standards.0.part_time.0.hours_per_day"),
    ({"standards": [std(part_time=[{"headcount": 2, "hours_per_day": 24.5}])]},
     "standards.0.part_time.0.hours_per_day"),
    ({"standards": [std(part_time=[{"headcount": 2, "hours_per_day": 4},
                                   {"headcount": 0, "hours_per_day": 4}])]},
     "standards.0.part_time.1.headcount"),
    ({"standards": [std(part_time=[{"headcount": 1.5, "hours_per_day": 4}])]},
     "standards.0.part_time.0.headcount"),
    ({"standards": [std(part_time=[{"hours_per_day": 4}])]},
     "standards.0.part_time.0.headcount"),
    ({"standards": [std(part_time={"headcount": 1, "hours_per_day": 4})]},
     "standards.0.part_time"),
    ({"standards": [{**enms(), "annual_energy_consumption_tj": None}]},
     "standards.0.annual_energy_consumption_tj"),
    ({"standards": [{**enms(), "annual_energy_consumption_tj": 0}]},
     "standards.0.annual_energy_consumption_tj"),
    ({"standards": [{**enms(), "energy_types": 1.5}]}, "standards.0.energy_types"),
    ({"standards": [{**enms(), "significant_energy_uses": 0}]},
     "standards.0.significant_energy_uses"),
    ({"standards": [{**enms(), "complexity": "high"}]}, "standards.0.complexity"),
    ({"standards": [std(energy_types=2)]}, "standards.0.energy_types"),
    ({"standards": [std(personnel=10)]}, "standards.0.personnel"),
    ({"standards": [std()], "integration": 10}, "integration"),
    ({"standards": []}, "standards"),
    ({}, "standards"),
    ({"standards": "ISO 9001"}, "standards"),
    ({"standards": ["ISO 9001"]}, "standards.0"),
]


@pytest.mark.parametrize(("data", "field"), BAD_INPUTS)
def test_bad_input_names_the_field(data, field):
    with pytest.raises(AuditTimeInputError) as exc:
        compute_audit_time(data)
    assert exc.value.field == field
    assert exc.value.message
    assert str(exc.value).startswith(f"{field}: ")


def test_input_error_is_a_value_error():
    assert issubclass(AuditTimeInputError, ValueError)


def test_input_must_be_an_object():
    with pytest.raises(AuditTimeInputError) as exc:
        compute_audit_time([std()])
    assert exc.value.field == "input"


@pytest.mark.parametrize(("text", "field"), [
    ('{"standards": [', "json"),
    ("", "json"),
    ('{"standards": [{"code": "ISO 9001", "effective_personnel": NaN}]}', "json"),
    ("[1, 2]", "input"),
])
def test_malformed_json(text, field):
    with pytest.raises(AuditTimeInputError) as exc:
        load_audit_time_json(text)
    assert exc.value.field == field


def test_json_decimals_stay_exact():
    data = load_audit_time_json('{"standards": [{"code": "ISO 9001", '
                                '"effective_personnel": 25.0000000000000000001}]}')
    # 25.0000000000000000001 as a float would be 25.0 -> band 16-25; exactly it is 26 persons
    assert compute_audit_time(data)["standards"][0]["table_days"] == 4


def test_engine_imports_nothing_from_django():
    import subprocess
    import sys

    code = ("import sys; import isocert.catalog.audittime as m; "
            "m.compute_audit_time({'standards': [{'code': 'ISO 9001', "
            "'effective_personnel': 3}]}); "
            "print(sorted(n for n in sys.modules if n.split('.')[0] == 'django'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={"PATH": "/usr/bin:/bin"})
    assert done.stdout.strip() == "[]"
