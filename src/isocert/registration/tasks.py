"""Background work for registration: quotation PDFs."""

from django.tasks import task

from .models import Quotation


@task()
def render_quotation_pdf(*, quotation_id: int) -> str:
    from .services import render_quotation_pdf_file

    quotation = Quotation.objects.select_related("application__organization").get(pk=quotation_id)
    return render_quotation_pdf_file(quotation=quotation).pdf.sha256
