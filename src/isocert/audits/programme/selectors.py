"""Reads of the audit programme, scoped to who is asking (the conduct's selectors build on
``audit_get`` and ``is_cb_side``).

Who sees what:
- members of the client organization (any role): its cycles, audits and plans —
  never the CB's internal notes (``is_cb_side`` tells the views);
- CB staff who read all audits (``read_all_audits``: reviewers, administrators and
  decision makers): everything;
- auditors: only the audits they are on the team of (and the cycles holding them);
- anyone else: 404, as if the object did not exist.
"""

import datetime
from collections.abc import Iterable

from django.db.models import F, Prefetch, Q, QuerySet, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.http import Http404

from isocert.accounts.models import Membership, User
from isocert.accounts.permissions import can, staff_roles_with
from isocert.catalog.models import Sector

from .models import (
    Audit,
    AuditorProfile,
    AuditPlan,
    CertificationCycle,
    PlanSession,
    RemoteAudit,
    TeamMember,
)
from .rules import PLAN_EDITABLE, SURVEILLANCE_KINDS, ProgrammeReads


def _sees_all(user: User) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and can(user, "read_all_audits")


def audits_for_user(*, user: User) -> QuerySet[Audit]:
    queryset = Audit.objects.select_related("cycle", "cycle__organization",
                                            "cycle__application")
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if _sees_all(user):
        return queryset.all()
    visible = Q(cycle__organization__memberships__user=user)
    if can(user, "audit"):
        visible |= Q(team__auditor=user)
    return queryset.filter(visible).distinct()


def audit_get(*, user: User, pk) -> Audit:
    try:
        return audits_for_user(user=user).get(pk=pk)
    except (Audit.DoesNotExist, ValueError, TypeError):
        raise Http404("No such audit")


def cycles_for_user(*, user: User) -> QuerySet[CertificationCycle]:
    queryset = CertificationCycle.objects.select_related("organization", "application")
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if _sees_all(user):
        return queryset.all()
    visible = Q(organization__memberships__user=user)
    if can(user, "audit"):
        visible |= Q(audits__team__auditor=user)
    return queryset.filter(visible).distinct()


def cycle_get(*, user: User, pk) -> CertificationCycle:
    try:
        return cycles_for_user(user=user).get(pk=pk)
    except (CertificationCycle.DoesNotExist, ValueError, TypeError):
        raise Http404("No such certification cycle")


def cycle_audits(*, user: User, cycle: CertificationCycle) -> list[Audit]:
    """The audits of a cycle this user may see (an auditor: only theirs), with what the
    cycle page shows of each read for all of them at once (``audits_with_details``)."""
    return audits_with_details(
        user=user, audits=audits_for_user(user=user).filter(cycle=cycle).order_by("pk"))


def cycles_with_audits(*, user: User,
                       cycles: Iterable[CertificationCycle]) -> list[CertificationCycle]:
    """The cycles with their standards and, as ``visible_audits``, the audits of each the
    user may see (``cycle_audits``), read for all of them at once (an API page: issue #19)."""
    cycles = list(cycles)
    # The audits' cycle is the cycle they are read for (the prefetch sets it): not joined.
    prefetch_related_objects(cycles, "standards", Prefetch(
        "audits", queryset=audits_for_user(user=user).select_related(None).order_by("pk"),
        to_attr="visible_audits"))
    return cycles


def audits_with_details(*, user: User, audits: Iterable[Audit]) -> list[Audit]:
    """The audits with what their detail shows read for all of them at once (an API page:
    issue #19): ``team_members`` (``team_of``), ``site_list``, ``plan_or_none``
    (``plan_of``) and ``cb_side`` (``is_cb_side``)."""
    audits = list(audits)
    prefetch_related_objects(
        audits,
        Prefetch("team", to_attr="team_members", queryset=TeamMember.objects.select_related(
            "auditor").order_by("role", "pk")),
        Prefetch("sites", to_attr="site_list"),
        Prefetch("plan", to_attr="plan_or_none"))
    sees_all = _sees_all(user)
    for audit in audits:
        audit.cb_side = sees_all or any(m.auditor_id == user.pk for m in audit.team_members)
    return audits


def cycles_for_application(*, user: User, application) -> QuerySet[CertificationCycle]:
    return cycles_for_user(user=user).filter(application=application)


def previous_cycle(*, user: User, cycle: CertificationCycle) -> CertificationCycle | None:
    """The cycle of the same application this one continues (a recertification closed it
    and started this one), if the user may see it."""
    return (cycles_for_application(user=user, application=cycle.application_id)
            .filter(pk__lt=cycle.pk).order_by("-pk").first())


def next_cycle(*, user: User, cycle: CertificationCycle) -> CertificationCycle | None:
    """The cycle a recertification started when it closed this one, if the user may see
    it. An application has one active cycle at a time, so its cycles follow each other
    in the order they were created."""
    if cycle.status != CertificationCycle.Status.CLOSED:
        return None
    return (cycles_for_application(user=user, application=cycle.application_id)
            .filter(pk__gt=cycle.pk).order_by("pk").first())


def is_cb_side(user: User, audit: Audit) -> bool:
    """CB staff who may see the CB's internal notes of this audit."""
    if not getattr(user, "is_authenticated", False):
        return False
    if _sees_all(user):
        return True
    return audit.team.filter(auditor=user).exists()


def is_client_side(user: User, audit: Audit) -> bool:
    return Membership.objects.filter(organization_id=audit.cycle.organization_id,
                                     user=user).exists()


def can_manage_programme(user: User) -> bool:
    """Reviewers and administrators create cycles, assign teams and plan."""
    return bool(getattr(user, "is_authenticated", False)) and can(user, "manage_programme")


def is_lead_auditor_of(user: User, audit: Audit) -> bool:
    return audit.team.filter(auditor=user, role=TeamMember.Role.LEAD).exists()


def can_edit_plan(user: User, audit: Audit) -> bool:
    return can_manage_programme(user) or is_lead_auditor_of(user, audit)


def team_of(*, audit: Audit) -> QuerySet[TeamMember]:
    """The team of an audit the caller already holds (got through ``audit_get``)."""
    return audit.team.select_related("auditor", "auditor__auditor_profile").order_by("role", "pk")


def team_member_get(*, user: User, pk) -> TeamMember:
    try:
        member = TeamMember.objects.select_related("audit", "auditor").get(pk=pk)
    except (TeamMember.DoesNotExist, ValueError, TypeError):
        raise Http404("No such team member")
    audit_get(user=user, pk=member.audit_id)
    return member


def team_emails(*, audit: Audit) -> list[str]:
    """The e-mail addresses of the audit's active team members (the team is a fact of the
    audit, not a role: it is not in the capability map)."""
    return list(TeamMember.objects.filter(audit_id=audit.pk, auditor__is_active=True)
                .values_list("auditor__email", flat=True))


def plan_of(*, audit: Audit) -> AuditPlan | None:
    return AuditPlan.objects.filter(audit=audit).first()


def plan_sessions(*, plan: AuditPlan) -> QuerySet[PlanSession]:
    return plan.sessions.select_related("site", "auditor", "clause").order_by("starts_at", "pk")


def plan_session_get(*, user: User, pk) -> PlanSession:
    try:
        session = PlanSession.objects.select_related("plan", "plan__audit").get(pk=pk)
    except (PlanSession.DoesNotExist, ValueError, TypeError):
        raise Http404("No such plan session")
    audit_get(user=user, pk=session.plan.audit_id)
    return session


def auditor_suggestions(*, user: User, audit: Audit) -> list[dict]:
    """The finder: CB auditors qualified for a standard of the audit, impartial towards the
    client and free on its dates, not yet on the team; lead auditors and those covering
    more of the scope first. Only for people who manage the programme."""
    if not can_manage_programme(user):
        raise Http404("Not a programme manager")
    sectors = set(audit.cycle.organization.sectors.all())
    on_team = set(audit.team.values_list("auditor_id", flat=True))
    # Of each candidate's sectors only the client's matter here: a CB's 300 auditors may
    # hold thousands of sector qualifications between them. Their standards are matched
    # as ids by the team rules (``qualified_standards``), not read as instances.
    profiles = list(AuditorProfile.objects.select_related("user")
                    .prefetch_related(Prefetch(
                        "sectors", queryset=Sector.objects.filter(
                            pk__in=[sector.pk for sector in sectors])))
                    .filter(user__is_active=True,
                            user__staff_roles__role__in=staff_roles_with("audit"))
                    .exclude(user_id__in=on_team).distinct())
    # The team rules read every candidate's competence, declarations and calendar at once.
    reads = ProgrammeReads([audit], profiles=profiles)
    standards = reads.standards[audit.cycle_id]
    suggestions = []
    for profile in profiles:
        role = TeamMember.Role.LEAD if profile.is_lead_auditor else TeamMember.Role.MEMBER
        if reads.member_problems(profile.user, audit, role, explain=False):
            continue
        qualified = reads.qualified_standards[profile.user_id]
        covers_standards = [s for s in standards if s.pk in qualified]
        covers_sectors = [s for s in profile.sectors.all() if s in sectors]
        suggestions.append({"auditor": profile.user, "profile": profile, "role": role,
                            "standards": covers_standards, "sectors": covers_sectors})
    suggestions.sort(key=lambda s: (not s["profile"].is_lead_auditor,
                                    -len(s["standards"]) - len(s["sectors"]), s["auditor"].email))
    return suggestions


# --- work queues (composed by the portal's work page and dashboard: docs/work-queues.md) ---
# Each returns the audits already scoped to the user, annotated with ``queue_since``: the
# day the due date counts from.

def plans_to_send(*, user: User) -> QuerySet[Audit]:
    """Scheduled audits whose plan is not with the client: none yet, a draft, or sent back
    with the client's changes (ISO/IEC 17021-1 §9.2.3.3: the plan is communicated and the
    dates agreed in advance). Programme managers see every one, a lead auditor those they
    lead (either may send the plan). Due ``AUDIT_PLAN_LEAD_DAYS`` before the first day."""
    if not getattr(user, "is_authenticated", False):
        return Audit.objects.none()
    queryset = (Audit.objects.filter(status=Audit.Status.PLANNED, start_date__isnull=False,
                                     cycle__status=CertificationCycle.Status.ACTIVE)
                .filter(Q(plan__isnull=True) | Q(plan__status__in=PLAN_EDITABLE))
                .select_related("cycle__organization", "plan")
                .annotate(queue_since=F("start_date")))
    if not can_manage_programme(user):
        if not can(user, "audit"):
            return Audit.objects.none()
        queryset = queryset.filter(team__auditor=user, team__role=TeamMember.Role.LEAD)
    return queryset.order_by("queue_since", "pk")


def audits_to_staff(*, user: User, until: datetime.date) -> QuerySet[Audit]:
    """Planned audits of an active cycle without a lead auditor, due by ``until`` (or
    without any date yet): the team is chosen before the plan goes out (§9.2.2, §9.2.3.2:
    the plan names the team). The date counted from is the first day when scheduled, else
    the due date of a surveillance or recertification audit (§9.6.2.2), else the client's
    desired audit date. A surveillance or recertification audit with neither a first day
    nor a due date belongs to a cycle not certified yet: its due date follows from the
    certification decision (§9.1.3.2, §9.6.2.2; ``rules.surveillance_targets``), so it is
    not to staff before then. Programme managers only (they assign teams)."""
    if not can_manage_programme(user):
        return Audit.objects.none()
    return (Audit.objects.filter(status=Audit.Status.PLANNED,
                                 cycle__status=CertificationCycle.Status.ACTIVE)
            .exclude(team__role=TeamMember.Role.LEAD)
            .exclude(kind__in=[*SURVEILLANCE_KINDS, Audit.Kind.RECERTIFICATION],
                     start_date__isnull=True, target_date__isnull=True)
            # What ``queue_since`` below leaves out on the audit's own dates, said again
            # on the audit alone: the database drops a CB's later surveillance and
            # recertification audits (most of the planned ones) before any join.
            .exclude(start_date__gt=until)
            .exclude(start_date__isnull=True, target_date__gt=until)
            .select_related("cycle__organization")
            .annotate(queue_since=Coalesce("start_date", "target_date",
                                           "cycle__application__desired_audit_from"))
            .filter(Q(queue_since__lte=until) | Q(queue_since__isnull=True))
            .order_by(F("queue_since").asc(nulls_last=True), "pk"))


def surveillance_audits_due(*, user: User, until: datetime.date) -> QuerySet[Audit]:
    """Surveillance and recertification audits of active cycles still to be held, due by
    ``until`` (overdue ones included): surveillance at least once each calendar year, the
    first within 12 months of the decision, recertification before expiry (ISO/IEC 17021-1
    §9.1.3.2, §9.6.2.2, §9.6.3; ``rules.surveillance_targets`` sets ``target_date``).
    Programme managers only."""
    if not can_manage_programme(user):
        return Audit.objects.none()
    return (Audit.objects.filter(kind__in=[*SURVEILLANCE_KINDS, Audit.Kind.RECERTIFICATION],
                                 status=Audit.Status.PLANNED, target_date__lte=until,
                                 cycle__status=CertificationCycle.Status.ACTIVE)
            .select_related("cycle__organization")
            .annotate(queue_since=F("target_date"))
            .order_by("queue_since", "pk"))


# --- conduct: checklist, records, findings, corrective actions, reports ------------------------
# Findings, answers and reports are seen by whoever sees the audit; the checklist (with its
# internal notes) and the audit records are CB working papers: 404 for the client.


# --- the client's work list (the portal's dashboard composes these) -------------------------

AUDITS_AHEAD = (Audit.Status.PLANNED, Audit.Status.IN_PROGRESS)


def plans_to_confirm(*, organization_ids: list[int]) -> QuerySet[AuditPlan]:
    """Audit plans sent to these organizations and not answered yet (ISO/IEC 17021-1
    §9.2.3.3: the plan is communicated and the dates agreed in advance)."""
    return (AuditPlan.objects.filter(audit__cycle__organization_id__in=organization_ids,
                                     status=AuditPlan.Status.SENT, audit__status__in=AUDITS_AHEAD)
            .select_related("audit__cycle__organization").order_by("audit__start_date", "pk"))


def remote_agreements_to_give(*, organization_ids: list[int]) -> QuerySet[RemoteAudit]:
    """Remote (ICT) audits the CB found feasible whose client agreement is missing
    (IAF MD 4: ICT is used only as agreed with the client)."""
    return (RemoteAudit.objects.filter(audit__cycle__organization_id__in=organization_ids,
                                       feasible=True, assessed_at__isnull=False,
                                       client_agreed_at__isnull=True,
                                       audit__status=Audit.Status.PLANNED)
            .select_related("audit__cycle__organization").order_by("audit__start_date", "pk"))


def audits_ahead(*, organization_ids: list[int]) -> QuerySet[Audit]:
    """These organizations' audits still to be held or under way, soonest first."""
    return (Audit.objects.filter(cycle__organization_id__in=organization_ids,
                                 status__in=AUDITS_AHEAD)
            .select_related("cycle__organization")
            .order_by(F("start_date").asc(nulls_last=True), F("target_date").asc(nulls_last=True),
                      "pk"))
