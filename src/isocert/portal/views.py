"""The shell's pages: landing, the dashboard, an organization's page, the audit-trail browser.

They compose what several apps know (organizations, applications, readiness, the
journey), which is why they live in the portal and not in any one app."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from isocert.accounts.permissions import can, member_roles_with
from isocert.accounts.selectors import (
    client_record_get,
    membership_of,
    organizations_for_user,
)
from isocert.catalog.selectors import standards_current, transitions_by_edition
from isocert.certification import editions
from isocert.complaints import selectors as complaints_selectors
from isocert.impartiality import selectors as impartiality_selectors
from isocert.improvement.stage1 import readiness_for_organizations
from isocert.registration.selectors import (
    applications_by_organization,
    applications_for_organization,
    review_counts,
)

from .client_work import client_work
from .journey import journeys_for_organization
from .queues import dashboard_summary, queues_for, work_page
from .selectors import TRAIL_COUNT_CAP, audit_event_page, audit_events

JOURNEY = [
    ("Gap analysis", "Compare your management system with every clause of the standard."),
    ("Implementation", "Close the gaps with owned, dated actions and evidence."),
    ("Internal audit", "Check the system yourself and hold a management review."),
    ("Certification audit", "Our auditors run stage 1 (readiness) and stage 2 (on site)."),
    ("Certification decision", "An independent decision maker grants the certificate."),
]


def landing(request):
    return render(request, "portal/landing.html", {
        "standards": standards_current(), "journey": JOURNEY,
    })


@login_required
def dashboard(request):
    user = request.user
    members_of = list(organizations_for_user(user=user))
    work = client_work(organization_ids=[o.pk for o in members_of], today=timezone.localdate())
    facts = work.facts
    organizations = []
    # Certificates on a superseded edition (docs/transitions.md): the deadline, from the
    # certificates the work list read already.
    transitions = transitions_by_edition()
    notices = {}
    for certificate in work.certificates if transitions else []:
        if certificate.status in ("Active", "Suspended"):
            for notice in editions.edition_notices(certificate, transitions):
                notices.setdefault(certificate.organization_id, []).append((certificate, notice))
    # Read for all the user's organizations at once: the queries do not grow with them.
    applications_of = applications_by_organization(user=user,
                                                   organization_ids=[o.pk for o in members_of])
    # A member sees every pursued standard's readiness: the journeys reuse it.
    readiness_of = readiness_for_organizations(user=user, organizations=members_of)
    for organization in members_of:
        applications, readiness = applications_of[organization.pk], readiness_of[organization.pk]
        organizations.append({
            "organization": organization,
            "applications": applications,
            "journeys": journeys_for_organization(applications, organization, facts, readiness),
            "readiness": readiness,
            "edition_notices": notices.get(organization.pk, []),
        })
    context = {"organizations": organizations, "work": work}
    if can(user, "read_applications"):
        context["review_counts"] = review_counts(user=user)
    # The CB's queue: complaints past a time target (ISO/IEC 17021-1 §9.8) and appeals
    # waiting for the CB (§9.7).
    context["overdue_complaints"] = complaints_selectors.overdue_complaints(
        user=user, today=timezone.localdate())
    if can(user, "handle_appeals"):
        context["open_appeals"] = complaints_selectors.appeals_waiting(user=user)
    if user.staff_roles_set:
        context["work_queues"] = dashboard_summary(user=user)
    # The impartiality register's periodic review and the risks due for theirs
    # (ISO/IEC 17021-1 §5.2.3), for those who keep the register.
    if can(user, "manage_impartiality"):
        context["impartiality"] = impartiality_selectors.register_status(
            user=user, today=timezone.localdate())
    if not organizations and not user.staff_roles_set:
        return render(request, "portal/welcome.html", context)
    return render(request, "portal/dashboard.html", context)


@login_required
def organization_detail(request, pk):
    """An organization's profile, sites and members, with its applications. CB staff who
    handle complaints open it too, as the CB's record of its client: then with the open
    complaints about it (ISO/IEC 17021-1 §9.8), which its members never see here."""
    user = request.user
    organization = client_record_get(user=user, pk=pk, capability="handle_complaints")
    membership = membership_of(user=user, organization=organization)
    return render(request, "portal/organization_detail.html", {
        "organization": organization, "membership": membership,
        "can_edit": membership is not None and membership.role in member_roles_with("edit"),
        "show_applications": membership is not None or can(user, "read_applications"),
        "applications": applications_for_organization(user=user, organization=organization),
        "handles_complaints": complaints_selectors.handles_complaints(user),
        "open_complaints": complaints_selectors.open_complaints_on_record(
            user=user, organization_id=organization.pk, today=timezone.localdate()),
    })


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False, label="Action starts with")
    object_type = forms.CharField(required=False, label="Object type")
    actor = forms.CharField(required=False, label="Actor e-mail contains")
    organization = forms.IntegerField(required=False, min_value=1, label="Organization id")
    date_from = forms.DateField(required=False, label="From",
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To",
                              widget=forms.DateInput(attrs={"type": "date"}))


@login_required
def audit_trail(request):
    """CB administrators browse and filter the hash-chained trail."""
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit_events(
        user=request.user, action=filters.get("action", ""),
        object_type=filters.get("object_type", ""), actor=filters.get("actor", ""),
        organization_id=filters.get("organization"), date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    query = request.GET.copy()
    query.pop("page", None)
    page = audit_event_page(user=request.user, number=request.GET.get("page"),
                            filtered=any(v not in (None, "") for v in filters.values()),
                            events=events)
    return render(request, "portal/audit_trail.html", {
        "form": form, "page": page,
        "query": query.urlencode(), "cap": f"{TRAIL_COUNT_CAP:,}",
    })


class WorkFilterForm(forms.Form):
    queue = forms.ChoiceField(required=False, label="Queue")
    q = forms.CharField(required=False, max_length=100, label="Organization or reference")
    overdue = forms.BooleanField(required=False, label="Overdue only")

    def __init__(self, *args, queues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queue"].choices = [("", "All queues")] + [(q.name, q.label) for q in queues]


@login_required
def work_queue(request):
    """The CB staff member's work across every queue of their roles, overdue first, then
    by due date; filtered and paginated (docs/work-queues.md). Not a page for clients."""
    queues = queues_for(request.user)
    if not queues:
        raise Http404("No work queue")
    form = WorkFilterForm(request.GET or None, queues=queues)
    filters = form.cleaned_data if form.is_valid() else {}
    page = work_page(user=request.user, queue=filters.get("queue", ""),
                     text=filters.get("q", "").strip(), overdue=filters.get("overdue", False),
                     page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "portal/work_queue.html", {
        "form": form, "page": page, "query": query.urlencode(),
        "queue": {q.name: q for q in queues}.get(filters.get("queue", "")),
    })
