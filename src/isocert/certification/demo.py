"""Demo certificates: Nordlicht's active ISO 50001 certificate and Brightpath's suspended
ISO 9001 certificate, issued through the real decision and lifecycle services.

Each certification gets its own registered application, accepted quotation and cycle.
Running the audits themselves (plans, confirmations, declarations) is the audit
programme's demo, not this one: the stage-2 audit is put in progress with its dates and
lead auditor directly, then its checklist, report and closing go through
``isocert.audits.conduct``, and Dora decides through ``services.decide``. The PDFs are
rendered here, synchronously, so the demo shows them without a running task worker.

Idempotent: an organization that already has a certificate is left alone.
"""

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from isocert.accounts.models import Organization, User
from isocert.audits.conduct import services as conduct
from isocert.audits.models import Audit, TeamMember
from isocert.audits.programme import services as programme
from isocert.catalog.models import EnmsDayTableRow
from isocert.core.demo import DEMO_DOMAIN
from isocert.registration import services as registration

from . import lifecycle, services
from .models import Certificate
from .pdf import render_certificate_pdf_file

NORDLICHT = "Nordlicht Aluminium GmbH"
BRIGHTPATH = "Brightpath Services Ltd"
PASSING_ASSESSMENT = {"documents_reviewed": True, "scope_clear": True,
                      "sites_personnel_plausible": True, "cb_competent": True,
                      "impartiality_risk": "none", "notes": "Demo certification."}
ENERGY_STATEMENT = ("Normalized energy consumption (regression on production and heating "
                    "degree days) fell by 8 % in the reporting period against the 2024 "
                    "baseline; the EnPI report was reviewed at stage 2.")
# A one-page PDF standing in for the client's EnPI report.
EVIDENCE_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
                b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
                b"trailer<</Root 1 0 R>>\n%%EOF\n")


def _enms_day_table() -> None:
    """ISO 50001 audit time needs the CB's ISO 50003 day table; the demo CB gets one row
    covering every size when it has configured none."""
    if not EnmsDayTableRow.objects.exists():
        EnmsDayTableRow.objects.create(personnel_min=1, personnel_max=None, high=Decimal("7"),
                                       medium=Decimal("6"), low=Decimal("5"))


def _cycle(organization, *, owner, reviewer, line: dict):
    """A registered application with an accepted quotation and its certification cycle."""
    start = timezone.localdate() + datetime.timedelta(days=30)  # never in the past

    application = registration.create_application(organization=organization, actor=owner, **{
        "standards": [line], "site_ids": list(organization.sites.values_list("pk", flat=True)),
        "desired_audit_from": start, "desired_audit_to": start + datetime.timedelta(days=14)})
    registration.submit_application(application=application, actor=owner)
    registration.start_review(application=application, actor=reviewer)
    registration.record_preliminary_assessment(application=application, actor=reviewer,
                                               **PASSING_ASSESSMENT)
    registration.register_application(application=application, actor=reviewer)
    registration.determine_audit_time(application=application, actor=reviewer,
                                      sampling_allowed=False)
    quotation = registration.issue_quotation(application=application, actor=reviewer)
    registration.accept_quotation(quotation=quotation, actor=owner)
    return programme.create_cycle(application=application, actor=reviewer)


def _close_stage2(cycle, *, lead, end: datetime.date) -> None:
    """Stage 2 held on the two days before ``end``; the report recommends certification."""
    audit = cycle.audits.get(kind=Audit.Kind.STAGE2)
    Audit.objects.filter(pk=audit.pk).update(
        status=Audit.Status.IN_PROGRESS, start_date=end - datetime.timedelta(days=1),
        end_date=end)
    audit.refresh_from_db()
    audit.sites.set(cycle.organization.sites.all())
    TeamMember.objects.get_or_create(audit=audit, auditor=lead,
                                     defaults={"role": TeamMember.Role.LEAD})
    conduct.prepare_checklist(audit)
    conduct.issue_report(
        audit=audit, actor=lead, spent_days=str(audit.planned_days or 2),
        conclusion="The management system is effectively implemented and maintained.",
        positive_notes="Committed top management; clear process ownership.",
        recommendation="recommend")
    conduct.close_audit(audit=audit, actor=lead)


def _render_pdfs(certificate) -> None:
    for revision in certificate.revisions.filter(pdf__isnull=True):
        render_certificate_pdf_file(revision=revision)


def seed_certificates() -> bool:
    """Issue the demo certificates once; True when something was created."""
    users = {name: User.objects.filter(email=f"{name}@{DEMO_DOMAIN}").first()
             for name in ("alice", "charlie", "rita", "adam", "dora")}
    organizations = {o.legal_name: o for o in Organization.objects.filter(
        legal_name__in=[NORDLICHT, BRIGHTPATH])}
    if None in users.values() or len(organizations) < 2:
        return False
    today = timezone.localdate()
    created = False

    nordlicht = organizations[NORDLICHT]
    if not Certificate.objects.filter(organization=nordlicht).exists():
        _enms_day_table()
        cycle = _cycle(nordlicht, owner=users["alice"], reviewer=users["rita"], line={
            "standard": "ISO 50001", "effective_personnel": "24",
            "annual_energy_consumption_tj": "310", "energy_types": 3,
            "significant_energy_uses": 5})
        _close_stage2(cycle, lead=users["adam"], end=today - datetime.timedelta(days=30))
        decision = services.decide(
            cycle=cycle, actor=users["dora"], kind="initial", outcome="grant",
            decision_date=today - datetime.timedelta(days=21),
            scope="Die casting and machining of aluminium components for the automotive "
                  "industry, including the energy management of melting, casting, machining "
                  "and logistics.",
            energy_statement=ENERGY_STATEMENT,
            energy_evidence=SimpleUploadedFile("nordlicht-enpi-report.pdf", EVIDENCE_PDF,
                                               "application/pdf"))
        _render_pdfs(decision.certificate)
        created = True

    brightpath = organizations[BRIGHTPATH]
    if not Certificate.objects.filter(organization=brightpath).exists():
        cycle = _cycle(brightpath, owner=users["charlie"], reviewer=users["rita"], line={
            "standard": "ISO 9001", "effective_personnel": "42"})
        _close_stage2(cycle, lead=users["adam"], end=today - datetime.timedelta(days=170))
        certificate = services.decide(
            cycle=cycle, actor=users["dora"], kind="initial", outcome="grant",
            decision_date=today - datetime.timedelta(days=150),
            scope="Facility management services for office buildings.").certificate
        lifecycle.suspend_certificate(
            certificate=certificate, actor=users["dora"],
            reason="At the client's request: the Leeds office is being relocated and the "
                   "quality system is not operated meanwhile.",
            date=today - datetime.timedelta(days=10),
            until=today + datetime.timedelta(days=80))
        _render_pdfs(certificate)
        created = True
    return created
