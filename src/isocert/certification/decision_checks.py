"""What a certification decision needs (ISO/IEC 17021-1 §9.5): a decision maker competent
for the cycle's standards and independent of its audits and of the client, and the
checklist of what a grant requires, each item with what was found. Read by the decision
page and API before deciding, and enforced by ``services.decide``."""

import datetime

from django.conf import settings
from django.utils import timezone

from isocert.accounts.models import User
from isocert.accounts.permissions import can
from isocert.accounts.selectors import decision_standards, impartiality_relationships
from isocert.audits.models import Audit, AuditReport, CertificationCycle, Finding
from isocert.audits.programme.services import add_months
from isocert.core.dates import display_date
from isocert.core.errors import NotPermitted
from isocert.core.values import Check
from isocert.energy import selectors as energy_selectors

from .models import Certificate, CertificationDecision

D = CertificationDecision
# Which audit's report each kind of decision reviews.
AUDIT_FOR_KIND = {
    D.Kind.INITIAL: Audit.Kind.STAGE2,
    D.Kind.RECERTIFICATION: Audit.Kind.RECERTIFICATION,
    D.Kind.SCOPE_EXTENSION: Audit.Kind.SCOPE_EXTENSION,
    D.Kind.TRANSITION: Audit.Kind.TRANSITION,
}
RECOMMENDING = {AuditReport.Recommendation.RECOMMEND, AuditReport.Recommendation.AFTER_MAJORS}
ENERGY_STANDARD = "ISO 50001"
ISMS_STANDARD = "ISO/IEC 27001"

class ImpartialityThreat(NotPermitted):
    """The decision maker audited this cycle or worked for the client (§5.2, §9.5.1.2)."""

    code = "impartiality_threat"


class DecisionMakerNotQualified(NotPermitted):
    """The decision maker has no decision-maker qualification for a standard of the cycle
    (ISO/IEC 17021-1 §7.1.2, §9.5.1)."""

    code = "decision_maker_not_qualified"


def ensure_decision_maker(actor: User) -> None:
    if not can(actor, "decide"):
        raise NotPermitted("Only a CB decision maker can take certification decisions.")


def _standard_codes(cycle: CertificationCycle) -> set[str]:
    return {standard.code for standard in cycle.standards.all()}


def current_certificate(cycle: CertificationCycle) -> Certificate | None:
    """The certificate issued for this cycle's organization and standards. A certificate
    points to the cycle it is in now: a recertification moves it to the next cycle, and
    the closed cycle finds it through their common application."""
    certificate = cycle.certificates.order_by("-pk").first()
    if certificate is None:
        certificate = (Certificate.objects.filter(cycle__application=cycle.application)
                       .order_by("-pk").first())
    return certificate



# --- independence --------------------------------------------------------------------------------

def independence_problems(actor: User, cycle: CertificationCycle,
                          on: datetime.date | None = None) -> list[str]:
    """Why ``actor`` may not decide on ``cycle`` (§9.5.1.2): on one of its audit teams, or
    consultancy/employment for the client within the cooling-off period."""
    problems = []
    audits = list(Audit.objects.filter(cycle=cycle, team__auditor=actor).distinct())
    if audits:
        names = ", ".join(audit.get_kind_display() for audit in audits)
        problems.append(f"{actor} was on the audit team of this cycle ({names}); the decision "
                        "must be taken by someone not involved in the audit.")
    # The declarations every CB staff member keeps, read as the audit team's rule reads
    # them: one record per person, whatever their role (accounts.ClientRelationship).
    for relationship in impartiality_relationships(
            user=actor, organization_id=cycle.organization_id, on=on):
        ended = (f"ended {display_date(relationship.end_date)}" if relationship.end_date
                 else "ongoing")
        problems.append(
            f"{actor} declared {relationship.get_kind_display().lower()} for the client "
            f"({ended}); within {settings.IMPARTIALITY_COOLING_OFF_YEARS} years they may "
            "not take part in its certification decision.")
    return problems


def competence_problems(actor: User, cycle: CertificationCycle) -> list[str]:
    """The cycle's standards ``actor`` holds no decision-maker qualification for: the
    people who decide are competent for what they certify (ISO/IEC 17021-1 §7.1.2,
    §9.5.1). Kept on the person's decision-maker profile in the Django admin."""
    qualified = decision_standards(user=actor)
    missing = [str(standard) for standard in cycle.standards.order_by("code")
               if standard.pk not in qualified]
    if not missing:
        return []
    return [f"{actor} is not qualified to decide on {', '.join(missing)}: a CB administrator "
            "records the decision maker's qualification per standard."]


def decider_problems(actor: User, cycle: CertificationCycle,
                     on: datetime.date | None = None) -> list[str]:
    """Why ``actor`` may not take a decision on ``cycle``: competence, then independence."""
    return competence_problems(actor, cycle) + independence_problems(actor, cycle, on)


def ensure_independent(actor: User, cycle: CertificationCycle,
                       on: datetime.date | None = None) -> None:
    """Refuse unless ``actor`` is a decision maker, qualified for every standard of the
    cycle and independent of its audits and of the client."""
    ensure_decision_maker(actor)
    problems = competence_problems(actor, cycle)
    if problems:
        raise DecisionMakerNotQualified(" ".join(problems))
    problems = independence_problems(actor, cycle, on)
    if problems:
        raise ImpartialityThreat(" ".join(problems))


# --- the checklist -------------------------------------------------------------------------------

def decision_audit(cycle: CertificationCycle, kind: str) -> Audit | None:
    """The latest closed audit whose report the decision of ``kind`` reviews."""
    audit_kind = AUDIT_FOR_KIND.get(kind)
    if audit_kind is None:
        return None
    return (cycle.audits.filter(kind=audit_kind, status=Audit.Status.CLOSED)
            .order_by("-end_date", "-pk").first())


def _finding_checks(audit: Audit | None, decision_date: datetime.date) -> list[Check]:
    findings = list(Finding.objects.filter(audit=audit)) if audit else []
    majors = [f for f in findings if f.grade == Finding.Grade.MAJOR]
    minors = [f for f in findings if f.grade == Finding.Grade.MINOR]
    open_majors = [f for f in majors if f.status != Finding.Status.VERIFIED]
    open_minors = [f for f in minors if f.status not in (Finding.Status.PLAN_ACCEPTED,
                                                         Finding.Status.VERIFIED)]
    checks = [
        Check("majors_closed", "Every major nonconformity verified closed", not open_majors,
              (f"{len(majors)} major(s), all verified." if not open_majors else
               "Not verified: " + ", ".join(f"#{f.number} ({f.clause.number})"
                                            for f in open_majors) + ".")),
        Check("minors_planned", "Every minor nonconformity has an accepted plan",
              not open_minors,
              (f"{len(minors)} minor(s), all with an accepted plan." if not open_minors else
               "No accepted plan: " + ", ".join(f"#{f.number} ({f.clause.number})"
                                                for f in open_minors) + ".")),
    ]
    if majors and audit and audit.end_date:
        limit = add_months(audit.end_date, 6)
        checks.append(Check(
            "majors_in_time", "Majors closed within 6 months of the audit's last day",
            decision_date <= limit,
            (f"Decision by {display_date(limit)}." if decision_date <= limit else
             f"More than 6 months after {display_date(audit.end_date)}: a new stage 2 is needed.")))
    return checks


def energy_window(cycle: CertificationCycle, kind: str, decision_date: datetime.date
                  ) -> tuple[datetime.date | None, datetime.date]:
    """The reporting period a decision of ``kind`` may judge: (starts from, ends by).

    The evidence must be of the cycle being decided (rules §5: improvement demonstrated for
    initial certification *and* recertification — the initial evidence cannot be reused).
    A recertification reads only a reporting period that starts on or after the previous
    certification decision (the one that began this cycle: the initial grant or the last
    recertification) and ends on or before this decision's date, as a period still running
    has incomplete data. An initial decision reads a period ending by its date.
    """
    starts_from = None
    if kind == D.Kind.RECERTIFICATION:
        starts_from = cycle.decision_date
        if starts_from is None:
            certificate = current_certificate(cycle)
            starts_from = certificate.decision_date if certificate else None
    return starts_from, decision_date


def energy_check(cycle: CertificationCycle, *, kind: str = D.Kind.INITIAL,
                 decision_date: datetime.date | None = None, statement: str = "",
                 has_evidence: bool = False) -> Check | None:
    """ISO 50001: energy performance improvement demonstrated (§5), from the energy module
    when the client keeps its data there (a reporting period within ``energy_window``),
    else attached evidence with a statement."""
    if ENERGY_STANDARD not in _standard_codes(cycle):
        return None
    starts_from, ends_by = energy_window(cycle, kind, decision_date or timezone.localdate())
    evidence = energy_selectors.improvement_evidence(organization_id=cycle.organization_id,
                                    starts_from=starts_from, ends_by=ends_by)
    if evidence is not None:
        return Check("energy_improvement", "Energy performance improvement demonstrated",
                     bool(evidence["demonstrated"]), evidence["summary"])
    if has_evidence and len(statement.strip()) >= 5:
        return Check("energy_improvement", "Energy performance improvement demonstrated",
                     True, f"Attached evidence; decision maker's statement: {statement.strip()}")
    return Check("energy_improvement", "Energy performance improvement demonstrated", False,
                 "No energy baseline with a reporting period in the portal: attach the "
                 "evidence and write a statement.")


def decision_checklist(*, cycle: CertificationCycle, kind: str,
                       decision_date: datetime.date | None = None, energy_statement: str = "",
                       has_energy_evidence: bool = False, soa_version: str = ""
                       ) -> tuple[Audit | None, list[Check]]:
    """What a grant needs, each item with what was found — shown to the decision maker
    and enforced by ``decide``."""
    decision_date = decision_date or timezone.localdate()
    checks: list[Check] = []
    audit = decision_audit(cycle, kind)
    certificate = current_certificate(cycle)
    if kind in AUDIT_FOR_KIND:
        report = audit.reports.order_by("-revision").first() if audit else None
        audit_label = Audit.Kind(AUDIT_FOR_KIND[kind]).label
        if report is None:
            checks.append(Check("report", f"{audit_label} report issued with a recommendation",
                                False, f"No closed {audit_label.lower()} audit with an issued "
                                "report."))
        else:
            checks.append(Check(
                "report", f"{audit_label} report issued with a recommendation",
                report.recommendation in RECOMMENDING,
                f"Report revision {report.revision}: {report.get_recommendation_display()}."))
        checks.extend(_finding_checks(audit, decision_date))
    if kind in (D.Kind.INITIAL, D.Kind.RECERTIFICATION):
        check = energy_check(cycle, kind=kind, decision_date=decision_date,
                             statement=energy_statement, has_evidence=has_energy_evidence)
        if check:
            checks.append(check)
    if ISMS_STANDARD in _standard_codes(cycle) and kind != D.Kind.SCOPE_REDUCTION:
        checks.append(Check("soa_version", "Statement of Applicability version stated",
                            bool(soa_version.strip()),
                            soa_version.strip() or "Give the SoA version the audit reviewed."))
    if kind == D.Kind.INITIAL:
        checks.append(Check("no_certificate", "No certificate issued in this cycle yet",
                            certificate is None,
                            f"Certificate {certificate.number} exists." if certificate else
                            "A new certificate will be issued."))
    else:
        checks.append(Check("certificate", "A certificate to renew or revise",
                            certificate is not None
                            and certificate.status != Certificate.Status.WITHDRAWN,
                            (f"{certificate.number} ({certificate.status})" if certificate
                             else "No certificate in this cycle.")))
    return audit, checks
