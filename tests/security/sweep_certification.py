"""The tenant sweep's part for the certification decision and certificates: which object
each URL parameter names, Alice's decided cycle and certificate, and everything a request
could change."""

import datetime

from certification_helpers import DECIDED, decision_ready_cycle
from django.utils import timezone
from factories import make_user
from programme_helpers import auditor

from isocert.catalog.models import EditionTransition, Standard
from isocert.certification import editions, services
from isocert.certification.models import (
    Certificate,
    CertificateRevision,
    CertificateStatusChange,
    CertificationDecision,
)
from isocert.certification.pdf import render_certificate_pdf_file

HTML_PK_KINDS = {
    "cycle_decision": "decision_cycle",
    "transfer_issue": "application",   # an accepted transfer's issue page (IAF MD 2)
    "certificate_detail": "certificate",
    "certificate_suspend": "certificate",
    "certificate_restore": "certificate",
    "certificate_extend_suspension": "certificate",
    "certificate_withdraw": "certificate",
    "certificate_revision_pdf": "certificate_revision",
    # The CB's record of an edition transition: administrators only, 404 for clients.
    "edition_transition_edit": "edition_transition",
}
API_PARAM_KINDS = {
    "decision_id": "decision",
    "certificate_id": "certificate",
    "revision_id": "certificate_revision",
    "transition_id": "edition_transition",
}
# Pages without an object in the URL.
HTML_OWN = {"certificate_list"}         # Charlie's own certificates: none of Alice's
HTML_STAFF_ONLY = {"decision_queue",    # CB staff only: 404 for clients
                   "edition_transitions"}   # CB administrators only
# The CB's edition transitions (administrators only): 404 for clients.
API_STAFF_ONLY = {("get", "/api/v1/catalog/transitions"),
                  ("post", "/api/v1/catalog/transitions")}
API_OWN_LISTS = {("get", "/api/v1/certificates")}
DEFER_REASON = "Waiting for Nordlicht's sweep-casting plan."


def build_world(*, organization, alice, rita) -> tuple[dict[str, list[int]], list[str]]:
    """Alice's cycle decided by Dora — deferred once, then granted — and its certificate
    with the PDF rendered; returns the ids and telltale names."""
    lead = auditor("lukas.certsweep@cb.example", "Lukas Certsweep", lead=True)
    dora = make_user("dora.sweep@cb.example", "Dora Sweep", roles=["decision_maker"])
    cycle = decision_ready_cycle(organization, alice, rita, lead)
    deferred = services.decide(cycle=cycle, actor=dora, kind="initial", outcome="defer",
                               decision_date=DECIDED, reason=DEFER_REASON)
    granted = services.decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                              decision_date=DECIDED)
    certificate = granted.certificate
    revision = render_certificate_pdf_file(revision=certificate.revisions.get())
    # Published certificates are public by design (the directory, the verification page);
    # a confidential one is listed nowhere, so any sight of it on Charlie's pages is a leak.
    Certificate.objects.filter(pk=certificate.pk).update(confidential=True)
    # A transition the CB recorded (from an older edition, so Alice's stays current).
    ada = make_user("ada.sweep@cb.example", "Ada Sweep", roles=["administrator"])
    older = Standard.objects.create(code="ISO 9001", edition="2008", title="Sweep edition",
                                    is_current=False)
    transition = editions.record_transition(
        from_standard=older, to_standard="ISO 9001:2015", notice_reference="IAF ID 9:2015",
        deadline=timezone.localdate() + datetime.timedelta(days=300), actor=ada)
    return {
        "decision_cycle": [cycle.pk],
        "edition_transition": [transition.pk],
        "decision": [deferred.pk, granted.pk],
        "certificate": [certificate.pk],
        "certificate_revision": [revision.pk],
    }, [certificate.number, certificate.public_code, DEFER_REASON]


def state(organization) -> dict:
    """Everything of Alice's certification a request could have changed."""
    certificates = Certificate.objects.filter(organization=organization)
    return {
        "decisions": sorted(CertificationDecision.objects.filter(
            cycle__organization=organization).values_list(
            "pk", "kind", "outcome", "decision_date", "reason", "certificate_id")),
        "certificates": sorted(certificates.values_list(
            "pk", "number", "status", "suspended_until", "suspension_extended_on",
            "suspension_extension_reason", "revision", "scope", "issue_date",
            "expiry_date", "confidential", "updated_at")),
        "revisions": sorted(CertificateRevision.objects.filter(
            certificate__in=certificates).values_list("pk", "revision", "superseded_at",
                                                      "pdf_id")),
        "transitions": sorted(EditionTransition.objects.values_list(
            "pk", "deadline", "extra_audit_days", "extra_audit_percent", "notice_reference",
            "updated_at")),
        "status_history": sorted(CertificateStatusChange.objects.filter(
            certificate__in=certificates).values_list("pk", "status", "date", "reason")),
    }
