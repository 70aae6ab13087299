"""Background work of the audit conduct: report PDFs and corrective-action reminders.

Tasks take primary keys and call a service; the services enqueue them after commit."""

from django.tasks import task

from ..programme.models import Audit
from .models import AuditReport
from .pdf import render_report_pdf_file
from .reminders import audits_to_remind, send_ca_reminder


@task()
def render_audit_report_pdf(*, report_id: int) -> str:
    report = AuditReport.objects.select_related("audit").get(pk=report_id)
    return render_report_pdf_file(report=report).pdf.sha256


@task()
def send_ca_reminders() -> int:
    """E-mail client and audit team about overdue corrective actions, once a day per audit;
    returns how many audits were reminded.

    Run daily by ``isocert send-ca-reminders`` (cron).
    """
    sent = 0
    for audit in Audit.objects.filter(pk__in=audits_to_remind()):
        if send_ca_reminder(audit=audit):
            sent += 1
    return sent
