"""What the programme tells the parts of the app built on it.

``audit_started`` is sent inside ``start_audit``'s transaction, with ``audit``; a receiver
returns how many rows it prepared (conduct answers with the checklist's rows), so the
programme starts an audit without importing the conduct that builds on it."""

from django.dispatch import Signal

audit_started = Signal()
