"""E-mail delivery, run by the background worker (``isocert db_worker``)."""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.template.loader import render_to_string


@task()
def send_templated_email(*, template: str, to: list[str], context: dict) -> int:
    """Render ``notifications/email/<template>_{subject,body}.txt`` and send it."""
    context = {"CB_NAME": settings.CB_NAME, "SITE_URL": settings.SITE_URL, **context}
    subject = render_to_string(f"notifications/email/{template}_subject.txt", context)
    body = render_to_string(f"notifications/email/{template}_body.txt", context)
    return send_mail(" ".join(subject.split()), body, None, to)


@task()
def send_rendered_email(*, subject: str, body: str, html: str, to: list[str],
                        from_email: str | None = None) -> int:
    """Send an e-mail rendered by the request that caused it (allauth's account mails)."""
    return send_mail(subject, body, from_email, to, html_message=html or None)
