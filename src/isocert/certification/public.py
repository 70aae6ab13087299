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
  a few seconds' worth. The counts are statistics, not records, so that is accepted. Only
  the certificate's id is kept: no address, no user, no time of the lookup.
* **Typo-tolerant search per database** (migration ``0002_search_index``): PostgreSQL's
  ``pg_trgm`` word similarity over a GIN index; SQLite's FTS5 ``trigram`` table, asked for
  names holding a typo-proof half of each query word, then scored like ``pg_trgm`` does
  (OR-ing single trigrams ranked by bm25 was tried first: at 1,000,000 names it ranks
  hundreds of thousands of rows sharing a common trigram per search). Names containing
  the query as typed come first, then the closest names.
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
from django.db.models import F, Prefetch

from isocert.core.errors import InvalidInput

from .models import Certificate, CertificateSite, CertificateStatusChange

PAGE_SIZE = 20
COUNT_CAP = 10_000
# A search ranks at most this many names (50 pages); more containing the text: capped.
SEARCH_CAP = 1_000
# Candidates for similar names that are scored (SQLite: those sharing a typo-proof half of
# the query's words; PostgreSQL: the first found by the index), and similar names kept.
SIMILAR_CANDIDATES = 600
SIMILAR_LIMIT = 200
# pg_trgm's word similarity (share of the query's trigrams found in the closest part of the
# name; its default threshold); SQLite scores the same way in Python. One wrong letter in an
# eight-letter word passes ("Nordlict" → "Nordlicht" scores 0.78), unrelated names do not.
SIMILARITY_THRESHOLD = 0.6  # PostgreSQL: pg_trgm.word_similarity_threshold's default
SEARCH_CACHE_SECONDS = 60
LOOKUP_FLUSH_SECONDS = 5.0
LOOKUP_FLUSH_AT = 1_000
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


_CERTIFICATE_SQL = (
    "SELECT id, number, public_code, status, organization_name, organization_country, "
    "standards, scope, original_issue_date, issue_date, expiry_date, revision, "
    "confidential FROM certification_certificate WHERE number = %s "
    "UNION ALL SELECT id, number, public_code, status, organization_name, "
    "organization_country, standards, scope, original_issue_date, issue_date, "
    "expiry_date, revision, confidential FROM certification_certificate "
    "WHERE public_code = %s AND number <> %s")
_SITES_SQL = ("SELECT name, address, city, postcode, country, scope "
              "FROM certification_certificatesite WHERE certificate_id = %s "
              "ORDER BY position, id")
_HISTORY_SQL = ("SELECT status, date, reason FROM certification_certificatestatuschange "
                "WHERE certificate_id = %s ORDER BY date, id")


def _driver_cursor():
    """A cursor of the database driver itself (sqlite3, psycopg), not Django's wrapper."""
    connection.ensure_connection()
    return connection.connection.cursor()


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
    if not value or len(value) > 60:
        return None
    mark = "?" if connection.vendor == "sqlite" else "%s"
    cursor = _driver_cursor()
    try:
        cursor.execute(_CERTIFICATE_SQL.replace("%s", mark), (value, value, value))
        row = cursor.fetchone()
        if row is None:
            return None
        cursor.execute(_SITES_SQL.replace("%s", mark), (row[0],))
        sites = _Rows(_Site(*site) for site in cursor.fetchall())
        cursor.execute(_HISTORY_SQL.replace("%s", mark), (row[0],))
        history = _Rows(_StatusChange(s, _date(d), r) for s, d, r in cursor.fetchall())
    finally:
        cursor.close()
    standards = row[6] if isinstance(row[6], list) else json.loads(row[6])
    return PublicCertificate(
        id=row[0], number=row[1], public_code=row[2], status=row[3], organization_name=row[4],
        organization_country=row[5], standards=standards, scope=row[7],
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
    return caches["throttle"]


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
    rows = {c.id: c for c in _with_details(Certificate.objects.filter(pk__in=page_ids))}
    items = [rows[i] for i in page_ids if i in rows]
    return DirectoryPage(items=items, count=count, page=f["page"], pages=pages,
                         count_capped=capped)


def _with_details(qs):
    return qs.prefetch_related(
        Prefetch("sites", queryset=CertificateSite.objects.order_by("position", "pk")),
        Prefetch("status_history",
                 queryset=CertificateStatusChange.objects.order_by("date", "pk")),
    )


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
    """One page of the filtered directory in name order.

    SQLite would pick the country or status index and sort every match (100,000 rows for
    a big country); walking the name index and filtering as it goes finds a page after a
    few hundred rows, so there the filter columns are kept away from their indexes (``+``).
    """
    if connection.vendor == "sqlite":
        where = where.replace("c.status =", "+c.status =").replace(
            "c.organization_country =", "+c.organization_country =")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id FROM certification_certificate c WHERE {where} "  # noqa: S608
            "ORDER BY c.name_key, c.number LIMIT %s OFFSET %s", [*params, PAGE_SIZE, offset])
        return [row[0] for row in cursor.fetchall()]


def _ranked_ids(key: str, where: str, params: list) -> tuple[list[int], bool]:
    """Ids matching ``key``: substring matches in name order, then similar names by score.

    At most ``SEARCH_CAP`` ids; ``capped`` when more names contain ``key`` (then only
    substring matches are given: similar names would come after them anyway).
    """
    if connection.vendor == "postgresql":
        exact, similar = _postgres_matches(key, where, params)
    elif connection.vendor == "sqlite":
        exact, similar = _sqlite_matches(key, where, params)
    else:
        exact, similar = _substring_scan(key, where, params), []
    capped = len(exact) > SEARCH_CAP
    ids = exact[:SEARCH_CAP]
    seen = set(ids)
    ids += [i for i in similar if i not in seen][:SEARCH_CAP - len(ids)]
    return ids, capped


def _like_pattern(key: str) -> str:
    return "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _substring_scan(key: str, where: str, params: list) -> list[int]:
    """Names containing ``key`` (at most ``SEARCH_CAP`` + 1), sorted by name here.

    Without ORDER BY the database stops at the cap instead of sorting every match first
    (a common word is in tens of thousands of names); past the cap the first found are
    shown, which ``count_capped`` says.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, c.name_key, c.number FROM certification_certificate c "  # noqa: S608
            f"WHERE {where} AND c.name_key LIKE %s ESCAPE '\\' LIMIT %s",
            [*params, _like_pattern(key), SEARCH_CAP + 1])
        rows = cursor.fetchall()
    return [cid for cid, _, _ in sorted(rows, key=lambda r: (r[1], r[2]))]


def _postgres_matches(key: str, where: str, params: list) -> tuple[list[int], list[int]]:
    # Both use the GIN trigram index: LIKE '%...%' and the word-similarity operator ``<%``,
    # whose threshold (pg_trgm.word_similarity_threshold) is 0.6 by default, as here.
    # Similar names are ranked here, not with ORDER BY: a query like a common word would
    # otherwise score and sort every one of its tens of thousands of matches.
    exact = _substring_scan(key, where, params)
    if len(exact) > SEARCH_CAP:
        return exact, []
    with transaction.atomic(), connection.cursor() as cursor:
        # The planner underestimates the operator's matches and, given the LIMIT, walks the
        # whole table computing word_similarity (0.5 s at 1,000,000 names); through the
        # index it stops after the first candidates (≈ 50 ms).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "SELECT c.id, c.name_key, word_similarity(%s, c.name_key) "  # noqa: S608
            f"FROM certification_certificate c WHERE {where} AND %s <%% c.name_key LIMIT %s",
            [key, *params, key, SIMILAR_CANDIDATES])
        rows = cursor.fetchall()
        cursor.execute("RESET enable_seqscan")
    ranked = sorted(rows, key=lambda r: (-r[2], r[1], r[0]))
    return exact, [cid for cid, _, _ in ranked[:SIMILAR_LIMIT]]


_NON_WORD = re.compile(r"[\W_]+")


def _padded_trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams: each word padded with two spaces before and one after."""
    grams = set()
    for word in _NON_WORD.split(text):
        if word:
            padded = f"  {word} "
            grams.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return grams


def _similarity_scorer(query: str):
    """``score(name)`` → the share of ``query``'s trigrams found in ``name`` (pg_trgm's
    word similarity, simplified), for scoring many names against one query.

    Each name is written once with its words padded as pg_trgm pads them ("  a  b ") and
    the query's trigrams are looked up in it as substrings: no trigram set per name.
    Substrings across a word boundary ("x  ", from "x  y") are never query trigrams.
    """
    wanted = _padded_trigrams(query)
    total = len(wanted)

    def score(name: str) -> float:
        if not total:
            return 0.0
        padded = "  " + _NON_WORD.sub("  ", name).strip() + " "
        return sum(1 for t in wanted if t in padded) / total
    return score


def word_similarity(query: str, name: str) -> float:
    """Share of the query's trigrams found in the name (pg_trgm's measure, simplified)."""
    return _similarity_scorer(query)(name)


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _typo_pieces(word: str) -> list[str]:
    """Parts of a word that survive one typo: its first and its last half.

    One wrong, missing, extra or swapped letter leaves one half of a word of six letters or
    more intact; a phrase of four or more letters is rare enough in the trigram index to be
    fetched quickly. Words of three or four letters are taken whole, shorter ones not at all.
    """
    if len(word) < 3:
        return []
    if len(word) <= 4:
        return [word]
    return list(dict.fromkeys([word[:max(3, (len(word) + 1) // 2)],
                               word[-max(3, len(word) // 2):]]))


def _typo_queries(key: str) -> list[str]:
    """FTS queries for names like ``key``: first every word (by one of its halves), then —
    if that finds too little — any word."""
    groups = [pieces for word in _NON_WORD.split(key) if (pieces := _typo_pieces(word))]
    if not groups:
        return []
    any_of = [" OR ".join(_fts_phrase(p) for p in pieces) for pieces in groups]
    queries = [" AND ".join(f"({q})" for q in any_of)]
    if len(groups) > 1:
        queries.append(" OR ".join(any_of))
    return queries


def _sqlite_matches(key: str, where: str, params: list) -> tuple[list[int], list[int]]:
    join = (f"FROM {FTS_TABLE} f JOIN certification_certificate c ON c.id = f.rowid "
            f"WHERE f.{FTS_TABLE} MATCH %s AND {where} LIMIT %s")
    with connection.cursor() as cursor:
        if len(key) < 3:  # too short for trigrams: names starting with it (the name index)
            cursor.execute(
                f"SELECT c.id FROM certification_certificate c WHERE {where} "  # noqa: S608
                f"AND c.name_key >= %s AND c.name_key < %s "
                f"ORDER BY c.name_key, c.number LIMIT %s",
                [*params, key, key + "\uffff", SEARCH_CAP + 1])
            return [row[0] for row in cursor.fetchall()], []
        # Names containing the query: an FTS phrase query (any order), sorted by name here.
        cursor.execute(f"SELECT c.id, c.name_key, c.number {join}",  # noqa: S608
                       [_fts_phrase(key), *params, SEARCH_CAP + 1])
        rows = cursor.fetchall()
        exact = [cid for cid, _, _ in sorted(rows, key=lambda r: (r[1], r[2]))]
        queries = _typo_queries(key)
        if len(exact) > SEARCH_CAP or not queries:
            return exact, []
        # Similar names: those holding a typo-proof half of every word of the query (or, if
        # that finds less than a page, of any word), scored like pg_trgm.
        score = _similarity_scorer(key)
        scored, seen = [], set()
        for query in queries:
            cursor.execute(f"SELECT c.id, c.name_key {join}",  # noqa: S608
                           [query, *params, SIMILAR_CANDIDATES])
            for cid, name in cursor.fetchall():
                if cid in seen:
                    continue
                seen.add(cid)
                value = score(name)
                if value >= SIMILARITY_THRESHOLD:
                    scored.append((-value, name, cid))
            if len(scored) >= PAGE_SIZE:
                break
    scored.sort()
    return exact, [cid for _, _, cid in scored[:SIMILAR_LIMIT]]
