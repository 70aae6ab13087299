"""What complaints and appeals add to certification's pages and daily run (see
``certification.signals``): certification stands below and imports nothing of this app."""

from django.dispatch import receiver
from django.template.loader import render_to_string

from isocert.accounts.permissions import can, can_in
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


@receiver(daily_run_done, dispatch_uid="complaints.daily_reminder")
def daily_reminder(sender, *, today, **kwargs) -> dict:
    """The daily run reminds the complaint handlers of complaints past a time target."""
    return {"complaints_overdue": services.remind_overdue_complaints(today=today)}
