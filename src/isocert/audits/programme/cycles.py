"""The certification cycle and its audits: creating the three-year programme, the next
cycle after recertification, special audits, cancelling, the surveillance calendar,
scheduling and starting an audit (ISO/IEC 17021-1 §9.1.3, §9.2, §9.6).

Every write is a keyword-only service with an explicit ``actor``; each refusal is a
``DomainError`` subclass naming the offending field; each change writes an audit
event in its own transaction and e-mails after commit.
"""

from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import User
from isocert.accounts.permissions import can, member_emails
from isocert.core.audit import record_event
from isocert.core.dates import display_date
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.validation import clean_date, clean_reason
from isocert.notifications.services import notify
from isocert.registration.models import (
    Application,
    AuditTimeDetermination,
    Quotation,
    TransferReview,
)

from .common import (
    audit_event,
    audit_mail_context,
    ensure_manager,
    ensure_planned,
    locked_audit,
)
from .errors import (
    AuditNotReady,
    AuditRequired,
    SurveillanceYearMissed,
    TeamRuleViolation,
)
from .models import (
    AUDIT_LIFECYCLE,
    CYCLE_LIFECYCLE,
    Audit,
    AuditPlan,
    CertificationCycle,
    TeamMember,
)
from .rules import (
    LATE_ENTRY_MIN_CHARS,
    NEXT_CYCLE_KINDS,
    PLAN_WITH_CLIENT,
    REGULAR_KINDS,
    SPECIAL_KINDS,
    SURVEILLANCE_KINDS,
    overlapping_audit,
    start_problems,
    surveillance_targets,
    uncovered_year,
)
from .selectors import team_emails
from .signals import audit_started
from .transitions import cycle_transitions, transition_time


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


def _ensure_contracted(application: Application, what: str) -> None:
    """A cycle starts from a registered application with an accepted quotation (the
    contract, ISO/IEC 17021-1 §5.1.2: a legally enforceable agreement) and no active
    cycle."""
    if application.status != Application.Status.REGISTERED:
        raise Conflict(f"A {what} starts from a registered application.",
                       fields={"application": "The application is not registered."})
    if not application.quotations.filter(status=Quotation.Status.ACCEPTED).exists():
        raise Conflict("The client has not accepted a quotation yet: there is no contract.",
                       fields={"application": "No accepted quotation."})
    if application.cycles.filter(status=CertificationCycle.Status.ACTIVE).exists():
        raise Conflict("This application already has an active certification cycle.",
                       fields={"application": "A cycle exists already."})


@transaction.atomic
def create_cycle(*, application: Application, actor: User) -> CertificationCycle:
    """Start the three-year programme of a registered application whose quotation the
    client accepted: stage 1, stage 2, two surveillance audits and the recertification,
    each with the accepted audit time."""
    ensure_manager(actor)
    application = Application.objects.select_for_update().get(pk=application.pk)
    _ensure_contracted(application, "certification cycle")
    if TransferReview.objects.filter(application=application,
                                     status=TransferReview.Status.ACCEPTED).exists():
        # IAF MD 2 §2.3: an accepted transfer continues the current cycle — no initial audit.
        raise Conflict("The transfer of this certification was accepted: the decision maker "
                       "issues the transferred certificate, which continues the current cycle "
                       "(no stage 1 or stage 2).",
                       fields={"application": "Accepted transfer."})
    days = _planned_days(application)
    organization = application.organization
    cycle = _open_cycle(
        application=application, scope=application.scope_statement or organization.scope_statement,
        standard_ids=[line.standard_id for line in application.standard_lines.all()],
        kinds=REGULAR_KINDS, days=days, actor=actor, created_by=actor)
    notify(template="certification_cycle_created", to=member_emails(organization.pk),
           context={"organization": str(organization), "reference": application.reference,
                    "path": reverse("cycle_detail", args=[cycle.pk])})
    return cycle


# The audits still to be held in a transferred cycle, by the last audit held with the
# previous CB (``Application.current_cycle_stage``).
TRANSFER_REMAINING_KINDS = {
    "initial": NEXT_CYCLE_KINDS,
    "surveillance1": [Audit.Kind.SURVEILLANCE2, Audit.Kind.RECERTIFICATION],
    "surveillance2": [Audit.Kind.RECERTIFICATION],
}


@transaction.atomic
def open_transferred_cycle(*, application: Application, transfer_date, actor: User,
                           scope: str = "") -> CertificationCycle:
    """Continue a certification cycle taken over from another CB (IAF MD 2 §2.3).

    No stage 1 or stage 2: the programme plans only the audits still due after the last
    audit held with the previous CB (``current_cycle_stage``), with the days of the
    application's audit time. The due dates follow the previous cycle's decision
    (``current_cycle_decision_date``) and the current certificate's expiry, kept as they
    are (``surveillance_targets``); the calendar years up to ``transfer_date`` were the
    previous CB's and are not checked here.

    Called by the decision that issues the transferred certificate, in its transaction.
    Refused: anyone but a decision maker; an application that is not registered, has no
    accepted quotation or already has an active cycle; missing transfer data; a remaining
    surveillance audit already overdue on the transfer date (the previous CB's programme
    is not up to date — MD 2 §2.2 asks the review to resolve it first).
    """
    if not can(actor, "decide"):
        raise NotPermitted("Only a CB decision maker continues a transferred cycle, by issuing "
                           "the transferred certificate.")
    transfer_date = clean_date(transfer_date, "transfer_date")
    application = Application.objects.select_for_update().select_related(
        "organization").get(pk=application.pk)
    _ensure_contracted(application, "transferred cycle")
    if not TransferReview.objects.filter(application=application,
                                         status=TransferReview.Status.ACCEPTED).exists():
        raise Conflict("The pre-transfer review has not accepted this transfer (IAF MD 2 "
                       "§2.2).", fields={"application": "No accepted transfer review."})
    decided = application.current_cycle_decision_date
    expiry = application.current_certificate_expiry
    kinds = TRANSFER_REMAINING_KINDS.get(application.current_cycle_stage)
    missing = {field: message for field, message, value in (
        ("current_cycle_decision_date", "The decision that started the current cycle.", decided),
        ("current_certificate_expiry", "The current certificate's expiry.", expiry),
        ("current_cycle_stage", "The last audit held in the current cycle.", kinds))
        if not value}
    if missing:
        raise Conflict("The transfer data is incomplete.", fields=missing)
    if expiry <= transfer_date:
        raise Conflict(f"The current certificate expired on {display_date(expiry)}: there is no "
                       "cycle to continue (IAF MD 2 §2.1).",
                       fields={"current_certificate_expiry": "Expired."})
    targets = surveillance_targets(decided, expiry)
    overdue = [(kind, targets[kind]) for kind in kinds
               if kind in SURVEILLANCE_KINDS and targets[kind] < transfer_date]
    if overdue:
        kind, due = overdue[0]
        raise Conflict(
            f"{Audit.Kind(kind).label} of the current cycle was due by {display_date(due)} and is "
            "not declared held: the previous CB's programme is overdue. Resolve it in the "
            "pre-transfer review or certify anew (IAF MD 2 §2.2).",
            fields={"current_cycle_stage":
                    f"{Audit.Kind(kind).label} overdue since {display_date(due)}."})
    days = _planned_days(application)
    cycle = _open_cycle(
        application=application,
        scope=(scope or "").strip() or application.scope_statement
        or application.organization.scope_statement,
        standard_ids=[line.standard_id for line in application.standard_lines.all()],
        kinds=kinds, days=days, actor=actor, created_by=application.reviewer or actor,
        payload={"transferred_from": application.current_cb_name,
                 "previous_certificate": application.current_certificate_number,
                 "stage": application.current_cycle_stage})
    cycle.transferred_from = application.current_cb_name
    cycle.transferred_on = transfer_date
    cycle.decision_date = decided
    cycle.save(update_fields=["transferred_from", "transferred_on", "decision_date"])
    for kind in kinds:
        cycle.audits.filter(kind=kind).update(target_date=targets[kind])
    year = uncovered_year(cycle)
    if year is not None:
        raise surveillance_year_missed(cycle, year, "The transferred programme", "transfer_date")
    record_event(actor=actor, action="audits.cycle.surveillance_fixed", obj=cycle,
                 organization_id=cycle.organization_id,
                 payload={"decision_date": decided.isoformat(), "transferred": True,
                          "targets": {k: targets[k].isoformat() for k in kinds}})
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
    if not can(actor, "decide"):
        raise NotPermitted("Only a CB decision maker starts the next certification cycle, by "
                           "granting the recertification.")
    decision_date = clean_date(decision_date, "decision_date")
    expiry_date = clean_date(expiry_date, "expiry_date")
    if expiry_date <= decision_date:
        raise InvalidInput("The renewed certificate must expire after the decision.",
                           fields={"expiry_date": f"After {display_date(decision_date)}."})
    cycle = CertificationCycle.objects.select_for_update().select_related(
        "application", "application__organization").get(pk=cycle.pk)
    CYCLE_LIFECYCLE.target("close", cycle.status)  # refused before anything changes
    days = _planned_days(cycle.application)
    cancelled = []
    superseded = f"Superseded by the recertification decision of {display_date(decision_date)}."
    for audit in (cycle.audits.select_for_update()
                  .filter(kind__in=REGULAR_KINDS, status=Audit.Status.PLANNED).order_by("pk")):
        AUDIT_LIFECYCLE.apply(audit, "cancel")
        audit.cancellation_reason, audit.cancelled_at = superseded, timezone.now()
        audit.save(update_fields=["status", "cancellation_reason", "cancelled_at"])
        audit_event(actor, "audits.audit.cancelled", audit, {"reason": superseded})
        cancelled.append(audit.pk)
    CYCLE_LIFECYCLE.apply(cycle, "close")
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
    notify(template="certification_cycle_renewed", to=member_emails(organization.pk),
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
    """Add a short-notice, scope-extension, transfer or edition-transition audit to the
    programme.

    A transition audit needs a superseded edition among the cycle's standards (a
    ``catalog.EditionTransition``); without ``planned_days`` it is planned with the CB's
    extra transition time (``transition_time``: the days and percentage the CB recorded
    from the IAF transition notice, e.g. IAF MD 26:2023)."""
    ensure_manager(actor)
    if kind not in SPECIAL_KINDS:
        raise InvalidInput("Choose a special audit kind.",
                           fields={"kind": "Short notice, scope extension, transfer or "
                                           "edition transition."})
    if kind == Audit.Kind.TRANSITION and not cycle_transitions(cycle):
        raise Conflict("None of this cycle's standard editions is superseded: a transition "
                       "audit moves a certificate to a new edition recorded by the CB.",
                       fields={"kind": "No superseded edition."})
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
    extra = {}
    if kind == Audit.Kind.TRANSITION:
        time = transition_time(cycle)
        if days is None and time["days"] > 0:
            days = time["days"]
        extra = {"transition_time": str(time["days"]), "explanation": time["explanation"]}
    audit = Audit.objects.create(cycle=cycle, kind=kind, planned_days=days, target_date=target)
    audit_event(actor, "audits.audit.special_added", audit,
           {"reason": reason, "planned_days": str(days) if days else None, **extra})
    return audit


@transaction.atomic
def cancel_audit(*, audit: Audit, actor: User, reason: str) -> Audit:
    """Planned → cancelled, for a special audit (short notice, scope extension, transfer,
    edition transition)
    no longer needed — the complaint was resolved, the client withdrew the extension or
    the transfer. CB reviewers and administrators only, with the reason.

    Regular audits (stage 1 and 2, surveillance, recertification) are refused: the
    certification programme requires them (ISO/IEC 17021-1 §9.1.3). They are rescheduled;
    a client who refuses a surveillance audit is handled by suspending the certificate
    (§9.6.5), not by cancelling the audit.

    The team stays on record and is released: a cancelled audit no longer blocks its
    auditors' calendar (``overlapping_audit``). The client's owners and editors and the
    team are e-mailed the reason.
    """
    ensure_manager(actor)
    reason = clean_reason(reason, limit=4000, message="Say why the audit is cancelled.")
    audit = locked_audit(audit)
    AUDIT_LIFECYCLE.target("cancel", audit.status)  # a state refusal comes first
    if audit.kind not in SPECIAL_KINDS:
        raise AuditRequired(
            f"{audit.get_kind_display()} cannot be cancelled: the certification programme "
            "requires it. Reschedule it instead; a client who refuses it is handled by "
            "suspending the certificate (or not granting certification), not by cancelling "
            "the audit.",
            fields={"kind": "Only special audits (short notice, scope extension, transfer, "
                            "edition transition) "
                            "can be cancelled."})
    AUDIT_LIFECYCLE.apply(audit, "cancel")
    audit.cancellation_reason, audit.cancelled_at = reason, timezone.now()
    audit.save(update_fields=["status", "cancellation_reason", "cancelled_at"])
    team = sorted(audit.team.values_list("auditor_id", flat=True))
    audit_event(actor, "audits.audit.cancelled", audit, {"reason": reason, "team": team})
    notify(template="audit_cancelled", to=member_emails(audit.cycle.organization_id),
           context=audit_mail_context(audit, reason=reason))
    notify(template="audit_cancelled",
           to=team_emails(audit=audit),
           context=audit_mail_context(audit, reason=reason, for_team=True,
                                       path=reverse("audit_planning", args=[audit.pk])))
    return audit



def surveillance_year_missed(cycle: CertificationCycle, year: int, what: str,
                              field: str) -> SurveillanceYearMissed:
    return SurveillanceYearMissed(
        f"{what} would leave {year} without an audit: surveillance is held at least once "
        "each calendar year between the certification decision "
        f"({display_date(cycle.decision_date)}) and the recertification audit (ISO/IEC 17021-1 "
        "§9.6.2.2).",
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
                       f"of {display_date(cycle.decision_date)}.",
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
        raise surveillance_year_missed(cycle, year, "The programme's due dates",
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
    ensure_manager(actor)
    start = clean_date(start_date, "start_date")
    end = clean_date(end_date, "end_date")
    if end < start:
        raise InvalidInput("The audit ends before it starts.",
                           fields={"end_date": "On or after the start date."})
    today = timezone.localdate()
    justification = (late_entry_justification or "").strip()
    if start < today and len(justification) < LATE_ENTRY_MIN_CHARS:
        raise InvalidInput(
            f"The first day, {display_date(start)}, is past: say why the audit is entered late (it "
            "was held before it was recorded), or choose dates from today.",
            fields={"late_entry_justification":
                    f"At least {LATE_ENTRY_MIN_CHARS} characters: why the dates are past."})
    justification = justification[:4000] if start < today else ""
    audit = locked_audit(audit)
    ensure_planned(audit)
    if audit.kind in NEXT_CYCLE_KINDS:
        decided = audit.cycle.decision_date
        if decided is None:
            raise InvalidInput(
                f"{audit.get_kind_display()} follows the certification decision: schedule it "
                "once the decision has fixed its due date.",
                fields={"start_date": "After the certification decision."})
        if start < decided:
            raise InvalidInput(
                f"{audit.get_kind_display()} follows the certification decision of "
                f"{display_date(decided)}.",
                fields={"start_date": f"On or after {display_date(decided)}."})
    plan = AuditPlan.objects.filter(audit=audit).first()
    if plan is not None and plan.status in PLAN_WITH_CLIENT:
        given = "confirmed" if plan.status == AuditPlan.Status.CONFIRMED else "was sent"
        message = f"Revise the plan first: the client {given} a plan for the current dates."
        raise Conflict(message, fields={"start_date": message})
    if audit.kind in SURVEILLANCE_KINDS and audit.target_date and end > audit.target_date:
        raise InvalidInput(f"{audit.get_kind_display()} is due by "
                           f"{display_date(audit.target_date)}.",
                           fields={"end_date": f"On or before {display_date(audit.target_date)}."})
    if audit.kind == Audit.Kind.STAGE2:
        stage1 = audit.cycle.audits.filter(kind=Audit.Kind.STAGE1).first()
        if stage1 and stage1.end_date and start <= stage1.end_date:
            raise InvalidInput("Stage 2 starts after stage 1 has ended.",
                               fields={"start_date": f"After {display_date(stage1.end_date)}."})
    for member in audit.team.select_related("auditor"):
        clash = overlapping_audit(member.auditor, audit, start, end)
        if clash:
            raise TeamRuleViolation(
                f"{member.auditor} is on another audit ({clash}, {display_date(clash.start_date)} "
                f"to {display_date(clash.end_date)}) at that time.",
                fields={"start_date": "The team is busy."})
    if audit.kind in NEXT_CYCLE_KINDS:
        year = uncovered_year(audit.cycle, moved=audit, start=start, end=end)
        if year is not None:
            raise surveillance_year_missed(
                audit.cycle, year, f"{audit.get_kind_display()} from {display_date(start)} to "
                                   f"{display_date(end)}",
                "start_date")
    previous = (audit.start_date, audit.end_date)
    audit.start_date, audit.end_date = start, end
    audit.late_entry_justification = justification
    audit.save(update_fields=["start_date", "end_date", "late_entry_justification"])
    audit_event(actor, "audits.audit.scheduled", audit,
           {"start_date": start.isoformat(), "end_date": end.isoformat(),
            "previous": [d.isoformat() if d else None for d in previous],
            **({"late_entry_justification": justification} if justification else {})})
    return audit


@transaction.atomic
def record_late_stage2_justification(*, audit: Audit, actor: User, justification: str) -> Audit:
    """Why stage 1's results still hold although stage 2 comes late (§9.3.1.2.2)."""
    ensure_manager(actor)
    text = (justification or "").strip()
    if len(text) < 20:
        raise InvalidInput("Explain why stage 1's results still hold.",
                           fields={"late_stage2_justification": "At least 20 characters."})
    audit = locked_audit(audit)
    ensure_planned(audit)
    if audit.kind != Audit.Kind.STAGE2:
        raise InvalidInput("Only a stage 2 audit needs this justification.",
                           fields={"late_stage2_justification": "Not a stage 2 audit."})
    audit.late_stage2_justification = text[:4000]
    audit.save(update_fields=["late_stage2_justification"])
    audit_event(actor, "audits.audit.late_stage2_justified", audit, {"justification": text[:4000]})
    return audit



@transaction.atomic
def start_audit(*, audit: Audit, actor: User) -> Audit:
    """Planned → in progress: a complete valid team who all declared impartiality, dates, a
    plan the client confirmed; stage 2 only after stage 1 closed (late: justified)."""
    if not (can(actor, "manage_programme")
            or audit.team.filter(auditor=actor, role=TeamMember.Role.LEAD).exists()):
        raise NotPermitted("Only the lead auditor or a CB reviewer can start the audit.")
    audit = locked_audit(audit)
    AUDIT_LIFECYCLE.target("start", audit.status)  # a state refusal comes first
    problems = start_problems(audit)
    if problems:
        raise AuditNotReady("The audit cannot start: " + " ".join(problems.values()),
                            fields=problems)
    AUDIT_LIFECYCLE.apply(audit, "start")
    audit.save(update_fields=["status"])
    # The conduct prepares the checklist (it builds on the programme, not back).
    checklist_rows = sum(rows for _, rows in audit_started.send(sender=Audit, audit=audit)
                         if isinstance(rows, int))
    audit_event(actor, "audits.audit.started", audit,
           {"team": sorted(audit.team.values_list("auditor_id", flat=True)),
            "checklist_rows": checklist_rows})
    return audit
