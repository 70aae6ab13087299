"""A certificate's life after the decision (ISO/IEC 17021-1 §9.6): suspension (and its one
extension), restoration, withdrawal and expiry, and the daily run that watches surveillance
deadlines, the end of suspensions and expiry dates.

Each change is a service with a reason, an actor and a date; it writes a public
status-history row and an audit event in the same transaction.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import User
from isocert.accounts.permissions import can, member_emails, staff_emails
from isocert.audits.models import Audit
from isocert.audits.programme.services import SURVEILLANCE_KINDS, add_months
from isocert.core.dates import display_date
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.validation import clean_date, clean_reason
from isocert.notifications.services import notify

from .models import CERTIFICATE_LIFECYCLE, Certificate, CertificateStatusChange
from .records import appeal_notice, record_certificate_event, record_status_change
from .selectors import FINISHED_AUDITS
from .signals import certificate_changed, daily_run_done

S = Certificate.Status
PAST = {"suspend": "suspended", "restore": "restored", "withdraw": "withdrawn",
        "expire": "expired", "reinstate": "reinstated"}
APPEALABLE = {"suspend", "withdraw"}


class SuspensionAlreadyExtended(Conflict):
    """A suspension is extended at most once: then the CB restores, reduces or withdraws."""

    code = "suspension_already_extended"


def _ensure_status_manager(actor: User, on_appeal: str = "") -> None:
    """Who may change a certificate's status: a CB decision maker or administrator — or,
    ``on_appeal`` (an appeal's reference), a member of that appeal's panel, who may hold any
    CB staff role: the panel's decision on the appeal (ISO/IEC 17021-1 §9.7.4, §9.7.6) is
    what changes the status then. The caller (``complaints.appeals``) checks that the actor
    sits on the panel; this layer checks only that the actor is CB staff."""
    if on_appeal:
        if not actor.staff_roles_set:
            raise NotPermitted("Only CB staff on the appeals panel can change a certificate's "
                               "status on an appeal.")
        return
    if not can(actor, "manage_certificate_status"):
        raise NotPermitted("Only a CB decision maker or administrator can change a "
                           "certificate's status.")


def _locked(certificate: Certificate) -> Certificate:
    return Certificate.objects.select_for_update().get(pk=certificate.pk)


def _action_date(certificate: Certificate, value) -> datetime.date:
    """Today unless given; never in the future, never before the last status change."""
    today = timezone.localdate()
    day = clean_date(value, "date", default=today)
    if day > today:
        raise InvalidInput("A status change cannot be dated in the future.",
                           fields={"date": f"On or before {display_date(today)}."})
    last = (CertificateStatusChange.objects.filter(certificate=certificate)
            .order_by("-date").values_list("date", flat=True).first())
    if last and day < last:
        raise InvalidInput("The status history cannot go back in time.",
                           fields={"date": f"On or after {display_date(last)}, the last change."})
    return day


def _notify_apart(*, template: str, certificate: Certificate, context: dict,
                  cb: bool = True, client_only: dict | None = None) -> None:
    """The same news to the client's people and, as a separate e-mail, to the CB's staff:
    one To: line for both would show the CB's staff addresses to the client (and the
    client's people to the CB's other staff). ``client_only`` is added to the client's copy
    (its right to appeal)."""
    notify(template=template, to=member_emails(certificate.organization_id),
           context={**context, **(client_only or {})})
    if cb:
        notify(template=template, to=staff_emails("manage_certificate_status"), context=context)


def _change(certificate: Certificate, *, action: str, actor: User | None, reason: str,
            day: datetime.date, payload: dict | None = None, tell_cb: bool = True,
            on_appeal: str = "") -> Certificate:
    before = certificate.status
    CERTIFICATE_LIFECYCLE.apply(certificate, action)
    certificate.save()
    record_status_change(certificate, date=day, reason=reason, actor=actor)
    record_certificate_event(actor, f"certification.certificate.{PAST[action]}", certificate,
                {"from": before, "to": certificate.status, "date": day.isoformat(),
                 "reason": reason, **({"appeal": on_appeal} if on_appeal else {}),
                 **(payload or {})})
    _notify_apart(
        template="certificate_status_changed", certificate=certificate, cb=tell_cb,
        # A suspension or a withdrawal may be appealed (ISO/IEC 17021-1 §9.7) — not one the
        # appeals panel ordered (a suspension resumed when its appeal was dismissed): that
        # appeal is decided.
        client_only=(appeal_notice(url_name="appeal_certificate", pk=certificate.pk,
                                   decided_on=day)
                     if action in APPEALABLE and certificate.organization_id and not on_appeal
                     else None),
        context={"number": certificate.number, "organization": certificate.organization_name,
                 "status": certificate.status, "date": day.isoformat(), "reason": reason,
                 "until": (certificate.suspended_until.isoformat()
                           if certificate.suspended_until else ""),
                 "path": reverse("verify_certificate", args=[certificate.public_code])})
    return certificate


def _start(certificate: Certificate, *, action: str, actor: User, reason: str, what: str,
           date: datetime.date | None, on_appeal: str = ""
           ) -> tuple[Certificate, str, datetime.date]:
    """The checks every manual status change makes first: who acts (``on_appeal``: see
    ``_ensure_status_manager``), why, whether the status allows ``action``, and on which
    day. Returns the locked certificate, the cleaned reason and the day."""
    _ensure_status_manager(actor, on_appeal)
    reason = clean_reason(reason, what=what)
    certificate = _locked(certificate)
    CERTIFICATE_LIFECYCLE.target(action, certificate.status)
    return certificate, reason, _action_date(certificate, date)


@transaction.atomic
def suspend_certificate(*, certificate: Certificate, actor: User, reason: str,
                        date: datetime.date | None = None,
                        until: datetime.date | None = None, on_appeal: str = "") -> Certificate:
    """Suspend (§9.6.5): the certification is temporarily invalid. Lasts until ``until``,
    at most ``SUSPENSION_MAX_MONTHS`` (default 6) after the suspension. ``on_appeal``: the
    reference of the appeal whose panel resumes a suspension it had stayed, the appeal
    being dismissed (§9.7); the panel member acts (``_ensure_status_manager``), the audit
    event names the appeal and the client's e-mail offers no new appeal."""
    certificate, reason, day = _start(certificate, action="suspend", actor=actor,
                                      reason=reason, what="the reason for the suspension",
                                      date=date, on_appeal=on_appeal)
    limit = add_months(day, settings.SUSPENSION_MAX_MONTHS)
    end = clean_date(until, "until", default=limit)
    if end <= day:
        raise InvalidInput("The suspension must end after it starts.",
                           fields={"until": f"After {display_date(day)}."})
    if end > limit:
        raise InvalidInput(f"A suspension lasts at most {settings.SUSPENSION_MAX_MONTHS} months.",
                           fields={"until": f"On or before {display_date(limit)}."})
    certificate.suspended_until = end
    certificate.suspension_reminded_on = None
    certificate.suspension_end_proposed_on = None
    certificate.suspension_extended_on = None
    certificate.suspension_extension_reason = ""
    return _change(certificate, action="suspend", actor=actor, reason=reason, day=day,
                   payload={"until": end.isoformat()}, on_appeal=on_appeal)


@transaction.atomic
def restore_certificate(*, certificate: Certificate, actor: User, reason: str,
                        date: datetime.date | None = None, on_appeal: str = "") -> Certificate:
    """Lift a suspension once the issue that caused it is resolved. ``on_appeal``: the
    reference of the appeal whose panel lifts it — staying it while the appeal runs, or
    upholding the appeal (§9.7); the panel member acts (``_ensure_status_manager``)."""
    certificate, reason, day = _start(certificate, action="restore", actor=actor,
                                      reason=reason, what="why the certification can be restored",
                                      date=date, on_appeal=on_appeal)
    if day > certificate.expiry_date:
        raise InvalidInput("The certificate expired during the suspension; it cannot be "
                           "restored, only renewed by a recertification.",
                           fields={"date": "On or before "
                                           f"{display_date(certificate.expiry_date)}."})
    certificate.suspended_until = None
    certificate.suspension_end_proposed_on = None
    return _change(certificate, action="restore", actor=actor, reason=reason, day=day,
                   on_appeal=on_appeal)


@transaction.atomic
def withdraw_certificate(*, certificate: Certificate, actor: User, reason: str,
                         date: datetime.date | None = None) -> Certificate:
    """End the certification (§9.6.5). Final: a new certification starts again."""
    certificate, reason, day = _start(certificate, action="withdraw", actor=actor,
                                      reason=reason, what="the reason for the withdrawal",
                                      date=date)
    certificate.suspended_until = None
    certificate.suspension_end_proposed_on = None
    return _change(certificate, action="withdraw", actor=actor, reason=reason, day=day)


@transaction.atomic
def reinstate_certificate(*, certificate: Certificate, actor: User, reason: str,
                          date: datetime.date | None = None, on_appeal: str = ""
                          ) -> Certificate:
    """Undo a withdrawal when an appeal against it was upheld (ISO/IEC 17021-1 §9.7): the
    certification was never validly ended. Refused once the certificate's expiry passed
    (then only a recertification renews it). ``on_appeal``: the appeal's reference, when its
    panel member acts (``_ensure_status_manager``)."""
    certificate, reason, day = _start(certificate, action="reinstate", actor=actor,
                                      reason=reason, what="why the withdrawal is undone",
                                      date=date, on_appeal=on_appeal)
    if day > certificate.expiry_date:
        raise InvalidInput("The certificate's validity ended; it cannot be reinstated, only "
                           "renewed by a recertification.",
                           fields={"date": "On or before "
                                           f"{display_date(certificate.expiry_date)}."})
    return _change(certificate, action="reinstate", actor=actor, reason=reason, day=day,
                   on_appeal=on_appeal)


@transaction.atomic
def extend_suspension(*, certificate: Certificate, actor: User, reason: str,
                      until: datetime.date | None) -> Certificate:
    """Move a suspension's end to ``until``, once (ISO/IEC 17021-1 §9.6.5: the CB sets the
    time by which the issue must be resolved; the reference rules give "usually at most
    6 months, then restore, reduce scope or withdraw"). The new end lies after the current
    one and at most ``SUSPENSION_EXTENSION_MAX_MONTHS`` later — a CB policy setting, the
    standard fixes no figure. Possible until the certificate is withdrawn, also during the
    grace after the end (it cancels the pending automatic withdrawal).

    Refused: anyone but a CB decision maker or administrator; no reason; a certificate
    that is not suspended; a second extension; an end date not after the current end or
    beyond the maximum.
    """
    _ensure_status_manager(actor)
    reason = clean_reason(reason, what="why the suspension is extended")
    certificate = _locked(certificate)
    CERTIFICATE_LIFECYCLE.target("extend_suspension", certificate.status)
    if certificate.suspension_extended_on is not None:
        raise SuspensionAlreadyExtended(
            f"This suspension was extended on {display_date(certificate.suspension_extended_on)} "
            "already; it can be extended only once. Restore the certificate, reduce its scope or "
            "withdraw it.")
    current = certificate.suspended_until
    limit = add_months(current, settings.SUSPENSION_EXTENSION_MAX_MONTHS)
    if until in (None, ""):
        raise InvalidInput("Give the new end of the suspension.",
                           fields={"until": f"After {display_date(current)}, on or before "
                                            f"{display_date(limit)}."})
    end = clean_date(until, "until")
    if end <= current:
        raise InvalidInput("The extended suspension must end after the current end.",
                           fields={"until": f"After {display_date(current)}."})
    if end > limit:
        raise InvalidInput(
            f"A suspension is extended by at most {settings.SUSPENSION_EXTENSION_MAX_MONTHS} "
            "months.", fields={"until": f"On or before {display_date(limit)}."})
    today = timezone.localdate()
    certificate.suspended_until = end
    certificate.suspension_extended_on = today
    certificate.suspension_extension_reason = reason
    # The new end gets its own reminder and, if it passes, its own proposal and grace.
    certificate.suspension_reminded_on = None
    certificate.suspension_end_proposed_on = None
    certificate.save()
    record_certificate_event(actor, "certification.certificate.suspension_extended", certificate,
                {"from": current.isoformat(), "until": end.isoformat(), "reason": reason})
    context = {"number": certificate.number, "organization": certificate.organization_name,
               "until": end.isoformat(), "previous": current.isoformat(), "reason": reason,
               "path": reverse("verify_certificate", args=[certificate.public_code])}
    # Client and CB staff apart: one To: line would show each the other's addresses.
    notify(template="suspension_extended", to=member_emails(certificate.organization_id),
           context=context)
    notify(template="suspension_extended", to=staff_emails("manage_certificate_status"), context=context)
    return certificate


@transaction.atomic
def set_certificate_confidentiality(*, certificate: Certificate, confidential: bool,
                                    reason: str, actor: User) -> Certificate:
    """Mark a certificate confidential (left out of the public directory and the registry
    export, IAF MD 28) or public again, at the client's request. Verification by number or
    QR code still answers: the holder may prove its own certificate. After commit
    ``certificate_changed`` tells the registry, which drops cached directory searches on
    every server. Setting the flag it already has changes nothing and records nothing."""
    _ensure_status_manager(actor)
    reason = clean_reason(reason, what="the reason")
    certificate = _locked(certificate)
    if certificate.confidential == confidential:
        return certificate
    certificate.confidential = confidential
    certificate.save(update_fields=["confidential"])
    record_certificate_event(actor, "certification.certificate.confidentiality_changed",
                             certificate, {"confidential": confidential, "reason": reason})
    transaction.on_commit(lambda: certificate_changed.send(sender=Certificate,
                                                           certificate_id=certificate.pk))
    return certificate


@transaction.atomic
def expire_certificate(*, certificate: Certificate, today: datetime.date | None = None
                       ) -> Certificate | None:
    """Mark a certificate expired the day after its expiry date (system action)."""
    today = today or timezone.localdate()
    certificate = _locked(certificate)
    if (not CERTIFICATE_LIFECYCLE.can("expire", certificate.status)
            or certificate.expiry_date >= today):
        return None
    certificate.suspended_until = None
    certificate.suspension_end_proposed_on = None
    # An expiry capped at an edition's transition deadline (``editions.capped_expiry``)
    # passed because the certificate was not moved to the new edition.
    reason = ("Expired: not transitioned to the new edition by the transition deadline"
              if certificate.expiry_before_cap else
              "Expired: not recertified before the expiry date")
    return _change(certificate, action="expire", actor=None, reason=reason,
                   day=certificate.expiry_date + datetime.timedelta(days=1), tell_cb=False)


# --- the daily run -------------------------------------------------------------------------------

def overdue_surveillance(today: datetime.date):
    """Surveillance audits past their due date, not closed, of active certificates."""
    return (Audit.objects.filter(kind__in=SURVEILLANCE_KINDS, target_date__lt=today)
            .exclude(status__in=FINISHED_AUDITS)
            .filter(cycle__certificates__status=S.ACTIVE)
            .select_related("cycle", "cycle__organization").distinct())


@transaction.atomic
def flag_overdue_surveillance(*, audit: Audit, today: datetime.date) -> Certificate | None:
    """E-mail client and CB once about an overdue surveillance and propose suspension
    (§9.6.5: refusal of surveillance at the required frequency).

    Once per overdue audit: a flag dated after this audit's due date was raised for it
    (or for an earlier one overdue at the same time); a later surveillance that falls
    overdue in turn is flagged again."""
    certificate = (Certificate.objects.select_for_update()
                   .filter(cycle=audit.cycle, status=S.ACTIVE).first())
    flagged = certificate.surveillance_flagged_on if certificate else None
    if certificate is None or (flagged and flagged > audit.target_date):
        return None
    certificate.surveillance_flagged_on = today
    certificate.save(update_fields=["surveillance_flagged_on", "updated_at"])
    record_certificate_event(None, "certification.certificate.surveillance_overdue", certificate,
                {"audit": audit.pk, "due": audit.target_date.isoformat()})
    context = {"number": certificate.number, "organization": certificate.organization_name,
               "audit": audit.get_kind_display(), "due": audit.target_date.isoformat(),
               "path": reverse("certificate_detail", args=[certificate.pk])}
    notify(template="surveillance_overdue_client",
           to=member_emails(certificate.organization_id), context=context)
    notify(template="surveillance_overdue_cb", to=staff_emails("manage_certificate_status"), context=context)
    return certificate


@transaction.atomic
def remind_suspension_ending(*, certificate: Certificate, today: datetime.date) -> bool:
    """Before a suspension runs out, tell the CB to restore, reduce the scope or withdraw."""
    certificate = _locked(certificate)
    if certificate.status != S.SUSPENDED or certificate.suspension_reminded_on:
        return False
    certificate.suspension_reminded_on = today
    certificate.save(update_fields=["suspension_reminded_on", "updated_at"])
    record_certificate_event(None, "certification.certificate.suspension_reminded", certificate,
                {"until": certificate.suspended_until.isoformat()})
    _notify_apart(
        template="suspension_ending", certificate=certificate,
        context={"number": certificate.number, "organization": certificate.organization_name,
                 "until": certificate.suspended_until.isoformat(),
                 "path": reverse("certificate_detail", args=[certificate.pk])})
    return True


def withdrawal_due(certificate: Certificate) -> datetime.date | None:
    """When a suspension that ran out is withdrawn automatically (None until proposed)."""
    if certificate.suspension_end_proposed_on is None:
        return None
    return certificate.suspension_end_proposed_on + datetime.timedelta(
        days=settings.SUSPENSION_WITHDRAWAL_GRACE_DAYS)


@transaction.atomic
def propose_suspension_end(*, certificate: Certificate, today: datetime.date) -> bool:
    """A suspension past its last day (ISO/IEC 17021-1 §9.6.5: the issue was not resolved
    in the time set): e-mail the CB's decision makers and administrators, once, that it
    must withdraw the certificate or reduce its scope (or restore it, or extend the
    suspension once), and that it is withdrawn automatically on ``withdrawal_due``."""
    certificate = _locked(certificate)
    if (certificate.status != S.SUSPENDED or certificate.suspension_end_proposed_on
            or certificate.suspended_until is None or certificate.suspended_until >= today):
        return False
    certificate.suspension_end_proposed_on = today
    certificate.save(update_fields=["suspension_end_proposed_on", "updated_at"])
    due = withdrawal_due(certificate)
    record_certificate_event(None, "certification.certificate.suspension_ended", certificate,
                {"until": certificate.suspended_until.isoformat(),
                 "withdrawal_due": due.isoformat(),
                 "extended": certificate.suspension_extended_on is not None})
    notify(template="suspension_end_reached", to=staff_emails("manage_certificate_status"),
           context={"number": certificate.number, "organization": certificate.organization_name,
                    "until": certificate.suspended_until.isoformat(),
                    "withdrawal_due": due.isoformat(),
                    "can_extend": certificate.suspension_extended_on is None,
                    "path": reverse("certificate_detail", args=[certificate.pk])})
    return True


@transaction.atomic
def withdraw_after_suspension(*, certificate: Certificate, today: datetime.date
                              ) -> Certificate | None:
    """Withdraw a certificate whose suspension ran out and on which the CB did not act
    within ``SUSPENSION_WITHDRAWAL_GRACE_DAYS`` of the proposal (system action, through
    the certificate's state machine, with the reason in the status history and the audit
    trail)."""
    certificate = _locked(certificate)
    due = withdrawal_due(certificate)
    if certificate.status != S.SUSPENDED or due is None or today < due:
        return None
    until = certificate.suspended_until
    reason = (f"Withdrawn: the suspension ended on {display_date(until)} without the issue "
              "resolved, and the certification body did not restore, reduce or extend it by "
              f"{display_date(due)}.")
    certificate.suspended_until = None
    certificate.suspension_end_proposed_on = None
    return _change(certificate, action="withdraw", actor=None, reason=reason, day=today,
                   payload={"automatic": True, "suspended_until": until.isoformat()})


def daily_run(today: datetime.date | None = None) -> dict:
    """Expire lapsed certificates, remind about suspensions running out, propose withdrawal
    or scope reduction for suspensions that ran out and withdraw those left past the grace,
    flag overdue surveillance, fail registry imports and exports whose task worker died (without
    progress for ``REGISTRY_JOB_TIMEOUT_MINUTES``). Idempotent: run it as often as you
    like."""
    today = today or timezone.localdate()
    expired = 0
    for certificate in Certificate.objects.filter(status__in=[S.ACTIVE, S.SUSPENDED],
                                                  expiry_date__lt=today):
        if expire_certificate(certificate=certificate, today=today):
            expired += 1
    reminded = 0
    horizon = today + datetime.timedelta(days=settings.SUSPENSION_REMINDER_DAYS)
    for certificate in Certificate.objects.filter(status=S.SUSPENDED,
                                                  suspended_until__lte=horizon,
                                                  suspension_reminded_on__isnull=True):
        reminded += remind_suspension_ending(certificate=certificate, today=today)
    proposed = 0
    for certificate in Certificate.objects.filter(status=S.SUSPENDED, suspended_until__lt=today,
                                                  suspension_end_proposed_on__isnull=True):
        proposed += propose_suspension_end(certificate=certificate, today=today)
    withdrawn = 0
    for certificate in Certificate.objects.filter(status=S.SUSPENDED,
                                                  suspension_end_proposed_on__isnull=False):
        if withdraw_after_suspension(certificate=certificate, today=today):
            withdrawn += 1
    flagged = 0
    for audit in overdue_surveillance(today):
        if flag_overdue_surveillance(audit=audit, today=today):
            flagged += 1
    summary = {"expired": expired, "suspension_reminders": reminded,
               "suspension_ends_proposed": proposed, "withdrawn_after_suspension": withdrawn,
               "surveillance_overdue": flagged}
    # The registry fails its stale import and export jobs here (``daily_run_done``).
    for _receiver, counts in daily_run_done.send(sender=daily_run, today=today):
        summary.update(counts or {})
    return summary
