"""The test outbox, read while a live server sends mail after its commits."""

import time

from django.core import mail


def wait_for_mail(to: str, subject: str, timeout: float = 5.0):
    """The latest e-mail to ``to`` whose subject contains ``subject`` (sent after commit)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in mail.outbox if to in m.to and subject in m.subject]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert found, [(m.to, m.subject) for m in mail.outbox]
    return found[-1]
