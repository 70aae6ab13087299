"""One page of an API list: every list operation answers at most ``API_MAX_PAGE_SIZE``
items, so its cost does not grow with the CB's data (issue #19: every list paginated).

The answer stays a JSON array (clients written for the unpaginated lists keep working for
the first page); ``limit`` and ``offset`` walk the rest, in a stable order the caller gives.
"""

from django.conf import settings
from django.db.models import QuerySet


def page_window(queryset: QuerySet, *, limit: int | None, offset: int | None) -> QuerySet:
    """The slice ``offset`` … ``offset + limit`` of an ordered queryset; ``limit`` defaults to
    ``API_PAGE_SIZE`` and is capped at ``API_MAX_PAGE_SIZE``, a negative offset counts as 0."""
    size = settings.API_PAGE_SIZE if limit is None else limit
    size = max(1, min(size, settings.API_MAX_PAGE_SIZE))
    start = max(0, offset or 0)
    return queryset[start:start + size]


PAGINATED = ("Paginated: at most `limit` items (default `API_PAGE_SIZE`, 50; at most "
             "`API_MAX_PAGE_SIZE`, 200) from `offset`; fewer than `limit` means the last page.")
