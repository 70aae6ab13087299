"""Impartiality pages (ISO/IEC 17021-1 §5.2, §6.2): the risk register with its queue, a
risk with its reviews, the register's periodic review, the committee's members and its
meetings with their minutes. Thin: validate → select → call one service → render or
redirect. Read by administrators and decision makers; everyone else gets 404."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from isocert.core.errors import DomainError
from isocert.core.files import stored_file_response
from isocert.core.forms import add_domain_error

from . import committee, selectors, services
from .forms import (
    HoldForm,
    MeetingForm,
    MemberForm,
    RegisterReviewForm,
    RiskForm,
    RiskReviewForm,
)
from .models import MEETING_LIFECYCLE, CommitteeMeeting, ImpartialityRisk

LIST_PAGE_SIZE = 25


def _attempt(form, call) -> tuple[int | None, object]:
    """Run ``call`` once ``form`` is valid: ``(None, what it returned)`` when it succeeded,
    else ``(the page's status, None)`` (the form then carries the error beside its field,
    and keeps what was typed)."""
    if not form.is_valid():
        return 422, None
    try:
        return None, call()
    except DomainError as exc:
        add_domain_error(form, exc)
        return exc.status, None


@login_required
def register(request):
    """The register, filtered by status and threat, with what is due for review."""
    status = request.GET.get("status", "")
    threat = request.GET.get("threat", "")
    risks = selectors.risks_for_staff(user=request.user, status=status, threat=threat)
    return render(request, "impartiality/register.html", {
        "page": Paginator(risks, LIST_PAGE_SIZE).get_page(request.GET.get("page")),
        "status": status, "threat": threat,
        "statuses": ImpartialityRisk.Status.choices, "threats": ImpartialityRisk.Threat.choices,
        "queue": selectors.register_status(user=request.user, today=timezone.localdate()),
        "can_manage": selectors.manages_register(request.user),
    })


@login_required
def risk_create(request):
    selectors.risks_for_staff(user=request.user)  # 404 for anyone who does not read it
    form = RiskForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status, risk = _attempt(form, lambda: services.record_risk(
            actor=request.user, **form.service_values()))
        if status is None:
            messages.success(request, f"Risk {risk.reference} recorded.")
            return redirect("impartiality_risk_detail", risk.pk)
    return render(request, "impartiality/risk_form.html", {"form": form, "risk": None},
                  status=status)


def _risk_page(request, risk, review_form=None, status=200):
    return render(request, "impartiality/risk_detail.html", {
        "risk": risk, "reviews": risk.reviews.select_related("reviewer"),
        "review_form": review_form or RiskReviewForm(),
        "can_manage": selectors.manages_register(request.user),
        "today": timezone.localdate(),
    }, status=status)


@login_required
def risk_detail(request, pk):
    return _risk_page(request, selectors.risk_get(user=request.user, pk=pk))


@login_required
def risk_edit(request, pk):
    risk = selectors.risk_get(user=request.user, pk=pk)
    initial = {name: getattr(risk, name) for name in (
        "threat", "source", "description", "likelihood", "impact", "safeguard",
        "next_review_on")}
    initial.update(organization_id=risk.organization_id, owner_id=risk.owner_id)
    form = RiskForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        def call():
            values = form.service_values()
            if values["next_review_on"] is None:
                values.pop("next_review_on")
            services.update_risk(risk=risk, actor=request.user, **values)
        status, _ = _attempt(form, call)
        if status is None:
            messages.success(request, f"Risk {risk.reference} saved.")
            return redirect("impartiality_risk_detail", risk.pk)
    return render(request, "impartiality/risk_form.html", {"form": form, "risk": risk},
                  status=status)


@login_required
@require_POST
def risk_review(request, pk):
    risk = selectors.risk_get(user=request.user, pk=pk)
    form = RiskReviewForm(request.POST)
    status, _ = _attempt(form, lambda: services.review_risk(risk=risk, actor=request.user,
                                                         **form.cleaned_data))
    if status is None:
        messages.success(request, f"Risk {risk.reference} reviewed.")
        return redirect("impartiality_risk_detail", risk.pk)
    risk.refresh_from_db()
    return _risk_page(request, risk, form, status)


@login_required
def register_review(request):
    """The periodic review of the whole register (§5.2.3), possibly at a meeting."""
    meetings = selectors.held_meetings(user=request.user)
    form = RegisterReviewForm(request.POST or None, meetings=meetings)
    status = 200
    if request.method == "POST":
        def call():
            data = form.cleaned_data
            services.review_register(actor=request.user, conclusion=data["conclusion"],
                                     reviewed_on=data["reviewed_on"],
                                     meeting=data["meeting_id"])
        status, _ = _attempt(form, call)
        if status is None:
            messages.success(request, "Register review recorded.")
            return redirect("impartiality_register")
    return render(request, "impartiality/register_review.html", {
        "form": form, "queue": selectors.register_status(user=request.user,
                                                         today=timezone.localdate()),
        "reviews": selectors.register_reviews(user=request.user),
        "can_manage": selectors.manages_register(request.user),
        "review_months": settings.IMPARTIALITY_REVIEW_MONTHS,
    }, status=status)


# --- the committee (§6.2) ------------------------------------------------------------------------

def _interest_counts(members) -> list[tuple[str, int]]:
    counts = {}
    for member in members:
        if member.active:
            label = member.get_interest_display()
            counts[label] = counts.get(label, 0) + 1
    return sorted(counts.items())


@login_required
def committee_members(request):
    members = selectors.members_for_staff(user=request.user)
    form = MemberForm(request.POST or None)
    status = 200
    if request.method == "POST":
        def call():
            data = dict(form.cleaned_data)
            data.pop("active")
            committee.add_committee_member(actor=request.user, **data)
        status, _ = _attempt(form, call)
        if status is None:
            messages.success(request, "Member appointed.")
            return redirect("impartiality_committee")
    active = [member for member in members if member.active]
    return render(request, "impartiality/committee.html", {
        "members": members, "form": form, "interests": _interest_counts(members),
        "predominant": committee.predominant_interest(active),
        "can_manage": selectors.manages_register(request.user),
    }, status=status)


@login_required
def member_edit(request, pk):
    member = selectors.member_get(user=request.user, pk=pk)
    initial = {name: getattr(member, name) for name in committee.MEMBER_FIELDS}
    form = MemberForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status, _ = _attempt(form, lambda: committee.update_committee_member(
            member=member, actor=request.user, **form.cleaned_data))
        if status is None:
            messages.success(request, f"{member.name}: saved.")
            return redirect("impartiality_committee")
    return render(request, "impartiality/member_form.html", {"form": form, "member": member},
                  status=status)


@login_required
def meetings(request):
    meeting_list = selectors.meetings_for_staff(user=request.user)
    form = MeetingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status, meeting = _attempt(form, lambda: committee.plan_meeting(
            actor=request.user, **form.cleaned_data))
        if status is None:
            messages.success(request, "Meeting planned.")
            return redirect("impartiality_meeting_detail", meeting.pk)
    return render(request, "impartiality/meetings.html", {
        "meetings": meeting_list, "form": form,
        "can_manage": selectors.manages_register(request.user),
    }, status=status)


def _hold_form(request, data=None, files=None) -> HoldForm:
    return HoldForm(data, files,
                    members=selectors.members_for_staff(user=request.user).filter(active=True),
                    risks=selectors.risks_for_staff(user=request.user).exclude(
                        status=ImpartialityRisk.Status.RETIRED))


def _meeting_page(request, meeting, hold_form=None, status=200):
    meeting = selectors.meeting_get(user=request.user, pk=meeting.pk)
    return render(request, "impartiality/meeting_detail.html", {
        "meeting": meeting, "allowed": set(MEETING_LIFECYCLE.allowed_actions(meeting.status)),
        "hold_form": hold_form or _hold_form(request),
        "warnings": committee.meeting_warnings(meeting),
        "can_manage": selectors.manages_register(request.user),
    }, status=status)


@login_required
def meeting_detail(request, pk):
    return _meeting_page(request, selectors.meeting_get(user=request.user, pk=pk))


@login_required
@require_POST
def meeting_action(request, pk, action):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    if action == "hold":
        form = _hold_form(request, request.POST, request.FILES)

        def call():
            data = form.cleaned_data
            committee.hold_meeting(meeting=meeting, actor=request.user,
                                   attendees=list(data["attendee_ids"]),
                                   minutes=data["minutes"], minutes_file=data["minutes_file"],
                                   risks_reviewed=list(data["risk_ids"]))
        status, _ = _attempt(form, call)
        if status is not None:
            return _meeting_page(request, meeting, form, status)
    elif action == "approve_minutes":
        try:
            committee.approve_minutes(meeting=meeting, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
            return _meeting_page(request, meeting, status=exc.status)
    else:
        raise Http404("No such action")
    meeting = CommitteeMeeting.objects.get(pk=meeting.pk)
    messages.success(request, f"{meeting}: {meeting.get_status_display().lower()}.")
    for warning in committee.meeting_warnings(meeting):
        messages.warning(request, warning)
    return redirect("impartiality_meeting_detail", meeting.pk)


@login_required
def minutes_download(request, pk):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    if meeting.minutes_file is None:
        raise Http404("No minutes file")
    return stored_file_response(meeting.minutes_file, meeting.minutes_filename)
