"""Who was involved in what a complaint or an appeal is about (ISO/IEC 17021-1 §9.7.4,
§9.8.5, §5.2): such a person may not investigate it, decide it or sit on its panel.

Read from the records themselves: the team members of the audits concerned, the people
who took the certification decisions on those cycles, the reviewer of the application,
and (for an appeal) whoever made the status change appealed.
"""

from isocert.accounts.models import User
from isocert.audits.models import Audit, CertificationCycle, TeamMember
from isocert.certification.models import CertificationDecision
from isocert.core.errors import NotPermitted


class NotIndependent(NotPermitted):
    """The person chosen took part in the activity complained about or appealed."""

    code = "impartiality_threat"


def involvement(*, audits: list[Audit], cycles: list[CertificationCycle],
                extra: dict[int, str] | None = None) -> dict[int, str]:
    """``{user id: why they were involved}`` for the given audits and cycles."""
    reasons: dict[int, str] = {}
    audit_ids = {audit.pk for audit in audits}
    for member in (TeamMember.objects.filter(audit_id__in=audit_ids)
                   .select_related("audit")):
        reasons.setdefault(member.auditor_id,
                           f"was on the audit team ({member.audit.get_kind_display()})")
    cycle_ids = {cycle.pk for cycle in cycles}
    for decided_by_id in (CertificationDecision.objects.filter(cycle_id__in=cycle_ids)
                          .values_list("decided_by_id", flat=True)):
        reasons.setdefault(decided_by_id, "took the certification decision")
    for cycle in CertificationCycle.objects.filter(pk__in=cycle_ids).select_related(
            "application"):
        if cycle.application.reviewer_id:
            reasons.setdefault(cycle.application.reviewer_id, "reviewed the application")
    for user_id, why in (extra or {}).items():
        if user_id:
            reasons.setdefault(user_id, why)
    return reasons


def ensure_not_involved(person: User, reasons: dict[int, str], *, field: str,
                        role: str) -> None:
    """Refuse ``person`` as ``role`` when ``reasons`` names them."""
    why = reasons.get(person.pk)
    if why:
        raise NotIndependent(
            f"{person} {why}: the {role} must be someone not involved in what is "
            "complained about or appealed (ISO/IEC 17021-1 §9.7, §9.8).",
            fields={field: f"{person} {why}."})
