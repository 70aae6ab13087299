"""Measurement and verification of energy savings: the analysis a certification decision reads.

Pure functions over plain values (no database): the baseline model, its validity, the
reporting period's expected consumption, the savings with their uncertainty and the verdict
"improvement demonstrated" with every reason. The command ``isocert energy-analyse`` and
``POST /api/v1/energy/analyse`` answer :func:`analyse` as JSON; the analysis pages, the
report and the certification decision call it on the stored data.

Rules, each a CB setting (``settings.ENERGY_*``) with the default and source below:

- **Model** ``linear``: ordinary least squares with an intercept on the given variables
  (ISO 50006:2023 §6.5 / Annex C). A variable whose two-sided p-value is not below
  ``ENERGY_MAX_VARIABLE_P`` (0.10) is dropped, the least significant first, and the model
  refitted; a note says so (ASHRAE Guideline 14-2014 Annex B: only significant
  coefficients belong in the model). With none left the model is the *mean* model.
- **Model** ``auto``: change-point models on the mean outdoor temperature — 3P heating,
  3P cooling, 4P, 5P (ASHRAE RP-1050 Inverse Modeling Toolkit, as in ASHRAE Guideline 14
  Annex D and CalTRACK 2.0 §3) — with balance points searched on a grid of the baseline's
  own temperatures between their 10th and 90th percentile (so each regime holds at least
  a tenth of the points), and the mean model. Each form keeps its best balance points (least
  squared error); a form counts only when its slopes are positive and significant (p below
  ``ENERGY_MAX_VARIABLE_P``); among those the highest adjusted R² wins. Monthly data is
  normalised per day and weighted by the days of each period (weighted least squares, as
  CalTRACK does for billing data).
- **Statistics** with n points and p parameters (intercept included): R² and adjusted R²
  (reported, not a gate), CV(RMSE) = √(SSE/(n − p)) / mean(E), NMBE = Σ(E − Ê)/((n − p)·mean(E))
  (ASHRAE Guideline 14 §5.2.11; always ~0 for least squares with an intercept), standard
  errors from σ²(XᵀX)⁻¹, two-sided p-values from Student's t with n − p degrees of freedom,
  the overall F-test p, ρ = the lag-1 autocorrelation of the residuals in time order and
  the effective number of points n′ = n(1 − ρ)/(1 + ρ) when ρ > 0, else n.
- **Data sufficiency** (ISO 50006 §6.4, ASHRAE Guideline 14 §5.2.11.1: the baseline
  spans a full operating cycle; CalTRACK 2.0 §2.2: ≥ 90 % of the days): the baseline spans a
  full year (12 calendar months, 365 days or 52 weeks) and each period — baseline and
  reporting — has data for ≥ ``ENERGY_MIN_COVERAGE`` (0.90) of its days. Coverage is the days
  the points cover ÷ the days of the period, so gaps between imports count.
- **Model validity** (ASHRAE Guideline 14 §5.2.11.3 and Annex B): CV(RMSE) ≤
  ``ENERGY_MAX_CV_RMSE_MONTHLY`` (0.20) for monthly and ≤ ``ENERGY_MAX_CV_RMSE_DAILY`` (0.25)
  for daily or weekly models; the F-test p below ``ENERGY_MAX_F_TEST_P`` (0.10) (the mean
  model has no F-test).
- **Savings uncertainty** (ASHRAE Guideline 14-2014 Annex B, eq. B-14, with the
  Reddy–Claridge factor 1.26):
  ``fsu = t × 1.26 × CV × √((n/n′) × (1 + 2/n) × (1/m)) / F`` with m the reporting points,
  F = savings ÷ expected and t the two-sided Student t at the confidence with n − p degrees
  of freedom.
- **Verdict** "improvement demonstrated" only when the data suffice, the model is valid,
  the expected consumption is positive, the savings are positive and fsu is below
  ``ENERGY_MAX_FSU`` (0.50) at the confidence (default ``ENERGY_CONFIDENCE`` 0.68:
  ASHRAE Guideline 14 §4.1.4 asks for savings uncertainty below 50 % of the savings at 68 %
  confidence). Otherwise ``False``, with every reason.
- Reporting-period values of a variable more than ``ENERGY_RANGE_MARGIN`` (10 %) of the
  baseline's range outside that range are named (the model extrapolates there; ISO 50006
  §6.5, ASHRAE Guideline 14 §5.2.11.1).

**Worked example (monthly, by hand).** Baseline 2016-01 … 2016-12 with HDD
x = 0, 10, …, 110 and energy E = 1000 + 5·x ± 20 (+20 in January, −20 in February, and so
on). x̄ = 55, Ē = 1275, Sxx = Σ(x − x̄)² = 14 300 and Σ(x − x̄)·(±20) = −1200, so the slope
is 5 − 1200/14 300 = 4.91608 and the intercept 1275 − 4.91608 × 55 = 1004.615;
SSE = 12 × 20² − 1200²/14 300 = 4699.3, σ = √(4699.3/10) = 21.678 and CV(RMSE) =
21.678/1275 = 1.700 %. The residuals alternate in sign: ρ = −0.917 < 0, so n′ = n = 12.
Reporting 2017-01 … 2017-12 with the same HDD and E = 0.9 × (1000 + 5·x): the line passes
through the means, so expected = 12 × 1275 = 15 300, actual 13 770, savings 1530, F = 0.1;
at 68 % confidence t(10) = 1.0464 and fsu = 1.0464 × 1.26 × 0.01700 × √(1 × (1 + 2/12) ×
1/12) / 0.1 = 0.0699 → demonstrated.

**Worked example (daily, by hand).** The 365 days from 2016-01-01 with no variables (the
mean model) and E = 210 kWh on the 1st, 3rd, … day (183 days) and 190 kWh on the others
(182): intercept = mean = 200 + 10/365 = 200.027, residuals 10 − 0.027 and −10 − 0.027,
σ = √(Σe²/364) = 10.0137, CV(RMSE) = 5.006 %, ρ = −0.997 → n′ = n. A reporting period of 30
days at 180 kWh: expected 30 × 200.027 = 6000.8, actual 5400, F = 0.10012; t(364) at 68 %
= 0.9958 and fsu = 0.9958 × 1.26 × 0.05006 × √((1 + 2/365)/30) / 0.10012 = 0.1149 →
demonstrated. (``tests/energy/test_mv.py`` checks both examples.)
"""

from .changepoint import change_point_models, choose_change_point_model
from .inputs import (
    CONFIDENCES,
    FORMS,
    GRID_POINTS,
    MODELS,
    MVInputError,
    Request,
    Series,
    Thresholds,
    parse_period,
    parse_request,
)
from .regression import (
    Model,
    effective_points,
    fit,
    lag1_autocorrelation,
    savings_uncertainty,
)
from .verdict import (
    BaselineAssessment,
    Reporting,
    Result,
    analyse,
    analyse_json,
    assess_baseline,
    coverage,
    frequency_of,
    load_json,
    rule_text,
)

__all__ = [
    "CONFIDENCES", "FORMS", "GRID_POINTS", "MODELS", "BaselineAssessment", "MVInputError",
    "Model", "Reporting", "Request", "Result", "Series", "Thresholds", "analyse",
    "analyse_json", "assess_baseline", "change_point_models", "choose_change_point_model",
    "coverage", "effective_points", "fit", "frequency_of", "lag1_autocorrelation", "load_json",
    "parse_period", "parse_request", "rule_text", "savings_uncertainty",
]
