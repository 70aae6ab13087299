"""The conduct's answers to the programme's signals (connected in ``AuditsConfig.ready``)."""

from django.dispatch import receiver

from isocert.core.files import queue_once, stored_file_missing

from ..programme.signals import audit_started
from .checklist import prepare_checklist
from .models import AuditReport
from .tasks import render_audit_report_pdf


@receiver(audit_started, dispatch_uid="audits.conduct.prepare_checklist")
def prepare_checklist_on_start(sender, *, audit, **kwargs) -> int:
    """A started audit gets its checklist: one row per clause of its standards."""
    return prepare_checklist(audit)


@receiver(stored_file_missing, dispatch_uid="audits.conduct.rerender_missing_pdf")
def rerender_missing_report_pdf(sender, *, stored, **kwargs) -> bool:
    """An audit report's PDF missing from the storage is rendered again. True if it was one."""
    report_ids = list(AuditReport.objects.filter(pdf=stored).values_list("pk", flat=True))
    for report_id in report_ids:
        queue_once(f"audit-report:{report_id}",
                   lambda rid=report_id: render_audit_report_pdf.enqueue(report_id=rid))
    return bool(report_ids)
