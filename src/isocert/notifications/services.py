"""Queue e-mails so they leave only once the state change is committed."""

from functools import partial

from django.db import transaction

from .tasks import send_templated_email


def notify(*, template: str, to, context: dict) -> None:
    """Send ``template`` to ``to`` after the current transaction commits.

    ``context`` must be JSON-serializable (it travels through the task queue).
    """
    recipients = sorted({address for address in to if address})
    if not recipients:
        return
    transaction.on_commit(
        partial(send_templated_email.enqueue, template=template, to=recipients, context=context)
    )
