"""Transfer of certification (IAF MD 2:2017 §2.3): after an accepted pre-transfer review, a
decision maker other than the reviewer issues a certificate that continues the client's
current cycle with its expiry and surveillance programme."""

import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import User
from isocert.accounts.permissions import member_emails
from isocert.audits.programme.services import (
    open_transferred_cycle,
)
from isocert.core.audit import record_event
from isocert.core.dates import display_date
from isocert.core.errors import Conflict, InvalidInput
from isocert.notifications.services import notify
from isocert.registration.models import TRANSFER_REVIEW_LIFECYCLE, Application, TransferReview
from isocert.registration.transfers import mark_transfer_issued

from .decision_checks import (
    ImpartialityThreat,
    ensure_decision_maker,
    ensure_independent,
)
from .models import (
    CertificationDecision,
)
from .records import record_certificate_event
from .services import certified_sites, decision_dates, issue_certificate

D = CertificationDecision


class TransferReviewerDecides(ImpartialityThreat):
    """The person who reviewed the transfer cannot also decide it."""

    code = "transfer_reviewer_decides"


@transaction.atomic
def issue_transfer(*, application: Application, actor: User,
                   decision_date: datetime.date | None = None,
                   effective_date: datetime.date | None = None,
                   site_ids: list[int] | None = None) -> CertificationDecision:
    """Issue the certificate of an accepted transfer (IAF MD 2:2017 §2.3).

    The certificate keeps the current certificate's expiry and continues its cycle: the
    programme plans only the audits still due (``open_transferred_cycle``, no stage 1 or
    stage 2), with the previous cycle's due dates. The previous CB and its certificate
    number are named in the revision reason and the public status history, and the
    decision records the pre-transfer review's checks.

    Refused: anyone but a decision maker qualified for the standards and independent of the
    client (``ensure_independent``); the person who did the pre-transfer review (the
    review stands in for the audit, ISO/IEC 17021-1 §9.5.1.2); a review not accepted (or
    already issued); a decision date in the future or before the review's conclusion; an
    effective date before the decision; whatever ``open_transferred_cycle`` refuses.
    """
    ensure_decision_maker(actor)
    decision_date, effective = decision_dates(decision_date, effective_date)
    review = (TransferReview.objects.select_for_update()
              .filter(application_id=application.pk).first())
    if review is None:
        raise Conflict("This application has no pre-transfer review.",
                       fields={"application": "No transfer review."})
    TRANSFER_REVIEW_LIFECYCLE.target("issue", review.status)
    if review.reviewed_by_id == actor.pk:
        raise TransferReviewerDecides(
            "You reviewed this transfer: another decision maker issues the certificate "
            "(ISO/IEC 17021-1 §9.5.1.2).")
    if review.concluded_at and decision_date < timezone.localdate(review.concluded_at):
        concluded = timezone.localdate(review.concluded_at)
        raise InvalidInput("The decision cannot come before the transfer review's conclusion.",
                           fields={"decision_date": f"On or after {display_date(concluded)}."})
    cycle = open_transferred_cycle(application=application, transfer_date=decision_date,
                                   actor=actor)
    ensure_independent(actor, cycle, decision_date)
    application = cycle.application
    sites = certified_sites(cycle=cycle, kind=D.Kind.INITIAL, site_ids=site_ids)
    previous = (f"{application.current_cb_name} (certificate "
                f"{application.current_certificate_number})")
    decision = CertificationDecision.objects.create(
        cycle=cycle, audit=None, kind=D.Kind.TRANSFER, outcome=D.Outcome.GRANT,
        decision_date=decision_date, reason=f"Transfer accepted: {review.reasons}",
        checks=[{"key": row["key"], "label": row["label"], "ok": row["ok"], "detail": ""}
                for row in review.check_rows()],
        scope=cycle.scope, site_ids=[site.pk for site in sites], decided_by=actor)
    certificate = issue_certificate(
        cycle, decision, effective, "", actor, sites,
        expiry_date=application.current_certificate_expiry,
        reason=f"Transfer of certification from {previous}",
        history=f"Certification transferred from {previous} (IAF MD 2)")
    decision.certificate = certificate
    decision.save(update_fields=["certificate"])
    mark_transfer_issued(application=application, actor=actor)
    record_certificate_event(actor, "certification.certificate.transferred", certificate,
                             {"decision": decision.pk, "effective_date": effective.isoformat(),
                              "expiry_date": certificate.expiry_date.isoformat(),
                              "cycle": cycle.pk, "previous_cb": application.current_cb_name,
                              "previous_number": application.current_certificate_number})
    record_event(actor=actor, action="certification.decision.grant", obj=decision,
                 organization_id=cycle.organization_id,
                 payload={"cycle": cycle.pk, "kind": D.Kind.TRANSFER,
                          "decision_date": decision_date.isoformat(),
                          "reason": decision.reason, "audit": None,
                          "checks": {row["key"]: row["ok"] for row in decision.checks},
                          "certificate": certificate.number})
    notify(template="certification_decision", to=member_emails(cycle.organization_id),
           context={"organization": str(cycle.organization), "kind": decision.get_kind_display(),
                    "outcome": decision.get_outcome_display(), "reason": decision.reason,
                    "certificate": certificate.number,
                    "path": reverse("certificate_detail", args=[certificate.pk])})
    return decision
