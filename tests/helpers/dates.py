"""Dates as the portal shows them to people ("6 Dec 2026"; docs/configuration.md), for
assertions on dates a test computes from today. A fixed date is written out literally."""

import datetime


def shown(day: datetime.date) -> str:
    """``day`` in the display format: "6 Dec 2026"."""
    return f"{day.day} {day:%b %Y}"
