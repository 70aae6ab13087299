"""Where an organization stands on its certification journey.

Registration comes first; the five steps of the journey follow it. The
readiness module fills in gap analysis, implementation and internal audit from
each pursued standard's stage-1 readiness (a step is done when it is done for
every standard); the certification audit becomes current once a standard is
ready for stage 1 or a quotation was accepted.
"""

from dataclasses import dataclass

from isocert.improvement.stage1 import stage1_readiness, standards_pursued
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


def _readiness(organization) -> list:
    if organization is None:
        return []
    return [stage1_readiness(organization=organization, standard=standard)
            for standard in standards_pursued(organization)]


def _step_done(readiness: list, key: str) -> tuple[bool, str]:
    if not readiness:
        return False, ""
    checks = READINESS_STEPS[key]
    done = all(entry.check(c).ok for entry in readiness for c in checks)
    if done:
        return True, ", ".join(str(entry.standard) for entry in readiness)
    entry, check = next((entry, entry.check(c)) for entry in readiness for c in checks
                        if not entry.check(c).ok)
    return False, f"{entry.standard}: {check.detail}" if len(readiness) > 1 else check.detail


def journey_for_organization(applications: list[Application], organization=None
                             ) -> list[JourneyStep]:
    if organization is None and applications:
        organization = applications[0].organization
    readiness = _readiness(organization)
    ready = [entry for entry in readiness if entry.ready]
    registered = [a for a in applications if a.status == Application.Status.REGISTERED]
    # An accepted quotation is the certification contract: the audit comes next.
    contracted = [q for a in registered for q in a.quotations.all() if q.status == "accepted"]
    progress = [s for s, _ in Application.Status.choices]
    active = sorted((a for a in applications
                     if a.status not in (Application.Status.DECLINED, Application.Status.WITHDRAWN)),
                    key=lambda a: progress.index(a.status), reverse=True)
    audit_current = bool(contracted or (registered and ready))
    steps = []
    current_taken = audit_current
    for key, label in STEPS:
        if key == "registration":
            if registered:
                steps.append(JourneyStep(key, label, "done",
                                         ", ".join(a.registration_number for a in registered)))
            else:
                # The most advanced application tells where the organization stands.
                detail = (active[0].get_status_display() if active else "Not applied yet")
                steps.append(JourneyStep(key, label, "current", detail))
        elif key in READINESS_STEPS:
            done, detail = _step_done(readiness, key)
            if done:
                steps.append(JourneyStep(key, label, "done", detail))
            elif registered and not current_taken:
                current_taken = True
                steps.append(JourneyStep(key, label, "current", detail or "Next step"))
            else:
                steps.append(JourneyStep(key, label, "todo", detail))
        elif key == "certification_audit" and contracted:
            steps.append(JourneyStep(key, label, "current",
                                     "Contract signed (quotation "
                                     + ", ".join(q.number for q in contracted) + ")"))
        elif key == "certification_audit" and audit_current:
            steps.append(JourneyStep(key, label, "current", "Ready for stage 1: "
                                     + ", ".join(str(entry.standard) for entry in ready)))
        else:
            steps.append(JourneyStep(key, label, "todo"))
    return steps


def current_step(steps: list[JourneyStep]) -> JourneyStep:
    return next(s for s in steps if s.state == "current")
