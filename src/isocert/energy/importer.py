"""Reading meter data and relevant variables from CSV and XLSX files.

A file is a table: line 1 holds the column names, every further line one period.
The person maps the columns (``Mapping``): which column is the date (or the start and
end of each period), which columns are which meter (and in which unit) or which
variable. ``check_rows`` then reports every bad line with its number; the service
imports nothing unless there is none (all or nothing).
"""

import bisect
import calendar
import csv
import datetime
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import zip_longest
from xml.etree.ElementTree import ParseError

from isocert.core.dates import display_date, display_datetime
from isocert.core.errors import InvalidInput
from isocert.core.files import check_zip

from .dataformat import (
    DATE_ORDERS,
    DECIMAL_SEPARATORS,
    FREQUENCIES,
    THOUSANDS_SEPARATORS,
    DataFormat,
    Detected,
    column_numbers,
    detect_format,
    parse_number,
    parse_when,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# Reading stops at the first line past a limit, so a file costs at most this much work
# whatever it holds: the count is checked as the lines are read, not after.
MAX_BLANK_ROWS = MAX_ROWS       # a sheet may declare a million empty rows (openpyxl yields each)
MAX_COLUMNS = 200               # and 16,384 columns, each row padded to them
# What an XLSX may unpack to: 20,000 lines of four columns are 3 MB of sheet XML; openpyxl
# reads the shared strings whole, so this also bounds its memory.
MAX_XLSX_UNPACKED = 64 * 1024 * 1024
PREVIEW_ROWS = 5
HEADER_LINE = 1
__all__ = ["DATE_ORDERS", "DECIMAL_SEPARATORS", "FREQUENCIES", "THOUSANDS_SEPARATORS",
           "DataFormat", "Detected", "parse_number", "parse_when"]


@dataclass
class Table:
    kind: str                          # "csv" or "xlsx"
    headers: list[str]
    rows: list[tuple[int, list]]       # (line number, cells)

    def preview(self, count: int = PREVIEW_ROWS) -> list[list[str]]:
        return [[_text(c) for c in cells] for _, cells in self.rows[:count]]


@dataclass
class ColumnTarget:
    column: str
    meter: object | None = None        # a Meter
    variable: object | None = None     # a RelevantVariable
    unit: str = ""
    kwh_per_unit: Decimal = Decimal(1)


@dataclass
class Mapping:
    frequency: str
    date_column: str = ""
    start_column: str = ""
    end_column: str = ""
    targets: list[ColumnTarget] = field(default_factory=list)
    data_format: DataFormat = field(default_factory=DataFormat)

    def as_json(self) -> dict:
        return {"frequency": self.frequency, "date": self.date_column,
                "start": self.start_column, "end": self.end_column,
                "decimal_separator": self.data_format.decimal,
                "thousands_separator": self.data_format.thousands,
                "date_order": self.data_format.date_order,
                "columns": [{"column": t.column,
                             **({"meter_id": t.meter.pk, "unit": t.unit} if t.meter else
                                {"variable_id": t.variable.pk})} for t in self.targets]}


@dataclass(frozen=True)
class ColumnChoice:
    """What the person says one column holds: a meter (read in ``unit``, the meter's own
    unit when empty) or a variable."""

    column: str
    meter_id: int | None = None
    variable_id: int | None = None
    unit: str = ""


@dataclass(frozen=True)
class MappingChoice:
    """The person's column mapping, before it is checked against the organization's
    meters and variables (``services.build_mapping``): the frequency (empty: read from
    the dates), the date column or the start and end columns, what each mapped column
    holds, and how the file writes numbers and dates (``None``: as the file shows, see
    ``dataformat``)."""

    frequency: str = ""
    columns: tuple[ColumnChoice, ...] = ()
    date: str = ""
    start: str = ""
    end: str = ""
    decimal_separator: str | None = None
    thousands_separator: str | None = None
    date_order: str | None = None

    @classmethod
    def from_json(cls, raw) -> "MappingChoice":
        """The mapping from its JSON form (the API's ``mapping`` field): ``{"frequency",
        "date"`` or ``"start"`` and ``"end", "columns": [{"column", "meter_id", "unit"} |
        {"column", "variable_id"}], "decimal_separator", "thousands_separator",
        "date_order"}`` (the last three and the frequency optional). Only the shape is read here; a column entry that
        is not an object has no column name, which the service refuses."""
        if not isinstance(raw, dict):
            raise InvalidInput("The column mapping must be an object.",
                               fields={"mapping": "Give the mapping as a JSON object."})
        entries = raw.get("columns")
        columns = []
        for entry in entries if isinstance(entries, list) else []:
            entry = entry if isinstance(entry, dict) else {}
            columns.append(ColumnChoice(
                column=str(entry.get("column") or "").strip(),
                meter_id=_optional_id(entry.get("meter_id")),
                variable_id=_optional_id(entry.get("variable_id")),
                unit=str(entry.get("unit") or "").strip()))
        options = {key: None if raw.get(key) is None else str(raw[key])
                   for key in ("decimal_separator", "thousands_separator", "date_order")}
        return cls(frequency=str(raw.get("frequency") or "").strip(), columns=tuple(columns),
                   date=str(raw.get("date") or "").strip(),
                   start=str(raw.get("start") or "").strip(),
                   end=str(raw.get("end") or "").strip(), **options)


def _optional_id(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0  # named but not an id: no object has it, so the service refuses the column


@dataclass
class RowProblem:
    line: int
    message: str


@dataclass
class Plan:
    """What the file would write: (target, start, end, value) per cell."""

    readings: list[tuple] = field(default_factory=list)   # (meter, start, end, qty, kwh)
    values: list[tuple] = field(default_factory=list)     # (variable, start, end, value)
    periods: list[tuple] = field(default_factory=list)    # (start, end, line)
    rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)


# --- reading the file ---------------------------------------------------------------------------

def _text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime.datetime):
        return cell.date().isoformat() if cell.time() == datetime.time() else cell.isoformat()
    if isinstance(cell, datetime.date):
        return cell.isoformat()
    return str(cell).strip()


def read_table(data: bytes, file_name: str = "") -> Table:
    """The file's rows; refuses what is neither a readable CSV nor an XLSX workbook, and
    stops reading at the first line past ``MAX_ROWS``."""
    if not data:
        raise InvalidInput("The file is empty.", fields={"file": "The file is empty."})
    if len(data) > MAX_BYTES:
        raise InvalidInput("The file is too large.",
                           fields={"file": f"At most {MAX_BYTES // (1024 * 1024)} MB."})
    table = _read_xlsx(data) if data.startswith(b"PK\x03\x04") else _read_csv(data)
    if not table.headers or not any(table.headers):
        raise InvalidInput("The file has no header line.",
                           fields={"file": "Line 1 must name the columns."})
    if not table.rows:
        raise InvalidInput("The file has no data lines.",
                           fields={"file": "Below the header there are no data lines."})
    return table


class _Lines:
    """Counts the lines read below the header; refuses the first one past a limit."""

    def __init__(self):
        self.data = self.blank = 0

    def add(self, cells) -> bool:
        """Whether the line holds anything."""
        if any(_text(c) for c in cells):
            self.data += 1
            if self.data > MAX_ROWS:
                raise InvalidInput("The file has too many lines.", fields={
                    "file": f"At most {MAX_ROWS:,} data lines per file; split it in parts."})
            return True
        self.blank += 1
        if self.blank > MAX_BLANK_ROWS:
            raise InvalidInput("The file has too many blank lines.", fields={
                "file": f"More than {MAX_BLANK_ROWS:,} blank lines: delete them."})
        return False


def _read_csv(data: bytes) -> Table:
    if b"\x00" in data[:4096]:
        raise InvalidInput("This is not a CSV or XLSX file.",
                           fields={"file": "Upload a CSV (comma, semicolon or tab separated) "
                                           "or an Excel XLSX file."})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers, rows, lines = [], [], _Lines()
    try:
        for cells in reader:
            if not headers:
                headers = [c.strip() for c in cells]
                continue
            if lines.add(cells):
                rows.append((reader.line_num, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise InvalidInput("The CSV file cannot be read.",
                           fields={f"line {reader.line_num}": str(exc)}) from exc
    return Table(kind="csv", headers=headers, rows=rows)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    unreadable = InvalidInput("The Excel file cannot be read.",
                              fields={"file": "Upload an Excel XLSX workbook or a CSV file."})
    try:
        # openpyxl inflates what the archive holds: its declared sizes are checked first.
        check_zip(data, field="file", max_total=MAX_XLSX_UNPACKED)
        # Read-only: rows are parsed from the sheet's XML as they are asked for, so the
        # loop below stops reading at the first line past the limits.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise unreadable from exc
    try:
        sheet = workbook.worksheets[0]
        headers, rows, lines = [], [], _Lines()
        # One column more than allowed: a value there refuses the file.
        for number, values in enumerate(
                sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True), start=1):
            cells = list(values)
            if len(cells) > MAX_COLUMNS and _text(cells[MAX_COLUMNS]):
                raise InvalidInput("The file has too many columns.", fields={
                    "file": f"At most {MAX_COLUMNS} columns (line {number} has more)."})
            cells = cells[:MAX_COLUMNS]
            if number == 1:
                headers = [_text(c) for c in cells]
                while headers and not headers[-1]:
                    headers.pop()
                continue
            if lines.add(cells):
                rows.append((number, cells))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, ParseError) as exc:
        raise unreadable from exc
    finally:
        workbook.close()
    return Table(kind="xlsx", headers=headers, rows=rows)


# --- values -----------------------------------------------------------------------------------

def parse_date(cell, date_order: str = "dmy") -> datetime.date | None:
    """The day a cell names (a date with a time gives its day)."""
    when = parse_when(cell, date_order)
    return when.date() if isinstance(when, datetime.datetime) else when


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_of(day: datetime.date, frequency: str) -> tuple[datetime.date, datetime.date]:
    """The period a single date stands for: the day, the week from it, or its month."""
    if frequency == "monthly":
        return day.replace(day=1), month_end(day)
    if frequency == "weekly":
        return day, day + datetime.timedelta(days=6)
    return day, day


# --- how the file writes numbers and dates ----------------------------------------------------

def _positions(table: Table, mapping: Mapping) -> tuple[list[int], list[int]]:
    index = {name: i for i, name in enumerate(table.headers) if name}
    numbers = [index[t.column] for t in mapping.targets if t.column in index]
    dates = [index[c] for c in (mapping.date_column, mapping.start_column, mapping.end_column)
             if c in index]
    return numbers, dates


def detect(table: Table, *, number_columns: list[str], date_columns: list[str],
           decimal: str | None = None, date_order: str | None = None) -> Detected:
    """What the file shows about its separators, date order and period type, read from
    the named columns (see ``dataformat.detect_format``)."""
    index = {name: i for i, name in enumerate(table.headers) if name}
    return detect_format(table.rows, number_columns=[index[c] for c in number_columns
                                                     if c in index],
                         date_columns=[index[c] for c in date_columns if c in index],
                         decimal=decimal, date_order=date_order)


def resolve_format(table: Table, mapping: Mapping, choice: MappingChoice) -> None:
    """Settle ``mapping``'s data format and frequency: what the person chose, else what the
    file shows. A value that could be read two ways with nothing chosen refuses the file
    with the option named (``decimal_separator``, ``thousands_separator``, ``date_order``,
    ``frequency``), so nothing is guessed."""
    errors: dict[str, str] = {}
    if choice.decimal_separator is not None and choice.decimal_separator not in DECIMAL_SEPARATORS:
        errors["decimal_separator"] = "One of: " + ", ".join(
            f"“{k}” ({v})" for k, v in DECIMAL_SEPARATORS.items()) + "."
    if (choice.thousands_separator is not None
            and choice.thousands_separator not in THOUSANDS_SEPARATORS):
        errors["thousands_separator"] = "One of: " + ", ".join(
            f"“{k}” ({v})" for k, v in THOUSANDS_SEPARATORS.items()) + "."
    if choice.date_order is not None and choice.date_order not in DATE_ORDERS:
        errors["date_order"] = f"One of {', '.join(DATE_ORDERS)}."
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", fields=errors)
    numbers, dates = _positions(table, mapping)
    detected = detect_format(table.rows, number_columns=numbers, date_columns=dates,
                             decimal=choice.decimal_separator, date_order=choice.date_order)
    chosen = {"decimal_separator": choice.decimal_separator,
              "thousands_separator": choice.thousands_separator,
              "date_order": choice.date_order}
    errors = {key: message for key, message in detected.flags.items() if chosen[key] is None}
    decimal = choice.decimal_separator or detected.decimal or "."
    thousands = (choice.thousands_separator if choice.thousands_separator is not None
                 else detected.thousands or "")
    if thousands == decimal:
        errors["thousands_separator"] = (f"“{thousands}” is the decimal separator; the "
                                         "thousands separator must differ.")
    frequency = mapping.frequency or detected.frequency or ""
    if not frequency and dates and "date_order" not in errors:
        errors["frequency"] = ("The dates do not show whether each line is a day, a week, a "
                               "month or an interval within a day: choose it.")
    if frequency == "interval" and not mapping.date_column:
        errors["frequency"] = "Interval data needs one date-and-time column per line."
    elif frequency == "interval" and any(t.variable is not None for t in mapping.targets):
        errors["frequency"] = ("Interval data is summed per day, which suits meters only: "
                               "import the variables as daily, weekly or monthly values.")
    if errors:
        raise InvalidInput("Choose how the file writes numbers and dates: some values can "
                           "be read more than one way.", fields=errors, code="import_ambiguous")
    mapping.frequency = frequency
    mapping.data_format = DataFormat(decimal=decimal, thousands=thousands,
                                     date_order=choice.date_order or detected.date_order
                                     or "dmy")


# --- checking ----------------------------------------------------------------------------------

def check_rows(table: Table, mapping: Mapping, *, existing: dict | None = None) -> Plan:
    """Every problem of every line, and what would be written when there is none.

    Numbers and dates are read in ``mapping.data_format``. ``existing`` maps a meter or
    variable (the model instance) to the periods it already has: a list of
    ``(start, end)``; an imported period that overlaps one is refused.
    """
    plan = Plan(rows=len(table.rows))
    problems = plan.problems
    index = {name: i for i, name in enumerate(table.headers) if name}
    for name in {h for h in table.headers if h and table.headers.count(h) > 1}:
        problems.append(RowProblem(HEADER_LINE, f"Column “{name}” appears more than once."))
    needed = ([mapping.date_column] if mapping.date_column
              else [mapping.start_column, mapping.end_column])
    needed += [t.column for t in mapping.targets]
    for name in needed:
        if name not in index:
            problems.append(RowProblem(HEADER_LINE, f"Column “{name}” is not in the file "
                                                    f"(columns: {', '.join(table.headers)})."))
    if problems:
        return plan
    if mapping.frequency == "interval":
        _check_intervals(table, mapping, index, plan)
    else:
        _check_periods(table, mapping, index, plan)
    problems.extend(_series_problems(plan.periods))
    problems.extend(overlap_problems(plan.periods, mapping, existing or {}))
    problems.sort(key=lambda p: p.line)
    return plan


def _not_a_date(cell, column: str, date_order: str) -> str:
    example = "DD/MM/YYYY" if date_order == "dmy" else "MM/DD/YYYY"
    return f"“{_text(cell)}” in {column} is not a date (use YYYY-MM-DD or {example})."


def _value(target: ColumnTarget, raw, read) -> tuple[Decimal | None, str | None]:
    """The number of one cell, or what is wrong with it."""
    number = read(raw)
    if number is None:
        text = _text(raw)
        if text == "":
            return None, f"{target.column}: the value is missing."
        return None, f"{target.column}: “{text}” is not a number."
    if number < 0 and (target.meter is not None or target.variable.kind != "other"):
        return None, f"{target.column}: {number} is negative."
    return number, None


def _reader(data_format: DataFormat):
    def read(cell, decimal=data_format.decimal, thousands=data_format.thousands):
        return parse_number(cell, decimal, thousands)
    return read


def _check_periods(table: Table, mapping: Mapping, index: dict, plan: Plan) -> None:
    """Daily, weekly or monthly lines: one period per line."""
    problems, periods = plan.problems, plan.periods
    order = mapping.data_format.date_order
    read = _reader(mapping.data_format)
    for line, cells in table.rows:
        def cell(name, cells=cells):
            position = index[name]
            return cells[position] if position < len(cells) else None

        if table.kind == "csv" and len(cells) > len(table.headers):
            problems.append(RowProblem(line, f"{len(cells)} cells, but the header names "
                                             f"{len(table.headers)} columns."))
            continue
        if mapping.date_column:
            day = parse_date(cell(mapping.date_column), order)
            if day is None:
                problems.append(RowProblem(line, _not_a_date(cell(mapping.date_column),
                                                             mapping.date_column, order)))
                continue
            start, end = period_of(day, mapping.frequency)
        else:
            start = parse_date(cell(mapping.start_column), order)
            end = parse_date(cell(mapping.end_column), order)
            bad = [name for name, value in ((mapping.start_column, start),
                                            (mapping.end_column, end)) if value is None]
            if bad:
                problems.append(RowProblem(line, " ".join(
                    _not_a_date(cell(name), name, order) for name in bad)))
                continue
            if end < start:
                problems.append(RowProblem(line, f"The period ends ({display_date(end)}) before it "
                                                 f"starts ({display_date(start)})."))
                continue
        periods.append((start, end, line))
        row_problems = []
        for target in mapping.targets:
            number, problem = _value(target, cell(target.column), read)
            if problem:
                row_problems.append(problem)
            elif target.meter is not None:
                plan.readings.append((target.meter, start, end, number,
                                      number * target.kwh_per_unit))
            else:
                plan.values.append((target.variable, start, end, number))
        if row_problems:
            problems.append(RowProblem(line, " ".join(row_problems)))


MINUTES_PER_DAY = 24 * 60


def _check_intervals(table: Table, mapping: Mapping, index: dict, plan: Plan) -> None:
    """Lines within a day (15 min, 30 min, hourly …), each time the start of its interval:
    summed per meter into one reading per day. A day is complete when it holds every
    interval of the file's step (96 of 15 minutes); an incomplete day is refused, as a gap
    would be. Times are read as written: a day with a daylight-saving change has an hour
    more or less, so export the data in standard time (or UTC).

    Interval files are large (a month of 100 meters is 300,000 values), so the values are
    read a column at a time (``column_numbers``) and summed by slices of a day's lines."""
    problems = plan.problems
    order = mapping.data_format.date_order
    date_position = index[mapping.date_column]
    header_count = len(table.headers)
    kept: list[tuple[int, list]] = []         # the lines with a good, new time
    day_of_line: list[int] = []               # their day, as a position in ``days``
    days: list[datetime.date] = []
    day_position: dict[datetime.date, int] = {}
    first_lines: list[int] = []
    counts: list[int] = []
    seen: dict[datetime.datetime, int] = {}
    for line, cells in table.rows:
        if table.kind == "csv" and len(cells) > header_count:
            problems.append(RowProblem(line, f"{len(cells)} cells, but the header names "
                                             f"{header_count} columns."))
            continue
        raw = cells[date_position] if date_position < len(cells) else None
        when = parse_when(raw, order)
        if when is None:
            problems.append(RowProblem(line, _not_a_date(raw, mapping.date_column, order)))
            continue
        if not isinstance(when, datetime.datetime):
            when = datetime.datetime.combine(when, datetime.time())
        if when in seen:
            problems.append(RowProblem(line, f"The time {display_datetime(when)} is already on "
                                             f"line {seen[when]} (duplicate)."))
            continue
        seen[when] = line
        day = when.date()
        position = day_position.get(day)
        if position is None:
            position = day_position[day] = len(days)
            days.append(day)
            first_lines.append(line)
            counts.append(0)
        counts[position] += 1
        day_of_line.append(position)
        kept.append((line, cells))
    step = _interval_minutes(sorted(seen))
    if step is None:
        problems.append(RowProblem(HEADER_LINE, "The times are not spaced by a whole "
                                                "fraction of a day (e.g. 15 minutes)."))
        return
    # Each day's lines one after the other (as exports are): sum by slices.
    runs = [0] + [i for i in range(1, len(day_of_line)) if day_of_line[i] != day_of_line[i - 1]]
    contiguous = len(runs) == len(days)
    bounds = list(zip(runs, runs[1:] + [len(day_of_line)], strict=True))
    zero = Decimal(0)
    transposed = list(zip_longest(*(cells for _, cells in kept), fillvalue=None))
    line_problems: dict[int, list[str]] = {}
    totals = []
    read = _reader(mapping.data_format)
    for target in mapping.targets:
        position = index[target.column]
        column = (transposed[position] if position < len(transposed)
                  else (None,) * len(kept))
        numbers = column_numbers(column, mapping.data_format)
        if numbers is None or (numbers and min(numbers) < 0):
            numbers = []
            for (line, _), raw in zip(kept, column, strict=True):
                number, problem = _value(target, raw, read)
                if problem:
                    line_problems.setdefault(line, []).append(problem)
                numbers.append(number or zero)
        if contiguous:
            sums = [sum(numbers[a:b], zero) for a, b in bounds]
        else:
            sums = [zero] * len(days)
            for day, number in zip(day_of_line, numbers, strict=True):
                sums[day] += number
        totals.append(sums)
    problems.extend(RowProblem(line, " ".join(messages))
                    for line, messages in line_problems.items())
    per_day = MINUTES_PER_DAY // step
    for position, day in enumerate(days):
        if counts[position] != per_day:
            problems.append(RowProblem(first_lines[position], (
                f"{display_date(day)} has {counts[position]} of its {per_day} {step}-minute "
                "intervals; import whole days.")))
            continue
        plan.periods.append((day, day, first_lines[position]))
        for target, sums in zip(mapping.targets, totals, strict=True):
            total = sums[position]
            plan.readings.append((target.meter, day, day, total, total * target.kwh_per_unit))


def _interval_minutes(times: list[datetime.datetime]) -> int | None:
    """The step between consecutive times, in minutes, when it divides a day."""
    steps = [(b - a) for a, b in zip(times, times[1:], strict=False)]
    if not steps:
        return MINUTES_PER_DAY
    step = min(steps)
    minutes, rest = divmod(step.total_seconds(), 60)
    if rest or not minutes or MINUTES_PER_DAY % int(minutes):
        return None
    return int(minutes)


def _series_problems(periods) -> list[RowProblem]:
    """Duplicates, overlaps and gaps: the periods must form one regular series."""
    problems = []
    first_line: dict[datetime.date, int] = {}
    ordered = sorted(periods)
    previous = None
    for start, end, line in ordered:
        if start in first_line:
            problems.append(RowProblem(line, f"The period {display_date(start)} – "
                                             f"{display_date(end)} is already on line "
                                             f"{first_line[start]} (duplicate)."))
            continue
        first_line[start] = line
        if previous is not None:
            p_start, p_end, p_line = previous
            expected = p_end + datetime.timedelta(days=1)
            if start < expected:
                problems.append(RowProblem(line, f"The period {display_date(start)} – "
                                                 f"{display_date(end)} overlaps the one "
                                                 f"on line {p_line} ({display_date(p_start)} – "
                                                 f"{display_date(p_end)})."))
            elif start > expected:
                last_missing = start - datetime.timedelta(days=1)
                problems.append(RowProblem(line, "Gap before this line: nothing from "
                                                 f"{display_date(expected)} to "
                                                 f"{display_date(last_missing)} "
                                                 f"(previous period on line {p_line})."))
        previous = (start, end, line)
    return problems


def overlap_problems(periods, mapping: Mapping, existing: dict) -> list[RowProblem]:
    """The lines whose period overlaps one a target already has (``existing``, as for
    ``check_rows``)."""
    problems = []
    for target in mapping.targets:
        obj = target.meter or target.variable
        known = sorted(existing.get(obj, []))
        if not known:
            continue
        starts = [s for s, _ in known]
        for start, end, line in periods:
            # The last known period starting on or before ``end`` is the only candidate
            # besides its neighbours, since known periods don't overlap each other.
            i = bisect.bisect_right(starts, end) - 1
            if i >= 0 and known[i][1] >= start:
                k_start, k_end = known[i]
                problems.append(RowProblem(line, f"{target.column}: {obj} already has data for "
                                                 f"{display_date(k_start)} – "
                                                 f"{display_date(k_end)}."))
    return problems
