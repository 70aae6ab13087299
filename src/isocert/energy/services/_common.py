"""What the energy services share: cleaning a name or a period, picking an
organization's own objects by id, saving under a unique name, the audit event."""

import datetime

from django.db import IntegrityError, transaction

from isocert.accounts.models import Organization
from isocert.core.audit import record_event
from isocert.core.errors import InvalidInput
from isocert.core.validation import clean_date
from isocert.core.values import optional_int

NAME_LIMIT = 120




def clean_name(value: str | None, errors: dict, *, field: str = "name",
               label: str = "Name") -> str:
    text = (value or "").strip()
    if not text:
        errors[field] = f"{label} is required."
    elif len(text) > NAME_LIMIT:
        errors[field] = f"At most {NAME_LIMIT} characters."
    return text


def clean_period(start: datetime.date | None, end: datetime.date | None, errors: dict
                 ) -> tuple[datetime.date | None, datetime.date | None]:
    """Both dates given, the end not before the start; what is wrong goes to ``errors``
    so the other fields are checked too."""
    dates = []
    for value, field in ((start, "period_start"), (end, "period_end")):
        try:
            dates.append(clean_date(value, field))
        except InvalidInput as exc:
            errors.update(exc.fields)
            dates.append(None)
    start, end = dates
    if start and end and end < start:
        errors["period_end"] = "The period ends before it starts."
    return start, end


def _ids(value) -> list[int | None]:
    if value in (None, ""):
        return []
    values = value if isinstance(value, list | tuple | set) else [value]
    return [optional_int(v) for v in values]


def own(model, organization: Organization, value, field: str, errors: dict, label: str,
        *, many=False, required=True):
    """Objects of ``model`` belonging to the organization, named by id (one id, or a list
    of ids with ``many``); an id of another organization's object is an error on
    ``field``."""
    ids = _ids(value)
    if not ids:
        if required:
            errors[field] = f"Choose {label}."
        return [] if many else None
    found = {o.pk: o for o in model.objects.filter(organization=organization, pk__in=[
        i for i in ids if i is not None])}
    if len(found) != len(set(ids)) or None in ids:
        errors[field] = f"Choose {label} of {organization}."
        return [] if many else None
    return [found[i] for i in dict.fromkeys(ids)] if many else found[ids[0]]


def refuse(errors: dict) -> None:
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", fields=errors)


def unique_save(obj, field: str = "name") -> None:
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise InvalidInput(f"The name “{getattr(obj, field)}” is already used.",
                           fields={field: "This name is already used; choose another."})


def event(actor, action: str, obj, organization: Organization, payload: dict | None = None):
    record_event(actor=actor, action=action, obj=obj, organization_id=organization.pk,
                 payload=payload or {})
