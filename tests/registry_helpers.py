"""Registry rows for read-side tests and benchmarks: certificates as the registry holds them.

Written with the ORM (``make_certificate``) or in bulk (``bulk_certificates``); the issuing
service has its own tests. Status changes follow the status given: an Active certificate
has one "Active" entry, a Suspended one also a "Suspended" entry with its reason, etc.
"""

import datetime
import itertools
import random
import secrets

from isocert.certification.models import (
    Certificate,
    CertificateSite,
    CertificateStandard,
    CertificateStatusChange,
)
from isocert.certification.names import name_key

_seq = itertools.count(1)

REASONS = {
    "Suspended": "Surveillance audit not carried out within the required time.",
    "Withdrawn": "Suspension not resolved within six months.",
    "Expired": "",
}


def make_certificate(organization_name: str = "Nordlicht Energie GmbH", *,
                     number: str | None = None, status: str = "Active",
                     standards=(("ISO 50001", "2018"),), country: str = "DE",
                     scope: str = "Production of aluminium profiles",
                     sites=None, confidential: bool = False,
                     original_issue_date=datetime.date(2023, 3, 1),
                     issue_date=datetime.date(2026, 3, 1),
                     expiry_date=datetime.date(2029, 2, 28), revision: int = 1,
                     status_date=datetime.date(2026, 10, 2)) -> Certificate:
    seq = next(_seq)
    number = number or f"TEST-{seq:06d}"
    certificate = Certificate.objects.create(
        number=number, public_code=secrets.token_hex(8), identity_number=f"ID-{number}",
        status=status, entity_id=f"E-{seq}", organization_name=organization_name,
        name_key=name_key(organization_name), organization_country=country,
        organization_address="Hafenstraße 4, 20457 Hamburg",
        standards=[{"code": c, "edition": e} for c, e in standards], scope=scope,
        original_issue_date=original_issue_date, issue_date=issue_date,
        expiry_date=expiry_date, revision=revision, confidential=confidential,
        imported=True,
    )
    CertificateStandard.objects.bulk_create(
        [CertificateStandard(certificate=certificate, code=c, edition=e) for c, e in standards])
    if sites is None:
        sites = [{"name": "Werk Nord", "address": "Hafenstraße 4", "city": "Hamburg",
                  "postcode": "20457", "country": country, "scope": ""}]
    CertificateSite.objects.bulk_create(
        [CertificateSite(certificate=certificate, position=i, **site)
         for i, site in enumerate(sites)])
    CertificateStatusChange.objects.create(certificate=certificate, status="Active",
                                           date=original_issue_date)
    if status != "Active":
        CertificateStatusChange.objects.create(certificate=certificate, status=status,
                                               date=status_date, reason=REASONS[status])
    return certificate


WORDS = ["Nord", "Licht", "Sonnen", "Berg", "Fluss", "Stahl", "Werk", "Blau", "Grün", "Alpen",
         "Rhein", "Hansa", "Küsten", "Wald", "Stern", "Eisen", "Kraft", "Glas", "Holz", "Feld",
         "Bright", "Path", "Green", "River", "Stone", "Oak", "Silver", "Iron", "North", "Bay",
         "Lumen", "Vértice", "Aurora", "Cobalt", "Delta", "Orbit", "Pixel", "Quartz", "Terra"]
SUFFIXES = ["Energie", "Services", "Logistik", "Metall", "Systems", "Solutions", "Foods",
            "Pharma", "Technik", "Bau", "Software", "Consulting"]
FORMS = ["GmbH", "AG", "Ltd", "S.A.", "SE", "KG", "B.V.", "Inc."]
STANDARDS = [("ISO 9001", "2015"), ("ISO 14001", "2015"), ("ISO 45001", "2018"),
             ("ISO/IEC 27001", "2022"), ("ISO 50001", "2018")]
COUNTRIES = ["DE", "AT", "CH", "FR", "NL", "GB", "IT", "ES", "PL", "SE"]


def random_name(rng: random.Random) -> str:
    return (f"{rng.choice(WORDS)}{rng.choice(WORDS).lower()} {rng.choice(SUFFIXES)} "
            f"{rng.choice(FORMS)}")


def bulk_certificates(count: int, *, seed: int = 7, batch: int = 5_000,
                      prefix: str = "BULK") -> list[str]:
    """``count`` certificates with sites, standards and history, quickly; returns the numbers.

    Names come from a small vocabulary, so many share words (as real registries do):
    searches have to rank, not just find.
    """
    rng = random.Random(seed)
    numbers = []
    statuses = ["Active"] * 17 + ["Suspended", "Withdrawn", "Expired"]
    for start in range(0, count, batch):
        rows = []
        for i in range(start, min(count, start + batch)):
            name = random_name(rng)
            standards = rng.sample(STANDARDS, rng.choice([1, 1, 1, 2]))
            issue = datetime.date(2020, 1, 1) + datetime.timedelta(days=rng.randrange(2000))
            number = f"{prefix}-{i:07d}"
            numbers.append(number)
            rows.append(Certificate(
                number=number, public_code=secrets.token_hex(8),
                identity_number=f"{prefix}-ID-{i}", status=rng.choice(statuses),
                entity_id=f"{prefix}-E-{i}", organization_name=name, name_key=name_key(name),
                organization_country=rng.choice(COUNTRIES),
                standards=[{"code": c, "edition": e} for c, e in standards],
                scope="Design and manufacture of " + rng.choice(SUFFIXES).lower(),
                original_issue_date=issue, issue_date=issue,
                expiry_date=issue + datetime.timedelta(days=3 * 365 - 1),
                confidential=rng.random() < 0.02, imported=True))
        created = Certificate.objects.bulk_create(rows, batch_size=1_000)
        if created and created[0].pk is None:  # databases that do not return ids
            by_number = dict(Certificate.objects.filter(
                number__in=[c.number for c in created]).values_list("number", "id"))
            for c in created:
                c.pk = c.id = by_number[c.number]
        CertificateStandard.objects.bulk_create(
            [CertificateStandard(certificate_id=c.pk, code=s["code"], edition=s["edition"])
             for c in created for s in c.standards], batch_size=2_000)
        CertificateSite.objects.bulk_create(
            [CertificateSite(certificate_id=c.pk, name="Head office",
                             address=f"{rng.randrange(1, 200)} Main Street", city="Springfield",
                             postcode=f"{rng.randrange(10000, 99999)}",
                             country=c.organization_country) for c in created],
            batch_size=2_000)
        CertificateStatusChange.objects.bulk_create(
            [CertificateStatusChange(certificate_id=c.pk, status="Active",
                                     date=c.original_issue_date) for c in created],
            batch_size=2_000)
    return numbers


def clear_public_state():
    """Forget the process-local rate-limit windows, cached searches, unflushed counts and
    the vocabulary in memory."""
    from django.core.cache import caches

    from isocert.registry import lookups, vocabulary
    from isocert.registry.ratelimit import PUBLIC_THROTTLE

    caches["public_search"].clear()
    PUBLIC_THROTTLE.reset()
    lookups.wait_for_background_flush()
    lookups._counter.take()
    vocabulary.VOCABULARY.clear()


def certificate_content(certificate: Certificate) -> dict:
    """What a certificate printed from this registry row would say (for signing in tests)."""
    return {
        "number": certificate.number, "public_code": certificate.public_code,
        "organization": {"name": certificate.organization_name,
                         "country": certificate.organization_country},
        "standards": certificate.standards, "scope": certificate.scope,
        "issue_date": certificate.issue_date.isoformat(),
        "expiry_date": certificate.expiry_date.isoformat(), "revision": certificate.revision,
    }


class WSGIResponse:
    """What ``WSGIClient.get`` answers: enough of Django's test response to share tests."""

    def __init__(self, status: str, headers: list[tuple[str, str]], content: bytes):
        self.status_code = int(status.split()[0])
        self.headers = dict(headers)
        self.cookies = [value for name, value in headers if name.lower() == "set-cookie"]
        self.content = content

    def __getitem__(self, name: str) -> str:
        return {k.lower(): v for k, v in self.headers.items()}[name.lower()]

    def get(self, name: str, default=None):
        try:
            return self[name]
        except KeyError:
            return default

    def json(self):
        import json

        return json.loads(self.content)


class WSGIClient:
    """Requests through ``isocert.wsgi.application`` — the callable the server serves, with
    its front door for the public registry API — instead of Django's test handler.

    The environ is built by Django's ``RequestFactory``; like Django's test client, the
    database connection is not closed at the end of a request (the test's transaction
    must outlive it).
    """

    def get(self, path: str, data: dict | None = None, **extra) -> WSGIResponse:
        from django.core import signals
        from django.db import close_old_connections
        from django.test import RequestFactory

        from isocert.wsgi import application

        environ = RequestFactory().get(path, data, **extra).environ
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)

        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            result = application(environ, start_response)
            try:
                content = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        return WSGIResponse(captured["status"], captured["headers"], content)
