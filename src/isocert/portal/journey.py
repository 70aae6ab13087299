"""Where an organization stands on its certification journey.

One journey per standard pursued (ISO 9001 and ISO 14001 of one organization walk
apart). Registration comes first; the five steps follow it. The standard's stage-1
readiness fills in gap analysis, implementation and internal audit; the certification
audit becomes current once the standard is ready for stage 1, a quotation was accepted
or an audit is planned; the decision is current while a closed audit waits for it, and
a live certificate completes the journey.
"""

import datetime
from dataclasses import dataclass, field

from isocert.core.dates import display_date
from isocert.improvement.stage1 import pursued_readiness
from isocert.registration.models import Application

STEPS = [
    ("registration", "Registration"),
    ("gap_analysis", "Gap analysis"),
    ("implementation", "Implementation"),
    ("internal_audit", "Internal audit"),
    ("certification_audit", "Certification audit"),
    ("decision", "Certification decision"),
]


@dataclass
class JourneyStep:
    key: str
    label: str
    state: str  # "done" | "current" | "todo"
    detail: str = ""


READINESS_STEPS = {
    # journey step: the readiness checks that complete it
    "gap_analysis": ("gap_analysis",),
    "implementation": ("actions",),
    "internal_audit": ("internal_audit", "management_review"),
}


@dataclass
class StandardJourney:
    """The journey towards one standard (its code: editions share the journey)."""

    standard: object  # catalog Standard, or None before anything is pursued
    steps: list[JourneyStep]


@dataclass
class CertificationFacts:
    """What the CB side knows of an organization's cycles, keyed by application id: the
    live certificates, the audits still to be held and the cycles waiting for the
    decision. The portal reads them once for all organizations (``client_work``)."""

    certificates: dict[int, list] = field(default_factory=dict)
    audits_ahead: dict[int, list] = field(default_factory=dict)
    awaiting_decision: set[int] = field(default_factory=set)


LIVE_CERTIFICATE = ("Active", "Suspended")


def _readiness(organization) -> list:
    if organization is None:
        return []
    return pursued_readiness(organization)


def _step_done(readiness: list, key: str) -> tuple[bool, str]:
    if not readiness:
        return False, ""
    checks = READINESS_STEPS[key]
    done = all(entry.check(c).ok for entry in readiness for c in checks)
    if done:
        return True, ", ".join(str(entry.standard) for entry in readiness)
    entry, check = next((entry, entry.check(c)) for entry in readiness for c in checks
                        if not entry.check(c).ok)
    return False, check.detail


def _codes(application: Application) -> set[str]:
    return {line.standard.code for line in application.standard_lines.all()}


def journeys_for_organization(applications: list[Application], organization=None,
                              facts: CertificationFacts | None = None,
                              readiness: list | None = None) -> list[StandardJourney]:
    """One journey per standard the organization pursues, each from that standard's own
    applications, readiness, audits and certificate — never another standard's.
    ``readiness``: every pursued standard's stage-1 readiness, when the caller has it."""
    if organization is None and applications:
        organization = applications[0].organization
    facts = facts or CertificationFacts()
    if readiness is None:
        readiness = _readiness(organization)
    if not readiness:
        return [StandardJourney(None, _steps(applications, None, facts))]
    return [StandardJourney(entry.standard, _steps(
        [a for a in applications if entry.standard.code in _codes(a)], entry, facts))
        for entry in readiness]


def _steps(applications: list[Application], entry, facts: CertificationFacts
           ) -> list[JourneyStep]:
    readiness = [entry] if entry is not None else []
    ids = {a.pk for a in applications}
    certificates = [c for pk in ids for c in facts.certificates.get(pk, [])
                    if c.status in LIVE_CERTIFICATE]
    ahead = sorted((audit for pk in ids for audit in facts.audits_ahead.get(pk, [])),
                   key=lambda audit: (audit.start_date is None, audit.start_date or audit.target_date
                                      or datetime.date.max))
    awaiting = bool(ids & facts.awaiting_decision)
    registered = [a for a in applications if a.status == Application.Status.REGISTERED]
    # An accepted quotation is the certification contract: the audit comes next.
    contracted = [q for a in registered for q in a.quotations.all() if q.status == "accepted"]
    progress = [s for s, _ in Application.Status.choices]
    active = sorted((a for a in applications
                     if a.status not in (Application.Status.DECLINED, Application.Status.WITHDRAWN)),
                    key=lambda a: progress.index(a.status), reverse=True)
    ready = entry is not None and entry.ready
    audit_current = bool(contracted or ahead or awaiting or (registered and ready))
    steps = []
    if registered:
        steps.append(JourneyStep("registration", "Registration", "done",
                                 ", ".join(a.registration_number for a in registered)))
    else:
        # The most advanced application tells where the organization stands.
        detail = active[0].get_status_display() if active else "Not applied yet"
        steps.append(JourneyStep("registration", "Registration", "current", detail))
    if certificates:
        # Certified (ISO/IEC 17021-1 §9.5, §8.2): the journey is complete; what follows
        # (surveillance, renewal) is the certificate's life, shown with the certificate.
        certificate = certificates[0]
        steps += [JourneyStep(key, label, "done") for key, label in STEPS[1:5]]
        suspended = " — suspended" if certificate.status == "Suspended" else ""
        steps.append(JourneyStep("decision", "Certification decision", "done",
                                 f"Certified: {certificate.number}, valid until "
                                 f"{display_date(certificate.expiry_date)}{suspended}"))
        return steps
    current_taken = audit_current or not registered
    for key, label in STEPS[1:4]:
        done, detail = _step_done(readiness, key)
        if done:
            steps.append(JourneyStep(key, label, "done", detail))
        elif not current_taken:
            current_taken = True
            steps.append(JourneyStep(key, label, "current", detail or "Next step"))
        else:
            steps.append(JourneyStep(key, label, "todo", detail))
    if awaiting:
        steps.append(JourneyStep("certification_audit", "Certification audit", "done",
                                 "Audit closed, report issued"))
        steps.append(JourneyStep("decision", "Certification decision", "current",
                                 "Waiting for the independent decision maker"))
        return steps
    if ahead:
        audit = ahead[0]
        when = (f"on {display_date(audit.start_date)}" if audit.start_date
                else "dates to be agreed")
        steps.append(JourneyStep("certification_audit", "Certification audit", "current",
                                 f"Next: {audit.get_kind_display()} audit, {when}"))
    elif contracted:
        steps.append(JourneyStep("certification_audit", "Certification audit", "current",
                                 "Contract signed (quotation "
                                 + ", ".join(q.number for q in contracted) + ")"))
    elif audit_current:
        steps.append(JourneyStep("certification_audit", "Certification audit", "current",
                                 f"Ready for stage 1: {entry.standard}"))
    else:
        steps.append(JourneyStep("certification_audit", "Certification audit", "todo"))
    steps.append(JourneyStep("decision", "Certification decision", "todo"))
    return steps


def current_step(steps: list[JourneyStep]) -> JourneyStep:
    return next(s for s in steps if s.state == "current")
