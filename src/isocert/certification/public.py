"""The public side of the registry: verification of one certificate and the directory.

Nothing here knows who asks. Verification reads one certificate by its printed number or
its QR code's ``public_code`` (confidential ones too: a holder may prove its own
certificate); the directory lists what is not confidential.

Three design choices, each for the load the public side gets:

* **Lookup counting without a write per request.** ``record_lookup`` adds to a counter in
  this process; ``flush_lookup_counts`` turns the counters into a few
  ``UPDATE ... SET lookups = lookups + n`` statements, at most every
  ``LOOKUP_FLUSH_SECONDS`` or ``LOOKUP_FLUSH_AT`` lookups (in a background thread, so no
  request waits for it), and when the process exits.
  The trade-off: a worker that crashes (or is killed) loses its unflushed counts — at most
  ten seconds' worth (flushing every 1,000 lookups tripled the API's p99 on PostgreSQL). The counts are statistics, not records, so that is accepted. Only
  the certificate's id is kept: no address, no user, no time of the lookup.
* **Typo-tolerant search by correcting words.** ``NameWord`` holds every word of every
  name (kept by database triggers, migration ``0003_name_words``); each process keeps it in
  memory (``Vocabulary``, topped up with new words before each search). A query word that
  is no word of any name is replaced by the words one edit away (a letter dropped, added,
  changed, or two swapped — Norvig's corrector), and the corrected text is searched like
  the typed one. Names containing the words as typed come first, then names containing a
  corrected spelling. Each query word is expanded to the vocabulary's words containing it
  and looked up in a word index: SQLite's FTS5 word table (migration
  ``0004_word_search``), PostgreSQL's GIN index over ``to_tsvector('simple', name_key)``
  (``0005_postgres_word_index``). A query word found in no name skips the search as typed.
  (Scoring trigram similarity over candidate names was used first: at 1,000,000 names it
  cost 10–20 ms a search, and still missed one-letter typos in short words.)
* **Bounded counts.** A directory listing never counts past ``COUNT_CAP`` rows and a
  search never ranks more than ``SEARCH_CAP`` names; larger results say ``count_capped``
  and page through those only (narrowing the search is the way on). Counts and the ranked
  ids of a search are kept for ``SEARCH_CACHE_SECONDS`` in the process-local cache, so
  turning pages does not repeat the search.
"""

import atexit
import contextlib
import datetime
import hashlib
import itertools
import json
import math
import re
import threading
import time
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import connection, connections, transaction
from django.db.models import F

from isocert.core.errors import InvalidInput

from .models import Certificate

PAGE_SIZE = 20
COUNT_CAP = 10_000
# A search ranks at most this many names (50 pages); more containing the text: capped.
SEARCH_CAP = 1_000
# Spellings tried per misspelt word, and corrected searches per query.
CORRECTIONS_PER_WORD = 3
CORRECTED_SEARCHES = 4
# SQLite: a query word stands for at most this many words of names containing it.
EXPANSIONS = 50
SEARCH_CACHE_SECONDS = 60
LOOKUP_FLUSH_SECONDS = 10.0
LOOKUP_FLUSH_AT = 50_000
FLUSH_IN_BACKGROUND = True
FTS_TABLE = "certification_certificate_fts"
STATUSES = [s.value for s in Certificate.Status]


# --- normalisation ------------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")


def name_key(text: str) -> str:
    """Lower-case, accent-free, single-spaced: the form names are searched and sorted in.

    ``"Nordlicht Énergie  GmbH"`` → ``"nordlicht energie gmbh"``; ``ß`` becomes ``ss``.
    The importer and the issuing service store it in ``Certificate.name_key``.
    """
    text = text or ""
    if text.isascii():  # most names; the same result, several times faster (bulk imports)
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACE.sub(" ", stripped.casefold()).strip()


# --- one certificate ----------------------------------------------------------------------------

class _Rows(list):
    """A list that answers ``.all()`` like the related manager it stands in for."""

    def all(self):
        return self


@dataclass
class _Site:
    name: str
    address: str
    city: str
    postcode: str
    country: str
    scope: str


@dataclass
class _StatusChange:
    status: str
    date: datetime.date
    reason: str


@dataclass
class PublicCertificate:
    """The public fields of one certificate, read without the ORM (the hot path).

    Attribute-compatible with ``Certificate`` for everything the public side uses, so
    ``public_certificate_dict`` and the templates take either.
    """

    id: int
    number: str
    public_code: str
    status: str
    organization_name: str
    organization_country: str
    standards: list
    scope: str
    original_issue_date: datetime.date
    issue_date: datetime.date
    expiry_date: datetime.date
    revision: int
    confidential: bool
    sites: _Rows
    status_history: _Rows

    @property
    def standard_labels(self) -> list[str]:
        return [f"{s['code']}:{s['edition']}" for s in self.standards]


def _date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


_COLUMNS = ("id, number, public_code, status, organization_name, organization_country, "
            "standards, scope, original_issue_date, issue_date, expiry_date, revision, "
            "confidential")
_CERTIFICATE_SQL = (
    f"SELECT {_COLUMNS} FROM certification_certificate WHERE number = %s "  # noqa: S608
    f"UNION ALL SELECT {_COLUMNS} FROM certification_certificate "
    "WHERE public_code = %s AND number <> %s")


# PostgreSQL: the certificate with its sites and history as JSON arrays, in one statement
# (three round trips to the server cost more than the three lookups themselves).
_PG_CERTIFICATE_SQL = (
    "SELECT c.*, (SELECT coalesce(json_agg(json_build_array(s.name, s.address, s.city, "  # noqa: S608
    "s.postcode, s.country, s.scope) ORDER BY s.position, s.id), '[]') "
    "FROM certification_certificatesite s WHERE s.certificate_id = c.id), "
    "(SELECT coalesce(json_agg(json_build_array(h.status, h.date, h.reason) "
    "ORDER BY h.date, h.id), '[]') FROM certification_certificatestatuschange h "
    f"WHERE h.certificate_id = c.id) FROM ({_CERTIFICATE_SQL} LIMIT 1) c")


def _driver_cursor():
    """A cursor of the database driver itself (sqlite3, psycopg), not Django's wrapper.

    On PostgreSQL a server-side-binding ``psycopg.Cursor`` (Django's own cursors bind on
    the client): the same few statements, sent again and again, are then prepared once per
    connection (psycopg prepares a query from its fifth run) instead of parsed and planned
    by the server on every verification.
    """
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        import psycopg

        return psycopg.Cursor(connection.connection)
    return connection.connection.cursor()


def _mark() -> str:
    return "?" if connection.vendor == "sqlite" else "%s"


def certificate_for_public(number_or_code: str) -> PublicCertificate | None:
    """The certificate printed with this number or carrying this QR code, confidential or not.

    Three small indexed queries — the certificate (unique indexes on ``number`` and
    ``public_code``), its sites, its status history; the standards are a column — in plain
    SQL on the database driver's own cursor: building the same queries with the ORM, or
    even passing them through Django's cursor wrapper, cost more CPU than running them,
    and this is the most requested read of the portal. Read-only and in autocommit, so
    nothing of Django's transaction handling is bypassed. ``None`` when there is none.
    """
    value = (number_or_code or "").strip()
    # No number or code holds a NUL, and PostgreSQL refuses one in a query.
    if not value or len(value) > 60 or "\x00" in value:
        return None
    cursor = _driver_cursor()
    try:
        if connection.vendor == "postgresql":  # one round trip: see ``_PG_CERTIFICATE_SQL``
            cursor.execute(_PG_CERTIFICATE_SQL, (value, value, value))
            row = cursor.fetchone()
            if row is None:
                return None
            return _certificate(row, _Rows(_Site(*site) for site in row[13]), _Rows(
                _StatusChange(status, _date(day), reason) for status, day, reason in row[14]))
        cursor.execute(_CERTIFICATE_SQL.replace("%s", _mark()), (value, value, value))
        row = cursor.fetchone()
        return _with_details(cursor, [row])[0] if row else None
    finally:
        cursor.close()


def public_certificates(ids: list[int]) -> list[PublicCertificate]:
    """These certificates, in this order (a directory page): three queries, as above."""
    if not ids:
        return []
    marks = ", ".join([_mark()] * len(ids))
    cursor = _driver_cursor()
    try:
        cursor.execute(f"SELECT {_COLUMNS} FROM certification_certificate "  # noqa: S608
                       f"WHERE id IN ({marks})", list(ids))
        found = {c.id: c for c in _with_details(cursor, cursor.fetchall())}
    finally:
        cursor.close()
    return [found[i] for i in ids if i in found]


def _with_details(cursor, rows: list[tuple]) -> list[PublicCertificate]:
    """Certificates from rows of ``_COLUMNS``, with their sites and status history."""
    marks = ", ".join([_mark()] * len(rows))
    ids = [row[0] for row in rows]
    sites: dict[int, _Rows] = {i: _Rows() for i in ids}
    history: dict[int, _Rows] = {i: _Rows() for i in ids}
    cursor.execute("SELECT certificate_id, name, address, city, postcode, country, scope "  # noqa: S608
                   f"FROM certification_certificatesite WHERE certificate_id IN ({marks}) "
                   "ORDER BY certificate_id, position, id", ids)
    for cid, *site in cursor.fetchall():
        sites[cid].append(_Site(*site))
    cursor.execute("SELECT certificate_id, status, date, reason "  # noqa: S608
                   "FROM certification_certificatestatuschange "
                   f"WHERE certificate_id IN ({marks}) ORDER BY certificate_id, date, id", ids)
    for cid, status, day, reason in cursor.fetchall():
        history[cid].append(_StatusChange(status, _date(day), reason))
    return [_certificate(row, sites[row[0]], history[row[0]]) for row in rows]


def _certificate(row: tuple, sites: _Rows, history: _Rows) -> PublicCertificate:
    """A ``PublicCertificate`` from a row of ``_COLUMNS``."""
    return PublicCertificate(
        id=row[0], number=row[1], public_code=row[2], status=row[3], organization_name=row[4],
        organization_country=row[5],
        standards=row[6] if isinstance(row[6], list) else json.loads(row[6]), scope=row[7],
        original_issue_date=_date(row[8]), issue_date=_date(row[9]),
        expiry_date=_date(row[10]), revision=row[11], confidential=bool(row[12]),
        sites=sites, status_history=history)


def public_certificate_dict(certificate: Certificate) -> dict:
    """The public record of one certificate: the fields of the verification API.

    Takes a ``Certificate`` (sites and history prefetched, or not) or a
    ``PublicCertificate``.
    """
    return {
        "certificate_number": certificate.number,
        "status": certificate.status,
        "organization": {"name": certificate.organization_name,
                         "country": certificate.organization_country},
        "standards": [{"code": s["code"], "edition": s["edition"]}
                      for s in certificate.standards],
        "scope": certificate.scope,
        "sites": [
            {"name": s.name, "address": s.address, "city": s.city, "postcode": s.postcode,
             "country": s.country, "scope": s.scope}
            for s in certificate.sites.all()
        ],
        "original_issue_date": certificate.original_issue_date.isoformat(),
        "issue_date": certificate.issue_date.isoformat(),
        "expiry_date": certificate.expiry_date.isoformat(),
        "certification_body": {"name": settings.CB_NAME},
        "revision": certificate.revision,
        "status_history": [
            {"status": h.status, "date": h.date.isoformat(),
             **({"reason": h.reason} if h.reason else {})}
            for h in certificate.status_history.all()
        ],
    }


# --- lookup counting ----------------------------------------------------------------------------

class _LookupCounter:
    """Lookups per certificate id, in this process, until the next flush."""

    def __init__(self):
        self.lock = threading.Lock()
        self.flushing = threading.Lock()  # held while a background flush runs
        self.pending: dict[int, int] = {}
        self.total = 0
        self.last_flush = time.monotonic()

    def add(self, certificate_id: int) -> bool:
        """Count one lookup; True when it is time to flush."""
        with self.lock:
            self.pending[certificate_id] = self.pending.get(certificate_id, 0) + 1
            self.total += 1
            return (self.total >= LOOKUP_FLUSH_AT
                    or time.monotonic() - self.last_flush >= LOOKUP_FLUSH_SECONDS)

    def take(self) -> dict[int, int]:
        with self.lock:
            pending, self.pending, self.total = self.pending, {}, 0
            self.last_flush = time.monotonic()
            return pending


_counter = _LookupCounter()


def record_lookup(certificate_id: int) -> None:
    """Count one public verification of this certificate; who looked is not kept.

    When a flush is due it runs in a thread of its own (``FLUSH_IN_BACKGROUND``): writing
    a thousand counters takes tens of milliseconds (random pages of a large table), which
    the request that happened to be the thousandth should not wait for.
    """
    if _counter.add(certificate_id):
        if FLUSH_IN_BACKGROUND:
            _flush_in_background()
        else:
            flush_lookup_counts()


def _flush_in_background() -> None:
    if not _counter.flushing.acquire(blocking=False):
        return  # one is running; the next due lookup starts another

    def run():
        try:
            flush_lookup_counts()
        finally:
            connections.close_all()  # this thread's own connections
            _counter.flushing.release()

    threading.Thread(target=run, name="lookup-flush", daemon=True).start()


def wait_for_background_flush(timeout: float = 10.0) -> None:
    """Return when no background flush is running (tests, shutdown)."""
    if _counter.flushing.acquire(timeout=timeout):
        _counter.flushing.release()


def pending_lookup_counts() -> dict[int, int]:
    """What this process has counted since its last flush (for tests and diagnostics)."""
    with _counter.lock:
        return dict(_counter.pending)


def flush_lookup_counts() -> int:
    """Write this process's counts: one ``lookups = lookups + n`` per certificate.

    Certificates with the same count share a statement (``WHERE id IN (...)``), so a flush
    after a burst of single lookups is a handful of statements. Returns how many lookups
    were written. On a database error the counts are dropped rather than retried: a
    statistic must not hold up verification.
    """
    pending = _counter.take()
    if not pending:
        return 0
    by_count: dict[int, list[int]] = {}
    for certificate_id, n in pending.items():
        by_count.setdefault(n, []).append(certificate_id)
    try:
        with transaction.atomic():
            for n, ids in by_count.items():
                for start in range(0, len(ids), 500):
                    Certificate.objects.filter(pk__in=ids[start:start + 500]).update(
                        lookups=F("lookups") + n)
    except Exception:  # noqa: BLE001 — see the docstring
        import logging

        logging.getLogger(__name__).exception("Could not write %d lookup counts",
                                              sum(pending.values()))
        return 0
    return sum(pending.values())


def _flush_at_exit():
    # The process is ending: nothing is left to tell about a failure.
    with contextlib.suppress(Exception):
        wait_for_background_flush()
        flush_lookup_counts()


atexit.register(_flush_at_exit)


# --- the directory ------------------------------------------------------------------------------

@dataclass
class DirectoryPage:
    items: list[Certificate]
    count: int
    page: int
    pages: int
    count_capped: bool


def _cache():
    return caches["public_search"]


def validate_directory_filters(q: str | None, standard: str | None, country: str | None,
                               status: str | None, page) -> dict:
    """Clean the directory's filters, or raise ``InvalidInput`` naming each bad field."""
    errors = {}
    q = (q or "").strip()
    if len(q) > 100:
        errors["q"] = "Search for at most 100 characters."
    standard = (standard or "").strip()
    if len(standard) > 30:
        errors["standard"] = "Not a standard's code."
    country = (country or "").strip().upper()
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        errors["country"] = "Give the two-letter country code (ISO 3166-1), e.g. DE."
    status = (status or "").strip()
    if status:
        match = {s.lower(): s for s in STATUSES}.get(status.lower())
        if match is None:
            errors["status"] = f"Choose one of {', '.join(STATUSES)}."
        status = match or status
    if page in (None, ""):
        page = 1
    try:
        page = int(page)
    except (TypeError, ValueError):
        errors["page"] = "A page number is a whole number."
        page = 1
    if page < 1:
        errors["page"] = "Pages start at 1."
    if errors:
        raise InvalidInput("The search is not valid: " + "; ".join(
            f"{k}: {v}" for k, v in errors.items()), fields=errors)
    return {"q": q, "standard": standard, "country": country, "status": status, "page": page}


def search_directory(q: str | None = None, standard: str | None = None,
                     country: str | None = None, status: str | None = None,
                     page=1) -> DirectoryPage:
    """One page (``PAGE_SIZE``) of the public directory, confidential certificates left out.

    Without ``q`` in name order; with ``q`` names containing it first (in name order), then
    the names most like it. Raises ``InvalidInput`` for a bad filter or a page past the last.
    """
    f = validate_directory_filters(q, standard, country, status, page)
    key = name_key(f["q"])
    where, params = _filter_sql(f["standard"], f["country"], f["status"])
    cache_key = "directory:" + hashlib.sha256("\x1f".join(
        [key, f["standard"], f["country"], f["status"], connection.vendor]).encode()).hexdigest()
    found = _cache().get(cache_key)
    if found is None:
        found = _ranked_ids(key, where, params) if key else _bounded_count(where, params)
        _cache().set(cache_key, found, SEARCH_CACHE_SECONDS)
    if key:
        ids, capped = found
        count = len(ids)
    else:
        count, capped = found
    pages = max(1, math.ceil(count / PAGE_SIZE))
    if f["page"] > pages:
        raise InvalidInput(f"There {'is' if pages == 1 else 'are'} only {pages} "
                           f"page{'' if pages == 1 else 's'}.",
                           fields={"page": f"The last page is {pages}."})
    start = (f["page"] - 1) * PAGE_SIZE
    page_ids = ids[start:start + PAGE_SIZE] if key else _listing_ids(where, params, start)
    items = public_certificates(page_ids)
    return DirectoryPage(items=items, count=count, page=f["page"], pages=pages,
                         count_capped=capped)


def _filter_sql(standard: str, country: str, status: str) -> tuple[str, list]:
    """The directory's filters as SQL over ``certification_certificate c``."""
    clauses, params = ["c.confidential = %s"], [False]
    if status:
        clauses.append("c.status = %s")
        params.append(status)
    if country:
        clauses.append("c.organization_country = %s")
        params.append(country)
    if standard:
        clauses.append("EXISTS (SELECT 1 FROM certification_certificatestandard s "
                       "WHERE s.certificate_id = c.id AND s.code = %s)")
        params.append(standard)
    return " AND ".join(clauses), params


def _bounded_count(where: str, params: list) -> tuple[int, bool]:
    """How many match, counting no further than ``COUNT_CAP`` + 1."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM certification_certificate c "  # noqa: S608
            f"WHERE {where} LIMIT %s) t", [*params, COUNT_CAP + 1])
        found = cursor.fetchone()[0]
    return min(found, COUNT_CAP), found > COUNT_CAP


def _listing_ids(where: str, params: list, offset: int) -> list[int]:
    """One page of the filtered directory in name order (see ``_name_index_first``)."""
    return [row[0] for row in _rows(
        f"SELECT c.id FROM certification_certificate c WHERE {_name_index_first(where)} "  # noqa: S608
        "ORDER BY c.name_key, c.number LIMIT %s OFFSET %s", [*params, PAGE_SIZE, offset])]


def _ranked_ids(key: str, where: str, params: list) -> tuple[list[int], bool]:
    """Ids matching ``key``: names starting with it, then names containing its words, then
    names containing a corrected spelling of them (each group in name order).

    At most ``SEARCH_CAP`` ids; ``capped`` when more names match ``key`` as typed (then only
    those are given: corrected spellings would come after them anyway).
    """
    vocabulary = VOCABULARY.refreshed()
    words = key.split()
    exact = _matching(key, where, params) if all(map(vocabulary.occurs, words)) else []
    capped = len(exact) > SEARCH_CAP
    ids = exact[:SEARCH_CAP]
    if capped:
        return ids, True
    seen = set(ids)
    for corrected in vocabulary.corrected_texts(words)[:CORRECTED_SEARCHES]:
        for cid in _matching(corrected, where, params):
            if cid not in seen and len(ids) < SEARCH_CAP:
                seen.add(cid)
                ids.append(cid)
    return ids, False


def _matching(key: str, where: str, params: list) -> list[int]:
    """Names containing each word of ``key``, those starting with it first, at most
    ``SEARCH_CAP`` + 1; a text of one or two letters: names starting with it.

    Without ORDER BY the database stops at the cap instead of sorting every match first (a
    common word is in tens of thousands of names); past the cap the first found are shown,
    which ``count_capped`` says. (Reading names starting with the text from the name index
    first was tried: the word index's rows come in table order, and were faster.)
    """
    if len(key) < 3:
        return [row[0] for row in _rows(
            f"SELECT c.id FROM certification_certificate c "  # noqa: S608
            f"WHERE {_name_index_first(where)} AND c.name_key >= %s AND c.name_key < %s "
            f"ORDER BY c.name_key, c.number LIMIT %s",
            [*params, key, key + "\uffff", SEARCH_CAP + 1])]
    if connection.vendor == "sqlite":  # FTS5 word index: see ``_fts_query``
        match = _fts_query(key)
        if not match:
            return []
        rows = _rows(f"SELECT c.id, c.name_key, c.number FROM {FTS_TABLE} f "  # noqa: S608
                     f"JOIN certification_certificate c ON c.id = f.rowid "
                     f"WHERE f.{FTS_TABLE} MATCH %s AND {where} LIMIT %s",
                     [match, *params, SEARCH_CAP + 1])
    else:  # PostgreSQL: the GIN index of the names' words (``_tsquery``)
        query, words = _tsquery(key)
        if not query:
            return []
        rows = _rows(f"SELECT c.id, c.name_key, c.number FROM certification_certificate c "  # noqa: S608
                     f"WHERE {where} AND to_tsvector('simple', c.name_key) @@ ({query}) "
                     f"LIMIT %s", [*params, *words, SEARCH_CAP + 1])
    rows.sort(key=lambda r: (not r[1].startswith(key), r[1], r[2]))
    return [row[0] for row in rows]


def _rows(sql: str, args: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, args)  # the filters are fixed SQL with parameters
        return cursor.fetchall()


def _name_index_first(where: str) -> str:
    """SQLite would pick the country or status index and sort every match (100,000 rows
    for a big country); walking the name index and filtering as it goes finds a page after
    a few hundred rows, so there the filter columns are kept away from their indexes."""
    if connection.vendor != "sqlite":
        return where
    return where.replace("c.status =", "+c.status =").replace(
        "c.organization_country =", "+c.organization_country =")


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _word_groups(key: str) -> list[tuple[list[str], bool]]:
    """What a word index is asked for names containing every word of ``key``: per word,
    the words of names that contain it (``"licht"`` → ``nordlicht``, ``sonnenlicht``), or
    — for a word in more than ``EXPANSIONS`` of them, or shorter than three letters — the
    word itself as a prefix (``(["ab"], True)``). Words without a letter or digit cannot
    be searched in a word index and are left out."""
    groups = []
    for word in key.split():
        if not any(ch.isalnum() for ch in word):
            continue
        found = VOCABULARY.containing(word) if len(word) >= 3 else None
        groups.append((found, False) if found else ([word], True))
    return groups


def _fts_query(key: str) -> str:
    """SQLite: ``_word_groups`` as an FTS5 query (``("nordlicht" OR "sonnenlicht")``)."""
    return " AND ".join(
        "(" + " OR ".join(_fts_phrase(w) + ("*" if prefix else "") for w in words) + ")"
        for words, prefix in _word_groups(key))


def _tsquery(key: str) -> tuple[str, list[str]]:
    """PostgreSQL: ``_word_groups`` as a ``tsquery`` expression and its parameters
    (``phraseto_tsquery`` per word: "d'aluminium" is the phrase "d" "aluminium")."""
    parts, params = [], []
    for words, prefix in _word_groups(key):
        if prefix and words[0].isalnum():
            parts.append("to_tsquery('simple', %s)")
            params.append(words[0] + ":*")
        else:
            parts.append("(" + " || ".join(["phraseto_tsquery('simple', %s)"] * len(words)) + ")")
            params.extend(words)
    return " && ".join(parts), params


# --- the vocabulary -----------------------------------------------------------------------------

class Vocabulary:
    """The words of all names (``NameWord``), in this process's memory.

    ``refreshed()`` asks the database for the highest word id (one index lookup) and
    fetches only the words added since; a lower highest id than known (a rolled-back test
    database) reloads everything.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.words: set[str] = set()
        self.text = "\n"           # every word between newlines: substring tests in C
        self.letters: str = ""
        self.last_id = 0

    def refreshed(self) -> "Vocabulary":
        with connection.cursor() as cursor:
            cursor.execute("SELECT max(id) FROM certification_nameword")
            top = cursor.fetchone()[0] or 0
            if top == self.last_id:
                return self
            with self.lock:
                if top < self.last_id:
                    self.clear()
                cursor.execute("SELECT id, word FROM certification_nameword WHERE id > %s",
                               [self.last_id])
                rows = cursor.fetchall()
                new = [word for _, word in rows if word not in self.words]
                self.words.update(new)
                self.text += "\n".join(new) + "\n" if new else ""
                self.letters = "".join(sorted(set(self.letters).union(*new)))
                self.last_id = max([top, *(i for i, _ in rows)])
        return self

    def containing(self, word: str) -> list[str] | None:
        """The words that contain ``word``; ``None`` when more than ``EXPANSIONS`` do."""
        text, found, start = self.text, [], 0
        while (at := text.find(word, start)) != -1:
            begin, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
            found.append(text[begin:end])
            if len(found) > EXPANSIONS:
                return None
            start = end
        return found

    def occurs(self, word: str) -> bool:
        """Whether ``word`` is part of some name's word (else no name can contain it)."""
        return word in self.text

    def corrections(self, word: str) -> list[str]:
        """Words one edit away from ``word`` (deleted, swapped, changed or added letter),
        best first: same length, then shorter, then longer; ``[]`` for a known word, a
        short one (< 4 letters) or one that is not all letters."""
        if word in self.words or len(word) < 4 or not word.isalpha():
            return []
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        changed = {a + c + b[1:] for a, b in splits if b for c in self.letters}
        deleted = {a + b[1:] for a, b in splits if b}
        added = {a + c + b for a, b in splits for c in self.letters}
        found = []
        for group in (swapped, changed, deleted, added):
            found.extend(sorted((group & self.words) - set(found)))
        return found

    def corrected_texts(self, words: list[str]) -> list[str]:
        """The query with misspelt words corrected: every combination of each word's
        first ``CORRECTIONS_PER_WORD`` corrections (words without any stay as typed)."""
        options = [self.corrections(w)[:CORRECTIONS_PER_WORD] or [w] for w in words]
        texts = [" ".join(combination) for combination in itertools.product(*options)]
        typed = " ".join(words)
        return [t for t in texts if t != typed]


VOCABULARY = Vocabulary()
