"""The two records every change of a certificate writes in the same transaction: a row of
the public status history and an event in the audit trail. Shared by the decision
(``services``) and the lifecycle (``lifecycle``), which import neither of each other — and
the appeal notice both add to the client's e-mail about an appealable decision."""

import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse

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


def appeal_notice(*, url_name: str, pk: int, decided_on: datetime.date) -> dict:
    """What a client's e-mail about an appealable decision adds (ISO/IEC 17021-1 §9.7: the
    client's right to appeal, within the CB's window): the window in days
    (``APPEAL_WINDOW_DAYS``), its last day, and the path of the appeal page with the decision
    or certificate named (``url_name`` is the appeal page's URL name; the appeals live in an
    app above this one and only their URL is named here, never imported)."""
    days = settings.APPEAL_WINDOW_DAYS
    return {"appeal_days": days,
            "appeal_by": (decided_on + datetime.timedelta(days=days)).isoformat(),
            "appeal_path": reverse(url_name, args=[pk])}
