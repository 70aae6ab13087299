"""CSV files the portal writes, safe to open in a spreadsheet.

Excel, LibreOffice Calc and Google Sheets read a cell that begins with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula: an organization name such as
``=HYPERLINK("http://evil.example","x")`` in an export would run on the machine of the CB
employee who opens it ("CSV injection"). OWASP's rule
(https://owasp.org/www-community/attacks/CSV_Injection) is to put a single quote before
such a cell, which the spreadsheet shows as text; OWASP ASVS 5.0 (V1.2.10) adds the NUL
character to the list. Every CSV the portal writes goes through ``safe_writer``.

The quote is added to a cell that begins with a trigger character *or* with quotes
followed by one (``'=x`` becomes ``''=x``), so ``restore`` — for a reader of the portal's
own files, such as the registry import — can always take exactly one quote off again:
``restore(neutralise(v)) == v`` for every text, and an export → import → export round
trip never grows quotes. A cell beginning with a quote and no trigger after it
(``'t Hooft``) is written and read as it is.

The registry's Excel workbook does not need this: its cells are written as text, never as
formulas (``certification.certsearch.write_xlsx``).
"""

import csv
import re
from collections.abc import Iterable

# What a spreadsheet reads as the start of a formula (OWASP; NUL from ASVS 5.0 V1.2.10).
FORMULA_TRIGGERS = "=+-@\t\r\0"
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r\0]")
_ADDED_QUOTE = re.compile(r"'+[=+\-@\t\r\0]")
# The first characters worth a closer look: a set lookup is cheaper than the pattern, and a
# registry export neutralises tens of millions of cells.
_FIRST = frozenset("'" + FORMULA_TRIGGERS)
_SEPARATOR = "\x1f"  # unit separator: joins a row's cells for one search (``restore_row``)


def neutralise(value):
    """``value`` with a quote in front if a spreadsheet would read it as a formula.
    Anything that is not text (numbers, dates, None) is returned unchanged."""
    if isinstance(value, str) and value[:1] in _FIRST and _NEEDS_QUOTE.match(value):
        return "'" + value
    return value


def safe_row(row: Iterable) -> list:
    """Every cell of ``row`` neutralised (``neutralise`` inlined: it runs per cell)."""
    needs_quote = _NEEDS_QUOTE.match
    return [("'" + value if isinstance(value, str) and value[:1] in _FIRST
             and needs_quote(value) else value) for value in row]


def restore(value: str) -> str:
    """The text ``neutralise`` was given: one leading quote taken off where it added one."""
    if value[:1] == "'" and _ADDED_QUOTE.match(value):
        return value[1:]
    return value


def restore_row(values: list[str]) -> list[str]:
    """``restore`` for each cell; the same list when no cell starts with a quote (the common
    case is one string search, not a call per cell: a registry import reads millions)."""
    joined = _SEPARATOR.join(values)
    if not joined.startswith("'") and _SEPARATOR + "'" not in joined:
        return values
    return [restore(value) for value in values]


class SafeWriter:
    """``csv.writer`` whose rows are neutralised; ``writerow`` returns what the underlying
    writer returns (a streaming response yields it)."""

    def __init__(self, fh, **kwargs):
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def safe_writer(fh, **kwargs) -> SafeWriter:
    """A CSV writer for ``fh`` (``csv.writer``'s arguments) that neutralises formulas."""
    return SafeWriter(fh, **kwargs)
