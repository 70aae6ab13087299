"""Registry entries and CertSearch CSV files for the registry import/export tests."""

import csv
import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from queues_helpers import cycle

from isocert.audits.models import Audit, CertificationCycle, RemoteAudit
from isocert.certification.models import Certificate, CertificateSite, CertificateStandard
from isocert.certification.names import name_key
from isocert.registry.certsearch import COLUMNS


def make_certificate(number: str, *, name="Nordlicht Aluminium GmbH", status="Active",
                     standards=(("ISO 9001", "2015"),), sectors=(17,), sites=None,
                     confidential=False, **extra) -> Certificate:
    """A registry entry as the issuing service or an import leaves it."""
    certificate = Certificate.objects.create(
        number=number, public_code=("P" + number.replace("-", ""))[:16],
        identity_number=f"ID-{number}", status=status, entity_id=f"E-{number}",
        organization_name=name, name_key=name_key(name), organization_country="DE",
        organization_address="Hafenstraße 12, 28217 Bremen", legal_identifier="HRB 1234",
        standards=[{"code": c, "edition": e} for c, e in standards], sectors=list(sectors),
        scope="Die casting of aluminium parts.",
        original_issue_date=datetime.date(2019, 3, 1), issue_date=datetime.date(2025, 3, 1),
        expiry_date=datetime.date(2028, 2, 29), confidential=confidential, **extra)
    for code, edition in standards:
        CertificateStandard.objects.create(certificate=certificate, code=code, edition=edition)
    for position, site in enumerate(sites or [("Bremen head office", "Hafenstraße 12",
                                                 "Bremen", "28217", "DE")]):
        site_name, address, city, postcode, country = site
        CertificateSite.objects.create(certificate=certificate, position=position,
                                       name=site_name, address=address, city=city,
                                       postcode=postcode, country=country)
    return certificate


def audited_cycle(organization, audits=()) -> CertificationCycle:
    """A cycle of ``organization`` with ``audits``: (kind, status, start date, remote share
    or None for on site, ICT used). The remote arrangement is written as
    ``record_remote_assessment`` leaves it (its own tests cover the service)."""
    result = cycle(organization)
    for kind, status, start, share, ict_used in audits:
        audit = Audit.objects.create(cycle=result, kind=kind, status=status, start_date=start,
                                     end_date=start)
        if share is not None:
            RemoteAudit.objects.create(
                audit=audit, ict_used=ict_used, remote_share_percent=share,
                connectivity="Fibre, phone as fallback.", confidentiality="No recording.",
                visible_remotely="Documents, interviews.",
                not_visible_remotely="The foundry floor.", feasible=True)
    return result


def row(n: int, **overrides) -> dict:
    """One good CSV row (by column name)."""
    values = {
        "Certification identity number": f"CB-ID-{n:05d}",
        "Certificate number": f"CB-{n:05d}",
        "Certification status": "Active",
        "Certification type": "Management System",
        "Standards": "ISO 9001:2015",
        "Technical sectors": "17",
        "Certification scope": "Die casting of aluminium parts.",
        "Original issue date": "20190301",
        "Issue date": "20250301",
        "Expiry date": "20280229",
        "Certified entity id": f"ENT-{n:05d}",
        "Certified entity name": f"Société Générale d'Aluminium {n}",
        "Certified entity registered address": "1 rue de la Paix, Paris",
        "Certified entity country": "FR",
        "Certified entity legal identifier": "",
        "Site name": "",
        "Site street": "1 rue de la Paix",
        "Site city": "Paris",
        "Site state": "",
        "Site postcode": "75002",
        "Site country": "FR",
        "Confidential": "N",
    }
    values.update(overrides)
    return values


def csv_text(rows: list[dict], columns=COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for values in rows:
        writer.writerow([values.get(c, "") for c in columns])
    return out.getvalue()


def csv_upload(text: str, name="registry.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def import_text(text: str, *, actor, capture, name="registry.csv"):
    """Upload ``text`` and let the queued task run (the test task backend is immediate)."""
    from isocert.registry.models import CertificateImport
    from isocert.registry.services import start_import

    with capture(execute=True):
        started = start_import(upload=csv_upload(text, name), actor=actor)
    return CertificateImport.objects.get(pk=started.pk)
