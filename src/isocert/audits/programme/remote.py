"""Remote and hybrid audits (IAF MD 4:2022, use of information and communication technology
for auditing).

Any audit, or some of its plan sessions, may be held remotely. Before the plan is sent
the CB records, per audit, the ICT used, the feasibility and risk assessment —
connectivity, confidentiality and security of the information shared, what can and cannot
be seen remotely (MD 4 §4.1, §4.2) — and the share of the audit time held remotely; the
client agrees to it (MD 4 §4.1). ``send_plan`` refuses a plan using ICT without them
(``remote_plan_problems``). The audit time stays what the audit-time determination fixed
(MD 4 §4.2: ICT changes how, not how long); the remote part counts towards the minimum
on-site time (IAF MD 5: at least 80 % on site) only when the CB's setting
``REMOTE_COUNTS_AS_ONSITE`` allows it.
"""

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import User
from isocert.accounts.permissions import member_emails
from isocert.catalog.audittime.tables import load_tables
from isocert.core.errors import Conflict, InvalidInput
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
from .models import Audit, AuditPlan, PlanSession, RemoteAudit
from .rules import PLAN_WITH_CLIENT

TEXTS = {
    "ict_used": "Name the ICT used (e.g. video conference, screen sharing).",
    "connectivity": "Assess the connectivity (bandwidth, stability, fallback).",
    "confidentiality": "Assess the confidentiality and security of the information shared.",
    "visible_remotely": "Say what can be audited remotely.",
    "not_visible_remotely": "Say what cannot be seen remotely.",
}


def uses_ict(audit: Audit) -> bool:
    """The audit, or a session of its plan, is held remotely."""
    remote = RemoteAudit.objects.filter(audit=audit).first()
    if remote is not None and remote.remote_share_percent > 0:
        return True
    return PlanSession.objects.filter(plan__audit=audit, is_remote=True).exists()


def min_onsite_percent() -> int:
    """IAF MD 5's minimum on-site share of the audit time, from the catalog's rules."""
    return int(load_tables()["min_onsite_share"] * 100)


def onsite_percent(remote: RemoteAudit | None) -> int:
    """The share of the audit time that counts as on site: all of it when remote time
    counts as on-site (``REMOTE_COUNTS_AS_ONSITE``), else what is not remote."""
    if remote is None or settings.REMOTE_COUNTS_AS_ONSITE:
        return 100
    return 100 - remote.remote_share_percent


def remote_plan_problems(audit: Audit) -> dict[str, str]:
    """What keeps a plan using ICT from being sent: no assessment, an assessment that found
    remote auditing not feasible, no client agreement, or too little time on site."""
    if not uses_ict(audit):
        return {}
    remote = RemoteAudit.objects.filter(audit=audit).first()
    if remote is None or remote.assessed_at is None:
        return {"remote": "The plan uses ICT: record the remote-audit assessment (ICT used, "
                          "connectivity, confidentiality, what can and cannot be seen "
                          "remotely) before sending it (IAF MD 4)."}
    problems = {}
    if not remote.feasible:
        problems["remote"] = ("The remote-audit assessment found remote auditing not "
                              "feasible: plan the sessions on site.")
    elif not remote.agreed:
        problems["remote"] = ("The client has not agreed to the use of ICT for this audit "
                              "yet (IAF MD 4).")
    minimum = min_onsite_percent()
    if onsite_percent(remote) < minimum:
        problems["remote_share_percent"] = (
            f"{remote.remote_share_percent} % remote leaves {onsite_percent(remote)} % on site: "
            f"at least {minimum} % of the audit time is on site (IAF MD 5) while remote time "
            "does not count as on-site (REMOTE_COUNTS_AS_ONSITE).")
    return problems


def _ensure_plan_not_with_client(audit: Audit) -> None:
    plan = AuditPlan.objects.filter(audit=audit).first()
    if plan is not None and plan.status in PLAN_WITH_CLIENT:
        raise Conflict("The client holds the plan: revise it before changing how ICT is used.",
                       fields={"remote": "Revise the plan first."})


@transaction.atomic
def record_remote_assessment(*, audit: Audit, ict_used: str, remote_share_percent: int,
                             connectivity: str, confidentiality: str, visible_remotely: str,
                             not_visible_remotely: str, feasible: bool,
                             actor: User) -> RemoteAudit:
    """Record (or replace) the audit's use of ICT and its feasibility and risk assessment
    (IAF MD 4 §4.1, §4.2), before the plan is sent.

    By whoever edits the plan (CB reviewer, administrator, the lead auditor), while the
    audit is planned and the plan is not with the client. Every text is required; the
    remote share is a whole percentage from 1 to 100. A new assessment clears the client's
    earlier agreement: the client agrees to the arrangement as it now stands. The audit's
    planned days do not change.

    An assessment finding remote auditing feasible is e-mailed, once committed, to the
    client's members who hear about its audits (as the plan is): the share remote, the ICT
    used, what cannot be seen remotely and the page where they agree (MD 4 §4.1).
    """
    ensure_plan_editor(actor, audit)
    errors: dict[str, str] = {}
    texts = {}
    values = {"ict_used": ict_used, "connectivity": connectivity,
              "confidentiality": confidentiality, "visible_remotely": visible_remotely,
              "not_visible_remotely": not_visible_remotely}
    for field, message in TEXTS.items():
        text = (values[field] or "").strip()
        if not text:
            errors[field] = message
        texts[field] = text[:4000]
    try:
        share = int(remote_share_percent)
        if not 1 <= share <= 100 or str(remote_share_percent).strip() not in (str(share),):
            raise ValueError
    except (TypeError, ValueError):
        errors["remote_share_percent"] = "A whole percentage from 1 to 100."
        share = 0
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", fields=errors)
    audit = locked_audit(audit)
    ensure_planned(audit)
    _ensure_plan_not_with_client(audit)
    remote, _ = RemoteAudit.objects.update_or_create(audit=audit, defaults={
        **texts, "remote_share_percent": share, "feasible": bool(feasible),
        "assessed_by": actor, "assessed_at": timezone.now(),
        "client_agreed_by": None, "client_agreed_at": None})
    audit_event(actor, "audits.remote.assessed", audit,
                {"ict_used": texts["ict_used"], "remote_share_percent": share,
                 "feasible": bool(feasible)})
    if remote.feasible:
        notify(template="remote_audit_proposed",
               to=member_emails(audit.cycle.organization_id),
               context=audit_mail_context(
                   audit, remote_share_percent=share, ict_used=texts["ict_used"],
                   not_visible_remotely=texts["not_visible_remotely"]))
    return remote


@transaction.atomic
def agree_remote_audit(*, audit: Audit, actor: User) -> RemoteAudit:
    """The client's agreement to the use of ICT as assessed (IAF MD 4 §4.1): by an owner or
    editor of the organization, once the CB assessed remote auditing feasible. The audit's
    team and the reviewer managing the cycle are e-mailed once it is committed (as for the
    client's answer to the plan), since the plan can now be sent."""
    ensure_client_editor(actor, audit)
    audit = locked_audit(audit)
    ensure_planned(audit)
    remote = RemoteAudit.objects.select_for_update().filter(audit=audit).first()
    if remote is None or remote.assessed_at is None:
        raise Conflict("The CB has not assessed the use of ICT for this audit yet.",
                       fields={"remote": "No assessment to agree to."})
    if not remote.feasible:
        raise Conflict("The CB found remote auditing not feasible for this audit.",
                       fields={"remote": "Not feasible."})
    remote.client_agreed_by, remote.client_agreed_at = actor, timezone.now()
    remote.save(update_fields=["client_agreed_by", "client_agreed_at"])
    audit_event(actor, "audits.remote.agreed", audit,
                {"remote_share_percent": remote.remote_share_percent})
    notify(template="remote_audit_agreed", to=cb_recipients(audit),
           context=audit_mail_context(
               audit, remote_share_percent=remote.remote_share_percent,
               ict_used=remote.ict_used, agreed_by=str(actor),
               path=reverse("audit_planning", args=[audit.pk])))
    return remote
