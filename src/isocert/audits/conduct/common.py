"""Guards and input cleaners the conduct's services share: who may record (the audit's
team), who answers (the client's owners and editors), in which audit states, and the
corrective-action due dates."""

import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone

from isocert.accounts.models import Site, User
from isocert.accounts.permissions import can_in
from isocert.catalog import selectors as catalog_selectors
from isocert.catalog.models import Clause
from isocert.core.errors import NotPermitted, TransitionNotAllowed
from isocert.core.validation import choice_error

from ..programme.models import Audit, TeamMember
from .models import (
    Finding,
)

TEXT_LIMIT = 10_000


def locked_audit(audit: Audit) -> Audit:
    """Re-read the audit under a row lock: its status and finding numbers can't race."""
    return (Audit.objects.select_for_update().select_related("cycle", "cycle__organization")
            .get(pk=audit.pk))


def is_team_member(user: User, audit: Audit) -> bool:
    return bool(getattr(user, "pk", None)) and TeamMember.objects.filter(
        audit_id=audit.pk, auditor_id=user.pk).exists()


def is_lead_auditor(user: User, audit: Audit) -> bool:
    return bool(getattr(user, "pk", None)) and TeamMember.objects.filter(
        audit_id=audit.pk, auditor_id=user.pk, role=TeamMember.Role.LEAD).exists()


def can_answer(user: User, audit: Audit) -> bool:
    """Owners and editors of the audited organization answer nonconformities."""
    return can_in(user, "edit", audit.cycle.organization_id)


def ensure_team_member(audit: Audit, actor: User, what: str) -> None:
    if not is_team_member(actor, audit):
        raise NotPermitted(f"Only a member of this audit's team can {what}.")


def ensure_lead(audit: Audit, actor: User, what: str) -> None:
    if not is_lead_auditor(actor, audit):
        raise NotPermitted(f"Only the lead auditor of this audit can {what}.")


def ensure_in_progress(audit: Audit, what: str) -> None:
    if audit.status != Audit.Status.IN_PROGRESS:
        raise TransitionNotAllowed(
            f"This audit is {audit.get_status_display().lower()}; {what} is only possible "
            "while it is in progress.")


def ensure_started(audit: Audit, what: str) -> None:
    """Answers, reviews and report corrections go on after the audit closes."""
    if audit.status not in (Audit.Status.IN_PROGRESS, Audit.Status.CLOSED):
        raise TransitionNotAllowed(
            f"This audit is {audit.get_status_display().lower()}; {what} is only possible "
            "once it has started.")


# --- input cleaning ----------------------------------------------------------------------------

def clean_text(data: dict, field: str, label: str, errors: dict, *, required=True,
               limit=TEXT_LIMIT) -> str:
    value = str(data.get(field) or "").strip()
    if required and not value:
        errors[field] = f"{label} is required."
    elif len(value) > limit:
        errors[field] = f"{label} may be at most {limit} characters."
    return value


def clean_id(value):
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def audit_clauses(audit: Audit):
    """The clauses of the audit's standards (the checklist's rows, the findings' choices).
    A transition audit checks the new edition of each superseded standard instead."""
    standards = list(audit.cycle.standards.all())
    if audit.kind == Audit.Kind.TRANSITION:
        standards = [catalog_selectors.transition_successor(standard) for standard in standards]
    return (Clause.objects.filter(standard__in=standards)
            .select_related("standard").order_by("standard__code", "position"))


def audit_sites(audit: Audit):
    return Site.objects.filter(organization_id=audit.cycle.organization_id)


def clean_clause(audit: Audit, data: dict, errors: dict, *, required: bool) -> Clause | None:
    clause_id = clean_id(data.get("clause_id"))
    if clause_id is None:
        if required:
            errors["clause_id"] = "Choose the clause."
        return None
    clause = audit_clauses(audit).filter(pk=clause_id).first()
    if clause is None:
        errors["clause_id"] = "Choose a clause of the audited standards."
    return clause


def clean_site(audit: Audit, data: dict, errors: dict) -> Site | None:
    site_id = clean_id(data.get("site_id"))
    if site_id is None:
        return None
    site = audit_sites(audit).filter(pk=site_id).first()
    if site is None:
        errors["site_id"] = "Choose one of the audited organization's sites."
    return site


def clean_choice(data: dict, field: str, choices, label: str, errors: dict) -> str:
    value = str(data.get(field) or "")
    if value not in dict(choices):
        errors[field] = choice_error(choices, what=f"the {label}")
    return value


def clean_half_days(value, field: str, errors: dict) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        days = Decimal(str(value))
        if not days.is_finite() or days <= 0 or days > 1000 or (days * 2) % 1:
            raise InvalidOperation
        return days
    except (InvalidOperation, ValueError):
        errors[field] = "Days spent must be a number of half days above 0, e.g. 2.5."
        return None



def audit_last_day(audit: Audit) -> datetime.date:
    """The day corrective-action deadlines count from: the audit's last day."""
    if audit.end_date:
        return audit.end_date
    if audit.closed_at:
        return timezone.localdate(audit.closed_at)
    return timezone.localdate()


def set_due_dates(finding: Finding, audit: Audit) -> None:
    last_day = audit_last_day(audit)
    if finding.is_nonconformity:
        finding.plan_due = last_day + datetime.timedelta(days=settings.CORRECTIVE_PLAN_DUE_DAYS)
    else:
        finding.plan_due = None
    if finding.grade == Finding.Grade.MAJOR:
        finding.verification_due = last_day + datetime.timedelta(
            days=settings.MAJOR_VERIFICATION_DUE_DAYS)
    else:
        finding.verification_due = None
