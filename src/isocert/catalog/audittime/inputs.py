"""Reading the audit-time input: a JSON object checked field by field (types, ranges,
known standards and complexities), each refusal an ``AuditTimeInputError`` naming the
dotted field."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from .tables import (
    CODE_ALIASES,
    COMPLEXITY_LEVELS,
    ENMS,
    ENMS_FIELDS,
    ENMS_LEVELS,
    MAX_INTEGRATION_REDUCTION_PCT,
    STANDARD_KEYS,
    STANDARD_TABLES,
    TOP_LEVEL_KEYS,
    AuditTimeInputError,
    Band,
    load_tables,
)

MAX_MAGNITUDE = Decimal(10) ** 12
MAX_DECIMAL_PLACES = 30


def _number(value: Any, field: str) -> Fraction:
    if value is None:
        raise AuditTimeInputError(field, "is required")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise AuditTimeInputError(field, f"must be a number, not {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise AuditTimeInputError(field, f"must be a number, not {value!r}")
    if not number.is_finite():
        raise AuditTimeInputError(field, f"must be a finite number, not {value!r}")
    # Exact arithmetic on 1e99999999 would build a 100-million-digit integer:
    # bound the size before converting.
    if number.copy_abs() >= MAX_MAGNITUDE:
        raise AuditTimeInputError(field, "is too large")
    if number.as_tuple().exponent < -MAX_DECIMAL_PLACES:
        raise AuditTimeInputError(field, f"has more than {MAX_DECIMAL_PLACES} decimal places")
    return Fraction(number)


def _whole(value: Any, field: str, *, minimum: int) -> int:
    number = _number(value, field)
    if number.denominator != 1:
        raise AuditTimeInputError(field, f"must be a whole number, not {value!r}")
    if number < minimum:
        raise AuditTimeInputError(field, f"must be at least {minimum}, not {value!r}")
    return int(number)


def _object(value: Any, field: str, allowed: set[str]) -> dict:
    if not isinstance(value, dict):
        raise AuditTimeInputError(field, "must be an object")
    for key in value:
        if key not in allowed:
            raise AuditTimeInputError(_join(field, str(key)), "is not a known field")
    return value


def _list(value: Any, field: str) -> list:
    if not isinstance(value, list | tuple):
        raise AuditTimeInputError(field, "must be a list")
    return list(value)


def _join(*parts: Any) -> str:
    return ".".join(str(p) for p in parts if p != "")


@dataclass(frozen=True)
class StandardInput:
    code: str
    field: str
    personnel: Fraction  # effective personnel including part-time FTE
    part_time: tuple[tuple[int, Fraction], ...]  # (headcount, hours per day)
    part_time_fte: Fraction
    complexity: str | None
    energy: tuple[Fraction, int, int] | None  # ISO 50001 only


def _parse_standard(raw: Any, index: int) -> StandardInput:
    field = f"standards.{index}"
    raw = _object(raw, field, STANDARD_KEYS)
    code_raw = raw.get("code")
    if not isinstance(code_raw, str) or not code_raw.strip():
        raise AuditTimeInputError(f"{field}.code", "is required (e.g. \"ISO 9001\")")
    code = CODE_ALIASES.get(" ".join(code_raw.split()).upper())
    if code is None:
        known = ", ".join(STANDARD_TABLES)
        raise AuditTimeInputError(f"{field}.code",
                                  f"unknown standard {code_raw!r}; use one of {known}")

    personnel = _number(raw.get("effective_personnel"), f"{field}.effective_personnel")
    if personnel < 1:
        raise AuditTimeInputError(f"{field}.effective_personnel", "must be at least 1")

    part_time = []
    if raw.get("part_time") is not None:
        for i, item in enumerate(_list(raw["part_time"], f"{field}.part_time")):
            item_field = f"{field}.part_time.{i}"
            item = _object(item, item_field, {"headcount", "hours_per_day"})
            headcount = _whole(item.get("headcount"), f"{item_field}.headcount", minimum=1)
            hours = _number(item.get("hours_per_day"), f"{item_field}.hours_per_day")
            if not 0 < hours <= 24:
                raise AuditTimeInputError(f"{item_field}.hours_per_day",
                                          "must be more than 0 and at most 24")
            part_time.append((headcount, hours))
    # Part-time staff count by hours worked against an 8-hour day (IAF MD 5).
    full_day = load_tables()["audit_day_hours"]
    part_time_fte = sum((Fraction(n) * h / full_day for n, h in part_time), Fraction(0))
    personnel += part_time_fte

    complexity = raw.get("complexity")
    if code in COMPLEXITY_LEVELS:
        levels = COMPLEXITY_LEVELS[code]
        if complexity is None or (isinstance(complexity, str) and not complexity.strip()):
            raise AuditTimeInputError(f"{field}.complexity",
                                      f"is required for {code} ({'|'.join(levels)})")
        if not isinstance(complexity, str) or complexity.strip().lower() not in levels:
            raise AuditTimeInputError(f"{field}.complexity",
                                      f"must be one of {'|'.join(levels)} for {code}")
        complexity = complexity.strip().lower()
    elif complexity not in (None, ""):
        reason = ("is computed from the energy data for ISO 50001" if code == ENMS
                  else f"does not apply to {code}")
        raise AuditTimeInputError(f"{field}.complexity", reason)
    else:
        complexity = None

    energy = None
    if code == ENMS:
        consumption = _number(raw.get("annual_energy_consumption_tj"),
                              f"{field}.annual_energy_consumption_tj")
        if consumption <= 0:
            raise AuditTimeInputError(f"{field}.annual_energy_consumption_tj",
                                      "must be more than 0")
        types = _whole(raw.get("energy_types"), f"{field}.energy_types", minimum=1)
        seus = _whole(raw.get("significant_energy_uses"), f"{field}.significant_energy_uses",
                      minimum=1)
        energy = (consumption, types, seus)
    else:
        for name in ENMS_FIELDS:
            if raw.get(name) is not None:
                raise AuditTimeInputError(f"{field}.{name}", "applies to ISO 50001 only")
    return StandardInput(code, field, personnel, tuple(part_time), part_time_fte, complexity, energy)


def parse_input(data: Any):
    """Validate everything before computing anything; the first problem found is raised."""
    if not isinstance(data, dict):
        raise AuditTimeInputError("input", "must be a JSON object")
    _object(data, "", TOP_LEVEL_KEYS)

    if data.get("standards") is None:
        raise AuditTimeInputError("standards", "is required")
    raw_standards = _list(data["standards"], "standards")
    if not raw_standards:
        raise AuditTimeInputError("standards", "must name at least one standard")
    standards = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_standards):
        standard = _parse_standard(raw, i)
        if standard.code in seen:
            raise AuditTimeInputError(f"standards.{i}.code",
                                      f"{standard.code} is listed twice (also standards."
                                      f"{seen[standard.code]})")
        seen[standard.code] = i
        standards.append(standard)
    order = list(STANDARD_TABLES)
    standards.sort(key=lambda s: order.index(s.code))

    adjustments = []
    if data.get("adjustments") is not None:
        for i, item in enumerate(_list(data["adjustments"], "adjustments")):
            item = _object(item, f"adjustments.{i}", {"reason", "percent"})
            reason = item.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                raise AuditTimeInputError(f"adjustments.{i}.reason",
                                          "is required: say why the time changes")
            if not _plain_text(reason):
                raise AuditTimeInputError(f"adjustments.{i}.reason",
                                          "must be plain text (no NUL, no lone surrogate)")
            adjustments.append((reason.strip(), _number(item.get("percent"),
                                                        f"adjustments.{i}.percent")))

    integration = Fraction(0)
    if data.get("integration_reduction_percent") is not None:
        integration = _number(data["integration_reduction_percent"],
                              "integration_reduction_percent")
        if integration < 0:
            raise AuditTimeInputError("integration_reduction_percent",
                                      "must be between 0 and 20")
        if integration > MAX_INTEGRATION_REDUCTION_PCT:
            raise AuditTimeInputError("integration_reduction_percent",
                                      "IAF MD 11 allows at most 20 % for integration")
        if integration and len(standards) < 2:
            raise AuditTimeInputError("integration_reduction_percent",
                                      "applies only to two or more standards (IAF MD 11)")

    sites = None
    if data.get("sites") is not None:
        raw_sites = _object(data["sites"], "sites", {"count", "sampling_allowed"})
        count = _whole(raw_sites.get("count"), "sites.count", minimum=0)
        sampling = raw_sites.get("sampling_allowed")
        if not isinstance(sampling, bool):
            raise AuditTimeInputError("sites.sampling_allowed", "is required: true or false")
        sites = (count, sampling)
    return standards, adjustments, integration, sites


def parse_enms_table(rows: Any) -> tuple[Band, ...] | None:
    if rows is None:
        return None
    bands = []
    for i, row in enumerate(_list(rows, "enms_days_table")):
        field = f"enms_days_table.{i}"
        row = _object(row, field, {"personnel_min", "personnel_max", *ENMS_LEVELS})
        low = _whole(row.get("personnel_min"), f"{field}.personnel_min", minimum=1)
        high = row.get("personnel_max")
        if high is not None:
            high = _whole(high, f"{field}.personnel_max", minimum=low)
        days = {}
        for level in ENMS_LEVELS:
            days[level] = _number(row.get(level), f"{field}.{level}")
            if days[level] <= 0:
                raise AuditTimeInputError(f"{field}.{level}", "must be more than 0")
        bands.append(Band(low, high, days))
    return tuple(bands)


def parse_stage1_share(value: Any) -> Fraction:
    try:
        share = Fraction(value) if isinstance(value, Fraction | int) else Fraction(str(value))
    except (ValueError, ZeroDivisionError, TypeError):
        raise AuditTimeInputError("stage1_share", f"must be a fraction such as 1/3, not {value!r}")
    if not 0 < share < 1:
        raise AuditTimeInputError("stage1_share", "must be between 0 and 1 (exclusive)")
    return share


def _plain_text(text: str) -> bool:
    """No NUL and no lone surrogate (JSON's ``"\\ud800"``): the explanation echoes the text,
    and a console or a page must be able to show it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def load_audit_time_json(text: str | bytes) -> dict:
    """Parse JSON input exactly (decimals stay decimals); bad JSON names the field ``json``."""
    def refuse_constant(name):
        raise AuditTimeInputError("json", f"{name} is not a number JSON allows")

    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=refuse_constant)
    except ValueError as exc:
        if isinstance(exc, AuditTimeInputError):
            raise
        raise AuditTimeInputError("json", f"malformed JSON: {exc}")
    if not isinstance(data, dict):
        raise AuditTimeInputError("input", "must be a JSON object")
    return data
