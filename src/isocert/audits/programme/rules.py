"""The audit programme's rules, read-only: the kinds of audit, the surveillance calendar
(ISO/IEC 17021-1 §9.1.3, §9.6.2), who may join a team and what keeps an audit from
starting. Services and selectors both ask them; they write nothing."""

import calendar
import datetime
from collections.abc import Iterable
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from isocert.accounts.models import ClientRelationship, Organization, User
from isocert.accounts.permissions import staff_roles_with, who_can
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


class ProgrammeReads:
    """What the team and start rules read of some audits and people, each kind of record
    in one query for all of them, on first use: the rules answer for one audit or for a
    page of them in a fixed number of queries (issue #19).

    ``users`` are people to judge besides the audits' teams (candidates for a team). The
    records are read here, never from the caller's instances' caches, so a rule asked
    after a write sees the write. Orders are the database's, as each rule read them one
    by one: a cycle's standards and an organization's sectors in catalog order, a
    person's relationships with the client newest first, the clashing audit the first of
    ``Audit``'s order, the team by when each member joined.
    """

    def __init__(self, audits: Iterable[Audit], users: Iterable[User] = (),
                 profiles: Iterable[AuditorProfile] = ()):
        self.audits = list(audits)
        # Candidates' profiles the caller has just read (the auditor finders, issue #19):
        # not read again. Their standards are read as ids (``qualified_standards``); the
        # team rules read the team's own profiles.
        self.given_profiles = {profile.user_id: profile for profile in profiles}
        self.extra_user_ids = {user.pk for user in users} | set(self.given_profiles)

    @cached_property
    def members(self) -> dict[int, list[TeamMember]]:
        """Each audit's team (by audit id)."""
        teams: dict[int, list[TeamMember]] = {audit.pk: [] for audit in self.audits}
        for member in (TeamMember.objects.filter(audit_id__in=teams)
                       .select_related("auditor").order_by("pk")):
            teams[member.audit_id].append(member)
        return teams

    def _people_of(self, audit: Audit) -> set[int]:
        return self.extra_user_ids | {m.auditor_id for m in self.members[audit.pk]}

    @cached_property
    def user_ids(self) -> set[int]:
        return set().union(self.extra_user_ids, *(
            self._people_of(audit) for audit in self.audits))

    @cached_property
    def profiles(self) -> dict[int, AuditorProfile]:
        """Qualification profiles by user id, their standards and sectors read along."""
        found = dict(self.given_profiles)
        missing = self.user_ids - set(found)
        if missing:
            found.update((profile.user_id, profile) for profile in AuditorProfile.objects.filter(
                user_id__in=missing).prefetch_related("standards", "sectors"))
        return found

    @cached_property
    def auditors(self) -> set[int]:
        """Who holds a staff role that audits (``can(user, "audit")``)."""
        return who_can(self.user_ids, "audit")

    @cached_property
    def standards(self) -> dict[int, list]:
        """Each cycle's standards (by cycle id)."""
        by_cycle: dict[int, list] = {audit.cycle_id: [] for audit in self.audits}
        for row in (CertificationCycle.standards.through.objects
                    .filter(certificationcycle_id__in=by_cycle)
                    .select_related("standard").order_by("standard")):
            by_cycle[row.certificationcycle_id].append(row.standard)
        return by_cycle

    @cached_property
    def standard_ids(self) -> dict[int, set[int]]:
        """Each cycle's standards as ids (by cycle id): what a qualification is matched on."""
        return {cycle_id: {s.pk for s in standards}
                for cycle_id, standards in self.standards.items()}

    @cached_property
    def sectors(self) -> dict[int, list]:
        """Each client's sectors (by organization id)."""
        by_organization: dict[int, list] = {
            audit.cycle.organization_id: [] for audit in self.audits}
        for row in (Organization.sectors.through.objects
                    .filter(organization_id__in=by_organization)
                    .select_related("sector").order_by("sector")):
            by_organization[row.organization_id].append(row.sector)
        return by_organization

    @cached_property
    def relationships(self) -> dict[tuple[int, int], list[ClientRelationship]]:
        """The declared relationships that may bar someone (by user and organization id)."""
        if not self.audits or not self.user_ids:
            return {}
        earliest = min(cooling_off_start(self._threat_day(audit)) for audit in self.audits)
        found: dict[tuple[int, int], list[ClientRelationship]] = {}
        for relationship in (ClientRelationship.objects.filter(
                user_id__in=self.user_ids,
                organization_id__in={audit.cycle.organization_id for audit in self.audits})
                .exclude(end_date__lt=earliest).select_related("organization")):
            found.setdefault((relationship.user_id, relationship.organization_id),
                             []).append(relationship)
        return found

    @staticmethod
    def _threat_day(audit: Audit) -> datetime.date:
        return audit.start_date or timezone.localdate()

    @cached_property
    def busy(self) -> dict[int, list[tuple[int, datetime.date, datetime.date]]]:
        """The other audits each person is on at the dates of one of these audits (by user
        id; audit id, first and last day), cancelled ones left out. Ids and dates only: a
        busy season is thousands of team places, and a clash needs one audit
        (``clashes``)."""
        window = Q()
        for audit in self.audits:
            if audit.start_date and audit.end_date:
                window |= Q(auditor_id__in=self._people_of(audit),
                            audit__start_date__lte=audit.end_date,
                            audit__end_date__gte=audit.start_date)
        if not window:
            return {}
        found: dict[int, list[tuple[int, datetime.date, datetime.date]]] = {}
        for auditor_id, *other in (
                TeamMember.objects.filter(window)
                .exclude(audit__status=Audit.Status.CANCELLED)
                .order_by("audit__cycle", "audit__pk")
                .values_list("auditor_id", "audit_id", "audit__start_date",
                             "audit__end_date")):
            found.setdefault(auditor_id, []).append(tuple(other))
        return found

    @cached_property
    def clash_ids(self) -> dict[tuple[int, int], int]:
        """The first other audit at the same time, by (user id, audit id): its id."""
        first: dict[tuple[int, int], int] = {}
        for audit in self.audits:
            if not audit.start_date or not audit.end_date:
                continue
            for user_id in self._people_of(audit):
                other = next((pk for pk, start, end in self.busy.get(user_id, [])
                              if pk != audit.pk and start <= audit.end_date
                              and end >= audit.start_date), None)
                if other is not None:
                    first[(user_id, audit.pk)] = other
        return first

    @cached_property
    def clashes(self) -> dict[tuple[int, int], Audit]:
        """The first other audit at the same time, by (user id, audit id), read in one
        query for all of them."""
        loaded = Audit.objects.select_related("cycle__organization").in_bulk(
            set(self.clash_ids.values()))
        return {key: loaded[pk] for key, pk in self.clash_ids.items()}

    @cached_property
    def plans(self) -> dict[int, AuditPlan]:
        return {plan.audit_id: plan for plan in AuditPlan.objects.filter(
            audit_id__in=[audit.pk for audit in self.audits])}

    @cached_property
    def stage1(self) -> dict[int, Audit]:
        """Each cycle's stage 1 audit (by cycle id)."""
        found: dict[int, Audit] = {}
        for audit in Audit.objects.filter(cycle_id__in={a.cycle_id for a in self.audits},
                                          kind=Audit.Kind.STAGE1).order_by("pk"):
            found.setdefault(audit.cycle_id, audit)
        return found

    def threats(self, user: User, audit: Audit) -> list[ClientRelationship]:
        """As ``impartiality_threats``."""
        declared = self.relationships.get((user.pk, audit.cycle.organization_id))
        if not declared:
            return []
        limit = cooling_off_start(self._threat_day(audit))
        return [r for r in declared if r.end_date is None or r.end_date >= limit]

    @cached_property
    def qualified_standards(self) -> dict[int, set[int]]:
        """The standards each person's profile qualifies for (by user id), as ids: one
        query for everyone, whatever the caller prefetched."""
        user_of = {profile.pk: user_id for user_id, profile in self.profiles.items()}
        found: dict[int, set[int]] = {user_id: set() for user_id in self.profiles}
        for profile_id, standard_id in AuditorProfile.standards.through.objects.filter(
                auditorprofile_id__in=user_of).values_list("auditorprofile_id", "standard_id"):
            found[user_of[profile_id]].add(standard_id)
        return found

    def clash(self, user: User, audit: Audit) -> Audit | None:
        """As ``overlapping_audit`` at the audit's own dates."""
        return self.clashes.get((user.pk, audit.pk))

    def member_problems(self, user: User, audit: Audit, role: str, *,
                        explain: bool = True) -> dict[str, str]:
        """What keeps one person off this audit's team (empty when they may join).
        ``explain=False`` (the auditor finder: only who may join) leaves the messages of
        a clash and of a declared relationship empty, so the clashing audits are not read
        and no date is written for the hundreds of candidates who are left out."""
        problems: dict[str, str] = {}
        profile = self.profiles.get(user.pk)
        if user.pk not in self.auditors or profile is None:
            return {"auditor_id": f"{user} is not a CB auditor with a qualification profile."}
        if role == TeamMember.Role.LEAD and not profile.is_lead_auditor:
            problems["role"] = f"{user} is not qualified as a lead auditor."
        standards = self.standards[audit.cycle_id]
        if standards and self.standard_ids[audit.cycle_id].isdisjoint(
                self.qualified_standards[user.pk]):
            problems["auditor_id"] = (f"{user} is not qualified for any standard of this audit "
                                      f"({', '.join(str(s) for s in standards)}).")
        threats = self.threats(user, audit)
        if threats and not explain:
            problems["impartiality"] = ""
        elif threats:
            threat = threats[0]
            until = f"until {display_date(threat.end_date)}" if threat.end_date else "ongoing"
            problems["impartiality"] = (
                f"{user} declared {threat.get_kind_display().lower()} for "
                f"{audit.cycle.organization} ({until}): nobody may audit a client they "
                f"advised or worked for within {settings.IMPARTIALITY_COOLING_OFF_YEARS} years.")
        if not explain:
            if (user.pk, audit.pk) in self.clash_ids:
                problems["dates"] = ""
            return problems
        clash = self.clash(user, audit)
        if clash:
            problems["dates"] = (f"{user} is on another audit at the same time ({clash}, "
                                 f"{display_date(clash.start_date)} to "
                                 f"{display_date(clash.end_date)}).")
        return problems

    def team_problems(self, audit: Audit, *, declarations: bool = False) -> dict[str, str]:
        """Every rule the team breaks now, by field; empty when the team is valid."""
        members = self.members[audit.pk]
        problems: dict[str, str] = {}
        if not any(m.role == TeamMember.Role.LEAD for m in members):
            problems["team"] = "The team needs a lead auditor."
        standards, sectors = set(), set()
        for member in members:
            profile = self.profiles.get(member.auditor_id)
            if profile:
                standards.update(profile.standards.all())
                sectors.update(profile.sectors.all())
            for field, message in self.member_problems(member.auditor, audit,
                                                       member.role).items():
                key = "impartiality" if field == "impartiality" else (
                    "dates" if field == "dates" else "team")
                problems.setdefault(key, message)
        missing_standards = [s for s in self.standards[audit.cycle_id] if s not in standards]
        if missing_standards:
            problems["standards"] = ("Nobody on the team is qualified for "
                                     f"{', '.join(str(s) for s in missing_standards)}.")
        missing_sectors = [s for s in self.sectors[audit.cycle.organization_id]
                           if s not in sectors]
        if missing_sectors:
            problems["sectors"] = ("Nobody on the team is qualified for sector "
                                   f"{', '.join(str(s) for s in missing_sectors)}.")
        if declarations:
            undeclared = [str(m.auditor) for m in members if not m.impartiality_declared_at]
            if undeclared:
                problems["declarations"] = ("Impartiality declaration not signed by "
                                            f"{', '.join(undeclared)}.")
        return problems

    def start_problems(self, audit: Audit) -> dict[str, str]:
        """Everything that keeps a planned audit from starting, by field."""
        problems = dict(self.team_problems(audit, declarations=True))
        if not audit.start_date or not audit.end_date:
            problems["start_date"] = "Schedule the audit's dates first."
        elif audit.start_date > timezone.localdate():
            # Refused rather than moved: the client confirmed a plan for these dates, and
            # earlier dates need a plan they confirm again (revise_plan → send_plan).
            problems["start_date"] = (
                f"The audit is scheduled from {display_date(audit.start_date)}: it starts on "
                "that day, not before. To hold it earlier, revise the plan, move the dates and "
                "have the client confirm the new plan.")
        plan = self.plans.get(audit.pk)
        if plan is None or plan.status != AuditPlan.Status.CONFIRMED:
            problems["plan"] = "The client has not confirmed the audit plan."
        if audit.kind == Audit.Kind.STAGE2:
            stage1 = self.stage1.get(audit.cycle_id)
            if stage1 is None or stage1.status != Audit.Status.CLOSED:
                problems["stage1"] = "Stage 2 cannot start before stage 1 is closed."
            elif stage1.end_date and audit.start_date:
                limit = add_months(stage1.end_date, settings.STAGE2_MAX_MONTHS_AFTER_STAGE1)
                if audit.start_date > limit and not audit.late_stage2_justification.strip():
                    problems["late_stage2_justification"] = (
                        f"Stage 2 starts more than {settings.STAGE2_MAX_MONTHS_AFTER_STAGE1} "
                        f"months after stage 1 ended ({display_date(stage1.end_date)}): record "
                        "why stage 1's results still hold.")
        return problems


def member_problems(user: User, audit: Audit, role: str) -> dict[str, str]:
    """What keeps one person off this audit's team (empty when they may join)."""
    return ProgrammeReads([audit], users=[user]).member_problems(user, audit, role)


def free_qualified_auditors(audits: list[Audit]) -> dict[int, list[User]]:
    """For each audit (by id), the CB auditors who may join its team now — the rules of
    ``member_problems`` (qualified for a standard of the audit, no consultancy or
    employment for the client within the cooling-off period: ISO/IEC 17021-1 §5.2, §7.2.8;
    not on another audit on its dates), asked of every auditor through one
    ``ProgrammeReads`` for all the audits: a fixed number of queries (the work queue shows
    them beside each audit to staff). Lead auditors first, then by e-mail; people already
    on the audit's team are left out."""
    if not audits:
        return {}
    profiles = list(AuditorProfile.objects.select_related("user")
                    .filter(user__is_active=True,
                            user__staff_roles__role__in=staff_roles_with("audit"))
                    .distinct())
    profiles.sort(key=lambda p: (not p.is_lead_auditor, p.user.email))
    reads = ProgrammeReads(audits, profiles=profiles)
    free: dict[int, list[User]] = {}
    for audit in audits:
        on_team = {member.auditor_id for member in reads.members[audit.pk]}
        free[audit.pk] = [
            p.user for p in profiles if p.user_id not in on_team
            and not reads.member_problems(p.user, audit, TeamMember.Role.MEMBER, explain=False)]
    return free


def team_problems(audit: Audit, *, declarations: bool = False) -> dict[str, str]:
    """Every rule the team breaks now, by field; empty when the team is valid."""
    return ProgrammeReads([audit]).team_problems(audit, declarations=declarations)


def ensure_team_ready(audit: Audit) -> None:
    """Refuse unless the team is complete and valid and everyone declared impartiality."""
    problems = team_problems(audit, declarations=True)
    if problems:
        raise AuditNotReady("The audit team is not ready: " + " ".join(problems.values()),
                            fields=problems)



def start_problems(audit: Audit) -> dict[str, str]:
    """Everything that keeps a planned audit from starting, by field."""
    return ProgrammeReads([audit]).start_problems(audit)


def start_problems_by_audit(audits: Iterable[Audit]) -> dict[int, dict[str, str]]:
    """``start_problems`` of each audit (by id), read for all of them at once."""
    reads = ProgrammeReads(audits)
    return {audit.pk: reads.start_problems(audit) for audit in reads.audits}
