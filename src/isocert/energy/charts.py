"""Chart data for the pages (drawn by Chart.js) and the same charts as SVG for the PDF.

WeasyPrint runs no JavaScript, so the report draws its charts here, server side.
"""

from html import escape

from isocert.core.dates import display_dates_in

from . import analysis, series

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 70, 30, 26, 46
BLUE, TEAL, GREY, ORANGE = "#0b5cab", "#0f766e", "#9aa4b2", "#c2410c"


# --- data for Chart.js -----------------------------------------------------------------------

def main_variable(fit: analysis.Fit) -> int:
    """The index of the variable that explains most (largest |t|): the scatter's x axis."""
    t_values = [abs(t) if t is not None else float("inf") for t in fit.t_values[1:]]
    return max(range(len(t_values)), key=t_values.__getitem__)


def scatter_data(fit: analysis.Fit, units: dict[str, str], baseline: series.Points,
                 reporting: series.Points | None = None) -> dict:
    """Consumption against the model's main variable, with the fitted line (the other
    variables held at their baseline mean)."""
    main = main_variable(fit)
    xs = baseline.columns[main]
    means = [sum(c) / len(c) for c in baseline.columns]
    reporting_xs = reporting.columns[main] if reporting else []
    low, high = min(xs + reporting_xs), max(xs + reporting_xs)

    def line_point(x):
        row = list(means)
        row[main] = x
        return {"x": x, "y": fit.predict([row])[0]}

    name = fit.names[main]
    return {
        "variable": name, "x_label": f"{name} ({units.get(name, '')})", "y_label": "kWh",
        "baseline": [{"x": x, "y": y} for x, y in zip(xs, baseline.kwh, strict=True)],
        "reporting": [{"x": x, "y": y} for x, y in zip(reporting_xs, reporting.kwh,
                                                        strict=True)] if reporting else [],
        "line": [line_point(low), line_point(high)],
    }


def cusum_data(evaluation: analysis.Evaluation) -> dict:
    return {"labels": [display_dates_in(p.label) for p in evaluation.points],
            "values": [round(p.cusum, 1) for p in evaluation.points],
            "label": "CUSUM of savings (kWh)"}


def trend_data(months: list[str], values: list[float | None], label: str) -> dict:
    return {"labels": months, "values": [None if v is None else round(v, 4) for v in values],
            "label": label}


def enpi_data(trends) -> dict:
    """The EnPIs by month for one chart, each on the y axis of its unit: kWh per unit of a
    variable (ratio EnPIs: kWh/t, kWh/h …) and actual ÷ expected (regression EnPIs, around 1)
    differ by orders of magnitude, and on one axis the ratio would lie flat on zero. The
    first unit is on the left, the others on the right (ISO 50006: an EnPI is read
    with its unit)."""
    axes: dict[str, str] = {}
    series_list = []
    for trend in trends:
        axis = axes.setdefault(trend.unit, f"y{len(axes)}")
        series_list.append({"label": f"{trend.enpi.name} ({trend.unit})", "axis": axis,
                            "labels": trend.months,
                            "values": trend_data(trend.months, trend.values, "")["values"]})
    return {"series": series_list,
            "axes": [{"id": axis, "title": unit, "position": "left" if i == 0 else "right"}
                     for i, (unit, axis) in enumerate(axes.items())]}


def pareto_data(shares: list[analysis.Share]) -> dict:
    return {"labels": [s.name for s in shares], "kwh": [round(s.kwh, 1) for s in shares],
            "cumulative": [round(s.cumulative_percent, 1) for s in shares],
            "significant": [s.significant for s in shares]}


# --- SVG for the PDF -------------------------------------------------------------------------

def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high == low:
        high = low + 1
    step = (high - low) / (count - 1)
    return [low + i * step for i in range(count)]


def _fmt(value: float) -> str:
    if abs(value) >= 10_000:
        return f"{value / 1000:,.0f}k"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


class _Frame:
    def __init__(self, x_low, x_high, y_low, y_high):
        if x_high == x_low:
            x_high = x_low + 1
        if y_high == y_low:
            y_high = y_low + 1
        self.x_low, self.x_high, self.y_low, self.y_high = x_low, x_high, y_low, y_high

    def x(self, value: float) -> float:
        return LEFT + (value - self.x_low) / (self.x_high - self.x_low) * (WIDTH - LEFT - RIGHT)

    def y(self, value: float) -> float:
        return HEIGHT - BOTTOM - (value - self.y_low) / (self.y_high - self.y_low) * (
            HEIGHT - TOP - BOTTOM)


def _axes(frame: _Frame, title: str, x_label: str, y_label: str, x_ticks=None) -> list[str]:
    parts = [f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
             f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" '
             f'y2="{HEIGHT - BOTTOM}" stroke="#333"/>',
             f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#333"/>']
    for tick in _ticks(frame.y_low, frame.y_high):
        y = frame.y(tick)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                     f'stroke="#e5e7eb"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="10" '
                     f'text-anchor="end">{_fmt(tick)}</text>')
    for value, label in (x_ticks if x_ticks is not None else
                         [(t, _fmt(t)) for t in _ticks(frame.x_low, frame.x_high)]):
        x = frame.x(value)
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10" '
                     f'text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<text x="{(LEFT + WIDTH) / 2:.0f}" y="{HEIGHT - 8}" font-size="11" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    parts.append(f'<text x="14" y="{(TOP + HEIGHT - BOTTOM) / 2:.0f}" font-size="11" '
                 f'text-anchor="middle" transform="rotate(-90 14 '
                 f'{(TOP + HEIGHT - BOTTOM) / 2:.0f})">{escape(y_label)}</text>')
    return parts


def _svg(parts: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(label)}" '
            f'font-family="DejaVu Sans, sans-serif">' + "".join(parts) + "</svg>")


def scatter_svg(data: dict, title: str) -> str:
    points = data["baseline"] + data["reporting"]
    if not points:
        return ""
    xs = [p["x"] for p in points] + [p["x"] for p in data["line"]]
    ys = [p["y"] for p in points] + [p["y"] for p in data["line"]]
    frame = _Frame(min(xs), max(xs), min(0.0, min(ys)), max(ys) * 1.05)
    parts = _axes(frame, title, data["x_label"], data["y_label"])
    (a, b) = data["line"]
    parts.append(f'<line x1="{frame.x(a["x"]):.1f}" y1="{frame.y(a["y"]):.1f}" '
                 f'x2="{frame.x(b["x"]):.1f}" y2="{frame.y(b["y"]):.1f}" stroke="{GREY}" '
                 f'stroke-width="2"/>')
    for point in data["baseline"]:
        parts.append(f'<circle cx="{frame.x(point["x"]):.1f}" cy="{frame.y(point["y"]):.1f}" '
                     f'r="3.5" fill="{BLUE}"/>')
    for point in data["reporting"]:
        parts.append(f'<circle cx="{frame.x(point["x"]):.1f}" cy="{frame.y(point["y"]):.1f}" '
                     f'r="3.5" fill="{ORANGE}"/>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="16" font-size="10" text-anchor="end">'
                 f'<tspan fill="{BLUE}">● baseline</tspan>  <tspan fill="{ORANGE}">● reporting'
                 f'</tspan>  <tspan fill="{GREY}">— model</tspan></text>')
    return _svg(parts, title)


def line_svg(data: dict, title: str, y_label: str, *, include_zero: bool = True) -> str:
    """A line over the labels; ``include_zero=False`` zooms on the values (a ratio)."""
    values = [v for v in data["values"] if v is not None]
    if not values:
        return ""
    count = len(data["values"])
    if include_zero:
        low, high = min(0.0, min(values)), max(0.0, max(values)) or 1.0
    else:
        pad = (max(values) - min(values)) * 0.1 or abs(values[0]) * 0.05 or 1.0
        low, high = min(values) - pad, max(values) + pad
    frame = _Frame(0, max(count - 1, 1), low, high)
    every = max(1, count // 8)
    x_ticks = [(i, label) for i, label in enumerate(data["labels"]) if i % every == 0]
    parts = _axes(frame, title, "", y_label, x_ticks=x_ticks)
    if frame.y_low < 0 < frame.y_high:
        parts.append(f'<line x1="{LEFT}" y1="{frame.y(0):.1f}" x2="{WIDTH - RIGHT}" '
                     f'y2="{frame.y(0):.1f}" stroke="#333" stroke-dasharray="3 3"/>')
    coords = [f"{frame.x(i):.1f},{frame.y(v):.1f}" for i, v in enumerate(data["values"])
              if v is not None]
    parts.append(f'<polyline points="{" ".join(coords)}" fill="none" stroke="{TEAL}" '
                 f'stroke-width="2"/>')
    for coord in coords:
        x, y = coord.split(",")
        parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{TEAL}"/>')
    return _svg(parts, title)
