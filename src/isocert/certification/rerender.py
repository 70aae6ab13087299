"""Redraw the current certificates' PDFs after the CB's mark changed.

A revision's content is frozen (ISO/IEC 17021-1 §8.2.2: what the certificate states); the
CB mark is how it is printed. After an operator replaces the mark, the current revision of
every certificate is drawn again with it; superseded revisions keep the PDF they were
issued with. Each revision records the hash of the mark it was drawn with, so a run can be
stopped at any time and started again: it continues with the revisions still on the old
mark. One audit event records each run's result.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from isocert.core.audit import record_event

from .models import CertificateRevision
from .pdf import cb_mark_sha256, render_certificate_pdf_file

BATCH = 200


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    elapsed: float  # seconds

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def remaining_seconds(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate else None


def revisions_to_redraw(mark: str):
    """Current revisions not drawn with ``mark`` (oldest first)."""
    return (CertificateRevision.objects.filter(superseded_at__isnull=True)
            .exclude(pdf_mark=mark).order_by("pk"))


def rerender_certificates(*, actor=None, limit: int | None = None,
                          progress: Callable[[Progress], None] | None = None) -> int:
    """Redraw the current revisions whose PDF was drawn with another mark; returns how many
    were redrawn (at most ``limit``). ``progress`` is called after each certificate."""
    mark = cb_mark_sha256()
    total = revisions_to_redraw(mark).count()
    if limit is not None:
        total = min(total, limit)
    done, started, last_pk = 0, time.monotonic(), 0
    while done < total:
        batch = list(revisions_to_redraw(mark).filter(pk__gt=last_pk)
                     .select_related("certificate")[:min(BATCH, total - done)])
        if not batch:
            break
        for revision in batch:
            with transaction.atomic():
                render_certificate_pdf_file(revision=revision, mark=mark)
            done += 1
            last_pk = revision.pk
            if progress:
                progress(Progress(done=done, total=total, elapsed=time.monotonic() - started))
    if done:
        with transaction.atomic():
            record_event(actor=actor, action="certification.certificate.pdfs_redrawn",
                         object_type="certification.mark", object_id=mark[:16],
                         payload={"mark_sha256": mark, "redrawn": done,
                                  "remaining": revisions_to_redraw(mark).count(),
                                  "seconds": round(time.monotonic() - started, 1)})
    return done
