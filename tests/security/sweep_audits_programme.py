"""The tenant sweep's part for the audit programme (cycles, audits, teams, plans): which
object each URL parameter names, Alice's objects, and everything a request could change.
"""

import datetime

from programme_helpers import START, auditor, cycle_for

from isocert.audits.models import (
    Audit,
    AuditPlan,
    CertificationCycle,
    PlanSession,
    RemoteAudit,
    TeamMember,
)
from isocert.audits.programme import services as programme

HTML_PK_KINDS = {
    "cycle_start": "application",
    "cycle_detail": "cycle",
    "cycle_special_audit": "cycle",
    "audit_planning": "audit",
    "audit_schedule": "audit",
    "audit_sites": "audit",
    "audit_team_add": "audit",
    "audit_late_stage2": "audit",
    "plan_session_add": "audit",
    "plan_send": "audit",
    "audit_remote": "audit",
    "remote_agree": "audit",
    "plan_revise": "audit",
    "audit_cancel": "audit",
    "audit_start": "audit",
    "audit_plan_client": "audit",
    "plan_confirm": "audit",
    "plan_request_changes": "audit",
    "team_member_remove": "team_member",
    "team_member_declare": "team_member",
    "plan_session_delete": "plan_session",
}
API_PARAM_KINDS = {
    "cycle_id": "cycle",
    "audit_id": "audit",
    "team_member_id": "team_member",
    "plan_session_id": "plan_session",
}
# JSON values where the generic sample ("sweep") would not be valid.
API_SAMPLES = {"starts_at": "2031-05-05T09:00:00", "ends_at": "2031-05-05T10:00:00"}
# Lists of the caller's own: checked to show nothing of Alice's.
API_OWN_LISTS = {("get", "/api/v1/cycles"), ("get", "/api/v1/audits")}


def build_world(*, organization, alice, bob, rita) -> tuple[dict[str, list[int]], list[str]]:
    """Alice's certification cycle: stage 1 with its team and a plan sent to her, and a
    special audit; returns the ids and telltale names."""
    lead = auditor("lena.sweep@cb.example", "Lena Sweep", lead=True)
    cycle = cycle_for(organization, alice, rita)
    stage1 = cycle.audits.get(kind=Audit.Kind.STAGE1)
    programme.schedule_audit(audit=stage1, actor=rita, start_date=START,
                             end_date=START + datetime.timedelta(days=1))
    member = programme.assign_team_member(audit=stage1, actor=rita, auditor=lead, role="lead")
    session = programme.add_plan_session(audit=stage1, actor=rita, starts_at=f"{START}T09:00",
                                         ends_at=f"{START}T11:00",
                                         topic="Nordlicht casting line walk-through",
                                         auditee="Bob", auditor_id=lead.pk,
                                         is_remote=True)
    # Held partly remotely (IAF MD 4), so the remote-audit endpoints have Alice's to refuse.
    programme.record_remote_assessment(
        audit=stage1, actor=rita, ict_used="Nordlicht sweep ICT: video call",
        remote_share_percent=20, connectivity="Fibre.", confidentiality="No recording.",
        visible_remotely="Documents.", not_visible_remotely="Casting line.", feasible=True)
    programme.agree_remote_audit(audit=stage1, actor=alice)
    programme.send_plan(audit=stage1, actor=rita)
    special = programme.add_special_audit(cycle=cycle, actor=rita, kind="short_notice",
                                          reason="Complaint about porous castings")
    return {
        "cycle": [cycle.pk],
        "audit": [stage1.pk, special.pk],
        "team_member": [member.pk],
        "plan_session": [session.pk],
    }, ["Nordlicht casting line walk-through", "Nordlicht sweep ICT"]


def state(organization) -> dict:
    """Everything of Alice's audit programme a request could have changed."""
    audits = Audit.objects.filter(cycle__organization=organization)
    return {
        "cycles": sorted(CertificationCycle.objects.filter(organization=organization)
                         .values_list("pk", "status", "decision_date", "scope")),
        "audits": sorted(audits.values_list(
            "pk", "kind", "status", "planned_days", "target_date", "start_date", "end_date",
            "late_stage2_justification", "cancellation_reason", "cancelled_at")),
        "selections": [(a.pk, a.site_selection, sorted(a.sites.values_list("pk", flat=True)))
                       for a in audits.order_by("pk")],
        "team": sorted(TeamMember.objects.filter(audit__in=audits).values_list(
            "pk", "auditor_id", "role", "impartiality_declared_at")),
        "plans": sorted(AuditPlan.objects.filter(audit__in=audits).values_list(
            "pk", "status", "version", "client_comment", "sent_at", "answered_at",
            "revision_reason")),
        "sessions": sorted(PlanSession.objects.filter(plan__audit__in=audits).values_list(
            "pk", "starts_at", "ends_at", "topic", "auditor_id", "site_id", "is_remote")),
        "remote": sorted(RemoteAudit.objects.filter(audit__in=audits).values_list(
            "pk", "ict_used", "remote_share_percent", "feasible", "assessed_at",
            "client_agreed_at")),
    }
