"""The audit programme API: cycles, audits, teams, plans and the start of an audit.

Everything is read through the scoped selectors: an object the caller may not see answers
404 as if it did not exist; a rule a service refuses answers the shared error shape.
"""

import datetime
from decimal import Decimal

from django.http import Http404
from ninja import Field, Router, Schema, Status

from isocert.accounts.models import User
from isocert.core.errors import InvalidInput
from isocert.core.pagination import PAGINATED, page_window
from isocert.registration import selectors as registration_selectors

from . import selectors
from . import services as programme
from .models import (
    Audit,
    AuditPlan,
    CertificationCycle,
    PlanSession,
    RemoteAudit,
    TeamMember,
)

router = Router(tags=["audit programme"])


# --- schemas -----------------------------------------------------------------------------------

class TeamMemberOut(Schema):
    id: int
    auditor_id: int
    auditor: str
    role: str
    impartiality_declared_at: datetime.datetime | None


class AuditOut(Schema):
    id: int
    cycle_id: int
    kind: str
    status: str
    planned_days: Decimal | None
    target_date: datetime.date | None
    start_date: datetime.date | None
    end_date: datetime.date | None
    site_ids: list[int]
    team: list[TeamMemberOut]
    plan_status: str | None
    late_stage2_justification: str | None = Field(None, description="CB side only")
    late_entry_justification: str | None = Field(
        None, description="CB side only: why the audit was scheduled with a first day already "
                          "past (empty otherwise)")
    problems: dict[str, str] | None = Field(
        None, description="What keeps a planned audit from starting, by field (CB side only; "
                          "empty once the audit has started, closed or been cancelled)")
    cancelled_at: datetime.datetime | None = None
    cancellation_reason: str | None = Field(None, description="Why the audit was cancelled "
                                            "(null unless it was)")


class CycleOut(Schema):
    id: int
    organization_id: int
    application_id: int
    status: str
    standards: list[str]
    scope: str
    decision_date: datetime.date | None
    audits: list[AuditOut]


class SpecialAuditIn(Schema):
    kind: str = Field(..., description="short_notice, scope_extension, transfer or transition "
                                       "(an edition transition: planned by default with the "
                                       "CB's extra transition time)")
    reason: str
    planned_days: Decimal | None = None
    target_date: datetime.date | None = None


class ScheduleIn(Schema):
    start_date: datetime.date
    end_date: datetime.date
    late_entry_justification: str = Field(
        "", description="Required (at least 20 characters) when `start_date` is past: why the "
                        "audit is entered late; kept on the audit and in the audit trail")


class SitesIn(Schema):
    chosen_site_ids: list[int] = Field(default_factory=list)


class JustificationIn(Schema):
    justification: str


class AssignIn(Schema):
    auditor_id: int
    role: str = Field(..., description="lead or member")


class DeclarationIn(Schema):
    statement: str = Field("", description="The declaration in your words (required)")
    no_threat: bool = Field(False, description="You know of no threat to your impartiality")
    threat: str = Field("", description="Otherwise: the threat …")
    safeguard: str = Field("", description="… and the safeguard that manages it")


class SuggestionOut(Schema):
    auditor_id: int
    auditor: str
    is_lead_auditor: bool
    standards: list[str]
    sectors: list[int]
    languages: str


class SessionIn(Schema):
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    topic: str
    clause_id: int | None = None
    site_id: int | None = None
    auditee: str = ""
    auditor_id: int | None = None
    is_remote: bool = Field(False, description="Held remotely with ICT (IAF MD 4): the plan "
                            "is then sent only with a remote-audit assessment the client "
                            "agreed to (`PUT /audits/{audit_id}/remote`)")


class SessionOut(Schema):
    id: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    topic: str
    clause_id: int | None
    site_id: int | None
    auditee: str
    auditor_id: int | None
    is_remote: bool


class RemoteIn(Schema):
    ict_used: str = Field(..., description="The ICT used, e.g. video conference, screen "
                                           "sharing, remote access to documents")
    remote_share_percent: int = Field(..., description="Share of the audit time held "
                                      "remotely, 1–100; the audit time itself stays the same")
    connectivity: str = Field(..., description="Assessment: bandwidth, stability, fallback")
    confidentiality: str = Field(..., description="Assessment: confidentiality and security "
                                                  "of the information shared (IAF MD 4 §4.1)")
    visible_remotely: str = Field(..., description="What can be audited remotely")
    not_visible_remotely: str = Field(..., description="What cannot be seen remotely")
    feasible: bool = Field(..., description="The assessment's conclusion")


class RemoteOut(Schema):
    ict_used: str
    remote_share_percent: int
    onsite_percent: int = Field(..., description="The share counting as on site: 100 when "
                                "the CB counts remote time as on-site (REMOTE_COUNTS_AS_ONSITE)")
    connectivity: str
    confidentiality: str
    visible_remotely: str
    not_visible_remotely: str
    feasible: bool
    assessed_at: datetime.datetime | None
    client_agreed_at: datetime.datetime | None


class PlanOut(Schema):
    audit_id: int
    status: str
    version: int
    sent_at: datetime.datetime | None
    answered_at: datetime.datetime | None
    client_comment: str
    revision_reason: str = Field("", description="Why the CB last took back the plan it had "
                                 "sent; while it is being revised (`status` draft after a "
                                 "send) the client sees no sessions")
    sessions: list[SessionOut]
    remote: RemoteOut | None = Field(None, description="How the audit uses ICT (IAF MD 4); "
                                       "empty for an audit fully on site")


class CommentIn(Schema):
    comment: str = ""


class PlanRevisionIn(Schema):
    reason: str = Field(..., description="Why the plan is revised (at least 5 characters); "
                        "e-mailed to the client's owners and editors")


class CancellationIn(Schema):
    reason: str = Field(..., description="Why the audit is cancelled (at least 5 "
                        "characters); e-mailed to the client's owners and editors and the team")


# --- output ------------------------------------------------------------------------------------

def _member_out(member: TeamMember) -> dict:
    return {"id": member.pk, "auditor_id": member.auditor_id, "auditor": str(member.auditor),
            "role": member.role, "impartiality_declared_at": member.impartiality_declared_at}


def _audits_out(audits, user: User) -> list[dict]:
    """The output of each audit, read for all of them at once (a page: issue #19)."""
    audits = selectors.audits_with_details(user=user, audits=audits)
    problems = programme.start_problems_by_audit(
        [a for a in audits if a.cb_side and a.status == Audit.Status.PLANNED])
    return [_audit_out(audit, problems.get(audit.pk, {})) for audit in audits]


def _audit_out(audit: Audit, problems: dict[str, str] | None) -> dict:
    """One audit read by ``selectors.audits_with_details``; ``problems``: its start problems
    (CB side only; a planned audit's)."""
    cb_side, plan = audit.cb_side, audit.plan_or_none
    return {
        "id": audit.pk, "cycle_id": audit.cycle_id, "kind": audit.kind, "status": audit.status,
        "planned_days": audit.planned_days, "target_date": audit.target_date,
        "start_date": audit.start_date, "end_date": audit.end_date,
        "site_ids": sorted(site.pk for site in audit.site_list),
        "team": [_member_out(m) for m in audit.team_members],
        "plan_status": plan.status if plan and (cb_side or plan.sent_at) else None,
        "late_stage2_justification": audit.late_stage2_justification if cb_side else None,
        "late_entry_justification": audit.late_entry_justification if cb_side else None,
        "problems": problems if cb_side else None,
        "cancelled_at": audit.cancelled_at,
        "cancellation_reason": (audit.cancellation_reason
                                if audit.status == Audit.Status.CANCELLED else None),
    }


def _cycles_out(cycles, user: User) -> list[dict]:
    """The output of each cycle with its audits, read for all of them at once."""
    cycles = selectors.cycles_with_audits(user=user, cycles=cycles)
    audits = _audits_out([a for cycle in cycles for a in cycle.visible_audits], user)
    by_cycle: dict[int, list[dict]] = {cycle.pk: [] for cycle in cycles}
    for audit in audits:
        by_cycle[audit["cycle_id"]].append(audit)
    return [{
        "id": cycle.pk, "organization_id": cycle.organization_id,
        "application_id": cycle.application_id, "status": cycle.status,
        "standards": sorted(str(s) for s in cycle.standards.all()), "scope": cycle.scope,
        "decision_date": cycle.decision_date, "audits": by_cycle[cycle.pk],
    } for cycle in cycles]


def _cycle_out(cycle: CertificationCycle, user: User) -> dict:
    return _cycles_out([cycle], user)[0]


def _one_audit_out(audit: Audit, user: User) -> dict:
    return _audits_out([audit], user)[0]


def _plan_out(audit: Audit, user: User) -> dict:
    plan = selectors.plan_of(audit=audit)
    cb_side = selectors.is_cb_side(user, audit)
    if plan is None or not (cb_side or plan.sent_at):
        return {"audit_id": audit.pk, "status": AuditPlan.Status.DRAFT, "version": 0,
                "sent_at": None, "answered_at": None, "client_comment": "",
                "revision_reason": "", "sessions": []}
    # A plan taken back for revision is the CB's draft again: the client sees that it is
    # being revised and why, not the sessions in the making.
    revising = plan.status == AuditPlan.Status.DRAFT and not cb_side
    return {"audit_id": audit.pk, "status": plan.status, "version": plan.version,
            "sent_at": plan.sent_at, "answered_at": plan.answered_at,
            "client_comment": plan.client_comment, "revision_reason": plan.revision_reason,
            "sessions": [] if revising else list(selectors.plan_sessions(plan=plan)),
            "remote": _remote_out(audit)}


def _remote_out(audit: Audit) -> dict | None:
    remote = RemoteAudit.objects.filter(audit=audit).first()
    if remote is None:
        return None
    return {**{f: getattr(remote, f) for f in (
        "ict_used", "remote_share_percent", "connectivity", "confidentiality",
        "visible_remotely", "not_visible_remotely", "feasible", "assessed_at",
        "client_agreed_at")}, "onsite_percent": programme.onsite_percent(remote)}


def _audit(request, audit_id: int) -> Audit:
    return selectors.audit_get(user=request.auth, pk=audit_id)


def _cb_audit(request, audit_id: int) -> Audit:
    audit = _audit(request, audit_id)
    if not selectors.is_cb_side(request.auth, audit):
        raise Http404("Not on the CB side of this audit")
    return audit


# --- cycles ------------------------------------------------------------------------------------

@router.post("/applications/{app_id}/cycle", response={201: CycleOut},
             summary="Start the certification cycle of a registered application "
                     "(accepted quotation)")
def create_cycle(request, app_id: int):
    application = registration_selectors.application_get(user=request.auth, pk=app_id)
    cycle = programme.create_cycle(application=application, actor=request.auth)
    return Status(201, _cycle_out(cycle, request.auth))


@router.get("/cycles", response=list[CycleOut], summary="The cycles you may see",
            description="Oldest first. " + PAGINATED)
def list_cycles(request, limit: int | None = None, offset: int = 0):
    cycles = page_window(selectors.cycles_for_user(user=request.auth).order_by("pk"),
                         limit=limit, offset=offset)
    return _cycles_out(cycles, request.auth)


@router.get("/cycles/{cycle_id}", response=CycleOut)
def get_cycle(request, cycle_id: int):
    return _cycle_out(selectors.cycle_get(user=request.auth, pk=cycle_id), request.auth)


@router.post("/cycles/{cycle_id}/audits", response={201: AuditOut},
             summary="Add a special audit (short notice, scope extension, transfer, edition "
                     "transition)")
def add_special_audit(request, cycle_id: int, payload: SpecialAuditIn):
    cycle = selectors.cycle_get(user=request.auth, pk=cycle_id)
    audit = programme.add_special_audit(cycle=cycle, actor=request.auth, **payload.dict())
    return Status(201, _one_audit_out(audit, request.auth))


# --- audits ------------------------------------------------------------------------------------

@router.get("/audits", response=list[AuditOut], summary="The audits you may see",
            description="By cycle (oldest cycle first), each in programme order. " + PAGINATED)
def list_audits(request, limit: int | None = None, offset: int = 0):
    # cycle_id, not cycle: ordering by the relation would take the cycle's own newest-first
    # ordering.
    audits = page_window(selectors.audits_for_user(user=request.auth).order_by("cycle_id", "pk"),
                         limit=limit, offset=offset)
    return _audits_out(audits, request.auth)


@router.get("/audits/{audit_id}", response=AuditOut)
def get_audit(request, audit_id: int):
    return _one_audit_out(_audit(request, audit_id), request.auth)


@router.post("/audits/{audit_id}/schedule", response=AuditOut,
             summary="Set the audit's dates (the team must be free, surveillance on time)",
             description="Refused with 409 naming `start_date` while the client holds the "
                         "plan (sent or confirmed) made for the current dates: revise the "
                         "plan first (`POST /audits/{audit_id}/plan/revise`). Refused with "
                         "422: a past `start_date` without `late_entry_justification`; "
                         "surveillance or recertification before the certification decision, "
                         "a surveillance ending after its due date, and "
                         "`surveillance_year_missed` when the dates would leave a calendar "
                         "year of the cycle without an audit (ISO/IEC 17021-1 §9.6.2.2).")
def schedule_audit(request, audit_id: int, payload: ScheduleIn):
    audit = programme.schedule_audit(audit=_cb_audit(request, audit_id), actor=request.auth,
                                     **payload.dict())
    return _one_audit_out(audit, request.auth)


@router.post("/audits/{audit_id}/sites", response=AuditOut,
             summary="Choose sites; the rest of the IAF MD 1 sample is drawn at random")
def select_sites(request, audit_id: int, payload: SitesIn):
    audit = programme.select_audit_sites(audit=_cb_audit(request, audit_id), actor=request.auth,
                                         chosen_site_ids=payload.chosen_site_ids)
    return _one_audit_out(audit, request.auth)


@router.post("/audits/{audit_id}/late-stage2-justification", response=AuditOut)
def justify_late_stage2(request, audit_id: int, payload: JustificationIn):
    audit = programme.record_late_stage2_justification(
        audit=_cb_audit(request, audit_id), actor=request.auth,
        justification=payload.justification)
    return _one_audit_out(audit, request.auth)


@router.post("/audits/{audit_id}/cancel", response=AuditOut,
             summary="Cancel a planned special audit (CB reviewers, administrators)",
             description="Planned → cancelled, with the `reason` (at least 5 characters). "
                         "Only special audits — short notice, scope extension, transfer, "
                         "edition transition — "
                         "can be cancelled: a regular audit (stage 1 or 2, surveillance, "
                         "recertification) answers 409 `audit_required`, since the "
                         "certification programme requires it; reschedule it instead (a "
                         "client refusing surveillance is handled by suspending the "
                         "certificate). An audit already started answers 409 "
                         "`invalid_transition`. The team is released (the audit no longer "
                         "blocks their calendar); the client's owners and editors and the "
                         "team are e-mailed the reason. Audit event "
                         "`audits.audit.cancelled`.")
def cancel_audit(request, audit_id: int, payload: CancellationIn):
    audit = programme.cancel_audit(audit=_cb_audit(request, audit_id), actor=request.auth,
                                   reason=payload.reason)
    return _one_audit_out(audit, request.auth)


@router.post("/audits/{audit_id}/start", response=AuditOut,
             summary="Planned → in progress (valid team, declarations, confirmed plan)",
             description="Refused with 409 `audit_not_ready`, `fields` naming each problem — "
                         "also before the audit's first day (`start_date`): to hold it "
                         "earlier, revise the plan, move the dates and have the client "
                         "confirm the new plan.")
def start_audit(request, audit_id: int):
    audit = programme.start_audit(audit=_cb_audit(request, audit_id), actor=request.auth)
    return _one_audit_out(audit, request.auth)


# --- team --------------------------------------------------------------------------------------

@router.post("/audits/{audit_id}/team", response={201: TeamMemberOut})
def assign_team_member(request, audit_id: int, payload: AssignIn):
    audit = _cb_audit(request, audit_id)
    auditor = User.objects.filter(pk=payload.auditor_id).first()
    if auditor is None:
        raise InvalidInput("No such auditor.", fields={"auditor_id": "Unknown."})
    member = programme.assign_team_member(audit=audit, actor=request.auth, auditor=auditor,
                                          role=payload.role)
    return Status(201, _member_out(member))


@router.get("/audits/{audit_id}/auditor-suggestions", response=list[SuggestionOut],
            summary="The finder: qualified, impartial, free auditors")
def auditor_suggestions(request, audit_id: int):
    audit = _cb_audit(request, audit_id)
    return [{"auditor_id": s["auditor"].pk, "auditor": str(s["auditor"]),
             "is_lead_auditor": s["profile"].is_lead_auditor,
             "standards": [str(x) for x in s["standards"]],
             "sectors": [x.code for x in s["sectors"]], "languages": s["profile"].languages}
            for s in selectors.auditor_suggestions(user=request.auth, audit=audit)]


@router.delete("/team-members/{team_member_id}", response={204: None})
def remove_team_member(request, team_member_id: int):
    member = selectors.team_member_get(user=request.auth, pk=team_member_id)
    _cb_audit(request, member.audit_id)
    programme.remove_team_member(member=member, actor=request.auth)
    return Status(204, None)


@router.post("/team-members/{team_member_id}/declare-impartiality", response=TeamMemberOut)
def declare_impartiality(request, team_member_id: int, payload: DeclarationIn | None = None):
    member = selectors.team_member_get(user=request.auth, pk=team_member_id)
    _cb_audit(request, member.audit_id)
    member = programme.declare_impartiality(member=member, actor=request.auth,
                                            **(payload.dict() if payload else {}))
    return _member_out(member)


# --- plan --------------------------------------------------------------------------------------

@router.get("/audits/{audit_id}/plan", response=PlanOut)
def get_plan(request, audit_id: int):
    return _plan_out(_audit(request, audit_id), request.auth)


@router.post("/audits/{audit_id}/plan/sessions", response={201: SessionOut})
def add_session(request, audit_id: int, payload: SessionIn):
    session = programme.add_plan_session(audit=_cb_audit(request, audit_id), actor=request.auth,
                                         **payload.dict())
    return Status(201, session)


def _session(request, plan_session_id: int) -> PlanSession:
    session = selectors.plan_session_get(user=request.auth, pk=plan_session_id)
    _cb_audit(request, session.plan.audit_id)
    return session


@router.put("/plan-sessions/{plan_session_id}", response=SessionOut)
def update_session(request, plan_session_id: int, payload: SessionIn):
    return programme.update_plan_session(session=_session(request, plan_session_id),
                                         actor=request.auth, **payload.dict())


@router.delete("/plan-sessions/{plan_session_id}", response={204: None})
def delete_session(request, plan_session_id: int):
    programme.delete_plan_session(session=_session(request, plan_session_id), actor=request.auth)
    return Status(204, None)


@router.post("/audits/{audit_id}/plan/send", response=PlanOut)
def send_plan(request, audit_id: int):
    audit = _cb_audit(request, audit_id)
    programme.send_plan(audit=audit, actor=request.auth)
    return _plan_out(audit, request.auth)


@router.post("/audits/{audit_id}/plan/revise", response=PlanOut,
             summary="Take back a plan the client was sent or confirmed, to change it",
             description="Sent or confirmed → draft, with the `reason` (at least 5 "
                         "characters); by a CB reviewer, administrator or the audit's lead "
                         "auditor, while the audit is planned. The sessions (and, by "
                         "`POST /audits/{audit_id}/schedule`, the dates — refused while the "
                         "client holds the plan) can be changed again; "
                         "`POST /audits/{audit_id}/plan/send` then sends the next version, "
                         "which the client must confirm before the audit can start. The "
                         "client's owners and editors are e-mailed the reason. A draft or a "
                         "plan the client sent back answers 409 `invalid_transition`. "
                         "Audit event `audits.plan.revised`.")
def revise_plan(request, audit_id: int, payload: PlanRevisionIn):
    audit = _cb_audit(request, audit_id)
    programme.revise_plan(audit=audit, actor=request.auth, reason=payload.reason)
    return _plan_out(audit, request.auth)


@router.post("/audits/{audit_id}/plan/confirm", response=PlanOut,
             summary="The client's owner or editor confirms the plan")
def confirm_plan(request, audit_id: int, payload: CommentIn | None = None):
    audit = _audit(request, audit_id)
    programme.confirm_plan(audit=audit, actor=request.auth,
                           comment=payload.comment if payload else "")
    return _plan_out(audit, request.auth)


@router.post("/audits/{audit_id}/plan/request-changes", response=PlanOut,
             summary="The client asks for changes; the plan goes back to the CB")
def request_plan_changes(request, audit_id: int, payload: CommentIn):
    audit = _audit(request, audit_id)
    programme.request_plan_changes(audit=audit, actor=request.auth, comment=payload.comment)
    return _plan_out(audit, request.auth)


@router.get("/audits/{audit_id}/remote", response=RemoteOut, tags=["remote audits"],
            summary="How the audit uses ICT (IAF MD 4); 404 for an audit fully on site")
def get_remote(request, audit_id: int):
    remote = _remote_out(_audit(request, audit_id))
    if remote is None:
        raise Http404("No remote arrangement")
    return remote


@router.put("/audits/{audit_id}/remote", response=RemoteOut, tags=["remote audits"],
            summary="Record the ICT used and the feasibility assessment (before the plan is "
                    "sent)",
            description="IAF MD 4 §4.1, §4.2. By a CB reviewer, administrator or the lead "
                        "auditor while the audit is planned and the client holds no plan "
                        "(409 otherwise: revise the plan). Clears the client's earlier "
                        "agreement. A plan with remote sessions or a remote share is sent "
                        "only with a feasible assessment the client agreed to, and — unless "
                        "REMOTE_COUNTS_AS_ONSITE — with at least the minimum on-site share "
                        "(IAF MD 5: 80 %).")
def put_remote(request, audit_id: int, payload: RemoteIn):
    audit = _cb_audit(request, audit_id)
    programme.record_remote_assessment(audit=audit, actor=request.auth, **payload.dict())
    return _remote_out(audit)


@router.post("/audits/{audit_id}/remote/agree", response=RemoteOut, tags=["remote audits"],
             summary="The client's owner or editor agrees to the use of ICT")
def agree_remote(request, audit_id: int):
    audit = _audit(request, audit_id)
    programme.agree_remote_audit(audit=audit, actor=request.auth)
    return _remote_out(audit)
