"""Certification audits: cycles, qualified and impartial teams, plans, findings,
corrective actions and reports (ISO/IEC 17021-1 §9.2–9.4).

The models live with their package (``programme/models.py``, ``conduct/models.py``);
this module makes Django see all of them under the ``audits`` app label."""

from .conduct.models import (
    AuditRecord,
    AuditReport,
    ClauseCoverage,
    CorrectiveActionResponse,
    Finding,
)
from .programme.models import (
    Audit,
    AuditorProfile,
    AuditPlan,
    CertificationCycle,
    PlanSession,
    RemoteAudit,
    TeamMember,
)

__all__ = [
    "Audit", "AuditPlan", "AuditRecord", "AuditReport", "AuditorProfile", "CertificationCycle",
    "ClauseCoverage", "CorrectiveActionResponse", "Finding", "PlanSession", "RemoteAudit", "TeamMember",
]
