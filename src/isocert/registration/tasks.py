"""Background work for registration: quotation PDFs."""

import hashlib

from django.conf import settings
from django.tasks import task
from django.template.loader import render_to_string

from isocert.core.files import UploadCheck, store_file

from .models import Quotation


@task()
def render_quotation_pdf(*, quotation_id: int) -> str:
    quotation = Quotation.objects.select_related("application__organization").get(pk=quotation_id)
    return render_quotation_pdf_file(quotation=quotation).pdf.sha256


def render_quotation_pdf_file(*, quotation: Quotation) -> Quotation:
    """Render the quotation (with the audit-time justification) to PDF and store it."""
    from weasyprint import HTML  # heavy: loaded by the worker when it renders, not at start

    html = render_to_string("registration/quotation_pdf.html", {
        "quotation": quotation, "application": quotation.application,
        "organization": quotation.application.organization,
        "CB_NAME": settings.CB_NAME, "CB_ADDRESS": settings.CB_ADDRESS,
    })
    data = HTML(string=html, base_url=settings.SITE_URL).write_pdf()
    stored = store_file(UploadCheck(data=data, content_type="application/pdf",
                                    sha256=hashlib.sha256(data).hexdigest()))
    Quotation.objects.filter(pk=quotation.pk).update(pdf=stored)
    quotation.pdf = stored
    return quotation
