"""Appeals (ISO/IEC 17021-1 §9.7): every write, each atomic with its audit event.

A member of the client who may edit for it appeals a certification decision taken on the
organization — a refusal, a suspension, a withdrawal, a scope reduction or a finding's
grading — within ``APPEAL_WINDOW_DAYS``. The CB acknowledges it (§9.7.5), appoints a
panel of persons not involved in the decision appealed (§9.7.4), the panel investigates
and decides (§9.7.6): upheld — the decision is reopened and taken again through
certification's services; dismissed — with reasons. The client gets formal notice
(§9.7.7). An appeal does not stop a suspension unless the panel stays it
(``stay_suspension``): the certificate is restored while the appeal runs; dismissed, the
suspension resumes (``certification.lifecycle.suspend_certificate``); upheld, it stays
lifted.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import Organization, User
from isocert.accounts.permissions import can, can_in, member_emails, staff_emails
from isocert.audits.conduct.services import GRADE_SEVERITY, regrade_finding_on_appeal
from isocert.audits.models import Audit, Finding
from isocert.certification.lifecycle import (
    reinstate_certificate,
    restore_certificate,
    suspend_certificate,
)
from isocert.certification.models import (
    Certificate,
    CertificateStatusChange,
    CertificationDecision,
)
from isocert.certification.services import reopen_decision
from isocert.core.dates import display_date
from isocert.core.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.validation import clean_date, clean_reason
from isocert.notifications.services import notify

from .common import checked_attachments, new_reference, record_step, store_attachments
from .involvement import ensure_not_involved, involvement
from .models import APPEAL_LIFECYCLE, Appeal, AppealAttachment

A = Appeal
REFERENCE_FORMAT = "APL-{year}-{seq:06d}"
D = CertificationDecision


def ensure_appeal_handler(actor: User) -> None:
    if not can(actor, "handle_appeals"):
        raise NotPermitted("Only CB staff who handle appeals can do this.")


def _locked(appeal: Appeal) -> Appeal:
    return Appeal.objects.select_for_update().get(pk=appeal.pk)




def _tell_client(appeal: Appeal, template: str, text: str = "") -> None:
    notify(template=template, to=member_emails(appeal.organization_id), context={
        "reference": appeal.reference, "subject": appeal.get_subject_display(), "text": text,
        "path": reverse("appeal_detail", args=[appeal.pk])})


def _last_status_change(certificate: Certificate, status: str) -> CertificateStatusChange | None:
    return (certificate.status_history.filter(status=status).order_by("-date", "-pk").first())


def appealed_matter(*, subject: str, decision: CertificationDecision | None,
                    certificate: Certificate | None, finding: Finding | None
                    ) -> tuple[Organization, datetime.date]:
    """The organization the decision appealed concerns and the day it was taken; refuses a
    subject that does not match what is named (the field is named)."""
    if subject in (A.Subject.REFUSAL, A.Subject.SCOPE_REDUCTION):
        wanted = (D.Outcome.REFUSE if subject == A.Subject.REFUSAL else D.Outcome.GRANT)
        if decision is None or decision.outcome != wanted or (
                subject == A.Subject.SCOPE_REDUCTION and decision.kind != D.Kind.SCOPE_REDUCTION):
            raise InvalidInput("Name the decision appealed.", fields={
                "decision_id": f"A {A.Subject(subject).label.lower()} decision."})
        return decision.cycle.organization, decision.decision_date
    if subject in (A.Subject.SUSPENSION, A.Subject.WITHDRAWAL):
        status = (Certificate.Status.SUSPENDED if subject == A.Subject.SUSPENSION
                  else Certificate.Status.WITHDRAWN)
        change = (_last_status_change(certificate, status)
                  if certificate is not None and certificate.status == status else None)
        if change is None or certificate.organization is None:
            raise InvalidInput("Name the certificate whose status is appealed.", fields={
                "certificate_id": f"A certificate that is {status.lower()} now."})
        return certificate.organization, change.date
    if subject == A.Subject.FINDING_GRADE:
        if finding is None:
            raise InvalidInput("Name the finding whose grading is appealed.",
                               fields={"finding_id": "Choose the finding."})
        return finding.audit.cycle.organization, timezone.localtime(finding.created_at).date()
    raise InvalidInput("Choose what is appealed.", fields={
        "subject": "Refusal, suspension, withdrawal, scope reduction or a finding's grading."})


def _ensure_not_resumed_on_appeal(certificate: Certificate, suspended_on: datetime.date
                                  ) -> None:
    """A suspension resumed because its appeal was dismissed (``decide_appeal``) is not
    appealed again (§9.7: that appeal was decided); a later suspension may be."""
    for earlier in Appeal.objects.filter(certificate=certificate, subject=A.Subject.SUSPENSION,
                                         resumed_until__isnull=False):
        if timezone.localtime(earlier.decided_at).date() == suspended_on:
            raise InvalidInput(
                f"This suspension resumed when appeal {earlier.reference} against it was "
                f"dismissed on {display_date(suspended_on)}; that appeal is decided.",
                fields={"certificate_id": "A certificate suspended by a later decision."})


@transaction.atomic
def lodge_appeal(*, subject: str, grounds: str, actor: User,
                 decision: CertificationDecision | None = None,
                 certificate: Certificate | None = None, finding: Finding | None = None,
                 attachments: list | None = None) -> Appeal:
    """Appeal a decision taken on the actor's organization (§9.7.1), within
    ``APPEAL_WINDOW_DAYS`` of it. Refused: someone who may not edit for the organization
    (403); a subject that does not match the decision, certificate or finding named; an
    appeal after the window; no grounds; files the upload checks refuse."""
    organization, decided_on = appealed_matter(subject=subject, decision=decision,
                                               certificate=certificate, finding=finding)
    if not can_in(actor, "edit", organization):
        raise NotPermitted("Only an owner or editor of the organization can appeal.")
    grounds = clean_reason(grounds, field="grounds", what="the grounds for the appeal",
                           limit=20000)
    today = timezone.localdate()
    deadline = decided_on + datetime.timedelta(days=settings.APPEAL_WINDOW_DAYS)
    if today > deadline:
        raise InvalidInput(
            f"An appeal is lodged within {settings.APPEAL_WINDOW_DAYS} days of the decision; "
            f"this one was taken on {display_date(decided_on)}.",
            fields={"subject": f"The window closed on {display_date(deadline)}."})
    if subject == A.Subject.SUSPENSION:
        _ensure_not_resumed_on_appeal(certificate, decided_on)
    checked = checked_attachments(attachments)
    appeal = Appeal.objects.create(
        reference=new_reference(REFERENCE_FORMAT, "appeal", today),
        organization=organization, subject=subject, decision=decision,
        certificate=certificate or (decision.certificate if decision else None),
        finding=finding, decided_on=decided_on, grounds=grounds, lodged_by=actor)
    store_attachments(AppealAttachment, checked, appeal=appeal)
    record_step(actor, "appeal", "lodged", appeal, {
        "subject": subject, "decided_on": decided_on.isoformat(),
        "decision": decision.pk if decision else None, "attachments": len(checked)})
    notify(template="appeal_lodged", to=staff_emails("handle_appeals"), context={
        "reference": appeal.reference, "subject": appeal.get_subject_display(),
        "organization": str(organization), "path": reverse("appeal_detail", args=[appeal.pk])})
    return appeal


@transaction.atomic
def acknowledge_appeal(*, appeal: Appeal, actor: User) -> Appeal:
    """Acknowledge receipt (§9.7.5): the client's members get an e-mail with the reference."""
    ensure_appeal_handler(actor)
    appeal = _locked(appeal)
    APPEAL_LIFECYCLE.apply(appeal, "acknowledge")
    appeal.acknowledged_at = timezone.now()
    appeal.save()
    record_step(actor, "appeal", "acknowledged", appeal)
    _tell_client(appeal, "appeal_acknowledged")
    return appeal


def involved_in_appeal(appeal: Appeal) -> dict[int, str]:
    """Who took part in the decision appealed (§9.7.4): its decision maker, the audit teams,
    deciders and reviewer of its cycle, the person who suspended or withdrew the
    certificate, the team of the audit whose finding is appealed."""
    cycles, audits, extra = [], [], {}
    if appeal.decision is not None:
        cycles.append(appeal.decision.cycle)
        extra[appeal.decision.decided_by_id] = "took the decision appealed"
    if appeal.certificate is not None and appeal.certificate.cycle_id:
        cycles.append(appeal.certificate.cycle)
        if appeal.subject in (A.Subject.SUSPENSION, A.Subject.WITHDRAWAL):
            status = (Certificate.Status.SUSPENDED if appeal.subject == A.Subject.SUSPENSION
                      else Certificate.Status.WITHDRAWN)
            change = _last_status_change(appeal.certificate, status)
            if change is not None and change.actor_id:
                extra[change.actor_id] = f"{status.lower()} the certificate"
    if appeal.finding is not None:
        audits.append(appeal.finding.audit)
        cycles.append(appeal.finding.audit.cycle)
        if appeal.finding.created_by_id:
            extra[appeal.finding.created_by_id] = "raised the finding"
    audits.extend(Audit.objects.filter(cycle__in=cycles))
    return involvement(audits=audits, cycles=cycles, extra=extra)


@transaction.atomic
def appoint_appeal_panel(*, appeal: Appeal, members: list[User], actor: User) -> Appeal:
    """Appoint the panel (§9.7.4): CB staff not involved in the decision appealed
    (``involved_in_appeal``), refused otherwise naming ``member_ids``. The actor may sit
    on it under the same rule. An appealed suspension stands (§9.7) unless the panel,
    once appointed, stays it (``stay_suspension``)."""
    ensure_appeal_handler(actor)
    if not members:
        raise InvalidInput("Appoint at least one panel member.",
                           fields={"member_ids": "Choose the panel."})
    for member in members:
        if not member.is_active or not member.staff_roles_set:
            raise InvalidInput("Panel members are CB staff.",
                               fields={"member_ids": f"{member} is not CB staff."})
    appeal = _locked(appeal)
    involved = involved_in_appeal(appeal)
    for member in members:
        ensure_not_involved(member, involved, field="member_ids", role="appeals panel")
    APPEAL_LIFECYCLE.apply(appeal, "appoint_panel")
    appeal.save()
    appeal.panel.set(members)
    record_step(actor, "appeal", "panel_appointed", appeal, {
        "panel": sorted(member.email for member in members)})
    notify(template="appeal_panel", to=[member.email for member in members], context={
        "reference": appeal.reference, "subject": appeal.get_subject_display(),
        "organization": str(appeal.organization),
        "path": reverse("appeal_detail", args=[appeal.pk])})
    return appeal


def _ensure_panel_member(appeal: Appeal, actor: User) -> None:
    if not appeal.panel.filter(pk=actor.pk).exists():
        raise NotPermitted("Only a member of the appeals panel can do this.")


# While the panel has the appeal: appointed, before its decision.
PANEL_HAS_IT = {A.Status.PANEL_APPOINTED, A.Status.INVESTIGATED}


def _ensure_stay_possible(appeal: Appeal) -> None:
    """A stay needs an open appeal of a suspension, before the panel's decision, not
    stayed already, whose certificate is still suspended by the suspension appealed (the
    last suspension on record dates from the day the appeal names)."""
    if appeal.subject != A.Subject.SUSPENSION:
        raise TransitionNotAllowed("Only an appeal against a suspension can stay it.")
    if appeal.status not in PANEL_HAS_IT:
        raise TransitionNotAllowed("The panel stays a suspension after it is appointed and "
                                   "before it decides the appeal.")
    if appeal.suspension_stayed:
        raise TransitionNotAllowed(f"The suspension was stayed on "
                                   f"{display_date(timezone.localtime(appeal.stayed_at).date())}.")
    certificate = appeal.certificate
    change = _last_status_change(certificate, Certificate.Status.SUSPENDED)
    if (certificate.status != Certificate.Status.SUSPENDED or change is None
            or change.date != appeal.decided_on):
        raise TransitionNotAllowed(
            f"Certificate {certificate.number} is not suspended by the suspension appealed "
            f"(it is {certificate.get_status_display().lower()}): there is nothing to stay.")


def stay_possible(appeal: Appeal) -> bool:
    """Whether ``stay_suspension`` would accept this appeal now (who acts aside)."""
    try:
        _ensure_stay_possible(appeal)
    except TransitionNotAllowed:
        return False
    return True


@transaction.atomic
def stay_suspension(*, appeal: Appeal, reason: str, actor: User) -> Appeal:
    """The panel stays the suspension appealed while the appeal runs (ISO/IEC 17021-1 §9.7:
    an appeal does not stop a suspension unless the panel decides so). The certificate is
    restored through ``certification.lifecycle.restore_certificate`` (``on_appeal``), its
    public history saying "Suspension stayed pending appeal APL-…" with the reason, and the
    client and the CB told as of any restoration; the appeal keeps the end the suspension
    had (``stayed_until``), until which a dismissal resumes it.

    Refused, nothing written: someone not on the panel (403); no reason; an appeal not about
    a suspension, not with the panel, stayed already, or whose certificate is not suspended
    by the suspension appealed (409); a certificate whose expiry passed (422, from the
    lifecycle)."""
    appeal = _locked(appeal)
    _ensure_panel_member(appeal, actor)
    reason = clean_reason(reason, field="reason", what="why the suspension is stayed",
                          limit=5000)
    _ensure_stay_possible(appeal)
    stayed_until = appeal.certificate.suspended_until
    restore_certificate(certificate=appeal.certificate, actor=actor, on_appeal=appeal.reference,
                        reason=f"Suspension stayed pending appeal {appeal.reference}: {reason}")
    appeal.suspension_stayed = True
    appeal.stayed_by = actor
    appeal.stayed_at = timezone.now()
    appeal.stay_reason = reason
    appeal.stayed_until = stayed_until
    appeal.save()
    record_step(actor, "appeal", "suspension_stayed", appeal, {
        "certificate": appeal.certificate.number, "reason": reason,
        "suspended_until": stayed_until.isoformat() if stayed_until else None})
    return appeal


@transaction.atomic
def record_appeal_investigation(*, appeal: Appeal, actor: User, investigation: str) -> Appeal:
    """A panel member records the investigation (§9.7.6). Refused for anyone else."""
    appeal = _locked(appeal)
    _ensure_panel_member(appeal, actor)
    investigation = clean_reason(investigation, field="investigation",
                                 what="what the investigation found", limit=20000)
    APPEAL_LIFECYCLE.apply(appeal, "record_investigation")
    appeal.investigation = investigation
    appeal.investigated_at = timezone.now()
    appeal.save()
    record_step(actor, "appeal", "investigated", appeal)
    return appeal


def _reopen(appeal: Appeal, actor: User, reasons: str, new_grade: str) -> None:
    """What an upheld appeal does to the decision appealed."""
    why = f"Appeal {appeal.reference} upheld: {reasons}"
    if appeal.subject in (A.Subject.REFUSAL, A.Subject.SCOPE_REDUCTION):
        reopen_decision(decision=appeal.decision, actor=actor, reason=why)
    elif appeal.subject == A.Subject.SUSPENSION:
        # A stayed suspension is lifted already: the stay just ends.
        if appeal.certificate.status == Certificate.Status.SUSPENDED:
            restore_certificate(certificate=appeal.certificate, actor=actor, reason=why,
                                on_appeal=appeal.reference)
    elif appeal.subject == A.Subject.WITHDRAWAL:
        reinstate_certificate(certificate=appeal.certificate, actor=actor, reason=why,
                              on_appeal=appeal.reference)
    elif appeal.subject == A.Subject.FINDING_GRADE:
        appeal.regraded_from = appeal.finding.grade
        appeal.regraded_to = new_grade
        regrade_finding_on_appeal(finding=appeal.finding, actor=actor, grade=new_grade,
                                  reason=why)


def _clean_new_grade(appeal: Appeal, upheld: bool, new_grade: str) -> str:
    """The grade an upheld grading appeal gives the finding: required then, and less
    severe than the one appealed (the client appealed against it); refused otherwise."""
    new_grade = (new_grade or "").strip()
    if not (upheld and appeal.subject == A.Subject.FINDING_GRADE):
        if new_grade:
            raise InvalidInput("A new grade is given only when a grading appeal is upheld.",
                               fields={"new_grade": "Leave empty."})
        return ""
    current = appeal.finding.grade
    lower = GRADE_SEVERITY[GRADE_SEVERITY.index(current) + 1:]
    if new_grade not in lower:
        labels = ", ".join(Finding.Grade(grade).label.lower() for grade in lower)
        raise InvalidInput(
            f"An upheld grading appeal lowers the grade of finding #{appeal.finding.number} "
            f"({Finding.Grade(current).label.lower()}): choose {labels or 'nothing lower'}.",
            fields={"new_grade": "Choose the new, lower grade."})
    return new_grade


def _clean_resume_until(appeal: Appeal, upheld: bool, value, today: datetime.date
                        ) -> datetime.date | None:
    """The end of the suspension a dismissed stayed appeal resumes (§9.7): the end it had
    when stayed, if still to come — then no other date is taken (the dismissal leaves the
    suspension as decided); once that day has passed, the date the panel's decider gives,
    required then (the CB's choice: the panel sets the new end rather than the suspension
    ending unresolved or the certificate staying active). Refused with any other outcome.
    Returns None when nothing resumes."""
    given = clean_date(value, "suspended_until") if value not in (None, "") else None
    resumes = not upheld and appeal.suspension_stayed
    if not resumes:
        if given is not None:
            raise InvalidInput("An end of the suspension is given only when a stayed "
                               "suspension's appeal is dismissed.",
                               fields={"suspended_until": "Leave empty."})
        return None
    original = appeal.stayed_until
    if original is not None and original > today:
        if given is not None and given != original:
            raise InvalidInput(
                f"The suspension resumes until its end, {display_date(original)}.",
                fields={"suspended_until": "Leave empty: the suspension keeps its end."})
        return original
    if given is None:
        ended = (f"was to end on {display_date(original)}, which has passed"
                 if original else "had no end on record")
        raise InvalidInput(
            f"The suspension stayed {ended}: give the day the resumed suspension ends "
            f"(at most {settings.SUSPENSION_MAX_MONTHS} months on).",
            fields={"suspended_until": "The last day of the resumed suspension."})
    return given


def _resume_suspension(appeal: Appeal, actor: User, until: datetime.date) -> bool:
    """Suspend again the certificate whose suspension the panel stayed, the appeal being
    dismissed (§9.7), through ``certification.lifecycle.suspend_certificate``: status,
    public history, audit event and the client's e-mail as for any suspension. A
    certificate no longer active (suspended anew, withdrawn or expired meanwhile) is left
    as it is: the CB acts on it with the certificate's own actions. A refusal of the
    lifecycle (an end past ``SUSPENSION_MAX_MONTHS``) names ``suspended_until``."""
    certificate = Certificate.objects.get(pk=appeal.certificate_id)
    if certificate.status != Certificate.Status.ACTIVE:
        return False
    original = appeal.stayed_until
    end = display_date(until)
    reason = (f"Suspension resumed: appeal {appeal.reference} dismissed; the suspension of "
              f"{display_date(appeal.decided_on)} stands until {end}."
              if original == until else
              f"Suspension resumed: appeal {appeal.reference} dismissed; the suspension of "
              f"{display_date(appeal.decided_on)} was to end on "
              f"{display_date(original) if original else '—'}, which passed while it was "
              f"stayed; the appeals panel set its end to {end}.")
    try:
        suspend_certificate(certificate=certificate, actor=actor, reason=reason, until=until,
                            on_appeal=appeal.reference)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, fields={
            "suspended_until": " ".join(exc.fields.values()) or exc.message}) from exc
    return True


@transaction.atomic
def decide_appeal(*, appeal: Appeal, actor: User, upheld: bool, reasons: str,
                  new_grade: str = "", suspended_until: datetime.date | None = None) -> Appeal:
    """The panel's decision (§9.7.6), with reasons, and formal notice to the client
    (§9.7.7). Upheld: a refusal or scope reduction is reopened for a new decision
    (``certification.services.reopen_decision``), a suspension lifted, a withdrawal
    reinstated (``certification.lifecycle``); a finding's grading is replaced by
    ``new_grade``, a lower one, through the audit conduct's
    ``regrade_finding_on_appeal`` (its corrective-action requirements follow the new grade).
    A suspension the panel stayed (``stay_suspension``): upheld, the stay just ends (the
    certificate stays active); dismissed, the suspension resumes (``_resume_suspension``)
    until the end it had when stayed, or — that day passed — until ``suspended_until``.
    Refused (nothing written): someone not on the panel; an upheld grading appeal without
    a lower ``new_grade``; a ``new_grade`` on any other outcome; a dismissed stayed appeal
    whose suspension's end passed without ``suspended_until``, or ``suspended_until``
    given otherwise."""
    appeal = _locked(appeal)
    _ensure_panel_member(appeal, actor)
    reasons = clean_reason(reasons, field="reasons", what="the reasons for the outcome",
                           limit=20000)
    new_grade = _clean_new_grade(appeal, upheld, new_grade)
    resume_until = _clean_resume_until(appeal, upheld, suspended_until, timezone.localdate())
    APPEAL_LIFECYCLE.apply(appeal, "uphold" if upheld else "dismiss")
    if upheld:
        _reopen(appeal, actor, reasons, new_grade)
    elif resume_until is not None and _resume_suspension(appeal, actor, resume_until):
        appeal.resumed_until = resume_until
    appeal.outcome_reasons = reasons
    appeal.decided_by = actor
    appeal.decided_at = timezone.now()
    appeal.save()
    record_step(actor, "appeal", "upheld" if upheld else "dismissed", appeal, {
        "reasons": reasons,
        **({"regraded_from": appeal.regraded_from, "regraded_to": appeal.regraded_to}
           if appeal.regraded_to else {}),
        **({"suspension_resumed_until": appeal.resumed_until.isoformat()}
           if appeal.resumed_until else {})})
    regraded = (f" Finding #{appeal.finding.number} is regraded from "
                f"{Finding.Grade(appeal.regraded_from).label.lower()} to "
                f"{Finding.Grade(appeal.regraded_to).label.lower()}."
                if appeal.regraded_to else "")
    resumed = (f" The suspension of certificate {appeal.certificate.number} resumes until "
               f"{display_date(appeal.resumed_until)}." if appeal.resumed_until else "")
    _tell_client(appeal, "appeal_outcome",
                 ("Upheld. " if upheld else "Dismissed. ") + reasons + regraded + resumed)
    return appeal


@transaction.atomic
def close_appeal(*, appeal: Appeal, actor: User) -> Appeal:
    """Record the end of the appeal (§9.7.7)."""
    ensure_appeal_handler(actor)
    appeal = _locked(appeal)
    APPEAL_LIFECYCLE.apply(appeal, "close")
    appeal.closed_at = timezone.now()
    appeal.save()
    record_step(actor, "appeal", "closed", appeal)
    return appeal
