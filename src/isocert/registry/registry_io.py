"""The registry's export to IAF CertSearch and the bulk import of existing certificates.

One layout serves both directions: the columns of IAF CertSearch's Excel template for the
fields of IAF MD 28 (see ``COLUMNS``). A file exported here imports back unchanged.

**One row per certificate.** A certificate with several sites keeps one row; each site
column holds one value per site, separated by ``|`` (``SITE_SEPARATOR``), in the same
order in every site column — the third street belongs with the third city. A site column
left completely empty means "empty for every site". One row per certificate keeps line
numbers, progress and duplicate checks about certificates, not about sites. Standards and
technical sectors are lists separated by ``;`` (``ISO 9001:2015;ISO 14001:2015``,
``17;18``). Dates are ``YYYYMMDD``; the confidential flag is ``Y`` or ``N``.

The registry keeps a site's street and state in one address line: an imported state is
appended to the street (``"Hafenstraße 12, Bremen"``) and the export leaves the state
column empty. The export writes ``/`` for a ``|`` inside a site value. A CSV cell that a
spreadsheet would read as a formula (``=…``, ``+…``, ``-…``, ``@…``) is exported with a
single quote in front and read back without it (``core.csvsafe``).

**Import** (``start_import`` → task → ``run_import``) is all or nothing. The first pass
checks every row — required fields, dates and their order, status, countries, standards,
sectors, duplicates inside the file and against the registry, lengths — and spools the
converted rows to a temporary file; if any row is wrong nothing is written and the import
ends *failed* with its row-level error report. Otherwise the second pass inserts
everything in one transaction with raw SQL in batches: PostgreSQL's ``COPY FROM STDIN``
(ids drawn from the tables' sequences — with ``nextval`` for the certificates, which the
other rows refer to, by the id column's default for the rest — so concurrent inserts
elsewhere never collide), SQLite's ``executemany`` with explicit ids above ``max(id)``
(safe: the transaction is ``BEGIN IMMEDIATE``, SQLite's single writer lock is held
throughout). A large import into a smaller registry sets the secondary indexes aside
and builds them once at the end — on PostgreSQL also the unique constraints and the
foreign keys among the four tables, with the tables locked meanwhile (``_Inserter.start``).
"""

import contextlib
import csv
import datetime
import io
import json
import marshal
import operator
import secrets
import shutil
import struct
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from isocert.catalog.models import Country, Sector, Standard
from isocert.certification.models import (
    Certificate,
    CertificateSite,
    CertificateStandard,
    CertificateStatusChange,
)
from isocert.certification.names import name_key
from isocert.certification.services import CODE_ALPHABET
from isocert.core.audit import record_event
from isocert.core.csvsafe import restore_row, safe_writer
from isocert.core.errors import Conflict, InvalidInput
from isocert.core.models import StoredFile

from .directory import FTS_TABLE
from .jobs import (
    EXPORT_LIFECYCLE,
    IMPORT_LIFECYCLE,
    RunGivenUp,
    beat,
    claim,
    fail_stale_registry_jobs,
    settle,
    stopped_reason,
)
from .models import CertificateImport, RegistryExport, audit_type
from .permissions import ensure_registry_exporter, ensure_registry_importer
from .selectors import registry_export_get, registry_import_get

# --- the layout ---------------------------------------------------------------------------------
# Column headers of the IAF CertSearch upload template for the fields IAF MD 28 (Annex
# "data fields") asks of every accredited certification: the certification identity
# number (the CB's stable key, ≤ 60), certificate number (≤ 60), status, certification
# type, scope, original issue / issue / expiry dates (YYYYMMDD), standards, technical
# sectors, site addresses (country, street, city, state, postcode), the certified entity
# (unique id ≤ 45, name, registered address, optional legal identifier) and the
# confidential flag. "Site name" and "Certified entity country" are this registry's
# additions: a printed site has a name, and the entity's country is a field of its own.
COL_IDENTITY = "Certification identity number"
COL_NUMBER = "Certificate number"
COL_STATUS = "Certification status"
COL_TYPE = "Certification type"
COL_STANDARDS = "Standards"
COL_SECTORS = "Technical sectors"
COL_SCOPE = "Certification scope"
COL_ORIGINAL_ISSUE = "Original issue date"
COL_ISSUE = "Issue date"
COL_EXPIRY = "Expiry date"
COL_ENTITY_ID = "Certified entity id"
COL_ENTITY_NAME = "Certified entity name"
COL_ENTITY_ADDRESS = "Certified entity registered address"
COL_ENTITY_COUNTRY = "Certified entity country"
COL_LEGAL_ID = "Certified entity legal identifier"
COL_SITE_NAME = "Site name"
COL_SITE_STREET = "Site street"
COL_SITE_CITY = "Site city"
COL_SITE_STATE = "Site state"
COL_SITE_POSTCODE = "Site postcode"
COL_SITE_COUNTRY = "Site country"
COL_CONFIDENTIAL = "Confidential"

COLUMNS = [
    COL_IDENTITY, COL_NUMBER, COL_STATUS, COL_TYPE, COL_STANDARDS, COL_SECTORS, COL_SCOPE,
    COL_ORIGINAL_ISSUE, COL_ISSUE, COL_EXPIRY, COL_ENTITY_ID, COL_ENTITY_NAME,
    COL_ENTITY_ADDRESS, COL_ENTITY_COUNTRY, COL_LEGAL_ID, COL_SITE_NAME, COL_SITE_STREET,
    COL_SITE_CITY, COL_SITE_STATE, COL_SITE_POSTCODE, COL_SITE_COUNTRY, COL_CONFIDENTIAL,
]
SITE_COLUMNS = [COL_SITE_NAME, COL_SITE_STREET, COL_SITE_CITY, COL_SITE_STATE,
                COL_SITE_POSTCODE, COL_SITE_COUNTRY]
SITE_SEPARATOR = "|"
LIST_SEPARATOR = ";"
CERTIFICATION_TYPE = "Management System"
# CertSearch's statuses; Inactive, Cancelled and Draft have no counterpart in this registry.
CERTSEARCH_STATUSES = ["Active", "Inactive", "Suspended", "Cancelled", "Draft", "Withdrawn",
                       "Expired"]
IMPORTABLE_STATUSES = frozenset(Certificate.Status.values)
# Maximum lengths: MD 28's where it sets one, the registry's columns elsewhere.
MAX_LENGTHS = {
    COL_IDENTITY: 60, COL_NUMBER: 60, COL_ENTITY_ID: 45, COL_ENTITY_NAME: 200,
    COL_ENTITY_ADDRESS: 500, COL_LEGAL_ID: 60, COL_SCOPE: 5000, COL_SITE_NAME: 150,
    COL_SITE_STREET: 400, COL_SITE_CITY: 100, COL_SITE_STATE: 90, COL_SITE_POSTCODE: 20,
}
REQUIRED = [COL_IDENTITY, COL_NUMBER, COL_STATUS, COL_TYPE, COL_STANDARDS, COL_SCOPE,
            COL_ORIGINAL_ISSUE, COL_ISSUE, COL_EXPIRY, COL_ENTITY_ID, COL_ENTITY_NAME,
            COL_ENTITY_COUNTRY, COL_SITE_STREET, COL_SITE_COUNTRY]

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

MAX_STORED_ERRORS = 1000
PROGRESS_EVERY = 5000     # rows between two progress updates of the import row
EXPORT_CHUNK = 2000


# --- export -------------------------------------------------------------------------------------

_EXPORT_FIELDS = ("pk", "identity_number", "number", "status", "standards", "sectors", "scope",
                  "original_issue_date", "issue_date", "expiry_date", "entity_id",
                  "organization_name", "organization_address", "organization_country",
                  "legal_identifier", "confidential")
_SITE_FIELDS = ("certificate_id", "name", "address", "city", "postcode", "country")


def _yyyymmdd(value: datetime.date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _site_value(text: str) -> str:
    return text.replace(SITE_SEPARATOR, "/")


def _export_row(cert: tuple, sites: list[tuple]) -> list[str]:
    (_, identity, number, status, standards, sectors, scope, original, issue, expiry,
     entity_id, name, address, country, legal, confidential) = cert
    return [
        identity, number, status, CERTIFICATION_TYPE,
        LIST_SEPARATOR.join(f"{s['code']}:{s['edition']}" for s in standards),
        LIST_SEPARATOR.join(str(code) for code in sectors or []),
        scope, _yyyymmdd(original), _yyyymmdd(issue), _yyyymmdd(expiry),
        entity_id, name, address, country, legal,
        SITE_SEPARATOR.join(_site_value(s[1]) for s in sites),
        SITE_SEPARATOR.join(_site_value(s[2]) for s in sites),
        SITE_SEPARATOR.join(_site_value(s[3]) for s in sites),
        "",  # the state is part of the street (see the module docstring)
        SITE_SEPARATOR.join(_site_value(s[4]) for s in sites),
        SITE_SEPARATOR.join(s[5] for s in sites),
        "Y" if confidential else "N",
    ]


def _export_batch(batch: list[tuple]) -> Iterator[list[str]]:
    sites: dict[int, list[tuple]] = {cert[0]: [] for cert in batch}
    for site in (CertificateSite.objects.filter(certificate_id__in=list(sites))
                 .order_by("certificate_id", "position", "pk").values_list(*_SITE_FIELDS)):
        sites[site[0]].append(site)
    for cert in batch:
        yield _export_row(cert, sites[cert[0]])


def export_rows(queryset=None) -> Iterator[list[str]]:
    """Every registry entry as one row of ``COLUMNS``, streamed.

    Certificates come in chunks from a server-side cursor (``iterator``); each chunk's
    sites are read with one query, so memory stays flat however large the registry.
    The standards are read from the certificate's own list (the standard rows are its
    index copy).
    """
    queryset = Certificate.objects.all() if queryset is None else queryset
    batch: list[tuple] = []
    for cert in queryset.order_by("pk").values_list(*_EXPORT_FIELDS).iterator(
            chunk_size=EXPORT_CHUNK):
        batch.append(cert)
        if len(batch) >= EXPORT_CHUNK:
            yield from _export_batch(batch)
            batch = []
    if batch:
        yield from _export_batch(batch)


def write_csv(rows: Iterable[list[str]], fh) -> int:
    """Write the header and ``rows`` to the text file ``fh``; returns the row count.

    A value a spreadsheet would take for a formula (an imported name ``=HYPERLINK(…)``)
    is written with a quote in front (``core.csvsafe``, OWASP's rule); the import takes
    the quote off again, so the file still imports back unchanged.
    """
    writer = safe_writer(fh)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def write_xlsx(rows: Iterable[list[str]], fh) -> int:
    """Write an Excel workbook to ``fh``; returns the row count.

    XlsxWriter in constant-memory mode writes each row as it comes. Every value is written
    as text: dates stay ``YYYYMMDD``, as the CertSearch template wants them, and a value
    starting with ``=`` (an imported organization name, say) is never a formula — openpyxl,
    used before, made it one. A million rows: 92 s with XlsxWriter, 144 s with openpyxl's
    write-only mode (both about 30 MB).
    """
    import xlsxwriter

    workbook = xlsxwriter.Workbook(fh, {"constant_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet("Certifications")
    sheet.write_row(0, 0, COLUMNS)
    count = 0
    for count, row in enumerate(rows, 1):
        sheet.write_row(count, 0, row)
    workbook.close()
    return count


CONTENT_TYPES = {
    RegistryExport.Format.CSV: "text/csv",
    RegistryExport.Format.XLSX:
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _store_path(path: Path, content_type: str) -> StoredFile:
    """``core.files.store_file`` for a file on disk: hashed and copied in chunks, so a
    registry-sized file is never held in memory."""
    digest, size = sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    stored, _ = StoredFile.objects.get_or_create(
        sha256=digest.hexdigest(), defaults={"size": size, "content_type": content_type})
    if not default_storage.exists(stored.storage_name):
        with open(path, "rb") as fh:
            default_storage.save(stored.storage_name, File(fh))
    return stored


EXPORT_PROGRESS_EVERY = 20_000  # rows between two progress updates of the export row


@transaction.atomic
def request_registry_export(*, fmt: str, actor) -> RegistryExport:
    """Queue an export of the whole registry in the CertSearch layout (``xlsx`` or
    ``csv``) for the task worker ("Prepare export now", the API): a registry of a million
    certificates takes minutes to write, longer than a request may."""
    from .tasks import prepare_registry_export

    ensure_registry_exporter(actor)
    export = _queue_export(fmt, actor)
    transaction.on_commit(lambda: prepare_registry_export.enqueue(export_id=export.pk))
    return export


def create_registry_export(*, fmt: str, actor) -> RegistryExport:
    """Queue an export and prepare it in this process (the monthly task, commands)."""
    with transaction.atomic():
        export = _queue_export(fmt, actor)
    return run_registry_export(export_id=export.pk)


def _queue_export(fmt: str, actor) -> RegistryExport:
    if fmt not in RegistryExport.Format.values:
        raise InvalidInput("Choose xlsx or csv.", fields={"format": "Choose xlsx or csv."})
    fail_stale_registry_jobs()  # a job stuck since its worker died is not left "running"
    export = RegistryExport.objects.create(format=fmt, created_by=actor)
    record_event(actor=actor, action="certification.registry.export_queued", obj=export, object_type=audit_type(export),
                 payload={"format": fmt})
    return export


def run_registry_export(*, export_id: int) -> RegistryExport:
    """Write a queued export: the file is stored and the export marked done in one
    transaction, with its audit event; a failure marks it failed (and is raised). An export
    that is no longer queued is returned as it is (a task run twice); one given up while it
    ran (``registry_jobs``) is returned as the verdict left it."""
    fail_stale_registry_jobs()
    claimed = claim(RegistryExport, export_id, total_rows=Certificate.objects.count())
    export = RegistryExport.objects.select_related("file", "created_by").get(pk=export_id)
    if not claimed:
        return export
    try:
        return _write_export(export)
    except RunGivenUp:
        export.refresh_from_db()
        return export
    except BaseException as exc:  # the worker being stopped, too: not left "running"
        with contextlib.suppress(RunGivenUp), transaction.atomic():
            settle(export, status=RegistryExport.Status.FAILED,
                   error=stopped_reason("export", exc))
            record_event(actor=None, action="certification.registry.export_failed",
                         obj=export, object_type=audit_type(export), payload={"format": export.format, "error": repr(exc)})
        raise


@transaction.atomic
def retry_registry_export(*, export_id: int, actor) -> RegistryExport:
    """Queue a failed export again (its next ``attempt``) for the task worker. Refused for an
    export that has not failed (409); registry staff only (404 to anyone else)."""
    from .tasks import prepare_registry_export

    export = registry_export_get(user=actor, pk=export_id)
    EXPORT_LIFECYCLE.target("retry", export.status)
    # Conditional on what was read: of two retries at once, one queues it.
    if not RegistryExport.objects.filter(pk=export.pk, status=export.status,
                                         attempt=export.attempt).update(
            status=RegistryExport.Status.QUEUED, attempt=F("attempt") + 1, rows=0,
            total_rows=0, error="", heartbeat_at=None, finished_at=None):
        raise Conflict("Someone else retried this export first.")
    record_event(actor=actor, action="certification.registry.export_retried", obj=export, object_type=audit_type(export),
                 payload={"format": export.format, "attempt": export.attempt + 1,
                          "failed_because": export.error})
    export.refresh_from_db()
    transaction.on_commit(lambda: prepare_registry_export.enqueue(export_id=export.pk))
    return export


def _counted(rows: Iterable[list[str]], export: RegistryExport) -> Iterator[list[str]]:
    """``rows``, writing the count (and a heartbeat) to the export row every
    ``EXPORT_PROGRESS_EVERY``."""
    for count, row in enumerate(rows, 1):
        if count % EXPORT_PROGRESS_EVERY == 0:
            beat(export, rows=count)
        yield row


def _write_export(export: RegistryExport) -> RegistryExport:
    fmt = export.format
    with tempfile.TemporaryDirectory(prefix="isocert-export-") as tmp:
        path = Path(tmp) / f"export.{fmt}"
        rows = _counted(export_rows(), export)
        if fmt == RegistryExport.Format.CSV:
            with open(path, "w", encoding="utf-8", newline="") as fh:
                count = write_csv(rows, fh)
        else:
            with open(path, "wb") as fh:
                count = write_xlsx(rows, fh)
        with transaction.atomic():
            settle(export, status=RegistryExport.Status.DONE, rows=count, total_rows=count,
                   file=_store_path(path, CONTENT_TYPES[fmt]))
            record_event(actor=export.created_by, action="certification.registry.exported",
                         obj=export, object_type=audit_type(export), payload={"format": fmt, "rows": count,
                                              "sha256": export.file.sha256})
    return export


# --- import: the upload -------------------------------------------------------------------------

def import_max_bytes() -> int:
    return settings.REGISTRY_IMPORT_MAX_BYTES


def _check_csv_upload(upload) -> None:
    """Refuse what is not a UTF-8 CSV in the registry layout before anything is stored
    (``core.files.check_upload`` accepts documents and images only)."""
    if upload is None:
        raise InvalidInput("Choose a file to upload.", fields={"file": "A file is required."})
    if upload.size is not None and upload.size > import_max_bytes():
        raise InvalidInput("The file is too large.", fields={
            "file": f"Registry files may be at most {import_max_bytes() // (1024 * 1024)} MB."})
    upload.seek(0)
    head = upload.read(64 * 1024)
    upload.seek(0)
    if not head:
        raise InvalidInput("The file is empty.", fields={"file": "The file is empty."})
    if b"\0" in head:
        raise InvalidInput("This kind of file is not accepted.", fields={
            "file": "This is not a text file: upload a CSV (UTF-8)."})
    text = head.decode("utf-8-sig", errors="ignore")
    header = next(csv.reader(io.StringIO(text.splitlines()[0] if text else "")), [])
    problem = header_problem(header)
    if problem:
        raise InvalidInput("The file is not in the registry layout.", fields={"file": problem})


def header_problem(header: list[str]) -> str:
    """Why this header row is not the registry layout ("" if it is)."""
    names = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [h for h in names if h not in COLUMNS]
    doubled = sorted({h for h in names if names.count(h) > 1})
    parts = []
    if missing:
        parts.append("missing columns: " + ", ".join(missing))
    if unknown:
        parts.append("unknown columns: " + ", ".join(unknown))
    if doubled:
        parts.append("repeated columns: " + ", ".join(doubled))
    return "; ".join(parts)


def _store_upload(upload) -> StoredFile:
    with tempfile.NamedTemporaryFile(prefix="isocert-import-") as tmp:
        upload.seek(0)
        shutil.copyfileobj(upload, tmp, 1 << 20)
        tmp.flush()
        return _store_path(Path(tmp.name), "text/csv")


@transaction.atomic
def start_import(*, upload, actor) -> CertificateImport:
    """Check and keep an uploaded registry CSV and queue its import (after commit)."""
    from .tasks import run_certificate_import

    ensure_registry_importer(actor)
    _check_csv_upload(upload)
    fail_stale_registry_jobs()  # a job stuck since its worker died is not left "running"
    stored = _store_upload(upload)
    name = Path(getattr(upload, "name", "") or "registry.csv").name[:255]
    certificate_import = CertificateImport.objects.create(file=stored, file_name=name,
                                                          created_by=actor)
    record_event(actor=actor, action="certification.registry.import_queued",
                 obj=certificate_import, object_type=audit_type(certificate_import), payload={"file_name": name, "sha256": stored.sha256})
    transaction.on_commit(
        lambda: run_certificate_import.enqueue(import_id=certificate_import.pk))
    return certificate_import


@transaction.atomic
def retry_registry_import(*, import_id: int, actor) -> CertificateImport:
    """Queue a failed import again (its next ``attempt``, the same stored file) for the task
    worker — after its worker died, or after the catalogue or the registry changed. Refused
    for an import that has not failed (409); CB administrators only (404 to anyone else)."""
    from .tasks import run_certificate_import

    certificate_import = registry_import_get(user=actor, pk=import_id)
    IMPORT_LIFECYCLE.target("retry", certificate_import.status)
    # Conditional on what was read: of two retries at once, one queues it.
    if not CertificateImport.objects.filter(
            pk=certificate_import.pk, status=certificate_import.status,
            attempt=certificate_import.attempt).update(
            status=CertificateImport.Status.QUEUED, attempt=F("attempt") + 1, total_rows=0,
            processed_rows=0, imported_rows=0, errors=[], error_count=0, heartbeat_at=None,
            finished_at=None):
        raise Conflict("Someone else retried this import first.")
    record_event(actor=actor, action="certification.registry.import_retried",
                 obj=certificate_import, object_type=audit_type(certificate_import),
                 payload={"file_name": certificate_import.file_name,
                          "attempt": certificate_import.attempt + 1,
                          "failed_with_errors": certificate_import.error_count})
    certificate_import.refresh_from_db()
    transaction.on_commit(
        lambda: run_certificate_import.enqueue(import_id=certificate_import.pk))
    return certificate_import


def create_import_from_path(*, path: str | Path, actor) -> CertificateImport:
    """A queued import of a file on disk (the ``import-certificates`` command, the bench):
    no upload size limit, the file is stored like an upload."""
    path = Path(path)
    with open(path, "rb") as fh:
        problem = _header_problem_of(fh)
    if problem:
        raise InvalidInput("The file is not in the registry layout.", fields={"file": problem})
    with transaction.atomic():
        stored = _store_path(path, "text/csv")
        certificate_import = CertificateImport.objects.create(
            file=stored, file_name=path.name[:255], created_by=actor)
        record_event(actor=actor, action="certification.registry.import_queued",
                     obj=certificate_import, object_type=audit_type(certificate_import),
                     payload={"file_name": path.name, "sha256": stored.sha256})
    return certificate_import


def _header_problem_of(fh) -> str:
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
    try:
        return header_problem(next(csv.reader(text), []))
    except UnicodeDecodeError:
        return "The file is not UTF-8 text."
    finally:
        text.detach()


# --- import: checking rows ----------------------------------------------------------------------

@dataclass
class _Problem:
    line: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "message": self.message}


def _parse_date(text: str) -> datetime.date | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


class RowChecker:
    """Checks one data row and converts it to what the insert needs.

    Everything a row is checked against is loaded once: countries, standards
    (``"ISO 9001:2015"`` → code, edition), sectors and statuses as sets.
    """

    def __init__(self, header: list[str], *, name_key):
        self.index = {name.strip(): i for i, name in enumerate(header)}
        self.width = len(header)
        self.countries = frozenset(Country.objects.values_list("code", flat=True))
        self.standards = {f"{code}:{edition}": (code, edition)
                          for code, edition in Standard.objects.values_list("code", "edition")}
        self.sectors = frozenset(str(code) for code in Sector.objects.values_list("code",
                                                                                  flat=True))
        self.name_key = name_key
        # Values in COLUMNS order, whatever the file's column order.
        self.in_order = operator.itemgetter(*(self.index[c] for c in COLUMNS))
        # Dates, standards and sectors repeat across a registry: each text is checked once.
        self.date_cache: dict[str, str] = {}
        self.standards_cache: dict[str, tuple[str, list] | None] = {}
        self.sectors_cache: dict[str, str | None] = {}

    def _iso_date(self, text: str) -> str:
        """``YYYYMMDD`` → ISO date text ("" if not a date)."""
        parsed = _parse_date(text)
        self.date_cache[text] = iso = parsed.isoformat() if parsed else ""
        return iso

    def _standards(self, text: str) -> tuple[str, list] | None:
        labels = [label.strip() for label in text.split(LIST_SEPARATOR)]
        known = [self.standards.get(label) for label in labels]
        value = None
        if text and None not in known and len(set(labels)) == len(labels):
            value = (json.dumps([{"code": c, "edition": e} for c, e in known]),
                     [list(k) for k in known])
        self.standards_cache[text] = value
        return value

    def _sectors(self, text: str) -> str | None:
        codes = [code.strip() for code in text.split(LIST_SEPARATOR)] if text else []
        value = json.dumps([int(c) for c in codes]) if all(
            c in self.sectors for c in codes) else None
        self.sectors_cache[text] = value
        return value

    def check(self, values: list[str], line: int, problems: list[_Problem]):
        """The converted row, or None after appending what is wrong to ``problems``.

        The common case — a correct row with one site — is accepted by a chain of cheap
        tests; anything else goes to ``explain``, which names every problem.
        """
        if len(values) != self.width:
            return self.explain(values, line, problems)
        (identity, number, status, kind, standards, sectors, scope, original, issue, expiry,
         entity_id, name, address, country, legal, site_name, street, city, state, postcode,
         site_country, confidential) = [v.strip() for v in self.in_order(values)]
        cache = self.date_cache
        original_iso = cache.get(original) if original in cache else self._iso_date(original)
        issue_iso = cache.get(issue) if issue in cache else self._iso_date(issue)
        expiry_iso = cache.get(expiry) if expiry in cache else self._iso_date(expiry)
        standard = (self.standards_cache[standards] if standards in self.standards_cache
                    else self._standards(standards))
        sector_json = (self.sectors_cache[sectors] if sectors in self.sectors_cache
                       else self._sectors(sectors))
        countries = self.countries
        if not (identity and number and scope and entity_id and name and street
                and original_iso and issue_iso and expiry_iso
                and original_iso <= issue_iso <= expiry_iso
                and standard is not None and sector_json is not None
                and status in IMPORTABLE_STATUSES and kind == CERTIFICATION_TYPE
                and country in countries
                and (confidential == "N" or confidential == "Y" or not confidential)
                and len(identity) <= 60 and len(number) <= 60 and len(entity_id) <= 45
                and len(name) <= 200 and len(address) <= 500 and len(legal) <= 60
                and len(scope) <= 5000):
            return self.explain(values, line, problems)
        if SITE_SEPARATOR in site_country or SITE_SEPARATOR in street:
            sites = self._sites_fast(name, (site_name, street, city, state, postcode,
                                            site_country))
            if sites is None:
                return self.explain(values, line, problems)
        elif (site_country in countries and len(site_name) <= 150 and len(street) <= 400
              and len(city) <= 100 and len(state) <= 90 and len(postcode) <= 20
              and SITE_SEPARATOR not in site_name + city + state + postcode):
            sites = [[site_name or name[:150], f"{street}, {state}" if state else street,
                      city, postcode, site_country]]
        else:
            return self.explain(values, line, problems)
        cert = (number, identity, status, entity_id, name, self.name_key(name)[:200], country,
                address, legal, standard[0], sector_json, scope, original_iso, issue_iso,
                expiry_iso, confidential == "Y")
        return cert, sites, standard[1]

    def _sites_fast(self, name: str, columns: tuple) -> list[list[str]] | None:
        """Several sites, if all is well (None sends the row to ``explain``)."""
        count = len(columns[5].split(SITE_SEPARATOR))
        lists = []
        for text in columns:
            if not text:
                lists.append([""] * count)
                continue
            parts = [p.strip() for p in text.split(SITE_SEPARATOR)]
            if len(parts) != count:
                return None
            lists.append(parts)
        sites = []
        countries = self.countries
        for site_name, street, city, state, postcode, country in zip(*lists, strict=True):
            if not (street and country in countries and len(site_name) <= 150
                    and len(street) <= 400 and len(city) <= 100 and len(state) <= 90
                    and len(postcode) <= 20):
                return None
            sites.append([site_name or name[:150], f"{street}, {state}" if state else street,
                          city, postcode, country])
        return sites

    def explain(self, values: list[str], line: int, problems: list[_Problem]):
        """``check`` the long way: every problem of the row is named."""
        if len(values) != self.width:
            problems.append(_Problem(line, "", f"Expected {self.width} columns, found "
                                               f"{len(values)}."))
            return None
        ix = self.index
        get = {c: values[ix[c]].strip() for c in COLUMNS}
        before = len(problems)
        for column in REQUIRED:
            if not get[column]:
                problems.append(_Problem(line, column, "Required."))
        for column, limit in MAX_LENGTHS.items():
            if column in SITE_COLUMNS:
                continue
            if len(get[column]) > limit:
                problems.append(_Problem(line, column, f"At most {limit} characters "
                                                       f"({len(get[column])} given)."))
        status = get[COL_STATUS]
        if status and status not in IMPORTABLE_STATUSES:
            known = status in CERTSEARCH_STATUSES
            problems.append(_Problem(line, COL_STATUS, (
                f"{status!r} is a CertSearch status this registry does not keep"
                if known else f"Unknown status {status!r}") + "; use Active, Suspended, "
                "Withdrawn or Expired."))
        kind = get[COL_TYPE]
        if kind and kind != CERTIFICATION_TYPE:
            problems.append(_Problem(line, COL_TYPE, f"Must be {CERTIFICATION_TYPE!r}."))
        dates = {}
        for column in (COL_ORIGINAL_ISSUE, COL_ISSUE, COL_EXPIRY):
            text = get[column]
            if text:
                parsed = _parse_date(text)
                if parsed is None:
                    problems.append(_Problem(line, column, f"{text!r} is not a date as "
                                                           "YYYYMMDD."))
                else:
                    dates[column] = parsed
        if len(dates) == 3:
            if dates[COL_ORIGINAL_ISSUE] > dates[COL_ISSUE]:
                problems.append(_Problem(line, COL_ORIGINAL_ISSUE,
                                         "The original issue date is after the issue date."))
            if dates[COL_ISSUE] > dates[COL_EXPIRY]:
                problems.append(_Problem(line, COL_EXPIRY,
                                         "The expiry date is before the issue date."))
        standards = []
        if get[COL_STANDARDS]:
            seen = set()
            for label in get[COL_STANDARDS].split(LIST_SEPARATOR):
                label = label.strip()
                standard = self.standards.get(label)
                if standard is None:
                    problems.append(_Problem(line, COL_STANDARDS, f"Unknown standard {label!r} "
                                             "(write code and edition, e.g. ISO 9001:2015)."))
                elif label in seen:
                    problems.append(_Problem(line, COL_STANDARDS, f"{label} is listed twice."))
                else:
                    seen.add(label)
                    standards.append(standard)
        sectors = []
        if get[COL_SECTORS]:
            for code in get[COL_SECTORS].split(LIST_SEPARATOR):
                code = code.strip()
                if code not in self.sectors:
                    problems.append(_Problem(line, COL_SECTORS,
                                             f"Unknown IAF sector code {code!r}."))
                else:
                    sectors.append(int(code))
        country = get[COL_ENTITY_COUNTRY]
        if country and country not in self.countries:
            problems.append(_Problem(line, COL_ENTITY_COUNTRY,
                                     f"Unknown country code {country!r} (ISO 3166-1 alpha-2)."))
        confidential = get[COL_CONFIDENTIAL]
        if confidential not in ("Y", "N", ""):
            problems.append(_Problem(line, COL_CONFIDENTIAL, "Write Y or N."))
        sites = self._sites(get, line, problems)
        if len(problems) > before:
            return None
        name = get[COL_ENTITY_NAME]
        cert = (get[COL_NUMBER], get[COL_IDENTITY], status, get[COL_ENTITY_ID], name,
                self.name_key(name)[:200], country, get[COL_ENTITY_ADDRESS], get[COL_LEGAL_ID],
                json.dumps([{"code": c, "edition": e} for c, e in standards]),
                json.dumps(sectors), get[COL_SCOPE],
                dates[COL_ORIGINAL_ISSUE].isoformat(), dates[COL_ISSUE].isoformat(),
                dates[COL_EXPIRY].isoformat(), confidential == "Y")
        for site in sites:
            site[0] = site[0] or name[:MAX_LENGTHS[COL_SITE_NAME]]
        return cert, sites, [list(s) for s in standards]

    def _sites(self, get: dict, line: int, problems: list[_Problem]) -> list[list[str]]:
        """The sites of a row: every site column split on ``|``, position by position."""
        if not get[COL_SITE_STREET] and not get[COL_SITE_COUNTRY]:
            return []
        parts = {c: [p.strip() for p in get[c].split(SITE_SEPARATOR)] if get[c] else None
                 for c in SITE_COLUMNS}
        count = len(parts[COL_SITE_COUNTRY] or parts[COL_SITE_STREET] or [])
        for column, values in parts.items():
            if values is not None and len(values) != count:
                problems.append(_Problem(line, column, f"{len(values)} sites given, but "
                                         f"{count} site countries; separate sites with "
                                         f"{SITE_SEPARATOR!r} in every site column."))
                return []
        sites = []
        for i in range(count):
            site = {c: (values[i] if values is not None else "") for c, values in parts.items()}
            for column in SITE_COLUMNS:
                limit = MAX_LENGTHS.get(column)
                if limit and len(site[column]) > limit:
                    problems.append(_Problem(line, column, f"Site {i + 1}: at most {limit} "
                                             f"characters ({len(site[column])} given)."))
            if not site[COL_SITE_STREET]:
                problems.append(_Problem(line, COL_SITE_STREET, f"Site {i + 1}: required."))
            if site[COL_SITE_COUNTRY] not in self.countries:
                problems.append(_Problem(line, COL_SITE_COUNTRY, f"Site {i + 1}: unknown "
                                         f"country code {site[COL_SITE_COUNTRY]!r}."))
            address = site[COL_SITE_STREET]
            if site[COL_SITE_STATE]:
                address = f"{address}, {site[COL_SITE_STATE]}"
            sites.append([site[COL_SITE_NAME], address, site[COL_SITE_CITY],
                          site[COL_SITE_POSTCODE], site[COL_SITE_COUNTRY]])
        return sites


class _Duplicates:
    """Certificate and identity numbers seen in the file, and those already registered
    (asked of the database in batches, not loaded whole)."""

    def __init__(self):
        self.numbers: dict[str, int] = {}
        self.identities: dict[str, int] = {}
        self.pending: list[tuple[int, str, str]] = []
        self.registry_empty = not Certificate.objects.exists()

    def add(self, line: int, number: str, identity: str, problems: list[_Problem]) -> bool:
        ok = True
        if number:
            first = self.numbers.setdefault(number, line)
            if first != line:
                problems.append(_Problem(line, COL_NUMBER, f"Certificate number {number!r} "
                                         f"is also on line {first}."))
                ok = False
        if identity:
            first = self.identities.setdefault(identity, line)
            if first != line:
                problems.append(_Problem(line, COL_IDENTITY, f"Identity number {identity!r} "
                                         f"is also on line {first}."))
                ok = False
        if not self.registry_empty:
            self.pending.append((line, number, identity))
        return ok

    def flush(self, problems: list[_Problem]) -> None:
        """Check the pending rows against the registry; problems sorted into line order."""
        if not self.pending:
            return
        numbers = set(Certificate.objects.filter(
            number__in=[p[1] for p in self.pending]).values_list("number", flat=True))
        identities = set(Certificate.objects.filter(
            identity_number__in=[p[2] for p in self.pending]).values_list("identity_number",
                                                                          flat=True))
        found = []
        for line, number, identity in self.pending:
            if number in numbers:
                found.append(_Problem(line, COL_NUMBER, f"Certificate number {number!r} is "
                                      "already in the registry."))
            if identity in identities:
                found.append(_Problem(line, COL_IDENTITY, f"Identity number {identity!r} is "
                                      "already in the registry."))
        if found:
            problems.extend(found)
            problems.sort(key=lambda p: p.line)
        self.pending = []


def _count_lines(stored: StoredFile) -> int:
    count = 0
    with default_storage.open(stored.storage_name, "rb") as fh:
        while chunk := fh.read(1 << 22):
            count += chunk.count(b"\n")
    return count


@dataclass
class CheckResult:
    rows: int
    problems: list[_Problem]
    problem_count: int
    sites: int
    standards: int


def check_file(stored: StoredFile, *, spool=None, progress=None,
               keep_problems: int | None = MAX_STORED_ERRORS) -> CheckResult:
    """Check every row of a stored registry CSV.

    Converted rows go to ``spool`` (marshal batches) while no row is wrong; ``progress``
    is called with the rows checked so far every ``PROGRESS_EVERY`` rows. Keeps the first
    ``keep_problems`` problems (None: all) and counts all.
    """
    problems: list[_Problem] = []
    kept: list[_Problem] = []
    problem_count = rows = sites = standards = 0
    batch: list = []

    def settle():
        # Move what the current batch found to the kept list, in line order.
        nonlocal problem_count
        problem_count += len(problems)
        room = len(problems) if keep_problems is None else keep_problems - len(kept)
        kept.extend(problems[:max(room, 0)])
        problems.clear()

    with default_storage.open(stored.storage_name, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        last_line = 0
        try:
            header = next(reader, None)
            problem = header_problem(header or [])
            if problem:
                return CheckResult(0, [_Problem(1, "", problem)], 1, 0, 0)
            checker = RowChecker(header, name_key=name_key)
            duplicates = _Duplicates()
            check, add = checker.check, duplicates.add
            number_ix, identity_ix = checker.index[COL_NUMBER], checker.index[COL_IDENTITY]
            last_line = reader.line_num
            for values in reader:
                line, last_line = last_line + 1, reader.line_num
                if not values or values == [""]:
                    continue
                # A cell the export protected from spreadsheets ('=…) reads as it was.
                values = restore_row(values)
                rows += 1
                converted = check(values, line, problems)
                if len(values) == checker.width:
                    add(line, values[number_ix].strip(), values[identity_ix].strip(),
                        problems)
                if converted is not None and spool is not None and not problem_count \
                        and not problems:
                    batch.append(converted)
                    sites += len(converted[1])
                    standards += len(converted[2])
                if rows % PROGRESS_EVERY == 0:
                    duplicates.flush(problems)
                    settle()
                    if batch and not problem_count:
                        _spool_write(spool, batch)
                    batch = []
                    if progress:
                        progress(rows)
            duplicates.flush(problems)
        except (UnicodeDecodeError, csv.Error) as exc:
            problems.append(_Problem(last_line + 1, "", f"The file cannot be read from here "
                                     f"on: {exc}."))
        settle()
        if batch and not problem_count:
            _spool_write(spool, batch)
        text.detach()
    return CheckResult(rows, kept, problem_count, sites, standards)


def _spool_write(spool, batch: list) -> None:
    data = marshal.dumps(batch)
    spool.write(struct.pack("<Q", len(data)))
    spool.write(data)


def _spool_read(spool) -> Iterator[list]:
    while size := spool.read(8):
        # Our own temporary file, written by _spool_write in this process.
        yield marshal.loads(spool.read(struct.unpack("<Q", size)[0]))  # noqa: S302


def all_problems(certificate_import: CertificateImport) -> Iterator[dict]:
    """Every problem of a refused import, checked again from the stored file (the import
    keeps the first 1,000); duplicates are checked against the registry as it is now."""
    if certificate_import.error_count <= len(certificate_import.errors):
        yield from certificate_import.errors
        return
    yield from (p.as_dict() for p in check_file(certificate_import.file,
                                                keep_problems=None).problems)


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


def run_import(*, import_id: int, progress=None) -> CertificateImport:
    """Check every row of a queued import; import all of it in one transaction, or nothing.

    A wrong row anywhere refuses the whole file: the import ends *failed* with the first
    1,000 problems (``{line, field, message}``, header = line 1) and the count of all.
    An import that is no longer queued is returned as it is (a task run twice); one given
    up while it ran (``registry_jobs``) is returned as the verdict left it, nothing imported.
    ``progress`` (optional) is called with the rows checked so far.
    """
    fail_stale_registry_jobs()
    claimed = claim(CertificateImport, import_id, total_rows=0, processed_rows=0)
    certificate_import = CertificateImport.objects.select_related("file", "created_by").get(
        pk=import_id)
    if not claimed:
        return certificate_import
    try:
        return _run_claimed(certificate_import, progress)
    except RunGivenUp:
        certificate_import.refresh_from_db()
        return certificate_import
    except BaseException as exc:
        # Not left "running" for ever (the worker being stopped, too): the page and the API
        # show that it stopped.
        with contextlib.suppress(RunGivenUp):
            _refuse(certificate_import, [_Problem(0, "", stopped_reason("import", exc))], 1,
                    {"total_rows": 0, "processed_rows": 0})
        raise


def _run_claimed(certificate_import: CertificateImport, progress) -> CertificateImport:
    total = max(_count_lines(certificate_import.file) - 1, 0)
    beat(certificate_import, total_rows=total)

    def report(rows: int) -> None:
        beat(certificate_import, processed_rows=rows, total_rows=max(total, rows))
        if progress:
            progress(rows)

    with tempfile.TemporaryFile(prefix="isocert-import-") as spool:
        result = check_file(certificate_import.file, spool=spool, progress=report)
        counts = {"total_rows": result.rows, "processed_rows": result.rows}
        if result.problem_count or not result.rows:
            problems = result.problems or [_Problem(1, "", "The file has no certificates.")]
            return _refuse(certificate_import, problems, max(result.problem_count, 1), counts)
        beat(certificate_import, **counts)
        spool.seek(0)
        try:
            _insert(certificate_import, spool, result)
        except IntegrityError as exc:
            # Someone registered the same number while the file was checked.
            return _refuse(certificate_import, [_Problem(0, "", "The registry changed while "
                           f"the file was checked; nothing was imported ({exc}).")], 1, counts)
    certificate_import.refresh_from_db()
    return certificate_import


def _refuse(certificate_import, problems: list[_Problem], count: int, counts: dict):
    with transaction.atomic():
        settle(certificate_import, status=CertificateImport.Status.FAILED,
                errors=[p.as_dict() for p in problems[:MAX_STORED_ERRORS]],
                error_count=count, **counts)
        record_event(actor=certificate_import.created_by,
                     action="certification.registry.import_refused", obj=certificate_import, object_type=audit_type(certificate_import),
                     payload={"file_name": certificate_import.file_name,
                              "rows": counts["total_rows"], "errors": count})
    return certificate_import


def _insert(certificate_import: CertificateImport, spool, result: CheckResult) -> None:
    inserter = _Inserter(file_name=certificate_import.file_name,
                         actor_id=certificate_import.created_by_id, rows=result.rows)
    with transaction.atomic():
        inserter.start()
        for batch in _spool_read(spool):
            inserter.insert_batch(batch)
        inserter.finish()
        # Given up meanwhile (``RunGivenUp``): the whole insert is rolled back.
        settle(certificate_import, status=CertificateImport.Status.DONE,
                imported_rows=result.rows, errors=[], error_count=0)
        record_event(actor=certificate_import.created_by,
                     action="certification.registry.imported", obj=certificate_import, object_type=audit_type(certificate_import),
                     payload={"file_name": certificate_import.file_name,
                              "certificates": result.rows, "sites": result.sites,
                              "standards": result.standards})
    inserter.vacuum()
