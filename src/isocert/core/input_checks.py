"""Values no database column can hold, refused with a 4xx before any code stores them.

Three kinds of value pass every type check and fail only when the database driver sees
them, so a request carrying one ended in a server error (issue #13):

* a NUL character: PostgreSQL text cannot hold it (``DataError``). SQLite stores it, so the
  same request worked on one database and failed on the other; it is refused on both.
* a lone surrogate (JSON's ``"\\ud800"``): not Unicode, so neither driver can encode it
  (``UnicodeEncodeError``).
* an integer outside the signed 64 bits that SQLite's INTEGER and PostgreSQL's bigint
  hold (``OverflowError`` on SQLite).

The API checks the values django-ninja has validated (``core.api.refuse_unstorable_values``:
the field is named, and only a value parsed as an integer counts as one); the HTML pages
are guarded by ``UnstorableInputMiddleware`` below.
"""

from collections import deque

from django.core.exceptions import BadRequest
from django.http import Http404
from pydantic import BaseModel

INTEGER_MIN, INTEGER_MAX = -(2**63), 2**63 - 1
NUL = "\x00"
API_PREFIX = "/api/"


def text_problem(text: str) -> str | None:
    """Why this text cannot be stored, or ``None`` when it can."""
    if NUL in text:
        return "Text cannot contain the NUL character (\\u0000)."
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "Text must be valid Unicode; a lone surrogate such as \\ud800 is not."
    return None


def value_problems(value, where: tuple = ()) -> dict[tuple, str]:
    """Each value inside ``value`` that no column can hold, keyed by its path from ``where``.

    Looks into schemas (pydantic models), dicts (keys too), lists, tuples and sets; other
    objects (dates, decimals, booleans, uploaded files) are storable. Django already drops
    unprintable characters, NUL included, from the names of uploaded files.
    """
    problems: dict[tuple, str] = {}
    pending = deque([(where, value)])
    while pending:
        path, item = pending.popleft()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                problems[path] = problem
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not INTEGER_MIN <= item <= INTEGER_MAX:
                problems[path] = f"Enter a whole number from {INTEGER_MIN} to {INTEGER_MAX}."
        elif isinstance(item, BaseModel):
            pending.extend((path + (name,), field) for name, field in item)
        elif isinstance(item, dict):
            for key, field in item.items():
                if isinstance(key, str) and text_problem(key):
                    problems[path + (key,)] = text_problem(key)
                pending.append((path + (key,), field))
        elif isinstance(item, (list, tuple, set, frozenset)):
            pending.extend((path + (index,), field) for index, field in enumerate(item))
    return problems


class UnstorableInputMiddleware:
    """HTML pages: a NUL in the path answers 404 (no page has such an address), a NUL in a
    query or form value, a form field's name, a file name or a cookie answers 400.

    Django's form ``CharField`` refuses NUL itself, but a page may read a value another way
    (a choice looked up in the database, ``request.GET.get``), and on PostgreSQL any such
    lookup was a server error. Form bodies are read here as Django's CSRF check reads them
    anyway; a body Django cannot read (no multipart boundary, too large) raises Django's own
    exception, which it answers with 400. The API (``/api/``) is left to django-ninja, which
    answers in the API's error shape and names the field (``core.api``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIX):
            self.check(request)
        return self.get_response(request)

    @staticmethod
    def check(request) -> None:
        if NUL in request.path_info:
            raise Http404("No page has this address.")
        texts = [("query", _pairs(request.GET)), ("cookie", request.COOKIES.items())]
        if request.method == "POST":
            # An uploaded file's field name is the client's; its file name Django cleaned.
            texts += [("form", _pairs(request.POST)),
                      ("file", ((name, "") for name in request.FILES))]
        for source, pairs in texts:
            for name, value in pairs:
                problem = text_problem(name) or text_problem(value)
                if problem:
                    raise BadRequest(f"Refused {source} field {name!r}: {problem}")


def _pairs(values):
    """(name, value) for every value of a ``QueryDict``, repeated names included."""
    return ((name, value) for name, many in values.lists() for value in many)
