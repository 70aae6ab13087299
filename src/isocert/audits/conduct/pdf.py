"""The PDF of an issued report revision, rendered from its frozen content."""

import hashlib

from django.conf import settings
from django.db.models import Max
from django.template.loader import render_to_string

from isocert.core.files import UploadCheck, store_file

from .models import (
    AuditReport,
)


def render_report_pdf_file(*, report: AuditReport) -> AuditReport:
    """Render one report revision (from its frozen content) to PDF and store it."""
    from weasyprint import HTML

    latest = report.audit.reports.aggregate(r=Max("revision"))["r"]
    html = render_to_string("audits/conduct/report_pdf.html", {
        "report": report, "content": report.content, "superseded": report.revision < latest,
        "CB_NAME": settings.CB_NAME, "CB_ADDRESS": settings.CB_ADDRESS,
    })
    data = HTML(string=html, base_url=settings.SITE_URL).write_pdf()
    stored = store_file(UploadCheck(data=data, content_type="application/pdf",
                                    sha256=hashlib.sha256(data).hexdigest()))
    AuditReport.objects.filter(pk=report.pk).update(pdf=stored)
    report.pdf = stored
    return report
