"""Every write of an audit's conduct: checklist, records, findings, corrective actions,
reports and closing (ISO/IEC 17021-1 §9.4).

Guards, in the order they are checked:

- recording (checklist, records, findings) is for the audit's team members only, and
  only while the audit is in progress;
- the client's owners and editors answer nonconformities (``CA_LIFECYCLE``): open or
  returned → submitted → returned | plan accepted | verified. Majors end *verified*
  (implementation), minors *plan accepted*; observations and opportunities for
  improvement need no answer (status n/a);
- team members review answers: a return needs a comment, *verify* is for majors only;
- the lead auditor issues the report (revision 1) and corrects it by new revisions with
  a reason; the old revisions are kept. "Recommend" is refused while a major is not
  verified, "after majors" needs majors;
- the lead auditor closes the audit; stage 1 needs an issued report saying whether the
  client is ready for stage 2, every other audit an issued report with a recommendation.

CB-internal: the checklist's notes and the audit records (the auditor's working papers);
clients see findings, their answers, and reports.
"""

import datetime
import hashlib
from decimal import Decimal, InvalidOperation
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import Membership, Site, User
from isocert.catalog.models import Clause
from isocert.core.audit import record_event
from isocert.core.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from isocert.core.files import UploadCheck, check_upload, store_file
from isocert.core.models import AuditEvent
from isocert.core.statemachine import StateMachine
from isocert.core.validation import choice_error
from isocert.notifications.services import notify

from .models import (
    Audit,
    AuditRecord,
    AuditReport,
    ClauseCoverage,
    CorrectiveActionResponse,
    Finding,
    TeamMember,
)

S = Finding.Status
CA_LIFECYCLE = StateMachine("corrective action", {
    "submit": ({S.OPEN, S.RETURNED, S.PLAN_ACCEPTED}, S.SUBMITTED),
    "return": ({S.SUBMITTED}, S.RETURNED),
    "accept": ({S.SUBMITTED}, S.PLAN_ACCEPTED),
    "verify": ({S.SUBMITTED}, S.VERIFIED),
}, labels=dict(Finding.Status.choices))
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
CA_DONE = {S.VERIFIED, S.NOT_APPLICABLE}
TEXT_LIMIT = 10_000
REMINDER_ACTION = "audits.audit.ca_reminder_sent"


# --- guards ------------------------------------------------------------------------------------

def _locked(audit: Audit) -> Audit:
    """Re-read the audit under a row lock: its status and finding numbers can't race."""
    return (Audit.objects.select_for_update().select_related("cycle", "cycle__organization")
            .get(pk=audit.pk))


def is_team_member(user: User, audit: Audit) -> bool:
    return bool(getattr(user, "pk", None)) and TeamMember.objects.filter(
        audit_id=audit.pk, auditor_id=user.pk).exists()


def is_lead_auditor(user: User, audit: Audit) -> bool:
    return bool(getattr(user, "pk", None)) and TeamMember.objects.filter(
        audit_id=audit.pk, auditor_id=user.pk, role=TeamMember.Role.LEAD).exists()


def can_answer(user: User, audit: Audit) -> bool:
    """Owners and editors of the audited organization answer nonconformities."""
    return Membership.objects.filter(
        organization_id=audit.cycle.organization_id, user_id=getattr(user, "pk", None),
        role__in=[Membership.Role.OWNER, Membership.Role.EDITOR]).exists()


def _ensure_team_member(audit: Audit, actor: User, what: str) -> None:
    if not is_team_member(actor, audit):
        raise NotPermitted(f"Only a member of this audit's team can {what}.")


def _ensure_lead(audit: Audit, actor: User, what: str) -> None:
    if not is_lead_auditor(actor, audit):
        raise NotPermitted(f"Only the lead auditor of this audit can {what}.")


def _ensure_in_progress(audit: Audit, what: str) -> None:
    if audit.status != Audit.Status.IN_PROGRESS:
        raise TransitionNotAllowed(
            f"This audit is {audit.get_status_display().lower()}; {what} is only possible "
            "while it is in progress.")


def _ensure_started(audit: Audit, what: str) -> None:
    """Answers, reviews and report corrections go on after the audit closes."""
    if audit.status not in (Audit.Status.IN_PROGRESS, Audit.Status.CLOSED):
        raise TransitionNotAllowed(
            f"This audit is {audit.get_status_display().lower()}; {what} is only possible "
            "once it has started.")


# --- input cleaning ----------------------------------------------------------------------------

def _text(data: dict, field: str, label: str, errors: dict, *, required=True,
          limit=TEXT_LIMIT) -> str:
    value = str(data.get(field) or "").strip()
    if required and not value:
        errors[field] = f"{label} is required."
    elif len(value) > limit:
        errors[field] = f"{label} may be at most {limit} characters."
    return value


def _id(value):
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def audit_clauses(audit: Audit):
    """The clauses of the audit's standards (the checklist's rows, the findings' choices)."""
    return (Clause.objects.filter(standard__in=audit.cycle.standards.all())
            .select_related("standard").order_by("standard__code", "position"))


def audit_sites(audit: Audit):
    return Site.objects.filter(organization_id=audit.cycle.organization_id)


def _clause(audit: Audit, data: dict, errors: dict, *, required: bool) -> Clause | None:
    clause_id = _id(data.get("clause_id"))
    if clause_id is None:
        if required:
            errors["clause_id"] = "Choose the clause."
        return None
    clause = audit_clauses(audit).filter(pk=clause_id).first()
    if clause is None:
        errors["clause_id"] = "Choose a clause of the audited standards."
    return clause


def _site(audit: Audit, data: dict, errors: dict) -> Site | None:
    site_id = _id(data.get("site_id"))
    if site_id is None:
        return None
    site = audit_sites(audit).filter(pk=site_id).first()
    if site is None:
        errors["site_id"] = "Choose one of the audited organization's sites."
    return site


def _choice(data: dict, field: str, choices, label: str, errors: dict) -> str:
    value = str(data.get(field) or "")
    if value not in dict(choices):
        errors[field] = choice_error(choices, what=f"the {label}")
    return value


def _half_days(value, field: str, errors: dict) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        days = Decimal(str(value))
        if not days.is_finite() or days <= 0 or days > 1000 or (days * 2) % 1:
            raise InvalidOperation
        return days
    except (InvalidOperation, ValueError):
        errors[field] = "Days spent must be a number of half days above 0, e.g. 2.5."
        return None


# --- checklist ---------------------------------------------------------------------------------

@transaction.atomic
def prepare_checklist(audit: Audit) -> int:
    """Give the audit one checklist row per clause of its standards; returns how many were added.

    Called when the audit starts; idempotent (rows already there are kept with their notes).
    """
    have = set(ClauseCoverage.objects.filter(audit=audit).values_list("clause_id", flat=True))
    rows = [ClauseCoverage(audit=audit, clause=clause)
            for clause in audit_clauses(audit) if clause.pk not in have]
    ClauseCoverage.objects.bulk_create(rows)
    if rows:
        record_event(actor=None, action="audits.checklist.prepared", obj=audit,
                     organization_id=audit.cycle.organization_id, payload={"rows": len(rows)})
    return len(rows)


@transaction.atomic
def update_coverage(*, coverage: ClauseCoverage, actor: User, covered: bool | None = None,
                    internal_notes: str | None = None) -> ClauseCoverage:
    """Tick a clause as covered and keep the CB's internal notes on it."""
    audit = coverage.audit
    _ensure_team_member(audit, actor, "fill in the checklist")
    audit = _locked(audit)
    _ensure_in_progress(audit, "filling in the checklist")
    coverage = ClauseCoverage.objects.select_for_update().get(pk=coverage.pk)
    errors: dict = {}
    if internal_notes is not None:
        internal_notes = _text({"internal_notes": internal_notes}, "internal_notes",
                               "Internal notes", errors, required=False)
    if errors:
        raise InvalidInput("The checklist row was not saved.", fields=errors)
    if covered is not None:
        coverage.covered = bool(covered)
    if internal_notes is not None:
        coverage.internal_notes = internal_notes
    coverage.save(update_fields=["covered", "internal_notes"])
    record_event(actor=actor, action="audits.coverage.updated", obj=coverage,
                 organization_id=audit.cycle.organization_id,
                 payload={"audit": audit.pk, "clause": coverage.clause.number,
                          "covered": coverage.covered})
    return coverage


# --- records -----------------------------------------------------------------------------------

@transaction.atomic
def add_record(*, audit: Audit, actor: User, data: dict, upload=None) -> AuditRecord:
    """Keep what the auditor saw (document review, interview, site observation), with a file."""
    _ensure_team_member(audit, actor, "record audit evidence")
    audit = _locked(audit)
    _ensure_in_progress(audit, "recording")
    errors: dict = {}
    kind = _choice(data, "kind", AuditRecord.Kind.choices, "kind of record", errors)
    text = _text(data, "text", "What you saw", errors)
    clause = _clause(audit, data, errors, required=False)
    site = _site(audit, data, errors)
    checked = None
    if upload is not None:
        try:
            checked = check_upload(upload, field="file")
        except InvalidInput as exc:
            errors.update(exc.fields)
    if errors:
        raise InvalidInput("The record was not saved.", fields=errors)
    record = AuditRecord.objects.create(
        audit=audit, kind=kind, text=text, clause=clause, site=site,
        file=store_file(checked) if checked else None, created_by=actor)
    record_event(actor=actor, action="audits.record.added", obj=record,
                 organization_id=audit.cycle.organization_id,
                 payload={"audit": audit.pk, "kind": kind,
                          "file": checked.sha256 if checked else None})
    return record


# --- findings ----------------------------------------------------------------------------------

def audit_last_day(audit: Audit) -> datetime.date:
    """The day corrective-action deadlines count from: the audit's last day."""
    if audit.end_date:
        return audit.end_date
    if audit.closed_at:
        return timezone.localdate(audit.closed_at)
    return timezone.localdate()


def _set_due_dates(finding: Finding, audit: Audit) -> None:
    last_day = audit_last_day(audit)
    if finding.is_nonconformity:
        finding.plan_due = last_day + datetime.timedelta(days=settings.CORRECTIVE_PLAN_DUE_DAYS)
    else:
        finding.plan_due = None
    if finding.grade == Finding.Grade.MAJOR:
        finding.verification_due = last_day + datetime.timedelta(
            days=settings.MAJOR_VERIFICATION_DUE_DAYS)
    else:
        finding.verification_due = None


def _finding_values(audit: Audit, data: dict) -> dict:
    errors: dict = {}
    values = {
        "grade": _choice(data, "grade", Finding.Grade.choices, "grade", errors),
        "clause": _clause(audit, data, errors, required=True),
        "statement": _text(data, "statement", "The statement of the finding", errors),
        "objective_evidence": _text(data, "objective_evidence", "The objective evidence",
                                    errors),
        "site": _site(audit, data, errors),
    }
    if errors:
        raise InvalidInput("The finding was not saved.", fields=errors)
    return values


def _payload(finding: Finding) -> dict:
    return {"audit": finding.audit_id, "number": finding.number, "grade": finding.grade,
            "clause": finding.clause.number, "site": finding.site_id}


@transaction.atomic
def create_finding(*, audit: Audit, actor: User, data: dict) -> Finding:
    """Record a graded finding; nonconformities get their corrective-action due dates."""
    _ensure_team_member(audit, actor, "record findings")
    audit = _locked(audit)
    _ensure_in_progress(audit, "recording findings")
    values = _finding_values(audit, data)
    number = (audit.findings.aggregate(n=Max("number"))["n"] or 0) + 1
    finding = Finding(audit=audit, number=number, created_by=actor, **values)
    finding.status = S.OPEN if finding.is_nonconformity else S.NOT_APPLICABLE
    _set_due_dates(finding, audit)
    finding.save()
    record_event(actor=actor, action="audits.finding.recorded", obj=finding,
                 organization_id=audit.cycle.organization_id, payload=_payload(finding))
    return finding


def _ensure_unanswered(finding: Finding) -> None:
    if finding.responses.exists():
        raise Conflict(f"The client already answered finding #{finding.number}; it can no "
                       "longer be changed or deleted.")


@transaction.atomic
def update_finding(*, finding: Finding, actor: User, data: dict) -> Finding:
    """Correct a finding while the audit is in progress and the client has not answered."""
    audit = finding.audit
    _ensure_team_member(audit, actor, "change findings")
    audit = _locked(audit)
    _ensure_in_progress(audit, "changing findings")
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    _ensure_unanswered(finding)
    values = _finding_values(audit, {**{
        "grade": finding.grade, "clause_id": finding.clause_id, "statement": finding.statement,
        "objective_evidence": finding.objective_evidence, "site_id": finding.site_id,
    }, **data})
    for key, value in values.items():
        setattr(finding, key, value)
    finding.status = S.OPEN if finding.is_nonconformity else S.NOT_APPLICABLE
    _set_due_dates(finding, audit)
    finding.save()
    record_event(actor=actor, action="audits.finding.updated", obj=finding,
                 organization_id=audit.cycle.organization_id, payload=_payload(finding))
    return finding


@transaction.atomic
def delete_finding(*, finding: Finding, actor: User) -> None:
    """Withdraw a finding recorded by mistake; the other findings keep their numbers."""
    audit = finding.audit
    _ensure_team_member(audit, actor, "delete findings")
    audit = _locked(audit)
    _ensure_in_progress(audit, "deleting findings")
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    _ensure_unanswered(finding)
    record_event(actor=actor, action="audits.finding.deleted", obj=finding,
                 organization_id=audit.cycle.organization_id, payload=_payload(finding))
    finding.delete()


# --- corrective actions ------------------------------------------------------------------------

def _client_recipients(audit: Audit) -> list[str]:
    return list(Membership.objects.filter(
        organization_id=audit.cycle.organization_id, user__is_active=True,
        role__in=[Membership.Role.OWNER, Membership.Role.EDITOR],
    ).values_list("user__email", flat=True))


def _team_recipients(audit: Audit) -> list[str]:
    return list(TeamMember.objects.filter(audit_id=audit.pk, auditor__is_active=True)
                .values_list("auditor__email", flat=True))


def _finding_mail(finding: Finding, **extra) -> dict:
    audit = finding.audit
    return {"organization": str(audit.cycle.organization), "audit": str(audit.get_kind_display()),
            "number": finding.number, "grade": finding.get_grade_display(),
            "clause": finding.clause.number, "status": finding.get_status_display(),
            "path": reverse("finding_detail", args=[finding.pk]), **extra}


def latest_response(finding: Finding) -> CorrectiveActionResponse | None:
    return finding.responses.order_by("-version").first()


@transaction.atomic
def submit_corrective_action(*, finding: Finding, actor: User, data: dict,
                             upload=None) -> CorrectiveActionResponse:
    """The client's answer to a nonconformity: a new version, kept with all earlier ones.

    For a major whose plan was accepted, the next version shows the implementation.
    """
    audit = finding.audit
    if not can_answer(actor, audit):
        raise NotPermitted("Only an owner or editor of the audited organization can answer "
                           "a nonconformity.")
    audit = _locked(audit)
    _ensure_started(audit, "answering a nonconformity")
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if not finding.is_nonconformity:
        raise TransitionNotAllowed(f"Finding #{finding.number} is an "
                                   f"{finding.get_grade_display().lower()}; it needs no "
                                   "corrective action.")
    if finding.grade == Finding.Grade.MINOR and finding.status == S.PLAN_ACCEPTED:
        raise TransitionNotAllowed("The plan for this minor nonconformity is accepted; its "
                                   "effectiveness is checked at the next audit.")
    status = CA_LIFECYCLE.target("submit", finding.status)
    errors: dict = {}
    values = {
        "correction": _text(data, "correction", "The correction", errors),
        "root_cause": _text(data, "root_cause", "The root cause", errors),
        "corrective_action": _text(data, "corrective_action", "The corrective action",
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
    finding.status = status
    finding.save(update_fields=["status"])
    record_event(actor=actor, action="audits.corrective_action.submitted", obj=finding,
                 organization_id=audit.cycle.organization_id,
                 payload={"from": old, "to": status, "version": version,
                          "evidence": checked.sha256 if checked else None})
    notify(template="ca_answer_submitted", to=_team_recipients(audit),
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
    _ensure_team_member(audit, actor, "review corrective actions")
    audit = _locked(audit)
    _ensure_started(audit, "reviewing a corrective action")
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    status = CA_LIFECYCLE.target(decision, finding.status)
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
    finding.status = status
    finding.save(update_fields=["status"])
    record_event(actor=actor, action=f"audits.corrective_action.{response.review}",
                 obj=finding, organization_id=audit.cycle.organization_id,
                 payload={"from": old, "to": status, "version": response.version,
                          "comment": comment})
    notify(template="ca_answer_reviewed", to=_client_recipients(audit),
           context=_finding_mail(finding, version=response.version, comment=comment,
                                 decision=response.get_review_display()))
    return finding


# --- overdue -----------------------------------------------------------------------------------

def overdue_reason(finding: Finding, today: datetime.date | None = None) -> str:
    """Why a nonconformity is late, or "" when it is not."""
    today = today or timezone.localdate()
    if (finding.status in (S.OPEN, S.RETURNED) and finding.plan_due
            and finding.plan_due < today):
        return f"answer was due {finding.plan_due:%Y-%m-%d}"
    if (finding.grade == Finding.Grade.MAJOR and finding.status != S.VERIFIED
            and finding.verification_due and finding.verification_due < today):
        return f"verification was due {finding.verification_due:%Y-%m-%d}"
    return ""


def overdue_findings(today: datetime.date | None = None):
    """Nonconformities whose answer or (majors) verification is past due."""
    today = today or timezone.localdate()
    return Finding.objects.filter(
        Q(status__in=[S.OPEN, S.RETURNED], plan_due__lt=today)
        | Q(grade=Finding.Grade.MAJOR, verification_due__lt=today, status__in=[
            S.OPEN, S.RETURNED, S.SUBMITTED, S.PLAN_ACCEPTED]),
        audit__status__in=[Audit.Status.IN_PROGRESS, Audit.Status.CLOSED],
    )


def _reminded_today(audit: Audit, today: datetime.date) -> bool:
    return AuditEvent.objects.filter(action=REMINDER_ACTION, object_type="audits.audit",
                                     object_id=str(audit.pk),
                                     payload__date=today.isoformat()).exists()


def audits_to_remind(today: datetime.date | None = None) -> list[int]:
    """Audits with overdue corrective actions whose reminder has not gone out today."""
    today = today or timezone.localdate()
    ids = sorted(set(overdue_findings(today).values_list("audit_id", flat=True)))
    reminded = set(AuditEvent.objects.filter(
        action=REMINDER_ACTION, object_type="audits.audit", object_id__in=[str(i) for i in ids],
        payload__date=today.isoformat()).values_list("object_id", flat=True))
    return [i for i in ids if str(i) not in reminded]


@transaction.atomic
def send_ca_reminder(*, audit: Audit, today: datetime.date | None = None) -> list[int]:
    """E-mail the client (owners, editors) and the audit team the audit's overdue items.

    At most once a day per audit (the audit trail remembers the day); returns the findings
    listed, or [] when nothing was sent.
    """
    today = today or timezone.localdate()
    audit = _locked(audit)
    if _reminded_today(audit, today):
        return []
    findings = list(overdue_findings(today).filter(audit=audit)
                    .select_related("clause").order_by("number"))
    if not findings:
        return []
    lines = [{"number": f.number, "grade": f.get_grade_display(), "clause": f.clause.number,
              "status": f.get_status_display(), "reason": overdue_reason(f, today),
              "path": reverse("finding_detail", args=[f.pk])} for f in findings]
    ids = [f.pk for f in findings]
    record_event(actor=None, action=REMINDER_ACTION, obj=audit,
                 organization_id=audit.cycle.organization_id,
                 payload={"date": today.isoformat(), "findings": ids})
    context = {"organization": str(audit.cycle.organization),
               "audit": audit.get_kind_display(), "findings": lines, "count": len(lines),
               "path": reverse("audit_findings", args=[audit.pk])}
    notify(template="ca_overdue_client", to=_client_recipients(audit), context=context)
    notify(template="ca_overdue_team", to=_team_recipients(audit), context=context)
    return ids


# --- report ------------------------------------------------------------------------------------

def _recommendation_rules(audit: Audit, data: dict, errors: dict) -> dict:
    if audit.kind == Audit.Kind.STAGE1:
        if data.get("recommendation"):
            errors["recommendation"] = ("Stage 1 makes no certification recommendation; say "
                                        "whether the client is ready for stage 2.")
        ready = data.get("ready_for_stage2")
        if ready in (None, ""):
            errors["ready_for_stage2"] = "Say whether the client is ready for stage 2."
        return {"recommendation": "", "ready_for_stage2": ready in (True, "true", "True", "1",
                                                                    "yes", "on", 1),
                "areas_of_concern": _text(data, "areas_of_concern", "Areas of concern", errors,
                                          required=False)}
    recommendation = _choice(data, "recommendation", AuditReport.Recommendation.choices,
                             "recommendation", errors)
    majors = audit.findings.filter(grade=Finding.Grade.MAJOR)
    if (recommendation == AuditReport.Recommendation.RECOMMEND
            and majors.exclude(status=S.VERIFIED).exists()):
        errors["recommendation"] = ("Certification can't be recommended while a major "
                                    "nonconformity is not verified closed; recommend after "
                                    "the majors are closed, or do not recommend.")
    if recommendation == AuditReport.Recommendation.AFTER_MAJORS and not majors.exists():
        errors["recommendation"] = ("There is no major nonconformity: recommend, or do not "
                                    "recommend.")
    return {"recommendation": recommendation, "ready_for_stage2": None,
            "areas_of_concern": _text(data, "areas_of_concern", "Areas of concern", errors,
                                      required=False)}


def report_content(audit: Audit, fields: dict) -> dict:
    """What the report shows, frozen when it is issued (pages and PDF render from this)."""
    organization = audit.cycle.organization
    covered = (audit.coverage.filter(covered=True).select_related("clause__standard")
               .order_by("clause__standard__code", "clause__position"))
    findings = (audit.findings.select_related("clause__standard", "site").order_by("number"))
    return {
        "client": organization.legal_name,
        "address": organization.registered_address,
        "standards": [str(s) for s in audit.cycle.standards.order_by("code")],
        "scope": audit.cycle.scope,
        "kind": audit.kind, "kind_label": audit.get_kind_display(),
        "sites": [s.name for s in (audit.sites.all() or audit_sites(audit))],
        "team": [{"name": str(m.auditor), "role": m.get_role_display()}
                 for m in audit.team.select_related("auditor").order_by("role", "pk")],
        "start_date": audit.start_date.isoformat() if audit.start_date else None,
        "end_date": audit.end_date.isoformat() if audit.end_date else None,
        "planned_days": str(audit.planned_days) if audit.planned_days is not None else None,
        "spent_days": str(audit.spent_days) if audit.spent_days is not None else None,
        "clauses_covered": [f"{c.clause.standard.code} {c.clause.number} {c.clause.title}"
                            for c in covered],
        "findings": [{"number": f.number, "grade": f.grade, "grade_label": f.get_grade_display(),
                      "clause": f"{f.clause.standard.code} {f.clause.number}",
                      "statement": f.statement, "objective_evidence": f.objective_evidence,
                      "site": f.site.name if f.site else "",
                      "status": f.get_status_display()} for f in findings],
        "positive_notes": fields["positive_notes"],
        "conclusion": fields["conclusion"],
        "areas_of_concern": fields["areas_of_concern"],
        "ready_for_stage2": fields["ready_for_stage2"],
        "recommendation": fields["recommendation"],
        "recommendation_label": (AuditReport.Recommendation(fields["recommendation"]).label
                                 if fields["recommendation"] else ""),
    }


def _write_report(audit: Audit, actor: User, data: dict, *, correction_reason: str
                  ) -> AuditReport:
    errors: dict = {}
    fields = {
        "conclusion": _text(data, "conclusion", "The conclusion", errors),
        "positive_notes": _text(data, "positive_notes", "Positive notes", errors,
                                required=False),
    }
    fields.update(_recommendation_rules(audit, data, errors))
    spent = _half_days(data.get("spent_days"), "spent_days", errors)
    if spent is None and audit.spent_days is None and "spent_days" not in errors:
        errors["spent_days"] = "Enter the auditor days spent."
    if errors:
        raise InvalidInput("The report was not issued.", fields=errors)
    if spent is not None and spent != audit.spent_days:
        audit.spent_days = spent
        Audit.objects.filter(pk=audit.pk).update(spent_days=spent)
    revision = (audit.reports.aggregate(r=Max("revision"))["r"] or 0) + 1
    report = AuditReport.objects.create(
        audit=audit, revision=revision, correction_reason=correction_reason, issued_by=actor,
        content=report_content(audit, fields), **fields)
    record_event(actor=actor,
                 action="audits.report.issued" if revision == 1 else "audits.report.revised",
                 obj=report, organization_id=audit.cycle.organization_id,
                 payload={"audit": audit.pk, "revision": revision,
                          "recommendation": report.recommendation,
                          "ready_for_stage2": report.ready_for_stage2,
                          "correction_reason": correction_reason})
    transaction.on_commit(partial(_enqueue_pdf, report.pk))
    notify(template="audit_report_issued", to=_client_recipients(audit), context={
        "organization": str(audit.cycle.organization), "audit": audit.get_kind_display(),
        "revision": revision, "correction_reason": correction_reason,
        "path": reverse("audit_report", args=[audit.pk])})
    return report


def _enqueue_pdf(report_id: int) -> None:
    from .tasks import render_audit_report_pdf

    render_audit_report_pdf.enqueue(report_id=report_id)


@transaction.atomic
def issue_report(*, audit: Audit, actor: User, data: dict) -> AuditReport:
    """Issue the audit report (revision 1) to the client; its PDF is rendered after commit."""
    _ensure_lead(audit, actor, "issue the report")
    audit = _locked(audit)
    _ensure_in_progress(audit, "issuing the report")
    if audit.reports.exists():
        raise Conflict("The report is already issued; correct it with a new revision.")
    return _write_report(audit, actor, data, correction_reason="")


@transaction.atomic
def revise_report(*, audit: Audit, actor: User, data: dict, correction_reason: str
                  ) -> AuditReport:
    """Correct an issued report: a new revision with the reason; earlier ones are kept."""
    _ensure_lead(audit, actor, "correct the report")
    audit = _locked(audit)
    _ensure_started(audit, "correcting the report")
    if not audit.reports.exists():
        raise Conflict("No report has been issued yet; issue it first.")
    reason = (correction_reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the report is corrected.",
                           fields={"correction_reason": "A reason for the correction is "
                                                        "required."})
    if len(reason) > TEXT_LIMIT:
        raise InvalidInput("The reason is too long.",
                           fields={"correction_reason": f"At most {TEXT_LIMIT} characters."})
    return _write_report(audit, actor, data, correction_reason=reason)


def render_report_pdf_file(*, report: AuditReport) -> AuditReport:
    """Render one report revision (from its frozen content) to PDF and store it."""
    from weasyprint import HTML

    latest = report.audit.reports.aggregate(r=Max("revision"))["r"]
    html = render_to_string("audits/conduct/report_pdf.html", {
        "report": report, "content": report.content, "superseded": report.revision < latest,
        "CB_NAME": settings.CB_NAME, "CB_ADDRESS": settings.CB_ADDRESS,
    })
    data = HTML(string=html, base_url=settings.SITE_URL).write_pdf()
    stored = store_file(UploadCheck(data=data, content_type="application/pdf",
                                    sha256=hashlib.sha256(data).hexdigest()))
    AuditReport.objects.filter(pk=report.pk).update(pdf=stored)
    report.pdf = stored
    return report


# --- closing -----------------------------------------------------------------------------------

@transaction.atomic
def close_audit(*, audit: Audit, actor: User) -> Audit:
    """The lead auditor closes the audit once its report is issued and its dates have
    begun (its first day is today or past).

    Stage 1 needs the report's verdict on readiness for stage 2; other audits a
    recommendation. Corrective-action deadlines count from the audit's last day.
    """
    _ensure_lead(audit, actor, "close the audit")
    audit = _locked(audit)
    _ensure_in_progress(audit, "closing")
    # An audit closes once its dates have begun: closed earlier, its decision could not be
    # dated before the audit's last day anyway (the decision date rule), and its records
    # would predate the audit they belong to.
    if audit.start_date and audit.start_date > timezone.localdate():
        raise Conflict(f"The audit is scheduled from {audit.start_date}: it can be closed once "
                       "its dates have begun.",
                       fields={"start_date": f"Not before {audit.start_date}."})
    report = audit.reports.order_by("-revision").first()
    if report is None:
        raise Conflict("Issue the audit report before closing the audit.")
    if audit.kind == Audit.Kind.STAGE1 and report.ready_for_stage2 is None:
        raise Conflict("The stage-1 report must say whether the client is ready for stage 2.")
    if audit.kind != Audit.Kind.STAGE1 and not report.recommendation:
        raise Conflict("The report must make a recommendation before the audit closes.")
    audit.status = Audit.Status.CLOSED
    audit.closed_at = timezone.now()
    audit.save(update_fields=["status", "closed_at"])
    for finding in audit.findings.select_for_update():
        _set_due_dates(finding, audit)
        finding.save(update_fields=["plan_due", "verification_due"])
    record_event(actor=actor, action="audits.audit.closed", obj=audit,
                 organization_id=audit.cycle.organization_id,
                 payload={"from": Audit.Status.IN_PROGRESS, "to": Audit.Status.CLOSED,
                          "report_revision": report.revision,
                          "recommendation": report.recommendation,
                          "ready_for_stage2": report.ready_for_stage2})
    return audit
