"""The directory: certified organizations that are not confidential, filtered by name,
standard, country and status, a page at a time.

**Typo-tolerant search by correcting words.** A query word that is no word of any name
(``vocabulary.VOCABULARY``) is replaced by the words one edit away, and the corrected text
is searched like the typed one. Names containing the words as typed come first, then
names containing a corrected spelling. Each query word is expanded to the vocabulary's
words containing it and looked up in a word index: SQLite's FTS5 word table (migration
``certification.0004_word_search``), PostgreSQL's GIN index over
``to_tsvector('simple', name_key)`` (``certification.0005_postgres_word_index``). A query
word found in no name skips the search as typed.

**Bounded counts.** A listing never counts past ``COUNT_CAP`` rows and a search never ranks
more than ``SEARCH_CAP`` names; larger results say ``count_capped`` and page through those
only (narrowing the search is the way on). Counts and the ranked ids of a search are kept
for ``SEARCH_CACHE_SECONDS`` in the process-local ``public_search`` cache, so turning pages
does not repeat the search. A change of a certificate's status or confidentiality, or an
import, makes them stale (``forget_searches``, called by ``handlers``): it clears this
process's cache and, with ``REDIS_URL``, raises the directory's version in Redis, which is
part of every cache key — so every server process stops using its older entries at once
(one ``GET`` per directory request; the stale entries age out of the local cache).
"""

import hashlib
import logging
import math
import re
from dataclasses import dataclass

import redis
from django.core.cache import caches
from django.db import connection

from isocert.certification.models import Certificate
from isocert.certification.names import name_key
from isocert.core.errors import InvalidInput
from isocert.core.shared_store import (
    shared_key,
    shared_redis,
    shared_redis_failed,
    shared_redis_resting,
)

from .verification import public_certificates
from .vocabulary import VOCABULARY

PAGE_SIZE = 20
COUNT_CAP = 10_000
# A search ranks at most this many names (50 pages); more containing the text: capped.
SEARCH_CAP = 1_000
# Corrected searches per query.
CORRECTED_SEARCHES = 4
SEARCH_CACHE_SECONDS = 60
FTS_TABLE = "certification_certificate_fts"
STATUSES = [s.value for s in Certificate.Status]


@dataclass
class DirectoryPage:
    items: list[Certificate]
    count: int
    page: int
    pages: int
    count_capped: bool


logger = logging.getLogger(__name__)


def _cache():
    return caches["public_search"]


def _version_key() -> str:
    return shared_key("directory", "version")


def directory_version() -> str | None:
    """The version of the directory shared by every server ("0" before the first change;
    "" without Redis), or ``None`` when Redis does not answer — then nothing cached can be
    trusted to be current and the search runs uncached."""
    client = shared_redis()
    if client is None:
        return ""
    if shared_redis_resting():
        return None
    try:
        return (client.get(_version_key()) or b"0").decode()
    except redis.RedisError:
        shared_redis_failed("the directory is searched without its cache")
        return None


def forget_searches() -> None:
    """Cached counts and ranked ids may be wrong now: drop this process's and, with Redis,
    raise the shared version so that every other process drops its own too."""
    _cache().clear()
    client = shared_redis()
    if client is not None:
        try:
            client.incr(_version_key())
        except redis.RedisError:
            logger.error("Redis did not answer: other servers may show the directory as it "
                         "was for up to %d seconds", SEARCH_CACHE_SECONDS, exc_info=True)
            shared_redis_failed("the directory is searched without its cache")


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
    version = directory_version()
    cache_key = "directory:" + hashlib.sha256("\x1f".join(
        [key, f["standard"], f["country"], f["status"], connection.vendor,
         version or ""]).encode()).hexdigest()
    found = _cache().get(cache_key) if version is not None else None
    if found is None:
        found = _ranked_ids(key, where, params) if key else _bounded_count(where, params)
        if version is not None:
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
