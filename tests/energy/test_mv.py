"""The measurement-and-verification analysis (isocert.energy.mv): worked examples by hand,
the savings uncertainty, every verdict reason, change-point recovery and statsmodels
agreement. Pure: no database."""

import calendar
import datetime
import math

import numpy as np
import pytest
from scipy import stats

from isocert.energy import mv
from isocert.energy.mv import changepoint

MONTHS_2016 = [f"2016-{m:02d}" for m in range(1, 13)]
MONTHS_2017 = [f"2017-{m:02d}" for m in range(1, 13)]
HDD = [10.0 * i for i in range(12)]


def days(start: datetime.date, count: int) -> list[str]:
    return [(start + datetime.timedelta(days=i)).isoformat() for i in range(count)]


def monthly_example(**reporting) -> dict:
    """The module doc's monthly example: E = 1000 + 5·HDD ± 20, then 10 % less."""
    energy = [1000 + 5 * x + (20 if i % 2 == 0 else -20) for i, x in enumerate(HDD)]
    return {"baseline": {"periods": MONTHS_2016, "energy": energy, "variables": {"hdd": HDD}},
            "reporting": {"periods": MONTHS_2017,
                          "energy": [0.9 * (1000 + 5 * x) for x in HDD],
                          "variables": {"hdd": HDD}, **reporting}}


def daily_example() -> dict:
    """The module doc's daily example: 210 / 190 kWh alternating over 365 days, then 180."""
    return {"baseline": {"periods": days(datetime.date(2016, 1, 1), 365),
                         "energy": [210.0 if i % 2 == 0 else 190.0 for i in range(365)]},
            "reporting": {"periods": days(datetime.date(2017, 1, 1), 30),
                          "energy": [180.0] * 30}}


# --- worked examples by hand ----------------------------------------------------------------

def test_monthly_worked_example_by_hand():
    out = mv.analyse_json(monthly_example())
    model, reporting = out["model"], out["reporting"]
    slope = 5 - 1200 / 14300                       # Sxy/Sxx with the ±20 pattern
    sse = 12 * 20 ** 2 - 1200 ** 2 / 14300
    cv = math.sqrt(sse / 10) / 1275
    t = stats.t.ppf(0.84, 10)
    assert model["form"] == "linear" and model["variables"] == ["hdd"]
    assert model["coefficients"]["hdd"] == pytest.approx(slope, rel=1e-12)
    assert model["intercept"] == pytest.approx(1275 - slope * 55, rel=1e-12)
    assert model["cv_rmse"] == pytest.approx(cv, rel=1e-12)
    assert round(model["cv_rmse"], 5) == 0.01700
    assert model["autocorrelation_lag1"] < 0 and model["effective_n"] == 12
    assert (model["n"], model["parameters"]) == (12, 2)
    assert abs(model["nmbe"]) < 1e-12            # ~0 for least squares with an intercept
    assert reporting["expected"] == pytest.approx(15300)
    assert reporting["actual"] == pytest.approx(13770)
    assert reporting["savings"] == pytest.approx(1530)
    assert reporting["savings_fraction"] == pytest.approx(0.1)
    assert round(t, 4) == 1.0464
    assert reporting["fsu"] == pytest.approx(t * 1.26 * cv * math.sqrt((1 + 2 / 12) / 12) / 0.1)
    assert round(reporting["fsu"], 4) == 0.0699
    assert out["verdict"] == {"improvement_demonstrated": True, "reasons": []}


def test_daily_worked_example_by_hand():
    out = mv.analyse_json(daily_example())
    model, reporting = out["model"], out["reporting"]
    mean = 200 + 10 / 365
    sigma = math.sqrt((183 * (10 - 10 / 365) ** 2 + 182 * (10 + 10 / 365) ** 2) / 364)
    assert model["form"] == "mean" and model["f_test_p"] is None
    assert model["intercept"] == pytest.approx(mean, rel=1e-12)
    assert model["cv_rmse"] == pytest.approx(sigma / mean, rel=1e-12)
    assert round(model["cv_rmse"], 5) == 0.05006
    assert reporting["expected"] == pytest.approx(30 * mean)
    fraction = (30 * mean - 5400) / (30 * mean)
    assert reporting["fsu"] == pytest.approx(
        stats.t.ppf(0.84, 364) * 1.26 * sigma / mean * math.sqrt((1 + 2 / 365) / 30) / fraction)
    assert round(reporting["fsu"], 4) == 0.1149
    assert out["verdict"]["improvement_demonstrated"] is True


def test_output_keys_are_exactly_the_contract():
    out = mv.analyse_json(monthly_example())
    assert set(out) == {"model", "reporting", "verdict"}
    assert set(out["model"]) == {
        "form", "variables", "intercept", "coefficients", "std_errors", "p_values",
        "f_test_p", "r2", "adj_r2", "cv_rmse", "nmbe", "n", "parameters",
        "autocorrelation_lag1", "effective_n"}
    assert set(out["model"]["std_errors"]) == {"intercept", "hdd"}
    assert set(out["reporting"]) == {"n", "coverage", "actual", "expected", "savings",
                                     "savings_fraction", "fsu", "confidence",
                                     "outside_baseline_range"}
    assert set(out["verdict"]) == {"improvement_demonstrated", "reasons"}


# --- the savings uncertainty ----------------------------------------------------------------

def test_fsu_formula_on_a_known_case():
    # ρ = 0.5: n′ = 36 × 0.5/1.5 = 12; t(34) at 90 % = 1.6909; CV 10 %, m 12, F 0.2:
    # 1.6909 × 1.26 × 0.10 × √(3 × (1 + 2/36) / 12) / 0.2 = 0.5472.
    assert mv.effective_points(36, 0.5) == pytest.approx(12)
    assert mv.effective_points(36, -0.3) == 36
    fsu = mv.savings_uncertainty(cv_rmse=0.10, n=36, effective_n=12, m=12, parameters=2,
                                 savings_fraction=0.2, confidence=0.90)
    assert fsu == pytest.approx(1.6909 * 1.26 * 0.10 * math.sqrt(3 * (1 + 2 / 36) / 12) / 0.2,
                                rel=1e-4)
    assert round(fsu, 4) == 0.5472
    assert mv.savings_uncertainty(cv_rmse=0.1, n=36, effective_n=12, m=12, parameters=2,
                                  savings_fraction=-0.1, confidence=0.9) is None


def test_lag1_autocorrelation_of_residuals_in_time_order():
    assert mv.lag1_autocorrelation(np.array([1.0, 1.0, -1.0, -1.0])) == pytest.approx(0.25)
    assert mv.lag1_autocorrelation(np.array([1.0, -1.0, 1.0, -1.0])) == pytest.approx(-0.75)
    assert mv.lag1_autocorrelation(np.zeros(5)) == 0.0


def test_higher_confidence_widens_the_uncertainty():
    at_68 = mv.analyse_json(monthly_example())["reporting"]["fsu"]
    at_95 = mv.analyse_json({**monthly_example(), "confidence": 0.95})["reporting"]
    assert at_95["confidence"] == 0.95 and at_95["fsu"] > at_68


# --- each verdict reason --------------------------------------------------------------------

def reasons(data: dict) -> list[str]:
    out = mv.analyse_json(data)
    assert out["verdict"]["improvement_demonstrated"] is False
    return out["verdict"]["reasons"]


def test_a_12_day_baseline_is_too_short():
    data = daily_example()
    data["baseline"] = {"periods": data["baseline"]["periods"][:12],
                        "energy": data["baseline"]["energy"][:12]}
    found = reasons(data)
    assert any("spans 12 days" in r and "full year" in r for r in found)


def test_a_baseline_with_a_gap_has_low_coverage():
    data = monthly_example()
    keep = [i for i in range(12) if i not in (3, 4)]   # April and May missing: 10/12 months
    base = data["baseline"]
    data["baseline"] = {"periods": [base["periods"][i] for i in keep],
                        "energy": [base["energy"][i] for i in keep],
                        "variables": {"hdd": [HDD[i] for i in keep]}}
    found = reasons(data)
    # 305 of 366 days (2016 is a leap year).
    assert any(r.startswith("The baseline has data for 83.3% of its days, below 90%")
               for r in found), found


def test_a_half_covered_reporting_period_is_not_demonstrated():
    data = monthly_example()
    keep = [0, 1, 2, 9, 10, 11]                          # Jan–Mar and Oct–Dec of 2017
    rep = data["reporting"]
    data["reporting"] = {"periods": [rep["periods"][i] for i in keep],
                         "energy": [rep["energy"][i] for i in keep],
                         "variables": {"hdd": [HDD[i] for i in keep]}}
    found = reasons(data)
    # 182 of 365 days.
    assert any(r.startswith("The reporting period (2017-01-01 – 2017-12-31) has data for "
                            "49.9%") for r in found), found


def test_an_invalid_model_high_cv_rmse_and_f_test():
    rng = np.random.default_rng(7)
    data = monthly_example()
    data["baseline"]["energy"] = list(1000 + rng.normal(0, 400, 12))
    data["baseline"]["variables"]["hdd"] = list(rng.normal(50, 20, 12))
    data["reporting"]["energy"] = [500.0] * 12
    out = mv.analyse_json(data)
    found = out["verdict"]["reasons"]
    assert out["verdict"]["improvement_demonstrated"] is False
    assert any("CV(RMSE) is" in r and "above 20%" in r for r in found), found
    assert any("“hdd” was dropped" in r for r in found), found
    assert out["model"]["form"] == "mean"


def test_the_f_test_gate_for_a_kept_weak_variable():
    # A variable forced in (p threshold 1.0) with an F-test p above 0.10.
    rng = np.random.default_rng(3)
    data = monthly_example()
    data["baseline"]["energy"] = list(1000 + rng.normal(0, 50, 12))
    loose = mv.Thresholds(max_variable_p=1.0)
    result = mv.analyse(mv.parse_request(data), thresholds=loose)
    assert result.model.f_test_p >= 0.10
    assert any("F-test p-value" in r for r in result.reasons)


def test_uncertainty_too_large():
    # Noisy but valid model (CV ~ 15 %) and a 2 % saving over 3 months: fsu far above 50 %.
    rng = np.random.default_rng(11)
    data = monthly_example()
    data["baseline"]["energy"] = [1000 + 5 * x + e for x, e in zip(HDD, rng.normal(0, 150, 12),
                                                                    strict=True)]
    data["reporting"] = {"periods": MONTHS_2017[:3], "variables": {"hdd": HDD[:3]},
                         "energy": [0.98 * (1000 + 5 * x) for x in HDD[:3]]}
    out = mv.analyse_json(data)
    assert out["reporting"]["fsu"] > 0.5
    assert any("savings uncertainty is" in r and "68% confidence" in r
               for r in out["verdict"]["reasons"])


def test_negative_expected_is_not_demonstrated():
    data = monthly_example()
    data["baseline"]["energy"] = [10.0 * x + 100 + (1 if i % 2 else -1)
                                  for i, x in enumerate(HDD)]
    data["reporting"]["variables"]["hdd"] = [-110.0] * 12
    data["reporting"]["energy"] = [40.0] * 12
    out = mv.analyse_json(data)
    assert out["reporting"]["expected"] < 0 and out["reporting"]["savings_fraction"] is None
    assert any("not a positive consumption" in r for r in out["verdict"]["reasons"])
    assert out["reporting"]["outside_baseline_range"] == ["hdd"]


def test_no_savings_is_not_demonstrated():
    data = monthly_example()
    data["reporting"]["energy"] = [1.1 * (1000 + 5 * x) for x in HDD]
    assert any(r.startswith("No savings") for r in reasons(data))


def test_reporting_before_the_baseline_is_a_reason_when_called_directly():
    request = mv.parse_request(monthly_example())
    request.reporting.periods = [(s.replace(year=2016), e.replace(year=2016))
                                 for s, e in request.reporting.periods]
    result = mv.analyse(request)
    assert not result.improvement_demonstrated
    assert any("not after the baseline ends (2016-12-31)" in r for r in result.reasons)


def test_every_reason_is_given_at_once():
    data = monthly_example()
    data["baseline"] = {k: v[:6] if isinstance(v, list) else {"hdd": HDD[:6]}
                        for k, v in data["baseline"].items()}
    data["reporting"]["energy"] = [1.1 * (1000 + 5 * x) for x in HDD]
    found = reasons(data)
    assert any("full year" in r for r in found) and any("No savings" in r for r in found)


def test_a_flat_well_predicted_base_load_is_demonstrated():
    # R² near 0 is no gate: HDD explains nothing, is dropped, and the mean model (CV 1.2 %)
    # demonstrates a 10 % saving.
    rng = np.random.default_rng(5)
    data = monthly_example()
    data["baseline"]["energy"] = list(1000 + rng.normal(0, 12, 12))
    data["reporting"]["energy"] = [900.0] * 12
    out = mv.analyse_json(data)
    assert out["model"]["form"] == "mean" and out["model"]["cv_rmse"] < 0.02
    assert out["verdict"]["improvement_demonstrated"] is True
    assert any("dropped" in r for r in out["verdict"]["reasons"])


def test_non_routine_adjustments_raise_the_expected_consumption():
    request = mv.parse_request(monthly_example())
    plain = mv.analyse(request)
    adjusted = mv.analyse(request, non_routine_adjustment_kwh=500.0)
    assert adjusted.reporting.expected == pytest.approx(plain.reporting.expected + 500)
    assert adjusted.reporting.savings == pytest.approx(plain.reporting.savings + 500)


def test_thresholds_are_the_cb_settings(settings):
    settings.ENERGY_MAX_FSU = 0.05
    found = reasons(monthly_example())       # fsu 0.0699 is now too large
    assert any("not below 5%" in r for r in found)


# --- change-point models --------------------------------------------------------------------

def _daily_weather(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 12 + 12 * np.sin(np.arange(n) * 2 * np.pi / 365.25 - 1.8) + rng.normal(0, 3, n)


@pytest.mark.parametrize(("form", "heating", "cooling"), [
    ("5p", 15.0, 22.0), ("3p-heating", 16.0, None), ("3p-cooling", None, 20.0),
    ("4p", 17.0, 17.0)])
def test_change_point_recovery_on_synthetic_daily_data(form, heating, cooling):
    n = 3 * 365
    temperature = _daily_weather(n + 365, 1)
    noise = np.random.default_rng(2).normal(0, 2, n + 365)

    def load(t):
        heat = 3 * np.maximum(heating - t, 0) if heating is not None else 0
        cool = 4 * np.maximum(t - cooling, 0) if cooling is not None else 0
        return 100 + heat + cool

    energy = load(temperature) + noise
    data = {"model": "auto",
            "baseline": {"periods": days(datetime.date(2016, 1, 1), n),
                         "energy": energy[:n].tolist()},
            "reporting": {"periods": days(datetime.date(2016, 1, 1) + datetime.timedelta(n), 365),
                          "energy": (0.9 * load(temperature[n:])).tolist()},
            "temperature": {"baseline": temperature[:n].tolist(),
                            "reporting": temperature[n:].tolist()}}
    out = mv.analyse_json(data)
    model = out["model"]
    assert model["form"] == form
    if heating is not None:
        assert model["balance_points"]["heating"] == pytest.approx(heating, abs=0.6)
        assert model["coefficients"]["heating_degrees"] == pytest.approx(3, rel=0.1)
    if cooling is not None:
        assert model["balance_points"]["cooling"] == pytest.approx(cooling, abs=0.6)
        assert model["coefficients"]["cooling_degrees"] == pytest.approx(4, rel=0.1)
    assert out["reporting"]["savings_fraction"] == pytest.approx(0.1, abs=0.01)
    assert out["verdict"]["improvement_demonstrated"] is True


def test_no_temperature_dependence_gives_the_mean_model():
    n = 400
    temperature = _daily_weather(n + 30, 4)
    energy = 100 + np.random.default_rng(9).normal(0, 2, n + 30)
    data = {"model": "auto",
            "baseline": {"periods": days(datetime.date(2016, 1, 1), n),
                         "energy": energy[:n].tolist()},
            "reporting": {"periods": days(datetime.date(2017, 3, 1), 30),
                          "energy": (energy[n:] * 0.9).tolist()},
            "temperature": {"baseline": temperature[:n].tolist(),
                            "reporting": temperature[n:].tolist()}}
    assert mv.analyse_json(data)["model"]["form"] == "mean"


def test_monthly_change_point_data_is_normalised_per_day():
    # Monthly totals = days × (50 + 2·max(15 − T, 0)): per day and weighted by days the
    # model recovers the daily coefficients exactly.
    temps = [0, 2, 6, 10, 14, 18, 21, 20, 16, 11, 5, 1]
    temps_2017 = [t + 1 for t in temps]
    months = [datetime.date(2016, m, 1) for m in range(1, 13)]
    def total(year, month, t):   # with ±0.5 kWh a day of noise, alternating
        return calendar.monthrange(year, month)[1] * (50 + 2 * max(15 - t, 0)
                                                      + (0.5 if month % 2 else -0.5))
    data = {"model": "auto",
            "baseline": {"periods": MONTHS_2016,
                         "energy": [total(2016, d.month, t) for d, t in zip(months, temps,
                                                                           strict=True)]},
            "reporting": {"periods": MONTHS_2017,
                          "energy": [0.9 * total(2017, d.month, t)
                                     for d, t in zip(months, temps_2017, strict=True)]},
            "temperature": {"baseline": temps, "reporting": temps_2017}}
    out = mv.analyse_json(data)
    assert out["model"]["form"] == "3p-heating"
    assert out["model"]["balance_points"]["heating"] == pytest.approx(15, abs=0.1)
    assert out["model"]["intercept"] == pytest.approx(50, rel=0.01)
    assert out["model"]["coefficients"]["heating_degrees"] == pytest.approx(2, rel=0.02)
    assert out["reporting"]["savings_fraction"] == pytest.approx(0.1, abs=0.005)


def test_the_change_point_search_of_three_years_is_vectorised():
    # Not a timing test (bench/energy_bench.py times it): the grid is bounded and every
    # form's search is one batched solve.
    temperature = _daily_weather(3 * 365, 1)
    assert len(changepoint._grid(temperature)) <= mv.GRID_POINTS


# --- statsmodels agreement ------------------------------------------------------------------

def test_agrees_with_statsmodels_ols():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(21)
    production = rng.uniform(100, 200, 24)
    hdd = rng.uniform(0, 400, 24)
    energy = 5000 + 30 * production + 4 * hdd + rng.normal(0, 150, 24)
    series = mv.Series(periods=[(datetime.date(2016, 1, 1) + datetime.timedelta(i),) * 2
                                for i in range(24)],
                       energy=list(energy), variables={"production": list(production),
                                                       "hdd": list(hdd)})
    model = mv.fit(series, ["production", "hdd"])
    ref = sm.OLS(energy, sm.add_constant(np.column_stack([production, hdd]))).fit()
    np.testing.assert_allclose(model.beta, ref.params, rtol=1e-10)
    np.testing.assert_allclose(model.std_errors, ref.bse, rtol=1e-10)
    np.testing.assert_allclose(model.p_values, ref.pvalues, rtol=1e-8)
    assert model.f_test_p == pytest.approx(ref.f_pvalue, rel=1e-8)
    assert model.r2 == pytest.approx(ref.rsquared, rel=1e-12)
    assert model.adj_r2 == pytest.approx(ref.rsquared_adj, rel=1e-12)


def test_weighted_fit_agrees_with_statsmodels_wls():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(8)
    periods = []
    for m in range(1, 13):
        periods.append((datetime.date(2016, m, 1),
                        datetime.date(2016, m, calendar.monthrange(2016, m)[1])))
    length = np.array([(e - s).days + 1 for s, e in periods], dtype=float)
    x = rng.uniform(0, 20, 12)
    energy = length * (40 + 3 * x + rng.normal(0, 2, 12))
    series = mv.Series(periods=periods, energy=list(energy), variables={"x": list(x * length)})
    model = mv.fit(series, ["x"], per_day=True)
    ref = sm.WLS(energy / length, sm.add_constant(x), weights=length).fit()
    np.testing.assert_allclose(model.beta, ref.params, rtol=1e-10)
    np.testing.assert_allclose(model.std_errors, ref.bse, rtol=1e-10)
    assert model.r2 == pytest.approx(ref.rsquared, rel=1e-10)
    assert model.f_test_p == pytest.approx(ref.f_pvalue, rel=1e-8)
