"""What the audit conduct tells the apps above it without importing them.

``finding_page_panels``: sent while a finding's page is built, with ``finding`` and
``request``; each receiver returns an HTML fragment (rendered from its own template) or "",
shown below the finding — the appeals against its grading (the client finds the appeal
there).
"""

from django.dispatch import Signal
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

finding_page_panels = Signal()


def finding_panels(*, finding, request) -> SafeString:
    """The fragments the upper apps add to a finding's page, in the order they answered."""
    responses = finding_page_panels.send(sender=type(finding), finding=finding, request=request)
    return format_html_join("", "{}", ((html,) for _, html in responses if html))
