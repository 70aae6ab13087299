"""Verification of one certificate: its public record, read by its printed number or by
its QR code's ``public_code`` (confidential ones too: a holder may prove its own
certificate). Nothing here knows who asks.

This is the portal's most requested read, so it runs a few indexed statements on the
database driver's own cursor instead of the ORM (``certificate_for_public``), and returns
``PublicCertificate`` objects that the templates and ``public_certificate_dict`` take like
``Certificate`` rows.
"""

import datetime
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from isocert.certification.models import Certificate


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
