"""The audit plan: its sessions, sending it to the client, revising it and the client's
answer (ISO/IEC 17021-1 §9.2.3)."""

import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from isocert.accounts.models import Site, User
from isocert.accounts.permissions import member_emails
from isocert.catalog.models import Clause
from isocert.core.dates import display_date, display_datetime
from isocert.core.errors import Conflict, InvalidInput
from isocert.core.validation import clean_reason
from isocert.notifications.services import notify

from .common import (
    audit_event,
    audit_mail_context,
    cb_recipients,
    ensure_client_editor,
    ensure_plan_editor,
    ensure_planned,
    locked_audit,
)
from .errors import (
    AuditNotReady,
)
from .models import (
    PLAN_LIFECYCLE,
    Audit,
    AuditPlan,
    PlanSession,
    RemoteAudit,
)
from .remote import remote_plan_problems
from .rules import (
    PLAN_EDITABLE,
    team_problems,
)


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
                errors["starts_at"] = (f"Within the audit's dates "
                                       f"({display_date(audit.start_date)} to "
                                       f"{display_date(audit.end_date)}).")
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
    values["is_remote"] = bool(data.get("is_remote"))
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", fields=errors)
    return values


def _session_payload(session: PlanSession) -> dict:
    return {"session": session.pk, "starts_at": session.starts_at.isoformat(),
            "ends_at": session.ends_at.isoformat(), "topic": session.topic,
            "is_remote": session.is_remote}


@transaction.atomic
def add_plan_session(*, audit: Audit, actor: User,
                     starts_at: datetime.datetime | str | None = None,
                     ends_at: datetime.datetime | str | None = None, topic: str = "",
                     clause_id: int | None = None, site_id: int | None = None,
                     auditee: str = "", auditor_id: int | None = None,
                     is_remote: bool = False) -> PlanSession:
    """A session of the plan within the audit's dates (clause of its standards, site of the
    organization, auditor of its team), while the plan is a draft or changes were asked;
    ``is_remote``: held with ICT (IAF MD 4, see ``remote``)."""
    data = {"starts_at": starts_at, "ends_at": ends_at, "topic": topic,
            "clause_id": clause_id, "site_id": site_id, "auditee": auditee,
            "auditor_id": auditor_id, "is_remote": is_remote}
    ensure_plan_editor(actor, audit)
    audit = locked_audit(audit)
    ensure_planned(audit)
    plan = _editable_plan(audit)
    session = PlanSession.objects.create(plan=plan, **_clean_session(audit, data))
    audit_event(actor, "audits.plan.session_added", audit, _session_payload(session))
    return session


@transaction.atomic
def update_plan_session(*, session: PlanSession, actor: User,
                        starts_at: datetime.datetime | str | None = None,
                        ends_at: datetime.datetime | str | None = None, topic: str = "",
                        clause_id: int | None = None, site_id: int | None = None,
                        auditee: str = "", auditor_id: int | None = None,
                        is_remote: bool = False) -> PlanSession:
    """Replace a session's values, under the rules of ``add_plan_session``."""
    data = {"starts_at": starts_at, "ends_at": ends_at, "topic": topic,
            "clause_id": clause_id, "site_id": site_id, "auditee": auditee,
            "auditor_id": auditor_id, "is_remote": is_remote}
    audit = session.plan.audit
    ensure_plan_editor(actor, audit)
    audit = locked_audit(audit)
    ensure_planned(audit)
    _editable_plan(audit)
    values = _clean_session(audit, data)
    for key, value in values.items():
        setattr(session, key, value)
    session.save()
    audit_event(actor, "audits.plan.session_changed", audit, _session_payload(session))
    return session


@transaction.atomic
def delete_plan_session(*, session: PlanSession, actor: User) -> None:
    audit = session.plan.audit
    ensure_plan_editor(actor, audit)
    audit = locked_audit(audit)
    ensure_planned(audit)
    _editable_plan(audit)
    audit_event(actor, "audits.plan.session_removed", audit, _session_payload(session))
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
                           f"({display_datetime(session.starts_at)})")
    return outside


@transaction.atomic
def send_plan(*, audit: Audit, actor: User) -> AuditPlan:
    """Send the plan to the client for confirmation (again after a change request)."""
    ensure_plan_editor(actor, audit)
    audit = locked_audit(audit)
    ensure_planned(audit)
    plan, _ = AuditPlan.objects.get_or_create(audit=audit)
    plan = AuditPlan.objects.select_for_update().get(pk=plan.pk)
    PLAN_LIFECYCLE.target("send", plan.status)  # a state refusal comes first
    problems = {}
    if not audit.start_date or not audit.end_date:
        problems["start_date"] = "Schedule the audit's dates first."
    if not plan.sessions.exists():
        problems["sessions"] = "Add the plan's sessions first."
    elif outside := _sessions_outside_dates(audit, plan):
        problems["sessions"] = (f"Move these sessions within the audit's dates "
                                f"({display_date(audit.start_date)} to "
                                f"{display_date(audit.end_date)}): "
                                f"{', '.join(outside)}.")
    problems.update(team_problems(audit))
    problems.update(remote_plan_problems(audit))
    if problems:
        raise AuditNotReady("The plan cannot be sent yet: " + " ".join(problems.values()),
                            fields=problems)
    if plan.sent_at:
        plan.version += 1
    PLAN_LIFECYCLE.apply(plan, "send")
    plan.sent_at = timezone.now()
    plan.save(update_fields=["status", "sent_at", "version"])
    remote = RemoteAudit.objects.filter(audit=audit).first()
    audit_event(actor, "audits.plan.sent", audit,
           {"version": plan.version, "sessions": plan.sessions.count(),
            "remote_share_percent": remote.remote_share_percent if remote else 0})
    notify(template="audit_plan_sent", to=member_emails(audit.cycle.organization_id),
           context=audit_mail_context(audit, version=plan.version))
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
    ensure_plan_editor(actor, audit)
    reason = clean_reason(reason, limit=4000, message="Say why the plan is revised.")
    audit = locked_audit(audit)
    ensure_planned(audit)
    plan = AuditPlan.objects.select_for_update().filter(audit=audit).first()
    previous = plan.status if plan else AuditPlan.Status.DRAFT
    PLAN_LIFECYCLE.target("revise", previous)  # also refuses when there is no plan
    PLAN_LIFECYCLE.apply(plan, "revise")
    plan.revision_reason = reason
    plan.client_comment, plan.answered_at = "", None
    plan.save(update_fields=["status", "revision_reason", "client_comment", "answered_at"])
    audit_event(actor, "audits.plan.revised", audit,
           {"version": plan.version, "previous_status": previous, "reason": reason})
    notify(template="audit_plan_revised", to=member_emails(audit.cycle.organization_id),
           context=audit_mail_context(audit, version=plan.version, reason=reason,
                                       confirmed=previous == AuditPlan.Status.CONFIRMED))
    return plan


def _answer(audit: Audit, actor: User, action: str, comment: str) -> AuditPlan:
    ensure_client_editor(actor, audit)
    audit = locked_audit(audit)
    ensure_planned(audit)
    plan = AuditPlan.objects.select_for_update().filter(audit=audit).first()
    if plan is None:
        raise Conflict("There is no plan to answer yet.", fields={"plan": "No plan sent."})
    PLAN_LIFECYCLE.apply(plan, action)
    plan.client_comment = comment[:4000]
    plan.answered_at = timezone.now()
    plan.save(update_fields=["status", "client_comment", "answered_at"])
    audit_event(actor, f"audits.plan.{'confirmed' if action == 'confirm' else 'changes_requested'}",
           audit, {"version": plan.version, "comment": comment[:4000]})
    notify(template=f"audit_plan_{'confirmed' if action == 'confirm' else 'changes_requested'}",
           to=cb_recipients(audit),
           context=audit_mail_context(audit, version=plan.version, comment=comment[:4000],
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
