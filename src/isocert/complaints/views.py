"""Complaint pages: the public process page with its form, the CB's list and handling
page, and the certified client's page to respond. Thin: validate → select → call one
service → render or redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from isocert.audits.models import Audit
from isocert.core.errors import DomainError
from isocert.core.files import stored_file_response
from isocert.core.forms import add_domain_error
from isocert.registry.views_public import rate_limited

from . import selectors, services
from .forms import (
    ApprovalForm,
    ClassifyForm,
    ComplaintForm,
    DecisionForm,
    InvestigationForm,
    InvestigatorForm,
    OutcomeForm,
    ResponseForm,
    ReturnOutcomeForm,
    TextForm,
)
from .models import COMPLAINT_LIFECYCLE, Complaint

LIST_PAGE_SIZE = 25


@rate_limited
def complaint_public(request):
    """The complaints-handling process (ISO/IEC 17021-1 §9.8.1: publicly available) and the
    form to lodge one, no account needed. Counts against the public rate limit."""
    if request.method == "POST":
        form = ComplaintForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint = services.lodge_complaint(
                    name=data["name"], email=data["email"], subject=data["subject"],
                    description=data["description"],
                    organization_name=data["organization_name"],
                    certificate_number=data["certificate_number"],
                    attachments=data["attachments"])
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                return render(request, "complaints/public_received.html",
                              {"complaint": complaint}, status=201)
        return render(request, "complaints/public.html", {"form": form}, status=422)
    return render(request, "complaints/public.html", {"form": ComplaintForm()})


@login_required
def complaint_list(request):
    status = request.GET.get("status", "")
    if status not in Complaint.Status.values:
        status = ""
    complaints = selectors.complaints_for_staff(user=request.user, status=status)
    return render(request, "complaints/list.html", {
        "page": Paginator(complaints, LIST_PAGE_SIZE).get_page(request.GET.get("page")),
        "status": status, "statuses": Complaint.Status.choices,
        "overdue": selectors.overdue_complaints(user=request.user,
                                                today=timezone.localdate()),
    })


def _classify_form(complaint: Complaint, data=None) -> ClassifyForm:
    """The classification form: the certificates, and the audits of the linked one's cycle."""
    audits = (Audit.objects.filter(cycle=complaint.certificate.cycle)
              if complaint.certificate and complaint.certificate.cycle_id
              else Audit.objects.none())
    return ClassifyForm(data, certificates=selectors.certificates_for_classification(),
                        audits=audits.select_related("cycle__organization"),
                        initial={"certificate_id": complaint.certificate_id})


def _forms(complaint: Complaint, bound: dict | None = None) -> dict:
    forms = {
        "classify": _classify_form(complaint),
        "assign_investigator": InvestigatorForm(),
        "record_investigation": InvestigationForm(),
        "decide": DecisionForm(),
        "approve": ApprovalForm(),
        "return_outcome": ReturnOutcomeForm(),
        "progress": TextForm(),
        "communicate_outcome": OutcomeForm(),
    }
    forms.update(bound or {})
    return forms


def _detail(request, complaint: Complaint, bound: dict | None = None, status: int = 200):
    allowed = set(COMPLAINT_LIFECYCLE.allowed_actions(complaint.status))
    if complaint.approval_required and complaint.status == Complaint.Status.DECIDED:
        allowed.discard("communicate_outcome")   # §9.8.6: approved first
    elif not complaint.approval_required:
        allowed -= {"approve", "return_outcome"}
    return render(request, "complaints/detail.html", {
        "complaint": complaint, "forms": _forms(complaint, bound), "allowed": allowed,
        "due": services.due_dates(complaint),
        "overdue": (services.overdue_reasons(complaint, timezone.localdate())
                    if complaint.is_open else []),
        "involved": selectors.people_with_reasons(services.involved_people(complaint)),
        "can_handle": selectors.handles_complaints(request.user),
        "can_report": complaint.status in services.COMPLAINT_HANDLING | {
            Complaint.Status.ACKNOWLEDGED},
    }, status=status)


@login_required
def complaint_detail(request, pk):
    return _detail(request, selectors.complaint_get(user=request.user, pk=pk))


def _run(action: str, complaint: Complaint, request):
    """The posted form for ``action`` (None when it takes none) and the service call that
    runs once it is valid; an unknown action is a 404."""
    post = request.POST
    user = request.user
    if action == "acknowledge":
        return None, lambda: services.acknowledge_complaint(complaint=complaint, actor=user)
    if action == "close":
        return None, lambda: services.close_complaint(complaint=complaint, actor=user)
    if action == "classify":
        form = _classify_form(complaint, post)

        def call():
            data = form.cleaned_data
            certificate = (selectors.certificates_for_classification()
                           .get(pk=data["certificate_id"]) if data["certificate_id"] else None)
            return services.classify_complaint(
                complaint=complaint, actor=user, relates_to=data["relates_to"],
                certificate=certificate,
                audits=list(Audit.objects.filter(pk__in=data["audit_ids"])),
                notes=data["notes"])
        return form, call
    if action == "assign_investigator":
        form = InvestigatorForm(post)
        return form, lambda: services.assign_investigator(
            complaint=complaint, investigator=form.cleaned_data["investigator_id"], actor=user)
    if action == "record_investigation":
        form = InvestigationForm(post)
        return form, lambda: services.record_complaint_investigation(
            complaint=complaint, actor=user, investigation=form.cleaned_data["investigation"])
    if action == "decide":
        form = DecisionForm(post)
        return form, lambda: services.decide_complaint(
            complaint=complaint, actor=user, outcome=form.cleaned_data["outcome"],
            action=form.cleaned_data["action"],
            action_reason=form.cleaned_data["action_reason"])
    if action == "approve":
        form = ApprovalForm(post)
        return form, lambda: services.approve_complaint_outcome(
            complaint=complaint, actor=user, notes=form.cleaned_data["notes"])
    if action == "return_outcome":
        form = ReturnOutcomeForm(post)
        return form, lambda: services.return_complaint_outcome(
            complaint=complaint, actor=user, reason=form.cleaned_data["reason"])
    if action == "progress":
        form = TextForm(post)
        return form, lambda: services.report_complaint_progress(
            complaint=complaint, actor=user, text=form.cleaned_data["text"])
    if action == "communicate_outcome":
        form = OutcomeForm(post)
        return form, lambda: services.communicate_complaint_outcome(
            complaint=complaint, actor=user, text=form.cleaned_data["text"])
    raise Http404("No such action")


@login_required
@require_POST
def complaint_action(request, pk, action):
    complaint = selectors.complaint_get(user=request.user, pk=pk)
    form, call = _run(action, complaint, request)
    if form is None or form.is_valid():
        try:
            call()
        except DomainError as exc:
            if form is None:
                messages.error(request, exc.message)
                return _detail(request, complaint, status=exc.status)
            add_domain_error(form, exc)
            return _detail(request, complaint, {action: form}, status=exc.status)
        messages.success(request, f"Complaint {complaint.reference}: done.")
        return redirect("complaint_detail", complaint.pk)
    return _detail(request, complaint, {action: form}, status=422)


@login_required
def complaint_attachment_download(request, pk):
    attachment = selectors.attachment_get(user=request.user, pk=pk)
    return stored_file_response(attachment.file, attachment.filename)


@login_required
def complaint_client(request, pk):
    """The certified client's view of a complaint about it, and its response (§9.8.4)."""
    complaint = selectors.complaint_for_client(user=request.user, pk=pk)
    form = ResponseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.respond_to_complaint(complaint=complaint, actor=request.user,
                                              response=form.cleaned_data["response"])
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                messages.success(request, "Your response was sent to the certification body.")
                return redirect("complaint_client", complaint.pk)
    return render(request, "complaints/client.html", {
        "complaint": complaint, "form": form,
        "can_respond": complaint.status in services.COMPLAINT_HANDLING}, status=status)
