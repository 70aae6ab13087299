"""Pages of the audit conduct: the auditor's conduct page (checklist, records, findings — made
for a tablet), the findings list with corrective-action status, one finding with the client's
answer form and its history, and the report with its revisions and PDFs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from isocert.core.errors import DomainError, InvalidInput
from isocert.core.files import stored_file_response
from isocert.core.forms import add_domain_error

from ..programme.models import Audit
from . import selectors
from . import services as conduct
from .forms import (
    AnswerForm,
    CoverageForm,
    FindingForm,
    RecordForm,
    ReportForm,
    ReviewForm,
)
from .models import FINDING_LIFECYCLE, Finding
from .signals import finding_panels


def _cb_audit(request, pk) -> Audit:
    """The audit, for CB staff who may see it; the client gets 404 (internal working papers)."""
    audit = selectors.audit_get(user=request.user, pk=pk)
    if not selectors.is_cb_side(request.user, audit):
        raise Http404("No such audit")
    return audit


def _annotate(findings, today):
    for finding in findings:
        finding.overdue = conduct.overdue_reason(finding, today)
    return findings


# --- the conduct page --------------------------------------------------------------------------

def _conduct_context(request, audit: Audit, *, record_form=None, finding_form=None) -> dict:
    today = timezone.localdate()
    checklist = list(selectors.coverage_of(user=request.user, audit=audit))
    is_member = conduct.is_team_member(request.user, audit)
    return {
        "audit": audit, "organization": audit.cycle.organization,
        "checklist": checklist,
        "covered_count": sum(1 for row in checklist if row.covered),
        "records": selectors.records_of(user=request.user, audit=audit),
        "findings": _annotate(list(selectors.findings_of(audit=audit)), today),
        "can_record": is_member and audit.status == Audit.Status.IN_PROGRESS,
        "is_lead": conduct.is_lead_auditor(request.user, audit),
        "record_form": record_form or RecordForm(audit=audit),
        "finding_form": finding_form or FindingForm(audit=audit),
        "report": selectors.reports_of(audit=audit).first(),
    }


@login_required
def audit_conduct(request, pk):
    audit = _cb_audit(request, pk)
    return render(request, "audits/conduct/conduct.html", _conduct_context(request, audit))


@login_required
@require_POST
def audit_coverage_update(request, pk):
    row = selectors.coverage_get(user=request.user, pk=pk)
    form = CoverageForm(request.POST, prefix=f"cov{row.pk}")
    error = ""
    if form.is_valid():
        try:
            row = conduct.update_coverage(coverage=row, actor=request.user,
                                          covered=form.cleaned_data["covered"],
                                          internal_notes=form.cleaned_data["internal_notes"])
        except DomainError as exc:
            error = exc.message + " " + " ".join(exc.fields.values())
    else:
        error = " ".join(" ".join(e) for e in form.errors.values())
    if request.headers.get("HX-Request"):
        # 200 even when refused: htmx swaps only successful answers; the row shows the error.
        return render(request, "audits/conduct/_coverage_row.html", {
            "row": row, "can_record": True, "error": error, "saved": not error})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Clause {row.clause.number} saved.")
    return redirect(reverse("audit_conduct", args=[row.audit_id]) + f"#cov-{row.pk}")


@login_required
@require_POST
def audit_record_add(request, pk):
    audit = _cb_audit(request, pk)
    form = RecordForm(request.POST, request.FILES, audit=audit)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "file"}
        try:
            conduct.add_record(audit=audit, actor=request.user, **data,
                               upload=form.cleaned_data.get("file"))
            messages.success(request, "Record saved.")
            return redirect(reverse("audit_conduct", args=[audit.pk]) + "#records")
        except InvalidInput as exc:
            add_domain_error(form, exc)
        except DomainError as exc:  # not on the team, audit not in progress: no form to fix
            messages.error(request, exc.message)
            return redirect("audit_conduct", pk=audit.pk)
    return render(request, "audits/conduct/conduct.html",
                  _conduct_context(request, audit, record_form=form), status=422)


@login_required
def audit_record_download(request, pk):
    record = selectors.record_get(user=request.user, pk=pk)
    if record.file is None:
        raise Http404("This record has no file")
    return stored_file_response(record.file, f"audit-record-{record.pk}")


@login_required
@require_POST
def audit_finding_add(request, pk):
    audit = _cb_audit(request, pk)
    form = FindingForm(request.POST, audit=audit)
    if form.is_valid():
        try:
            finding = conduct.create_finding(audit=audit, actor=request.user,
                                             **form.cleaned_data)
            messages.success(request, f"Finding #{finding.number} recorded.")
            return redirect(reverse("audit_conduct", args=[audit.pk]) + "#findings")
        except InvalidInput as exc:
            add_domain_error(form, exc)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("audit_conduct", pk=audit.pk)
    return render(request, "audits/conduct/conduct.html",
                  _conduct_context(request, audit, finding_form=form), status=422)


@login_required
def finding_edit(request, pk):
    finding = selectors.finding_get(user=request.user, pk=pk)
    if not selectors.is_cb_side(request.user, finding.audit):
        raise Http404("No such finding")
    form = FindingForm(request.POST or None, audit=finding.audit,
                       initial=FindingForm.initial_for(finding))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                conduct.update_finding(finding=finding, actor=request.user,
                                       **form.cleaned_data)
                messages.success(request, f"Finding #{finding.number} saved.")
                return redirect(reverse("audit_conduct", args=[finding.audit_id]) + "#findings")
            except DomainError as exc:
                add_domain_error(form, exc)
        status = 422
    return render(request, "audits/conduct/finding_form.html",
                  {"finding": finding, "audit": finding.audit, "form": form}, status=status)


@login_required
@require_POST
def finding_delete(request, pk):
    finding = selectors.finding_get(user=request.user, pk=pk)
    if not selectors.is_cb_side(request.user, finding.audit):
        raise Http404("No such finding")
    try:
        conduct.delete_finding(finding=finding, actor=request.user)
        messages.success(request, f"Finding #{finding.number} deleted.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("audit_conduct", args=[finding.audit_id]) + "#findings")


@login_required
@require_POST
def audit_close(request, pk):
    audit = _cb_audit(request, pk)
    try:
        conduct.close_audit(audit=audit, actor=request.user)
        messages.success(request, "The audit is closed.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("audit_conduct", pk=audit.pk)


# --- findings and corrective actions -----------------------------------------------------------

@login_required
def audit_findings(request, pk):
    audit = selectors.audit_get(user=request.user, pk=pk)
    findings = _annotate(list(selectors.findings_of(audit=audit)), timezone.localdate())
    return render(request, "audits/conduct/findings.html", {
        "audit": audit, "organization": audit.cycle.organization, "findings": findings,
        "is_cb_side": selectors.is_cb_side(request.user, audit),
        "overdue_count": sum(1 for f in findings if f.overdue),
    })


def _finding_context(request, finding: Finding, *, answer_form=None, review_form=None) -> dict:
    audit = finding.audit
    responses = list(selectors.responses_of(finding=finding))
    can_answer = (conduct.can_answer(request.user, audit) and finding.is_nonconformity
                  and audit.status in (Audit.Status.IN_PROGRESS, Audit.Status.CLOSED)
                  and FINDING_LIFECYCLE.can("submit", finding.status)
                  and not (finding.grade == Finding.Grade.MINOR
                           and finding.status == Finding.Status.PLAN_ACCEPTED))
    can_review = (conduct.is_team_member(request.user, audit)
                  and finding.status == Finding.Status.SUBMITTED)
    return {
        "finding": finding, "audit": audit, "organization": audit.cycle.organization,
        "responses": responses, "overdue": conduct.overdue_reason(finding),
        "can_answer": can_answer, "can_review": can_review,
        "answer_form": answer_form or AnswerForm(initial={
            k: getattr(responses[0], k) for k in ("correction", "root_cause",
                                                  "corrective_action")} if responses else None),
        "review_form": review_form or ReviewForm(),
        "is_cb_side": selectors.is_cb_side(request.user, audit),
        "panels": finding_panels(finding=finding, request=request),
    }


@login_required
def finding_detail(request, pk):
    finding = selectors.finding_get(user=request.user, pk=pk)
    return render(request, "audits/conduct/finding_detail.html",
                  _finding_context(request, finding))


@login_required
@require_POST
def finding_answer(request, pk):
    finding = selectors.finding_get(user=request.user, pk=pk)
    form = AnswerForm(request.POST, request.FILES)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "evidence"}
        try:
            response = conduct.submit_corrective_action(
                finding=finding, actor=request.user, **data,
                upload=form.cleaned_data.get("evidence"))
            messages.success(request, f"Answer version {response.version} sent to the auditor.")
            return redirect("finding_detail", pk=finding.pk)
        except DomainError as exc:
            add_domain_error(form, exc)
    return render(request, "audits/conduct/finding_detail.html",
                  _finding_context(request, finding, answer_form=form), status=422)


@login_required
@require_POST
def finding_review(request, pk):
    finding = selectors.finding_get(user=request.user, pk=pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            finding = conduct.review_corrective_action(
                finding=finding, actor=request.user, decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"])
            messages.success(request, f"Finding #{finding.number}: "
                                      f"{finding.get_status_display().lower()}.")
            return redirect("finding_detail", pk=finding.pk)
        except DomainError as exc:
            add_domain_error(form, exc)
    return render(request, "audits/conduct/finding_detail.html",
                  _finding_context(request, finding, review_form=form), status=422)


@login_required
def ca_evidence_download(request, pk):
    response = selectors.ca_response_get(user=request.user, pk=pk)
    if response.evidence is None:
        raise Http404("This answer has no evidence file")
    return stored_file_response(response.evidence,
                                response.evidence_name or f"evidence-v{response.version}")


# --- report ------------------------------------------------------------------------------------

def _report_context(request, audit: Audit, *, form=None, shown=None) -> dict:
    reports = list(selectors.reports_of(audit=audit))
    latest = reports[0] if reports else None
    is_lead = conduct.is_lead_auditor(request.user, audit)
    can_issue = is_lead and (
        audit.status == Audit.Status.IN_PROGRESS
        or (latest is not None and audit.status == Audit.Status.CLOSED))
    return {
        "audit": audit, "organization": audit.cycle.organization, "reports": reports,
        "latest": latest, "report": shown or latest,
        "superseded": bool(shown and latest and shown.revision < latest.revision),
        "can_issue": can_issue, "revising": latest is not None,
        "form": form or (ReportForm(audit=audit, revising=latest is not None,
                                    initial=ReportForm.initial_for(latest, audit))
                         if can_issue else None),
        "is_cb_side": selectors.is_cb_side(request.user, audit),
    }


@login_required
def audit_report(request, pk):
    audit = selectors.audit_get(user=request.user, pk=pk)
    return render(request, "audits/conduct/report.html", _report_context(request, audit))


@login_required
@require_POST
def audit_report_issue(request, pk):
    audit = selectors.audit_get(user=request.user, pk=pk)
    revising = audit.reports.exists()
    form = ReportForm(request.POST, audit=audit, revising=revising)
    if form.is_valid():
        try:
            if revising:
                report = conduct.revise_report(
                    audit=audit, actor=request.user, **form.service_data(),
                    correction_reason=form.cleaned_data["correction_reason"])
            else:
                report = conduct.issue_report(audit=audit, actor=request.user,
                                              **form.service_data())
            messages.success(request, f"Report revision {report.revision} issued to the client.")
            return redirect("audit_report", pk=audit.pk)
        except DomainError as exc:
            add_domain_error(form, exc)
    context = _report_context(request, audit, form=form)
    if not context["can_issue"]:
        raise Http404("Nothing to issue here")
    return render(request, "audits/conduct/report.html", context, status=422)


@login_required
def audit_report_revision(request, pk):
    report = selectors.report_get(user=request.user, pk=pk)
    return render(request, "audits/conduct/report.html",
                  _report_context(request, report.audit, shown=report))


@login_required
def audit_report_pdf(request, pk):
    report = selectors.report_get(user=request.user, pk=pk)
    if report.pdf is None:
        messages.info(request, "The PDF is being prepared; try again in a moment.")
        return redirect("audit_report_revision", pk=report.pk)
    return stored_file_response(report.pdf, f"audit-report-{report.audit_id}-rev"
                                            f"{report.revision}.pdf")
