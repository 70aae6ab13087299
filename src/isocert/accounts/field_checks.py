"""Checks of the organization-profile and site fields the services are given.

Each returns the model values, or raises ``InvalidInput`` naming every wrong field at
once (a form or an API client shows them all together).
"""

from decimal import Decimal, InvalidOperation

from isocert.catalog.models import Country, Sector
from isocert.core.errors import InvalidInput


def clean_text(value, field: str, label: str, *, required: bool, max_length: int) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{label} is required.", fields={field: f"{label} is required."})
    if len(text) > max_length:
        raise InvalidInput(f"{label} is too long.",
                           fields={field: f"At most {max_length} characters."})
    return text


def profile_values(data: dict) -> tuple[dict, list[int] | None]:
    """Check the given profile fields; every problem at once, by field."""
    errors: dict[str, str] = {}
    values: dict = {}
    specs = {
        "legal_name": ("Legal name", True, 200),
        "trading_name": ("Trading name", False, 200),
        "registered_address": ("Registered address", True, 2000),
        "legal_identifier": ("Legal identifier", False, 60),
        "scope_statement": ("Scope statement", False, 5000),
    }
    for field, (label, required, max_length) in specs.items():
        if field not in data:
            continue
        try:
            values[field] = clean_text(data[field], field, label, required=required,
                                        max_length=max_length)
        except InvalidInput as exc:
            errors.update(exc.fields)
    if "country" in data:
        code = (data["country"] or "").strip().upper()
        country = Country.objects.filter(code=code).first()
        if country is None:
            errors["country"] = "Choose a country (ISO 3166 two-letter code)."
        values["country"] = country
    sector_codes = None
    if "sector_codes" in data:
        try:
            sector_codes = sorted({int(c) for c in data["sector_codes"] or []})
        except (TypeError, ValueError):
            sector_codes = []
            errors["sector_codes"] = "IAF sector codes are numbers, e.g. 17."
        known = set(Sector.objects.filter(code__in=sector_codes).values_list("code", flat=True))
        unknown = [c for c in sector_codes if c not in known]
        if unknown:
            errors["sector_codes"] = f"Unknown IAF sector code(s): {', '.join(map(str, unknown))}."
    if errors:
        raise InvalidInput("Please correct the organization profile.", fields=errors)
    return values, sector_codes


def site_values(data: dict, *, partial: bool) -> dict:
    """Check the given site fields (all of a new site's when not ``partial``)."""
    errors: dict[str, str] = {}
    values: dict = {}
    if not partial or "name" in data:
        try:
            values["name"] = clean_text(data.get("name"), "name", "Site name", required=True,
                                         max_length=150)
        except InvalidInput as exc:
            errors.update(exc.fields)
    if not partial or "address" in data:
        try:
            values["address"] = clean_text(data.get("address"), "address", "Address",
                                            required=True, max_length=2000)
        except InvalidInput as exc:
            errors.update(exc.fields)
    for name, limit in (("city", 100), ("postcode", 20)):
        if name in data:
            value = (data.get(name) or "").strip()
            if len(value) > limit:
                errors[name] = f"At most {limit} characters."
            values[name] = value
    if not partial or "effective_personnel" in data:
        try:
            personnel = Decimal(str(data.get("effective_personnel")))
            if not personnel.is_finite() or personnel <= 0 or personnel > Decimal("9999999"):
                raise InvalidOperation
            values["effective_personnel"] = personnel.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            errors["effective_personnel"] = "Enter the effective personnel as a number above 0."
    if not partial or "shifts" in data:
        try:
            shifts = int(data.get("shifts") or 1)
            if not 1 <= shifts <= 5:
                raise ValueError
            values["shifts"] = shifts
        except (TypeError, ValueError):
            errors["shifts"] = "Enter the number of shifts (1 to 5)."
    if "activities" in data:
        values["activities"] = (data.get("activities") or "").strip()[:5000]
    if data.get("country") not in (None, ""):
        # Empty means the organization's country (``add_site``); on an update it keeps the
        # site's own.
        country = Country.objects.filter(code=str(data["country"]).strip().upper()).first()
        if country is None:
            errors["country"] = "Choose a country (ISO 3166 two-letter code)."
        values["country"] = country
    if "is_central_function" in data:
        values["is_central_function"] = bool(data["is_central_function"])
    if errors:
        raise InvalidInput("Please correct the site.", fields=errors)
    return values
