"""Reads on certification audits, scoped to who is asking (shared by the programme
and the conduct parts of the app).

Who sees what:
- members of the client organization (any role): its cycles, audits and plans —
  never the CB's internal notes (``is_cb_side`` tells the views);
- CB reviewers, administrators and decision makers: everything;
- auditors: only the audits they are on the team of (and the cycles holding them);
- anyone else: 404, as if the object did not exist.
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from isocert.accounts.models import Membership, StaffRole, User

from .models import (
    Audit,
    AuditPlan,
    AuditRecord,
    AuditReport,
    CertificationCycle,
    ClauseCoverage,
    CorrectiveActionResponse,
    Finding,
    PlanSession,
    TeamMember,
)

CB_ALL_AUDITS = (StaffRole.Role.REVIEWER, StaffRole.Role.ADMINISTRATOR,
                 StaffRole.Role.DECISION_MAKER)
PROGRAMME_MANAGERS = (StaffRole.Role.REVIEWER, StaffRole.Role.ADMINISTRATOR)


def _sees_all(user: User) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_staff_role(*CB_ALL_AUDITS)


def audits_for_user(*, user: User) -> QuerySet[Audit]:
    queryset = Audit.objects.select_related("cycle", "cycle__organization",
                                            "cycle__application")
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if _sees_all(user):
        return queryset.all()
    visible = Q(cycle__organization__memberships__user=user)
    if user.has_staff_role(StaffRole.Role.AUDITOR):
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
    if user.has_staff_role(StaffRole.Role.AUDITOR):
        visible |= Q(audits__team__auditor=user)
    return queryset.filter(visible).distinct()


def cycle_get(*, user: User, pk) -> CertificationCycle:
    try:
        return cycles_for_user(user=user).get(pk=pk)
    except (CertificationCycle.DoesNotExist, ValueError, TypeError):
        raise Http404("No such certification cycle")


def cycle_audits(*, user: User, cycle: CertificationCycle) -> QuerySet[Audit]:
    """The audits of a cycle this user may see (an auditor: only theirs)."""
    return audits_for_user(user=user).filter(cycle=cycle).order_by("pk")


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
    return bool(getattr(user, "is_authenticated", False)) and user.has_staff_role(
        *PROGRAMME_MANAGERS)


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
    from .models import AuditorProfile
    from .programme import member_problems

    if not can_manage_programme(user):
        raise Http404("Not a programme manager")
    standards = set(audit.cycle.standards.all())
    sectors = set(audit.cycle.organization.sectors.all())
    on_team = set(audit.team.values_list("auditor_id", flat=True))
    suggestions = []
    for profile in (AuditorProfile.objects.select_related("user")
                    .prefetch_related("standards", "sectors")
                    .filter(user__is_active=True, user__staff_roles__role=StaffRole.Role.AUDITOR)
                    .exclude(user_id__in=on_team).distinct()):
        role = TeamMember.Role.LEAD if profile.is_lead_auditor else TeamMember.Role.MEMBER
        if member_problems(profile.user, audit, role):
            continue
        covers_standards = [s for s in profile.standards.all() if s in standards]
        covers_sectors = [s for s in profile.sectors.all() if s in sectors]
        suggestions.append({"auditor": profile.user, "profile": profile, "role": role,
                            "standards": covers_standards, "sectors": covers_sectors})
    suggestions.sort(key=lambda s: (not s["profile"].is_lead_auditor,
                                    -len(s["standards"]) - len(s["sectors"]), s["auditor"].email))
    return suggestions


# --- conduct: checklist, records, findings, corrective actions, reports ------------------------
# Findings, answers and reports are seen by whoever sees the audit; the checklist (with its
# internal notes) and the audit records are CB working papers: 404 for the client.

def findings_of(*, audit: Audit):
    """The findings of an audit the caller already holds (got through ``audit_get``)."""
    return audit.findings.select_related("clause", "clause__standard", "site").order_by("number")


def finding_get(*, user: User, pk):
    try:
        finding = Finding.objects.select_related("audit", "clause", "clause__standard",
                                                 "site").get(pk=pk)
    except (Finding.DoesNotExist, ValueError, TypeError):
        raise Http404("No such finding")
    finding.audit = audit_get(user=user, pk=finding.audit_id)
    return finding


def responses_of(*, finding):
    return finding.responses.select_related("submitted_by", "reviewed_by", "evidence").order_by(
        "-version")


def ca_response_get(*, user: User, pk):
    try:
        response = CorrectiveActionResponse.objects.select_related("finding", "evidence").get(
            pk=pk)
    except (CorrectiveActionResponse.DoesNotExist, ValueError, TypeError):
        raise Http404("No such answer")
    audit_get(user=user, pk=response.finding.audit_id)
    return response


def coverage_of(*, user: User, audit: Audit):
    """The checklist of an audit: CB side only (it carries internal notes)."""
    if not is_cb_side(user, audit):
        return ClauseCoverage.objects.none()
    return audit.coverage.select_related("clause", "clause__standard").order_by(
        "clause__standard__code", "clause__position")


def coverage_get(*, user: User, pk):
    try:
        coverage = ClauseCoverage.objects.select_related("audit", "clause").get(pk=pk)
    except (ClauseCoverage.DoesNotExist, ValueError, TypeError):
        raise Http404("No such checklist row")
    coverage.audit = audit_get(user=user, pk=coverage.audit_id)
    if not is_cb_side(user, coverage.audit):
        raise Http404("No such checklist row")
    return coverage


def records_of(*, user: User, audit: Audit):
    """The audit records (the auditor's working papers): CB side only."""
    if not is_cb_side(user, audit):
        return AuditRecord.objects.none()
    return audit.records.select_related("clause", "site", "file", "created_by").order_by(
        "created_at", "pk")


def record_get(*, user: User, pk):
    try:
        record = AuditRecord.objects.select_related("audit", "file").get(pk=pk)
    except (AuditRecord.DoesNotExist, ValueError, TypeError):
        raise Http404("No such record")
    record.audit = audit_get(user=user, pk=record.audit_id)
    if not is_cb_side(user, record.audit):
        raise Http404("No such record")
    return record


def reports_of(*, audit: Audit):
    """Every revision, newest first."""
    return audit.reports.select_related("issued_by", "pdf").order_by("-revision")


def report_get(*, user: User, pk):
    try:
        report = AuditReport.objects.select_related("audit", "pdf", "issued_by").get(pk=pk)
    except (AuditReport.DoesNotExist, ValueError, TypeError):
        raise Http404("No such report")
    report.audit = audit_get(user=user, pk=report.audit_id)
    return report
