"""Writing a checked import into the registry's tables in one transaction with raw SQL.

The rows checked and spooled by ``row_checks`` go in batches: PostgreSQL's ``COPY FROM STDIN``
(ids drawn from the tables' sequences — with ``nextval`` for the certificates, which the
other rows refer to, by the id column's default for the rest — so concurrent inserts
elsewhere never collide), SQLite's ``executemany`` with explicit ids above ``max(id)``
(safe: the transaction is ``BEGIN IMMEDIATE``, SQLite's single writer lock is held
throughout). A large import into a smaller registry sets the secondary indexes aside
and builds them once at the end — on PostgreSQL also the unique constraints and the
foreign keys among the four tables, with the tables locked meanwhile (``_Inserter.start``).
"""

import json
import secrets
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from isocert.certification.models import (
    Certificate,
    CertificateSite,
    CertificateStandard,
    CertificateStatusChange,
)
from isocert.certification.services import CODE_ALPHABET

from .directory import FTS_TABLE

# The name search's index on SQLite (migration 0002_search_index): see ``_Inserter.start``.
FTS_INSERT_TRIGGER = "certification_certificate_fts_ai"
# The directory's vocabulary (migration 0003_name_words): SQLite's trigger splits each name.
WORDS_INSERT_TRIGGER = "certification_nameword_ai"
# From this many rows (and more than the registry has), the secondary indexes — and on
# PostgreSQL the foreign keys among the registry's tables — are built after the insert
# instead of during it (``_Inserter.start``).
REBUILD_INDEXES_FROM = 20_000
# PostgreSQL's maintenance_work_mem while those indexes are built.
INDEX_BUILD_MEMORY = "256MB"


# --- import: writing ----------------------------------------------------------------------------

_CERT_COLUMNS = ["id", "number", "public_code", "identity_number", "status", "entity_id",
                 "organization_name", "name_key", "organization_country",
                 "organization_address", "legal_identifier", "standards", "sectors", "scope",
                 "original_issue_date", "issue_date", "expiry_date", "confidential"]
_SITE_COLUMNS = ["id", "certificate_id", "position", "name", "address", "city", "postcode",
                 "country"]
_STANDARD_COLUMNS = ["id", "certificate_id", "code", "edition"]
_CHANGE_COLUMNS = ["id", "certificate_id", "status", "date"]


def _sql_literal(value) -> str:
    """A constant as an SQLite literal (bound once into the statement, not per row)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


@dataclass
class _Table:
    name: str
    columns: list[str]        # filled row by row, in this order
    constant_columns: list[str]
    constants: tuple          # one value per constant column, the same for every row

    def statement(self, vendor: str, *, with_id: bool = True) -> str:
        """``with_id=False`` (PostgreSQL): rows come without the leading ``id``, which
        the column's default (its sequence) fills."""
        quote = connection.ops.quote_name
        columns = self.columns if with_id else self.columns[1:]
        names = ", ".join(quote(c) for c in columns + self.constant_columns)
        if vendor == "postgresql":
            return f"COPY {quote(self.name)} ({names}) FROM STDIN"
        values = ", ".join(["%s"] * len(self.columns)
                           + [_sql_literal(v) for v in self.constants])
        return f"INSERT INTO {quote(self.name)} ({names}) VALUES ({values})"  # noqa: S608


class _Inserter:
    """Raw, batched inserts into the four registry tables with ids allocated here."""

    def __init__(self, *, file_name: str, actor_id: int | None, rows: int):
        now = timezone.now()
        self.rows = rows
        self.indexes: list[tuple[str, str]] = []       # (name, definition) dropped by start
        self.constraints: list[tuple[str, str, str]] = []  # (table, name, definition)
        self.vendor = connection.vendor
        self.certificates = self._table(
            Certificate, _CERT_COLUMNS,
            {"imported": True, "created_at": now, "updated_at": now, "revision": 1})
        self.sites = self._table(CertificateSite, _SITE_COLUMNS, {})
        self.standards = self._table(CertificateStandard, _STANDARD_COLUMNS, {})
        self.changes = self._table(
            CertificateStatusChange, _CHANGE_COLUMNS,
            {"reason": f"Imported from {file_name}", "actor_id": actor_id, "created_at": now})
        self.codes: set[str] = set()
        self.translate = bytes(ord(CODE_ALPHABET[b % len(CODE_ALPHABET)]) for b in range(256))
        self.first_certificate_id = None
        self.fts_trigger = ""
        self.words_trigger = ""
        self.words: set[str] = set()

    @staticmethod
    def _table(model, given: list[str], values: dict) -> _Table:
        """``given`` columns are filled row by row; every other column gets its value from
        ``values`` or the field's default — so a column added to the model later still
        gets one."""
        fields = {f.attname: f for f in model._meta.concrete_fields}
        constant_columns, constants = [], []
        for name, f in fields.items():
            if name in given:
                continue
            constant_columns.append(f.column)
            value = values[name] if name in values else f.get_default()
            if value is None:
                constants.append(None)
            elif f.get_internal_type() == "JSONField":
                constants.append(json.dumps(value))
            else:
                constants.append(f.get_db_prep_save(value, connection))
        return _Table(model._meta.db_table, [fields[name].column for name in given],
                      constant_columns, tuple(constants))

    def public_codes(self, n: int) -> list[str]:
        """``n`` new random codes: 12 of ``CODE_ALPHABET``'s 32 symbols (60 bits), from
        ``secrets`` — a byte modulo 32 is uniform."""
        codes = []
        while len(codes) < n:
            missing = n - len(codes)
            raw = secrets.token_bytes(12 * missing).translate(self.translate).decode()
            for i in range(0, 12 * missing, 12):
                code = raw[i:i + 12]
                if code not in self.codes:
                    self.codes.add(code)
                    codes.append(code)
        return codes

    def _names(self) -> list[str]:
        return [t.name for t in (self.certificates, self.sites, self.standards, self.changes)]

    def _large_import(self, registry_rows: int) -> bool:
        """A large import into a smaller registry: building each secondary index once,
        sorted, beats growing it row by row."""
        return self.rows >= REBUILD_INDEXES_FROM and self.rows > registry_rows

    def start(self) -> None:
        """Prepare the tables for the bulk insert; ``finish`` undoes it.

        SQLite: ids continue above the highest in use (or ever used: AUTOINCREMENT) —
        safe because the import's transaction holds SQLite's only write lock. The name
        search's FTS trigger is set aside for the bulk insert and its work done in one
        statement at the end (``finish``): row by row it costs several times the insert.
        So is the vocabulary's trigger: the names' words are collected here and added in
        one statement.

        PostgreSQL: see ``_start_postgresql``.
        """
        self.next_ids = {}
        if self.vendor == "postgresql":
            self._start_postgresql()
            return
        if self.vendor != "sqlite":
            return
        with connection.cursor() as cursor:
            for table in (self.certificates, self.sites, self.standards, self.changes):
                cursor.execute(f'SELECT max(id) FROM "{table.name}"')  # noqa: S608
                top = cursor.fetchone()[0] or 0
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table.name])
                seq = cursor.fetchone()
                self.next_ids[table.name] = max(top, seq[0] if seq else 0) + 1
            self.fts_trigger = self._set_aside_trigger(cursor, FTS_INSERT_TRIGGER)
            self.words_trigger = self._set_aside_trigger(cursor, WORDS_INSERT_TRIGGER)
            if self._large_import(self.next_ids[self.certificates.name] - 1):
                # The indexes are dropped and re-created inside the import's transaction:
                # readers (WAL) keep using them, and a failed import rolls the drop back.
                names = self._names()
                marks = ", ".join(["%s"] * len(names))
                query = ("SELECT name, sql FROM sqlite_master WHERE type = 'index' "  # noqa: S608
                         f"AND sql IS NOT NULL AND tbl_name IN ({marks})")
                cursor.execute(query, names)
                self.indexes = cursor.fetchall()
                for name, _ in self.indexes:
                    cursor.execute(f'DROP INDEX "{name}"')
        # The insert's working set (ten indexes of the certificates) must stay in memory.
        self._cache_size = self._pragma("cache_size", -524_288)  # KiB: 512 MiB

    @staticmethod
    def _set_aside_trigger(cursor, name: str) -> str:
        """SQLite: drop the trigger ``name``; its SQL (``""`` when there is none) lets
        ``finish`` create it again."""
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                       [name])
        found = cursor.fetchone()
        if found:
            cursor.execute(f'DROP TRIGGER "{name}"')
        return found[0] if found else ""

    def _start_postgresql(self) -> None:
        """PostgreSQL: ids are drawn from the tables' sequences (``ids``, and the id
        columns' defaults for the rows nothing refers to).

        For a large import into a smaller registry (an initial load), the four tables are
        locked and everything but their primary keys is set aside: the secondary indexes,
        the unique constraints (number, identity number, public code) and the foreign
        keys among the four tables (``certificate_id`` of sites, standards and status
        changes). ``finish`` re-creates them from their saved definitions once the rows
        are in. Maintained row by row, the indexes — the name search's GIN word index
        above all, and the unique index on the random public codes — and the deferred
        foreign-key checks (one queued per row, run at commit) cost most of the insert;
        built once, sorted, and validated in one join they cost a fraction. Re-adding a
        unique constraint checks uniqueness over all rows again. Foreign keys to other
        apps' tables (the certificates' organization and cycle, the status changes'
        actor) stay: altering them would lock those tables for the whole import.

        The trade-off: DDL takes ``ACCESS EXCLUSIVE`` locks, held until the import
        commits, so while it runs even readers of the registry (search, certificate
        pages) wait. That is accepted only on this path — the file is larger than the
        registry, as in a first load; an import smaller than the registry keeps the
        indexes and blocks nobody. Everything happens inside the import's transaction
        (PostgreSQL's DDL is transactional): a failed import rolls the drops back with
        the rows.
        """
        self.sequences = {}
        quote = connection.ops.quote_name
        names = self._names()
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [name])
                self.sequences[name] = cursor.fetchone()[0]
            if self.rows < REBUILD_INDEXES_FROM:
                return
            # Rows in the registry, counted only up to the file's size.
            cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {quote(names[0])} "  # noqa: S608
                           "LIMIT %s) AS registry", [self.rows])
            if not self._large_import(cursor.fetchone()[0]):
                return
            # All four locked up front, in the order the rows are written (certificates
            # first), rather than one by one as the drops below reach them.
            cursor.execute(f"LOCK TABLE {', '.join(quote(n) for n in names)} "
                           "IN ACCESS EXCLUSIVE MODE")
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) AND i.indisvalid "
                # Not the index of a primary key or unique constraint, nor one that a
                # foreign key (of any table) relies on.
                "AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                "ORDER BY i.indexrelid", [names])
            self.indexes = cursor.fetchall()
            # The foreign keys among the four tables, then the unique constraints (each
            # an index too) that no foreign key relies on; re-added in reverse order.
            cursor.execute(
                "SELECT c.conrelid::regclass::text, quote_ident(c.conname), "
                "pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "WHERE c.conrelid = ANY(%s::regclass[]) AND ("
                "(c.contype = 'f' AND c.confrelid = ANY(%s::regclass[])) "
                "OR (c.contype = 'u' AND NOT EXISTS (SELECT FROM pg_constraint f "
                "WHERE f.contype = 'f' AND f.conindid = c.conindid))) "
                "ORDER BY c.contype, c.oid", [names, names])
            self.constraints = cursor.fetchall()
            self._check_deferred_now(cursor)
            for table, name, _ in self.constraints:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            for name, _ in self.indexes:
                cursor.execute(f"DROP INDEX {name}")

    def vacuum(self) -> None:
        """PostgreSQL, after a large import has committed: ``VACUUM (ANALYZE)`` the
        certificates, which the directory searches. Freshly copied pages are not yet
        marked all-visible, and the name index's scans and their heap visits ran twice as
        slow (11–14 ms instead of 7 for a two-word search at 1,000,000 names) until
        autovacuum came. VACUUM cannot run in a transaction: skipped inside one (tests)."""
        if (self.vendor == "postgresql" and (self.indexes or self.constraints)
                and not connection.in_atomic_block):
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(self._names()[0])}")

    def _check_deferred_now(self, cursor) -> None:
        """Run the deferred foreign-key checks queued so far for rows of the four tables
        (PostgreSQL refuses to alter or index a table with checks pending); later rows'
        checks are deferred again, as before."""
        cursor.execute(
            "SELECT format('%%I.%%I', n.nspname, c.conname) FROM pg_constraint c "
            "JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' "
            "AND c.condeferred AND c.conrelid = ANY(%s::regclass[]) ORDER BY 1",
            [self._names()])
        names = ", ".join(dict.fromkeys(name for (name,) in cursor.fetchall()))
        if names:
            cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
            cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")

    def _pragma(self, name: str, value: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA {name}")
            before = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA {name} = {int(value)}")
        return before

    def finish(self) -> None:
        if self.vendor == "postgresql":
            self._finish_postgresql()
            return
        if self.vendor != "sqlite":
            return
        if self.fts_trigger and self.first_certificate_id is not None:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {FTS_TABLE}(rowid, name_key) SELECT id, name_key "  # noqa: S608
                    f"FROM {self.certificates.name} WHERE id >= %s",
                    [self.first_certificate_id])
        with connection.cursor() as cursor:
            for _, sql in self.indexes:
                cursor.execute(sql)
            if self.fts_trigger:
                cursor.execute(self.fts_trigger)
            if self.words_trigger:
                cursor.executemany("INSERT OR IGNORE INTO certification_nameword(word) "
                                   "VALUES (%s)", [(w,) for w in sorted(self.words) if w])
                cursor.execute(self.words_trigger)
        self._pragma("cache_size", self._cache_size)

    def _finish_postgresql(self) -> None:
        """Re-create what ``_start_postgresql`` dropped: the indexes, then the unique
        constraints and the foreign keys (each checked over all rows in one statement);
        then refresh the tables' statistics.
        A duplicate or a dangling reference fails the statement — an ``IntegrityError``
        — and with it the import's transaction."""
        if not (self.indexes or self.constraints):
            return
        with connection.cursor() as cursor:
            self._check_deferred_now(cursor)
            cursor.execute("SELECT current_setting('maintenance_work_mem')")
            memory = cursor.fetchone()[0]
            # Sorting an index's entries in memory rather than in runs on disk.
            cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)",
                           [INDEX_BUILD_MEMORY])
            for _, sql in self.indexes:
                cursor.execute(sql)
            for table, name, definition in reversed(self.constraints):
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [memory])
            # The planner's statistics describe the registry before the import (often an
            # empty one): without fresh ones it plans a verification's lookups for
            # thousands of rows — 8 ms instead of 0.4 — until autovacuum gets round to it.
            quote = connection.ops.quote_name
            cursor.execute(f"ANALYZE {', '.join(quote(n) for n in self._names())}")

    def ids(self, table: _Table, n: int) -> list[int]:
        """``n`` fresh ids. PostgreSQL: drawn from the table's sequence, so an insert
        running at the same time elsewhere can never take one of them."""
        if n == 0:
            return []
        if self.vendor == "sqlite":
            first = self.next_ids[table.name]
            self.next_ids[table.name] = first + n
            return list(range(first, first + n))
        with connection.cursor() as cursor:
            # The sequence is named once (``start``), not looked up again for every id.
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                           [self.sequences[table.name], n])
            return [row[0] for row in cursor.fetchall()]

    def insert_batch(self, batch: list) -> None:
        cert_ids = self.ids(self.certificates, len(batch))
        if self.first_certificate_id is None:
            self.first_certificate_id = cert_ids[0]
        codes = self.public_codes(len(batch))
        if self.words_trigger:
            for cert, _, _ in batch:
                self.words.update(cert[5].split(" "))  # name_key: single spaces
        certs, sites, standards, changes = [], [], [], []
        for cert_id, code, (cert, cert_sites, cert_standards) in zip(cert_ids, codes, batch,
                                                                     strict=True):
            certs.append((cert_id, cert[0], code, *cert[1:]))
            for position, site in enumerate(cert_sites):
                sites.append((cert_id, position, *site))
            for standard in cert_standards:
                standards.append((cert_id, *standard))
            changes.append((cert_id, cert[2], cert[13]))  # status on the issue date
        self._write(self.certificates, certs)
        for table, rows in ((self.sites, sites), (self.standards, standards),
                            (self.changes, changes)):
            if self.vendor == "postgresql":
                # Nothing refers to these ids: the column's default draws them from the
                # same sequence while the rows are copied, without a round trip.
                self._write(table, rows, with_id=False)
            else:
                self._write(table, [(i, *r) for i, r in zip(self.ids(table, len(rows)), rows,
                                                            strict=True)])

    def _write(self, table: _Table, rows: list[tuple], *, with_id: bool = True) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                constants = table.constants
                with cursor.cursor.copy(table.statement(self.vendor, with_id=with_id)) as copy:
                    write = copy.write_row
                    for row in rows:
                        write(row + constants)
            else:
                cursor.executemany(table.statement(self.vendor), rows)
