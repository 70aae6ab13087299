"""The audit programme: certification cycles, audit teams, site selection, plans and
the start of an audit (ISO/IEC 17021-1 §9.1.3, §9.2, §9.3; IAF MD 1).

Every write is a keyword-only service with an explicit ``actor``; each refusal is a
``DomainError`` subclass naming the offending field; each change writes an audit
event in its own transaction and e-mails after commit.
"""

import calendar
import datetime
import math
import random
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from isocert.accounts.models import ClientRelationship, Membership, Site, StaffRole, User
from isocert.accounts.selectors import impartiality_relationships
from isocert.catalog.models import Clause
from isocert.core.audit import record_event
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.statemachine import StateMachine
from isocert.core.validation import clean_date, clean_reason
from isocert.notifications.services import notify
from isocert.registration.models import Application, AuditTimeDetermination, Quotation

from .models import (
    Audit,
    AuditorProfile,
    AuditPlan,
    CertificationCycle,
    PlanSession,
    TeamMember,
)
from .selectors import PROGRAMME_MANAGERS, can_edit_plan

# --- errors ------------------------------------------------------------------------------------

class TeamRuleViolation(Conflict):
    """The team breaks an assignment rule (lead, qualification, coverage, overlap)."""

    code = "team_rule_violated"


class ImpartialityThreat(TeamRuleViolation):
    """A relationship with the client within the cooling-off period (ISO/IEC 17021-1 §5.2)."""

    code = "impartiality_threat"


class AuditNotReady(Conflict):
    """The audit cannot start yet: team, declarations, plan, stage order or justification."""

    code = "audit_not_ready"


class AuditRequired(Conflict):
    """The certification programme requires this audit: it is rescheduled, never cancelled."""

    code = "audit_required"


class SurveillanceYearMissed(InvalidInput):
    """The dates would leave a calendar year of the cycle without an audit
    (ISO/IEC 17021-1 §9.6.2.2: surveillance at least once each calendar year)."""

    code = "surveillance_year_missed"


class SiteSelectionInvalid(InvalidInput):
    """The sites chosen break IAF MD 1 sampling or the cycle's rotation of sites."""

    code = "invalid_site_selection"


# --- lifecycles --------------------------------------------------------------------------------

A = Audit.Status
AUDIT_LIFECYCLE = StateMachine("audit", {
    "start": ({A.PLANNED}, A.IN_PROGRESS),
    "cancel": ({A.PLANNED}, A.CANCELLED),
}, labels=dict(A.choices))

C = CertificationCycle.Status
# A cycle is active until the recertification decision closes it and starts the next one.
CYCLE_LIFECYCLE = StateMachine("certification cycle", {
    "close": ({C.ACTIVE}, C.CLOSED),
}, labels=dict(C.choices))

P = AuditPlan.Status
PLAN_LIFECYCLE = StateMachine("audit plan", {
    "send": ({P.DRAFT, P.CHANGES_REQUESTED}, P.SENT),
    "confirm": ({P.SENT}, P.CONFIRMED),
    "request_changes": ({P.SENT}, P.CHANGES_REQUESTED),
    # The CB takes back a plan the client holds (sent or confirmed) to change it; the next
    # send is a new version the client must confirm again.
    "revise": ({P.SENT, P.CONFIRMED}, P.DRAFT),
}, labels=dict(P.choices))
PLAN_EDITABLE = {P.DRAFT, P.CHANGES_REQUESTED}
# While the client holds the plan, the audit's dates stay those the plan was made for.
PLAN_WITH_CLIENT = {P.SENT, P.CONFIRMED}

REGULAR_KINDS = [Audit.Kind.STAGE1, Audit.Kind.STAGE2, Audit.Kind.SURVEILLANCE1,
                 Audit.Kind.SURVEILLANCE2, Audit.Kind.RECERTIFICATION]
# After a recertification the next cycle needs no stage 1 or stage 2.
NEXT_CYCLE_KINDS = [Audit.Kind.SURVEILLANCE1, Audit.Kind.SURVEILLANCE2,
                    Audit.Kind.RECERTIFICATION]
CYCLE_MONTHS = 36
# An audit entered with a first day already past says why, like a late stage 2.
LATE_ENTRY_MIN_CHARS = 20
SPECIAL_KINDS = [Audit.Kind.SHORT_NOTICE, Audit.Kind.SCOPE_EXTENSION, Audit.Kind.TRANSFER]
SURVEILLANCE_KINDS = {Audit.Kind.SURVEILLANCE1, Audit.Kind.SURVEILLANCE2}
# Which IAF MD 1 figure of ``sites_to_visit`` applies to each kind of audit.
SAMPLE_STAGE = {
    Audit.Kind.STAGE1: "initial", Audit.Kind.STAGE2: "initial",
    Audit.Kind.SURVEILLANCE1: "surveillance", Audit.Kind.SURVEILLANCE2: "surveillance",
    Audit.Kind.RECERTIFICATION: "recertification",
}
# Of the sites visited (besides the central function), at least this share is drawn at
# random rather than chosen by the reviewer (IAF MD 1 §6.1.3: "at least 25 %").
RANDOM_SHARE = Decimal("0.25")


# --- helpers -----------------------------------------------------------------------------------

def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus whole months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


def _ensure_manager(actor: User) -> None:
    if not actor.has_staff_role(*PROGRAMME_MANAGERS):
        raise NotPermitted("Only a CB reviewer or administrator can manage the audit programme.")


def _ensure_plan_editor(actor: User, audit: Audit) -> None:
    if not can_edit_plan(actor, audit):
        raise NotPermitted("Only a CB reviewer, administrator or the audit's lead auditor can "
                           "edit its plan.")


def _ensure_client_editor(actor: User, audit: Audit) -> None:
    if not Membership.objects.filter(
            organization_id=audit.cycle.organization_id, user=actor,
            role__in=[Membership.Role.OWNER, Membership.Role.EDITOR]).exists():
        raise NotPermitted("Only an owner or editor of the organization can answer the plan.")


def _locked_audit(audit: Audit) -> Audit:
    return Audit.objects.select_for_update().select_related("cycle", "cycle__organization").get(
        pk=audit.pk)


def _ensure_planned(audit: Audit) -> None:
    if audit.status != Audit.Status.PLANNED:
        raise Conflict(f"This audit is {audit.get_status_display().lower()}; its programme can "
                       "only change while it is planned.")


def _event(actor, action: str, audit: Audit, payload: dict | None = None) -> None:
    record_event(actor=actor, action=action, obj=audit,
                 organization_id=audit.cycle.organization_id,
                 payload={"cycle": audit.cycle_id, "kind": audit.kind, **(payload or {})})


def _client_recipients(organization_id: int) -> list[str]:
    return list(Membership.objects.filter(
        organization_id=organization_id,
        role__in=[Membership.Role.OWNER, Membership.Role.EDITOR],
    ).values_list("user__email", flat=True))


def _cb_recipients(audit: Audit) -> list[str]:
    team = list(audit.team.values_list("auditor__email", flat=True))
    managers = list(User.objects.filter(staff_roles__role=StaffRole.Role.REVIEWER,
                                        is_active=True).values_list("email", flat=True))
    creator = [audit.cycle.created_by.email] if audit.cycle.created_by_id else []
    return team + (creator or managers)


def _audit_mail_context(audit: Audit, **extra) -> dict:
    return {"organization": str(audit.cycle.organization), "audit": audit.get_kind_display(),
            "start_date": audit.start_date.isoformat() if audit.start_date else "",
            "end_date": audit.end_date.isoformat() if audit.end_date else "",
            "path": reverse("audit_plan_client", args=[audit.pk]), **extra}


def _parse_datetime(value, field: str) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        try:
            parsed = parse_datetime(str(value or "").replace(" ", "T"))
        except ValueError:
            parsed = None
    if parsed is None:
        raise InvalidInput("Please give a valid date and time.",
                           fields={field: "Enter a date and time (YYYY-MM-DD HH:MM)."})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


# --- the cycle ---------------------------------------------------------------------------------

def _planned_days(application: Application) -> dict[str, Decimal]:
    """The days of each regular audit, from the application's audit time (the contract)."""
    determination = AuditTimeDetermination.objects.filter(application=application).first()
    if determination is None or not determination.is_complete:
        raise Conflict("The audit time of this application is not complete.",
                       fields={"application": "Determine the audit time first."})
    return {
        Audit.Kind.STAGE1: determination.stage1_days,
        Audit.Kind.STAGE2: determination.stage2_days,
        Audit.Kind.SURVEILLANCE1: determination.surveillance_days,
        Audit.Kind.SURVEILLANCE2: determination.surveillance_days,
        Audit.Kind.RECERTIFICATION: determination.recertification_days,
    }


def _open_cycle(*, application: Application, scope: str, standard_ids, kinds: list[str],
                days: dict, actor: User, created_by: User | None,
                payload: dict | None = None) -> CertificationCycle:
    """Create an active cycle with one planned audit of each of ``kinds`` and record it
    (``payload`` adds to the event)."""
    organization = application.organization
    cycle = CertificationCycle.objects.create(
        organization=organization, application=application, scope=scope,
        created_by=created_by)
    cycle.standards.set(standard_ids)
    for kind in kinds:
        Audit.objects.create(cycle=cycle, kind=kind, planned_days=days[kind])
    record_event(actor=actor, action="audits.cycle.created", obj=cycle,
                 organization_id=organization.pk,
                 payload={"application": application.pk,
                          "standards": sorted(str(s) for s in cycle.standards.all()),
                          "days": {k: str(days[k]) for k in kinds}, **(payload or {})})
    return cycle


@transaction.atomic
def create_cycle(*, application: Application, actor: User) -> CertificationCycle:
    """Start the three-year programme of a registered application whose quotation the
    client accepted: stage 1, stage 2, two surveillance audits and the recertification,
    each with the accepted audit time."""
    _ensure_manager(actor)
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status != Application.Status.REGISTERED:
        raise Conflict("A certification cycle starts from a registered application.",
                       fields={"application": "The application is not registered."})
    if not application.quotations.filter(status=Quotation.Status.ACCEPTED).exists():
        raise Conflict("The client has not accepted a quotation yet: there is no contract.",
                       fields={"application": "No accepted quotation."})
    if application.cycles.filter(status=CertificationCycle.Status.ACTIVE).exists():
        raise Conflict("This application already has an active certification cycle.",
                       fields={"application": "A cycle exists already."})
    days = _planned_days(application)
    organization = application.organization
    cycle = _open_cycle(
        application=application, scope=application.scope_statement or organization.scope_statement,
        standard_ids=[line.standard_id for line in application.standard_lines.all()],
        kinds=REGULAR_KINDS, days=days, actor=actor, created_by=actor)
    notify(template="certification_cycle_created", to=_client_recipients(organization.pk),
           context={"organization": str(organization), "reference": application.reference,
                    "path": reverse("cycle_detail", args=[cycle.pk])})
    return cycle


@transaction.atomic
def start_next_cycle(*, cycle: CertificationCycle, decision_date, expiry_date, actor: User,
                     scope: str = "") -> CertificationCycle:
    """Close ``cycle`` and start the next three-year cycle after its recertification was
    granted (ISO/IEC 17021-1 §9.1.3.2, §9.6.3) — also when the grant restores a certificate
    within the window after expiry.

    The next cycle keeps the organization, application, standards and the decided
    ``scope`` (default: the closed cycle's), and plans a surveillance 1, a surveillance 2
    and a recertification audit — no stage 1 or 2 — with the days of the application's
    audit time. Its decision date is the recertification decision's and its due dates
    follow from it and the renewed certificate's ``expiry_date``
    (see ``surveillance_targets``). Regular audits of the closed cycle still planned
    (a surveillance never held) are cancelled: the recertification supersedes them;
    special audits and audits in progress stay where they are.

    Called by the recertification decision, in its transaction; refused for a closed
    cycle (its recertification was decided already) and for anyone but a decision maker.
    """
    if not actor.has_staff_role(StaffRole.Role.DECISION_MAKER):
        raise NotPermitted("Only a CB decision maker starts the next certification cycle, by "
                           "granting the recertification.")
    decision_date = clean_date(decision_date, "decision_date")
    expiry_date = clean_date(expiry_date, "expiry_date")
    if expiry_date <= decision_date:
        raise InvalidInput("The renewed certificate must expire after the decision.",
                           fields={"expiry_date": f"After {decision_date}."})
    cycle = CertificationCycle.objects.select_for_update().select_related(
        "application", "application__organization").get(pk=cycle.pk)
    closed = CYCLE_LIFECYCLE.target("close", cycle.status)
    days = _planned_days(cycle.application)
    cancelled = []
    superseded = f"Superseded by the recertification decision of {decision_date}."
    for audit in (cycle.audits.select_for_update()
                  .filter(kind__in=REGULAR_KINDS, status=Audit.Status.PLANNED).order_by("pk")):
        audit.status = AUDIT_LIFECYCLE.target("cancel", audit.status)
        audit.cancellation_reason, audit.cancelled_at = superseded, timezone.now()
        audit.save(update_fields=["status", "cancellation_reason", "cancelled_at"])
        _event(actor, "audits.audit.cancelled", audit, {"reason": superseded})
        cancelled.append(audit.pk)
    cycle.status = closed
    cycle.save(update_fields=["status"])
    # The programme stays with the reviewer who manages it (plan answers go to them);
    # the decision maker who started it is the actor of the audit events.
    next_cycle = _open_cycle(
        application=cycle.application, scope=(scope or "").strip() or cycle.scope,
        standard_ids=list(cycle.standards.values_list("pk", flat=True)),
        kinds=NEXT_CYCLE_KINDS, days=days, actor=actor, created_by=cycle.created_by,
        payload={"previous_cycle": cycle.pk, "decision_date": decision_date.isoformat(),
                 "expiry_date": expiry_date.isoformat()})
    record_event(actor=actor, action="audits.cycle.closed", obj=cycle,
                 organization_id=cycle.organization_id,
                 payload={"reason": "recertification", "decision_date": decision_date.isoformat(),
                          "next_cycle": next_cycle.pk, "cancelled_audits": cancelled})
    next_cycle = fix_surveillance_dates(cycle=next_cycle, decision_date=decision_date,
                                        expiry_date=expiry_date, actor=actor)
    due = dict(next_cycle.audits.values_list("kind", "target_date"))
    organization = cycle.application.organization
    notify(template="certification_cycle_renewed", to=_client_recipients(organization.pk),
           context={"organization": str(organization),
                    "reference": cycle.application.reference,
                    "decision_date": decision_date.isoformat(),
                    "expiry_date": expiry_date.isoformat(),
                    "due": [[Audit.Kind(kind).label, due[kind].isoformat()]
                            for kind in NEXT_CYCLE_KINDS],
                    "path": reverse("cycle_detail", args=[next_cycle.pk])})
    return next_cycle


@transaction.atomic
def add_special_audit(*, cycle: CertificationCycle, actor: User, kind: str, reason: str,
                      planned_days=None, target_date=None) -> Audit:
    """Add a short-notice, scope-extension or transfer audit to the programme."""
    _ensure_manager(actor)
    if kind not in SPECIAL_KINDS:
        raise InvalidInput("Choose a special audit kind.",
                           fields={"kind": "Short notice, scope extension or transfer."})
    reason = clean_reason(reason, limit=4000, message="Say why the special audit is needed.")
    days = None
    if planned_days not in (None, ""):
        try:
            days = Decimal(str(planned_days))
        except ArithmeticError:
            days = None
        if days is None or days <= 0 or days * 2 != int(days * 2):
            raise InvalidInput("Days are counted in half days.",
                               fields={"planned_days": "A positive number of half days."})
    target = clean_date(target_date, "target_date") if target_date else None
    cycle = CertificationCycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.status != CertificationCycle.Status.ACTIVE:
        raise Conflict("This certification cycle is closed.")
    audit = Audit.objects.create(cycle=cycle, kind=kind, planned_days=days, target_date=target)
    _event(actor, "audits.audit.special_added", audit,
           {"reason": reason, "planned_days": str(days) if days else None})
    return audit


@transaction.atomic
def cancel_audit(*, audit: Audit, actor: User, reason: str) -> Audit:
    """Planned → cancelled, for a special audit (short notice, scope extension, transfer)
    no longer needed — the complaint was resolved, the client withdrew the extension or
    the transfer. CB reviewers and administrators only, with the reason.

    Regular audits (stage 1 and 2, surveillance, recertification) are refused: the
    certification programme requires them (ISO/IEC 17021-1 §9.1.3). They are rescheduled;
    a client who refuses a surveillance audit is handled by suspending the certificate
    (§9.6.5), not by cancelling the audit.

    The team stays on record and is released: a cancelled audit no longer blocks its
    auditors' calendar (``_overlapping_audit``). The client's owners and editors and the
    team are e-mailed the reason.
    """
    _ensure_manager(actor)
    reason = clean_reason(reason, limit=4000, message="Say why the audit is cancelled.")
    audit = _locked_audit(audit)
    target = AUDIT_LIFECYCLE.target("cancel", audit.status)
    if audit.kind not in SPECIAL_KINDS:
        raise AuditRequired(
            f"{audit.get_kind_display()} cannot be cancelled: the certification programme "
            "requires it. Reschedule it instead; a client who refuses it is handled by "
            "suspending the certificate (or not granting certification), not by cancelling "
            "the audit.",
            fields={"kind": "Only special audits (short notice, scope extension, transfer) "
                            "can be cancelled."})
    audit.status = target
    audit.cancellation_reason, audit.cancelled_at = reason, timezone.now()
    audit.save(update_fields=["status", "cancellation_reason", "cancelled_at"])
    team = sorted(audit.team.values_list("auditor_id", flat=True))
    _event(actor, "audits.audit.cancelled", audit, {"reason": reason, "team": team})
    notify(template="audit_cancelled", to=_client_recipients(audit.cycle.organization_id),
           context=_audit_mail_context(audit, reason=reason))
    notify(template="audit_cancelled",
           to=list(audit.team.values_list("auditor__email", flat=True)),
           context=_audit_mail_context(audit, reason=reason, for_team=True,
                                       path=reverse("audit_planning", args=[audit.pk])))
    return audit


def surveillance_targets(decision_date: datetime.date,
                         expiry_date: datetime.date | None = None) -> dict[str, datetime.date]:
    """The due dates of a cycle's surveillance and recertification audits (§9.1.3.2, §9.6.2).

    - surveillance 1: within 12 months of the certification decision;
    - surveillance 2: the decision's anniversary in the following calendar year
      (decision + 24 months) — never twice in one year;
    - recertification: the day before the certificate expires (``expiry_date``, by default
      decision + 3 years, as after the initial decision), but no later than the end of the
      calendar year after surveillance 2.

    Held by these dates, the audits keep the rule "surveillance at least once each calendar
    year, not in recertification years": the years after the decision's year hold
    surveillance 1, surveillance 2 and then the recertification. The cap only bites after a
    recertification decided in the calendar year before the old expiry (e.g. decided
    2028-12-15 for a certificate expiring 2029-04-01, renewed to 2032-04-01: surveillance by
    2029-12-15 and 2030-12-15, so the recertification audit falls in 2031, not 2032 —
    otherwise 2031 would pass without an audit).
    """
    expiry_date = expiry_date or add_months(decision_date, CYCLE_MONTHS)
    first = add_months(decision_date, 12)
    second = add_months(decision_date, 24)
    return {
        Audit.Kind.SURVEILLANCE1: first,
        Audit.Kind.SURVEILLANCE2: second,
        Audit.Kind.RECERTIFICATION: min(expiry_date - datetime.timedelta(days=1),
                                        datetime.date(second.year + 1, 12, 31)),
    }


def uncovered_year(cycle: CertificationCycle, *, moved: Audit | None = None,
                   start: datetime.date | None = None,
                   end: datetime.date | None = None) -> int | None:
    """The first calendar year of the cycle that would pass without an audit, or None.

    ISO/IEC 17021-1 §9.6.2.2: surveillance at least once each calendar year, except in
    recertification years; the first within 12 months of the decision. The decision's own
    year holds the certification (or recertification) audit; every later year up to the
    recertification audit's year needs a surveillance audit (or the recertification).

    - a scheduled audit counts in the calendar years of its dates (``moved`` counts with
      ``start``/``end`` instead of its own dates: the change being checked);
    - a surveillance audit not yet scheduled can still be held in any year up to its due
      date, once: each such audit fills the earliest open year it can;
    - the recertification audit counts in its year, or, not yet scheduled, in the year it
      is due (the programme plans it before the certificate expires — bringing it forward
      does not fill an empty year, moving it there does).

    Nothing to check before the decision fixed the cycle's dates.
    """
    if cycle.decision_date is None:
        return None
    audits = list(cycle.audits.filter(kind__in=NEXT_CYCLE_KINDS)
                  .exclude(status=Audit.Status.CANCELLED))
    dates = {audit.pk: (audit.start_date, audit.end_date) for audit in audits}
    if moved is not None:
        dates[moved.pk] = (start, end)
    recertification = next((a for a in audits if a.kind == Audit.Kind.RECERTIFICATION), None)
    if recertification is None:
        return None
    last = dates[recertification.pk][0] or recertification.target_date
    if last is None:
        return None
    covered: set[int] = set()
    open_surveillance: list[int] = []
    for audit in audits:
        first_day, last_day = dates[audit.pk]
        if first_day and last_day:
            covered.update(range(first_day.year, last_day.year + 1))
        elif audit.kind in SURVEILLANCE_KINDS:
            open_surveillance.append((audit.target_date or last).year)
    open_surveillance.sort()
    for year in range(cycle.decision_date.year + 1, last.year):
        if year in covered:
            continue
        # Earliest due date first: the surveillance that can wait longest is kept for later.
        usable = next((i for i, due in enumerate(open_surveillance) if due >= year), None)
        if usable is None:
            return year
        open_surveillance.pop(usable)
    return None


def _surveillance_year_missed(cycle: CertificationCycle, year: int, what: str,
                              field: str) -> SurveillanceYearMissed:
    return SurveillanceYearMissed(
        f"{what} would leave {year} without an audit: surveillance is held at least once "
        "each calendar year between the certification decision "
        f"({cycle.decision_date}) and the recertification audit (ISO/IEC 17021-1 §9.6.2.2).",
        fields={field: f"Keep an audit in {year}."})


@transaction.atomic
def fix_surveillance_dates(*, cycle: CertificationCycle, decision_date, actor,
                           expiry_date=None) -> CertificationCycle:
    """Fix the cycle's decision date and the due dates of its planned surveillance and
    recertification audits (``surveillance_targets``): after the initial decision the
    certificate expires 3 years later; the cycle a recertification starts passes the
    renewed certificate's ``expiry_date``.

    Called by the certification decision; calling it again with the same date changes
    nothing, a different date is refused.
    """
    decision_date = clean_date(decision_date, "decision_date")
    if expiry_date is not None:
        expiry_date = clean_date(expiry_date, "expiry_date")
    cycle = CertificationCycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.decision_date and cycle.decision_date != decision_date:
        raise Conflict("The surveillance dates of this cycle are already fixed by the decision "
                       f"of {cycle.decision_date}.",
                       fields={"decision_date": "Already fixed."})
    if cycle.decision_date == decision_date:
        return cycle
    targets = surveillance_targets(decision_date, expiry_date)
    cycle.decision_date = decision_date
    cycle.save(update_fields=["decision_date"])
    for kind, target in targets.items():
        cycle.audits.filter(kind=kind, status=Audit.Status.PLANNED).update(target_date=target)
    # The programme made by the decision keeps every calendar year (§9.6.2.2); refused —
    # with the decision — should due dates ever leave one out.
    year = uncovered_year(cycle)
    if year is not None:
        raise _surveillance_year_missed(cycle, year, "The programme's due dates",
                                        "decision_date")
    record_event(actor=actor, action="audits.cycle.surveillance_fixed", obj=cycle,
                 organization_id=cycle.organization_id,
                 payload={"decision_date": decision_date.isoformat(),
                          "targets": {k: v.isoformat() for k, v in targets.items()}})
    return cycle


@transaction.atomic
def schedule_audit(*, audit: Audit, actor: User, start_date, end_date,
                   late_entry_justification: str = "") -> Audit:
    """Set the audit's dates; the team must stay free and surveillance on time.

    - A first day already past is a late entry (an audit held before it was recorded):
      refused without ``late_entry_justification`` (at least 20 characters), which is kept
      on the audit and in the event.
    - Surveillance and recertification follow the certification decision: scheduled only
      once it fixed their due dates, on or after it, surveillance by its due date, and
      never leaving a calendar year without an audit (``uncovered_year``, §9.6.2.2).
    """
    _ensure_manager(actor)
    start = clean_date(start_date, "start_date")
    end = clean_date(end_date, "end_date")
    if end < start:
        raise InvalidInput("The audit ends before it starts.",
                           fields={"end_date": "On or after the start date."})
    today = timezone.localdate()
    justification = (late_entry_justification or "").strip()
    if start < today and len(justification) < LATE_ENTRY_MIN_CHARS:
        raise InvalidInput(
            f"The first day, {start}, is past: say why the audit is entered late (it was "
            "held before it was recorded), or choose dates from today.",
            fields={"late_entry_justification":
                    f"At least {LATE_ENTRY_MIN_CHARS} characters: why the dates are past."})
    justification = justification[:4000] if start < today else ""
    audit = _locked_audit(audit)
    _ensure_planned(audit)
    if audit.kind in NEXT_CYCLE_KINDS:
        decided = audit.cycle.decision_date
        if decided is None:
            raise InvalidInput(
                f"{audit.get_kind_display()} follows the certification decision: schedule it "
                "once the decision has fixed its due date.",
                fields={"start_date": "After the certification decision."})
        if start < decided:
            raise InvalidInput(
                f"{audit.get_kind_display()} follows the certification decision of {decided}.",
                fields={"start_date": f"On or after {decided}."})
    plan = AuditPlan.objects.filter(audit=audit).first()
    if plan is not None and plan.status in PLAN_WITH_CLIENT:
        given = "confirmed" if plan.status == P.CONFIRMED else "was sent"
        message = f"Revise the plan first: the client {given} a plan for the current dates."
        raise Conflict(message, fields={"start_date": message})
    if audit.kind in SURVEILLANCE_KINDS and audit.target_date and end > audit.target_date:
        raise InvalidInput(f"{audit.get_kind_display()} is due by {audit.target_date}.",
                           fields={"end_date": f"On or before {audit.target_date}."})
    if audit.kind == Audit.Kind.STAGE2:
        stage1 = audit.cycle.audits.filter(kind=Audit.Kind.STAGE1).first()
        if stage1 and stage1.end_date and start <= stage1.end_date:
            raise InvalidInput("Stage 2 starts after stage 1 has ended.",
                               fields={"start_date": f"After {stage1.end_date}."})
    for member in audit.team.select_related("auditor"):
        clash = _overlapping_audit(member.auditor, audit, start, end)
        if clash:
            raise TeamRuleViolation(
                f"{member.auditor} is on another audit ({clash}, {clash.start_date} to "
                f"{clash.end_date}) at that time.", fields={"start_date": "The team is busy."})
    if audit.kind in NEXT_CYCLE_KINDS:
        year = uncovered_year(audit.cycle, moved=audit, start=start, end=end)
        if year is not None:
            raise _surveillance_year_missed(
                audit.cycle, year, f"{audit.get_kind_display()} from {start} to {end}",
                "start_date")
    previous = (audit.start_date, audit.end_date)
    audit.start_date, audit.end_date = start, end
    audit.late_entry_justification = justification
    audit.save(update_fields=["start_date", "end_date", "late_entry_justification"])
    _event(actor, "audits.audit.scheduled", audit,
           {"start_date": start.isoformat(), "end_date": end.isoformat(),
            "previous": [d.isoformat() if d else None for d in previous],
            **({"late_entry_justification": justification} if justification else {})})
    return audit


@transaction.atomic
def record_late_stage2_justification(*, audit: Audit, actor: User, justification: str) -> Audit:
    """Why stage 1's results still hold although stage 2 comes late (§9.3.1.2.2)."""
    _ensure_manager(actor)
    text = (justification or "").strip()
    if len(text) < 20:
        raise InvalidInput("Explain why stage 1's results still hold.",
                           fields={"late_stage2_justification": "At least 20 characters."})
    audit = _locked_audit(audit)
    _ensure_planned(audit)
    if audit.kind != Audit.Kind.STAGE2:
        raise InvalidInput("Only a stage 2 audit needs this justification.",
                           fields={"late_stage2_justification": "Not a stage 2 audit."})
    audit.late_stage2_justification = text[:4000]
    audit.save(update_fields=["late_stage2_justification"])
    _event(actor, "audits.audit.late_stage2_justified", audit, {"justification": text[:4000]})
    return audit


# --- sites (IAF MD 1) --------------------------------------------------------------------------

def candidate_sites(audit: Audit) -> list[Site]:
    """The sites of the application besides the central function (all of the
    organization's when the application named none)."""
    application = audit.cycle.application
    sites = list(application.sites.all()) or list(audit.cycle.organization.sites.all())
    return [site for site in sites if not site.is_central_function]


def central_function(audit: Audit) -> Site | None:
    return audit.cycle.organization.sites.filter(is_central_function=True).first()


def required_site_count(audit: Audit) -> int:
    """How many sites besides the central function this audit visits (IAF MD 1)."""
    candidates = len(candidate_sites(audit))
    determination = AuditTimeDetermination.objects.filter(
        application_id=audit.cycle.application_id).first()
    visits = (determination.computed.get("sites_to_visit") if determination else None) or {}
    stage = SAMPLE_STAGE.get(audit.kind)
    if stage is None or stage not in visits:
        return candidates
    return min(int(visits[stage]), candidates)


def minimum_random(required: int) -> int:
    return math.ceil(required * RANDOM_SHARE) if required else 0


def _visited_elsewhere(audit: Audit) -> set[int]:
    """Sites visited by the cycle's other surveillance audits: rotate to new ones."""
    if audit.kind not in SURVEILLANCE_KINDS:
        return set()
    others = audit.cycle.audits.filter(kind__in=SURVEILLANCE_KINDS).exclude(pk=audit.pk)
    visited = set()
    for other in others:
        selection = other.site_selection or {}
        visited.update(selection.get("chosen", []) + selection.get("random", []))
    return visited


@transaction.atomic
def select_audit_sites(*, audit: Audit, actor: User, chosen_site_ids, rng=None) -> Audit:
    """The reviewer chooses some sites; the rest of the sample — at least 25 % — is drawn
    at random; surveillance audits visit sites the cycle's other surveillance did not,
    as long as there are any; the central function is visited every time."""
    _ensure_manager(actor)
    audit = _locked_audit(audit)
    _ensure_planned(audit)
    candidates = {site.pk: site for site in candidate_sites(audit)}
    try:
        chosen = [int(pk) for pk in chosen_site_ids or []]
    except (TypeError, ValueError):
        chosen = None
    if chosen is None or len(set(chosen)) != len(chosen) or not set(chosen) <= set(candidates):
        raise SiteSelectionInvalid("Choose sites of the application (not the central function).",
                                   fields={"chosen_site_ids": "Unknown or repeated site."})
    required = required_site_count(audit)
    at_random = minimum_random(required)
    if len(chosen) > required - at_random:
        raise SiteSelectionInvalid(
            f"This audit visits {required} site(s) besides the central function, of which at "
            f"least {at_random} are drawn at random: choose at most {required - at_random}.",
            fields={"chosen_site_ids": f"At most {required - at_random} chosen sites."})
    visited = _visited_elsewhere(audit)
    unvisited = [pk for pk in candidates if pk not in visited]
    repeated = [candidates[pk].name for pk in chosen if pk in visited]
    if repeated and len(unvisited) >= required:
        raise SiteSelectionInvalid(
            f"{', '.join(repeated)} was visited at another surveillance audit of this cycle; "
            "choose sites not yet visited.",
            fields={"chosen_site_ids": "Visit different sites across the cycle."})
    seed = secrets.randbits(32)
    generator = rng or random.Random(seed)
    pool = [pk for pk in unvisited if pk not in chosen]
    fallback = [pk for pk in candidates if pk in visited and pk not in chosen]
    drawn_count = required - len(chosen)
    drawn = generator.sample(sorted(pool), min(drawn_count, len(pool)))
    if len(drawn) < drawn_count:
        drawn += generator.sample(sorted(fallback), drawn_count - len(drawn))
    central = central_function(audit)
    audit.sites.set(([central.pk] if central else []) + chosen + drawn)
    audit.site_selection = {"chosen": chosen, "random": drawn, "seed": seed,
                            "required": required, "minimum_random": at_random,
                            "central_function": central.pk if central else None}
    audit.save(update_fields=["site_selection"])
    _event(actor, "audits.audit.sites_selected", audit,
           {"chosen": chosen, "random": drawn, "required": required})
    return audit


# --- team rules --------------------------------------------------------------------------------

def _profile(user: User) -> AuditorProfile | None:
    return AuditorProfile.objects.filter(user=user).prefetch_related(
        "standards", "sectors").first()


def impartiality_threats(user: User, audit: Audit) -> list[ClientRelationship]:
    """Consultancy or employment for the client ongoing or ended within the cooling-off
    period before the audit's start (today while the audit has no dates)."""
    return impartiality_relationships(user=user, organization_id=audit.cycle.organization_id,
                                      on=audit.start_date or timezone.localdate())


def _overlapping_audit(user: User, audit: Audit, start=None, end=None) -> Audit | None:
    start, end = start or audit.start_date, end or audit.end_date
    if not start or not end:
        return None
    return (Audit.objects.filter(team__auditor=user, start_date__lte=end, end_date__gte=start)
            .exclude(pk=audit.pk).exclude(status=Audit.Status.CANCELLED)
            .select_related("cycle__organization").first())


def member_problems(user: User, audit: Audit, role: str) -> dict[str, str]:
    """What keeps one person off this audit's team (empty when they may join)."""
    problems: dict[str, str] = {}
    profile = _profile(user)
    if not user.has_staff_role(StaffRole.Role.AUDITOR) or profile is None:
        return {"auditor_id": f"{user} is not a CB auditor with a qualification profile."}
    if role == TeamMember.Role.LEAD and not profile.is_lead_auditor:
        problems["role"] = f"{user} is not qualified as a lead auditor."
    standards = set(audit.cycle.standards.values_list("pk", flat=True))
    if standards and not standards & {s.pk for s in profile.standards.all()}:
        problems["auditor_id"] = (f"{user} is not qualified for any standard of this audit "
                                  f"({', '.join(str(s) for s in audit.cycle.standards.all())}).")
    threats = impartiality_threats(user, audit)
    if threats:
        threat = threats[0]
        until = f"until {threat.end_date}" if threat.end_date else "ongoing"
        problems["impartiality"] = (
            f"{user} declared {threat.get_kind_display().lower()} for {audit.cycle.organization} "
            f"({until}): nobody may audit a client they advised or worked for within "
            f"{settings.IMPARTIALITY_COOLING_OFF_YEARS} years.")
    clash = _overlapping_audit(user, audit)
    if clash:
        problems["dates"] = (f"{user} is on another audit at the same time ({clash}, "
                             f"{clash.start_date} to {clash.end_date}).")
    return problems


def team_problems(audit: Audit, *, declarations: bool = False) -> dict[str, str]:
    """Every rule the team breaks now, by field; empty when the team is valid."""
    members = list(audit.team.select_related("auditor"))
    problems: dict[str, str] = {}
    if not any(m.role == TeamMember.Role.LEAD for m in members):
        problems["team"] = "The team needs a lead auditor."
    standards, sectors = set(), set()
    for member in members:
        profile = _profile(member.auditor)
        if profile:
            standards.update(profile.standards.all())
            sectors.update(profile.sectors.all())
        for field, message in member_problems(member.auditor, audit, member.role).items():
            key = "impartiality" if field == "impartiality" else (
                "dates" if field == "dates" else "team")
            problems.setdefault(key, message)
    missing_standards = [s for s in audit.cycle.standards.all() if s not in standards]
    if missing_standards:
        problems["standards"] = ("Nobody on the team is qualified for "
                                 f"{', '.join(str(s) for s in missing_standards)}.")
    missing_sectors = [s for s in audit.cycle.organization.sectors.all() if s not in sectors]
    if missing_sectors:
        problems["sectors"] = ("Nobody on the team is qualified for sector "
                               f"{', '.join(str(s) for s in missing_sectors)}.")
    if declarations:
        undeclared = [str(m.auditor) for m in members if not m.impartiality_declared_at]
        if undeclared:
            problems["declarations"] = ("Impartiality declaration not signed by "
                                        f"{', '.join(undeclared)}.")
    return problems


def ensure_team_ready(audit: Audit) -> None:
    """Refuse unless the team is complete and valid and everyone declared impartiality."""
    problems = team_problems(audit, declarations=True)
    if problems:
        raise AuditNotReady("The audit team is not ready: " + " ".join(problems.values()),
                            fields=problems)


@transaction.atomic
def assign_team_member(*, audit: Audit, actor: User, auditor: User, role: str) -> TeamMember:
    """Put a qualified, impartial and free auditor on the audit's team."""
    _ensure_manager(actor)
    if role not in TeamMember.Role.values:
        raise InvalidInput("Choose lead auditor or auditor.", fields={"role": "Unknown role."})
    audit = _locked_audit(audit)
    _ensure_planned(audit)
    if audit.team.filter(auditor=auditor).exists():
        raise Conflict(f"{auditor} is already on this team.",
                       fields={"auditor_id": "Already on the team."})
    if role == TeamMember.Role.LEAD and audit.team.filter(role=TeamMember.Role.LEAD).exists():
        raise TeamRuleViolation("The team has a lead auditor already.",
                                fields={"role": "One lead auditor per audit."})
    problems = member_problems(auditor, audit, role)
    if problems:
        error = ImpartialityThreat if "impartiality" in problems else TeamRuleViolation
        raise error(" ".join(problems.values()), fields=problems)
    member = TeamMember.objects.create(audit=audit, auditor=auditor, role=role)
    _event(actor, "audits.team.assigned", audit, {"auditor": auditor.pk, "role": role})
    notify(template="audit_team_assigned", to=[auditor.email],
           context={**_audit_mail_context(audit), "role": member.get_role_display(),
                    "path": reverse("audit_planning", args=[audit.pk])})
    return member


@transaction.atomic
def remove_team_member(*, member: TeamMember, actor: User) -> None:
    _ensure_manager(actor)
    audit = _locked_audit(member.audit)
    _ensure_planned(audit)
    _event(actor, "audits.team.removed", audit,
           {"auditor": member.auditor_id, "role": member.role})
    PlanSession.objects.filter(plan__audit=audit, auditor_id=member.auditor_id).update(
        auditor=None)
    member.delete()


def clean_declaration(*, statement, no_threat, threat, safeguard) -> dict[str, str | bool]:
    """The declaration's parts, or ``InvalidInput`` naming each missing one: a statement,
    and either the tick that no threat exists or the threat with its safeguard
    (ISO/IEC 17021-1 §5.2.3: threats are identified and eliminated or minimized)."""
    statement = (statement or "").strip()[:2000]
    threat, safeguard = (threat or "").strip()[:2000], (safeguard or "").strip()[:2000]
    no_threat = bool(no_threat)
    problems = {}
    if not statement:
        problems["statement"] = "Write your declaration (the standard text is offered)."
    if no_threat and (threat or safeguard):
        problems["threat"] = ("You ticked that no threat exists: untick it to describe a "
                              "threat and its safeguard.")
    elif not no_threat and not threat:
        problems["no_threat"] = ("Tick that you know of no threat to your impartiality, or "
                                 "describe the threat and its safeguard.")
    elif not no_threat and not safeguard:
        problems["safeguard"] = "Say how the threat is safeguarded."
    if problems:
        raise InvalidInput("The impartiality declaration is incomplete: "
                           + " ".join(problems.values()), fields=problems)
    return {"declaration": statement, "no_threat": no_threat, "threat": threat,
            "safeguard": safeguard}


@transaction.atomic
def declare_impartiality(*, member: TeamMember, actor: User, statement: str = "",
                         no_threat: bool = False, threat: str = "",
                         safeguard: str = "") -> TeamMember:
    """The auditor signs, for this assignment, their impartiality declaration: a statement
    and either that no threat exists or the threat and its safeguard (``clean_declaration``).
    Refused for anyone else's assignment, once signed, and while the auditor has a
    declared relationship with the client within the cooling-off period — no safeguard
    makes that acceptable (§5.2; IAF MD/ISO 17021-1 §7.2)."""
    if member.auditor_id != actor.pk:
        raise NotPermitted("Only the auditor can sign their own impartiality declaration.")
    audit = _locked_audit(member.audit)
    _ensure_planned(audit)
    threats = impartiality_threats(actor, audit)
    if threats:
        raise ImpartialityThreat("You declared a relationship with this client within the "
                                 "cooling-off period; you cannot sign the declaration.",
                                 fields={"impartiality": "Relationship within "
                                         f"{settings.IMPARTIALITY_COOLING_OFF_YEARS} years."})
    member = TeamMember.objects.select_for_update().get(pk=member.pk)
    if member.impartiality_declared_at:
        raise Conflict("You already signed the declaration for this audit.")
    parts = clean_declaration(statement=statement, no_threat=no_threat, threat=threat,
                              safeguard=safeguard)
    for field, value in parts.items():
        setattr(member, field, value)
    member.impartiality_declared_at = timezone.now()
    member.save(update_fields=[*parts, "impartiality_declared_at"])
    _event(actor, "audits.team.impartiality_declared", audit,
           {"auditor": actor.pk, "no_threat": parts["no_threat"],
            "threat": parts["threat"], "safeguard": parts["safeguard"]})
    return member


DECLARATION_TEXT = ("I have not provided management-system consultancy to, nor been employed "
                    "by, this client within the last two years, and I know of no other threat "
                    "to my impartiality for this audit.")


# --- starting the audit ------------------------------------------------------------------------

def start_problems(audit: Audit) -> dict[str, str]:
    """Everything that keeps a planned audit from starting, by field."""
    problems = dict(team_problems(audit, declarations=True))
    if not audit.start_date or not audit.end_date:
        problems["start_date"] = "Schedule the audit's dates first."
    elif audit.start_date > timezone.localdate():
        # Refused rather than moved: the client confirmed a plan for these dates, and
        # earlier dates need a plan they confirm again (revise_plan → send_plan).
        problems["start_date"] = (
            f"The audit is scheduled from {audit.start_date}: it starts on that day, not "
            "before. To hold it earlier, revise the plan, move the dates and have the "
            "client confirm the new plan.")
    plan = AuditPlan.objects.filter(audit=audit).first()
    if plan is None or plan.status != AuditPlan.Status.CONFIRMED:
        problems["plan"] = "The client has not confirmed the audit plan."
    if audit.kind == Audit.Kind.STAGE2:
        stage1 = audit.cycle.audits.filter(kind=Audit.Kind.STAGE1).first()
        if stage1 is None or stage1.status != Audit.Status.CLOSED:
            problems["stage1"] = "Stage 2 cannot start before stage 1 is closed."
        elif stage1.end_date and audit.start_date:
            limit = add_months(stage1.end_date, settings.STAGE2_MAX_MONTHS_AFTER_STAGE1)
            if audit.start_date > limit and not audit.late_stage2_justification.strip():
                problems["late_stage2_justification"] = (
                    f"Stage 2 starts more than {settings.STAGE2_MAX_MONTHS_AFTER_STAGE1} months "
                    f"after stage 1 ended ({stage1.end_date}): record why stage 1's results "
                    "still hold.")
    return problems


@transaction.atomic
def start_audit(*, audit: Audit, actor: User) -> Audit:
    """Planned → in progress: a complete valid team who all declared impartiality, dates, a
    plan the client confirmed; stage 2 only after stage 1 closed (late: justified)."""
    if not (actor.has_staff_role(*PROGRAMME_MANAGERS)
            or audit.team.filter(auditor=actor, role=TeamMember.Role.LEAD).exists()):
        raise NotPermitted("Only the lead auditor or a CB reviewer can start the audit.")
    audit = _locked_audit(audit)
    target = AUDIT_LIFECYCLE.target("start", audit.status)
    problems = start_problems(audit)
    if problems:
        raise AuditNotReady("The audit cannot start: " + " ".join(problems.values()),
                            fields=problems)
    audit.status = target
    audit.save(update_fields=["status"])
    from .conduct import prepare_checklist  # conduct builds on the programme, not back

    checklist_rows = prepare_checklist(audit)
    _event(actor, "audits.audit.started", audit,
           {"team": sorted(audit.team.values_list("auditor_id", flat=True)),
            "checklist_rows": checklist_rows})
    return audit


# --- the plan ----------------------------------------------------------------------------------

def _editable_plan(audit: Audit) -> AuditPlan:
    plan, _ = AuditPlan.objects.get_or_create(audit=audit)
    plan = AuditPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status not in PLAN_EDITABLE:
        raise Conflict(f"The plan is {plan.get_status_display().lower()}; it can be edited "
                       "while it is a draft or after the client asked for changes.",
                       fields={"plan": "Not editable now."})
    return plan


def _clean_session(audit: Audit, data: dict) -> dict:
    errors: dict[str, str] = {}
    values: dict = {}
    try:
        values["starts_at"] = _parse_datetime(data.get("starts_at"), "starts_at")
    except InvalidInput as exc:
        errors.update(exc.fields)
    try:
        values["ends_at"] = _parse_datetime(data.get("ends_at"), "ends_at")
    except InvalidInput as exc:
        errors.update(exc.fields)
    if "starts_at" in values and "ends_at" in values:
        if values["ends_at"] <= values["starts_at"]:
            errors["ends_at"] = "The session ends after it starts."
        elif audit.start_date and audit.end_date:
            days = {timezone.localtime(values[k]).date() for k in ("starts_at", "ends_at")}
            if any(day < audit.start_date or day > audit.end_date for day in days):
                errors["starts_at"] = (f"Within the audit's dates ({audit.start_date} to "
                                       f"{audit.end_date}).")
    topic = (data.get("topic") or "").strip()
    if not topic:
        errors["topic"] = "Name the clause or process."
    values["topic"] = topic[:200]
    values["auditee"] = (data.get("auditee") or "").strip()[:200]
    clause_id = data.get("clause_id")
    values["clause"] = None
    if clause_id not in (None, ""):
        values["clause"] = Clause.objects.filter(
            pk=clause_id if str(clause_id).isdigit() else None,
            standard__in=audit.cycle.standards.all()).first()
        if values["clause"] is None:
            errors["clause_id"] = "Choose a clause of the audit's standards."
    site_id = data.get("site_id")
    values["site"] = None
    if site_id not in (None, ""):
        values["site"] = Site.objects.filter(
            pk=site_id if str(site_id).isdigit() else None,
            organization_id=audit.cycle.organization_id).first()
        if values["site"] is None:
            errors["site_id"] = "Choose a site of the organization."
    auditor_id = data.get("auditor_id")
    values["auditor"] = None
    if auditor_id not in (None, ""):
        member = audit.team.filter(
            auditor_id=auditor_id if str(auditor_id).isdigit() else None).first()
        if member is None:
            errors["auditor_id"] = "Choose a member of the audit team."
        else:
            values["auditor"] = member.auditor
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", fields=errors)
    return values


def _session_payload(session: PlanSession) -> dict:
    return {"session": session.pk, "starts_at": session.starts_at.isoformat(),
            "ends_at": session.ends_at.isoformat(), "topic": session.topic}


@transaction.atomic
def add_plan_session(*, audit: Audit, actor: User, data: dict) -> PlanSession:
    _ensure_plan_editor(actor, audit)
    audit = _locked_audit(audit)
    _ensure_planned(audit)
    plan = _editable_plan(audit)
    session = PlanSession.objects.create(plan=plan, **_clean_session(audit, data))
    _event(actor, "audits.plan.session_added", audit, _session_payload(session))
    return session


@transaction.atomic
def update_plan_session(*, session: PlanSession, actor: User, data: dict) -> PlanSession:
    audit = session.plan.audit
    _ensure_plan_editor(actor, audit)
    audit = _locked_audit(audit)
    _ensure_planned(audit)
    _editable_plan(audit)
    values = _clean_session(audit, data)
    for key, value in values.items():
        setattr(session, key, value)
    session.save()
    _event(actor, "audits.plan.session_changed", audit, _session_payload(session))
    return session


@transaction.atomic
def delete_plan_session(*, session: PlanSession, actor: User) -> None:
    audit = session.plan.audit
    _ensure_plan_editor(actor, audit)
    audit = _locked_audit(audit)
    _ensure_planned(audit)
    _editable_plan(audit)
    _event(actor, "audits.plan.session_removed", audit, _session_payload(session))
    session.delete()


def _sessions_outside_dates(audit: Audit, plan: AuditPlan) -> list[str]:
    """Sessions left outside the audit's dates, e.g. after a revision moved the audit."""
    if not audit.start_date or not audit.end_date:
        return []
    outside = []
    for session in plan.sessions.all():
        days = {timezone.localtime(session.starts_at).date(),
                timezone.localtime(session.ends_at).date()}
        if any(day < audit.start_date or day > audit.end_date for day in days):
            outside.append(f"{session.topic} "
                           f"({timezone.localtime(session.starts_at):%Y-%m-%d %H:%M})")
    return outside


@transaction.atomic
def send_plan(*, audit: Audit, actor: User) -> AuditPlan:
    """Send the plan to the client for confirmation (again after a change request)."""
    _ensure_plan_editor(actor, audit)
    audit = _locked_audit(audit)
    _ensure_planned(audit)
    plan, _ = AuditPlan.objects.get_or_create(audit=audit)
    plan = AuditPlan.objects.select_for_update().get(pk=plan.pk)
    target = PLAN_LIFECYCLE.target("send", plan.status)
    problems = {}
    if not audit.start_date or not audit.end_date:
        problems["start_date"] = "Schedule the audit's dates first."
    if not plan.sessions.exists():
        problems["sessions"] = "Add the plan's sessions first."
    elif outside := _sessions_outside_dates(audit, plan):
        problems["sessions"] = (f"Move these sessions within the audit's dates "
                                f"({audit.start_date} to {audit.end_date}): "
                                f"{', '.join(outside)}.")
    problems.update(team_problems(audit))
    if problems:
        raise AuditNotReady("The plan cannot be sent yet: " + " ".join(problems.values()),
                            fields=problems)
    if plan.sent_at:
        plan.version += 1
    plan.status = target
    plan.sent_at = timezone.now()
    plan.save(update_fields=["status", "sent_at", "version"])
    _event(actor, "audits.plan.sent", audit,
           {"version": plan.version, "sessions": plan.sessions.count()})
    notify(template="audit_plan_sent", to=_client_recipients(audit.cycle.organization_id),
           context=_audit_mail_context(audit, version=plan.version))
    return plan


@transaction.atomic
def revise_plan(*, audit: Audit, actor: User, reason: str) -> AuditPlan:
    """Take back a plan the client was sent or has confirmed, to change its sessions or the
    audit's dates: sent or confirmed → draft, editable again, the client's answer to it
    cleared. ``send_plan`` then sends it as the next version, which the client must
    confirm again before the audit can start (``start_problems``).

    By whoever may edit the plan (CB reviewer, administrator, the lead auditor), only
    while the audit is planned, with the reason; the client's owners and editors are
    e-mailed that the plan they had is being revised, and why.
    """
    _ensure_plan_editor(actor, audit)
    reason = clean_reason(reason, limit=4000, message="Say why the plan is revised.")
    audit = _locked_audit(audit)
    _ensure_planned(audit)
    plan = AuditPlan.objects.select_for_update().filter(audit=audit).first()
    previous = plan.status if plan else P.DRAFT
    target = PLAN_LIFECYCLE.target("revise", previous)
    plan.status = target
    plan.revision_reason = reason
    plan.client_comment, plan.answered_at = "", None
    plan.save(update_fields=["status", "revision_reason", "client_comment", "answered_at"])
    _event(actor, "audits.plan.revised", audit,
           {"version": plan.version, "previous_status": previous, "reason": reason})
    notify(template="audit_plan_revised", to=_client_recipients(audit.cycle.organization_id),
           context=_audit_mail_context(audit, version=plan.version, reason=reason,
                                       confirmed=previous == P.CONFIRMED))
    return plan


def _answer(audit: Audit, actor: User, action: str, comment: str) -> AuditPlan:
    _ensure_client_editor(actor, audit)
    audit = _locked_audit(audit)
    _ensure_planned(audit)
    plan = AuditPlan.objects.select_for_update().filter(audit=audit).first()
    if plan is None:
        raise Conflict("There is no plan to answer yet.", fields={"plan": "No plan sent."})
    target = PLAN_LIFECYCLE.target(action, plan.status)
    plan.status = target
    plan.client_comment = comment[:4000]
    plan.answered_at = timezone.now()
    plan.save(update_fields=["status", "client_comment", "answered_at"])
    _event(actor, f"audits.plan.{'confirmed' if action == 'confirm' else 'changes_requested'}",
           audit, {"version": plan.version, "comment": comment[:4000]})
    notify(template=f"audit_plan_{'confirmed' if action == 'confirm' else 'changes_requested'}",
           to=_cb_recipients(audit),
           context=_audit_mail_context(audit, version=plan.version, comment=comment[:4000],
                                       path=reverse("audit_planning", args=[audit.pk])))
    return plan


@transaction.atomic
def confirm_plan(*, audit: Audit, actor: User, comment: str = "") -> AuditPlan:
    """The client's owner or editor confirms the plan sent to them."""
    return _answer(audit, actor, "confirm", (comment or "").strip())


@transaction.atomic
def request_plan_changes(*, audit: Audit, actor: User, comment: str) -> AuditPlan:
    """The client asks for changes: the plan goes back to the CB for editing."""
    comment = (comment or "").strip()
    if len(comment) < 5:
        raise InvalidInput("Say what should change.",
                           fields={"comment": "Describe the change (at least 5 characters)."})
    return _answer(audit, actor, "request_changes", comment)

