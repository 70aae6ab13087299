"""The floor for the verification benchmark: the same lookup without Django.

A plain WSGI callable answering ``GET /api/v1/public/certificates/{number}`` with the same
three indexed queries (certificate, sites, status history) and the same JSON as the portal,
straight on ``sqlite3`` or ``psycopg``. ``bench/registry_load.py`` serves it with the same
granian settings as the portal and reports the portal's throughput as a share of this one.

    DATABASE_URL=sqlite:////path/db.sqlite3 granian --interface wsgi bench.bare_wsgi:application
"""

import json
import os
import sqlite3
import threading
from urllib.parse import unquote, urlsplit

PREFIX = "/api/v1/public/certificates/"
CB_NAME = os.environ.get("CB_NAME", "isocert Certification Body")
_local = threading.local()


def _connect():
    url = os.environ["DATABASE_URL"]
    if url.startswith("sqlite"):
        path = urlsplit(url).path
        path = path[1:] if path.startswith("//") else path
        conn = sqlite3.connect(path, check_same_thread=False)
        conn.execute("PRAGMA query_only = 1")
        return conn, "?"
    import psycopg

    return psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True), "%s"


def _connection():
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = _connect()
    return conn


def lookup(number: str) -> dict | None:
    conn, mark = _connection()
    cur = conn.cursor()
    cur.execute(
        "SELECT id, number, status, organization_name, organization_country, standards, scope, "
        "original_issue_date, issue_date, expiry_date, revision FROM certification_certificate "
        f"WHERE number = {mark} OR public_code = {mark} LIMIT 1", (number, number))
    row = cur.fetchone()
    if row is None:
        return None
    cid = row[0]
    cur.execute(f"SELECT name, address, city, postcode, country, scope FROM "
                f"certification_certificatesite WHERE certificate_id = {mark} "
                f"ORDER BY position, id", (cid,))
    sites = [dict(zip(("name", "address", "city", "postcode", "country", "scope"), s,
                      strict=True)) for s in cur.fetchall()]
    cur.execute(f"SELECT status, date, reason FROM certification_certificatestatuschange "
                f"WHERE certificate_id = {mark} ORDER BY date, id", (cid,))
    history = [{"status": s, "date": str(d), **({"reason": r} if r else {})}
               for s, d, r in cur.fetchall()]
    standards = row[5] if isinstance(row[5], list) else json.loads(row[5])
    return {
        "certificate_number": row[1], "status": row[2],
        "organization": {"name": row[3], "country": row[4]},
        "standards": [{"code": s["code"], "edition": s["edition"]} for s in standards],
        "scope": row[6], "sites": sites, "original_issue_date": str(row[7]),
        "issue_date": str(row[8]), "expiry_date": str(row[9]),
        "certification_body": {"name": CB_NAME}, "revision": row[10],
        "status_history": history,
    }


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    record = lookup(unquote(path[len(PREFIX):])) if path.startswith(PREFIX) else None
    if record is None:
        body = b'{"error":{"code":"not_found","message":"Not found.","fields":{}}}'
        status = "404 Not Found"
    else:
        body = json.dumps(record).encode()
        status = "200 OK"
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]
