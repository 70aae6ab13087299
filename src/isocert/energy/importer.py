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
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import ParseError

from isocert.core.errors import InvalidInput
from isocert.core.files import check_zip

FREQUENCIES = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}
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
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d")
_MONTH_FORMATS = ("%Y-%m", "%m/%Y", "%m.%Y", "%b %Y", "%B %Y")


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

    def as_json(self) -> dict:
        return {"frequency": self.frequency, "date": self.date_column,
                "start": self.start_column, "end": self.end_column,
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
    meters and variables (``services.build_mapping``): the frequency, the date column
    or the start and end columns, and what each mapped column holds."""

    frequency: str
    columns: tuple[ColumnChoice, ...] = ()
    date: str = ""
    start: str = ""
    end: str = ""

    @classmethod
    def from_json(cls, raw) -> "MappingChoice":
        """The mapping from its JSON form (the API's ``mapping`` field): ``{"frequency",
        "date"`` or ``"start"`` and ``"end", "columns": [{"column", "meter_id", "unit"} |
        {"column", "variable_id"}]}``. Only the shape is read here; a column entry that
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
        return cls(frequency=str(raw.get("frequency") or "").strip(), columns=tuple(columns),
                   date=str(raw.get("date") or "").strip(),
                   start=str(raw.get("start") or "").strip(),
                   end=str(raw.get("end") or "").strip())


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

def parse_date(cell) -> datetime.date | None:
    if isinstance(cell, datetime.datetime):
        return cell.date()
    if isinstance(cell, datetime.date):
        return cell
    text = _text(cell)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    for fmt in _MONTH_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date().replace(day=1)
        except ValueError:
            continue
    return None


def parse_number(cell) -> Decimal | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int | float):
        number = Decimal(str(cell))
    else:
        text = re.sub(r"[\s\u00a0\u202f']", "", _text(cell))
        if "," in text and "." not in text:
            text = text.replace(",", ".")  # decimal comma
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    return number if number.is_finite() else None


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_of(day: datetime.date, frequency: str) -> tuple[datetime.date, datetime.date]:
    """The period a single date stands for: the day, the week from it, or its month."""
    if frequency == "monthly":
        return day.replace(day=1), month_end(day)
    if frequency == "weekly":
        return day, day + datetime.timedelta(days=6)
    return day, day


# --- checking ----------------------------------------------------------------------------------

def check_rows(table: Table, mapping: Mapping, *, existing: dict | None = None) -> Plan:
    """Every problem of every line, and what would be written when there is none.

    ``existing`` maps a meter or variable (the model instance) to the periods it already
    has: a list of ``(start, end)``; an imported period that overlaps one is refused.
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

    periods = plan.periods
    for line, cells in table.rows:
        def cell(name, cells=cells):
            position = index[name]
            return cells[position] if position < len(cells) else None

        if table.kind == "csv" and len(cells) > len(table.headers):
            problems.append(RowProblem(line, f"{len(cells)} cells, but the header names "
                                             f"{len(table.headers)} columns."))
            continue
        if mapping.date_column:
            day = parse_date(cell(mapping.date_column))
            if day is None:
                problems.append(RowProblem(line, f"“{_text(cell(mapping.date_column))}” in "
                                                 f"{mapping.date_column} is not a date "
                                                 "(use YYYY-MM-DD)."))
                continue
            start, end = period_of(day, mapping.frequency)
        else:
            start, end = parse_date(cell(mapping.start_column)), parse_date(cell(mapping.end_column))
            bad = [name for name, value in ((mapping.start_column, start),
                                            (mapping.end_column, end)) if value is None]
            if bad:
                problems.append(RowProblem(line, " and ".join(
                    f"“{_text(cell(name))}” in {name}" for name in bad)
                    + " is not a date (use YYYY-MM-DD)."))
                continue
            if end < start:
                problems.append(RowProblem(line, f"The period ends ({end}) before it starts "
                                                 f"({start})."))
                continue
        periods.append((start, end, line))
        row_problems = []
        for target in mapping.targets:
            raw = cell(target.column)
            number = parse_number(raw)
            if _text(raw) == "":
                row_problems.append(f"{target.column}: the value is missing.")
            elif number is None:
                row_problems.append(f"{target.column}: “{_text(raw)}” is not a number.")
            elif number < 0 and (target.meter is not None or target.variable.kind != "other"):
                row_problems.append(f"{target.column}: {number} is negative.")
            elif target.meter is not None:
                plan.readings.append((target.meter, start, end, number,
                                      number * target.kwh_per_unit))
            else:
                plan.values.append((target.variable, start, end, number))
        if row_problems:
            problems.append(RowProblem(line, " ".join(row_problems)))

    problems.extend(_series_problems(periods))
    problems.extend(overlap_problems(periods, mapping, existing or {}))
    problems.sort(key=lambda p: p.line)
    return plan


def _series_problems(periods) -> list[RowProblem]:
    """Duplicates, overlaps and gaps: the periods must form one regular series."""
    problems = []
    first_line: dict[datetime.date, int] = {}
    ordered = sorted(periods)
    previous = None
    for start, end, line in ordered:
        if start in first_line:
            problems.append(RowProblem(line, f"The period {start} – {end} is already on line "
                                             f"{first_line[start]} (duplicate)."))
            continue
        first_line[start] = line
        if previous is not None:
            p_start, p_end, p_line = previous
            expected = p_end + datetime.timedelta(days=1)
            if start < expected:
                problems.append(RowProblem(line, f"The period {start} – {end} overlaps the one "
                                                 f"on line {p_line} ({p_start} – {p_end})."))
            elif start > expected:
                problems.append(RowProblem(line, f"Gap before this line: nothing from {expected} "
                                                 f"to {start - datetime.timedelta(days=1)} "
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
                                                 f"{k_start} – {k_end}."))
    return problems
