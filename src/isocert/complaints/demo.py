"""Demo complaints and appeals: an open complaint about Nordlicht's certificate and
Brightpath's appeal against its suspension, heard and closed. Idempotent."""

from django.utils import timezone

from isocert.accounts.models import User
from isocert.certification.models import Certificate
from isocert.core.dates import display_date
from isocert.core.demo import DEMO_DOMAIN

from . import appeals, services
from .models import Appeal, Complaint

COMPLAINT_SUBJECT = "Energy claims in Nordlicht's brochure"
APPEAL_GROUNDS = ("The suspension was asked for by us while the Leeds office moves; we "
                  "appeal only its length, which runs past the move's end.")


def seed_complaints_demo() -> bool:
    """Create the demo's open complaint and closed appeal once; True when created."""
    users = {name: User.objects.filter(email=f"{name}@{DEMO_DOMAIN}").first()
             for name in ("ada", "charlie")}
    nordlicht = Certificate.objects.filter(organization__legal_name="Nordlicht Aluminium GmbH",
                                           status=Certificate.Status.ACTIVE).first()
    brightpath = Certificate.objects.filter(organization__legal_name="Brightpath Services Ltd",
                                            status=Certificate.Status.SUSPENDED).first()
    if None in users.values():
        return False
    created = False
    if nordlicht and not Complaint.objects.filter(subject=COMPLAINT_SUBJECT).exists():
        complaint = services.lodge_complaint(
            name="Jonas Berger", email="jonas.berger@example.org",
            organization_name="Nordlicht Aluminium GmbH", certificate_number=nordlicht.number,
            subject=COMPLAINT_SUBJECT,
            description="The brochure claims a 30 % energy saving certified by you; the "
                        "certificate covers the energy management system, not a figure.")
        services.acknowledge_complaint(complaint=complaint, actor=users["ada"])
        created = True
    if brightpath and not Appeal.objects.filter(organization=brightpath.organization).exists():
        ada = users["ada"]
        appeal = appeals.lodge_appeal(subject=Appeal.Subject.SUSPENSION, grounds=APPEAL_GROUNDS,
                                      actor=users["charlie"], certificate=brightpath)
        appeals.acknowledge_appeal(appeal=appeal, actor=ada)
        appeals.appoint_appeal_panel(appeal=appeal, actor=ada, members=[ada])
        appeals.record_appeal_investigation(
            appeal=appeal, actor=ada,
            investigation=("Read the relocation plan sent on "
                           f"{display_date(timezone.localdate())}: the move ends within the "
                           "suspension's term."))
        appeals.decide_appeal(appeal=appeal, actor=ada, upheld=False,
                              reasons="The suspension ends when the system runs again; "
                                      "Brightpath may ask to restore it earlier.")
        appeals.close_appeal(appeal=appeal, actor=ada)
        created = True
    return created
