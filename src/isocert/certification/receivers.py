"""Certification's answers to core's signals (connected in ``CertificationConfig.ready``)."""

from django.dispatch import receiver

from isocert.core.files import queue_once, stored_file_missing

from .editions import daily_transition_run
from .models import CertificateRevision
from .signals import daily_run_done
from .tasks import render_certificate_pdf


@receiver(daily_run_done, dispatch_uid="certification.edition_transitions")
def run_edition_transitions(sender, *, today, **kwargs) -> dict:
    """The daily run's edition-transition work (``editions.daily_transition_run``): expire
    certificates not transitioned by the deadline, warn before it."""
    return daily_transition_run(today)


@receiver(stored_file_missing, dispatch_uid="certification.rerender_missing_pdf")
def rerender_missing_certificate_pdf(sender, *, stored, **kwargs) -> bool:
    """A certificate revision's PDF missing from the storage is rendered again (from the
    revision's frozen content: the same data and signed QR code). True if it was one."""
    revision_ids = list(CertificateRevision.objects.filter(pdf=stored).values_list("pk",
                                                                                 flat=True))
    for revision_id in revision_ids:
        queue_once(f"certificate-revision:{revision_id}",
                   lambda rid=revision_id: render_certificate_pdf.enqueue(revision_id=rid))
    return bool(revision_ids)
