"""The two records every change of a certificate writes in the same transaction: a row of
the public status history and an event in the audit trail. Shared by the decision
(``services``) and the lifecycle (``lifecycle``), which import neither of each other."""

import datetime

from django.db import transaction

from isocert.accounts.models import User
from isocert.core.audit import record_event

from .models import Certificate, CertificateStatusChange
from .signals import certificate_changed


def record_status_change(certificate: Certificate, *, date: datetime.date, reason: str,
                         actor: User | None) -> CertificateStatusChange:
    """A public status-history row with the certificate's current status; after commit,
    ``certificate_changed`` tells the public side (the registry clears its directory cache)."""
    transaction.on_commit(lambda: certificate_changed.send(sender=Certificate,
                                                           certificate_id=certificate.pk))
    return CertificateStatusChange.objects.create(
        certificate=certificate, status=certificate.status, date=date, reason=reason,
        actor=actor)


def record_certificate_event(actor, action: str, certificate: Certificate,
                             payload: dict) -> None:
    """An audit event on the certificate, with its number, status and revision."""
    record_event(actor=actor, action=action, obj=certificate,
                 organization_id=certificate.organization_id,
                 payload={"number": certificate.number, "status": certificate.status,
                          "revision": certificate.revision, **payload})
