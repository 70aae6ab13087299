"""The conduct's answers to the programme's signals (connected in ``AuditsConfig.ready``)."""

from django.dispatch import receiver

from ..programme.signals import audit_started
from .checklist import prepare_checklist


@receiver(audit_started, dispatch_uid="audits.conduct.prepare_checklist")
def prepare_checklist_on_start(sender, *, audit, **kwargs) -> int:
    """A started audit gets its checklist: one row per clause of its standards."""
    return prepare_checklist(audit)
