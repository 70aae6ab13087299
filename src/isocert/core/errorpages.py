"""The portal's own error page for 404 (``handler404`` in the root URLconf).

A page in the portal's layout instead of Django's bare "Not Found"; a stored file missing
from the storage (``core.files.StoredFileMissing``) says so and, for a generated PDF, that
it is being made again. Other 404 messages are not shown (they may name models).
"""

import logging

from django.http import HttpResponseNotFound
from django.shortcuts import render

from .files import StoredFileMissing

logger = logging.getLogger(__name__)


def page_not_found(request, exception=None):
    message = exception.message if isinstance(exception, StoredFileMissing) else ""
    try:
        return render(request, "404.html", {"message": message}, status=404)
    except Exception:   # the error page itself must never become a 500
        logger.exception("The 404 page could not be rendered")
        return HttpResponseNotFound("Not found.", content_type="text/plain; charset=utf-8")
