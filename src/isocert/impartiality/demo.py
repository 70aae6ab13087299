"""Demo impartiality records: Rita's former employment at Brightpath in the register (from
her declaration), two risks kept by Ada, four committee members, a held meeting with its
minutes approved and the register reviewed at it. Idempotent."""

import datetime

from django.utils import timezone

from isocert.accounts.models import ClientRelationship, Organization, User
from isocert.accounts.services import declare_client_relationship
from isocert.core.demo import DEMO_DOMAIN

from . import committee, services
from .models import CommitteeMember

MEMBERS = [
    ("Carla Brandt", "Hansa Metall Verband", "industry"),
    ("Ralf Weber", "Gewerbeaufsichtsamt Bremen", "regulators"),
    ("Nina Vogel", "Verbraucherzentrale Bremen", "ngos"),
    ("Jonas Berger", "Purchasing, Weser Werft AG", "customers"),
]


def seed_impartiality_demo() -> bool:
    """Create the demo's register and committee once; True when created."""
    ada = User.objects.filter(email=f"ada@{DEMO_DOMAIN}").first()
    rita = User.objects.filter(email=f"rita@{DEMO_DOMAIN}").first()
    brightpath = Organization.objects.filter(legal_name="Brightpath Services Ltd").first()
    if None in (ada, rita, brightpath) or CommitteeMember.objects.exists():
        return False
    today = timezone.localdate()
    # Ended long before the cooling-off period: the register records it, nothing is blocked.
    if not ClientRelationship.objects.filter(user=rita, organization=brightpath).exists():
        declare_client_relationship(
            user=rita, organization_id=brightpath.pk, kind="employment",
            start_date=datetime.date(2014, 3, 1), end_date=datetime.date(2019, 9, 30),
            notes="Quality manager at the Leeds office.", actor=rita)
    fees = services.record_risk(
        threat="self_interest", source="Fee dependence on the largest clients", actor=ada,
        description="The three largest clients bring over a quarter of certification fees.",
        likelihood=2, impact=3, owner=ada,
        safeguard="Decisions are taken by decision makers paid no commission and never by "
                  "sales staff; fee shares are reported to the committee each year.")
    services.record_risk(
        threat="intimidation", source="Pressure on auditors at recertification", actor=ada,
        description="A client may threaten to change CB when majors are raised.",
        likelihood=1, impact=3, owner=ada)
    members = [committee.add_committee_member(
        name=name, organization=organization, interest=interest,
        email=f"{name.split()[0].lower()}@committee.example", actor=ada,
        appointed_on=today - datetime.timedelta(days=200),
        term_ends_on=today + datetime.timedelta(days=900))
        for name, organization, interest in MEMBERS]
    meeting = committee.plan_meeting(date=today - datetime.timedelta(days=7), actor=ada,
                                     agenda="1. Annual review of the impartiality register.\n"
                                            "2. Fee dependence.\n3. Declared relationships.")
    committee.hold_meeting(
        meeting=meeting, actor=ada, attendees=members, risks_reviewed=[fees],
        minutes="The committee read the register item by item. Fee shares were shown; the "
                "safeguard holds. Rita Reviewer's former employment at Brightpath ended "
                "over five years ago: no restriction remains.")
    committee.approve_minutes(meeting=meeting, actor=ada)
    services.review_risk(risk=fees, actor=ada, outcome="mitigated",
                         conclusion="The committee confirmed the safeguard at its meeting.")
    services.review_register(actor=ada, meeting=meeting,
                             conclusion="All risks reviewed with the committee; no new threat.")
    return True
