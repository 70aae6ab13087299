"""One link of the main navigation (base.html, issue #19)::

    {% nav_link "review_queue" "Review queue" %}

renders ``<li><a href="/review/">Review queue</a></li>``, with ``aria-current="page"`` on
the link of the page being shown (WCAG 2.2 SC 2.4.8 Location; a screen reader says
"current page"). Who sees a link stays the template's ``{% if %}`` around it.
"""

from django import template
from django.urls import reverse
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_link(context, url_name, label):
    url = reverse(url_name)
    request = context.get("request")
    if request is not None and request.path == url:
        return format_html('<li><a href="{}" aria-current="page">{}</a></li>', url, label)
    return format_html('<li><a href="{}">{}</a></li>', url, label)
