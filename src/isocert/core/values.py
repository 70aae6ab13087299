"""Small value parsers shared by views and services."""

from dataclasses import dataclass


def optional_int(value) -> int | None:
    """``int(value)``, or None when the value is missing or not a whole number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Check:
    """One line of a checklist: what is checked, whether it holds, and why."""

    key: str
    label: str
    ok: bool
    detail: str
