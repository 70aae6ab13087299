"""The demo data commands: ``seed-demo`` and ``demo-totp``."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from isocert.accounts.models import Organization, User
from isocert.complaints.models import Appeal, Complaint
from isocert.core.audit import verify_chain
from isocert.core.models import AuditEvent
from isocert.impartiality.models import (
    CommitteeMeeting,
    CommitteeMember,
    ImpartialityRisk,
    RegisterReview,
)
from isocert.registration.models import Application, Quotation, TransferReview

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_every_role_and_states_and_is_idempotent():
    out = StringIO()
    call_command("seed-demo", stdout=out)
    assert "Demo data created." in out.getvalue()
    assert "rita@demo.isocert.example" in out.getvalue()
    counts = (User.objects.count(), Organization.objects.count(), Application.objects.count(),
              AuditEvent.objects.count())
    roles = set(User.objects.values_list("staff_roles__role", flat=True)) - {None}
    assert roles == {"administrator", "reviewer", "auditor", "decision_maker"}
    states = set(Application.objects.values_list("status", flat=True))
    assert {"draft", "submitted", "registered", "information_requested"} <= states
    assert Organization.objects.get(legal_name="Nordlicht Aluminium GmbH").sites.count() == 3
    assert Quotation.objects.filter(status="sent").count() == 1
    # One transfer under review (IAF MD 2), its checks partly confirmed.
    transfer = TransferReview.objects.get()
    assert transfer.status == "open" and not transfer.passed
    assert transfer.application.is_transfer and transfer.application.status == "under_review"
    # Dora decides on the demo's certificates: qualified for every current standard.
    dora = User.objects.get(email="dora@demo.isocert.example")
    assert set(dora.decision_maker_profile.standards.values_list("code", flat=True)) == {
        "ISO 9001", "ISO 14001", "ISO 45001", "ISO/IEC 27001", "ISO 50001"}
    # One open complaint and one closed appeal (ISO/IEC 17021-1 §9.7, §9.8).
    assert list(Complaint.objects.values_list("status", flat=True)) == ["acknowledged"]
    assert list(Appeal.objects.values_list("status", flat=True)) == ["closed"]
    # The impartiality register (ISO/IEC 17021-1 §5.2): one risk from Rita's declared
    # employment, a committee of four interests, a held meeting that reviewed the register.
    assert ImpartialityRisk.objects.count() == 3
    assert ImpartialityRisk.objects.filter(relationship__user__email="rita@demo.isocert.example",
                                           threat="familiarity").exists()
    assert CommitteeMember.objects.values("interest").distinct().count() == 4
    meeting = CommitteeMeeting.objects.get()
    assert meeting.status == "minutes_approved" and not meeting.predominant_interest
    assert RegisterReview.objects.get().meeting == meeting

    again = StringIO()
    call_command("seed-demo", stdout=again)
    assert "already present" in again.getvalue()
    assert counts == (User.objects.count(), Organization.objects.count(),
                      Application.objects.count(), AuditEvent.objects.count())
    assert verify_chain() is None


def test_demo_totp_prints_a_six_digit_code_for_demo_staff_only():
    call_command("seed-demo", stdout=StringIO())
    out = StringIO()
    call_command("demo-totp", "rita@demo.isocert.example", stdout=out)
    assert out.getvalue().strip().isdigit() and len(out.getvalue().strip()) == 6

    with pytest.raises(CommandError):
        call_command("demo-totp", "someone@example.org")
