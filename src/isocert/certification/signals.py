"""What certification tells the apps above it (the public registry) without importing them.

``daily_run_done``: sent at the end of the daily lifecycle run (``lifecycle.daily_run``)
with ``today``; a receiver does its own daily work and returns a dict of counts, which is
merged into the run's summary.

``certificate_changed``: sent after commit whenever a certificate's public record changed
(a row of its public status history was written: issued, suspended, restored, withdrawn,
expired, revised; or its confidentiality changed), with ``certificate_id``. The registry
drops its cached directory searches on every server so listings show the change.
"""

from django.dispatch import Signal

daily_run_done = Signal()
certificate_changed = Signal()
