"""Input cleaners the services share: each returns the clean value, or raises
``InvalidInput`` naming the field, so a page shows the message beside it and the API
answers 422 with the one error shape."""

import datetime

from django.utils.dateparse import parse_date

from .errors import InvalidInput

DATE_HINT = "Enter a date (YYYY-MM-DD)."


def clean_date(value, field: str, *, default: datetime.date | None = None,
               required: bool = True) -> datetime.date | None:
    """A date from a ``date``, a ``datetime`` (its day) or ``YYYY-MM-DD`` text; empty gives
    ``default`` when there is one, else None when the date is not ``required``."""
    if value in (None, ""):
        if default is not None or not required:
            return default
        raise InvalidInput("Please give a date.", fields={field: DATE_HINT})
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        parsed = parse_date(str(value))
    except ValueError:  # well formed, but no such day (2026-02-30)
        parsed = None
    if parsed is None:
        raise InvalidInput("Please give a valid date.", fields={field: DATE_HINT})
    return parsed


def collect(errors: dict, clean, *args, **kwargs):
    """``clean(*args, **kwargs)``, or None with its field messages added to ``errors``: for
    services that check every field before answering with all the problems at once."""
    try:
        return clean(*args, **kwargs)
    except InvalidInput as exc:
        errors.update(exc.fields)
        return None


def clean_reason(value, *, field: str = "reason", what: str = "the reason",
                 message: str = "", limit: int = 5000) -> str:
    """A reason of at least 5 characters (trimmed, cut at ``limit``); ``message`` replaces
    the default "Please give {what}."."""
    text = (value or "").strip()
    if len(text) < 5:
        raise InvalidInput(message or f"Please give {what}.",
                           fields={field: f"Give {what} (at least 5 characters)."})
    return text[:limit]


def choice_labels(choices) -> str:
    """The choices as the page shows them, by their labels: "Not checked, Conforming or
    Finding raised". ``choices``: a ``TextChoices`` class or ``(value, label)`` pairs."""
    labels = [str(label) for _, label in getattr(choices, "choices", choices)]
    if len(labels) < 2:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} or {labels[-1]}"


def choice_error(choices, *, what: str) -> str:
    """ "Choose {what}: …" naming the choices by their labels — never the internal codes a
    page does not show (``after_majors``); API clients find the codes in the OpenAPI
    document."""
    return f"Choose {what}: {choice_labels(choices)}."
