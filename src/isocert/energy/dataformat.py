"""How an import file writes its numbers and dates, and what its lines stand for.

A file from Germany writes twelve and a half thousand as ``12.500`` and twelve and a half
as ``12,5``; one from the United States writes ``12,500`` and ``12.5``, and the 3 April
2025 as ``04/03/2025`` where a French file writes ``03/04/2025``. Read with the wrong
convention such a value is wrong by a factor of 1,000 or lands in another month, and
nothing in the file says so. So the person chooses — or confirms what the file shows — the
**decimal separator**, the **thousands separator** and the **date order**; a value that
could be read both ways (``12,500``, ``03/04/2025``) is flagged by ``detect_format`` and is
never resolved silently: ISO 50001:2018 §6.6 requires energy data that is accurate and
repeatable, and the measurement and verification (ISO 50015, data quality) can be no
better than the numbers read here.

``detect_format`` looks at every value of the mapped columns: a value with both marks
(``1.234,5``) or grouping that can only be thousands (``1,234,567``, ``1234,5``) decides;
a value such as ``12,500`` alone does not. A day above 12 (``13/04/2025``) decides the
date order of its column; ISO dates (``2025-04-03``) never need one. The period type
(daily, weekly, monthly, or intervals within a day) is read from the spacing of the dates.
"""

import datetime
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import repeat, zip_longest

DECIMAL_SEPARATORS = {".": "Point — 1234.5", ",": "Comma — 1234,5"}
# "" = no grouping; a space stands for every kind of space (no-break and narrow too).
THOUSANDS_SEPARATORS = {"": "None — 12500", ",": "Comma — 12,500", ".": "Point — 12.500",
                        " ": "Space — 12 500", "'": "Apostrophe — 12'500"}
DATE_ORDERS = {"dmy": "Day first — 03/04/2025 is 3 April",
               "mdy": "Month first — 03/04/2025 is 4 March"}
# The period each line stands for; "interval" lines (15 min, 30 min, hourly) are summed
# into whole days on import.
FREQUENCIES = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly",
               "interval": "Intervals within a day (summed per day)"}

_SPACES = re.compile(r"[\s\u00a0\u202f]")
_MONTHS = {name: i for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    start=1)}
_TIME = r"(?:[T ,]\s*(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
_ISO_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})" + _TIME + r"$")
_LOCAL_DATE = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})" + _TIME + r"$")
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})$")
_LOCAL_MONTH = re.compile(r"(\d{1,2})[./](\d{4})$")
_NAMED_MONTH = re.compile(r"([A-Za-z]{3,9})\.? (\d{4})$")


@dataclass(frozen=True)
class DataFormat:
    """How the file writes numbers and dates (``decimal``, ``thousands`` as in
    ``DECIMAL_SEPARATORS`` and ``THOUSANDS_SEPARATORS``; ``date_order`` as in
    ``DATE_ORDERS``, used only for dates that are not ISO)."""

    decimal: str = "."
    thousands: str = ""
    date_order: str = "dmy"


@dataclass
class Detected:
    """What the file shows: a value per option where it decides, ``None`` where it does
    not, and for each undecided option a message naming a value that could be read both
    ways (``flags``, keyed ``decimal_separator``, ``thousands_separator``, ``date_order``)."""

    decimal: str | None = None
    thousands: str | None = None
    date_order: str | None = None
    frequency: str | None = None
    flags: dict[str, str] = field(default_factory=dict)


# --- numbers ----------------------------------------------------------------------------------

@functools.cache
def _number_pattern(decimal: str, thousands: str) -> re.Pattern:
    group = r"[ \u00a0\u202f]" if thousands == " " else re.escape(thousands)
    whole = rf"(?:\d{{1,3}}(?:{group}\d{{3}})+|\d+)" if thousands else r"\d+"
    return re.compile(rf"([+-]?)({whole})?(?:{re.escape(decimal)}(\d+))?")


def parse_number(cell, decimal: str = ".", thousands: str = "") -> Decimal | None:
    """The number a cell holds, read with the given separators; ``None`` when it is not
    one. Grouping must be regular (``1,234,567``), so ``12,50`` with a comma for thousands
    is not a number. Excel cells holding numbers are numbers already.

    >>> parse_number("12,500"), parse_number("12,500", thousands=","), parse_number("12,500", ",")
    (None, Decimal('12500'), Decimal('12.500'))
    """
    if isinstance(cell, bool) or cell is None:
        return None
    if isinstance(cell, int | float):
        number = Decimal(str(cell))
        return number if number.is_finite() else None
    text = str(cell).strip()
    match = _number_pattern(decimal, thousands).fullmatch(text)
    if match is None:
        return None
    sign, whole, fraction = match.groups()
    if whole is None and fraction is None:
        return None
    if thousands and whole:
        whole = _SPACES.sub("", whole) if thousands == " " else whole.replace(thousands, "")
    try:
        return Decimal(f"{sign}{whole or '0'}.{fraction}" if fraction else f"{sign}{whole}")
    except InvalidOperation:  # pragma: no cover - the pattern admits digits only
        return None


@functools.cache
def _bad_value(decimal: str, thousands: str) -> re.Pattern:
    """Finds the first line of a column (values joined by newlines) that is not a number
    in the format: the negative lookahead matches where a number does not fill the line."""
    group = r"[ \u00a0\u202f]" if thousands == " " else re.escape(thousands)
    whole = rf"(?:\d{{1,3}}(?:{group}\d{{3}})+|\d+)" if thousands else r"\d+"
    mark = re.escape(decimal)
    return re.compile(rf"^(?![+-]?(?:{whole}(?:{mark}\d+)?|{mark}\d+)$)", re.MULTILINE)


_NO_SPACES = str.maketrans("", "", " \u00a0\u202f")


def column_numbers(column, data_format: DataFormat) -> list[Decimal] | None:
    """Every value of a column of text as a number, read at C speed (one pattern over the
    joined column, then ``Decimal`` over the normalized text); ``None`` when any cell is
    not text or not a number, so the caller reads the cells one by one and reports each
    bad one by its line."""
    if not column or set(map(type, column)) != {str}:
        return None
    joined = "\n".join(column)
    if _bad_value(data_format.decimal, data_format.thousands).search(joined):
        return None
    if data_format.thousands == " ":
        joined = joined.translate(_NO_SPACES)
    elif data_format.thousands:
        joined = joined.replace(data_format.thousands, "")
    if data_format.decimal != ".":
        joined = joined.replace(data_format.decimal, ".")
    return list(map(Decimal, joined.split("\n")))


def _number_evidence(text: str) -> tuple[str | None, str | None, bool]:
    """What one value says: (decimal separator, thousands separator, ambiguous)."""
    compact = _SPACES.sub(" ", text.strip()).lstrip("+-")
    if not compact or not compact[0].isdigit() and compact[0] not in ".,":
        return None, None, False
    spaced = " " in compact or "'" in compact
    grouping = (" " if " " in compact else "'") if spaced else None
    compact = compact.replace(" ", "").replace("'", "")
    commas, points = compact.count(","), compact.count(".")
    if commas and points:
        decimal = "," if compact.rfind(",") > compact.rfind(".") else "."
        return decimal, "." if decimal == "," else ",", False
    if not commas and not points:
        return None, grouping, False
    mark = "," if commas else "."
    other = "." if mark == "," else ","
    if commas + points > 1:            # 1,234,567: only thousands repeat
        return other, mark, False
    whole, _, fraction = compact.partition(mark)
    if len(fraction) == 3 and 1 <= len(whole) <= 3 and whole != "0" and grouping is None:
        return None, None, True         # 12,500: twelve and a half, or twelve thousand five hundred
    return mark, grouping, False        # 1234,5 · 0,125 · 12,50: a decimal mark


def _detect_numbers(values, detected: Detected, decimal: str | None = None) -> None:
    """Decide the separators from the values; ``decimal`` is the person's choice, when
    made (then only the thousands separator is read from the file)."""
    decimals: dict[str, str] = {decimal: "your choice"} if decimal else {}
    groupings: dict[str, str] = {}
    ambiguous = []
    for line, text in values:
        label = f"line {line}"
        mark, grouping, unclear = _number_evidence(text)
        if mark and not decimal:
            decimals.setdefault(mark, f"“{text}” ({label})")
        if grouping:
            groupings.setdefault(grouping, f"“{text}” ({label})")
        if unclear and len(ambiguous) < 2 and all(text[-4] != a[0][-4] for a in ambiguous):
            ambiguous.append((text, label))   # one of each mark: 12,500 and 12.500
        if len(decimals) > 1:
            break
    if len(decimals) > 1:
        detected.flags["decimal_separator"] = (
            f"The file writes decimals both ways ({' and '.join(decimals.values())}): choose "
            "the decimal separator; values written the other way are reported by line.")
        return
    if not decimals and ambiguous:
        text, label = ambiguous[0]
        detected.flags["decimal_separator"] = (
            f"“{text}” ({label}) may be {_read(text, ',')} or {_read(text, '.')}: choose the "
            "decimal separator (nothing in the file decides it).")
        return
    detected.decimal = next(iter(decimals), ".")   # no separator anywhere: nothing to decide
    for text, label in ambiguous:
        # 12,500 in a file whose decimal mark is the point: the comma groups thousands.
        if text[-4] != detected.decimal:
            groupings.setdefault(text[-4], f"“{text}” ({label})")
    groupings.pop(detected.decimal, None)
    if len(groupings) > 1:
        detected.flags["thousands_separator"] = (
            f"The file groups thousands in more than one way ({' and '.join(groupings.values())})"
            ": choose the thousands separator.")
    else:
        detected.thousands = next(iter(groupings), "")


def _read(text: str, decimal: str) -> str:
    number = parse_number(text, decimal, "." if decimal == "," else ",")
    return f"{number.normalize():,f}" if number is not None else text


# --- dates ------------------------------------------------------------------------------------

def _time(hour, minute, second) -> datetime.time | None:
    if hour is None:
        return None
    return datetime.time(int(hour), int(minute), int(second or 0))


def parse_when(cell, date_order: str = "dmy"):
    """The date (or date and time) a cell holds, ``None`` when it is not one. ISO dates
    (``2025-04-03``, ``2025/04/03``) and months (``2025-04``, ``04/2025``, ``Apr 2025``) read
    alike everywhere; ``03/04/2025`` (also with ``.`` or ``-``) is read in ``date_order``.
    A time (``2025-04-03 00:15``) gives a ``datetime``."""
    if isinstance(cell, datetime.datetime):
        return cell.date() if cell.time() == datetime.time() else cell
    if isinstance(cell, datetime.date):
        return cell
    if cell is None:
        return None
    text = str(cell).strip()
    try:
        if match := _ISO_DATE.match(text):
            year, month, day, *clock = match.groups()
        elif match := _LOCAL_DATE.match(text):
            first, _, second, year, *clock = match.groups()
            day, month = (first, second) if date_order == "dmy" else (second, first)
        elif match := _ISO_MONTH.match(text):
            return datetime.date(int(match[1]), int(match[2]), 1)
        elif match := _LOCAL_MONTH.match(text):
            return datetime.date(int(match[2]), int(match[1]), 1)
        elif (match := _NAMED_MONTH.match(text)) and match[1][:3].lower() in _MONTHS:
            return datetime.date(int(match[2]), _MONTHS[match[1][:3].lower()], 1)
        else:
            return None
        day = datetime.date(int(year), int(month), int(day))
        clock = _time(*clock)
    except ValueError:
        return None
    return day if clock is None else datetime.datetime.combine(day, clock)


def _detect_date_order(values, detected: Detected) -> None:
    orders: dict[str, str] = {}
    ambiguous = None
    for line, text in values:
        match = _LOCAL_DATE.match(text)
        if match is None:
            continue
        label = f"line {line}"
        first, second = int(match[1]), int(match[3])
        if first > 12 and second <= 12:
            orders.setdefault("dmy", f"“{text}” ({label})")
        elif second > 12 and first <= 12:
            orders.setdefault("mdy", f"“{text}” ({label})")
        elif first != second and ambiguous is None:
            ambiguous = f"“{text}” ({label})"
        if len(orders) > 1:
            break
    if len(orders) > 1:
        detected.flags["date_order"] = (
            f"The dates are written both ways ({' and '.join(orders.values())}): choose the "
            "date order; dates written the other way are reported by line.")
    elif orders:
        detected.date_order = next(iter(orders))
    elif ambiguous:
        detected.flags["date_order"] = (
            f"{ambiguous} may be day first or month first: choose the date order (no date "
            "in the file has a day above 12).")


def frequency_of(whens: list) -> str | None:
    """The period type the dates of a date column show: ``interval`` when they carry times
    less than a day apart, else by the smallest step between consecutive dates (1 day:
    daily, 7: weekly, 28–31: monthly); ``None`` when it cannot be told."""
    if not whens:
        return None
    if any(isinstance(w, datetime.datetime) for w in whens):
        return "interval"
    days = sorted(set(whens))
    if len(days) < 2:
        return "monthly" if days[0].day == 1 else "daily"
    step = min((b - a).days for a, b in zip(days, days[1:], strict=False))
    if step == 1:
        return "daily"
    if step == 7:
        return "weekly"
    if 28 <= step <= 31:
        return "monthly"
    return None


def detect_format(rows, *, number_columns: list[int], date_columns: list[int],
                  decimal: str | None = None, date_order: str | None = None) -> Detected:
    """What the file shows about its separators, date order and period type.

    ``rows`` are ``(line, cells)``; the columns are positions in ``cells``. Text cells are
    read; cells Excel already holds as numbers or dates need no convention. A ``decimal``
    separator or ``date_order`` the person chose is taken as decided.
    """
    detected = Detected()
    _detect_numbers(number_samples(rows, number_columns), detected, decimal)
    if date_order:
        detected.date_order = date_order
    else:
        _detect_date_order(((line, cells[p].strip()) for line, cells in rows for p in date_columns
                            if p < len(cells) and isinstance(cells[p], str)), detected)
    if date_columns and "date_order" not in detected.flags:
        order = detected.date_order or "dmy"
        position = date_columns[0]
        # The spacing shows in the first lines; a file irregular further on is refused
        # line by line when it is checked.
        whens = [parse_when(cells[position], order) for _, cells in rows[:FREQUENCY_SAMPLE]
                 if position < len(cells)]
        detected.frequency = frequency_of([w for w in whens if w is not None])
    return detected


FREQUENCY_SAMPLE = 2000
# A value's evidence depends only on where its marks are and whether it starts with a zero:
# the digits 1-9 are all alike.
_SHAPE = str.maketrans("123456789", "999999999")


def number_samples(rows, columns: list[int]) -> list[tuple[int, str]]:
    """``(line, text)`` of the first value of each shape in the columns, in file order —
    ten million values of a metering export come down to a few dozen samples with the
    same evidence, found at C speed."""
    if not rows or not columns:
        return []
    transposed = list(zip_longest(*(cells for _, cells in rows), fillvalue=None))
    found: list[tuple[int, int]] = []
    for position in columns:
        column = transposed[position] if position < len(transposed) else ()
        if set(map(type, column)) == {str}:
            shapes = list(map(str.translate, column, repeat(_SHAPE)))
            first = dict(zip(reversed(shapes), range(len(shapes) - 1, -1, -1), strict=True))
        else:
            first = {}
            for i, cell in enumerate(column):
                if isinstance(cell, str):
                    first.setdefault(cell.translate(_SHAPE), i)
        found.extend((i, position) for shape, i in first.items() if shape.strip())
    found.sort()
    return [(rows[i][0], transposed[position][i].strip()) for i, position in found]
