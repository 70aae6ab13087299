"""What certification tells the apps above it (the public registry) without importing them.

``daily_run_done``: sent at the end of the daily lifecycle run (``lifecycle.daily_run``)
with ``today``; a receiver does its own daily work and returns a dict of counts, which is
merged into the run's summary.

``certificate_changed``: sent after commit whenever a certificate's public record changed
(a row of its public status history was written: issued, suspended, restored, withdrawn,
expired, revised; or its confidentiality changed), with ``certificate_id``. The registry
drops its cached directory searches on every server so listings show the change.

``decision_page_panels``: sent while the decision page of a cycle is built, with ``cycle``
and ``request``; each receiver returns an HTML fragment (rendered from its own template) or
"", shown above the checklist — the complaints and appeals open about the client.
``certificate_page_panels``: the same for a certificate's page, with ``certificate`` and
``request`` (the client's members find the appeal there).
``open_matters_requested``: sent by the decision API with ``organization_id``; each receiver
returns a list of ``{"kind", "reference", "status", "subject"}`` dicts (open complaints
and appeals about the client).
"""

from django.dispatch import Signal
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

daily_run_done = Signal()
certificate_changed = Signal()
decision_page_panels = Signal()
certificate_page_panels = Signal()
open_matters_requested = Signal()


def decision_panels(*, cycle, request) -> SafeString:
    """The fragments the upper apps add to the decision page, in the order they answered."""
    responses = decision_page_panels.send(sender=type(cycle), cycle=cycle, request=request)
    return format_html_join("", "{}", ((html,) for _, html in responses if html))


def certificate_panels(*, certificate, request) -> SafeString:
    """The fragments the upper apps add to a certificate's page."""
    responses = certificate_page_panels.send(sender=type(certificate), certificate=certificate,
                                             request=request)
    return format_html_join("", "{}", ((html,) for _, html in responses if html))


def open_matters(*, organization_id: int) -> list[dict]:
    """What the upper apps report as open about the client (complaints, appeals)."""
    matters: list[dict] = []
    for _receiver, found in open_matters_requested.send(sender=None,
                                                        organization_id=organization_id):
        matters.extend(found or [])
    return matters
