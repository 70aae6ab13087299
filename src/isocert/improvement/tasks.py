"""Background work for implementation actions: the daily overdue digest."""

from django.tasks import task

from isocert.accounts.models import User

from .actions import owners_to_remind, send_overdue_digest


@task()
def send_overdue_digests() -> int:
    """E-mail every owner of overdue actions one digest (at most one a day); returns how many.

    Run daily by ``isocert send-overdue-digests`` (cron).
    """
    sent = 0
    for owner in User.objects.filter(pk__in=owners_to_remind()):
        if send_overdue_digest(owner=owner):
            sent += 1
    return sent
