"""Background work for certificates: PDFs and the daily lifecycle run.

Tasks take primary keys and call the module that does the work. The decision services
enqueue the PDF task after commit, so this module imports none of them.
"""

from django.tasks import task

from .lifecycle import daily_run
from .models import CertificateRevision
from .pdf import render_certificate_pdf_file


@task()
def render_certificate_pdf(*, revision_id: int) -> str:
    """Render and store one revision's PDF; returns the file's SHA-256."""
    revision = CertificateRevision.objects.select_related("certificate").get(pk=revision_id)
    return render_certificate_pdf_file(revision=revision).pdf.sha256


@task()
def run_certificate_lifecycle() -> dict:
    """The daily run: expire lapsed certificates, remind about suspensions running out,
    flag overdue surveillance and fail registry jobs whose worker died
    (``isocert certificate-lifecycle``, cron)."""
    return daily_run()
