"""Pages: action board and list, action detail, internal audits, management reviews, and
stage-1 readiness per standard."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from isocert.accounts import selectors as account_selectors
from isocert.core.errors import DomainError
from isocert.core.files import stored_file_response
from isocert.core.forms import add_domain_error
from isocert.core.values import optional_int
from isocert.readiness import selectors as readiness_selectors

from . import selectors, services, stage1
from .forms import (
    ActionFilterForm,
    ActionForm,
    ChecklistItemForm,
    CompleteAuditForm,
    DecisionsForm,
    EvidenceForm,
    FindingForm,
    InternalAuditForm,
    ManagementReviewForm,
    NoteForm,
    ReviewInputsForm,
)
from .models import ACTION_LIFECYCLE


def _form_errors_to_messages(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))


# --- actions -----------------------------------------------------------------------------------

def _action_page_context(request, organization) -> dict:
    filter_form = ActionFilterForm(request.GET or None, organization=organization)
    return {
        "organization": organization,
        "filter_form": filter_form,
        "filters": filter_form.filters(),
        "can_edit": selectors.can_edit(user=request.user, organization=organization),
        "hints": selectors.reassess_hints(user=request.user, organization=organization),
    }


@login_required
def action_list(request, pk):
    organization = account_selectors.organization_get(user=request.user, pk=pk)
    context = _action_page_context(request, organization)
    actions = list(selectors.actions_for_organization(user=request.user,
                                                      organization=organization,
                                                      filters=context["filters"]))
    for action in actions:
        action.overdue = selectors.is_overdue(action)
    return render(request, "improvement/action_list.html", {**context, "actions": actions})


@login_required
def action_board(request, pk):
    organization = account_selectors.organization_get(user=request.user, pk=pk)
    context = _action_page_context(request, organization)
    return render(request, "improvement/action_board.html", {
        **context, "columns": selectors.action_board(user=request.user, organization=organization,
                                                      filters=context["filters"])})


@login_required
def action_create(request, pk):
    organization = account_selectors.organization_get(user=request.user, pk=pk)
    gap_item_id = optional_int(request.GET.get("gap_item"))
    form = ActionForm(request.POST or None, organization=organization,
                      initial={"gap_item_id": gap_item_id})
    if request.method == "POST" and form.is_valid():
        try:
            action = services.create_action(organization=organization, actor=request.user,
                                            **form.service_data(with_gap_item=True))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Action “{action.title}” created.")
            return redirect("action_detail", pk=action.pk)
    return render(request, "improvement/action_form.html",
                  {"form": form, "organization": organization, "from_gap": bool(gap_item_id)})


@login_required
def action_edit(request, pk):
    action = selectors.action_get(user=request.user, pk=pk)
    form = ActionForm(request.POST or None, organization=action.organization,
                      initial=ActionForm.initial_for(action))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_action(action=action, actor=request.user, **form.service_data(),
                                   expected_version=optional_int(request.POST.get("version")))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Action saved.")
            return redirect("action_detail", pk=pk)
    return render(request, "improvement/action_form.html", {
        "form": form, "organization": action.organization, "action": action})


@login_required
def action_detail(request, pk):
    action = selectors.action_get(user=request.user, pk=pk)
    action.overdue = selectors.is_overdue(action)
    return render(request, "improvement/action_detail.html", {
        "action": action, "organization": action.organization,
        "can_edit": selectors.can_edit(user=request.user, organization=action.organization),
        "transitions": selectors.allowed_transitions(action=action, user=request.user),
        "notes": action.notes.select_related("author"),
        "evidence": action.evidence.select_related("file"),
        "note_form": NoteForm(), "evidence_form": EvidenceForm(),
    })


@login_required
@require_POST
def action_transition(request, pk, transition):
    action = selectors.action_get(user=request.user, pk=pk)
    if transition not in ACTION_LIFECYCLE.transitions:
        raise Http404("No such transition")
    try:
        outcome = services.transition_action(
            action=action, transition=transition, actor=request.user,
            expected_version=optional_int(request.POST.get("version")))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Action “{outcome.action.title}” is now "
                                  f"{outcome.action.get_status_display().lower()}.")
        if outcome.reassess_message:
            messages.info(request, outcome.reassess_message)
    back = request.POST.get("next", "")
    if back in ("board", "list"):
        return redirect(f"action_{back}", pk=action.organization_id)
    return redirect("action_detail", pk=pk)


@login_required
@require_POST
def action_note_add(request, pk):
    action = selectors.action_get(user=request.user, pk=pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_action_note(action=action, actor=request.user,
                                     text=form.cleaned_data["text"])
            messages.success(request, "Note added.")
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        _form_errors_to_messages(request, form)
    return redirect("action_detail", pk=pk)


@login_required
@require_POST
def action_evidence_add(request, pk):
    action = selectors.action_get(user=request.user, pk=pk)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_action_evidence(action=action, actor=request.user,
                                         title=form.cleaned_data["title"],
                                         upload=form.cleaned_data["file"],
                                         link=form.cleaned_data["link"])
            messages.success(request, "Evidence added.")
        except DomainError as exc:
            messages.error(request, " ".join([exc.message, *exc.fields.values()]))
    else:
        _form_errors_to_messages(request, form)
    return redirect("action_detail", pk=pk)


@login_required
def action_evidence_download(request, pk):
    evidence = selectors.evidence_get(user=request.user, pk=pk)
    if evidence.file is None:
        raise Http404("This evidence is a link")
    return stored_file_response(evidence.file, f"{evidence.title[:100]}"
                                f"{_extension(evidence.file.content_type)}")


def _extension(content_type: str) -> str:
    import mimetypes

    return mimetypes.guess_extension(content_type) or ""


# --- internal audits ---------------------------------------------------------------------------

@login_required
def internal_audit_list(request, pk):
    organization = account_selectors.organization_get(user=request.user, pk=pk)
    return render(request, "improvement/internal_audit_list.html", {
        "organization": organization,
        "audits": selectors.internal_audits_for_organization(user=request.user,
                                                             organization=organization),
        "can_edit": selectors.can_edit(user=request.user, organization=organization),
    })


@login_required
def internal_audit_create(request, pk):
    organization = account_selectors.organization_get(user=request.user, pk=pk)
    form = InternalAuditForm(request.POST or None, organization=organization, initial={
        "standard": selectors.internal_audit_standard(organization=organization)})
    if request.method == "POST" and form.is_valid():
        try:
            audit = services.create_internal_audit(organization=organization, actor=request.user,
                                                   **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Internal audit “{audit.title}” planned; its checklist "
                                      f"has {audit.checklist.count()} clauses.")
            return redirect("internal_audit_detail", pk=audit.pk)
    return render(request, "improvement/internal_audit_form.html",
                  {"form": form, "organization": organization})


@login_required
def internal_audit_detail(request, pk):
    audit = selectors.internal_audit_get(user=request.user, pk=pk)
    checklist = list(audit.checklist.select_related("clause"))
    for item in checklist:
        item.form = ChecklistItemForm(initial={"result": item.result, "notes": item.notes},
                                      prefix=f"row{item.pk}")
    return render(request, "improvement/internal_audit_detail.html", {
        "audit": audit, "organization": audit.organization, "checklist": checklist,
        "findings": audit.findings.select_related("clause", "file", "corrective_action"),
        "can_edit": selectors.can_edit(user=request.user, organization=audit.organization),
        "finding_form": FindingForm(organization=audit.organization),
        "complete_form": CompleteAuditForm(),
    })


@login_required
@require_POST
def checklist_item_update(request, pk):
    item = selectors.checklist_item_get(user=request.user, pk=pk)
    form = ChecklistItemForm(request.POST, prefix=f"row{item.pk}")
    if form.is_valid():
        try:
            services.update_checklist_item(item=item, actor=request.user,
                                           result=form.cleaned_data["result"],
                                           notes=form.cleaned_data["notes"])
            messages.success(request, f"Clause {item.clause.number} saved.")
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        _form_errors_to_messages(request, form)
    return redirect("internal_audit_detail", pk=item.audit_id)


@login_required
@require_POST
def internal_finding_add(request, pk):
    audit = selectors.internal_audit_get(user=request.user, pk=pk)
    form = FindingForm(request.POST, request.FILES, organization=audit.organization)
    if form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "file"}
        try:
            finding = services.add_internal_finding(audit=audit, actor=request.user, **fields,
                                                    upload=form.cleaned_data["file"])
        except DomainError as exc:
            messages.error(request, " ".join([exc.message, *exc.fields.values()]))
        else:
            messages.success(request, f"{finding.get_kind_display()} recorded"
                             + (" and a corrective action raised." if finding.kind ==
                                "nonconformity" else "."))
    else:
        _form_errors_to_messages(request, form)
    return redirect("internal_audit_detail", pk=pk)


@login_required
def internal_finding_download(request, pk):
    finding = selectors.finding_get(user=request.user, pk=pk)
    if finding.file is None:
        raise Http404("No file")
    return stored_file_response(finding.file, f"finding-{finding.pk}"
                                f"{_extension(finding.file.content_type)}")


@login_required
@require_POST
def internal_audit_complete(request, pk):
    audit = selectors.internal_audit_get(user=request.user, pk=pk)
    form = CompleteAuditForm(request.POST)
    if form.is_valid():
        try:
            services.complete_internal_audit(audit=audit, actor=request.user,
                                             conclusion=form.cleaned_data["conclusion"])
            messages.success(request, "Internal audit completed.")
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        _form_errors_to_messages(request, form)
    return redirect("internal_audit_detail", pk=pk)


# --- management reviews ------------------------------------------------------------------------

@login_required
def management_review_list(request, pk):
    organization = account_selectors.organization_get(user=request.user, pk=pk)
    return render(request, "improvement/management_review_list.html", {
        "organization": organization,
        "reviews": selectors.management_reviews_for_organization(user=request.user,
                                                                 organization=organization),
        "can_edit": selectors.can_edit(user=request.user, organization=organization),
    })


@login_required
def management_review_create(request, pk):
    organization = account_selectors.organization_get(user=request.user, pk=pk)
    form = ManagementReviewForm(request.POST or None, initial={
        "standard": selectors.management_review_standard(organization=organization)})
    if request.method == "POST" and form.is_valid():
        try:
            review = services.create_management_review(organization=organization,
                                                       actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Management review recorded; now go through its inputs.")
            return redirect("management_review_detail", pk=review.pk)
    return render(request, "improvement/management_review_form.html",
                  {"form": form, "organization": organization})


@login_required
def management_review_detail(request, pk):
    review = selectors.management_review_get(user=request.user, pk=pk)
    return render(request, "improvement/management_review_detail.html", {
        "review": review, "organization": review.organization,
        "inputs": review.inputs.all(),
        "inputs_form": ReviewInputsForm(review=review),
        "decisions_form": DecisionsForm(initial={"decisions": review.decisions}),
        "action_form": ActionForm(organization=review.organization,
                                  initial={"standard": review.standard.code}),
        "actions": review.actions.select_related("owner", "clause"),
        "can_edit": selectors.can_edit(user=request.user, organization=review.organization),
    })


@login_required
@require_POST
def management_review_inputs(request, pk):
    review = selectors.management_review_get(user=request.user, pk=pk)
    form = ReviewInputsForm(request.POST, review=review)
    if form.is_valid():
        try:
            services.update_review_inputs(review=review, actor=request.user,
                                          inputs=form.service_inputs())
            messages.success(request, "Inputs saved.")
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        _form_errors_to_messages(request, form)
    return redirect("management_review_detail", pk=pk)


@login_required
@require_POST
def management_review_decisions(request, pk):
    review = selectors.management_review_get(user=request.user, pk=pk)
    form = DecisionsForm(request.POST)
    if form.is_valid():
        try:
            services.record_review_decisions(review=review, actor=request.user,
                                             decisions=form.cleaned_data["decisions"])
            messages.success(request, "Decisions saved.")
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect("management_review_detail", pk=pk)


@login_required
@require_POST
def management_review_action_add(request, pk):
    review = selectors.management_review_get(user=request.user, pk=pk)
    form = ActionForm(request.POST, organization=review.organization)
    if form.is_valid():
        try:
            action = services.add_review_action(review=review, actor=request.user,
                                                **form.service_data())
            messages.success(request, f"Action “{action.title}” added to the action list.")
        except DomainError as exc:
            messages.error(request, " ".join([exc.message, *exc.fields.values()]))
    else:
        _form_errors_to_messages(request, form)
    return redirect("management_review_detail", pk=pk)


# --- the stage-1 verdict ----------------------------------------------------------------------

@login_required
def readiness(request, pk):
    organization = readiness_selectors.organization_for_readiness(user=request.user, pk=pk)
    role = readiness_selectors.membership_role(user=request.user, organization=organization)
    return render(request, "improvement/readiness.html", {
        "organization": organization, "role": role, "is_owner": role == "owner",
        "entries": stage1.readiness_for_organization(user=request.user,
                                                     organization=organization),
    })
