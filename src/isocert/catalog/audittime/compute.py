"""The audit-time engine: initial, stage, surveillance and recertification days with an
explanation whose every sentence names the rule it applies."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .inputs import (
    StandardInput,
    parse_enms_table,
    parse_input,
    parse_stage1_share,
)
from .tables import (
    DEFAULT_STAGE1_SHARE,
    ENMS,
    RECERTIFICATION_SHARE,
    STANDARD_TABLES,
    SURVEILLANCE_SHARE,
    Band,
    DayTable,
    ceil_half_day,
    enms_complexity,
    load_tables,
    round_half_day,
    sites_to_visit,
)

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
    """Compute the audit time for one organization; the package docstring names the rules.

    Raises ``AuditTimeInputError`` naming the offending field (a dotted path).
    Returns a JSON-ready dict; every sentence of ``explanation`` names the rule it applies.
    """
    rules = load_tables()
    share = parse_stage1_share(stage1_share)
    enms_bands = parse_enms_table(enms_days_table)
    standards, adjustments, integration, sites = parse_input(data)

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


def _personnel_sentences(standard: StandardInput) -> list[str]:
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


def _table_days(table: DayTable, column: str, persons: int, standard: StandardInput
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


def _enms_sentence(standard: StandardInput, score: Fraction, category: str,
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
