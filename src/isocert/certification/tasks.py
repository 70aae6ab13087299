"""Background work for certificates: PDFs and the daily lifecycle run.

Tasks take primary keys and call the module that does the work.
"""

from django.tasks import task


@task()
def render_certificate_pdf(*, revision_id: int) -> str:
    """Render and store one revision's PDF; returns the file's SHA-256."""
    from .models import CertificateRevision
    from .pdf import render_certificate_pdf_file

    revision = CertificateRevision.objects.select_related("certificate").get(pk=revision_id)
    return render_certificate_pdf_file(revision=revision).pdf.sha256


@task()
def run_certificate_lifecycle() -> dict:
    """The daily run: expire lapsed certificates, remind about suspensions running out,
    flag overdue surveillance and fail registry jobs whose worker died
    (``isocert certificate-lifecycle``, cron)."""
    from .lifecycle import daily_run

    return daily_run()
