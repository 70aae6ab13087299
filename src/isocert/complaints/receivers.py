"""What complaints and appeals add to certification's pages and daily run (see
``certification.signals``): certification stands below and imports nothing of this app."""

from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils import timezone

from isocert.accounts.permissions import can, can_in
from isocert.audits.conduct.signals import finding_page_panels
from isocert.certification.signals import (
    certificate_page_panels,
    daily_run_done,
    decision_page_panels,
    open_matters_requested,
)

from . import selectors, services
from .models import Appeal


def _matters(organization_id) -> list[dict]:
    complaints = [{"kind": "complaint", "reference": c.reference, "status": c.status,
                   "subject": c.subject, "pk": c.pk}
                  for c in selectors.open_complaints_for_organization(
                      organization_id=organization_id)]
    appeal_rows = [{"kind": "appeal", "reference": a.reference, "status": a.status,
                    "subject": a.get_subject_display(), "pk": a.pk}
                   for a in selectors.open_appeals_for_organization(
                       organization_id=organization_id)]
    return complaints + appeal_rows


@receiver(open_matters_requested, dispatch_uid="complaints.open_matters")
def open_matters(sender, *, organization_id, **kwargs) -> list[dict]:
    """The decision checklist's open complaints and appeals about the client."""
    return [{key: row[key] for key in ("kind", "reference", "status", "subject")}
            for row in _matters(organization_id)]


@receiver(decision_page_panels, dispatch_uid="complaints.decision_panel")
def decision_panel(sender, *, cycle, request, **kwargs) -> str:
    """The decision page shows the complaints and appeals still open about the client
    (ISO/IEC 17021-1 §9.7, §9.8), for the decision maker to weigh."""
    return render_to_string("complaints/_open_matters.html", {
        "matters": _matters(cycle.organization_id),
        "can_open": can(request.user, "handle_complaints")}, request=request)


@receiver(certificate_page_panels, dispatch_uid="complaints.certificate_panel")
def certificate_panel(sender, *, certificate, request, **kwargs) -> str:
    """A certificate's page: the CB sees open complaints and appeals about it; the client's
    members may appeal a suspension or withdrawal and see their appeals."""
    user = request.user
    is_member = (certificate.organization is not None
                 and can_in(user, "edit", certificate.organization))
    staff = can(user, "handle_complaints") or can(user, "handle_appeals")
    if not (is_member or staff):
        return ""
    return render_to_string("complaints/_certificate_panel.html", {
        "certificate": certificate, "is_member": is_member, "staff": staff,
        "matters": _matters(certificate.organization_id) if staff else [],
        "appeals": list(Appeal.objects.filter(certificate=certificate)),
        "appealable": certificate.status in ("Suspended", "Withdrawn"),
    }, request=request)


@receiver(finding_page_panels, dispatch_uid="complaints.finding_panel")
def finding_panel(sender, *, finding, request, **kwargs) -> str:
    """A finding's page: the client's owners and editors may appeal its grading within
    ``APPEAL_WINDOW_DAYS`` of it being raised (§9.7); the appeals on it show to the client's
    members and the CB's appeal handlers."""
    user = request.user
    organization = finding.audit.cycle.organization
    is_editor = can_in(user, "edit", organization)
    is_reader = can_in(user, "read", organization)
    handler = can(user, "handle_appeals")
    if not (is_reader or handler):
        return ""
    appeals = list(Appeal.objects.filter(finding=finding))
    raised_on = timezone.localtime(finding.created_at).date()
    window_open = selectors.appeal_window_open(decided_on=raised_on, today=timezone.localdate())
    return render_to_string("complaints/_finding_panel.html", {
        "finding": finding, "appeals": appeals, "window_open": window_open,
        "appealable": (is_editor and window_open
                       and not any(appeal.is_open for appeal in appeals)),
        "appeal_by": selectors.appeal_deadline(decided_on=raised_on),
    }, request=request)


@receiver(daily_run_done, dispatch_uid="complaints.daily_reminder")
def daily_reminder(sender, *, today, **kwargs) -> dict:
    """The daily run reminds the complaint handlers of complaints past a time target."""
    return {"complaints_overdue": services.remind_overdue_complaints(today=today)}
