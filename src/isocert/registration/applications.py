"""The client's side of an application for registration: drafting (with the checks of
every field), documents, submitting, answering the CB and withdrawing.

Lifecycle (``APPLICATION_LIFECYCLE``): draft → submitted → under review →
information requested ⇄ resubmitted → registered | declined; the client may
withdraw until a decision. Only owners and editors write; registered, declined and
withdrawn applications are final.
"""

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from isocert.accounts.models import User
from isocert.accounts.services import ensure_can_edit
from isocert.catalog.models import Standard
from isocert.core.audit import record_event
from isocert.core.errors import Conflict, InvalidInput
from isocert.core.files import check_upload, store_file
from isocert.core.validation import choice_error, clean_date, collect
from isocert.core.values import UNSET, given
from isocert.notifications.services import notify

from .common import (
    ensure_client_editor,
    ensure_editable,
    locked,
    mail_context,
    required_text,
    reviewer_recipients,
    transition,
)
from .models import (
    APPLICATION_LIFECYCLE,
    Application,
    ApplicationDocument,
    ApplicationMessage,
    ApplicationStandard,
)

COMPLEXITY_REQUIRED = {
    "ISO 14001": {"high", "medium", "low", "limited"},
    "ISO 45001": {"high", "medium", "low"},
}
TEXT_LIMITS = {
    "scope_statement": 5000, "consultancy_by": 200, "current_cb_name": 200,
    "current_certificate_number": 60, "current_accreditation_body": 200,
    "current_certificate_standard": 60, "current_certificate_scope": 5000,
    "current_open_nonconformities": 5000, "current_complaints": 5000,
}
CYCLE_STAGES = dict(Application._meta.get_field("current_cycle_stage").choices)


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
    if "current_cycle_stage" in data:
        stage = (data["current_cycle_stage"] or "").strip()
        if stage and stage not in CYCLE_STAGES:
            errors["current_cycle_stage"] = choice_error(list(CYCLE_STAGES.items()),
                                                         what="the stage of the current cycle")
        application.current_cycle_stage = stage
    for field in ("current_certificate_expiry", "current_cycle_decision_date",
                  "desired_audit_from", "desired_audit_to"):
        if field in data:
            setattr(application, field,
                    collect(errors, clean_date, data[field], field, required=False))
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
        # IAF MD 2 §2.2: what the accepting CB needs to review a transfer.
        if not application.current_certificate_expiry:
            problems["current_certificate_expiry"] = "Give the expiry of your current certificate."
        if not application.current_cycle_decision_date:
            problems["current_cycle_decision_date"] = (
                "Give the date of the decision that started your current cycle.")
        if not application.current_cycle_stage:
            problems["current_cycle_stage"] = "Say where you are in your current cycle."
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
        current_accreditation_body: str = UNSET, current_certificate_standard: str = UNSET,
        current_certificate_scope: str = UNSET,
        current_cycle_decision_date: datetime.date | str | None = UNSET,
        current_cycle_stage: str = UNSET, current_open_nonconformities: str = UNSET,
        current_complaints: str = UNSET,
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
        current_accreditation_body=current_accreditation_body,
        current_certificate_standard=current_certificate_standard,
        current_certificate_scope=current_certificate_scope,
        current_cycle_decision_date=current_cycle_decision_date,
        current_cycle_stage=current_cycle_stage,
        current_open_nonconformities=current_open_nonconformities,
        current_complaints=current_complaints,
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
        current_accreditation_body: str = UNSET, current_certificate_standard: str = UNSET,
        current_certificate_scope: str = UNSET,
        current_cycle_decision_date: datetime.date | str | None = UNSET,
        current_cycle_stage: str = UNSET, current_open_nonconformities: str = UNSET,
        current_complaints: str = UNSET,
        desired_audit_from: datetime.date | str | None = UNSET,
        desired_audit_to: datetime.date | str | None = UNSET, site_ids: Iterable[int] = UNSET,
        standards: Iterable[Mapping] = UNSET,
        actor: User) -> Application:
    """Save changes to a draft (or an application the CB asked to complete).

    ``expected_version`` guards against two people saving over each other.
    """
    ensure_client_editor(application, actor)
    application = locked(application)
    ensure_editable(application)
    if expected_version is not None and expected_version != application.version:
        raise Conflict("Someone else changed this application meanwhile; reload it and "
                       "apply your changes again.", fields={"version": "Stale version."})
    data = given(
        scope_statement=scope_statement, consultancy_used=consultancy_used,
        consultancy_by=consultancy_by, is_transfer=is_transfer, current_cb_name=current_cb_name,
        current_certificate_number=current_certificate_number,
        current_certificate_expiry=current_certificate_expiry,
        current_accreditation_body=current_accreditation_body,
        current_certificate_standard=current_certificate_standard,
        current_certificate_scope=current_certificate_scope,
        current_cycle_decision_date=current_cycle_decision_date,
        current_cycle_stage=current_cycle_stage,
        current_open_nonconformities=current_open_nonconformities,
        current_complaints=current_complaints,
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
    ensure_client_editor(application, actor)
    application = locked(application)
    ensure_editable(application)
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
    ensure_client_editor(document.application, actor)
    application = locked(document.application)
    ensure_editable(application)
    record_event(actor=actor, action="registration.document.removed", obj=document,
                 organization_id=application.organization_id,
                 payload={"application": application.pk, "name": document.original_name})
    document.delete()


@transaction.atomic
def submit_application(*, application: Application, actor: User) -> Application:
    """Send a complete draft to the CB; refuses while anything required is missing."""
    ensure_client_editor(application, actor)
    application = locked(application)
    APPLICATION_LIFECYCLE.target("submit", application.status)
    problems = completeness_problems(application)
    if problems:
        raise InvalidInput("The application is not complete yet.", fields=problems)
    application.submitted_at = timezone.now()
    transition(application, "submit", actor, {
        "standards": [str(line.standard) for line in application.standard_lines.all()],
    })
    notify(template="application_submitted", to=reviewer_recipients(application),
           context=mail_context(application))
    return application


@transaction.atomic
def resubmit_application(*, application: Application, actor: User, response: str) -> Application:
    """Answer the CB's request for information and send the application back."""
    ensure_client_editor(application, actor)
    application = locked(application)
    APPLICATION_LIFECYCLE.target("resubmit", application.status)
    response = required_text(response, "response", "Answer the reviewer's request.",
                              "Write your answer to the request.")
    problems = completeness_problems(application)
    if problems:
        raise InvalidInput("The application is not complete yet.", fields=problems)
    ApplicationMessage.objects.create(application=application, author=actor, text=response,
                                      kind=ApplicationMessage.Kind.RESPONSE)
    transition(application, "resubmit", actor, {"response": response})
    notify(template="application_resubmitted", to=reviewer_recipients(application),
           context=mail_context(application, message=response))
    return application


@transaction.atomic
def withdraw_application(*, application: Application, actor: User, reason: str = "") -> Application:
    """The client gives up the application; withdrawn is final."""
    ensure_client_editor(application, actor)
    application = locked(application)
    APPLICATION_LIFECYCLE.target("withdraw", application.status)
    application.withdraw_reason = (reason or "").strip()[:2000]
    transition(application, "withdraw", actor, {"reason": application.withdraw_reason})
    return application


