"""Helpers for the certification tests: a cycle whose stage 2 is closed with an issued
report, ready for Dora's decision.

The cycle and its contract come from the programme's services; the stage-2 audit is put
in progress with model rows (starting it needs a confirmed plan and declarations —
covered by the programme's own tests); findings, answers, the report and the closing go
through ``isocert.audits.conduct``.
"""

import datetime
from decimal import Decimal

from conduct_helpers import ANSWER, finding_data
from factories import ENERGY_LINE
from programme_helpers import cycle_for

from isocert.audits.conduct import services as conduct
from isocert.audits.models import Audit, TeamMember
from isocert.catalog.models import EnmsDayTableRow

STAGE2_END = datetime.date(2026, 3, 13)
DECIDED = datetime.date(2026, 4, 1)
QUALITY_LINE = {"standard": "ISO 9001", "effective_personnel": "30"}


def enms_days_table() -> None:
    """The CB's ISO 50003 day table, so an ISO 50001 application gets audit days."""
    EnmsDayTableRow.objects.get_or_create(personnel_min=1, personnel_max=None, defaults={
        "high": Decimal("7"), "medium": Decimal("6"), "low": Decimal("5")})


def closed_audit(audit: Audit, *, lead, owner=None, findings=(), recommendation="recommend",
                 end: datetime.date = STAGE2_END, verify=True) -> Audit:
    """Run ``audit`` to closed: Adam leads, the findings are raised (grades), answered and
    reviewed (majors verified, minors' plans accepted unless ``verify`` is False), the
    report recommends."""
    Audit.objects.filter(pk=audit.pk).update(
        status=Audit.Status.IN_PROGRESS, start_date=end - datetime.timedelta(days=2),
        end_date=end)
    audit.refresh_from_db()
    audit.sites.set(audit.cycle.organization.sites.all())
    TeamMember.objects.get_or_create(audit=audit, auditor=lead,
                                     defaults={"role": TeamMember.Role.LEAD})
    conduct.prepare_checklist(audit)
    clause_number = audit.coverage.order_by("clause__number").first().clause.number
    raised = [conduct.create_finding(audit=audit, actor=lead,
                                     **finding_data(audit, grade, clause_number))
              for grade in findings]
    if verify:
        for finding in raised:
            conduct.submit_corrective_action(finding=finding, actor=owner, **ANSWER)
            conduct.review_corrective_action(
                finding=finding, actor=lead,
                decision="verify" if finding.grade == "major" else "accept")
    conduct.issue_report(audit=audit, actor=lead,
                         conclusion="The management system is effectively implemented.",
                         recommendation=recommendation, spent_days="2")
    return conduct.close_audit(audit=audit, actor=lead)


def decision_ready_cycle(organization, owner, reviewer, lead, *, standards=None, findings=(),
                         recommendation="recommend", verify=True):
    """A cycle of ``organization`` with stage 2 closed, ready for the decision."""
    if standards is None:
        standards = [QUALITY_LINE]
    if any(line["standard"] == "ISO 50001" for line in standards):
        enms_days_table()
    cycle = cycle_for(organization, owner, reviewer, standards=standards)
    closed_audit(cycle.audits.get(kind=Audit.Kind.STAGE2), lead=lead, owner=owner,
                 findings=findings, recommendation=recommendation, verify=verify)
    cycle.refresh_from_db()
    return cycle


def certified_cycle(organization, owner, reviewer, lead, decider, *, decided: datetime.date,
                    **kwargs):
    """A cycle whose stage 2 ended 12 days before ``decided``, when ``decider`` granted
    the initial certification (the certificate expires 3 years later)."""
    from isocert.certification.services import decide

    cycle = decision_ready_cycle(organization, owner, reviewer, lead, **kwargs)
    stage2_end = decided - datetime.timedelta(days=12)
    Audit.objects.filter(cycle=cycle, kind=Audit.Kind.STAGE2).update(
        start_date=stage2_end - datetime.timedelta(days=2), end_date=stage2_end)
    decide(cycle=cycle, actor=decider, kind="initial", outcome="grant", decision_date=decided)
    cycle.refresh_from_db()
    return cycle


def recertify(cycle, decider, lead, owner, *, audit_end: datetime.date,
              decision_date: datetime.date, outcome="grant", **extra):
    """Close the cycle's recertification audit (``lead`` leads it) and decide on it."""
    from isocert.certification.services import decide

    closed_audit(cycle.audits.get(kind=Audit.Kind.RECERTIFICATION), lead=lead, owner=owner,
                 end=audit_end)
    return decide(cycle=cycle, actor=decider, kind="recertification", outcome=outcome,
                  decision_date=decision_date, **extra)


__all__ = ["DECIDED", "ENERGY_LINE", "QUALITY_LINE", "STAGE2_END", "certified_cycle",
           "closed_audit", "decision_ready_cycle", "enms_days_table", "recertify"]
