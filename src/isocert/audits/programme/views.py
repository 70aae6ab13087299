"""Pages of the audit programme: the cycle, the audit planning page (CB side) and the
client's view of the plan. Thin: validate → select → one service → redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from isocert.accounts.models import User
from isocert.core.errors import DomainError, InvalidInput
from isocert.core.forms import add_domain_error
from isocert.registration import selectors as registration_selectors

from . import selectors
from . import services as programme
from .forms import (
    CancelAuditForm,
    DeclarationForm,
    LateStage2Form,
    PlanAnswerForm,
    RemoteForm,
    RevisePlanForm,
    ScheduleForm,
    SessionForm,
    SitesForm,
    SpecialAuditForm,
    TeamMemberForm,
)
from .models import Audit, AuditPlan, RemoteAudit

LIST_PAGE_SIZE = 25  # the audit list's rows per page


def _refused(request, exc: DomainError) -> None:
    messages.error(request, exc.message)


def _shown_on_form(form, exc: DomainError) -> bool:
    """Put a refusal naming fields of ``form`` on it (True); False when it names none —
    a permission or state refusal has no field to fix and is a message instead."""
    if not any(field in form.fields for field in exc.fields):
        return False
    add_domain_error(form, exc)
    return True


def _cb_audit(request, pk):
    """An audit the user sees from the CB side (team or CB staff); clients get 404."""
    audit = selectors.audit_get(user=request.user, pk=pk)
    if not selectors.is_cb_side(request.user, audit):
        raise Http404("Not on the CB side of this audit")
    return audit


def _manager(request):
    if not selectors.can_manage_programme(request.user):
        raise Http404("Not a programme manager")


# --- the cycle ---------------------------------------------------------------------------------

@login_required
@require_POST
def cycle_start(request, pk):
    application = registration_selectors.application_get(user=request.user, pk=pk)
    _manager(request)
    try:
        cycle = programme.create_cycle(application=application, actor=request.user)
    except DomainError as exc:
        _refused(request, exc)
        return redirect("review_detail", application.pk)
    messages.success(request, "Certification cycle started.")
    return redirect("cycle_detail", cycle.pk)


def _cycle_page(request, cycle, *, status: int = 200, special_form=None):
    audits = selectors.cycle_audits(user=request.user, cycle=cycle)
    return render(request, "audits/programme/cycle_detail.html", {
        "cycle": cycle, "audits": audits,
        "previous_cycle": selectors.previous_cycle(user=request.user, cycle=cycle),
        "next_cycle": selectors.next_cycle(user=request.user, cycle=cycle),
        "can_manage": selectors.can_manage_programme(request.user),
        "special_form": special_form or SpecialAuditForm(),
    }, status=status)


@login_required
def cycle_detail(request, pk):
    return _cycle_page(request, selectors.cycle_get(user=request.user, pk=pk))


@login_required
@require_POST
def cycle_special_audit(request, pk):
    cycle = selectors.cycle_get(user=request.user, pk=pk)
    _manager(request)
    form = SpecialAuditForm(request.POST)
    if form.is_valid():
        try:
            programme.add_special_audit(cycle=cycle, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _refused(request, exc)
            if not _shown_on_form(form, exc):
                return redirect("cycle_detail", cycle.pk)
        else:
            messages.success(request, "Special audit added.")
            return redirect("cycle_detail", cycle.pk)
    # Errors beside their fields, the input kept (a redirect would clear the form).
    return _cycle_page(request, cycle, status=422, special_form=form)


# --- the planning page (CB side) ---------------------------------------------------------------

def _planning_page(request, audit: Audit, *, status: int = 200, **bound_forms):
    """The planning page; ``bound_forms`` (by their name in the page) replace the empty
    forms, so a refused form shows its errors next to its fields with the input kept."""
    plan = selectors.plan_of(audit=audit)
    team = list(selectors.team_of(audit=audit))
    can_manage = selectors.can_manage_programme(request.user)
    can_edit_plan = selectors.can_edit_plan(request.user, audit)
    planned = audit.status == Audit.Status.PLANNED
    context = {
        "audit": audit, "cycle": audit.cycle, "plan": plan, "team": team,
        "sessions": list(selectors.plan_sessions(plan=plan)) if plan else [],
        "problems": programme.team_problems(audit, declarations=True),
        "start_problems": programme.start_problems(audit),
        # The finder is shown while the team can still change (a planned audit).
        "suggestions": (selectors.auditor_suggestions(user=request.user, audit=audit)
                        if can_manage and planned else []),
        "can_manage": can_manage,
        "can_edit_plan": can_edit_plan,
        "plan_editable": plan is None or plan.status in programme.PLAN_EDITABLE,
        "can_revise": (can_edit_plan and planned and plan is not None
                       and plan.status in programme.PLAN_WITH_CLIENT),
        "can_cancel": can_manage and planned and audit.kind in programme.SPECIAL_KINDS,
        "dates_locked": plan is not None and plan.status in programme.PLAN_WITH_CLIENT,
        "revise_form": RevisePlanForm(),
        "cancel_form": CancelAuditForm(),
        "my_membership": next((m for m in team if m.auditor_id == request.user.pk), None),
        "sites": audit.sites.all(),
        "required_sites": programme.required_site_count(audit),
        "minimum_random": programme.minimum_random(programme.required_site_count(audit)),
        "schedule_form": ScheduleForm(initial={
            "start_date": audit.start_date, "end_date": audit.end_date,
            "late_entry_justification": audit.late_entry_justification}),
        "sites_form": SitesForm(sites=programme.candidate_sites(audit)),
        "team_form": TeamMemberForm(),
        "declaration_form": DeclarationForm(),
        "late_form": LateStage2Form(initial={
            "late_stage2_justification": audit.late_stage2_justification}),
        "session_form": SessionForm(audit=audit),
        "remote": RemoteAudit.objects.filter(audit=audit).first(),
        "uses_ict": programme.uses_ict(audit),
        "remote_problems": programme.remote_plan_problems(audit),
        "remote_form": _remote_form(audit),
    }
    context.update(bound_forms)
    return render(request, "audits/programme/audit_planning.html", context, status=status)


def _remote_form(audit: Audit) -> RemoteForm:
    remote = RemoteAudit.objects.filter(audit=audit).first()
    return RemoteForm(initial={f: getattr(remote, f) for f in RemoteForm.base_fields}
                      if remote else {})


@login_required
@require_POST
def audit_remote(request, pk):
    """Record the audit's use of ICT and its feasibility assessment (IAF MD 4)."""
    return _post_service(
        request, pk, RemoteForm, "remote_form",
        lambda audit, data: programme.record_remote_assessment(audit=audit,
                                                               actor=request.user, **data),
        "Remote-audit assessment saved; the client is asked to agree to it.")


@login_required
@require_POST
def remote_agree(request, pk):
    """The client agrees to the use of ICT for the audit (IAF MD 4)."""
    audit = selectors.audit_get(user=request.user, pk=pk)
    try:
        programme.agree_remote_audit(audit=audit, actor=request.user)
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, "Thank you: you agreed to the use of ICT for this audit.")
    return redirect("audit_plan_client", audit.pk)


@login_required
def audit_planning(request, pk):
    return _planning_page(request, _cb_audit(request, pk))


def _post_service(request, pk, form_class, form_name: str, call, success: str, *,
                  form_kwargs=None):
    """One form of the planning page: saved → back to the page with ``success``.

    A form Django refuses, or a refusal of the service naming fields of this form, renders
    the page again (422) with the bound form ``form_name``: each field shows its own error
    and keeps what was typed. A refusal naming none of the form's fields (permission, the
    audit's or plan's state, a team rule about someone else) is a message on the page.
    """
    audit = _cb_audit(request, pk)
    form = form_class(request.POST, **(form_kwargs(audit) if form_kwargs else {}))
    if form.is_valid():
        try:
            call(audit, form.cleaned_data)
        except DomainError as exc:
            _refused(request, exc)
            if not _shown_on_form(form, exc):
                return redirect("audit_planning", audit.pk)
        else:
            messages.success(request, success)
            return redirect("audit_planning", audit.pk)
    return _planning_page(request, audit, status=422, **{form_name: form})


@login_required
@require_POST
def audit_schedule(request, pk):
    return _post_service(
        request, pk, ScheduleForm, "schedule_form",
        lambda audit, data: programme.schedule_audit(audit=audit, actor=request.user, **data),
        "Dates saved.")


@login_required
@require_POST
def audit_sites(request, pk):
    return _post_service(
        request, pk, SitesForm, "sites_form",
        lambda audit, data: programme.select_audit_sites(
            audit=audit, actor=request.user, chosen_site_ids=data["chosen_site_ids"]),
        "Sites selected.",
        form_kwargs=lambda audit: {"sites": programme.candidate_sites(audit)})


@login_required
@require_POST
def audit_team_add(request, pk):
    def assign(audit, data):
        auditor = User.objects.get(pk=data["auditor_id"])
        programme.assign_team_member(audit=audit, actor=request.user, auditor=auditor,
                                     role=data["role"])
    return _post_service(request, pk, TeamMemberForm, "team_form", assign, "Auditor assigned.")


@login_required
@require_POST
def audit_late_stage2(request, pk):
    return _post_service(
        request, pk, LateStage2Form, "late_form",
        lambda audit, data: programme.record_late_stage2_justification(
            audit=audit, actor=request.user, justification=data["late_stage2_justification"]),
        "Justification recorded.")


@login_required
@require_POST
def plan_session_add(request, pk):
    return _post_service(
        request, pk, SessionForm, "session_form",
        lambda audit, data: programme.add_plan_session(audit=audit, actor=request.user,
                                                       **data),
        "Session added.", form_kwargs=lambda audit: {"audit": audit})


@login_required
@require_POST
def plan_send(request, pk):
    audit = _cb_audit(request, pk)
    try:
        programme.send_plan(audit=audit, actor=request.user)
        messages.success(request, "Plan sent to the client.")
    except DomainError as exc:
        _refused(request, exc)
    return redirect("audit_planning", audit.pk)


def _post_reason(request, pk, form_class, form_name: str, call, success: str):
    """A transition that needs a reason: a bad reason is shown on the form (422), any other
    refusal (permission, state) as a message on the planning page."""
    audit = _cb_audit(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            call(audit=audit, actor=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, success)
            return redirect("audit_planning", audit.pk)
        except InvalidInput as exc:
            add_domain_error(form, exc)
        except DomainError as exc:
            _refused(request, exc)
            return redirect("audit_planning", audit.pk)
    return _planning_page(request, audit, status=422, **{form_name: form})


@login_required
@require_POST
def plan_revise(request, pk):
    return _post_reason(request, pk, RevisePlanForm, "revise_form", programme.revise_plan,
                        "The plan is a draft again: change it and send the new version.")


@login_required
@require_POST
def audit_cancel(request, pk):
    return _post_reason(request, pk, CancelAuditForm, "cancel_form", programme.cancel_audit,
                        "Audit cancelled; the client and the team were told why.")


@login_required
@require_POST
def audit_start(request, pk):
    audit = _cb_audit(request, pk)
    try:
        programme.start_audit(audit=audit, actor=request.user)
        messages.success(request, "Audit started.")
    except DomainError as exc:
        _refused(request, exc)
    return redirect("audit_planning", audit.pk)


@login_required
@require_POST
def team_member_remove(request, pk):
    member = selectors.team_member_get(user=request.user, pk=pk)
    _cb_audit(request, member.audit_id)
    try:
        programme.remove_team_member(member=member, actor=request.user)
        messages.success(request, "Auditor removed from the team.")
    except DomainError as exc:
        _refused(request, exc)
    return redirect("audit_planning", member.audit_id)


@login_required
@require_POST
def team_member_declare(request, pk):
    member = selectors.team_member_get(user=request.user, pk=pk)
    _cb_audit(request, member.audit_id)
    form = DeclarationForm(request.POST)
    if form.is_valid():
        try:
            programme.declare_impartiality(member=member, actor=request.user,
                                           **form.cleaned_data)
        except DomainError as exc:
            if not _shown_on_form(form, exc):
                _refused(request, exc)
                return redirect("audit_planning", member.audit_id)
        else:
            messages.success(request, "Impartiality declaration signed.")
            return redirect("audit_planning", member.audit_id)
    # The missing part named beside its field, what was written kept.
    return _planning_page(request, member.audit, status=422, declaration_form=form)


@login_required
@require_POST
def plan_session_delete(request, pk):
    session = selectors.plan_session_get(user=request.user, pk=pk)
    audit = _cb_audit(request, session.plan.audit_id)
    try:
        programme.delete_plan_session(session=session, actor=request.user)
        messages.success(request, "Session removed.")
    except DomainError as exc:
        _refused(request, exc)
    return redirect("audit_planning", audit.pk)


# --- the client's view of the plan -------------------------------------------------------------

@login_required
def audit_plan_client(request, pk):
    """The plan as the client sees it (the CB side sees the same page): never internal notes."""
    return _client_plan_page(request, selectors.audit_get(user=request.user, pk=pk))


def _client_plan_page(request, audit: Audit, *, status: int = 200, answer_form=None):
    plan = selectors.plan_of(audit=audit)
    cb_side = selectors.is_cb_side(request.user, audit)
    # A plan taken back for revision is a draft again (sent before): the client learns it
    # is being revised and why, not the draft.
    revising = (plan is not None and plan.status == AuditPlan.Status.DRAFT
                and plan.sent_at is not None)
    # The client sees a plan once it was sent; drafts are the CB's work in progress.
    visible = plan is not None and (cb_side or (plan.sent_at is not None and not revising))
    is_editor = selectors.is_client_side(request.user, audit) and audit.cycle.organization \
        .memberships.filter(user=request.user, role__in=["owner", "editor"]).exists()
    remote = RemoteAudit.objects.filter(audit=audit).first()
    return render(request, "audits/programme/plan_client.html", {
        "audit": audit, "cycle": audit.cycle, "plan": plan if visible else None,
        "revising": plan if revising else None,
        "sessions": list(selectors.plan_sessions(plan=plan)) if visible else [],
        "team": list(selectors.team_of(audit=audit)), "cb_side": cb_side,
        "can_answer": (is_editor and visible and audit.status == Audit.Status.PLANNED
                       and plan.status == AuditPlan.Status.SENT),
        "answer_form": answer_form or PlanAnswerForm(),
        "remote": remote,
        "can_agree_remote": (is_editor and remote is not None and remote.feasible
                             and not remote.agreed and audit.status == Audit.Status.PLANNED),
    }, status=status)


def _answer(request, pk, call, success):
    audit = selectors.audit_get(user=request.user, pk=pk)
    form = PlanAnswerForm(request.POST)
    if form.is_valid():
        try:
            call(audit=audit, actor=request.user, comment=form.cleaned_data["comment"])
        except DomainError as exc:
            _refused(request, exc)
            if not _shown_on_form(form, exc):
                return redirect("audit_plan_client", audit.pk)
        else:
            messages.success(request, success)
            return redirect("audit_plan_client", audit.pk)
    # A change request too short: the comment stays with its error.
    return _client_plan_page(request, audit, status=422, answer_form=form)


@login_required
@require_POST
def plan_confirm(request, pk):
    return _answer(request, pk, programme.confirm_plan, "Thank you: the plan is confirmed.")


@login_required
@require_POST
def plan_request_changes(request, pk):
    return _answer(request, pk, programme.request_plan_changes,
                   "Your change request was sent to the certification body.")


@login_required
def audit_list(request):
    """The audits the user may see: an auditor's assignments, every audit for CB
    reviewers and administrators, a client's own — upcoming first, a page at a time (a CB
    holds tens of thousands)."""
    audits = (selectors.audits_for_user(user=request.user)
              .prefetch_related("team__auditor", "cycle__standards")
              .order_by("status", "start_date", "pk"))
    page = Paginator(audits, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audits/programme/audit_list.html", {"page": page})

