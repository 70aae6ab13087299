"""Findings and the client's corrective actions (ISO/IEC 17021-1 §9.4.5, §9.4.9).

- team members record graded findings while the audit is in progress, and correct or
  withdraw them until the client answers;
- the client's owners and editors answer nonconformities (``FINDING_LIFECYCLE``);
- team members review answers: a return needs a comment, *verify* is for majors only.
"""



from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import User
from isocert.accounts.permissions import member_emails
from isocert.core.audit import record_event
from isocert.core.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.files import check_upload, store_file
from isocert.core.validation import choice_error
from isocert.core.values import UNSET, given
from isocert.notifications.services import notify

from ..programme.models import Audit
from ..programme.selectors import team_emails
from .common import (
    TEXT_LIMIT,
    can_answer,
    clean_choice,
    clean_clause,
    clean_site,
    clean_text,
    ensure_in_progress,
    ensure_started,
    ensure_team_member,
    locked_audit,
    set_due_dates,
)
from .models import (
    FINDING_LIFECYCLE,
    CorrectiveActionResponse,
    Finding,
)

REVIEW_DECISIONS = {
    "return": CorrectiveActionResponse.Review.RETURNED,
    "accept": CorrectiveActionResponse.Review.ACCEPTED,
    "verify": CorrectiveActionResponse.Review.VERIFIED,
}
# The decisions as the review form offers them (its labels name them in errors too).
REVIEW_DECISION_CHOICES = [("accept", "Accept the plan"),
                           ("verify", "Verify implementation (major)"),
                           ("return", "Return with comments")]
# Findings whose corrective action is finished: nothing more is expected of anyone.
CA_DONE = {Finding.Status.VERIFIED, Finding.Status.NOT_APPLICABLE}


def _finding_values(audit: Audit, data: dict) -> dict:
    errors: dict = {}
    values = {
        "grade": clean_choice(data, "grade", Finding.Grade.choices, "grade", errors),
        "clause": clean_clause(audit, data, errors, required=True),
        "statement": clean_text(data, "statement", "The statement of the finding", errors),
        "objective_evidence": clean_text(data, "objective_evidence", "The objective evidence",
                                         errors),
        "site": clean_site(audit, data, errors),
    }
    if errors:
        raise InvalidInput("The finding was not saved.", fields=errors)
    return values


def _payload(finding: Finding) -> dict:
    return {"audit": finding.audit_id, "number": finding.number, "grade": finding.grade,
            "clause": finding.clause.number, "site": finding.site_id}


@transaction.atomic
def create_finding(*, audit: Audit, actor: User, grade: str = "",
                   clause_id: int | None = None, statement: str = "",
                   objective_evidence: str = "",
                   site_id: int | None = None) -> Finding:
    """Record a graded finding; nonconformities get their corrective-action due dates."""
    ensure_team_member(audit, actor, "record findings")
    audit = locked_audit(audit)
    ensure_in_progress(audit, "recording findings")
    values = _finding_values(audit, {"grade": grade, "clause_id": clause_id,
                                     "statement": statement,
                                     "objective_evidence": objective_evidence,
                                     "site_id": site_id})
    number = (audit.findings.aggregate(n=Max("number"))["n"] or 0) + 1
    finding = Finding(audit=audit, number=number, created_by=actor, **values)
    if not finding.is_nonconformity:  # an observation or opportunity needs no answer
        FINDING_LIFECYCLE.apply(finding, "regrade_no_action")
    set_due_dates(finding, audit)
    finding.save()
    record_event(actor=actor, action="audits.finding.recorded", obj=finding,
                 organization_id=audit.cycle.organization_id, payload=_payload(finding))
    return finding


def _ensure_unanswered(finding: Finding) -> None:
    if finding.responses.exists():
        raise Conflict(f"The client already answered finding #{finding.number}; it can no "
                       "longer be changed or deleted.")


@transaction.atomic
def update_finding(*, finding: Finding, actor: User, grade: str = UNSET,
                   clause_id: int | None = UNSET, statement: str = UNSET,
                   objective_evidence: str = UNSET,
                   site_id: int | None = UNSET) -> Finding:
    """Correct a finding while the audit is in progress and the client has not answered;
    a field left ``UNSET`` keeps its value (the API's PATCH sends only what changes)."""
    data = given(grade=grade, clause_id=clause_id, statement=statement,
                 objective_evidence=objective_evidence, site_id=site_id)
    audit = finding.audit
    ensure_team_member(audit, actor, "change findings")
    audit = locked_audit(audit)
    ensure_in_progress(audit, "changing findings")
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    _ensure_unanswered(finding)
    values = _finding_values(audit, {**{
        "grade": finding.grade, "clause_id": finding.clause_id, "statement": finding.statement,
        "objective_evidence": finding.objective_evidence, "site_id": finding.site_id,
    }, **data})
    for key, value in values.items():
        setattr(finding, key, value)
    FINDING_LIFECYCLE.apply(finding, "regrade_nonconformity" if finding.is_nonconformity
                            else "regrade_no_action")
    set_due_dates(finding, audit)
    finding.save()
    record_event(actor=actor, action="audits.finding.updated", obj=finding,
                 organization_id=audit.cycle.organization_id, payload=_payload(finding))
    return finding


@transaction.atomic
def delete_finding(*, finding: Finding, actor: User) -> None:
    """Withdraw a finding recorded by mistake; the other findings keep their numbers."""
    audit = finding.audit
    ensure_team_member(audit, actor, "delete findings")
    audit = locked_audit(audit)
    ensure_in_progress(audit, "deleting findings")
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    _ensure_unanswered(finding)
    record_event(actor=actor, action="audits.finding.deleted", obj=finding,
                 organization_id=audit.cycle.organization_id, payload=_payload(finding))
    finding.delete()



# From the most to the least severe: an appeal upheld against a grading lowers it.
GRADE_SEVERITY = [Finding.Grade.MAJOR, Finding.Grade.MINOR, Finding.Grade.OBSERVATION,
                  Finding.Grade.OPPORTUNITY]


@transaction.atomic
def regrade_finding_on_appeal(*, finding: Finding, actor: User, grade: str,
                              reason: str) -> Finding:
    """Change a finding's grade because an appeal against the grading was upheld
    (ISO/IEC 17021-1 §9.7); called by the appeals panel's decision, at any point of the
    audit and of the corrective action (unlike ``update_finding``, which is the audit
    team's correction before the client answers).

    The corrective-action requirements follow the new grade (``set_due_dates``, counted
    from the audit's last day as when it was raised): a major become minor needs no
    verification of its implementation any more (``verification_due`` cleared; a minor's
    accepted plan ends its corrective action), a minor become major does; a
    nonconformity become an observation or opportunity needs no answer (status *no
    corrective action needed*), and the reverse opens one. The client's answers stay on
    record. Audit event ``audits.finding.regraded`` with both grades and the reason.

    Refused (nothing written): someone who is not CB staff; an unknown grade or the grade
    it has; no reason.
    """
    if not actor.is_active or not actor.staff_roles_set:
        raise NotPermitted("Only the CB's staff can regrade a finding on appeal.")
    if grade not in Finding.Grade.values:
        message = choice_error(Finding.Grade.choices, what="the grade")
        raise InvalidInput(message, fields={"grade": message})
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the finding is regraded.",
                           fields={"reason": "The reason is required."})
    finding = Finding.objects.select_for_update().select_related(
        "audit__cycle", "clause").get(pk=finding.pk)
    if grade == finding.grade:
        raise InvalidInput(f"Finding #{finding.number} is already graded "
                           f"{finding.get_grade_display().lower()}.",
                           fields={"grade": "Choose another grade."})
    before = {"grade": finding.grade, "status": finding.status,
              "plan_due": finding.plan_due, "verification_due": finding.verification_due}
    was_nonconformity = finding.is_nonconformity
    finding.grade = grade
    if was_nonconformity and not finding.is_nonconformity:
        FINDING_LIFECYCLE.apply(finding, "regrade_on_appeal_no_action")
    elif finding.is_nonconformity and not was_nonconformity:
        FINDING_LIFECYCLE.apply(finding, "regrade_nonconformity")
    set_due_dates(finding, finding.audit)
    finding.save(update_fields=["grade", "status", "plan_due", "verification_due"])
    record_event(actor=actor, action="audits.finding.regraded", obj=finding,
                 organization_id=finding.audit.cycle.organization_id, payload={
                     **_payload(finding), "from": before["grade"], "to": grade,
                     "status_from": before["status"], "status": finding.status,
                     "plan_due": finding.plan_due.isoformat() if finding.plan_due else None,
                     "verification_due": (finding.verification_due.isoformat()
                                          if finding.verification_due else None),
                     "reason": reason})
    return finding


def _finding_mail(finding: Finding, **extra) -> dict:
    audit = finding.audit
    return {"organization": str(audit.cycle.organization), "audit": str(audit.get_kind_display()),
            "number": finding.number, "grade": finding.get_grade_display(),
            "clause": finding.clause.number, "status": finding.get_status_display(),
            "path": reverse("finding_detail", args=[finding.pk]), **extra}


def latest_response(finding: Finding) -> CorrectiveActionResponse | None:
    return finding.responses.order_by("-version").first()


@transaction.atomic
def submit_corrective_action(*, finding: Finding, actor: User, correction: str = "",
                             root_cause: str = "", corrective_action: str = "",
                             upload=None) -> CorrectiveActionResponse:
    """The client's answer to a nonconformity: a new version, kept with all earlier ones.

    For a major whose plan was accepted, the next version shows the implementation.
    """
    audit = finding.audit
    if not can_answer(actor, audit):
        raise NotPermitted("Only an owner or editor of the audited organization can answer "
                           "a nonconformity.")
    audit = locked_audit(audit)
    ensure_started(audit, "answering a nonconformity")
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if not finding.is_nonconformity:
        raise TransitionNotAllowed(f"Finding #{finding.number} is an "
                                   f"{finding.get_grade_display().lower()}; it needs no "
                                   "corrective action.")
    if finding.grade == Finding.Grade.MINOR and finding.status == Finding.Status.PLAN_ACCEPTED:
        raise TransitionNotAllowed("The plan for this minor nonconformity is accepted; its "
                                   "effectiveness is checked at the next audit.")
    status = FINDING_LIFECYCLE.target("submit", finding.status)
    data = {"correction": correction, "root_cause": root_cause,
            "corrective_action": corrective_action}
    errors: dict = {}
    values = {
        "correction": clean_text(data, "correction", "The correction", errors),
        "root_cause": clean_text(data, "root_cause", "The root cause", errors),
        "corrective_action": clean_text(data, "corrective_action", "The corrective action",
                                        errors),
    }
    checked = None
    if upload is not None:
        try:
            checked = check_upload(upload, field="evidence")
        except InvalidInput as exc:
            errors.update(exc.fields)
    if errors:
        raise InvalidInput("The answer was not submitted.", fields=errors)
    version = (finding.responses.aggregate(v=Max("version"))["v"] or 0) + 1
    response = CorrectiveActionResponse.objects.create(
        finding=finding, version=version, submitted_by=actor, **values,
        evidence=store_file(checked) if checked else None,
        evidence_name=(getattr(upload, "name", "") or "")[:255] if checked else "")
    old = finding.status
    FINDING_LIFECYCLE.apply(finding, "submit")
    finding.save(update_fields=["status"])
    record_event(actor=actor, action="audits.corrective_action.submitted", obj=finding,
                 organization_id=audit.cycle.organization_id,
                 payload={"from": old, "to": status, "version": version,
                          "evidence": checked.sha256 if checked else None})
    notify(template="ca_answer_submitted", to=team_emails(audit=audit),
           context=_finding_mail(finding, version=version))
    return response


@transaction.atomic
def review_corrective_action(*, finding: Finding, actor: User, decision: str,
                             comment: str = "") -> Finding:
    """A team member returns, accepts (the plan) or verifies (a major's implementation)."""
    audit = finding.audit
    if decision not in REVIEW_DECISIONS:
        message = choice_error(REVIEW_DECISION_CHOICES, what="the decision")
        raise InvalidInput(message, fields={"decision": message})
    ensure_team_member(audit, actor, "review corrective actions")
    audit = locked_audit(audit)
    ensure_started(audit, "reviewing a corrective action")
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    status = FINDING_LIFECYCLE.target(decision, finding.status)
    if decision == "verify" and finding.grade != Finding.Grade.MAJOR:
        raise TransitionNotAllowed("Only a major nonconformity's implementation is verified; "
                                   "accept the plan of a minor one.")
    comment = (comment or "").strip()
    if decision == "return" and not comment:
        raise InvalidInput("Say what the client must change.",
                           fields={"comment": "A comment is required to return an answer."})
    if len(comment) > TEXT_LIMIT:
        raise InvalidInput("The comment is too long.",
                           fields={"comment": f"At most {TEXT_LIMIT} characters."})
    response = finding.responses.select_for_update().order_by("-version").first()
    response.review = REVIEW_DECISIONS[decision]
    response.review_comment = comment
    response.reviewed_by = actor
    response.reviewed_at = timezone.now()
    response.save(update_fields=["review", "review_comment", "reviewed_by", "reviewed_at"])
    old = finding.status
    FINDING_LIFECYCLE.apply(finding, decision)
    finding.save(update_fields=["status"])
    record_event(actor=actor, action=f"audits.corrective_action.{response.review}",
                 obj=finding, organization_id=audit.cycle.organization_id,
                 payload={"from": old, "to": status, "version": response.version,
                          "comment": comment})
    notify(template="ca_answer_reviewed", to=member_emails(audit.cycle.organization_id),
           context=_finding_mail(finding, version=response.version, comment=comment,
                                 decision=response.get_review_display()))
    return finding
