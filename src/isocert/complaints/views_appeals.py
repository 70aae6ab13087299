"""Appeal pages: the client lodges from a decision or a certificate and follows its
appeals; the CB and the panel handle them. Thin: validate → select → call one service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from isocert.core.errors import DomainError
from isocert.core.files import stored_file_response
from isocert.core.forms import add_domain_error

from . import appeals, selectors
from .forms import AppealDecisionForm, AppealForm, InvestigationForm, PanelForm, StayForm
from .models import APPEAL_LIFECYCLE, Appeal


@login_required
def appeal_list(request):
    return render(request, "complaints/appeal_list.html", {
        "appeals": selectors.appeals_for_user(user=request.user),
        "appealable": selectors.appealable_decisions(user=request.user,
                                                     today=timezone.localdate()),
        "appealable_findings": selectors.appealable_findings(user=request.user,
                                                             today=timezone.localdate()),
    })


def _lodge(request, *, subject: str, what: str, **target):
    form = AppealForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                appeal = appeals.lodge_appeal(
                    subject=subject, grounds=form.cleaned_data["grounds"], actor=request.user,
                    attachments=form.cleaned_data["attachments"], **target)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                messages.success(request, f"Appeal {appeal.reference} lodged.")
                return redirect("appeal_detail", appeal.pk)
    return render(request, "complaints/appeal_form.html", {
        "form": form, "what": what, "subject": Appeal.Subject(subject).label}, status=status)


@login_required
def appeal_decision(request, pk):
    """Appeal a refusal or a scope reduction, from the decision."""
    decision = selectors.appealable_decision_get(user=request.user, pk=pk)
    subject = (Appeal.Subject.SCOPE_REDUCTION if decision.kind == "scope_reduction"
               else Appeal.Subject.REFUSAL)
    return _lodge(request, subject=subject, what=str(decision), decision=decision)


@login_required
def appeal_finding(request, pk):
    """Appeal a finding's grading, from the finding's page (§9.7)."""
    finding = selectors.appealable_finding_get(user=request.user, pk=pk)
    return _lodge(request, subject=Appeal.Subject.FINDING_GRADE,
                  what=f"finding #{finding.number} ({finding.get_grade_display().lower()}, "
                       f"{finding.audit.get_kind_display()})", finding=finding)


@login_required
def appeal_certificate(request, pk):
    """Appeal a suspension or a withdrawal, from the certificate."""
    certificate = selectors.appealable_certificate_get(user=request.user, pk=pk)
    subject = (Appeal.Subject.WITHDRAWAL if certificate.status == "Withdrawn"
               else Appeal.Subject.SUSPENSION)
    return _lodge(request, subject=subject, what=f"certificate {certificate.number}",
                  certificate=certificate)


def _detail(request, appeal: Appeal, bound: dict | None = None, status: int = 200):
    forms = {"appoint_panel": PanelForm(), "record_investigation": InvestigationForm(),
             "stay_suspension": StayForm(),
             "decide": AppealDecisionForm(finding=appeal.finding,
                                          stayed=appeal.suspension_stayed), **(bound or {})}
    handler = selectors.handles_appeals(request.user)
    on_panel = appeal.panel.filter(pk=request.user.pk).exists()
    return render(request, "complaints/appeal_detail.html", {
        "appeal": appeal, "forms": forms, "handler": handler, "on_panel": on_panel,
        "can_stay": on_panel and appeals.stay_possible(appeal),
        "allowed": set(APPEAL_LIFECYCLE.allowed_actions(appeal.status))
        if (handler or on_panel) else set(),
        "involved": (selectors.people_with_reasons(appeals.involved_in_appeal(appeal))
                     if handler else []),
    }, status=status)


@login_required
def appeal_detail(request, pk):
    return _detail(request, selectors.appeal_get(user=request.user, pk=pk))


@login_required
@require_POST
def appeal_action(request, pk, action):
    appeal = selectors.appeal_get(user=request.user, pk=pk)
    user, post, form = request.user, request.POST, None
    if action == "acknowledge":
        def call():
            return appeals.acknowledge_appeal(appeal=appeal, actor=user)
    elif action == "close":
        def call():
            return appeals.close_appeal(appeal=appeal, actor=user)
    elif action == "appoint_panel":
        form = PanelForm(post)

        def call():
            return appeals.appoint_appeal_panel(
                appeal=appeal, members=list(form.cleaned_data["member_ids"]), actor=user)
    elif action == "stay_suspension":
        form = StayForm(post)

        def call():
            return appeals.stay_suspension(appeal=appeal, reason=form.cleaned_data["reason"],
                                           actor=user)
    elif action == "record_investigation":
        form = InvestigationForm(post)

        def call():
            return appeals.record_appeal_investigation(
                appeal=appeal, actor=user, investigation=form.cleaned_data["investigation"])
    elif action == "decide":
        form = AppealDecisionForm(post, finding=appeal.finding, stayed=appeal.suspension_stayed)

        def call():
            return appeals.decide_appeal(
                appeal=appeal, actor=user, upheld=form.cleaned_data["upheld"],
                reasons=form.cleaned_data["reasons"],
                new_grade=form.cleaned_data.get("new_grade", ""),
                suspended_until=form.cleaned_data.get("suspended_until"))
    else:
        raise Http404("No such action")
    if form is not None and not form.is_valid():
        return _detail(request, appeal, {action: form}, status=422)
    try:
        call()
    except DomainError as exc:
        if form is None:
            messages.error(request, exc.message)
            return _detail(request, appeal, status=exc.status)
        add_domain_error(form, exc)
        return _detail(request, appeal, {action: form}, status=exc.status)
    messages.success(request, f"Appeal {appeal.reference}: done.")
    return redirect("appeal_detail", appeal.pk)


@login_required
def appeal_attachment_download(request, pk):
    attachment = selectors.appeal_attachment_get(user=request.user, pk=pk)
    return stored_file_response(attachment.file, attachment.filename)
