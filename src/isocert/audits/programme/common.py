"""Guards, audit events and e-mail helpers the programme's services share."""


from django.urls import reverse

from isocert.accounts.models import User
from isocert.accounts.permissions import can, can_in, staff_emails
from isocert.core.audit import record_event
from isocert.core.errors import Conflict, NotPermitted

from .models import (
    Audit,
)
from .selectors import can_edit_plan, team_emails


def ensure_manager(actor: User) -> None:
    if not can(actor, "manage_programme"):
        raise NotPermitted("Only a CB reviewer or administrator can manage the audit programme.")


def ensure_plan_editor(actor: User, audit: Audit) -> None:
    if not can_edit_plan(actor, audit):
        raise NotPermitted("Only a CB reviewer, administrator or the audit's lead auditor can "
                           "edit its plan.")


def ensure_client_editor(actor: User, audit: Audit) -> None:
    if not can_in(actor, "edit", audit.cycle.organization_id):
        raise NotPermitted("Only an owner or editor of the organization can answer the plan.")


def locked_audit(audit: Audit) -> Audit:
    return Audit.objects.select_for_update().select_related("cycle", "cycle__organization").get(
        pk=audit.pk)


def ensure_planned(audit: Audit) -> None:
    if audit.status != Audit.Status.PLANNED:
        raise Conflict(f"This audit is {audit.get_status_display().lower()}; its programme can "
                       "only change while it is planned.")


def audit_event(actor, action: str, audit: Audit, payload: dict | None = None) -> None:
    record_event(actor=actor, action=action, obj=audit,
                 organization_id=audit.cycle.organization_id,
                 payload={"cycle": audit.cycle_id, "kind": audit.kind, **(payload or {})})


def cb_recipients(audit: Audit) -> list[str]:
    """Who hears the client's answer to the plan: the audit's team, and the reviewer who
    manages the cycle (every staff member holding ``receive_plan_answers`` when the cycle
    has no creator on record)."""
    creator = [audit.cycle.created_by.email] if audit.cycle.created_by_id else []
    return team_emails(audit=audit) + (creator or staff_emails("receive_plan_answers"))


def audit_mail_context(audit: Audit, **extra) -> dict:
    return {"organization": str(audit.cycle.organization), "audit": audit.get_kind_display(),
            "start_date": audit.start_date.isoformat() if audit.start_date else "",
            "end_date": audit.end_date.isoformat() if audit.end_date else "",
            "path": reverse("audit_plan_client", args=[audit.pk]), **extra}
