"""What the analysis page and the energy performance report (PDF) show.

The PDF is rendered on request from the current data (like the gap report): the
figures can't go stale, and one report takes well under a second.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from isocert.core.dates import display_dates_in

from . import analysis, charts, mv, selectors, series
from .models import ReportingPeriod


def analysis_context(period: ReportingPeriod) -> dict:
    """The evaluation of a reporting period with the data of its three charts.

    Raises ``analysis.AnalysisError`` when the period has lost its data.
    """
    baseline = period.baseline
    all_points = selectors.all_baseline_points(baseline)
    result = selectors.evaluate_period(period, all_points=all_points)
    fit = result.fit
    baseline_points = all_points.within(baseline.period_start, baseline.period_end)
    units = {v.name: v.unit for v in baseline.variables.all()}
    scatter = charts.scatter_data(fit, units, baseline_points, result.points)
    cusum = charts.cusum_data(result.evaluation)
    # The regression EnPI (actual ÷ expected) by month over all data of the baseline's scope.
    months: dict[str, list[float]] = {}
    for period_key, actual, expected in zip(all_points.periods, all_points.kwh,
                                            fit.predict(all_points.rows()), strict=True):
        month = months.setdefault(series.month_key(period_key), [0.0, 0.0])
        month[0] += actual
        month[1] += expected
    trend = charts.trend_data(list(months), [analysis.ratio(a, e) for a, e in months.values()],
                              "EnPI: actual ÷ expected (below 1 = better than the baseline)")
    return {"period": period, "baseline": baseline, "organization": baseline.organization,
            "fit": fit, "terms": analysis.terms(fit), "evaluation": result.evaluation,
            "period_rows": period_rows(result.evaluation),
            "summary": result.summary, "rule": mv.rule_text(), "adjustments": result.adjustments,
            "charts": {"scatter": scatter, "cusum": cusum, "trend": trend}}


MONTHLY_TABLE_ABOVE = 62  # more points than two months of days: the table goes by month


def period_rows(evaluation: analysis.Evaluation) -> list[dict]:
    """The reporting period's table, numbers formatted; by month for daily or weekly data."""
    rows: list[dict] = []
    by_month = len(evaluation.points) > MONTHLY_TABLE_ABOVE
    for point in evaluation.points:
        label = point.label[:7] if by_month else point.label
        if rows and rows[-1]["label"] == label:
            row = rows[-1]
            row["actual"] += point.actual
            row["expected"] += point.expected
            row["savings"] += point.savings
            row["cusum"] = point.cusum
        else:
            rows.append({"label": label, "actual": point.actual, "expected": point.expected,
                         "savings": point.savings, "cusum": point.cusum})
    return [{"label": display_dates_in(r["label"]), **{k: f"{r[k]:,.0f}" for k in
                                     ("actual", "expected", "savings", "cusum")}} for r in rows]


def report_filename(period: ReportingPeriod) -> str:
    organization = period.baseline.organization
    return (f"energy-performance-{slugify(organization.legal_name)}-"
            f"{period.period_start:%Y%m%d}-{period.period_end:%Y%m%d}.pdf")


def report_pdf(*, period: ReportingPeriod) -> bytes:
    from weasyprint import HTML

    context = analysis_context(period)
    chart_data = context["charts"]
    svgs = {
        "scatter": charts.scatter_svg(
            chart_data["scatter"], f"Consumption against {chart_data['scatter']['variable']}"),
        "cusum": charts.line_svg(chart_data["cusum"], "CUSUM of savings", "kWh"),
        "trend": charts.line_svg(chart_data["trend"], "EnPI by month: actual ÷ expected",
                                 "ratio", include_zero=False),
    }
    html = render_to_string("energy/report_pdf.html", {
        **context, "svgs": svgs, "generated_at": timezone.now(),
        "CB_NAME": settings.CB_NAME})
    return HTML(string=html, base_url=settings.SITE_URL).write_pdf()
