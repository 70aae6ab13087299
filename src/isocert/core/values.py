"""Small value parsers shared by views and services."""

from dataclasses import dataclass
from typing import Any


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


class _Unset:
    """The default of an update service's fields: "leave as it is" (``None`` is a value)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def given(**fields) -> dict:
    """The fields a caller passed, without those left ``UNSET``."""
    return {name: value for name, value in fields.items() if value is not UNSET}
