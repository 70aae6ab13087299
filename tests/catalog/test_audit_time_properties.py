"""Properties of the audit-time engine, checked with hypothesis."""

from decimal import Decimal
from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st

from isocert.catalog.audittime import (
    ceil_half_day,
    ceil_k_sqrt,
    compute_audit_time,
    round_half_day,
    sites_to_visit,
)

# (code, complexity) for every table and column shipped; ISO 50001 uses a test table.
TABLE_COLUMNS = [
    ("ISO 9001", None),
    ("ISO/IEC 27001", None),
    *[("ISO 14001", c) for c in ("high", "medium", "low", "limited")],
    *[("ISO 45001", c) for c in ("high", "medium", "low")],
]
# Figures for the tests only (a CB-entered table), NOT ISO 50003's.
TEST_ENMS_TABLE = [
    {"personnel_min": 1, "personnel_max": 30, "high": 4, "medium": 3, "low": 2},
    {"personnel_min": 31, "personnel_max": 200, "high": 6, "medium": 5, "low": 3.5},
    {"personnel_min": 201, "personnel_max": None, "high": 9, "medium": 7, "low": 5},
]

# Effective personnel from 1 to past the last band (10700), with up to two decimals.
personnel = st.decimals(min_value=1, max_value=20000, places=2, allow_nan=False,
                        allow_infinity=False)
percent = st.decimals(min_value=-40, max_value=40, places=1, allow_nan=False,
                      allow_infinity=False)
adjustments = st.lists(st.builds(lambda p, r: {"reason": r, "percent": p}, percent,
                                 st.sampled_from(["mature system", "languages", "low risk",
                                                  "complex processes"])),
                       max_size=5)

# No timing flakiness on a slow machine (.hypothesis/ gitignores itself).
QUIET = {"deadline": None}

DAY_KEYS = ("initial_days", "stage1_days", "stage2_days", "surveillance_days",
            "recertification_days", "min_onsite_days")


def standard(code, complexity, people, energy=(100, 2, 5)):
    entry = {"code": code, "effective_personnel": people}
    if complexity:
        entry["complexity"] = complexity
    if code == "ISO 50001":
        entry.update(annual_energy_consumption_tj=energy[0], energy_types=energy[1],
                     significant_energy_uses=energy[2])
    return entry


@settings(max_examples=60, **QUIET)
@given(column=st.sampled_from(TABLE_COLUMNS), a=personnel, b=personnel, adjust=adjustments)
def test_days_never_decrease_as_personnel_grows(column, a, b, adjust):
    code, complexity = column
    low, high = sorted((a, b))
    small = compute_audit_time({"standards": [standard(code, complexity, low)],
                                "adjustments": adjust})
    large = compute_audit_time({"standards": [standard(code, complexity, high)],
                                "adjustments": adjust})
    assert small["standards"][0]["table_days"] <= large["standards"][0]["table_days"]
    assert small["standards"][0]["adjusted_days"] <= large["standards"][0]["adjusted_days"]
    for key in ("initial_days", "surveillance_days", "recertification_days",
                "min_onsite_days"):
        assert small[key] <= large[key], key


@settings(max_examples=40, **QUIET)
@given(a=personnel, b=personnel,
       energy=st.tuples(st.integers(1, 5000), st.integers(1, 6), st.integers(1, 25)))
def test_enms_days_never_decrease_as_personnel_grows(a, b, energy):
    low, high = sorted((a, b))
    results = [compute_audit_time({"standards": [standard("ISO 50001", None, p, energy)]},
                                  enms_days_table=TEST_ENMS_TABLE) for p in (low, high)]
    assert results[0]["standards"][0]["table_days"] <= results[1]["standards"][0]["table_days"]
    assert results[0]["initial_days"] <= results[1]["initial_days"]


standards_strategy = st.lists(
    st.sampled_from(TABLE_COLUMNS + [("ISO 50001", None)]),
    min_size=1, max_size=5, unique_by=lambda c: c[0],
).flatmap(lambda cols: st.tuples(
    st.just(cols), st.lists(personnel, min_size=len(cols), max_size=len(cols))))


@settings(max_examples=60, **QUIET)
@given(chosen=standards_strategy, data=st.data(), adjust=adjustments,
       integration=st.decimals(min_value=0, max_value=20, places=1))
def test_result_does_not_depend_on_the_order_of_standards(chosen, data, adjust, integration):
    columns, people = chosen
    entries = [standard(code, complexity, p) for (code, complexity), p in zip(columns, people,
                                                                                strict=True)]
    shuffled = data.draw(st.permutations(entries))
    top = {"adjustments": adjust}
    if len(entries) > 1:
        top["integration_reduction_percent"] = integration
    first = compute_audit_time({"standards": entries, **top}, enms_days_table=TEST_ENMS_TABLE)
    second = compute_audit_time({"standards": shuffled, **top}, enms_days_table=TEST_ENMS_TABLE)
    assert first == second


@settings(max_examples=60, **QUIET)
@given(chosen=standards_strategy, adjust=adjustments, data=st.data())
def test_result_does_not_depend_on_the_order_of_adjustments(chosen, adjust, data):
    columns, people = chosen
    entries = [standard(code, complexity, p) for (code, complexity), p in zip(columns, people,
                                                                                strict=True)]
    shuffled = data.draw(st.permutations(adjust))
    first = compute_audit_time({"standards": entries, "adjustments": adjust})
    second = compute_audit_time({"standards": entries, "adjustments": shuffled})
    # The explanation lists the adjustments in the order given; every figure is the same.
    first.pop("explanation")
    second.pop("explanation")
    assert first == second


@settings(max_examples=80, **QUIET)
@given(chosen=standards_strategy, adjust=adjustments,
       share=st.fractions(min_value=Fraction(1, 10), max_value=Fraction(9, 10)))
def test_invariants_of_the_result(chosen, adjust, share):
    columns, people = chosen
    entries = [standard(code, complexity, p) for (code, complexity), p in zip(columns, people,
                                                                                strict=True)]
    result = compute_audit_time({"standards": entries, "adjustments": adjust},
                                stage1_share=share, enms_days_table=TEST_ENMS_TABLE)
    assert result["net_adjustment_percent"] >= -30
    for entry in result["standards"]:
        assert entry["adjusted_days"] >= entry["table_days"] * 0.7 - 1e-9
    for key in DAY_KEYS:
        assert (Fraction(result[key]) * 2).denominator == 1, key  # whole half days
    assert result["stage1_days"] + result["stage2_days"] == result["initial_days"]
    assert result["min_onsite_days"] <= result["initial_days"]
    # Not less than 80 % of the audit time (IAF MD 5 / IAF MD 11), and the smallest half
    # day that is: half a day less would fall below the share.
    initial, onsite = Fraction(result["initial_days"]), Fraction(result["min_onsite_days"])
    assert onsite >= initial * Fraction(4, 5)
    assert onsite - Fraction(1, 2) < initial * Fraction(4, 5)
    assert result["surveillance_days"] <= result["recertification_days"]
    assert result["recertification_days"] <= result["initial_days"]


@settings(**QUIET)
@given(st.fractions(min_value=0, max_value=10000))
def test_round_half_day_is_nearest_with_ties_up(value):
    rounded = round_half_day(value)
    assert (rounded * 2).denominator == 1
    assert -Fraction(1, 4) < rounded - value <= Fraction(1, 4)


@settings(**QUIET)
@given(st.fractions(min_value=0, max_value=10000))
def test_ceil_half_day_is_the_least_half_day_not_below(value):
    rounded = ceil_half_day(value)
    assert (rounded * 2).denominator == 1
    assert value <= rounded < value + Fraction(1, 2)


@settings(**QUIET)
@given(k=st.sampled_from([Fraction(1), Fraction(3, 5), Fraction(4, 5), Fraction(3, 10)]),
       x=st.integers(0, 10**9) | st.integers(1, 10**9).map(lambda m: m * m + 1)
       | st.integers(1, 10**9).map(lambda m: 25 * m * m))
@example(k=Fraction(1), x=10**16 + 1)  # a float square root gets this one wrong
def test_ceil_k_sqrt_is_the_least_n_with_n_squared_at_least_k2x(k, x):
    n = ceil_k_sqrt(k, x)
    assert n * n >= k * k * x
    assert n == 0 or (n - 1) ** 2 < k * k * x


@settings(**QUIET)
@given(x=st.integers(0, 10**6), sampling=st.booleans())
def test_sites_to_visit_never_exceed_the_sites(x, sampling):
    visits = sites_to_visit(x, sampling)
    assert visits["central_function"] is True
    assert visits["surveillance"] <= visits["recertification"] <= visits["initial"] <= x
    if x:
        assert visits["surveillance"] >= 1


@settings(**QUIET)
@given(value=st.decimals(min_value=1, max_value=500, places=3))
def test_number_types_give_the_same_result(value):
    forms = [value, str(value), float(str(value))]
    results = [compute_audit_time({"standards": [standard("ISO 9001", None, f)]})
               for f in forms]
    assert results[0] == results[1] == results[2]
    assert isinstance(value, Decimal)
