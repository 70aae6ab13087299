"""One log line per request, a request id on every answer and in every log record.

``RequestLogMiddleware`` (first in ``MIDDLEWARE``) takes the request id from an incoming
``X-Request-ID`` header when it is a plain token (a proxy's or load balancer's id; at most
64 letters, digits and ``.-_:``), else makes one; it answers it in ``X-Request-ID`` and
keeps it in a context variable for the duration of the request, so ``RequestIdFilter``
puts it on every log record — the error e-mails to ``ADMINS`` included (settings.LOGGING
gives their text a "Request ID" line). After the answer it logs, on ``isocert.request``:
request id, user id, method, route (the URL pattern, not the path: no ids or tokens),
status and duration (and counts it for ``/metrics``, core/metrics.py). ``LOG_FORMAT=json`` writes each record as one JSON object
(``JsonFormatter``), ``text`` (the default) as ``key=value`` words.
"""

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from .metrics import record_request

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("isocert_request_id",
                                                                  default="-")
logger = logging.getLogger("isocert.request")


def current_request_id() -> str:
    """The id of the request being answered in this thread/task, ``-`` outside one."""
    return _request_id.get()


def route_of(request) -> str:
    """The URL pattern that answered (``certificates/revisions/<int:pk>/pdf/``), ``-`` if
    none did: a label of bounded cardinality for logs and metrics."""
    match = getattr(request, "resolver_match", None)
    return (match.route or "-") if match is not None else "-"


def user_id_of(request) -> int | None:
    """The signed-in user's id, read only if the request already loaded its user (a session
    or an API token): logging never costs a database query."""
    auth = getattr(request, "auth", None)     # django-ninja's authenticated user
    if getattr(auth, "is_authenticated", False):
        return auth.pk
    user = getattr(request, "_cached_user", None)   # set once request.user was read
    if getattr(user, "is_authenticated", False):
        return user.pk
    return None


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            seconds = time.perf_counter() - started
            route = route_of(request)
            record_request(method=request.method, route=route, status=response.status_code,
                           seconds=seconds)
            logger.info(
                "request", extra={
                    "user_id": user_id_of(request), "method": request.method,
                    "route": route, "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1)})
            return response
        finally:
            _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Gives every record ``request_id`` (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


# Attributes every LogRecord has: the rest came in ``extra=`` and go into the line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "request_id", "request", "status_code", "taskName"}


def _extras(record: logging.LogRecord) -> dict:
    return {key: value for key, value in vars(record).items() if key not in _STANDARD}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, the ``extra``
    fields, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            **_extras(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time level logger [request id] message key=value ...``."""

    def format(self, record: logging.LogRecord) -> str:
        words = " ".join(f"{key}={value}" for key, value in _extras(record).items())
        line = (f"{self.formatTime(record)} {record.levelname} {record.name} "
                f"[{getattr(record, 'request_id', '-')}] {record.getMessage()}")
        line = f"{line} {words}" if words else line
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line
