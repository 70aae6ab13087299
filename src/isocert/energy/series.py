"""Turning stored readings and variable values into the plain series the analysis needs.

Not scoped to a user: callers (selectors, services) have checked access already.
A *point* is one period (start, end) for which every meter of the scope has a reading
and every variable a value; consumption is the sum of the meters' kWh.
"""

import calendar
import datetime
from dataclasses import dataclass

from django.db.models import CharField, Count, FloatField, Sum
from django.db.models.functions import Cast

from .models import Meter, Reading, VariableValue

Period = tuple[datetime.date, datetime.date]


@dataclass
class Points:
    periods: list[Period]
    kwh: list[float]
    columns: list[list[float]]        # one list per variable, aligned with ``periods``

    @property
    def labels(self) -> list[str]:
        return [period_label(p) for p in self.periods]

    def within(self, start: datetime.date, end: datetime.date) -> "Points":
        """The points whose period lies inside ``start`` … ``end``."""
        keep = [i for i, (s, e) in enumerate(self.periods) if s >= start and e <= end]
        return Points(periods=[self.periods[i] for i in keep], kwh=[self.kwh[i] for i in keep],
                      columns=[[column[i] for i in keep] for column in self.columns])

    def rows(self) -> list[list[float]]:
        return [list(r) for r in zip(*self.columns, strict=True)] if self.columns else \
            [[] for _ in self.periods]


def period_label(period: Period) -> str:
    """A day as its date, a calendar month as YYYY-MM, anything else as start – end."""
    start, end = period
    if start == end:
        return start.isoformat()
    if start.day == 1 and end == start.replace(
            day=calendar.monthrange(start.year, start.month)[1]):
        return start.strftime("%Y-%m")
    return f"{start.isoformat()} – {end.isoformat()}"


def meter_ids_in_scope(organization, meter_ids) -> list[int]:
    """The given meters, or every meter of the organization when none are given."""
    ids = list(meter_ids or [])
    if ids:
        return ids
    return list(Meter.objects.filter(organization=organization).values_list("pk", flat=True))


def _in_period(queryset, start, end):
    if start:
        queryset = queryset.filter(period_start__gte=start)
    if end:
        queryset = queryset.filter(period_end__lte=end)
    return queryset


def _iso(field: str) -> Cast:
    # Dates read as ISO text and parsed once per period: the per-row date converter of
    # some backends costs more than the analysis itself.
    return Cast(field, CharField())


def consumption(meter_ids: list[int], start=None, end=None) -> dict[Period, float]:
    """kWh per period, for the periods where every meter has a reading.

    Summed in the database and read as floats: thousands of Decimal objects would cost
    more than the whole analysis.
    """
    rows = (_in_period(Reading.objects.filter(meter_id__in=meter_ids), start, end)
            .values("period_start", "period_end")
            .annotate(total=Sum(Cast("kwh", FloatField())), meters=Count("meter_id"))
            .values_list(_iso("period_start"), _iso("period_end"), "total", "meters"))
    needed = len(set(meter_ids))
    return {(s[:10], e[:10]): total for s, e, total, count in rows if count == needed}


def variable_values(variable_ids: list[int], start=None, end=None
                    ) -> dict[int, dict[tuple[str, str], float]]:
    queryset = _in_period(VariableValue.objects.filter(variable_id__in=variable_ids), start, end)
    values: dict[int, dict[tuple[str, str], float]] = {v: {} for v in variable_ids}
    for variable_id, period_start, period_end, value in queryset.values_list(
            "variable_id", _iso("period_start"), _iso("period_end"),
            Cast("value", FloatField())):
        values[variable_id][(period_start[:10], period_end[:10])] = value
    return values


def points(*, meter_ids: list[int], variable_ids: list[int], start=None, end=None) -> Points:
    """The aligned points of a period (all data when ``start``/``end`` are None)."""
    kwh = consumption(meter_ids, start, end) if meter_ids else {}
    values = variable_values(variable_ids, start, end)
    keys = sorted(p for p in kwh if all(p in values[v] for v in variable_ids))
    return Points(periods=[(datetime.date.fromisoformat(s), datetime.date.fromisoformat(e))
                           for s, e in keys],
                  kwh=[kwh[p] for p in keys],
                  columns=[[values[v][p] for p in keys] for v in variable_ids])


def month_key(period: Period) -> str:
    return period[0].strftime("%Y-%m")
