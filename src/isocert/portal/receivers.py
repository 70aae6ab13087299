"""The shell connects lower apps to signals of apps above them: the impartiality register
stands below certification and cannot import its ``daily_run_done``, so the portal, which
may import every app, hands it the daily run."""

from django.dispatch import receiver

from isocert.certification.signals import daily_run_done
from isocert.impartiality import services as impartiality_services


@receiver(daily_run_done, dispatch_uid="portal.impartiality_review_reminders")
def impartiality_review_reminders(sender, *, today, **kwargs) -> dict:
    """The daily run tells the CB's administrators, once, that the impartiality register's
    periodic review (ISO/IEC 17021-1 §5.2.3, ``IMPARTIALITY_REVIEW_MONTHS``) or a risk's
    own review has fallen due."""
    return impartiality_services.send_review_reminders(today=today)
