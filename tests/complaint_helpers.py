"""What the complaint flow tests read after each step: the complaint's last audit event and
the e-mails one address received."""

from django.core import mail

from isocert.core.models import AuditEvent


def last_event(complaint_id: int) -> tuple[str, str]:
    event = AuditEvent.objects.filter(object_type="complaints.complaint",
                                      object_id=str(complaint_id)).order_by("-seq").first()
    return event.action, event.payload["status"]


def subjects_to(address: str) -> list[str]:
    return [m.subject for m in mail.outbox if address in m.to]
