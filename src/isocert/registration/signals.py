"""Hooks through which apps on higher floors add what they know to registration's pages.

Registration stands below readiness and improvement and imports neither: the review page
and the application form send these signals, and the upper apps answer them (their
receivers are connected in their ``AppConfig.ready``).
"""

from django.dispatch import Signal
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

# Sent while the CB's review page of an application is built, with ``application`` and
# ``request``. Each receiver returns an HTML fragment (rendered from its own template) or
# "", shown under the review card.
review_page_panels = Signal()

# Sent while an application's ISO 50001 line is pre-filled, with ``organization``. A receiver
# returns the ISO 50003 inputs already recorded elsewhere (``annual_energy_consumption_tj``,
# ``energy_types``, ``significant_energy_uses``) or None.
energy_inputs_requested = Signal()


def review_panels(*, application, request) -> SafeString:
    """The fragments the upper apps add to the review page, in the order they answered.

    A fragment rendered from a template is safe and shown as is; a plain string is escaped.
    """
    responses = review_page_panels.send(sender=type(application), application=application,
                                        request=request)
    return format_html_join("", "{}", ((html,) for _, html in responses if html))


def energy_inputs(organization) -> dict | None:
    """The first ISO 50003 inputs an upper app knows for ``organization``, else None."""
    responses = energy_inputs_requested.send(sender=type(organization),
                                             organization=organization)
    return next((inputs for _, inputs in responses if inputs), None)
