"""What complaints and appeals share: the reference numbers, the attachments (checked
before anything is written, stored after) and the audit event of every step."""

import datetime

from isocert.core.audit import record_event
from isocert.core.errors import InvalidInput
from isocert.core.files import UploadCheck, check_upload, store_file
from isocert.core.sequences import next_value

MAX_ATTACHMENTS = 5


def new_reference(template: str, sequence: str, today: datetime.date) -> str:
    """The next reference of the year, e.g. ``CMP-2026-000001``."""
    return template.format(year=today.year, seq=next_value(sequence, str(today.year)))


def checked_attachments(attachments) -> list[tuple[UploadCheck, str]]:
    """Every upload through the portal's upload checks, at most ``MAX_ATTACHMENTS``."""
    attachments = list(attachments or [])
    if len(attachments) > MAX_ATTACHMENTS:
        raise InvalidInput("Too many files.", fields={
            "attachments": f"At most {MAX_ATTACHMENTS} files."})
    return [(check_upload(upload, field="attachments"), upload.name) for upload in attachments]


def store_attachments(model, checked: list[tuple[UploadCheck, str]], **owner) -> None:
    """Store the checked files as ``model`` rows of ``owner`` (``complaint=`` / ``appeal=``)."""
    for upload_check, filename in checked:
        model.objects.create(file=store_file(upload_check),
                             filename=(filename or "attachment")[:200], **owner)


def record_step(actor, kind: str, action: str, matter, payload: dict | None = None) -> None:
    """The audit event of a step of a complaint or an appeal (``kind``), with its reference
    and the status it is in now."""
    record_event(actor=actor, action=f"complaints.{kind}.{action}", obj=matter,
                 organization_id=matter.organization_id,
                 payload={"reference": matter.reference, "status": matter.status,
                          **(payload or {})})
