"""Demo transfer: Brightpath asks to transfer its ISO 45001 certificate from another CB,
and Rita's pre-transfer review (IAF MD 2 §2.2) is under way — the reports are read, the
accreditation and status still to be confirmed.

Idempotent: nothing is added once any transfer review exists.
"""

import datetime

from django.utils import timezone

from isocert.accounts.models import Organization, User
from isocert.core.demo import DEMO_DOMAIN

from . import services
from .models import TransferReview

BRIGHTPATH = "Brightpath Services Ltd"


def seed_transfer_demo() -> bool:
    """One transfer under review; False when there is one already (or no demo client)."""
    if TransferReview.objects.exists():
        return False
    organization = Organization.objects.filter(legal_name=BRIGHTPATH).first()
    charlie = User.objects.filter(email=f"charlie@{DEMO_DOMAIN}").first()
    rita = User.objects.filter(email=f"rita@{DEMO_DOMAIN}").first()
    if organization is None or charlie is None or rita is None:
        return False
    today = timezone.localdate()
    # The issuing CB decided the cycle about 14 months ago; surveillance 1 is held.
    decided = today - datetime.timedelta(days=425)
    application = services.create_application(
        organization=organization, actor=charlie,
        standards=[{"standard": "ISO 45001", "effective_personnel": "42",
                    "complexity": "low"}],
        desired_audit_from=today + datetime.timedelta(days=45),
        is_transfer=True, current_cb_name="Pennine Certification Ltd",
        current_certificate_number="PCL-OHS-20931",
        current_certificate_expiry=decided + datetime.timedelta(days=3 * 365)
        - datetime.timedelta(days=1),
        current_accreditation_body="UKAS", current_certificate_standard="ISO 45001:2018",
        current_certificate_scope="Facility management services for office buildings.",
        current_cycle_decision_date=decided, current_cycle_stage="surveillance1",
        current_open_nonconformities="One minor (contractor induction records), corrective "
                                     "action plan accepted.",
        current_complaints="None received in the current cycle.")
    services.submit_application(application=application, actor=charlie)
    services.start_review(application=application, actor=rita)
    services.record_transfer_review(
        application=application, actor=rita, certificate_valid=True,
        scope_within_accreditation=True, complaints_addressed=True, reports_reviewed=True,
        open_majors_closed=True,
        notes="Stage 2 and surveillance 1 reports read. To do: confirm UKAS accreditation and "
              "the certificate's status with Pennine Certification.")
    return True
