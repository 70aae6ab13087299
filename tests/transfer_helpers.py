"""Helpers for the transfer tests (IAF MD 2): Nordlicht asks to transfer its ISO 9001
certificate from another CB; Rita reviews the transfer; Dora issues the certificate."""

import datetime

from django.utils import timezone
from factories import PASSING_ASSESSMENT

from isocert.audits.programme.rules import add_months
from isocert.registration import services as registration

PREVIOUS_CB = "Hanse Zertifizierung GmbH"
PREVIOUS_NUMBER = "HZ-QMS-4711"
ALL_CHECKS = {"certificate_valid": True, "accredited_by_mla_signatory": True,
              "not_suspended": True, "scope_within_accreditation": True,
              "complaints_addressed": True, "reports_reviewed": True,
              "open_majors_closed": True}


def previous_decision() -> datetime.date:
    """The previous CB decided the current cycle 15 months ago: surveillance 1 was due
    three months ago, surveillance 2 is due in nine months."""
    return add_months(timezone.localdate(), -15)


def transfer_data(**overrides) -> dict:
    decided = previous_decision()
    data = {
        "is_transfer": True, "current_cb_name": PREVIOUS_CB,
        "current_certificate_number": PREVIOUS_NUMBER,
        "current_certificate_expiry": add_months(decided, 36) - datetime.timedelta(days=1),
        "current_accreditation_body": "DAkkS",
        "current_certificate_standard": "ISO 9001:2015",
        "current_certificate_scope": "Die casting of aluminium parts.",
        "current_cycle_decision_date": decided, "current_cycle_stage": "surveillance1",
        "current_open_nonconformities": "", "current_complaints": "None received.",
    }
    data.update(overrides)
    return data


def transfer_application(organization, owner, reviewer, *, quote=True, **overrides):
    """A registered transfer application of ``organization`` (every site, ISO 9001), with
    its audit time and accepted quotation when ``quote``."""
    start = timezone.localdate() + datetime.timedelta(days=30)
    application = registration.create_application(
        organization=organization, actor=owner,
        standards=[{"standard": "ISO 9001", "effective_personnel": "30"}],
        site_ids=list(organization.sites.values_list("pk", flat=True)),
        desired_audit_from=start, desired_audit_to=start + datetime.timedelta(days=30),
        **transfer_data(**overrides))
    registration.submit_application(application=application, actor=owner)
    registration.start_review(application=application, actor=reviewer)
    registration.record_preliminary_assessment(application=application, actor=reviewer,
                                               **PASSING_ASSESSMENT)
    registration.register_application(application=application, actor=reviewer)
    if quote:
        registration.determine_audit_time(application=application, actor=reviewer,
                                          sampling_allowed=True)
        quotation = registration.issue_quotation(application=application, actor=reviewer)
        registration.accept_quotation(quotation=quotation, actor=owner)
    application.refresh_from_db()
    return application


def accepted_transfer(application, reviewer, **checks):
    registration.record_transfer_review(application=application, actor=reviewer,
                                        **{**ALL_CHECKS, **checks})
    return registration.conclude_transfer_review(
        application=application, accept=True, actor=reviewer,
        reasons="Valid accredited certificate, no open majors, reports reviewed.")
