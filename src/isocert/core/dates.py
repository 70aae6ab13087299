"""Dates and times as people read them: the portal's one display format (issue #19).

The formats live in the locale's format module (``core/formats/<lang>/formats.py``,
``FORMAT_MODULE_PATH``): "6 Dec 2026" and "6 Dec 2026, 14:30" in English. Templates use
``{{ value|date }}`` and ``{{ value|date:"DATETIME_FORMAT" }}``; Python text that a person
reads (messages, e-mails, PDFs, checklist details) uses these two functions. Machine
formats stay ISO 8601: the API, exports, signed data, ``<time datetime>`` and form values.
"""

import datetime
import re

from django.utils import formats, timezone


def _parsed(value):
    """A date or datetime from ``value``: itself, or parsed from ISO 8601 text."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return (datetime.date.fromisoformat(text) if len(text) == 10
                    else datetime.datetime.fromisoformat(text))
        except ValueError:
            return None
    return value


def _local(value):
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def display_date(value) -> str:
    """``value`` (a date, a datetime or ISO text) as DATE_FORMAT: "6 Dec 2026".

    A datetime shows its day in the portal's time zone; ``None`` and blank text give "",
    text that is not an ISO date comes back as it was.
    """
    parsed = _local(_parsed(value))
    if parsed is None:
        return "" if value is None else str(value).strip()
    if not isinstance(parsed, datetime.date):
        return str(value)
    return formats.date_format(parsed, "DATE_FORMAT")


def display_datetime(value) -> str:
    """``value`` (a datetime or ISO text) as DATETIME_FORMAT in the portal's time zone:
    "6 Dec 2026, 14:30"; a plain date shows as DATE_FORMAT."""
    parsed = _local(_parsed(value))
    if parsed is None:
        return "" if value is None else str(value).strip()
    if isinstance(parsed, datetime.datetime):
        return formats.date_format(parsed, "DATETIME_FORMAT")
    if isinstance(parsed, datetime.date):
        return formats.date_format(parsed, "DATE_FORMAT")
    return str(value)


ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})(?![\dT:])")


def display_dates_in(text: str) -> str:
    """``text`` with every ISO date in it ("2026-12-06", "2026-12-06 – 2026-12-12") shown
    as DATE_FORMAT; other text, months ("2026-12") among it, is left as it is. For labels
    built as machine keys (the energy series' periods) at the point they are shown."""
    return ISO_DATE.sub(lambda match: display_date(match.group(1)), text)


def start_of_day(day: datetime.date) -> datetime.datetime:
    """The first moment of ``day`` in the portal's time zone (what ``__date`` lookups and
    ``timezone.localdate`` call that day), for range filters on an indexed time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
