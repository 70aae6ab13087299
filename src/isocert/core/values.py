"""Small value parsers shared by views and services."""


def optional_int(value) -> int | None:
    """``int(value)``, or None when the value is missing or not a whole number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
