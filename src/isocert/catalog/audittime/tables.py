"""The audit-time rules as data and exact arithmetic: the standards and their day tables
(read from ``data/audit-time-tables.json``), the shares and factors of IAF MD 5, MD 11,
MD 1 and ISO 50003, the input error, and the half-day rounding, square-root sampling and
EnMS complexity helpers."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

TABLES_PATH = Path(__file__).resolve().parent.parent / "data" / "audit-time-tables.json"

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
CODE_ALIASES = {code.upper(): code for code in STANDARD_TABLES} | {
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

TOP_LEVEL_KEYS = {"standards", "adjustments", "integration_reduction_percent", "sites"}
STANDARD_KEYS = {"code", "effective_personnel", "complexity", "part_time", *ENMS_FIELDS}


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
