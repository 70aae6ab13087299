"""The tenant sweep's part for safeguarding impartiality (ISO/IEC 17021-1 §5.2, §6.2): the
register, its reviews and the committee are the certification body's own records — even
a risk about Alice's organization. Charlie must get 404 from every page and operation, as
if they did not exist."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from factories import make_user

from isocert.accounts.services import declare_client_relationship
from isocert.impartiality import committee, services
from isocert.impartiality.models import (
    CommitteeMeeting,
    CommitteeMember,
    ImpartialityRisk,
    RegisterReview,
    RiskReview,
)

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
HTML_PK_KINDS = {
    "impartiality_risk_detail": "impartiality_risk",
    "impartiality_risk_edit": "impartiality_risk",
    "impartiality_risk_review": "impartiality_risk",
    "impartiality_member_edit": "impartiality_member",
    "impartiality_meeting_detail": "impartiality_meeting",
    "impartiality_minutes_download": "impartiality_meeting",
    "impartiality_meeting_action": "impartiality_meeting",
}
HTML_SLUG_VALUES = {
    ("impartiality_meeting_action", "action"): ["hold", "approve_minutes", "no-such-action"],
}
HTML_STAFF_ONLY = {"impartiality_register", "impartiality_risk_create",
                   "impartiality_register_review", "impartiality_committee",
                   "impartiality_meetings"}
API_PARAM_KINDS = {"risk_id": "impartiality_risk", "meeting_id": "impartiality_meeting",
                   "member_id": "impartiality_member"}
BASE = "/api/v1/impartiality"
API_STAFF_ONLY = {
    ("get", f"{BASE}/risks"), ("post", f"{BASE}/risks"),
    ("get", f"{BASE}/register"),
    ("get", f"{BASE}/register/reviews"), ("post", f"{BASE}/register/reviews"),
    ("get", f"{BASE}/committee/members"), ("post", f"{BASE}/committee/members"),
    ("get", f"{BASE}/committee/meetings"), ("post", f"{BASE}/committee/meetings"),
}
SOURCE = "Nordlicht sweep fee dependence"
MINUTES = "Nordlicht sweep minutes of the committee"
MEMBER = "Sweep Committee Member"


def build_world(*, organization, ada) -> tuple[dict[str, list[int]], list[str]]:
    """A declared consultancy for Alice's organization (its register entry), a risk about
    the organization, a held meeting with a minutes file, a planned one, two members."""
    consultant = make_user("sven.sweep@cb.example", "Sven Sweep", roles=["auditor"])
    declare_client_relationship(
        user=consultant, organization_id=organization.pk, kind="consultancy",
        start_date=timezone.localdate() - datetime.timedelta(days=100), actor=consultant)
    risk = services.record_risk(threat="self_interest", source=SOURCE, actor=ada,
                                description="Sweep description.", organization=organization)
    members = [committee.add_committee_member(name=MEMBER, interest="clients",
                                              email="member.sweep@example.org",
                                              appointed_on=timezone.localdate(), actor=ada),
               committee.add_committee_member(name="Sweep Regulator", interest="regulators",
                                              email="reg.sweep@example.org",
                                              appointed_on=timezone.localdate(), actor=ada)]
    held = committee.plan_meeting(date=timezone.localdate(), agenda="Sweep agenda.", actor=ada)
    committee.hold_meeting(meeting=held, actor=ada, attendees=members, minutes=MINUTES,
                           minutes_file=SimpleUploadedFile("sweep-minutes.pdf", PDF),
                           risks_reviewed=[risk])
    planned = committee.plan_meeting(date=timezone.localdate(), agenda="Sweep plan.",
                                     actor=ada)
    return {
        "impartiality_risk": list(ImpartialityRisk.objects.values_list("pk", flat=True)),
        "impartiality_meeting": [held.pk, planned.pk],
        "impartiality_member": [member.pk for member in members],
    }, [SOURCE, MINUTES, MEMBER, risk.reference]


def state() -> dict:
    """Everything of the register and the committee a request could have changed."""
    return {
        "risks": sorted(ImpartialityRisk.objects.values_list(
            "pk", "status", "threat", "source", "likelihood", "impact", "safeguard",
            "owner_id", "next_review_on", "updated_at")),
        "risk_reviews": RiskReview.objects.count(),
        "register_reviews": RegisterReview.objects.count(),
        "members": sorted(CommitteeMember.objects.values_list("pk", "name", "active",
                                                              "interest")),
        "meetings": sorted(CommitteeMeeting.objects.values_list("pk", "status", "minutes",
                                                                "minutes_file_id")),
        "attendees": sorted(CommitteeMeeting.attendees.through.objects.values_list(
            "committeemeeting_id", "committeemember_id")),
    }
