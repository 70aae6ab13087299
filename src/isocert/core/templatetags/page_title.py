"""The ``<title>`` of every page: "Page — CB name" (issue #19, WCAG 2.2 SC 2.4.2 Page Titled).

A Django template cannot ask whether a block is empty (``{% if self.title %}`` is never
true), so base.html renders the page's ``title`` block through this filter::

    <title>{% filter page_title:CB_NAME %}{% block title %}{% endblock %}{% endfilter %}</title>

A page with a title reads "Dashboard — isocert Certification Body"; one without, the CB's
name alone.
"""

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeData, mark_safe

register = template.Library()

SEPARATOR = " — "


@register.filter(is_safe=True)
def page_title(title, site_name):
    """``title`` (the rendered block, already escaped) followed by the site's name."""
    safe = isinstance(title, SafeData)
    title = " ".join(str(title).split())   # a block's line breaks and indents
    title = mark_safe(title) if safe else title  # noqa: S308 - rendered, escaped template output
    if not title:
        return conditional_escape(site_name)
    return format_html("{}{}{}", title, SEPARATOR, site_name)
