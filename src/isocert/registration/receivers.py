"""Registration's answers to core's signals (connected in ``RegistrationConfig.ready``)."""

from django.dispatch import receiver

from isocert.core.files import queue_once, stored_file_missing

from .models import Quotation
from .tasks import render_quotation_pdf


@receiver(stored_file_missing, dispatch_uid="registration.rerender_missing_pdf")
def rerender_missing_quotation_pdf(sender, *, stored, **kwargs) -> bool:
    """A quotation's PDF missing from the storage is rendered again. True if it was one."""
    quotation_ids = list(Quotation.objects.filter(pdf=stored).values_list("pk", flat=True))
    for quotation_id in quotation_ids:
        queue_once(f"quotation:{quotation_id}",
                   lambda qid=quotation_id: render_quotation_pdf.enqueue(quotation_id=qid))
    return bool(quotation_ids)
