"""Every write on applications for registration, with its lifecycle guards.

Lifecycle (``APPLICATION_LIFECYCLE``): draft → submitted → under review →
information requested ⇄ resubmitted → registered | declined; the client may
withdraw until a decision. Only owners and editors write; only CB reviewers
review; registered, declined and withdrawn applications are final.
"""

import datetime
import hashlib
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import Membership, User
from isocert.accounts.permissions import can, member_emails, staff_emails
from isocert.accounts.services import ensure_can_edit
from isocert.catalog.audittime import ceil_half_day, load_tables, round_half_day
from isocert.catalog.models import Standard
from isocert.catalog.selectors import audit_time_stage1_share, estimate_audit_time
from isocert.core.audit import record_event
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.files import UploadCheck, check_upload, store_file
from isocert.core.sequences import next_value
from isocert.core.validation import choice_error
from isocert.core.values import UNSET, given
from isocert.notifications.services import notify

from .models import (
    APPLICATION_LIFECYCLE,
    QUOTATION_LIFECYCLE,
    Application,
    ApplicationDocument,
    ApplicationMessage,
    ApplicationStandard,
    AuditTimeDetermination,
    PreliminaryAssessment,
    Quotation,
)

COMPLEXITY_REQUIRED = {
    "ISO 14001": {"high", "medium", "low", "limited"},
    "ISO 45001": {"high", "medium", "low"},
}
TEXT_LIMITS = {
    "scope_statement": 5000, "consultancy_by": 200, "current_cb_name": 200,
    "current_certificate_number": 60,
}


# --- guards ------------------------------------------------------------------------------------

def _ensure_client_editor(application: Application, actor: User) -> None:
    ensure_can_edit(application.organization, actor)


def _ensure_reviewer(actor: User) -> None:
    if not can(actor, "review_applications"):
        raise NotPermitted("Only a CB application reviewer can do this.")


def _ensure_editable(application: Application) -> None:
    if not application.client_can_edit:
        raise Conflict(
            f"This application is {application.get_status_display().lower()} and cannot be "
            "changed now." + (" It is read-only once registered." if
                             application.status == Application.Status.REGISTERED else "")
        )


def _required_text(value, field: str, message: str, hint: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(message, fields={field: hint})
    return text


def _transition(application: Application, action: str, actor: User, payload: dict | None = None):
    """Move to the next state, bump the version and write the audit event."""
    old = application.status
    APPLICATION_LIFECYCLE.apply(application, action)
    application.version += 1
    application.save()
    record_event(
        actor=actor, action=f"registration.application.{application.status}", obj=application,
        organization_id=application.organization_id,
        payload={"from": old, "to": application.status, **(payload or {})},
    )


def _locked(application: Application) -> Application:
    """Re-read the application under a row lock so two actors can't race a transition."""
    return Application.objects.select_for_update().get(pk=application.pk)


# --- input cleaning -------------------------------------------------------------------------------

def _decimal(value, field: str, errors: dict, *, label: str, allow_zero=False) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
        if not number.is_finite() or number < 0 or (number == 0 and not allow_zero):
            raise InvalidOperation
        if number > Decimal("999999999"):
            raise InvalidOperation
        return number
    except (InvalidOperation, ValueError):
        errors[field] = f"{label} must be a number{'' if allow_zero else ' above 0'}."
        return None


def _count(value, field: str, errors: dict, *, label: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
        if number < 1 or number > 1000:
            raise ValueError
        return number
    except (TypeError, ValueError):
        errors[field] = f"{label} must be a whole number from 1 to 1000."
        return None


def _date(value, field: str, errors: dict) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        errors[field] = "Enter a date as YYYY-MM-DD."
        return None


def _clean_standards(lines, errors: dict) -> list[dict]:
    cleaned = []
    seen = set()
    if not isinstance(lines, list):
        errors["standards"] = "Give a list of standards."
        return cleaned
    for index, line in enumerate(lines):
        prefix = f"standards.{index}."
        if not isinstance(line, dict):
            errors[prefix + "standard"] = "Give each standard as an object with its code."
            continue
        code = str(line.get("standard") or "").strip()
        standard = Standard.objects.filter(code=code, is_current=True).first()
        if standard is None:
            errors[prefix + "standard"] = f"Unknown standard {code!r}."
            continue
        if standard.pk in seen:
            errors[prefix + "standard"] = f"{code} is listed twice."
            continue
        seen.add(standard.pk)
        complexity = str(line.get("complexity") or "").strip().lower()
        allowed = COMPLEXITY_REQUIRED.get(code)
        if complexity and (allowed is None or complexity not in allowed):
            errors[prefix + "complexity"] = (
                choice_error([(value, label) for value, label
                              in ApplicationStandard.Complexity.choices if value in allowed],
                             what=f"the complexity category for {code}")
                if allowed else f"{code} has no complexity category."
            )
        cleaned.append({
            "standard": standard,
            "effective_personnel": _decimal(line.get("effective_personnel"),
                                            prefix + "effective_personnel", errors,
                                            label="Effective personnel"),
            "complexity": complexity if allowed else "",
            "annual_energy_consumption_tj": _decimal(
                line.get("annual_energy_consumption_tj"), prefix + "annual_energy_consumption_tj",
                errors, label="Annual energy consumption", allow_zero=False)
            if standard.is_energy else None,
            "energy_types": _count(line.get("energy_types"), prefix + "energy_types", errors,
                                   label="Number of energy types") if standard.is_energy else None,
            "significant_energy_uses": _count(
                line.get("significant_energy_uses"), prefix + "significant_energy_uses", errors,
                label="Number of significant energy uses") if standard.is_energy else None,
        })
    return cleaned


def _apply_changes(application: Application, data: dict) -> None:
    """Validate field formats and apply them; a draft may still be incomplete."""
    errors: dict[str, str] = {}
    for field, limit in TEXT_LIMITS.items():
        if field in data:
            text = (data[field] or "").strip()
            if len(text) > limit:
                errors[field] = f"At most {limit} characters."
            setattr(application, field, text)
    for field in ("consultancy_used", "is_transfer"):
        if field in data:
            setattr(application, field, bool(data[field]))
    for field in ("current_certificate_expiry", "desired_audit_from", "desired_audit_to"):
        if field in data:
            setattr(application, field, _date(data[field], field, errors))
    if (application.desired_audit_from and application.desired_audit_to
            and application.desired_audit_to < application.desired_audit_from):
        errors["desired_audit_to"] = "The end of the desired audit period is before its start."
    site_ids = None
    if "site_ids" in data:
        site_ids = {int(s) for s in data["site_ids"] or [] if str(s).isdigit()}
        own = set(application.organization.sites.filter(pk__in=site_ids).values_list("pk", flat=True))
        if own != site_ids or len(site_ids) != len(data["site_ids"] or []):
            errors["site_ids"] = "Choose sites of this organization."
    lines = _clean_standards(data["standards"], errors) if "standards" in data else None
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", fields=errors)
    application.save()
    if site_ids is not None:
        application.sites.set(site_ids)
    if lines is not None:
        keep = [line["standard"].pk for line in lines]
        application.standard_lines.exclude(standard_id__in=keep).delete()
        for line in lines:
            standard = line.pop("standard")
            ApplicationStandard.objects.update_or_create(
                application=application, standard=standard, defaults=line
            )


def completeness_problems(application: Application) -> dict[str, str]:
    """What still has to be filled in before the application can be submitted."""
    problems: dict[str, str] = {}
    organization = application.organization
    if not application.scope_statement.strip():
        problems["scope_statement"] = "Describe the scope to be certified."
    if not organization.sectors.exists():
        problems["sector_codes"] = "Give the organization's IAF sector codes in its profile."
    sites = list(application.sites.all())
    if not sites:
        problems["site_ids"] = "Choose the sites the certification should cover."
    elif not any(site.is_central_function for site in sites):
        problems["site_ids"] = "Include the central function among the sites."
    lines = list(application.standard_lines.select_related("standard"))
    if not lines:
        problems["standards"] = "Choose at least one standard."
    for index, line in enumerate(lines):
        prefix = f"standards.{index}."
        code = line.standard.code
        if line.effective_personnel is None:
            problems[prefix + "effective_personnel"] = f"Give the effective personnel for {code}."
        if code in COMPLEXITY_REQUIRED and not line.complexity:
            problems[prefix + "complexity"] = f"Choose the complexity category for {code}."
        if line.standard.is_energy:
            for field, label in (("annual_energy_consumption_tj", "annual energy consumption (TJ)"),
                                 ("energy_types", "number of energy types"),
                                 ("significant_energy_uses", "number of significant energy uses")):
                if getattr(line, field) is None:
                    problems[prefix + field] = f"Give the {label} for ISO 50001."
    problems.update(entry_problems(application))
    if not application.desired_audit_from:
        problems["desired_audit_from"] = "Give the start of the desired audit period."
    return problems


def entry_problems(application: Application) -> dict[str, str]:
    """What was entered but cannot be submitted as it is — a box ticked without the detail it
    asks for, a desired audit period starting in the past — unlike what is simply not filled
    in yet. The application form shows these on the step that has the field as soon as the
    draft is saved; submitting refuses them like every completeness problem. The draft is
    still saved: drafts are kept at every step, and a date valid today may be past by the
    time the client submits, so the binding check stays at submission."""
    problems: dict[str, str] = {}
    if application.consultancy_used and not application.consultancy_by.strip():
        # ISO/IEC 17021-1 5.2 (rules: impartiality): the CB checks who consulted the client.
        problems["consultancy_by"] = "Name who gave the management-system consultancy."
    if application.is_transfer:
        if not application.current_cb_name:
            problems["current_cb_name"] = "Name the certification body you are certified by."
        if not application.current_certificate_number:
            problems["current_certificate_number"] = "Give your current certificate number."
    if application.desired_audit_from and application.desired_audit_from < timezone.localdate():
        problems["desired_audit_from"] = "The desired audit period cannot start in the past."
    return problems


# --- client actions -----------------------------------------------------------------------------

@transaction.atomic
def create_application(
        *, organization, scope_statement: str = UNSET, consultancy_used: bool = UNSET,
        consultancy_by: str = UNSET, is_transfer: bool = UNSET, current_cb_name: str = UNSET,
        current_certificate_number: str = UNSET,
        current_certificate_expiry: datetime.date | str | None = UNSET,
        desired_audit_from: datetime.date | str | None = UNSET,
        desired_audit_to: datetime.date | str | None = UNSET, site_ids: Iterable[int] = UNSET,
        standards: Iterable[Mapping] = UNSET,
        actor: User) -> Application:
    """Start a draft application; sites default to all the organization's sites."""
    ensure_can_edit(organization, actor)
    application = Application.objects.create(
        organization=organization, created_by=actor,
        scope_statement=organization.scope_statement,
    )
    application.sites.set(organization.sites.all())
    data = given(
        scope_statement=scope_statement, consultancy_used=consultancy_used,
        consultancy_by=consultancy_by, is_transfer=is_transfer, current_cb_name=current_cb_name,
        current_certificate_number=current_certificate_number,
        current_certificate_expiry=current_certificate_expiry,
        desired_audit_from=desired_audit_from, desired_audit_to=desired_audit_to,
        site_ids=site_ids, standards=standards)
    if data:
        _apply_changes(application, data)
    record_event(actor=actor, action="registration.application.created", obj=application,
                 organization_id=organization.pk,
                 payload={"standards": [str(line.standard) for line in application.standard_lines.all()]})
    return application


@transaction.atomic
def update_application(
        *, application: Application, expected_version: int | None = None, scope_statement: str = UNSET, consultancy_used: bool = UNSET,
        consultancy_by: str = UNSET, is_transfer: bool = UNSET, current_cb_name: str = UNSET,
        current_certificate_number: str = UNSET,
        current_certificate_expiry: datetime.date | str | None = UNSET,
        desired_audit_from: datetime.date | str | None = UNSET,
        desired_audit_to: datetime.date | str | None = UNSET, site_ids: Iterable[int] = UNSET,
        standards: Iterable[Mapping] = UNSET,
        actor: User) -> Application:
    """Save changes to a draft (or an application the CB asked to complete).

    ``expected_version`` guards against two people saving over each other.
    """
    _ensure_client_editor(application, actor)
    application = _locked(application)
    _ensure_editable(application)
    if expected_version is not None and expected_version != application.version:
        raise Conflict("Someone else changed this application meanwhile; reload it and "
                       "apply your changes again.", fields={"version": "Stale version."})
    data = given(
        scope_statement=scope_statement, consultancy_used=consultancy_used,
        consultancy_by=consultancy_by, is_transfer=is_transfer, current_cb_name=current_cb_name,
        current_certificate_number=current_certificate_number,
        current_certificate_expiry=current_certificate_expiry,
        desired_audit_from=desired_audit_from, desired_audit_to=desired_audit_to,
        site_ids=site_ids, standards=standards)
    _apply_changes(application, data)
    application.version += 1
    application.save(update_fields=["version", "updated_at"])
    record_event(actor=actor, action="registration.application.updated", obj=application,
                 organization_id=application.organization_id,
                 payload={"changed": sorted(k for k in data if k != "version")})
    return application


@transaction.atomic
def add_application_document(*, application: Application, actor: User, upload, kind: str,
                             description: str = "") -> ApplicationDocument:
    _ensure_client_editor(application, actor)
    application = _locked(application)
    _ensure_editable(application)
    if kind not in ApplicationDocument.Kind.values:
        raise InvalidInput("Choose what kind of document this is.", fields={"kind": "Unknown kind."})
    checked = check_upload(upload)
    stored = store_file(checked)
    name = (getattr(upload, "name", "") or "document").rsplit("/", 1)[-1][:255]
    document = ApplicationDocument.objects.create(
        application=application, file=stored, kind=kind, original_name=name,
        description=(description or "").strip()[:255], uploaded_by=actor,
    )
    record_event(actor=actor, action="registration.document.added", obj=document,
                 organization_id=application.organization_id,
                 payload={"application": application.pk, "name": name, "kind": kind,
                          "sha256": stored.sha256, "size": stored.size})
    return document


@transaction.atomic
def remove_application_document(*, document: ApplicationDocument, actor: User) -> None:
    _ensure_client_editor(document.application, actor)
    application = _locked(document.application)
    _ensure_editable(application)
    record_event(actor=actor, action="registration.document.removed", obj=document,
                 organization_id=application.organization_id,
                 payload={"application": application.pk, "name": document.original_name})
    document.delete()


def _client_recipients(application: Application) -> list[str]:
    return member_emails(application.organization_id, "receive_mail")


def _reviewer_recipients(application: Application) -> list[str]:
    """The assigned reviewer, else every CB reviewer (someone has to pick it up)."""
    if application.reviewer_id:
        return [application.reviewer.email]
    return staff_emails("review_applications")


def _mail_context(application: Application, **extra) -> dict:
    return {
        "reference": application.reference,
        "organization": str(application.organization),
        "standards": ", ".join(str(line.standard) for line in application.standard_lines.all()),
        "path": reverse("application_detail", args=[application.pk]),
        **extra,
    }


@transaction.atomic
def submit_application(*, application: Application, actor: User) -> Application:
    """Send a complete draft to the CB; refuses while anything required is missing."""
    _ensure_client_editor(application, actor)
    application = _locked(application)
    APPLICATION_LIFECYCLE.target("submit", application.status)
    problems = completeness_problems(application)
    if problems:
        raise InvalidInput("The application is not complete yet.", fields=problems)
    application.submitted_at = timezone.now()
    _transition(application, "submit", actor, {
        "standards": [str(line.standard) for line in application.standard_lines.all()],
    })
    notify(template="application_submitted", to=_reviewer_recipients(application),
           context=_mail_context(application))
    return application


@transaction.atomic
def resubmit_application(*, application: Application, actor: User, response: str) -> Application:
    """Answer the CB's request for information and send the application back."""
    _ensure_client_editor(application, actor)
    application = _locked(application)
    APPLICATION_LIFECYCLE.target("resubmit", application.status)
    response = _required_text(response, "response", "Answer the reviewer's request.",
                              "Write your answer to the request.")
    problems = completeness_problems(application)
    if problems:
        raise InvalidInput("The application is not complete yet.", fields=problems)
    ApplicationMessage.objects.create(application=application, author=actor, text=response,
                                      kind=ApplicationMessage.Kind.RESPONSE)
    _transition(application, "resubmit", actor, {"response": response})
    notify(template="application_resubmitted", to=_reviewer_recipients(application),
           context=_mail_context(application, message=response))
    return application


@transaction.atomic
def withdraw_application(*, application: Application, actor: User, reason: str = "") -> Application:
    """The client gives up the application; withdrawn is final."""
    _ensure_client_editor(application, actor)
    application = _locked(application)
    APPLICATION_LIFECYCLE.target("withdraw", application.status)
    application.withdraw_reason = (reason or "").strip()[:2000]
    _transition(application, "withdraw", actor, {"reason": application.withdraw_reason})
    return application


# --- reviewer actions --------------------------------------------------------------------------

@transaction.atomic
def start_review(*, application: Application, actor: User) -> Application:
    _ensure_reviewer(actor)
    application = _locked(application)
    APPLICATION_LIFECYCLE.target("start_review", application.status)
    application.reviewer = actor
    _transition(application, "start_review", actor, {"reviewer": actor.email})
    return application


@transaction.atomic
def request_information(*, application: Application, actor: User, message: str) -> Application:
    _ensure_reviewer(actor)
    application = _locked(application)
    APPLICATION_LIFECYCLE.target("request_information", application.status)
    message = _required_text(message, "message", "Say what information is needed.",
                             "Describe the information you need.")
    ApplicationMessage.objects.create(application=application, author=actor, text=message,
                                      kind=ApplicationMessage.Kind.INFORMATION_REQUEST)
    _transition(application, "request_information", actor, {"message": message})
    notify(template="information_requested", to=_client_recipients(application),
           context=_mail_context(application, message=message))
    return application


@transaction.atomic
def record_preliminary_assessment(
        *, application: Application, documents_reviewed: bool = False, scope_clear: bool = False,
        sites_personnel_plausible: bool = False, cb_competent: bool = False,
        impartiality_risk: str = PreliminaryAssessment.ImpartialityRisk.NONE, notes: str = "",
        actor: User) -> PreliminaryAssessment:
    """Record the reviewer's readiness checklist while the application is under review."""
    _ensure_reviewer(actor)
    application = _locked(application)
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
    _ensure_reviewer(actor)
    application = _locked(application)
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
    _transition(application, "register", actor,
                {"registration_number": application.registration_number})
    notify(template="application_registered", to=_client_recipients(application),
           context=_mail_context(application,
                                 registration_number=application.registration_number))
    return application


@transaction.atomic
def decline_application(*, application: Application, actor: User, reason: str) -> Application:
    _ensure_reviewer(actor)
    application = _locked(application)
    APPLICATION_LIFECYCLE.target("decline", application.status)
    reason = _required_text(reason, "reason", "Give the reason for declining.",
                            "The client is told this reason.")
    application.decline_reason = reason
    _transition(application, "decline", actor, {"reason": reason})
    notify(template="application_declined", to=_client_recipients(application),
           context=_mail_context(application, reason=reason))
    return application


# --- audit time and quotation ----------------------------------------------------------------

def audit_time_inputs(application: Application, *, adjustments: list, sampling_allowed: bool,
                      integration_reduction_percent=0) -> dict:
    """The audit-time engine's input built from the application's own data."""
    lines = list(application.standard_lines.select_related("standard"))
    standards = []
    for line in lines:
        entry = {"code": line.standard.code,
                 "effective_personnel": str(line.effective_personnel or "")}
        if line.complexity:
            entry["complexity"] = line.complexity
        if line.standard.is_energy:
            entry.update(annual_energy_consumption_tj=str(line.annual_energy_consumption_tj or ""),
                         energy_types=line.energy_types,
                         significant_energy_uses=line.significant_energy_uses)
        standards.append(entry)
    other_sites = sum(1 for site in application.sites.all() if not site.is_central_function)
    data = {"standards": standards, "adjustments": adjustments,
            "sites": {"count": other_sites, "sampling_allowed": bool(sampling_allowed)}}
    if len(standards) > 1:
        data["integration_reduction_percent"] = integration_reduction_percent or 0
    return data


def _half_days(value, field: str) -> Decimal:
    try:
        days = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput("Days must be a number.", fields={field: "Enter days, e.g. 4.5."})
    if not days.is_finite() or days <= 0 or days > 999 or (days * 2) % 1 != 0:
        raise InvalidInput("Days are counted in half days.",
                           fields={field: "Enter a positive number of half days, e.g. 4.5."})
    return days


def _final_figures(computed: dict, overrides: dict) -> dict[str, Decimal | None]:
    """The applying figures: the computed ones, or the reviewer's, with derived ones following.

    A changed initial time carries stage 1 and 2, surveillance, recertification and
    the minimum on-site time along, unless those were overridden themselves.
    """
    from fractions import Fraction

    def days(value) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    def rounded(fraction: Fraction, rounding=round_half_day) -> Decimal:
        value = rounding(fraction)
        return Decimal(value.numerator) / Decimal(value.denominator)

    initial = overrides.get("initial_days", {}).get("value", computed.get("initial_days"))
    initial = days(initial)
    if initial is None:
        return dict.fromkeys(AuditTimeDetermination.FIGURES)
    exact = Fraction(initial)
    changed_initial = "initial_days" in overrides
    result = {"initial_days": initial}
    derived = {
        "stage1_days": lambda: rounded(exact * audit_time_stage1_share()),
        "surveillance_days": lambda: rounded(exact / 3),
        "recertification_days": lambda: rounded(exact * 2 / 3),
        # Not less than 80 % of the audit time (IAF MD 5 / IAF MD 11): rounded up, as the
        # engine does, so a hand-set initial time never yields an on-site time below it.
        "min_onsite_days": lambda: rounded(exact * load_tables()["min_onsite_share"],
                                           ceil_half_day),
    }
    for key, derive in derived.items():
        if key in overrides:
            result[key] = days(overrides[key]["value"])
        elif changed_initial or computed.get(key) is None:
            result[key] = derive()
        else:
            result[key] = days(computed[key])
    if result["stage1_days"] >= initial:
        raise InvalidInput("Stage 1 must be shorter than the initial audit time.",
                           fields={"overrides.stage1_days.value":
                                   f"Less than the {initial} initial days."})
    result["stage2_days"] = initial - result["stage1_days"]
    too_small = [AuditTimeDetermination.FIGURES[key] for key, value in result.items()
                 if value is not None and value <= 0]
    if too_small:
        raise InvalidInput("Every audit needs at least half a day.",
                           fields={"overrides.initial_days.value":
                                   f"Too small: {', '.join(too_small).lower()} would be 0 days."})
    return result


def _has_accepted_quotation(application: Application) -> bool:
    return application.quotations.filter(status=Quotation.Status.ACCEPTED).exists()


@transaction.atomic
def determine_audit_time(*, application: Application, actor: User, adjustments=(),
                         integration_reduction_percent=0, sampling_allowed: bool = False,
                         overrides: dict | None = None) -> AuditTimeDetermination:
    """Fix the audit time from the application's data and the reviewer's factors.

    Any figure may be overridden only with a written justification; both the
    computed and the applying figures are kept and audit-trailed. Fixed once the
    client has accepted a quotation (it is the contract).
    """
    _ensure_reviewer(actor)
    application = _locked(application)
    if application.status not in (Application.Status.UNDER_REVIEW, Application.Status.REGISTERED):
        raise Conflict("Audit time is determined while the application is under review or "
                       "registered.")
    if _has_accepted_quotation(application):
        raise Conflict("The client accepted a quotation: the audit time is part of the contract.")
    clean_overrides = {}
    for key, entry in (overrides or {}).items():
        if key not in AuditTimeDetermination.OVERRIDABLE:
            raise InvalidInput("This figure cannot be overridden.",
                               fields={f"overrides.{key}": "Override the initial, stage 1, "
                                       "surveillance or recertification days."})
        if entry is None or entry.get("value") in (None, ""):
            continue
        value = _half_days(entry.get("value"), f"overrides.{key}.value")
        justification = (entry.get("justification") or "").strip()
        if len(justification) < 10:
            raise InvalidInput("Justify every figure you change.",
                               fields={f"overrides.{key}.justification":
                                       "Explain why (at least 10 characters)."})
        clean_overrides[key] = {"value": float(value), "justification": justification[:2000]}
    inputs = audit_time_inputs(application, adjustments=list(adjustments),
                               sampling_allowed=sampling_allowed,
                               integration_reduction_percent=integration_reduction_percent)
    computed = estimate_audit_time(inputs)
    figures = _final_figures(computed, clean_overrides)
    determination, _ = AuditTimeDetermination.objects.update_or_create(
        application=application,
        defaults={"inputs": inputs, "computed": computed, "overrides": clean_overrides,
                  "determined_by": actor, **figures},
    )
    record_event(actor=actor, action="registration.audit_time.determined", obj=application,
                 organization_id=application.organization_id, payload={
                     "figures": {k: (str(v) if v is not None else None) for k, v in figures.items()},
                     "overrides": clean_overrides,
                     "net_adjustment_percent": computed.get("net_adjustment_percent"),
                     "needs_configuration": computed.get("needs_configuration", []),
                 })
    return determination


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@transaction.atomic
def issue_quotation(*, application: Application, actor: User) -> Quotation:
    """Price the certification cycle from the determined audit time and send it.

    Stage 1, stage 2 and the two surveillance audits of the three-year cycle at the
    CB's day rate; an earlier quotation not yet accepted is superseded.
    """
    _ensure_reviewer(actor)
    application = _locked(application)
    if application.status != Application.Status.REGISTERED:
        raise Conflict("A quotation is issued once the application is registered.")
    if _has_accepted_quotation(application):
        raise Conflict("The client already accepted a quotation for this application.")
    determination = AuditTimeDetermination.objects.filter(application=application).first()
    if determination is None or not determination.is_complete:
        raise Conflict("Determine the audit time first; where the engine has no figure "
                       "(ISO 50001 without the CB's ISO 50003 table) enter the initial days "
                       "by hand with a justification.")
    rate = settings.QUOTATION_DAY_RATE
    audits = [("Stage 1 audit", determination.stage1_days),
              ("Stage 2 audit", determination.stage2_days),
              ("Surveillance audit 1 (year 2)", determination.surveillance_days),
              ("Surveillance audit 2 (year 3)", determination.surveillance_days)]
    lines = [{"label": label, "days": str(days), "amount": str(_money(days * rate))}
             for label, days in audits]
    net = sum((Decimal(line["amount"]) for line in lines), Decimal("0"))
    vat = _money(net * settings.QUOTATION_VAT_PERCENT / 100)
    supersede = QUOTATION_LIFECYCLE.transitions["supersede"]
    application.quotations.filter(status__in=supersede.sources).update(status=supersede.target)
    year = timezone.localdate().year
    quotation = Quotation.objects.create(
        application=application,
        number=settings.QUOTATION_NUMBER_FORMAT.format(year=year,
                                                       seq=next_value("quotation", str(year))),
        currency=settings.QUOTATION_CURRENCY, day_rate=rate,
        vat_percent=settings.QUOTATION_VAT_PERCENT, lines=lines, net_amount=_money(net),
        vat_amount=vat, total_amount=_money(net + vat),
        audit_time={
            "figures": {f["key"]: str(f["days"]) for f in determination.figures()},
            "rows": [{"label": f["label"], "days": str(f["days"]),
                      "basis": (f"Set by the CB: {f['override']['justification']}"
                                if f["override"] else "Calculated (see the explanation below)")}
                     for f in determination.figures()],
            "overrides": determination.overrides,
            "explanation": determination.computed.get("explanation", []),
            "standards": determination.computed.get("standards", []),
            "sites_to_visit": determination.computed.get("sites_to_visit"),
            "needs_configuration": determination.computed.get("needs_configuration", []),
        },
        valid_until=timezone.localdate() + datetime.timedelta(
            days=settings.QUOTATION_VALIDITY_DAYS),
        issued_by=actor,
    )
    record_event(actor=actor, action="registration.quotation.issued", obj=quotation,
                 organization_id=application.organization_id,
                 payload={"application": application.pk, "number": quotation.number,
                          "total": str(quotation.total_amount), "currency": quotation.currency})
    _render_pdf_after_commit(quotation)
    notify(template="quotation_issued", to=_client_recipients(application),
           context=_mail_context(application, number=quotation.number,
                                 total=f"{quotation.total_amount} {quotation.currency}",
                                 valid_until=quotation.valid_until.isoformat()))
    return quotation


@transaction.atomic
def accept_quotation(*, quotation: Quotation, actor: User) -> Quotation:
    """The client's owner accepts the quotation online: it becomes the contract."""
    application = quotation.application
    membership = Membership.objects.filter(organization_id=application.organization_id,
                                           user=actor).first()
    if membership is None or membership.role != Membership.Role.OWNER:
        raise NotPermitted("Only an owner of the organization can accept a quotation.")
    quotation = Quotation.objects.select_for_update().get(pk=quotation.pk)
    if quotation.status != Quotation.Status.SENT:
        raise Conflict(f"This quotation is {quotation.get_status_display().lower()}; "
                       "only the current quotation can be accepted.")
    if quotation.is_expired:
        raise Conflict(f"This quotation expired on {quotation.valid_until}; ask the CB for a "
                       "new one.")
    QUOTATION_LIFECYCLE.apply(quotation, "accept")
    quotation.accepted_by = actor
    quotation.accepted_at = timezone.now()
    quotation.save(update_fields=["status", "accepted_by", "accepted_at"])
    record_event(actor=actor, action="registration.quotation.accepted", obj=quotation,
                 organization_id=application.organization_id,
                 payload={"application": application.pk, "number": quotation.number,
                          "total": str(quotation.total_amount), "currency": quotation.currency})
    _render_pdf_after_commit(quotation)
    notify(template="quotation_accepted", to=_reviewer_recipients(application),
           context=_mail_context(application, number=quotation.number))
    return quotation


def _render_pdf_after_commit(quotation: Quotation) -> None:
    from .tasks import render_quotation_pdf

    transaction.on_commit(partial(render_quotation_pdf.enqueue, quotation_id=quotation.pk))


def render_quotation_pdf_file(*, quotation: Quotation) -> Quotation:
    """Render the quotation (with the audit-time justification) to PDF and store it."""
    from weasyprint import HTML

    html = render_to_string("registration/quotation_pdf.html", {
        "quotation": quotation, "application": quotation.application,
        "organization": quotation.application.organization,
        "CB_NAME": settings.CB_NAME, "CB_ADDRESS": settings.CB_ADDRESS,
    })
    data = HTML(string=html, base_url=settings.SITE_URL).write_pdf()
    stored = store_file(UploadCheck(data=data, content_type="application/pdf",
                                    sha256=hashlib.sha256(data).hexdigest()))
    Quotation.objects.filter(pk=quotation.pk).update(pdf=stored)
    quotation.pdf = stored
    return quotation
