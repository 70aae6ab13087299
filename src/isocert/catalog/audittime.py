"""Audit-time engine: initial, stage, surveillance and recertification days.

Pure functions over plain data. Nothing here touches the database or Django, so
the same code serves the public estimator, the application review, the API and
the ``isocert audit-time`` command, and can be tested exhaustively.

Rules (the project's certification-rules digest, section 3): IAF MD 5 tables
and adjustments, ISO/IEC 27006 for ISMS, ISO 50003 for EnMS complexity, IAF
MD 11 for integrated systems and IAF MD 1 for multi-site sampling. The day
tables are read from ``data/audit-time-tables.json``; the ISO 50003 day table
is entered by the certification body and passed in, because its figures were
never confirmed and must not be invented.

All arithmetic is exact (``Fraction``); numbers become floats only in the
returned, JSON-ready result.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

TABLES_PATH = Path(__file__).resolve().parent / "data" / "audit-time-tables.json"

# Canonical code -> table key in the data file. The order is the order of the
# standards in the result, so the result does not depend on the input order.
STANDARD_TABLES: dict[str, str] = {
    "ISO 9001": "QMS",
    "ISO 14001": "EMS",
    "ISO 45001": "OHSMS",
    "ISO/IEC 27001": "ISMS",
    "ISO 50001": "EnMS",
}
# Accepted spellings, compared after upper-casing and collapsing spaces.
_CODE_ALIASES = {code.upper(): code for code in STANDARD_TABLES} | {
    "ISO 27001": "ISO/IEC 27001",
}
COMPLEXITY_LEVELS: dict[str, tuple[str, ...]] = {
    "ISO 14001": ("high", "medium", "low", "limited"),
    "ISO 45001": ("high", "medium", "low"),
}
ENMS = "ISO 50001"
ENMS_LEVELS = ("high", "medium", "low")
ENMS_FIELDS = ("annual_energy_consumption_tj", "energy_types", "significant_energy_uses")

DEFAULT_STAGE1_SHARE = Fraction(1, 3)
SURVEILLANCE_SHARE = Fraction(1, 3)  # IAF MD 5: about 1/3 of the initial time per year
RECERTIFICATION_SHARE = Fraction(2, 3)  # IAF MD 5: about 2/3 of the initial time
MAX_INTEGRATION_REDUCTION_PCT = Fraction(20)  # IAF MD 11
# IAF MD 1 multipliers of sqrt(x) with sampling, and of x without it.
MD1_SAMPLING = {"initial": Fraction(1), "surveillance": Fraction(3, 5),
                "recertification": Fraction(4, 5)}
MD1_NO_SAMPLING_SURVEILLANCE = Fraction(3, 10)
ENMS_HIGH_ABOVE = Fraction(135, 100)  # ISO 50003: high if C > 1.35
ENMS_MEDIUM_FROM = Fraction(115, 100)  # medium if 1.15 <= C <= 1.35

_TOP_LEVEL_KEYS = {"standards", "adjustments", "integration_reduction_percent", "sites"}
_STANDARD_KEYS = {"code", "effective_personnel", "complexity", "part_time", *ENMS_FIELDS}


class AuditTimeInputError(ValueError):
    """Input the engine refuses; ``field`` is a dotted path such as ``standards.0.complexity``."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


# ---------------------------------------------------------------------------
# Tables (data)


@dataclass(frozen=True)
class Band:
    personnel_min: int
    personnel_max: int | None  # None: open-ended (CB-entered ISO 50003 rows only)
    days: dict[str, Fraction]  # column ("days", "high", ...) -> days


@dataclass(frozen=True)
class DayTable:
    key: str
    name: str  # the rule named in explanations, e.g. "IAF MD 5:2019 Table QMS 1"
    bands: tuple[Band, ...]
    disputed: dict[tuple[int, str], tuple[Fraction, ...]]  # (band min, column) -> values


@cache
def load_tables(path: Path = TABLES_PATH) -> dict[str, Any]:
    """The audit-time tables and rules, as shipped in the package data."""
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh, parse_float=Decimal)
    tables = {key: _day_table(key, raw[key]) for key in ("QMS", "EMS", "OHSMS", "ISMS")}
    enms = raw["EnMS"]["complexity"]
    rules = raw["rules"]
    return {
        "tables": tables,
        "enms_name": raw["EnMS"]["source"],
        "enms_factors": {
            "F_EC": _factor_bands(enms["F_EC_annual_energy_consumption_TJ"]),
            "F_ET": _factor_bands(enms["F_ET_number_of_energy_types"]),
            "F_SEU": _factor_bands(enms["F_SEU_number_of_significant_energy_uses"]),
        },
        "max_total_reduction_pct": Fraction(rules["max_total_reduction_pct"]),
        "min_onsite_share": Fraction(rules["min_onsite_share_pct"]) / 100,
        "audit_day_hours": Fraction(rules["audit_day_hours"]),
    }


def _day_table(key: str, raw: dict) -> DayTable:
    bands = []
    for row in raw["rows"]:
        columns = {k: Fraction(v) for k, v in row.items() if not k.startswith("personnel_")}
        bands.append(Band(int(row["personnel_min"]), int(row["personnel_max"]), columns))
    _check_contiguous(key, bands)
    disputed = {}
    for item in raw.get("disputed", []):
        low = int(item["band"].split("-")[0])
        disputed[(low, item["column"])] = tuple(Fraction(v) for v in item["values"])
    return DayTable(key, raw["source"].split(" (")[0], tuple(bands), disputed)


def _check_contiguous(key: str, bands: list[Band]) -> None:
    # A gap or overlap would make some head counts fall nowhere or twice.
    if not bands or bands[0].personnel_min != 1:
        raise RuntimeError(f"audit-time table {key} must start at 1 person")
    for before, after in zip(bands, bands[1:], strict=False):
        if before.personnel_max is None or after.personnel_min != before.personnel_max + 1:
            raise RuntimeError(f"audit-time table {key} has a gap or overlap at {after}")
    if len(bands) < 2:
        raise RuntimeError(f"audit-time table {key} needs two bands to extend its progression")


def _factor_bands(raw: list[dict]) -> tuple[tuple[Fraction | None, Fraction], ...]:
    return tuple((None if r["max"] is None else Fraction(r["max"]), Fraction(r["factor"]))
                 for r in raw)


# ---------------------------------------------------------------------------
# Small exact helpers (public: the tests and other callers use them)


def round_half_day(value: Fraction) -> Fraction:
    """Round to the nearest half day, ties upward (4.25 -> 4.5, 4.75 -> 5)."""
    return Fraction(math.floor(Fraction(value) * 2 + Fraction(1, 2)), 2)


def ceil_half_day(value: Fraction) -> Fraction:
    """Round up to the next half day (3.2 -> 3.5, 3.5 -> 3.5): the least half day >= value.

    Used where a figure is a floor that rounding must not undercut: the minimum on-site
    time is at least 80 % of the audit time (IAF MD 5 / IAF MD 11), so rounding it to the
    nearest half day could land below the share (4 days x 0.8 = 3.2 -> 3.0 = 75 %).
    """
    return Fraction(_ceil(Fraction(value) * 2), 2)


def ceil_k_sqrt(k: Fraction, x: int) -> int:
    """Exact ceil(k * sqrt(x)) for k >= 0: the least n >= 0 with n**2 >= k**2 * x."""
    target = Fraction(k) ** 2 * x
    n = math.isqrt(math.floor(target))
    while n * n < target:
        n += 1
    return n


def _ceil(value: Fraction) -> int:
    return -((-value.numerator) // value.denominator)


def sites_to_visit(count: int, sampling_allowed: bool) -> dict[str, Any]:
    """IAF MD 1 sites to visit besides the central function, which is visited every time."""
    if sampling_allowed:
        visits = {stage: ceil_k_sqrt(k, count) for stage, k in MD1_SAMPLING.items()}
    else:
        visits = {"initial": count,
                  "surveillance": _ceil(MD1_NO_SAMPLING_SURVEILLANCE * count),
                  "recertification": count}
    return {**visits, "central_function": True}


def enms_complexity(consumption_tj: Fraction, energy_types: int, seus: int
                    ) -> tuple[Fraction, str, dict[str, Fraction]]:
    """ISO 50003 complexity: (C, category, factors) with C = .25 F_EC + .25 F_ET + .5 F_SEU."""
    bands = load_tables()["enms_factors"]
    factors = {
        "F_EC": _factor_for(bands["F_EC"], Fraction(consumption_tj)),
        "F_ET": _factor_for(bands["F_ET"], Fraction(energy_types)),
        "F_SEU": _factor_for(bands["F_SEU"], Fraction(seus)),
    }
    score = (Fraction(1, 4) * factors["F_EC"] + Fraction(1, 4) * factors["F_ET"]
             + Fraction(1, 2) * factors["F_SEU"])
    if score > ENMS_HIGH_ABOVE:
        category = "high"
    elif score >= ENMS_MEDIUM_FROM:
        category = "medium"
    else:
        category = "low"
    return score, category, factors


def _factor_for(bands, value: Fraction) -> Fraction:
    # A value equal to a band's "max" belongs to that band (data file note).
    for limit, factor in bands:
        if limit is None or value <= limit:
            return factor
    raise RuntimeError("ISO 50003 factor table has no open-ended last band")


# ---------------------------------------------------------------------------
# Input parsing


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
class _Standard:
    code: str
    field: str
    personnel: Fraction  # effective personnel including part-time FTE
    part_time: tuple[tuple[int, Fraction], ...]  # (headcount, hours per day)
    part_time_fte: Fraction
    complexity: str | None
    energy: tuple[Fraction, int, int] | None  # ISO 50001 only


def _parse_standard(raw: Any, index: int) -> _Standard:
    field = f"standards.{index}"
    raw = _object(raw, field, _STANDARD_KEYS)
    code_raw = raw.get("code")
    if not isinstance(code_raw, str) or not code_raw.strip():
        raise AuditTimeInputError(f"{field}.code", "is required (e.g. \"ISO 9001\")")
    code = _CODE_ALIASES.get(" ".join(code_raw.split()).upper())
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
    return _Standard(code, field, personnel, tuple(part_time), part_time_fte, complexity, energy)


def _parse_input(data: Any):
    """Validate everything before computing anything; the first problem found is raised."""
    if not isinstance(data, dict):
        raise AuditTimeInputError("input", "must be a JSON object")
    _object(data, "", _TOP_LEVEL_KEYS)

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


def _parse_enms_table(rows: Any) -> tuple[Band, ...] | None:
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


def _parse_stage1_share(value: Any) -> Fraction:
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


# ---------------------------------------------------------------------------
# Formatting for explanations (ASCII only, so any console can print it)


def _fmt(value: Fraction) -> str:
    value = Fraction(value)
    if (value * 1000).denominator == 1:
        text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"about {float(value):.2f}"


def _fmt_days(value: Fraction) -> str:
    return f"{_fmt(value)} day" if value == 1 else f"{_fmt(value)} days"


def _fmt_pct(value: Fraction) -> str:
    return ("+" if value > 0 else "") + _fmt(value) + " %"


def _days(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


# ---------------------------------------------------------------------------
# The engine


def compute_audit_time(data: dict, *, stage1_share: Fraction = DEFAULT_STAGE1_SHARE,
                       enms_days_table: list[dict] | None = None) -> dict:
    """Compute the audit time for one organization; see the module docstring for the rules.

    Raises ``AuditTimeInputError`` naming the offending field (a dotted path).
    Returns a JSON-ready dict; every sentence of ``explanation`` names the rule it applies.
    """
    rules = load_tables()
    share = _parse_stage1_share(stage1_share)
    enms_bands = _parse_enms_table(enms_days_table)
    standards, adjustments, integration, sites = _parse_input(data)

    explanation: list[str] = []
    needs_configuration: list[str] = []

    # Step 1 (and step 5 for ISO 50001, whose category picks the table column).
    results = []
    table_days: dict[str, Fraction | None] = {}
    for standard in standards:
        entry: dict[str, Any] = {"code": standard.code}
        explanation.extend(_personnel_sentences(standard))
        persons = math.ceil(standard.personnel)
        if standard.code == ENMS:
            score, category, factors = enms_complexity(*standard.energy)
            entry["complexity"] = category
            entry["complexity_score"] = float(score)
            explanation.append(_enms_sentence(standard, score, category, factors))
            days, sentence = _enms_days(enms_bands, persons, category, rules["enms_name"])
            if days is None:
                needs_configuration.append(sentence)
                explanation.append(
                    f"{sentence}: no ISO 50001 days are given and the totals below cover the "
                    "other standards only (the certification body enters the ISO 50003 table "
                    "from its own copy of the standard; figures are never invented)."
                )
            else:
                explanation.append(sentence)
        else:
            table = rules["tables"][STANDARD_TABLES[standard.code]]
            column = standard.complexity or "days"
            days, sentences = _table_days(table, column, persons, standard)
            explanation.extend(sentences)
            if standard.complexity:
                entry["complexity"] = standard.complexity
        table_days[standard.code] = days
        entry["table_days"] = _days(days)
        results.append(entry)

    # Step 2: one net adjustment for the organization, capped for reductions.
    requested = sum((pct for _, pct in adjustments), Fraction(0))
    cap = -rules["max_total_reduction_pct"]
    net = max(requested, cap)
    if not adjustments:
        explanation.append("No adjustments (IAF MD 5): the table days are used unchanged.")
    else:
        listed = ", ".join(f"{_fmt_pct(pct)} {reason}" for reason, pct in adjustments)
        sentence = f"Adjustments (IAF MD 5): {listed}; together {_fmt_pct(requested)}."
        if net != requested:
            sentence += (f" IAF MD 5 allows a total reduction of at most "
                         f"{_fmt(-cap)} %, so the reduction is capped at {_fmt_pct(net)}.")
        explanation.append(sentence)
    factor = 1 + net / 100
    adjusted: dict[str, Fraction] = {}
    for entry in results:
        days = table_days[entry["code"]]
        if days is None:
            entry["adjusted_days"] = None
            continue
        adjusted[entry["code"]] = days * factor
        entry["adjusted_days"] = _days(days * factor)
        if net:
            explanation.append(f"{entry['code']}: {_fmt_days(days)} x (1 {'+' if net > 0 else '-'}"
                               f" {_fmt(abs(net))} %) = {_fmt_days(days * factor)}.")

    # Step 3: sum, then the integration reduction (IAF MD 11), after MD 5's.
    applied_integration = Fraction(0)
    total = None
    if adjusted:
        total = sum(adjusted.values(), Fraction(0))
        if len(adjusted) > 1:
            parts = " + ".join(_fmt(v) for v in adjusted.values())
            explanation.append(f"Sum over the standards: {parts} = {_fmt_days(total)}.")
        if integration and len(adjusted) > 1:
            applied_integration = integration
            reduced = total * (1 - integration / 100)
            explanation.append(
                f"Integrated management system (IAF MD 11): {_fmt_days(total)} reduced by "
                f"{_fmt(integration)} % for the level of integration = {_fmt_days(reduced)}."
            )
            total = reduced
        elif integration:
            explanation.append(
                f"The {_fmt(integration)} % integration reduction (IAF MD 11) is not applied: "
                "only one standard's days are known, and the reduction applies to the combined "
                "time of two or more."
            )
        elif len(standards) > 1:
            explanation.append("No integration reduction (IAF MD 11) was requested.")
        else:
            explanation.append("One standard: nothing to add up and no integration reduction "
                               "(IAF MD 11 applies to two or more standards).")
    else:
        explanation.append("No audit days can be computed until the missing table is configured.")

    # Step 4: rounding and the derived times.
    summary: dict[str, float | None] = dict.fromkeys(
        ("initial_days", "stage1_days", "stage2_days", "surveillance_days",
         "recertification_days", "min_onsite_days"))
    if total is not None:
        initial = round_half_day(total)
        stage1 = round_half_day(initial * share)
        surveillance = round_half_day(initial * SURVEILLANCE_SHARE)
        recertification = round_half_day(initial * RECERTIFICATION_SHARE)
        # A floor, not an estimate: rounded up so it never falls below the share.
        onsite = ceil_half_day(initial * rules["min_onsite_share"])
        summary.update(initial_days=_days(initial), stage1_days=_days(stage1),
                       stage2_days=_days(initial - stage1), surveillance_days=_days(surveillance),
                       recertification_days=_days(recertification),
                       min_onsite_days=_days(onsite))
        share_text = f"{share.numerator}/{share.denominator}"
        explanation.extend([
            f"Initial audit time (stage 1 + stage 2): {_fmt_days(total)} rounded to the nearest "
            f"half day (certification-body practice; ties upward) = {_fmt_days(initial)}.",
            f"Stage 1 = {share_text} of {_fmt_days(initial)}, rounded to the nearest half day = "
            f"{_fmt_days(stage1)}; stage 2 = the rest = {_fmt_days(initial - stage1)} (the split "
            "is a certification-body setting).",
            f"Surveillance (IAF MD 5, about 1/3 of the initial time each year) = "
            f"{_fmt_days(surveillance)} per surveillance audit.",
            f"Recertification (IAF MD 5, about 2/3 of the initial time) = "
            f"{_fmt_days(recertification)}.",
            f"Minimum on-site time (IAF MD 5 / IAF MD 11, not less than "
            f"{_fmt(rules['min_onsite_share'] * 100)} % of the audit time): "
            f"{_fmt(rules['min_onsite_share'] * 100)} % of {_fmt_days(initial)} = "
            f"{_fmt_days(initial * rules['min_onsite_share'])}, rounded up to the next half "
            f"day = {_fmt_days(onsite)}.",
        ])

    result: dict[str, Any] = {
        "standards": results,
        "net_adjustment_percent": float(net),
        "integration_reduction_percent": float(applied_integration),
        **summary,
    }

    # Step 6: multi-site sampling.
    if sites is not None:
        count, sampling = sites
        visits = sites_to_visit(count, sampling)
        result["sites_to_visit"] = visits
        if sampling:
            explanation.append(
                f"Multi-site sampling (IAF MD 1), {count} sites besides the central function: "
                f"initial ceil(sqrt({count})) = {visits['initial']}, surveillance "
                f"ceil(0.6 x sqrt({count})) = {visits['surveillance']}, recertification "
                f"ceil(0.8 x sqrt({count})) = {visits['recertification']} sites; the central "
                "function is audited every time."
            )
        else:
            explanation.append(
                f"No sampling (IAF MD 1), {count} sites besides the central function: all "
                f"{count} at the initial audit and at recertification, ceil(30 % of {count}) = "
                f"{visits['surveillance']} per surveillance year; the central function is "
                "audited every time."
            )

    result["needs_configuration"] = needs_configuration
    result["explanation"] = explanation
    return result


def _personnel_sentences(standard: _Standard) -> list[str]:
    sentences = []
    if standard.part_time:
        full_day = _fmt(load_tables()["audit_day_hours"])
        parts = " + ".join(f"{n} x {_fmt(h)} h / {full_day} h" for n, h in standard.part_time)
        sentences.append(
            f"{standard.code}: part-time staff count by hours worked (IAF MD 5): {parts} = "
            f"{_fmt(standard.part_time_fte)} FTE, giving {_fmt(standard.personnel)} effective "
            "personnel."
        )
    if standard.personnel.denominator != 1:
        sentences.append(
            f"{standard.code}: {_fmt(standard.personnel)} effective personnel are rounded up to "
            f"{math.ceil(standard.personnel)} persons for the table lookup."
        )
    return sentences


def _table_days(table: DayTable, column: str, persons: int, standard: _Standard
                ) -> tuple[Fraction, list[str]]:
    column_text = f", complexity {column}" if column != "days" else ""
    for band in table.bands:
        if band.personnel_min <= persons <= band.personnel_max:
            days = band.days[column]
            sentences = [
                f"{standard.code}: {persons} persons fall in the {band.personnel_min}-"
                f"{band.personnel_max} band of {table.name}{column_text}: {_fmt_days(days)}."
            ]
            disputed = table.disputed.get((band.personnel_min, column))
            if disputed:
                others = " or ".join(_fmt(v) for v in disputed)
                sentences.append(
                    f"Note: public copies of {table.name} disagree on this figure ({others}); "
                    f"{_fmt(days)} is used - the certification body should confirm it."
                )
            return days, sentences
    # Above the last band: continue the progression through the last two upper bounds.
    (x1, y1), (x2, y2) = [(b.personnel_max, b.days[column]) for b in table.bands[-2:]]
    days = y2 + (persons - x2) * (y2 - y1) / (x2 - x1)
    return days, [
        f"{standard.code}: {persons} persons are above the last band of {table.name} "
        f"({table.bands[-1].personnel_min}-{x2}{column_text}); the table's progression is "
        f"continued linearly through ({x1}, {_fmt_days(y1)}) and ({x2}, {_fmt_days(y2)}): "
        f"{_fmt_days(days)}."
    ]


def _enms_sentence(standard: _Standard, score: Fraction, category: str,
                   factors: dict[str, Fraction]) -> str:
    consumption, types, seus = standard.energy
    return (
        f"ISO 50001: ISO 50003 complexity C = 0.25 x F_EC {_fmt(factors['F_EC'])} "
        f"({_fmt(consumption)} TJ a year) + 0.25 x F_ET {_fmt(factors['F_ET'])} ({types} energy "
        f"types) + 0.5 x F_SEU {_fmt(factors['F_SEU'])} ({seus} significant energy uses) = "
        f"{_fmt(score)}: {category} (high above 1.35, medium from 1.15 to 1.35, low below 1.15)."
    )


def _enms_days(bands: tuple[Band, ...] | None, persons: int, category: str, name: str
               ) -> tuple[Fraction | None, str]:
    if bands is None:
        return None, "ISO 50001 audit-day table (ISO 50003) not configured"
    for band in bands:
        if band.personnel_min <= persons and (band.personnel_max is None
                                              or persons <= band.personnel_max):
            upper = "" if band.personnel_max is None else str(band.personnel_max)
            range_text = f"{band.personnel_min}-{upper}" if upper else f"{band.personnel_min}+"
            days = band.days[category]
            return days, (
                f"ISO 50001: {persons} persons fall in the {range_text} row of the "
                f"certification body's {name} audit-day table, complexity {category}: "
                f"{_fmt_days(days)}."
            )
    return None, (
        f"ISO 50001 audit-day table (ISO 50003) not configured for {persons} effective personnel"
    )
