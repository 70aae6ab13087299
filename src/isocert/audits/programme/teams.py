"""The audit team: assigning qualified, impartial and free auditors, and each auditor's
signed impartiality declaration (ISO/IEC 17021-1 §5.2, §7.2.8, §9.2.2)."""


from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import User
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.notifications.services import notify

from .common import (
    audit_event,
    audit_mail_context,
    ensure_manager,
    ensure_planned,
    locked_audit,
)
from .errors import (
    ImpartialityThreat,
    TeamRuleViolation,
)
from .models import (
    Audit,
    PlanSession,
    TeamMember,
)
from .rules import (
    impartiality_threats,
    member_problems,
)


@transaction.atomic
def assign_team_member(*, audit: Audit, actor: User, auditor: User, role: str) -> TeamMember:
    """Put a qualified, impartial and free auditor on the audit's team."""
    ensure_manager(actor)
    if role not in TeamMember.Role.values:
        raise InvalidInput("Choose lead auditor or auditor.", fields={"role": "Unknown role."})
    audit = locked_audit(audit)
    ensure_planned(audit)
    if audit.team.filter(auditor=auditor).exists():
        raise Conflict(f"{auditor} is already on this team.",
                       fields={"auditor_id": "Already on the team."})
    if role == TeamMember.Role.LEAD and audit.team.filter(role=TeamMember.Role.LEAD).exists():
        raise TeamRuleViolation("The team has a lead auditor already.",
                                fields={"role": "One lead auditor per audit."})
    problems = member_problems(auditor, audit, role)
    if problems:
        error = ImpartialityThreat if "impartiality" in problems else TeamRuleViolation
        raise error(" ".join(problems.values()), fields=problems)
    member = TeamMember.objects.create(audit=audit, auditor=auditor, role=role)
    audit_event(actor, "audits.team.assigned", audit, {"auditor": auditor.pk, "role": role})
    notify(template="audit_team_assigned", to=[auditor.email],
           context={**audit_mail_context(audit), "role": member.get_role_display(),
                    "path": reverse("audit_planning", args=[audit.pk])})
    return member


@transaction.atomic
def remove_team_member(*, member: TeamMember, actor: User) -> None:
    ensure_manager(actor)
    audit = locked_audit(member.audit)
    ensure_planned(audit)
    audit_event(actor, "audits.team.removed", audit,
           {"auditor": member.auditor_id, "role": member.role})
    PlanSession.objects.filter(plan__audit=audit, auditor_id=member.auditor_id).update(
        auditor=None)
    member.delete()


def clean_declaration(*, statement, no_threat, threat, safeguard) -> dict[str, str | bool]:
    """The declaration's parts, or ``InvalidInput`` naming each missing one: a statement,
    and either the tick that no threat exists or the threat with its safeguard
    (ISO/IEC 17021-1 §5.2.3: threats are identified and eliminated or minimized)."""
    statement = (statement or "").strip()[:2000]
    threat, safeguard = (threat or "").strip()[:2000], (safeguard or "").strip()[:2000]
    no_threat = bool(no_threat)
    problems = {}
    if not statement:
        problems["statement"] = "Write your declaration (the standard text is offered)."
    if no_threat and (threat or safeguard):
        problems["threat"] = ("You ticked that no threat exists: untick it to describe a "
                              "threat and its safeguard.")
    elif not no_threat and not threat:
        problems["no_threat"] = ("Tick that you know of no threat to your impartiality, or "
                                 "describe the threat and its safeguard.")
    elif not no_threat and not safeguard:
        problems["safeguard"] = "Say how the threat is safeguarded."
    if problems:
        raise InvalidInput("The impartiality declaration is incomplete: "
                           + " ".join(problems.values()), fields=problems)
    return {"declaration": statement, "no_threat": no_threat, "threat": threat,
            "safeguard": safeguard}


@transaction.atomic
def declare_impartiality(*, member: TeamMember, actor: User, statement: str = "",
                         no_threat: bool = False, threat: str = "",
                         safeguard: str = "") -> TeamMember:
    """The auditor signs, for this assignment, their impartiality declaration: a statement
    and either that no threat exists or the threat and its safeguard (``clean_declaration``).
    Refused for anyone else's assignment, once signed, and while the auditor has a
    declared relationship with the client within the cooling-off period — no safeguard
    makes that acceptable (§5.2; IAF MD/ISO 17021-1 §7.2)."""
    if member.auditor_id != actor.pk:
        raise NotPermitted("Only the auditor can sign their own impartiality declaration.")
    audit = locked_audit(member.audit)
    ensure_planned(audit)
    threats = impartiality_threats(actor, audit)
    if threats:
        raise ImpartialityThreat("You declared a relationship with this client within the "
                                 "cooling-off period; you cannot sign the declaration.",
                                 fields={"impartiality": "Relationship within "
                                         f"{settings.IMPARTIALITY_COOLING_OFF_YEARS} years."})
    member = TeamMember.objects.select_for_update().get(pk=member.pk)
    if member.impartiality_declared_at:
        raise Conflict("You already signed the declaration for this audit.")
    parts = clean_declaration(statement=statement, no_threat=no_threat, threat=threat,
                              safeguard=safeguard)
    for field, value in parts.items():
        setattr(member, field, value)
    member.impartiality_declared_at = timezone.now()
    member.save(update_fields=[*parts, "impartiality_declared_at"])
    audit_event(actor, "audits.team.impartiality_declared", audit,
           {"auditor": actor.pk, "no_threat": parts["no_threat"],
            "threat": parts["threat"], "safeguard": parts["safeguard"]})
    return member


DECLARATION_TEXT = ("I have not provided management-system consultancy to, nor been employed "
                    "by, this client within the last two years, and I know of no other threat "
                    "to my impartiality for this audit.")
