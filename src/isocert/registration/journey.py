"""Where an organization stands on its certification journey.

Registration comes first; the five steps of the journey follow it. Later
modules (readiness, audits, certification) fill in the steps after
registration; until they exist for an organization, those steps read
"not started".
"""

from dataclasses import dataclass

from .models import Application

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


def journey_for_organization(applications: list[Application]) -> list[JourneyStep]:
    registered = [a for a in applications if a.status == Application.Status.REGISTERED]
    # An accepted quotation is the certification contract: the audit comes next.
    contracted = [q for a in registered for q in a.quotations.all() if q.status == "accepted"]
    progress = [s for s, _ in Application.Status.choices]
    active = sorted((a for a in applications
                     if a.status not in (Application.Status.DECLINED, Application.Status.WITHDRAWN)),
                    key=lambda a: progress.index(a.status), reverse=True)
    steps = []
    for key, label in STEPS:
        if key == "registration":
            if registered:
                steps.append(JourneyStep(key, label, "done",
                                         ", ".join(a.registration_number for a in registered)))
            else:
                # The most advanced application tells where the organization stands.
                detail = (active[0].get_status_display() if active else "Not applied yet")
                steps.append(JourneyStep(key, label, "current", detail))
        elif key == "gap_analysis" and registered and not contracted:
            steps.append(JourneyStep(key, label, "current", "Next step"))
        elif key == "certification_audit" and contracted:
            steps.append(JourneyStep(key, label, "current",
                                     "Contract signed (quotation "
                                     + ", ".join(q.number for q in contracted) + ")"))
        else:
            steps.append(JourneyStep(key, label, "todo"))
    return steps


def current_step(steps: list[JourneyStep]) -> JourneyStep:
    return next(s for s in steps if s.state == "current")
