"""The audit programme's rules, read-only: the kinds of audit, the surveillance calendar
(ISO/IEC 17021-1 §9.1.3, §9.6.2), who may join a team and what keeps an audit from
starting. Services and selectors both ask them; they write nothing."""

import calendar
import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from isocert.accounts.models import ClientRelationship, User
from isocert.accounts.permissions import can, staff_roles_with
from isocert.accounts.selectors import cooling_off_start, impartiality_relationships
from isocert.core.dates import display_date

from .errors import (
    AuditNotReady,
)
from .models import (
    Audit,
    AuditorProfile,
    AuditPlan,
    CertificationCycle,
    TeamMember,
)

PLAN_EDITABLE = {AuditPlan.Status.DRAFT, AuditPlan.Status.CHANGES_REQUESTED}
# While the client holds the plan, the audit's dates stay those the plan was made for.
PLAN_WITH_CLIENT = {AuditPlan.Status.SENT, AuditPlan.Status.CONFIRMED}

REGULAR_KINDS = [Audit.Kind.STAGE1, Audit.Kind.STAGE2, Audit.Kind.SURVEILLANCE1,
                 Audit.Kind.SURVEILLANCE2, Audit.Kind.RECERTIFICATION]
# After a recertification the next cycle needs no stage 1 or stage 2.
NEXT_CYCLE_KINDS = [Audit.Kind.SURVEILLANCE1, Audit.Kind.SURVEILLANCE2,
                    Audit.Kind.RECERTIFICATION]
CYCLE_MONTHS = 36
# An audit entered with a first day already past says why, like a late stage 2.
LATE_ENTRY_MIN_CHARS = 20
SPECIAL_KINDS = [Audit.Kind.SHORT_NOTICE, Audit.Kind.SCOPE_EXTENSION, Audit.Kind.TRANSFER,
                 Audit.Kind.TRANSITION]
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


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus whole months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


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
    first_year = cycle.decision_date.year + 1
    if cycle.transferred_on:
        # The years up to the transfer are the previous CB's (IAF MD 2 §2.3).
        first_year = max(first_year, cycle.transferred_on.year + 1)
    for year in range(first_year, last.year):
        if year in covered:
            continue
        # Earliest due date first: the surveillance that can wait longest is kept for later.
        usable = next((i for i, due in enumerate(open_surveillance) if due >= year), None)
        if usable is None:
            return year
        open_surveillance.pop(usable)
    return None



def _profile(user: User) -> AuditorProfile | None:
    return AuditorProfile.objects.filter(user=user).prefetch_related(
        "standards", "sectors").first()


def impartiality_threats(user: User, audit: Audit) -> list[ClientRelationship]:
    """Consultancy or employment for the client ongoing or ended within the cooling-off
    period before the audit's start (today while the audit has no dates)."""
    return impartiality_relationships(user=user, organization_id=audit.cycle.organization_id,
                                      on=audit.start_date or timezone.localdate())


def overlapping_audit(user: User, audit: Audit, start=None, end=None) -> Audit | None:
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
    if not can(user, "audit") or profile is None:
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
        until = f"until {display_date(threat.end_date)}" if threat.end_date else "ongoing"
        problems["impartiality"] = (
            f"{user} declared {threat.get_kind_display().lower()} for {audit.cycle.organization} "
            f"({until}): nobody may audit a client they advised or worked for within "
            f"{settings.IMPARTIALITY_COOLING_OFF_YEARS} years.")
    clash = overlapping_audit(user, audit)
    if clash:
        problems["dates"] = (f"{user} is on another audit at the same time ({clash}, "
                             f"{display_date(clash.start_date)} to "
                             f"{display_date(clash.end_date)}).")
    return problems


def free_qualified_auditors(audits: list[Audit]) -> dict[int, list[User]]:
    """For each audit (by id), the CB auditors who may join its team now: qualified for a
    standard of the audit, no consultancy or employment for the client within the
    cooling-off period (ISO/IEC 17021-1 §5.2, §7.2.8) and not on another audit on its
    dates — the rules of ``member_problems``, read for many audits at once in a fixed
    number of queries (the work queue shows them beside each audit to staff). Lead
    auditors first, then by e-mail; people already on the audit's team are left out."""
    if not audits:
        return {}
    today = timezone.localdate()
    profiles = list(AuditorProfile.objects.select_related("user").prefetch_related("standards")
                    .filter(user__is_active=True,
                            user__staff_roles__role__in=staff_roles_with("audit"))
                    .distinct())
    profiles.sort(key=lambda p: (not p.is_lead_auditor, p.user.email))
    user_ids = [p.user_id for p in profiles]
    audit_ids = [a.pk for a in audits]
    cycle_standards: dict[int, set[int]] = {}
    for cycle_id, standard_id in CertificationCycle.standards.through.objects.filter(
            certificationcycle_id__in={a.cycle_id for a in audits}).values_list(
            "certificationcycle_id", "standard_id"):
        cycle_standards.setdefault(cycle_id, set()).add(standard_id)
    relationships = list(ClientRelationship.objects.filter(
        user_id__in=user_ids, organization_id__in={a.cycle.organization_id for a in audits}))
    on_team: set[tuple[int, int]] = set(TeamMember.objects.filter(
        audit_id__in=audit_ids).values_list("audit_id", "auditor_id"))
    dated = [a for a in audits if a.start_date and a.end_date]
    busy: list[tuple[int, int, datetime.date, datetime.date]] = []
    if dated:
        busy = list(TeamMember.objects.filter(
            auditor_id__in=user_ids, audit__start_date__lte=max(a.end_date for a in dated),
            audit__end_date__gte=min(a.start_date for a in dated))
            .exclude(audit__status=Audit.Status.CANCELLED)
            .values_list("auditor_id", "audit_id", "audit__start_date", "audit__end_date"))
    result: dict[int, list[User]] = {}
    for audit in audits:
        standards = cycle_standards.get(audit.cycle_id, set())
        limit = cooling_off_start(audit.start_date or today)
        barred = {r.user_id for r in relationships
                  if r.organization_id == audit.cycle.organization_id
                  and (r.end_date is None or r.end_date >= limit)}
        clashing = ({auditor for auditor, other, start, end in busy
                     if other != audit.pk and start <= audit.end_date and end >= audit.start_date}
                    if audit.start_date and audit.end_date else set())
        result[audit.pk] = [
            p.user for p in profiles
            if (not standards or standards & {s.pk for s in p.standards.all()})
            and p.user_id not in barred and p.user_id not in clashing
            and (audit.pk, p.user_id) not in on_team]
    return result


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



def start_problems(audit: Audit) -> dict[str, str]:
    """Everything that keeps a planned audit from starting, by field."""
    problems = dict(team_problems(audit, declarations=True))
    if not audit.start_date or not audit.end_date:
        problems["start_date"] = "Schedule the audit's dates first."
    elif audit.start_date > timezone.localdate():
        # Refused rather than moved: the client confirmed a plan for these dates, and
        # earlier dates need a plan they confirm again (revise_plan → send_plan).
        problems["start_date"] = (
            f"The audit is scheduled from {display_date(audit.start_date)}: it starts on that day, "
            "not before. To hold it earlier, revise the plan, move the dates and have the "
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
                    f"after stage 1 ended ({display_date(stage1.end_date)}): record why stage 1's "
                    "results still hold.")
    return problems
