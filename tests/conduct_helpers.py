"""Helpers for the audit-conduct tests: an audit in progress with Adam as lead auditor.

Built from model rows (the programme's services need a contract, a team with declarations
and a confirmed plan — covered by the programme's own tests); the conduct's state is then
built through ``isocert.audits.conduct``.
"""

import datetime
from decimal import Decimal

from isocert.audits.conduct.services import prepare_checklist
from isocert.audits.models import Audit, CertificationCycle, TeamMember
from isocert.core.models import AuditEvent

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
LAST_DAY = datetime.date(2026, 3, 13)


def make_audit(application, lead, *, kind="stage2", status="in_progress", members=()):
    cycle = CertificationCycle.objects.create(
        organization=application.organization, application=application,
        scope="Die casting of aluminium parts.")
    cycle.standards.set([line.standard_id for line in application.standard_lines.all()])
    audit = Audit.objects.create(
        cycle=cycle, kind=kind, status=status, planned_days=Decimal("3.0"),
        start_date=LAST_DAY - datetime.timedelta(days=2), end_date=LAST_DAY)
    audit.sites.set(application.organization.sites.all())
    TeamMember.objects.create(audit=audit, auditor=lead, role=TeamMember.Role.LEAD)
    for member in members:
        TeamMember.objects.create(audit=audit, auditor=member, role=TeamMember.Role.MEMBER)
    prepare_checklist(audit)
    return audit


def clause(audit, number="6.3"):
    return audit.coverage.get(clause__number=number).clause


def finding_data(audit, grade="minor", number="6.3", **extra) -> dict:
    return {"grade": grade, "clause_id": clause(audit, number).pk,
            "statement": "Compressor 3 is not listed as a significant energy use.",
            "objective_evidence": "SEU register rev. 4 of 2026-01-10 lists compressors 1–2.",
            **extra}


ANSWER = {"correction": "Compressor 3 added to the SEU register.",
          "root_cause": "The register is not updated when equipment is installed.",
          "corrective_action": "Commissioning checklist now includes the SEU register."}


def events() -> int:
    return AuditEvent.objects.count()
