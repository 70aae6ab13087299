"""The portal's own error pages: 400, 403, CSRF failure, 404 and 500 (issue #19).

Pages in the portal's layout with a main landmark, a title "… — CB name" and links on,
instead of Django's bare defaults (WCAG 2.2 SC 1.3.1 and 2.4.1: landmarks and a way
through; SC 2.4.2: a page title). The root URLconf names them (``handler400`` …) and
``CSRF_FAILURE_VIEW`` the CSRF one.

- 403 and 404 (and a CSRF failure) extend base.html with the request's context: the
  visitor's own navigation. A stored file missing from the storage
  (``core.files.StoredFileMissing``) says so on the 404 and, for a generated PDF, that it
  is being made again; other 404 messages are not shown (they may name models), nor are
  403 reasons.
- 500 and 400 are rendered from errors/standalone.html, which needs neither the request
  nor the database (a 500 may come from a broken database; a 400 from a request the
  middleware refused before the session or user were read): the CB's name comes from the
  settings.
- Under /api/ every error keeps the API's one error shape (``core.api``), never HTML.

No error page may itself fail: if rendering one raises, a plain-text answer is sent.
"""

import logging

from django.conf import settings
from django.http import (
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.template import loader

from .api import error_json_response
from .files import StoredFileMissing

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def _is_api(request) -> bool:
    return request is not None and request.path.startswith(API_PREFIX)


def _render(response_class: type[HttpResponse], template_name: str, *, request=None,
            context: dict | None = None, fallback: str) -> HttpResponse:
    """The error page, or a plain-text one if the page cannot be rendered."""
    try:
        html = loader.get_template(template_name).render(context or {}, request)
    except Exception:   # the error page itself must never become a 500
        logger.exception("The error page %s could not be rendered", template_name)
        return response_class(fallback, content_type="text/plain; charset=utf-8")
    return response_class(html)


def page_not_found(request, exception=None):
    if _is_api(request):
        return error_json_response(404, "not_found", "Not found.")
    message = exception.message if isinstance(exception, StoredFileMissing) else ""
    return _render(HttpResponseNotFound, "404.html", request=request,
                   context={"message": message}, fallback="Not found.")


def permission_denied(request, exception=None):
    if _is_api(request):
        return error_json_response(403, "forbidden", "You may not do this.")
    return _render(HttpResponseForbidden, "403.html", request=request,
                   fallback="Forbidden.")


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: the form's security token was missing or stale."""
    if _is_api(request):
        return error_json_response(403, "csrf_failed",
                                   "The request's CSRF check failed; send the token.")
    return _render(HttpResponseForbidden, "403_csrf.html", request=request,
                   fallback="Forbidden: the form's security check failed. Reload and retry.")


def _standalone_context() -> dict:
    return {"CB_NAME": settings.CB_NAME}


def bad_request(request, exception=None):
    if _is_api(request):
        return error_json_response(400, "bad_request", "Bad request.")
    return _render(HttpResponseBadRequest, "400.html", context=_standalone_context(),
                   fallback="Bad request.")


def server_error(request=None):
    if _is_api(request):
        return error_json_response(500, "server_error", "Something went wrong on our side.")
    return _render(HttpResponseServerError, "500.html", context=_standalone_context(),
                   fallback="Server error.")
