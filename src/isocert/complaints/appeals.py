"""Appeals (ISO/IEC 17021-1 §9.7): every write, each atomic with its audit event.

A member of the client who may edit for it appeals a certification decision taken on the
organization — a refusal, a suspension, a withdrawal, a scope reduction or a finding's
grading — within ``APPEAL_WINDOW_DAYS``. The CB acknowledges it (§9.7.5), appoints a
panel of persons not involved in the decision appealed (§9.7.4), the panel investigates
and decides (§9.7.6): upheld — the decision is reopened and taken again through
certification's services; dismissed — with reasons. The client gets formal notice
(§9.7.7). An appeal does not stop a suspension unless the panel stays it.
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
from isocert.certification.lifecycle import reinstate_certificate, restore_certificate
from isocert.certification.models import (
    Certificate,
    CertificateStatusChange,
    CertificationDecision,
)
from isocert.certification.services import reopen_decision
from isocert.core.dates import display_date
from isocert.core.errors import InvalidInput, NotPermitted
from isocert.core.validation import clean_reason
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
def appoint_appeal_panel(*, appeal: Appeal, members: list[User], actor: User,
                         stay_suspension: bool = False) -> Appeal:
    """Appoint the panel (§9.7.4): CB staff not involved in the decision appealed
    (``involved_in_appeal``), refused otherwise naming ``member_ids``. The actor may sit
    on it under the same rule. ``stay_suspension`` lifts an appealed suspension while the
    appeal runs (``restore_certificate``, with its own rule on who may change a status);
    without it the suspension stands (§9.7)."""
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
    if stay_suspension and appeal.subject != A.Subject.SUSPENSION:
        raise InvalidInput("Only a suspension can be stayed.",
                           fields={"stay_suspension": "This appeal is not about a suspension."})
    APPEAL_LIFECYCLE.apply(appeal, "appoint_panel")
    appeal.suspension_stayed = stay_suspension
    appeal.save()
    appeal.panel.set(members)
    if stay_suspension and appeal.certificate.status == Certificate.Status.SUSPENDED:
        restore_certificate(certificate=appeal.certificate, actor=actor,
                            reason=f"Suspension stayed by the appeals panel while appeal "
                                   f"{appeal.reference} runs.")
    record_step(actor, "appeal", "panel_appointed", appeal, {
        "panel": sorted(member.email for member in members),
        "suspension_stayed": stay_suspension})
    notify(template="appeal_panel", to=[member.email for member in members], context={
        "reference": appeal.reference, "subject": appeal.get_subject_display(),
        "organization": str(appeal.organization),
        "path": reverse("appeal_detail", args=[appeal.pk])})
    return appeal


def _ensure_panel_member(appeal: Appeal, actor: User) -> None:
    if not appeal.panel.filter(pk=actor.pk).exists():
        raise NotPermitted("Only a member of the appeals panel can do this.")


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
        if appeal.certificate.status == Certificate.Status.SUSPENDED:
            restore_certificate(certificate=appeal.certificate, actor=actor, reason=why)
    elif appeal.subject == A.Subject.WITHDRAWAL:
        reinstate_certificate(certificate=appeal.certificate, actor=actor, reason=why)
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


@transaction.atomic
def decide_appeal(*, appeal: Appeal, actor: User, upheld: bool, reasons: str,
                  new_grade: str = "") -> Appeal:
    """The panel's decision (§9.7.6), with reasons, and formal notice to the client
    (§9.7.7). Upheld: a refusal or scope reduction is reopened for a new decision
    (``certification.services.reopen_decision``), a suspension lifted, a withdrawal
    reinstated (``certification.lifecycle``); a finding's grading is replaced by
    ``new_grade``, a lower one, through the audit conduct's
    ``regrade_finding_on_appeal`` (its corrective-action requirements follow the new grade).
    Refused (nothing written): someone not on the panel; an upheld grading appeal without
    a lower ``new_grade``; a ``new_grade`` on any other outcome."""
    appeal = _locked(appeal)
    _ensure_panel_member(appeal, actor)
    reasons = clean_reason(reasons, field="reasons", what="the reasons for the outcome",
                           limit=20000)
    new_grade = _clean_new_grade(appeal, upheld, new_grade)
    APPEAL_LIFECYCLE.apply(appeal, "uphold" if upheld else "dismiss")
    if upheld:
        _reopen(appeal, actor, reasons, new_grade)
    appeal.outcome_reasons = reasons
    appeal.decided_by = actor
    appeal.decided_at = timezone.now()
    appeal.save()
    record_step(actor, "appeal", "upheld" if upheld else "dismissed", appeal, {
        "reasons": reasons,
        **({"regraded_from": appeal.regraded_from, "regraded_to": appeal.regraded_to}
           if appeal.regraded_to else {})})
    regraded = (f" Finding #{appeal.finding.number} is regraded from "
                f"{Finding.Grade(appeal.regraded_from).label.lower()} to "
                f"{Finding.Grade(appeal.regraded_to).label.lower()}."
                if appeal.regraded_to else "")
    _tell_client(appeal, "appeal_outcome",
                 ("Upheld. " if upheld else "Dismissed. ") + reasons + regraded)
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
