"""Display filters for values that reach a template as ISO 8601 text.

E-mail contexts travel through the task queue as JSON, so their dates are ISO strings,
which Django's ``date`` filter does not read. ``{% load dates %}`` then
``{{ until|display_date }}`` or ``{{ at|display_datetime }}`` prints them in the one
display format (``core/dates.py``); ``display_dates_in`` does so for every ISO date in a
text (a period "2025-01-01 – 2025-06-30"). For real date objects use ``{{ value|date }}``.
"""

from django import template

from isocert.core import dates

register = template.Library()

register.filter("display_date", dates.display_date)
register.filter("display_datetime", dates.display_datetime)
register.filter("display_dates_in", dates.display_dates_in)
