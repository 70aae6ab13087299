"""The audit report and closing the audit (ISO/IEC 17021-1 §9.4.8).

- the lead auditor issues the report (revision 1) and corrects it by new revisions with
  a reason; the old revisions are kept. "Recommend" is refused while a major is not
  verified, "after majors" needs majors; the PDF is rendered after commit;
- the lead auditor closes the audit; stage 1 needs an issued report saying whether the
  client is ready for stage 2, every other audit an issued report with a recommendation.
"""

from decimal import Decimal
from functools import partial

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from isocert.accounts.models import User
from isocert.accounts.permissions import member_emails
from isocert.core.audit import record_event
from isocert.core.dates import display_date, display_datetime
from isocert.core.errors import Conflict, InvalidInput
from isocert.notifications.services import notify

from ..programme.models import AUDIT_LIFECYCLE, Audit, PlanSession, RemoteAudit
from .common import (
    TEXT_LIMIT,
    audit_sites,
    clean_choice,
    clean_half_days,
    clean_text,
    ensure_in_progress,
    ensure_lead,
    ensure_started,
    locked_audit,
    set_due_dates,
)
from .models import (
    AuditReport,
    Finding,
)
from .tasks import render_audit_report_pdf


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
                "areas_of_concern": clean_text(data, "areas_of_concern", "Areas of concern", errors,
                                               required=False)}
    recommendation = clean_choice(data, "recommendation", AuditReport.Recommendation.choices,
                                  "recommendation", errors)
    majors = audit.findings.filter(grade=Finding.Grade.MAJOR)
    if (recommendation == AuditReport.Recommendation.RECOMMEND
            and majors.exclude(status=Finding.Status.VERIFIED).exists()):
        errors["recommendation"] = ("Certification can't be recommended while a major "
                                    "nonconformity is not verified closed; recommend after "
                                    "the majors are closed, or do not recommend.")
    if recommendation == AuditReport.Recommendation.AFTER_MAJORS and not majors.exists():
        errors["recommendation"] = ("There is no major nonconformity: recommend, or do not "
                                    "recommend.")
    return {"recommendation": recommendation, "ready_for_stage2": None,
            "areas_of_concern": clean_text(data, "areas_of_concern", "Areas of concern", errors,
                                           required=False)}


def _remote_content(audit: Audit) -> dict | None:
    """Where ICT was used (IAF MD 4 §4.2: the report states it): the arrangement and the
    plan's remote sessions; None for an audit held fully on site."""
    remote = RemoteAudit.objects.filter(audit=audit).first()
    sessions = [f"{display_datetime(s.starts_at)} {s.topic}"
                + (f" ({s.site.name})" if s.site else "")
                for s in PlanSession.objects.filter(plan__audit=audit, is_remote=True)
                .select_related("site").order_by("starts_at")]
    if remote is None and not sessions:
        return None
    return {"ict_used": remote.ict_used if remote else "",
            "remote_share_percent": remote.remote_share_percent if remote else None,
            "not_visible_remotely": remote.not_visible_remotely if remote else "",
            "sessions": sessions}


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
        "remote": _remote_content(audit),
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
        "conclusion": clean_text(data, "conclusion", "The conclusion", errors),
        "positive_notes": clean_text(data, "positive_notes", "Positive notes", errors,
                                     required=False),
    }
    fields.update(_recommendation_rules(audit, data, errors))
    spent = clean_half_days(data.get("spent_days"), "spent_days", errors)
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
    transaction.on_commit(partial(render_audit_report_pdf.enqueue, report_id=report.pk))
    notify(template="audit_report_issued", to=member_emails(audit.cycle.organization_id), context={
        "organization": str(audit.cycle.organization), "audit": audit.get_kind_display(),
        "revision": revision, "correction_reason": correction_reason,
        "path": reverse("audit_report", args=[audit.pk])})
    return report



@transaction.atomic
def issue_report(*, audit: Audit, actor: User, conclusion: str = "", positive_notes: str = "",
                 recommendation: str = "", ready_for_stage2: bool | None = None,
                 areas_of_concern: str = "", spent_days: Decimal | None = None) -> AuditReport:
    """Issue the audit report (revision 1) to the client; its PDF is rendered after commit."""
    ensure_lead(audit, actor, "issue the report")
    audit = locked_audit(audit)
    ensure_in_progress(audit, "issuing the report")
    if audit.reports.exists():
        raise Conflict("The report is already issued; correct it with a new revision.")
    data = {"conclusion": conclusion, "positive_notes": positive_notes,
            "recommendation": recommendation, "ready_for_stage2": ready_for_stage2,
            "areas_of_concern": areas_of_concern, "spent_days": spent_days}
    return _write_report(audit, actor, data, correction_reason="")


@transaction.atomic
def revise_report(*, audit: Audit, actor: User, correction_reason: str = "",
                  conclusion: str = "", positive_notes: str = "",
                  recommendation: str = "", ready_for_stage2: bool | None = None,
                  areas_of_concern: str = "", spent_days: Decimal | None = None) -> AuditReport:
    """Correct an issued report: a new revision with the reason; earlier ones are kept."""
    ensure_lead(audit, actor, "correct the report")
    audit = locked_audit(audit)
    ensure_started(audit, "correcting the report")
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
    data = {"conclusion": conclusion, "positive_notes": positive_notes,
            "recommendation": recommendation, "ready_for_stage2": ready_for_stage2,
            "areas_of_concern": areas_of_concern, "spent_days": spent_days}
    return _write_report(audit, actor, data, correction_reason=reason)




# --- closing -----------------------------------------------------------------------------------

@transaction.atomic
def close_audit(*, audit: Audit, actor: User) -> Audit:
    """The lead auditor closes the audit once its report is issued and its dates have
    begun (its first day is today or past).

    Stage 1 needs the report's verdict on readiness for stage 2; other audits a
    recommendation. Corrective-action deadlines count from the audit's last day.
    """
    ensure_lead(audit, actor, "close the audit")
    audit = locked_audit(audit)
    ensure_in_progress(audit, "closing")
    # An audit closes once its dates have begun: closed earlier, its decision could not be
    # dated before the audit's last day anyway (the decision date rule), and its records
    # would predate the audit they belong to.
    if audit.start_date and audit.start_date > timezone.localdate():
        raise Conflict(f"The audit is scheduled from {display_date(audit.start_date)}: it can be "
                       "closed once its dates have begun.",
                       fields={"start_date": f"Not before {display_date(audit.start_date)}."})
    report = audit.reports.order_by("-revision").first()
    if report is None:
        raise Conflict("Issue the audit report before closing the audit.")
    if audit.kind == Audit.Kind.STAGE1 and report.ready_for_stage2 is None:
        raise Conflict("The stage-1 report must say whether the client is ready for stage 2.")
    if audit.kind != Audit.Kind.STAGE1 and not report.recommendation:
        raise Conflict("The report must make a recommendation before the audit closes.")
    AUDIT_LIFECYCLE.apply(audit, "close")
    audit.closed_at = timezone.now()
    audit.save(update_fields=["status", "closed_at"])
    for finding in audit.findings.select_for_update():
        set_due_dates(finding, audit)
        finding.save(update_fields=["plan_due", "verification_due"])
    record_event(actor=actor, action="audits.audit.closed", obj=audit,
                 organization_id=audit.cycle.organization_id,
                 payload={"from": Audit.Status.IN_PROGRESS, "to": Audit.Status.CLOSED,
                          "report_revision": report.revision,
                          "recommendation": report.recommendation,
                          "ready_for_stage2": report.ready_for_stage2})
    return audit
