from fractions import Fraction

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count

from isocert.core.errors import InvalidInput

from .audittime import AuditTimeInputError, compute_audit_time
from .models import Clause, Country, EditionTransition, EnmsDayTableRow, Sector, Standard


def standards_current():
    return Standard.objects.filter(is_current=True).order_by("code")


def standards_with_counts():
    return standards_current().annotate(clause_count=Count("clauses"))


def standard_by_code_or_slug(value: str) -> Standard | None:
    for standard in standards_with_counts():
        if value in (standard.code, standard.slug, str(standard)):
            return standard
    return None


def clauses_of(standard: Standard):
    return Clause.objects.filter(standard=standard).select_related("parent").order_by("position")


# --- edition transitions -------------------------------------------------------------------------

def transitions_all():
    """Every transition the CB recorded, soonest deadline first."""
    return EditionTransition.objects.select_related("from_standard", "to_standard", "created_by")


def transition_get(pk) -> EditionTransition | None:
    return transitions_all().filter(pk=pk).first()


def transitions_by_edition() -> dict[tuple[str, str], EditionTransition]:
    """``{(code, edition): transition}`` of every superseded edition: certificates keep
    their standards as ``{"code", "edition"}`` pairs, so they are looked up by them."""
    return {(t.from_standard.code, t.from_standard.edition): t for t in transitions_all()}


def transition_from(standard: Standard) -> EditionTransition | None:
    """The transition superseding ``standard``, or None while it is not superseded."""
    return transitions_all().filter(from_standard=standard).first()


def transition_successor(standard: Standard) -> Standard:
    """The edition ``standard`` moves to (itself when it is not superseded)."""
    transition = transition_from(standard)
    return transition.to_standard if transition else standard


def sectors_all():
    return Sector.objects.all()


def countries_all():
    return Country.objects.all()


# --- audit time ---------------------------------------------------------------------------------

def enms_days_table() -> list[dict] | None:
    """The CB's ISO 50003 day table in the engine's row format, or None until it is entered."""
    rows = [
        {"personnel_min": row.personnel_min, "personnel_max": row.personnel_max,
         "high": row.high, "medium": row.medium, "low": row.low}
        for row in EnmsDayTableRow.objects.order_by("personnel_min")
    ]
    return rows or None


def enms_days_table_gaps(rows: list[dict] | None = None) -> list[str]:
    """Head counts the configured table does not cover, e.g. ``["1-9", "101 and more"]``."""
    rows = enms_days_table() if rows is None else rows
    if not rows:
        return []
    gaps, next_start = [], 1
    for row in rows:
        if row["personnel_min"] > next_start:
            end = row["personnel_min"] - 1
            gaps.append(str(next_start) if end == next_start else f"{next_start}-{end}")
        if row["personnel_max"] is None:
            return gaps
        next_start = max(next_start, row["personnel_max"] + 1)
    gaps.append(f"{next_start} and more")
    return gaps


def audit_time_stage1_share() -> Fraction:
    """The stage 1 share of the initial audit time (``settings.AUDIT_TIME_STAGE1_SHARE``)."""
    raw = getattr(settings, "AUDIT_TIME_STAGE1_SHARE", "1/3")
    try:
        share = Fraction(str(raw).strip())
    except (ValueError, ZeroDivisionError):
        share = None
    if share is None or not 0 < share < 1:
        raise ImproperlyConfigured(
            f"AUDIT_TIME_STAGE1_SHARE must be a fraction between 0 and 1 such as 1/3, not {raw!r}")
    return share


def estimate_audit_time(data: dict) -> dict:
    """Audit time for engine input ``data`` with the CB's settings and ISO 50003 table.

    Writes nothing. Input the engine refuses raises ``InvalidInput`` whose
    ``fields`` names the engine's dotted field, e.g. ``standards.0.complexity``.
    """
    try:
        return compute_audit_time(data, stage1_share=audit_time_stage1_share(),
                                  enms_days_table=enms_days_table())
    except AuditTimeInputError as exc:
        raise InvalidInput(str(exc), fields={exc.field: exc.message})
