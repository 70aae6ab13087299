"""The pre-transfer review of a certification held with another CB (IAF MD 2:2017 §2).

A competent person of this CB (capability ``review_transfers``) reviews what the client
declared and uploaded — the current certificate, the last audit reports, open
nonconformities, complaints and the stage of the current cycle (§2.2) — records each
check of §2.2 and, when the document review calls for it, a pre-transfer visit
(§2.2). The review ends with a conclusion and its reasons (§2.2): accepted, the
decision maker issues a certificate continuing the current cycle (certification app);
refused, the application continues as a new initial certification (§2.2).

Lifecycle ``TRANSFER_REVIEW_LIFECYCLE``: open → accepted → issued, or open → refused.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from isocert.accounts.models import User
from isocert.accounts.permissions import can, staff_emails
from isocert.core.audit import record_event
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.validation import choice_error, clean_date, clean_reason
from isocert.notifications.services import notify

from .common import client_recipients, locked, mail_context
from .models import TRANSFER_REVIEW_LIFECYCLE, Application, TransferReview

# The application is with the CB (under review or registered) while the transfer is reviewed.
REVIEWABLE = {Application.Status.UNDER_REVIEW, Application.Status.REGISTERED}


def ensure_transfer_reviewer(actor: User) -> None:
    if not can(actor, "review_transfers"):
        raise NotPermitted("Only a CB person competent for transfer reviews can do this "
                           "(IAF MD 2 §2.2).")


def _event(actor: User, action: str, review: TransferReview, payload: dict) -> None:
    record_event(actor=actor, action=f"registration.transfer.{action}", obj=review.application,
                 organization_id=review.application.organization_id,
                 payload={"transfer_review": review.pk, **payload})


def _locked_review(application: Application) -> TransferReview:
    review = TransferReview.objects.select_for_update().filter(application=application).first()
    if review is None:
        raise Conflict("Record the pre-transfer review first.",
                       fields={"transfer_review": "No review recorded."})
    return review


@transaction.atomic
def record_transfer_review(
        *, application: Application, certificate_valid: bool = False,
        accredited_by_mla_signatory: bool = False, not_suspended: bool = False,
        scope_within_accreditation: bool = False, complaints_addressed: bool = False,
        reports_reviewed: bool = False, open_majors_closed: bool = False,
        visit: str = TransferReview.Visit.NOT_NEEDED,
        visit_date: datetime.date | str | None = None, visit_findings: str = "",
        notes: str = "", actor: User) -> TransferReview:
    """Record (or update) the checks of the open pre-transfer review (IAF MD 2 §2.2).

    Refused: anyone without ``review_transfers``; an application that is not a transfer or
    not with the CB (under review or registered); a concluded review; an unknown visit
    choice; a visit marked held without its date and findings (§2.2).
    """
    ensure_transfer_reviewer(actor)
    application = locked(application)
    if not application.is_transfer:
        raise Conflict("This application does not ask for a transfer.",
                       fields={"is_transfer": "Not a transfer."})
    if application.status not in REVIEWABLE:
        raise Conflict("A transfer is reviewed while the application is under review or "
                       f"registered; it is {application.get_status_display().lower()}.")
    if visit not in TransferReview.Visit.values:
        raise InvalidInput("Choose whether a pre-transfer visit is needed.",
                           fields={"visit": choice_error(TransferReview.Visit,
                                                         what="the pre-transfer visit")})
    held = visit in (TransferReview.Visit.SATISFACTORY, TransferReview.Visit.UNSATISFACTORY)
    visit_findings = (visit_findings or "").strip()[:5000]
    visit_day = clean_date(visit_date, "visit_date", required=held) if held else None
    if held and not visit_findings:
        raise InvalidInput("Record what the pre-transfer visit found.",
                           fields={"visit_findings": "What the visit found."})
    if visit_day and visit_day > timezone.localdate():
        raise InvalidInput("A visit held cannot be dated in the future.",
                           fields={"visit_date": "On or before today."})
    review = TransferReview.objects.select_for_update().filter(application=application).first()
    if review is not None and review.status != TransferReview.Status.OPEN:
        raise Conflict(f"The transfer review is concluded ({review.get_status_display()}).")
    values = {"certificate_valid": certificate_valid,
              "accredited_by_mla_signatory": accredited_by_mla_signatory,
              "not_suspended": not_suspended,
              "scope_within_accreditation": scope_within_accreditation,
              "complaints_addressed": complaints_addressed, "reports_reviewed": reports_reviewed,
              "open_majors_closed": open_majors_closed}
    values = {field: bool(value) for field, value in values.items()}
    values.update(visit=visit, visit_date=visit_day, visit_findings=visit_findings,
                  notes=(notes or "").strip()[:5000], reviewed_by=actor)
    review, _ = TransferReview.objects.update_or_create(application=application, defaults=values)
    _event(actor, "reviewed", review,
           {"checks": {row["key"]: row["ok"] for row in review.check_rows()}, "visit": visit,
            "visit_date": visit_day.isoformat() if visit_day else None,
            "passed": review.passed})
    return review


@transaction.atomic
def conclude_transfer_review(*, application: Application, accept: bool, reasons: str,
                             actor: User) -> TransferReview:
    """Accept or refuse the transfer with the reasons (IAF MD 2 §2.2).

    Accepting is refused while any check failed or a needed visit is still to be held
    (the failed checks are named); refusing needs only the reasons. The client is told
    either way; on acceptance the decision makers are told a certificate awaits their
    decision.
    """
    ensure_transfer_reviewer(actor)
    reasons = clean_reason(reasons, field="reasons", limit=5000,
                           message="Give the reasons for the transfer review's conclusion.")
    application = locked(application)
    review = _locked_review(application)
    action = "accept" if accept else "refuse"
    TRANSFER_REVIEW_LIFECYCLE.target(action, review.status)
    if accept and not review.passed:
        failed = review.failed_checks()
        raise Conflict("The transfer cannot be accepted: " + "; ".join(failed) + ".",
                       fields={"accept": "Failed: " + "; ".join(failed)})
    TRANSFER_REVIEW_LIFECYCLE.apply(review, action)
    review.reasons, review.concluded_at = reasons, timezone.now()
    review.reviewed_by = actor
    review.save()
    _event(actor, "accepted" if accept else "refused", review,
           {"reasons": reasons, "failed": review.failed_checks()})
    context = mail_context(application, accepted=accept, reasons=reasons,
                           current_cb=application.current_cb_name,
                           current_certificate=application.current_certificate_number)
    notify(template="transfer_concluded", to=client_recipients(application), context=context)
    if accept:
        notify(template="transfer_accepted_for_decision", to=staff_emails("decide"),
               context=context)
    return review


@transaction.atomic
def mark_transfer_issued(*, application: Application, actor: User) -> TransferReview:
    """Accepted → issued: called by the certification decision that issued the transferred
    certificate, in its transaction (so a transfer is issued once)."""
    if not can(actor, "decide"):
        raise NotPermitted("Only a CB decision maker issues a transferred certificate.")
    review = _locked_review(application)
    TRANSFER_REVIEW_LIFECYCLE.apply(review, "issue")
    review.save(update_fields=["status"])
    _event(actor, "issued", review, {})
    return review
