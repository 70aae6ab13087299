"""Pages: the multi-step application form, its detail page, the reviewer's queue."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from isocert.accounts import selectors as account_selectors
from isocert.catalog.selectors import standards_current
from isocert.core.errors import DomainError, InvalidInput
from isocert.core.files import stored_file_response
from isocert.core.forms import add_domain_error
from isocert.core.values import optional_int

from . import selectors, services
from .api import attachment_response
from .forms import (
    AcceptQuotationForm,
    AssessmentForm,
    AuditTimeForm,
    BackgroundForm,
    DeclineForm,
    DocumentForm,
    PeriodForm,
    QuotationPriceForm,
    RequestInformationForm,
    ResubmitForm,
    ScopeForm,
    StandardsForm,
    TransferConclusionForm,
    TransferReviewForm,
    WithdrawForm,
)
from .models import Application, PreliminaryAssessment, TransferReview
from .signals import review_panels

STEPS = [
    ("standards", "Standards"),
    ("scope", "Scope and sites"),
    ("background", "Consultancy and transfer"),
    ("period", "Audit period"),
    ("documents", "Documents"),
    ("review", "Review and submit"),
]
STEP_KEYS = [key for key, _ in STEPS]


@login_required
@require_POST
def application_create(request, pk):
    organization = account_selectors.organization_get(user=request.user, pk=pk)
    try:
        application = services.create_application(organization=organization, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("organization_detail", pk=pk)
    standard = request.POST.get("standard")
    if standard and standards_current().filter(code=standard).exists():
        services.update_application(application=application, actor=request.user,
                                    standards=[{"standard": standard}])
    return redirect("application_edit", pk=application.pk, step="standards")


def _step_form(step, application, data=None):
    if step == "standards":
        return StandardsForm(data, application=application)
    if step == "scope":
        return ScopeForm(data, organization=application.organization, initial={
            "scope_statement": application.scope_statement,
            "site_ids": [str(s.pk) for s in application.sites.all()]})
    if step == "background":
        return BackgroundForm(data, initial={f: getattr(application, f)
                                             for f in BackgroundForm.base_fields})
    if step == "period":
        return PeriodForm(data, initial={f: getattr(application, f)
                                         for f in PeriodForm.base_fields})
    return None


def _service_data(step, form) -> tuple[dict, dict]:
    if step == "standards":
        lines, field_map = form.service_lines()
        return {"standards": lines}, field_map
    data = dict(form.cleaned_data)
    if step == "scope":
        data["site_ids"] = [int(pk) for pk in data["site_ids"]]
    return data, {}


@login_required
def application_edit(request, pk, step):
    application = selectors.application_get(user=request.user, pk=pk)
    if step not in STEP_KEYS:
        raise Http404("No such step")
    if not application.client_can_edit:
        messages.info(request, f"This application is {application.get_status_display().lower()}"
                               " and can no longer be edited.")
        return redirect("application_detail", pk=pk)
    form = _step_form(step, application, request.POST or None)
    if request.method == "POST" and form is not None and form.is_valid():
        data, field_map = _service_data(step, form)
        try:
            saved = services.update_application(
                application=application, actor=request.user, **data,
                expected_version=optional_int(request.POST.get("version")))
        except DomainError as exc:
            add_domain_error(form, exc, field_map)
        else:
            # Saved, but what this step's fields say would be refused at submission: stay on
            # the step, show it on the field, keep what was typed (docs/registration.md).
            problems = {field: message for field, message
                        in services.entry_problems(saved).items() if field in form.fields}
            for field, message in problems.items():
                form.add_error(field, message)
            if problems:
                messages.warning(request, "Draft saved — correct the highlighted fields before "
                                          "you submit.")
            else:
                index = STEP_KEYS.index(step)
                target = (step if "save" in request.POST
                          else STEP_KEYS[min(index + 1, len(STEPS) - 1)])
                messages.success(request, "Draft saved.")
                return redirect("application_edit", pk=pk, step=target)
    application = selectors.application_get(user=request.user, pk=pk)
    context = {
        "application": application, "step": step, "steps": STEPS, "form": form,
        "step_index": STEP_KEYS.index(step) + 1,
        "latest_request": selectors.latest_information_request(application=application),
    }
    if step == "documents":
        context["document_form"] = DocumentForm()
        context["documents"] = application.documents.select_related("file")
    if step == "review":
        context["missing"] = [(problem, _step_of_problem(key)) for key, problem
                              in services.completeness_problems(application).items()]
        context["resubmit_form"] = ResubmitForm()
        context["documents"] = application.documents.select_related("file")
    return render(request, "registration/application_edit.html", context)


def _step_of_problem(key: str) -> str:
    """Which step of the form fixes a completeness problem ("" = the organization profile)."""
    if key.startswith("standards"):
        return "standards"
    if key in ("scope_statement", "site_ids"):
        return "scope"
    if key.startswith(("consultancy", "current_")):
        return "background"
    if key.startswith("desired_"):
        return "period"
    return ""


@login_required
def application_detail(request, pk):
    application = selectors.application_get(user=request.user, pk=pk)
    membership = account_selectors.membership_of(user=request.user,
                                                 organization=application.organization)
    return render(request, "registration/application_detail.html", {
        "application": application,
        "membership": membership,
        "can_accept_quotation": membership is not None and membership.role == "owner",
        "timeline": selectors.application_timeline(user=request.user, application=application),
        "documents": application.documents.select_related("file"),
        "allowed": selectors.allowed_actions_for(application=application, user=request.user),
        "withdraw_form": WithdrawForm(),
        "latest_request": selectors.latest_information_request(application=application),
        "determination": selectors.audit_time_of(user=request.user, application=application),
        "quotations": selectors.quotations_for_application(user=request.user,
                                                           application=application),
        "accept_form": AcceptQuotationForm(),
        # A transfer: the pre-transfer review as the client may read it (IAF MD 2 §2.2).
        "transfer_review": (selectors.transfer_review_of(application=application)
                            if application.is_transfer else None),
    })


@login_required
@require_POST
def document_upload(request, pk):
    application = selectors.application_get(user=request.user, pk=pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = services.add_application_document(
                application=application, actor=request.user, upload=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"], description=form.cleaned_data["description"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"“{document.original_name}” uploaded.")
            return redirect("application_edit", pk=pk, step="documents")
    return render(request, "registration/application_edit.html", {
        "application": application, "step": "documents", "steps": STEPS,
        "step_index": STEP_KEYS.index("documents") + 1, "document_form": form,
        "documents": application.documents.select_related("file"),
    }, status=400)


@login_required
def document_download(request, pk):
    return attachment_response(selectors.document_get(user=request.user, pk=pk))


@login_required
@require_POST
def document_delete(request, pk):
    document = selectors.document_get(user=request.user, pk=pk)
    try:
        services.remove_application_document(document=document, actor=request.user)
        messages.success(request, f"“{document.original_name}” removed.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("application_edit", pk=document.application_id, step="documents")


TRANSITIONS = {
    "submit": (None, lambda app, user, form: services.submit_application(
        application=app, actor=user)),
    "resubmit": (ResubmitForm, lambda app, user, form: services.resubmit_application(
        application=app, actor=user, response=form.cleaned_data["response"])),
    "withdraw": (WithdrawForm, lambda app, user, form: services.withdraw_application(
        application=app, actor=user, reason=form.cleaned_data["reason"])),
    "start-review": (None, lambda app, user, form: services.start_review(
        application=app, actor=user)),
    "request-information": (RequestInformationForm, lambda app, user, form:
                            services.request_information(application=app, actor=user,
                                                         message=form.cleaned_data["message"])),
    "register": (None, lambda app, user, form: services.register_application(
        application=app, actor=user)),
    "decline": (DeclineForm, lambda app, user, form: services.decline_application(
        application=app, actor=user, reason=form.cleaned_data["reason"])),
}
DONE_MESSAGES = {
    "submit": "Application submitted. The certification body will review it.",
    "resubmit": "Your answer was sent; the application is back with the reviewer.",
    "withdraw": "Application withdrawn.",
    "start-review": "Review started.",
    "request-information": "Request sent to the client.",
    "register": "Registered.",
    "decline": "Application declined.",
}
REVIEW_ACTIONS = {"start-review", "request-information", "register", "decline"}


@login_required
@require_POST
def application_transition(request, pk, action):
    """One POST per lifecycle action; the service decides whether it is allowed."""
    if action not in TRANSITIONS:
        raise Http404("No such action")
    application = selectors.application_get(user=request.user, pk=pk)
    form_class, perform = TRANSITIONS[action]
    form = form_class(request.POST) if form_class else None
    back = reverse("review_detail" if action in REVIEW_ACTIONS else "application_detail",
                   args=[pk])
    if form is not None and not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{form.fields[field].label}: {' '.join(errors)}"
                           if field in form.fields else " ".join(errors))
        return redirect(back)
    try:
        application = perform(application, request.user, form)
    except DomainError as exc:
        text = exc.message
        if exc.fields:
            text += " " + " ".join(exc.fields.values())
        messages.error(request, text)
        if action == "submit":
            return redirect("application_edit", pk=pk, step="review")
        return redirect(back)
    message = DONE_MESSAGES[action]
    if action == "register":
        message = f"Registered as {application.registration_number}."
    messages.success(request, message)
    return redirect(back)


@login_required
def review_queue(request):
    status = request.GET.get("status", "")
    if status and status not in Application.Status.values:
        status = ""
    standard = request.GET.get("standard", "")
    search = request.GET.get("q", "").strip()[:100]
    mine = request.GET.get("mine") == "1"
    queue = selectors.review_queue(user=request.user, status=status, standard=standard,
                                   search=search, mine=mine)
    return render(request, "registration/review_queue.html", {
        "page": Paginator(queue, 25).get_page(request.GET.get("page")),
        "counts": selectors.review_counts(user=request.user),
        "status": status, "standard": standard, "q": search, "mine": mine,
        "statuses": [(s, label) for s, label in Application.Status.choices if s != "draft"],
        "standards": standards_current(),
    })


@login_required
def review_detail(request, pk, audit_time_form=None, status=200):
    selectors.ensure_cb_reader(request.user)
    application = selectors.application_get(user=request.user, pk=pk)
    determination = selectors.audit_time_of(user=request.user, application=application)
    assessment = PreliminaryAssessment.objects.filter(application=application).first()
    initial = ({f: getattr(assessment, f) for f in AssessmentForm.base_fields}
               if assessment else {"impartiality_risk": "managed" if application.consultancy_used
                                   else "none"})
    return render(request, "registration/review_detail.html", {
        "application": application, "assessment": assessment,
        "assessment_form": AssessmentForm(initial=initial),
        "request_form": RequestInformationForm(), "decline_form": DeclineForm(),
        "timeline": selectors.application_timeline(user=request.user, application=application),
        "documents": application.documents.select_related("file"),
        "allowed": selectors.allowed_actions_for(application=application, user=request.user),
        "determination": determination,
        "proposal": None if determination else selectors.proposed_audit_time(
            user=request.user, application=application),
        "audit_time_form": audit_time_form or AuditTimeForm(
            initial=AuditTimeForm.initial_from(determination)),
        "quotations": selectors.quotations_for_application(user=request.user,
                                                           application=application),
        "panels": review_panels(application=application, request=request),
        **_transfer_context(application),
    }, status=status)


def _transfer_context(application) -> dict:
    """The pre-transfer review panel of a transfer application (IAF MD 2 §2.2)."""
    if not application.is_transfer:
        return {}
    review = TransferReview.objects.filter(application=application).first()
    initial = ({f: getattr(review, f) for f in TransferReviewForm.base_fields}
               if review else {"visit": TransferReview.Visit.NOT_NEEDED})
    return {"transfer_review": review, "transfer_form": TransferReviewForm(initial=initial),
            "transfer_conclusion_form": TransferConclusionForm()}


@login_required
@require_POST
def review_transfer(request, pk):
    """Rita records the pre-transfer review's checks (IAF MD 2 §2.2)."""
    application = selectors.application_get(user=request.user, pk=pk)
    form = TransferReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The transfer review was not saved: " + "; ".join(
            f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()))
        return redirect(reverse("review_detail", args=[pk]) + "#transfer")
    try:
        review = services.record_transfer_review(application=application, actor=request.user,
                                                 **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, " ".join([exc.message, *exc.fields.values()]))
    else:
        messages.success(request, "Transfer review saved: " + (
            "every check passed." if review.passed
            else "not passed — " + "; ".join(review.failed_checks()) + "."))
    return redirect(reverse("review_detail", args=[pk]) + "#transfer")


@login_required
@require_POST
def review_transfer_conclude(request, pk):
    """Accept or refuse the transfer with reasons (IAF MD 2 §2.2)."""
    application = selectors.application_get(user=request.user, pk=pk)
    form = TransferConclusionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose accept or refuse and give the reasons.")
        return redirect(reverse("review_detail", args=[pk]) + "#transfer")
    try:
        review = services.conclude_transfer_review(
            application=application, actor=request.user,
            accept=form.cleaned_data["decision"] == "accept",
            reasons=form.cleaned_data["reasons"])
    except DomainError as exc:
        messages.error(request, " ".join([exc.message, *exc.fields.values()]))
    else:
        messages.success(request, f"{review.get_status_display()}.")
    return redirect(reverse("review_detail", args=[pk]) + "#transfer")


@login_required
@require_POST
def review_assessment(request, pk):
    application = selectors.application_get(user=request.user, pk=pk)
    form = AssessmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the impartiality risk.")
        return redirect("review_detail", pk=pk)
    try:
        assessment = services.record_preliminary_assessment(
            application=application, actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, " ".join([exc.message, *exc.fields.values()]))
    else:
        messages.success(request, f"Preliminary assessment saved: {assessment.outcome}.")
    return redirect("review_detail", pk=pk)


@login_required
@require_POST
def review_audit_time(request, pk):
    """The reviewer fixes the audit time (factors, hand-set figures with justification)."""
    selectors.ensure_cb_reader(request.user)
    application = selectors.application_get(user=request.user, pk=pk)
    form = AuditTimeForm(request.POST)
    if form.is_valid():
        try:
            services.determine_audit_time(application=application, actor=request.user,
                                          **form.service_kwargs())
        except DomainError as exc:
            add_domain_error(form, exc, AuditTimeForm.field_map())
        else:
            messages.success(request, "Audit time saved.")
            return redirect(reverse("review_detail", args=[pk]) + "#audit-time")
    messages.error(request, "The audit time was not saved: correct the highlighted fields.")
    return review_detail(request, pk, audit_time_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def quotation_issue(request, pk):
    """Preview the quotation (the price the reviewer may edit: day rate, an adjustment with
    its reason), then send it. Nothing is saved until "Send"."""
    application = selectors.application_get(user=request.user, pk=pk)
    form = QuotationPriceForm(request.POST or None,
                              initial={"day_rate": settings.QUOTATION_DAY_RATE})
    price = None
    try:
        if not form.is_bound:
            price = services.preview_quotation(application=application, actor=request.user)
        elif form.is_valid():
            if request.POST.get("action") == "send":
                quotation = services.issue_quotation(application=application, actor=request.user,
                                                     **form.cleaned_data)
                messages.success(request, f"Quotation {quotation.number} sent to the client.")
                return redirect(reverse("review_detail", args=[pk]) + "#quotation")
            price = services.preview_quotation(application=application, actor=request.user,
                                               **form.cleaned_data)
    except DomainError as exc:
        if not (isinstance(exc, InvalidInput) and form.is_bound):
            messages.error(request, exc.message)
            return redirect(reverse("review_detail", args=[pk]) + "#quotation")
        add_domain_error(form, exc)
    return render(request, "registration/quotation_preview.html", {
        "application": application, "form": form, "price": price,
    }, status=200 if price is not None or not form.is_bound else 422)


@login_required
@require_POST
def quotation_accept(request, pk):
    quotation = selectors.quotation_get(user=request.user, pk=pk)
    form = AcceptQuotationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Tick the box to confirm you accept the quotation.")
    else:
        try:
            services.accept_quotation(quotation=quotation, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Quotation {quotation.number} accepted: it is now your "
                                      "certification contract.")
    return redirect(reverse("application_detail", args=[quotation.application_id]) + "#quotation")


@login_required
def quotation_pdf(request, pk):
    quotation = selectors.quotation_get(user=request.user, pk=pk)
    if quotation.pdf is None:
        messages.info(request, "The PDF is being prepared; try again in a moment.")
        return redirect(reverse("application_detail", args=[quotation.application_id]))
    return stored_file_response(quotation.pdf, f"{quotation.number}.pdf")
