"""API plumbing shared by every app: the one error shape, its exception handlers and
the input checks. Authentication (sessions, tokens, the staff second factor) is
``accounts.api_auth``'s.

Errors always look like ``{"error": {"code": ..., "message": ..., "fields": {...}}}``.
"""

import functools
import json
import logging

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from .errors import DomainError
from .files import StoredFileMissing
from .input_checks import NUL, value_problems

logger = logging.getLogger(__name__)


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, str] = {}


class ErrorOut(Schema):
    error: ErrorBody


def error_response(api: NinjaAPI, request, status: int, code: str, message: str,
                   fields: dict | None = None):
    return api.create_response(
        request, {"error": {"code": code, "message": message, "fields": fields or {}}},
        status=status,
    )


def error_json_response(status: int, code: str, message: str,
                        fields: dict | None = None) -> HttpResponse:
    """The error shape as a plain response, for code answering outside django-ninja's
    handlers (the same body and content type as ``error_response``)."""
    body = json.dumps({"error": {"code": code, "message": message, "fields": fields or {}}})
    return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")


class ApiErrorShapeMiddleware:
    """Unknown API paths and wrong methods answer in the error shape too.

    django-ninja answers those before its exception handlers run (plain 405,
    Django's HTML 404), so they are rewritten here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (request.path.startswith("/api/") and response.status_code in (404, 405)
                and not response.get("Content-Type", "").startswith("application/json")):
            if response.status_code == 404:
                code, message = "not_found", "Not found."
            else:
                code, message = "method_not_allowed", f"{request.method} is not allowed here."
            new = error_json_response(response.status_code, code, message)
            if response.has_header("Allow"):
                new["Allow"] = response["Allow"]
            return new
        return response


def _field_key(loc) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "form", "file"}:
        parts = parts[1:]
        if len(parts) > 1 and parts[0] in {"payload", "data", "body", "filters"}:
            parts = parts[1:]
    return ".".join(parts) or "body"


def refuse_unstorable_values(view_func):
    """Refuse, before the operation runs, input no database column can hold.

    Applied to every operation by ``install_input_checks``, after django-ninja validated
    the request: the values are typed then (only what a schema made an integer is checked
    as one) and carry their field names. A NUL in the path answers 404, as a path names an
    object and none has such a name; a NUL or lone surrogate in a text, or an integer
    beyond 64 bits, in a path parameter, the query, the body or a form answers 422
    ``invalid`` naming the field. See ``core.input_checks``.
    """
    @functools.wraps(view_func)
    def checked(request, *args, **kwargs):
        if NUL in request.path_info:
            raise Http404
        problems = {}
        for name, value in kwargs.items():
            # A schema parameter stands for the body (or query) itself: its fields are
            # the request's top-level names, as in django-ninja's own errors.
            problems.update(value_problems(value, () if isinstance(value, Schema) else (name,)))
        if problems:
            raise ValidationError([{"loc": ("body", *where), "msg": message}
                                   for where, message in problems.items()])
        return view_func(request, *args, **kwargs)
    return checked


def install_input_checks(api: NinjaAPI) -> None:
    """Every operation of ``api`` refuses unstorable input (``refuse_unstorable_values``)."""
    api.add_decorator(refuse_unstorable_values, mode="operation")


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(RequestDataTooBig)
    def too_large(request, exc):
        # Django raises it on the first read of a body past DATA_UPLOAD_MAX_MEMORY_SIZE
        # (files in a multipart body do not count), wherever that read happens.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return error_response(api, request, 413, "too_large",
                              f"The request body is larger than the {limit:,} bytes "
                              "accepted (files go in a multipart upload).")

    @api.exception_handler(MultiPartParserError)
    def unreadable_form(request, exc):
        # E.g. ``Content-Type: multipart/form-data`` without its boundary.
        return error_response(api, request, 400, "bad_request",
                              f"The form data cannot be read: {exc}.")

    @api.exception_handler(BadRequest)
    def bad_request(request, exc):
        return error_response(api, request, 400, "bad_request",
                              str(exc) or "The request cannot be read.")

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request, exc):
        # Django's other limits (DATA_UPLOAD_MAX_NUMBER_FIELDS, ..._FILES) and refusals;
        # logged where Django logs them, the message kept to ourselves.
        logging.getLogger(f"django.security.{exc.__class__.__name__}").warning(
            "%s: %s", request.path, exc)
        return error_response(api, request, 400, "bad_request",
                              "The request was refused as malformed or too large.")

    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        return error_response(api, request, exc.status, exc.code, exc.message, exc.fields)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        fields = {}
        for err in exc.errors:
            fields.setdefault(_field_key(err.get("loc", ())), err.get("msg", "Invalid value."))
        return error_response(api, request, 422, "invalid", "The request is not valid.", fields)

    @api.exception_handler(AuthenticationError)
    def authentication_error(request, exc):
        return error_response(api, request, 401, "unauthenticated",
                              "Log in or send a valid personal access token.")

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        codes = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 413: "too_large",
                 429: "rate_limited"}
        return error_response(api, request, exc.status_code,
                              codes.get(exc.status_code, "error"), str(exc))

    @api.exception_handler(StoredFileMissing)
    def file_missing(request, exc: StoredFileMissing):
        # A stored file's bytes are gone (core.files.open_stored): 404 saying so, not a 500.
        return error_response(api, request, 404, "file_missing", exc.message)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return error_response(api, request, 404, "not_found", "Not found.")

    @api.exception_handler(PermissionDenied)
    def permission_denied(request, exc):
        return error_response(api, request, 403, "forbidden", str(exc) or "Not allowed.")

    @api.exception_handler(Exception)
    def unexpected(request, exc):
        logger.exception("Unhandled API error")
        return error_response(api, request, 500, "server_error",
                              "Something went wrong on our side; nothing was changed.")
