"""The CB reviewer's side of an application: starting the review, asking for information,
the preliminary readiness assessment, and registering or declining (ISO/IEC 17021-1 9.1.2,
application review). Only CB application reviewers act here."""


from django.conf import settings
from django.db import transaction
from django.utils import timezone

from isocert.accounts.models import User
from isocert.core.audit import record_event
from isocert.core.errors import Conflict, InvalidInput
from isocert.core.sequences import next_value
from isocert.core.validation import choice_error
from isocert.notifications.services import notify

from .common import (
    client_recipients,
    ensure_reviewer,
    locked,
    mail_context,
    required_text,
    transition,
)
from .models import (
    APPLICATION_LIFECYCLE,
    Application,
    ApplicationMessage,
    PreliminaryAssessment,
)


@transaction.atomic
def start_review(*, application: Application, actor: User) -> Application:
    ensure_reviewer(actor)
    application = locked(application)
    APPLICATION_LIFECYCLE.target("start_review", application.status)
    application.reviewer = actor
    transition(application, "start_review", actor, {"reviewer": actor.email})
    return application


@transaction.atomic
def request_information(*, application: Application, actor: User, message: str) -> Application:
    ensure_reviewer(actor)
    application = locked(application)
    APPLICATION_LIFECYCLE.target("request_information", application.status)
    message = required_text(message, "message", "Say what information is needed.",
                             "Describe the information you need.")
    ApplicationMessage.objects.create(application=application, author=actor, text=message,
                                      kind=ApplicationMessage.Kind.INFORMATION_REQUEST)
    transition(application, "request_information", actor, {"message": message})
    notify(template="information_requested", to=client_recipients(application),
           context=mail_context(application, message=message))
    return application


@transaction.atomic
def record_preliminary_assessment(
        *, application: Application, documents_reviewed: bool = False, scope_clear: bool = False,
        sites_personnel_plausible: bool = False, cb_competent: bool = False,
        impartiality_risk: str = PreliminaryAssessment.ImpartialityRisk.NONE, notes: str = "",
        actor: User) -> PreliminaryAssessment:
    """Record the reviewer's readiness checklist while the application is under review."""
    ensure_reviewer(actor)
    application = locked(application)
    if application.status != Application.Status.UNDER_REVIEW:
        raise Conflict("The preliminary assessment is recorded while the application is under review.")
    risk = impartiality_risk
    if risk not in PreliminaryAssessment.ImpartialityRisk.values:
        raise InvalidInput("Choose the impartiality risk.",
                           fields={"impartiality_risk": choice_error(
                               PreliminaryAssessment.ImpartialityRisk,
                               what="the impartiality risk")})
    notes = (notes or "").strip()
    if application.consultancy_used and risk == PreliminaryAssessment.ImpartialityRisk.NONE:
        raise InvalidInput(
            "The client declared management-system consultancy: assess the impartiality risk.",
            fields={"impartiality_risk": "Declared consultancy: choose managed or unacceptable."},
        )
    if risk == PreliminaryAssessment.ImpartialityRisk.MANAGED and not notes:
        raise InvalidInput("Explain how the impartiality risk is managed.",
                           fields={"notes": "Say how the risk is managed."})
    checks = {"documents_reviewed": documents_reviewed, "scope_clear": scope_clear,
              "sites_personnel_plausible": sites_personnel_plausible,
              "cb_competent": cb_competent}
    values = {field: bool(checks[field]) for field in PreliminaryAssessment.CHECKS}
    values.update(impartiality_risk=risk, notes=notes, assessed_by=actor)
    assessment, _ = PreliminaryAssessment.objects.update_or_create(application=application,
                                                                   defaults=values)
    record_event(actor=actor, action="registration.assessment.recorded", obj=application,
                 organization_id=application.organization_id,
                 payload={"outcome": assessment.outcome, "passed": assessment.passed,
                          "impartiality_risk": risk})
    return assessment


@transaction.atomic
def register_application(*, application: Application, actor: User) -> Application:
    """Register the organization: a unique number, after a passed preliminary assessment."""
    ensure_reviewer(actor)
    application = locked(application)
    APPLICATION_LIFECYCLE.target("register", application.status)
    assessment = PreliminaryAssessment.objects.filter(application=application).first()
    if assessment is None:
        raise Conflict("Record the preliminary assessment before registering.")
    if not assessment.passed:
        raise Conflict("The preliminary assessment is not passed: "
                       + "; ".join(assessment.failed_checks()) + ".")
    year = timezone.localdate().year  # the CB's calendar year (settings.TIME_ZONE)
    sequence = next_value("registration", str(year))
    application.registration_number = settings.REGISTRATION_NUMBER_FORMAT.format(
        year=year, seq=sequence)
    application.registered_at = timezone.now()
    transition(application, "register", actor,
                {"registration_number": application.registration_number})
    notify(template="application_registered", to=client_recipients(application),
           context=mail_context(application,
                                 registration_number=application.registration_number))
    return application


@transaction.atomic
def decline_application(*, application: Application, actor: User, reason: str) -> Application:
    ensure_reviewer(actor)
    application = locked(application)
    APPLICATION_LIFECYCLE.target("decline", application.status)
    reason = required_text(reason, "reason", "Give the reason for declining.",
                            "The client is told this reason.")
    application.decline_reason = reason
    transition(application, "decline", actor, {"reason": reason})
    notify(template="application_declined", to=client_recipients(application),
           context=mail_context(application, reason=reason))
    return application


