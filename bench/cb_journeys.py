"""Template journeys for ``cb_generate.py``: a handful of client organizations taken through
the real services (organization → application → review → audit time → quotation → cycle →
audits → findings → report → decision → certificate), one per variant the generator then
replicates.

As in the project's demo and test helpers (``certification/demo.py``,
``tests/certification_helpers.py``), an audit is put in progress with its dates and lead
auditor directly (starting it through the programme needs a confirmed plan and signed
declarations, which add nothing a page lists); its checklist, findings, answers, report and
closing go through ``isocert.audits.conduct`` and the decision through
``certification.services.decide``.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from isocert.accounts import services as accounts
from isocert.audits.conduct import services as conduct
from isocert.audits.models import Audit, TeamMember
from isocert.audits.programme import services as programme
from isocert.catalog.models import EnmsDayTableRow
from isocert.certification import lifecycle
from isocert.certification import services as certification
from isocert.registration import services as registration

PASSING_ASSESSMENT = {"documents_reviewed": True, "scope_clear": True,
                      "sites_personnel_plausible": True, "cb_competent": True,
                      "impartiality_risk": "none", "notes": "Benchmark CB."}
ANSWER = {"correction": "The record was completed the same day.",
          "root_cause": "The procedure did not say who keeps the record up to date.",
          "corrective_action": "The procedure names the process owner; monthly check added."}
LINES = {
    "ISO 9001": {"standard": "ISO 9001", "effective_personnel": "60"},
    "ISO 14001": {"standard": "ISO 14001", "effective_personnel": "60", "complexity": "medium"},
    "ISO 45001": {"standard": "ISO 45001", "effective_personnel": "60", "complexity": "medium"},
    "ISO/IEC 27001": {"standard": "ISO/IEC 27001", "effective_personnel": "60"},
    "ISO 50001": {"standard": "ISO 50001", "effective_personnel": "24",
                  "annual_energy_consumption_tj": "310", "energy_types": 3,
                  "significant_energy_uses": 5},
}


@dataclass
class Cast:
    """The staff a template's journey is run by (replicas get others from the pools)."""

    reviewer: object
    lead: object
    decider: object


@dataclass(frozen=True)
class Variant:
    name: str
    standards: tuple[str, ...]
    stage: str  # review | stage2 | awaiting_decision | granted | suspended | surveillance_due
    findings: int = 0  # findings per held audit (a fifth of them major)
    weight: int = 1  # share of the replicated organizations
    # A further standard: its cycle planned (certified organizations), or under review.
    second_application: bool = False


VARIANTS = [
    Variant("granted-9001", ("ISO 9001",), "granted", findings=30, weight=6,
            second_application=True),
    Variant("granted-ims-9001-14001", ("ISO 9001", "ISO 14001"), "granted", findings=36,
            weight=3),
    Variant("surveillance-due-45001", ("ISO 45001",), "surveillance_due", findings=30,
            weight=3, second_application=True),
    Variant("suspended-14001", ("ISO 14001",), "suspended", findings=24, weight=1),
    Variant("stage2-27001", ("ISO/IEC 27001",), "stage2", findings=20, weight=2),
    Variant("awaiting-decision-50001", ("ISO 50001",), "awaiting_decision", findings=24,
            weight=1),
    Variant("in-review-9001", ("ISO 9001",), "review", weight=2, second_application=True),
]


def enms_day_table() -> None:
    """ISO 50001 audit time needs the CB's ISO 50003 day table (one row for every size)."""
    if not EnmsDayTableRow.objects.exists():
        EnmsDayTableRow.objects.create(personnel_min=1, personnel_max=None, high=Decimal("7"),
                                       medium=Decimal("6"), low=Decimal("5"))


def _organization(owner, index: int):
    organization = accounts.create_organization(
        actor=owner, legal_name=f"Template {index} Manufacturing GmbH", country="DE",
        registered_address=f"Industrieweg {index}, 28217 Bremen", sector_codes=[17],
        scope_statement="Manufacture of aluminium components.")
    accounts.add_site(organization=organization, actor=owner, name="Head office and plant",
                      address=f"Industrieweg {index}, Bremen", effective_personnel=45,
                      is_central_function=True)
    accounts.add_site(organization=organization, actor=owner, name="Warehouse",
                      address=f"Hafenweg {index}, Bremerhaven", effective_personnel=15)
    return organization


def _reviewed(organization, owner, reviewer, standards, *, register: bool):
    today = timezone.localdate()
    application = registration.create_application(
        organization=organization, actor=owner,
        standards=[dict(LINES[code]) for code in standards],
        site_ids=list(organization.sites.values_list("pk", flat=True)),
        desired_audit_from=today + datetime.timedelta(days=30),
        desired_audit_to=today + datetime.timedelta(days=60))
    registration.submit_application(application=application, actor=owner)
    registration.start_review(application=application, actor=reviewer)
    if register:
        registration.record_preliminary_assessment(application=application, actor=reviewer,
                                                   **PASSING_ASSESSMENT)
        registration.register_application(application=application, actor=reviewer)
    return application


def _cycle(organization, owner, reviewer, standards):
    application = _reviewed(organization, owner, reviewer, standards, register=True)
    registration.determine_audit_time(application=application, actor=reviewer,
                                      sampling_allowed=False)
    quotation = registration.issue_quotation(application=application, actor=reviewer)
    registration.accept_quotation(quotation=quotation, actor=owner)
    return programme.create_cycle(application=application, actor=reviewer)


def _hold(audit, *, lead, owner, findings: int, end: datetime.date, close: bool,
          answer: bool = True) -> Audit:
    """Run ``audit``: in progress, checklist, ``findings`` raised (every fifth major),
    answered and reviewed, and with ``close`` the report issued and the audit closed."""
    Audit.objects.filter(pk=audit.pk).update(
        status=Audit.Status.IN_PROGRESS, start_date=end - datetime.timedelta(days=1),
        end_date=end)
    audit.refresh_from_db()
    audit.sites.set(audit.cycle.organization.sites.all())
    TeamMember.objects.get_or_create(audit=audit, auditor=lead,
                                     defaults={"role": TeamMember.Role.LEAD})
    conduct.prepare_checklist(audit)
    clauses = list(audit.coverage.order_by("clause__number").values_list("clause_id", flat=True))
    raised = []
    for n in range(findings):
        grade = "major" if n % 5 == 4 else ("minor" if n % 5 in (1, 3) else "opportunity")
        raised.append(conduct.create_finding(
            audit=audit, actor=lead, grade=grade, clause_id=clauses[n % len(clauses)],
            statement=f"Finding {n + 1}: the record required by the procedure is incomplete.",
            objective_evidence=f"Record {100 + n} of the last quarter, sampled on site."))
    if answer:
        for finding in raised:
            if finding.grade in ("major", "minor"):
                conduct.submit_corrective_action(finding=finding, actor=owner, **ANSWER)
                conduct.review_corrective_action(
                    finding=finding, actor=lead,
                    decision="verify" if finding.grade == "major" else "accept")
    if close:
        verdict = ({"ready_for_stage2": True} if audit.kind == Audit.Kind.STAGE1
                   else {"recommendation": "recommend"})
        conduct.issue_report(audit=audit, actor=lead,
                             conclusion="The management system is effectively implemented.",
                             positive_notes="Committed top management.",
                             spent_days=str(audit.planned_days or 2), **verdict)
        conduct.close_audit(audit=audit, actor=lead)
    audit.refresh_from_db()
    return audit


def run_journey(variant: Variant, *, index: int, owner, cast: Cast):
    """Build one template organization of ``variant`` through the services; returns it."""
    today = timezone.localdate()
    organization = _organization(owner, index)
    if variant.stage == "review":
        _reviewed(organization, owner, cast.reviewer, variant.standards, register=False)
        if variant.second_application:
            _reviewed(organization, owner, cast.reviewer, ("ISO 14001",), register=True)
        return organization
    if "ISO 50001" in variant.standards:
        enms_day_table()
    cycle = _cycle(organization, owner, cast.reviewer, variant.standards)
    # When the certification happened: surveillance due soon, or some months ago.
    decided = today - datetime.timedelta(days=330 if variant.stage == "surveillance_due"
                                         else 120)
    stage2_end = decided - datetime.timedelta(days=12)
    _hold(cycle.audits.get(kind=Audit.Kind.STAGE1), lead=cast.lead, owner=owner,
          findings=max(2, variant.findings // 3), end=stage2_end - datetime.timedelta(days=40),
          close=True)
    stage2 = cycle.audits.get(kind=Audit.Kind.STAGE2)
    if variant.stage == "stage2":
        _hold(stage2, lead=cast.lead, owner=owner, findings=variant.findings,
              end=today, close=False, answer=False)
    else:
        _hold(stage2, lead=cast.lead, owner=owner, findings=variant.findings, end=stage2_end,
              close=True)
    if variant.stage in ("granted", "suspended", "surveillance_due"):
        decision = certification.decide(
            cycle=cycle, actor=cast.decider, kind="initial", outcome="grant",
            decision_date=decided, scope="Manufacture of aluminium components.",
            soa_version="SoA v3" if "ISO/IEC 27001" in variant.standards else "",
            energy_statement=("Normalized energy consumption fell by 6 % against the baseline."
                              if "ISO 50001" in variant.standards else ""))
        if variant.stage == "suspended":
            lifecycle.suspend_certificate(
                certificate=decision.certificate, actor=cast.decider,
                reason="Major nonconformity of the surveillance audit not closed in time.",
                date=today - datetime.timedelta(days=10),
                until=today + datetime.timedelta(days=80))
    if variant.second_application:
        _cycle(organization, owner, cast.reviewer,
               ("ISO 14001",) if "ISO 14001" not in variant.standards else ("ISO 45001",))
    return organization
