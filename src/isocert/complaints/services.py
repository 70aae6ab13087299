"""Complaints (ISO/IEC 17021-1 §9.8): every write, each atomic with its audit event.

The process is the clause's: receipt and acknowledgment (§9.8.5), validation — does it
relate to the CB's certification activities or to a certified client, whom the CB then
tells (§9.8.2, §9.8.4) — investigation by a person not involved, decision made or
reviewed and approved by a person not involved (§9.8.6), formal notice of progress and
outcome to the complainant (§9.8.5, §9.8.7), and the end of the process (§9.8.7).
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import User
from isocert.accounts.permissions import can, can_in, member_emails, staff_emails
from isocert.audits.models import Audit
from isocert.audits.programme.cycles import add_special_audit
from isocert.certification.lifecycle import suspend_certificate
from isocert.certification.models import Certificate
from isocert.core.dates import display_date
from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.validation import clean_reason
from isocert.notifications.services import notify

from .common import checked_attachments, new_reference, record_step, store_attachments
from .involvement import ensure_not_involved, involvement
from .models import (
    COMPLAINT_HANDLING,
    COMPLAINT_LIFECYCLE,
    Complaint,
    ComplaintAttachment,
    ComplaintMessage,
)

C = Complaint
REFERENCE_FORMAT = "CMP-{year}-{seq:06d}"   # the public contract's reference


# --- small helpers -----------------------------------------------------------------------------

def _text(value, field: str, *, limit: int, what: str, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"Please give {what}.", fields={field: f"Give {what}."})
    if len(text) > limit:
        raise InvalidInput(f"{what.capitalize()} is too long.",
                           fields={field: f"At most {limit} characters."})
    return text


def ensure_handler(actor: User) -> None:
    if not can(actor, "handle_complaints"):
        raise NotPermitted("Only CB staff who handle complaints can do this.")


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().get(pk=complaint.pk)




def _message(complaint: Complaint, kind: str, text: str, author: User | None) -> None:
    ComplaintMessage.objects.create(complaint=complaint, kind=kind, text=text, author=author)


def _mail_complainant(complaint: Complaint, template: str, text: str = "") -> None:
    notify(template=template, to=[complaint.email], context={
        "reference": complaint.reference, "name": complaint.name,
        "subject": complaint.subject, "text": text})


def involved_people(complaint: Complaint) -> dict[int, str]:
    """Who took part in what the complaint is about: the team members of the audits
    concerned (without a choice, every audit of the certificate's cycle), the decision
    makers and the application reviewer of those cycles."""
    audits = list(complaint.audits.select_related("cycle"))
    cycles = {audit.cycle for audit in audits}
    certificate = complaint.certificate
    if certificate is not None and certificate.cycle_id:
        cycles.add(certificate.cycle)
        if not audits:
            audits = list(Audit.objects.filter(cycle=certificate.cycle))
    return involvement(audits=audits, cycles=list(cycles))


# --- the public side -----------------------------------------------------------------------------

@transaction.atomic
def lodge_complaint(*, name: str, email: str, subject: str, description: str,
                    organization_name: str = "", certificate_number: str = "",
                    attachments: list | None = None, actor: User | None = None) -> Complaint:
    """Receive a complaint from anyone (§9.8.1: the process is publicly available).

    Gets the next ``CMP-YYYY-NNNNNN`` reference; a certificate number that matches an
    issued certificate links the complaint to it and its organization (the CB confirms
    when it classifies). The CB's complaint handlers are told. Refused (422, naming the
    field): a missing name, e-mail, subject or description, an e-mail address that is not
    one, too long a text, more than ``MAX_ATTACHMENTS`` files or a file the upload checks
    refuse (``core.files``).
    """
    name = _text(name, "name", limit=150, what="your name")
    email = _text(email, "email", limit=254, what="your e-mail address")
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("Please give a valid e-mail address.",
                           fields={"email": "Enter a valid e-mail address."})
    subject = _text(subject, "subject", limit=200, what="a subject")
    description = _text(description, "description", limit=10000,
                        what="a description of the complaint")
    organization_name = _text(organization_name, "organization_name", limit=200,
                              what="the organization's name", required=False)
    certificate_number = _text(certificate_number, "certificate_number", limit=60,
                               what="the certificate number", required=False)
    checked = checked_attachments(attachments)
    certificate = (Certificate.objects.filter(number=certificate_number).first()
                   if certificate_number else None)
    today = timezone.localdate()
    complaint = Complaint.objects.create(
        reference=new_reference(REFERENCE_FORMAT, "complaint", today),
        name=name, email=email, organization_name=organization_name,
        certificate_number=certificate_number, subject=subject, description=description,
        certificate=certificate,
        organization_id=certificate.organization_id if certificate else None)
    store_attachments(ComplaintAttachment, checked, complaint=complaint)
    record_step(actor, "complaint", "received", complaint,
                {"attachments": len(checked), "certificate": certificate_number})
    notify(template="complaint_received", to=staff_emails("handle_complaints"), context={
        "reference": complaint.reference, "subject": subject,
        "path": reverse("complaint_detail", args=[complaint.pk])})
    return complaint


# --- the CB's handling ---------------------------------------------------------------------------

@transaction.atomic
def acknowledge_complaint(*, complaint: Complaint, actor: User) -> Complaint:
    """Acknowledge receipt (§9.8.5): the complainant gets an e-mail with the reference."""
    ensure_handler(actor)
    complaint = _locked(complaint)
    COMPLAINT_LIFECYCLE.apply(complaint, "acknowledge")
    complaint.acknowledged_at = timezone.now()
    complaint.save()
    _message(complaint, ComplaintMessage.Kind.ACKNOWLEDGMENT,
             f"Complaint {complaint.reference} received and acknowledged.", actor)
    record_step(actor, "complaint", "acknowledged", complaint)
    _mail_complainant(complaint, "complaint_acknowledged")
    return complaint


@transaction.atomic
def classify_complaint(*, complaint: Complaint, actor: User, relates_to: str,
                       certificate: Certificate | None = None, audits: list[Audit] | None = None,
                       notes: str = "") -> Complaint:
    """Decide what the complaint relates to (§9.8.2): the CB's certification activities,
    or a certified client — then it is linked to the client's certificate and the client's
    members are told, and may respond (§9.8.4). ``audits`` are the audits complained
    about (their teams may not investigate or decide). Refused: an unknown choice; a
    complaint about a certified client without its certificate."""
    ensure_handler(actor)
    if relates_to not in C.Relates.values:
        raise InvalidInput("Choose what the complaint relates to.", fields={
            "relates_to": "The CB's certification activities or a certified client."})
    if relates_to == C.Relates.CERTIFIED_CLIENT and certificate is None:
        raise InvalidInput("A complaint about a certified client is linked to its "
                           "certificate.", fields={"certificate_id": "Choose the certificate."})
    notes = _text(notes, "notes", limit=5000, what="notes", required=False)
    complaint = _locked(complaint)
    COMPLAINT_LIFECYCLE.apply(complaint, "classify")
    complaint.relates_to = relates_to
    complaint.classification_notes = notes
    if certificate is not None:
        complaint.certificate = certificate
        complaint.organization_id = certificate.organization_id
    if relates_to == C.Relates.CERTIFIED_CLIENT:
        complaint.client_notified_at = timezone.now()
    complaint.save()
    complaint.audits.set(audits or [])
    if relates_to == C.Relates.CERTIFIED_CLIENT:
        _message(complaint, ComplaintMessage.Kind.CLIENT_NOTICE,
                 f"The client was told of complaint {complaint.reference} "
                 f"about certificate {certificate.number}.", actor)
        notify(template="complaint_client_notice",
               to=member_emails(complaint.organization_id), context={
                   "reference": complaint.reference, "subject": complaint.subject,
                   "certificate": certificate.number,
                   "path": reverse("complaint_client", args=[complaint.pk])})
    record_step(actor, "complaint", "classified", complaint, {
        "relates_to": relates_to, "certificate": certificate.number if certificate else None,
        "audits": sorted(audit.pk for audit in audits or [])})
    return complaint


@transaction.atomic
def respond_to_complaint(*, complaint: Complaint, actor: User, response: str) -> Complaint:
    """The certified client's answer to a complaint about it (§9.8.4), while the CB
    handles it. Refused: someone who may not edit for the organization."""
    complaint = _locked(complaint)
    if complaint.organization is None or not can_in(actor, "edit", complaint.organization):
        raise NotPermitted("Only an owner or editor of the organization can respond.")
    response = _text(response, "response", limit=10000, what="your response")
    if complaint.status not in COMPLAINT_HANDLING or not complaint.client_notified_at:
        raise TransitionNotAllowed("This complaint is no longer open for the client's response.")
    complaint.client_response = response
    complaint.client_responded_at = timezone.now()
    complaint.save(update_fields=["client_response", "client_responded_at"])
    _message(complaint, ComplaintMessage.Kind.CLIENT_RESPONSE, response, actor)
    record_step(actor, "complaint", "client_responded", complaint)
    notify(template="complaint_client_responded", to=staff_emails("handle_complaints"),
           context={"reference": complaint.reference,
                    "path": reverse("complaint_detail", args=[complaint.pk])})
    return complaint


@transaction.atomic
def assign_investigator(*, complaint: Complaint, investigator: User, actor: User) -> Complaint:
    """Give the investigation to a CB staff member not involved in what is complained
    about (§9.8.5): refused for a team member of the audits concerned, a decision maker
    of those cycles or the application's reviewer (``involved_people``)."""
    ensure_handler(actor)
    if not investigator.is_active or not investigator.staff_roles_set:
        raise InvalidInput("The investigator is a member of the CB's staff.",
                           fields={"investigator_id": "Choose a CB staff member."})
    complaint = _locked(complaint)
    ensure_not_involved(investigator, involved_people(complaint), field="investigator_id",
                        role="investigator")
    COMPLAINT_LIFECYCLE.apply(complaint, "assign_investigator")
    complaint.investigator = investigator
    complaint.save()
    record_step(actor, "complaint", "investigator_assigned", complaint,
                {"investigator": investigator.email})
    notify(template="complaint_investigator", to=[investigator.email], context={
        "reference": complaint.reference, "subject": complaint.subject,
        "path": reverse("complaint_detail", args=[complaint.pk])})
    return complaint


@transaction.atomic
def record_complaint_investigation(*, complaint: Complaint, actor: User,
                                   investigation: str) -> Complaint:
    """The investigator records what was examined and found. Refused for anyone else."""
    complaint = _locked(complaint)
    if complaint.investigator_id != actor.pk:
        raise NotPermitted("Only the assigned investigator records the investigation.")
    investigation = clean_reason(investigation, field="investigation",
                                 what="what the investigation found", limit=20000)
    COMPLAINT_LIFECYCLE.apply(complaint, "record_investigation")
    complaint.investigation = investigation
    complaint.investigated_at = timezone.now()
    complaint.save()
    record_step(actor, "complaint", "investigated", complaint)
    return complaint


@transaction.atomic
def decide_complaint(*, complaint: Complaint, actor: User, outcome: str,
                     action: str = C.Action.NONE, action_reason: str = "") -> Complaint:
    """Decide the outcome and the actions (§9.8.6), by a person not involved in what is
    complained about. A special short-notice audit is added to the certificate's cycle
    (``audits.programme.cycles.add_special_audit``) and a suspension goes through
    ``certification.lifecycle.suspend_certificate``: each keeps its own rules (who may
    plan audits, who may suspend). Refused: an involved person; a missing outcome; an
    action on a complaint not linked to a certificate."""
    ensure_handler(actor)
    outcome = clean_reason(outcome, field="outcome", what="the outcome", limit=10000)
    if action not in C.Action.values:
        raise InvalidInput("Choose the action.", fields={
            "action": "No further action, a special short-notice audit or a suspension."})
    complaint = _locked(complaint)
    ensure_not_involved(actor, involved_people(complaint), field="actor",
                        role="person deciding the outcome")
    COMPLAINT_LIFECYCLE.apply(complaint, "decide")
    if action != C.Action.NONE:
        certificate = complaint.certificate
        if certificate is None:
            raise InvalidInput("An audit or a suspension needs the client's certificate.",
                               fields={"action": "Link the complaint to a certificate."})
        reason = clean_reason(action_reason or outcome, field="action_reason",
                              what="the reason for the action")
        reason = f"Complaint {complaint.reference}: {reason}"
        if action == C.Action.SHORT_NOTICE_AUDIT:
            if certificate.cycle is None:
                raise InvalidInput("The certificate has no audit programme in the portal.",
                                   fields={"action": "Choose another action."})
            complaint.special_audit = add_special_audit(
                cycle=certificate.cycle, actor=actor, kind=Audit.Kind.SHORT_NOTICE,
                reason=reason)
        else:
            suspend_certificate(certificate=certificate, actor=actor, reason=reason)
    complaint.outcome = outcome
    complaint.action = action
    complaint.decided_by = actor
    complaint.decided_at = timezone.now()
    complaint.approval_required = outcome_needs_approval(complaint)
    complaint.save()
    record_step(actor, "complaint", "decided", complaint, {
        "action": action, "special_audit": complaint.special_audit_id,
        "approval_required": complaint.approval_required})
    if complaint.approval_required:
        notify(template="complaint_approval", to=[
            address for address in staff_emails("handle_complaints")
            if address not in (actor.email, complaint.investigator.email
                               if complaint.investigator else "")], context={
            "reference": complaint.reference, "subject": complaint.subject,
            "path": reverse("complaint_detail", args=[complaint.pk])})
    return complaint


def outcome_needs_approval(complaint: Complaint) -> bool:
    """§9.8.6: the decision communicated to the complainant is made, or reviewed and
    approved, by persons not involved in the subject of the complaint. An outcome decided
    by the complaint's own investigator is reviewed and approved by another handler before
    it is sent (the investigation and the decision are not in the same hands unchecked);
    with ``COMPLAINT_OUTCOME_APPROVAL`` on, every outcome is."""
    return (settings.COMPLAINT_OUTCOME_APPROVAL
            or (complaint.investigator_id is not None
                and complaint.decided_by_id == complaint.investigator_id))


def _ensure_approver(complaint: Complaint, actor: User, action: str) -> None:
    """The checks of the review of an outcome (§9.8.6), before anything is written."""
    COMPLAINT_LIFECYCLE.target(action, complaint.status)
    if not complaint.approval_required:
        raise TransitionNotAllowed("This outcome needs no separate approval; send it to the "
                                   "complainant.")
    ensure_not_involved(actor, involved_people(complaint), field="actor",
                        role="person approving the outcome")
    if actor.pk in (complaint.investigator_id, complaint.decided_by_id):
        raise NotPermitted(
            "The outcome is approved by someone other than the investigator and the person "
            "who decided it (ISO/IEC 17021-1 §9.8.6).",
            fields={"actor": "Another complaint handler approves."})


@transaction.atomic
def approve_complaint_outcome(*, complaint: Complaint, actor: User, notes: str = "") -> Complaint:
    """Review and approve the decided outcome before the complainant is told (§9.8.6).
    Refused (nothing written): someone who does not handle complaints; an outcome that
    needs no approval or is not decided (409); a person involved in what is complained
    about (403 ``impartiality_threat``); the investigator or the person who decided (403:
    the approval is a second person's review)."""
    ensure_handler(actor)
    notes = _text(notes, "notes", limit=5000, what="notes", required=False)
    complaint = _locked(complaint)
    _ensure_approver(complaint, actor, "approve")
    COMPLAINT_LIFECYCLE.apply(complaint, "approve")
    complaint.approved_by = actor
    complaint.approved_at = timezone.now()
    complaint.approval_notes = notes
    complaint.save()
    record_step(actor, "complaint", "approved", complaint, {"notes": notes})
    return complaint


@transaction.atomic
def return_complaint_outcome(*, complaint: Complaint, actor: User, reason: str) -> Complaint:
    """The reviewer does not approve the outcome (§9.8.6): it goes back, with the reason,
    for a new decision (status *investigation recorded*); nothing is sent to the
    complainant. The actions already taken with the decision (a short-notice audit, a
    suspension) stand: each is undone, if at all, through its own service. Refused as
    ``approve_complaint_outcome`` is, and without a reason."""
    ensure_handler(actor)
    reason = clean_reason(reason, field="reason", what="why the outcome is not approved",
                          limit=5000)
    complaint = _locked(complaint)
    _ensure_approver(complaint, actor, "return_outcome")
    COMPLAINT_LIFECYCLE.apply(complaint, "return_outcome")
    complaint.approval_notes = reason
    complaint.save()
    record_step(actor, "complaint", "outcome_returned", complaint, {
        "reason": reason, "outcome": complaint.outcome, "decided_by": complaint.decided_by_id})
    notify(template="complaint_outcome_returned",
           to=[complaint.decided_by.email] if complaint.decided_by else [], context={
               "reference": complaint.reference, "reason": reason,
               "path": reverse("complaint_detail", args=[complaint.pk])})
    return complaint


@transaction.atomic
def report_complaint_progress(*, complaint: Complaint, actor: User, text: str) -> Complaint:
    """Tell the complainant how the handling goes (§9.8.5): an e-mail, kept on record."""
    ensure_handler(actor)
    text = clean_reason(text, field="text", what="the progress report", limit=10000)
    complaint = _locked(complaint)
    if complaint.status not in COMPLAINT_HANDLING | {C.Status.ACKNOWLEDGED}:
        raise TransitionNotAllowed(
            f"This complaint is {complaint.get_status_display().lower()}; progress is "
            "reported between acknowledgment and the outcome.")
    _message(complaint, ComplaintMessage.Kind.PROGRESS, text, actor)
    record_step(actor, "complaint", "progress_reported", complaint)
    _mail_complainant(complaint, "complaint_progress", text)
    return complaint


@transaction.atomic
def communicate_complaint_outcome(*, complaint: Complaint, actor: User,
                                  text: str = "") -> Complaint:
    """Give the complainant formal notice of the outcome (§9.8.7) by e-mail; ``text``
    defaults to the decided outcome. Refused (409) while an outcome that needs approval
    (``outcome_needs_approval``) is not approved yet (§9.8.6)."""
    ensure_handler(actor)
    complaint = _locked(complaint)
    text = _text(text, "text", limit=10000, what="the notice", required=False) \
        or complaint.outcome
    COMPLAINT_LIFECYCLE.target("communicate_outcome", complaint.status)
    if complaint.approval_required and complaint.status != C.Status.APPROVED:
        raise TransitionNotAllowed(
            "The outcome must be reviewed and approved by a person not involved before the "
            "complainant is told (ISO/IEC 17021-1 §9.8.6).")
    COMPLAINT_LIFECYCLE.apply(complaint, "communicate_outcome")
    complaint.communicated_at = timezone.now()
    complaint.save()
    _message(complaint, ComplaintMessage.Kind.OUTCOME, text, actor)
    record_step(actor, "complaint", "outcome_communicated", complaint)
    _mail_complainant(complaint, "complaint_outcome", text)
    return complaint


@transaction.atomic
def close_complaint(*, complaint: Complaint, actor: User) -> Complaint:
    """Record the end of the process (§9.8.7)."""
    ensure_handler(actor)
    complaint = _locked(complaint)
    COMPLAINT_LIFECYCLE.apply(complaint, "close")
    complaint.closed_at = timezone.now()
    complaint.save()
    record_step(actor, "complaint", "closed", complaint)
    return complaint


# --- time targets --------------------------------------------------------------------------------

def due_dates(complaint: Complaint) -> dict[str, datetime.date]:
    """The complaint's time targets, counted from the day it was received (settings)."""
    received = timezone.localtime(complaint.received_at).date()
    days = datetime.timedelta
    return {
        "acknowledge": received + days(days=settings.COMPLAINT_ACKNOWLEDGE_DAYS),
        "client_notice": received + days(days=settings.COMPLAINT_CLIENT_NOTICE_DAYS),
        "outcome": received + days(days=settings.COMPLAINT_OUTCOME_DAYS),
    }


BEFORE_CLASSIFIED = {C.Status.RECEIVED, C.Status.ACKNOWLEDGED}
# The outcome target runs until the complainant is given formal notice of the outcome
# (ISO/IEC 17021-1 §9.8.3, §9.8.7): a decided outcome waiting for approval (§9.8.6), or
# approved but not sent, is still late past ``COMPLAINT_OUTCOME_DAYS``.
BEFORE_TOLD = BEFORE_CLASSIFIED | {C.Status.CLASSIFIED, C.Status.INVESTIGATING,
                                   C.Status.INVESTIGATED, C.Status.DECIDED,
                                   C.Status.APPROVED}


def overdue_reasons(complaint: Complaint, today: datetime.date) -> list[str]:
    """What is late on an open complaint, in words (empty: on time)."""
    due = due_dates(complaint)
    reasons = []
    if complaint.status == C.Status.RECEIVED and today > due["acknowledge"]:
        reasons.append(f"acknowledgment was due {display_date(due['acknowledge'])}")
    if complaint.status in BEFORE_CLASSIFIED and today > due["client_notice"]:
        reasons.append("classification (and telling the client) was due "
                       f"{display_date(due['client_notice'])}")
    if complaint.status in BEFORE_TOLD and today > due["outcome"]:
        reasons.append("formal notice of the outcome to the complainant was due "
                       f"{display_date(due['outcome'])}")
    return reasons


@transaction.atomic
def remind_overdue_complaints(*, today: datetime.date) -> int:
    """The daily reminder: one e-mail to the complaint handlers listing the complaints
    past a time target, at most once a day per complaint. Returns how many were listed."""
    late = []
    for complaint in (Complaint.objects.select_for_update()
                      .filter(status__in=BEFORE_TOLD).exclude(last_reminded_on=today)):
        reasons = overdue_reasons(complaint, today)
        if reasons:
            late.append({"reference": complaint.reference, "subject": complaint.subject,
                         "reasons": "; ".join(reasons),
                         "path": reverse("complaint_detail", args=[complaint.pk])})
            complaint.last_reminded_on = today
            complaint.save(update_fields=["last_reminded_on"])
    if late:
        notify(template="complaints_overdue", to=staff_emails("handle_complaints"),
               context={"complaints": late, "today": today.isoformat()})
    return len(late)
