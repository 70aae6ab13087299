"""``/favicon.ico``: the portal's icon where browsers look for it without being told.

Pages link static/isocert/favicon.svg (``<link rel="icon">``), but browsers still ask
for /favicon.ico (feed readers, the PDF viewer, pages of files), which answered 404
(issue #19). This view answers it with the same SVG, from the package, so it works with
DEBUG off and behind nginx (which passes / to the application) without collectstatic.
"""

from functools import cache
from pathlib import Path

from django.http import HttpResponse
from django.views.decorators.http import require_safe

FAVICON = Path(__file__).resolve().parent.parent / "static" / "isocert" / "favicon.svg"
MAX_AGE = 86_400   # a day: a new icon is seen by tomorrow


@cache
def _icon() -> bytes:
    return FAVICON.read_bytes()


@require_safe
def favicon(request):
    response = HttpResponse(_icon(), content_type="image/svg+xml")
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response
