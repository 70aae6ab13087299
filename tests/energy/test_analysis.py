"""The statistics of energy baselines, checked by hand and against numpy."""

import math

import numpy as np
import pytest

from isocert.energy import analysis


def test_one_variable_fit_matches_a_worked_example():
    """x = 1, 2, 3, 4, 5 and y = 2, 4, 5, 4, 5 (n = 5, p = 2).

    x̄ = 3, ȳ = 4; Sxx = Σ(x−x̄)² = 4+1+0+1+4 = 10; Sxy = Σ(x−x̄)(y−ȳ) = 4+0+0+0+2 = 6.
    slope b = Sxy/Sxx = 0.6, intercept c = ȳ − b·x̄ = 4 − 1.8 = 2.2.
    ŷ = 2.8, 3.4, 4.0, 4.6, 5.2; residuals −0.8, 0.6, 1.0, −0.6, −0.2.
    SSE = 0.64+0.36+1+0.36+0.04 = 2.4; SST = Σ(y−ȳ)² = 4+0+1+0+1 = 6.
    R² = 1 − 2.4/6 = 0.6; adjusted R² = 1 − 0.4·(5−1)/(5−2) = 0.4667.
    σ² = SSE/(n−p) = 0.8; CV(RMSE) = √0.8 / 4 = 0.2236; NMBE = Σ residuals … = 0.
    se(b) = √(σ²/Sxx) = √0.08 = 0.28284; t(b) = 0.6/0.28284 = 2.12132.
    se(c) = √(σ²·(1/n + x̄²/Sxx)) = √(0.8·1.1) = 0.93808; t(c) = 2.2/0.93808 = 2.34521.
    """
    fit = analysis.fit_ols([2, 4, 5, 4, 5], [[1, 2, 3, 4, 5]], ["x"])

    assert fit.coefficients == pytest.approx([0.6])
    assert fit.intercept == pytest.approx(2.2)
    assert fit.r2 == pytest.approx(0.6)
    assert fit.adj_r2 == pytest.approx(1 - 0.4 * 4 / 3)
    assert fit.cv_rmse == pytest.approx(math.sqrt(0.8) / 4)
    assert fit.nmbe == pytest.approx(0, abs=1e-12)
    assert fit.std_errors == pytest.approx([math.sqrt(0.88), math.sqrt(0.08)])
    assert fit.t_values == pytest.approx([2.2 / math.sqrt(0.88), 0.6 / math.sqrt(0.08)])
    assert (fit.n, fit.p) == (5, 2)
    assert fit.predict([[10]]) == pytest.approx([8.2])


def test_p_values_match_the_closed_form_of_student_t_with_three_degrees_of_freedom():
    """For ν = 3 the t distribution has a closed form: with θ = arctan(t/√3),
    the two-sided p-value is 1 − (2/π)(θ + sin θ cos θ).

    Slope of the worked example: t = 2.12132, t/√3 = 1.224745 → θ = 0.886077 rad,
    sin θ cos θ = tan θ/(1 + tan² θ) = 1.224745/2.5 = 0.489898,
    p = 1 − (2/π)(0.886077 + 0.489898) = 1 − 0.875973 = 0.124027.
    """
    fit = analysis.fit_ols([2, 4, 5, 4, 5], [[1, 2, 3, 4, 5]], ["x"])

    def closed_form(t):
        theta = math.atan(abs(t) / math.sqrt(3))
        return 1 - 2 / math.pi * (theta + math.sin(theta) * math.cos(theta))

    assert fit.p_values[1] == pytest.approx(closed_form(fit.t_values[1]), rel=1e-9)
    assert fit.p_values[0] == pytest.approx(closed_form(fit.t_values[0]), rel=1e-9)
    # The textbook critical value: t = 3.182446 with 3 d.o.f. is p = 0.05.
    assert closed_form(3.182446) == pytest.approx(0.05, abs=1e-6)
    assert fit.p_values[1] == pytest.approx(0.124027, abs=1e-6)


def test_two_variables_match_numpy_lstsq_and_the_textbook_formulas():
    rng = np.random.default_rng(7)
    production = rng.uniform(500, 1000, 24)
    hdd = rng.uniform(0, 500, 24)
    energy = 40_000 + 95 * production + 180 * hdd + rng.normal(0, 1500, 24)

    fit = analysis.fit_ols(list(energy), [list(production), list(hdd)], ["production", "hdd"])

    X = np.column_stack([np.ones(24), production, hdd])
    beta = np.linalg.lstsq(X, energy, rcond=None)[0]
    residuals = energy - X @ beta
    sse = residuals @ residuals
    sigma2 = sse / (24 - 3)
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(X.T @ X)))
    assert [fit.intercept, *fit.coefficients] == pytest.approx(list(beta))
    assert fit.std_errors == pytest.approx(list(se))
    assert fit.r2 == pytest.approx(1 - sse / ((energy - energy.mean()) ** 2).sum())
    assert fit.cv_rmse == pytest.approx(math.sqrt(sigma2) / energy.mean())
    assert fit.nmbe == pytest.approx(residuals.sum() / (21 * energy.mean()), abs=1e-12)
    assert fit.warnings == []
    assert all(p < 0.001 for p in fit.p_values[1:])


def test_a_weak_variable_is_warned_about_and_r2_is_no_gate():
    """R² and the number of points are not judged here: the M&V rules (mv) judge the
    baseline; a fit is not usable until they have."""
    fit = analysis.fit_ols([2, 4, 5, 4, 5], [[1, 2, 3, 4, 5]], ["x"])

    assert fit.valid is None and not fit.usable
    assert [w.split(" ")[0] for w in fit.warnings] == ["x:"]


@pytest.mark.parametrize("y, columns, message", [
    ([1, 2], [[1, 2]], "too few"),
    ([1, 2, 3, 4], [[1, 1, 1, 1]], "“v0” is \\(nearly\\) constant"),
    ([1, 2, 3, 4, 5], [[1, 2, 3, 4, 5], [2, 4, 6, 8, 10]],
     "“v0” and “v1” \\(nearly\\) follow from one another"),
    ([1, 2, 3, 4], [[0, 0, 0, 0]], "“v0” is zero at every point"),
    ([1, 2, 3, 4], [], "at least one"),
])
def test_fits_that_cannot_be_made_are_refused(y, columns, message):
    with pytest.raises(analysis.AnalysisError, match=message):
        analysis.fit_ols(y, columns, [f"v{i}" for i in range(len(columns))])


# --- near-singular designs: refused naming the variables, never a LinAlgError ------------------

def _near_duplicate(offset: float) -> tuple[list[float], list[float]]:
    """Two columns equal but for the first point, where the second is ``offset`` more."""
    first = [float(i % 5) for i in range(13)]
    return first, [first[0] + offset, *first[1:]]


def test_a_near_singular_design_is_refused_naming_its_variables():
    """This design made numpy's inverse raise LinAlgError (a 500 where baselines are made)."""
    production, shifts = _near_duplicate(1e-8)
    hdd = [float(v) for v in (3, 9, 4, 1, 7, 2, 8, 5, 6, 0, 9, 3, 4)]

    with pytest.raises(analysis.AnalysisError) as refused:
        analysis.fit_ols([float(i) for i in range(13)], [production, hdd, shifts],
                         ["Production", "HDD", "Shifts"])

    message = str(refused.value)
    assert message.startswith("“Production” and “Shifts” (nearly) follow from one another")
    assert "condition number" in message and "HDD" not in message


def test_nearly_collinear_variables_are_refused_before_they_give_noise():
    """No exception from numpy here, but coefficients of ±10⁷ that mean nothing."""
    rng = np.random.default_rng(1)
    hdd = list(rng.uniform(0, 100, 24))
    same = [v + 1e-9 * i for i, v in enumerate(hdd)]
    energy = [3 * v + 5 + rng.normal() for v in hdd]

    with pytest.raises(analysis.AnalysisError, match="“HDD” and “Degree days”"):
        analysis.fit_ols(energy, [hdd, same], ["HDD", "Degree days"])


def test_a_nearly_constant_variable_is_refused_by_name():
    rng = np.random.default_rng(2)
    hdd = list(rng.uniform(0, 100, 24))
    shifts = [3 + 1e-9 * i for i in range(24)]
    energy = [3 * v + 5 + rng.normal() for v in hdd]

    with pytest.raises(analysis.AnalysisError) as refused:
        analysis.fit_ols(energy, [hdd, shifts], ["HDD", "Shifts"])

    assert str(refused.value).startswith("“Shifts” is (nearly) constant over the period")


def test_the_unit_of_a_variable_does_not_make_it_singular():
    """The condition number is taken on unit-length columns: production in grams fits."""
    rng = np.random.default_rng(7)
    tonnes = rng.uniform(500, 1000, 24)
    hdd = rng.uniform(0, 500, 24)
    energy = 40_000 + 95 * tonnes + 180 * hdd + rng.normal(0, 1500, 24)

    fit = analysis.fit_ols(list(energy), [list(tonnes * 1e6), list(hdd)], ["Production", "HDD"])

    assert fit.coefficients[0] == pytest.approx(95e-6, rel=0.05)


def test_reporting_period_points_savings_and_cusum():
    """The verdict on a reporting period is mv.analyse's (tests/energy/test_mv.py)."""
    points = analysis.period_points(["m1", "m2"], [70.0, 110.0], [100.0, 100.0])

    assert [p.savings for p in points] == [30.0, -10.0]
    assert [p.cusum for p in points] == pytest.approx([30, 20])


def test_a_perfect_fit_is_stored_without_infinities():
    fit = analysis.fit_ols([float(3 * v + 1) for v in range(13)], [list(range(13))], ["x"])

    data = fit.to_json()

    assert data["r2"] == pytest.approx(1.0)
    assert all(v is None or math.isfinite(v) for v in data["t_values"])
    assert analysis.Fit.from_json(data).predict([[2]]) == pytest.approx([7])


def test_shares_are_a_pareto_with_the_cumulative_share():
    rows = analysis.shares({"lights": 10.0, "furnaces": 60.0, "air": 30.0}, {"furnaces"})

    assert [(r.name, r.percent, r.cumulative_percent, r.significant) for r in rows] == [
        ("furnaces", 60.0, 60.0, True), ("air", 30.0, 90.0, False),
        ("lights", 10.0, 100.0, False)]
    assert analysis.kwh_to_tj(277_778) == pytest.approx(1.0, rel=1e-5)
