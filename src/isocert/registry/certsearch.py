"""The IAF CertSearch file layout: its columns, how the registry's certificates are written
to it (CSV and XLSX) and how an uploaded header is checked against it.


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

**Remote auditing (ICT), opt-in.** ``export_rows(with_ict=True)`` adds one column after the
template's, ``COL_ICT``: where information and communication technology was used in the
audits of the certificate's cycle (IAF MD 4:2022 §4.2: the use of ICT is recorded and
reported). CertSearch's template has no such field (IAF MD 28), so the default file stays
exactly the template; the column is for the CB's records or its accreditation body. The
import accepts the column (``OPTIONAL_COLUMNS``) and ignores it: a file exported with it
imports back unchanged.
"""

import csv
import datetime
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from django.db.models.functions import Coalesce

from isocert.audits.models import Audit
from isocert.certification.models import (
    Certificate,
    CertificateSite,
)
from isocert.core.csvsafe import safe_writer

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
# Not a CertSearch field (IAF MD 28 has none for the audit method): written only when asked
# (``with_ict``), accepted and ignored by the import. IAF MD 4:2022 §4.2.
COL_ICT = "Remote auditing (ICT)"

COLUMNS = [
    COL_IDENTITY, COL_NUMBER, COL_STATUS, COL_TYPE, COL_STANDARDS, COL_SECTORS, COL_SCOPE,
    COL_ORIGINAL_ISSUE, COL_ISSUE, COL_EXPIRY, COL_ENTITY_ID, COL_ENTITY_NAME,
    COL_ENTITY_ADDRESS, COL_ENTITY_COUNTRY, COL_LEGAL_ID, COL_SITE_NAME, COL_SITE_STREET,
    COL_SITE_CITY, COL_SITE_STATE, COL_SITE_POSTCODE, COL_SITE_COUNTRY, COL_CONFIDENTIAL,
]
OPTIONAL_COLUMNS = [COL_ICT]
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


EXPORT_CHUNK = 2000


# --- export -------------------------------------------------------------------------------------

_EXPORT_FIELDS = ("pk", "identity_number", "number", "status", "standards", "sectors", "scope",
                  "original_issue_date", "issue_date", "expiry_date", "entity_id",
                  "organization_name", "organization_address", "organization_country",
                  "legal_identifier", "confidential", "cycle_id")  # cycle: for COL_ICT only
_CYCLE_FIELD = _EXPORT_FIELDS.index("cycle_id")
_SITE_FIELDS = ("certificate_id", "name", "address", "city", "postcode", "country")


def _yyyymmdd(value: datetime.date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _site_value(text: str) -> str:
    return text.replace(SITE_SEPARATOR, "/")


def export_columns(*, with_ict: bool = False) -> list[str]:
    """The header of an export: the template's ``COLUMNS``, and ``COL_ICT`` when asked."""
    return [*COLUMNS, COL_ICT] if with_ict else COLUMNS


def _export_row(cert: tuple, sites: list[tuple]) -> list[str]:
    (_, identity, number, status, standards, sectors, scope, original, issue, expiry,
     entity_id, name, address, country, legal, confidential, _cycle) = cert
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


# --- the optional ICT column (IAF MD 4:2022 §4.2) ----------------------------------------------
# The audit report says the same per audit (``audits/conduct/reports.py``, "Remote auditing
# (ICT)", "None: held on site"); it reads one audit at a time with its plan sessions, the
# export reads a whole chunk's cycles in one query, so the line is written here.

ICT_NONE = "None: held on site"
_ICT_FIELDS = ("cycle_id", "kind", "start_date", "target_date",
               "remote__remote_share_percent", "remote__ict_used")


def _ict_text(text: str) -> str:
    """``ict_used`` on one line: whitespace collapsed, and the file's separators (``|`` for
    sites, ``;`` for lists and between audits here) replaced."""
    return " ".join(text.split()).replace(SITE_SEPARATOR, "/").replace(LIST_SEPARATOR, ",")


def _ict_by_cycle(cycle_ids: set[int]) -> dict[int, str]:
    """Per cycle, its audits held (started or closed) that used ICT (a remote share): where
    ICT was used, not where it is planned; in date order:
    ``Stage 2 audit 20260302: 30 % remote (Video conference)``, joined by ``; ``. One query;
    a cycle without such audits is absent."""
    if not cycle_ids:
        return {}
    lines: dict[int, list[str]] = defaultdict(list)
    audits = (Audit.objects.filter(cycle_id__in=cycle_ids, remote__remote_share_percent__gt=0,
                                   status__in=(Audit.Status.IN_PROGRESS, Audit.Status.CLOSED))
              .order_by("cycle_id", Coalesce("start_date", "target_date").asc(nulls_last=True),
                        "pk")
              .values_list(*_ICT_FIELDS))
    for cycle_id, kind, start, target, share, ict_used in audits:
        when = start or target
        audit = f"{Audit.Kind(kind).label} audit" + (f" {_yyyymmdd(when)}" if when else "")
        lines[cycle_id].append(f"{audit}: {share} % remote ({_ict_text(ict_used)})")
    return {cycle_id: "; ".join(texts) for cycle_id, texts in lines.items()}


def _ict_value(cycle_id: int | None, by_cycle: dict[int, str]) -> str:
    """Empty for a certificate imported from earlier records (no cycle: not audited
    here), ``ICT_NONE`` for a cycle whose audits were held on site."""
    if cycle_id is None:
        return ""
    return by_cycle.get(cycle_id, ICT_NONE)


def _export_batch(batch: list[tuple], with_ict: bool = False) -> Iterator[list[str]]:
    sites: dict[int, list[tuple]] = {cert[0]: [] for cert in batch}
    for site in (CertificateSite.objects.filter(certificate_id__in=list(sites))
                 .order_by("certificate_id", "position", "pk").values_list(*_SITE_FIELDS)):
        sites[site[0]].append(site)
    by_cycle = (_ict_by_cycle({cert[_CYCLE_FIELD] for cert in batch} - {None})
                if with_ict else None)
    for cert in batch:
        row = _export_row(cert, sites[cert[0]])
        yield row if by_cycle is None else [*row, _ict_value(cert[_CYCLE_FIELD], by_cycle)]


def export_rows(queryset=None, *, with_ict: bool = False) -> Iterator[list[str]]:
    """Every registry entry as one row of ``COLUMNS`` (``export_columns``), streamed.

    Certificates come in chunks from a server-side cursor (``iterator``); each chunk's
    sites are read with one query, so memory stays flat however large the registry.
    The standards are read from the certificate's own list (the standard rows are its
    index copy). ``with_ict`` adds the ``COL_ICT`` value at the end of each row, the
    chunk's audits read with one more query.
    """
    queryset = Certificate.objects.all() if queryset is None else queryset
    batch: list[tuple] = []
    for cert in queryset.order_by("pk").values_list(*_EXPORT_FIELDS).iterator(
            chunk_size=EXPORT_CHUNK):
        batch.append(cert)
        if len(batch) >= EXPORT_CHUNK:
            yield from _export_batch(batch, with_ict)
            batch = []
    if batch:
        yield from _export_batch(batch, with_ict)


def write_csv(rows: Iterable[list[str]], fh, columns: Sequence[str] = tuple(COLUMNS)) -> int:
    """Write the header ``columns`` (``export_columns``) and ``rows`` to the text file
    ``fh``; returns the row count.

    A value a spreadsheet would take for a formula (an imported name ``=HYPERLINK(…)``)
    is written with a quote in front (``core.csvsafe``, OWASP's rule); the import takes
    the quote off again, so the file still imports back unchanged.
    """
    writer = safe_writer(fh)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def write_xlsx(rows: Iterable[list[str]], fh, columns: Sequence[str] = tuple(COLUMNS)) -> int:
    """Write an Excel workbook, header ``columns`` (``export_columns``), to ``fh``; returns
    the row count.

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
    sheet.write_row(0, 0, list(columns))
    count = 0
    for count, row in enumerate(rows, 1):
        sheet.write_row(count, 0, row)
    workbook.close()
    return count


def header_problem(header: list[str]) -> str:
    """Why this header row is not the registry layout ("" if it is): every one of
    ``COLUMNS``, any of ``OPTIONAL_COLUMNS`` (the import ignores them), nothing else, and
    no column twice."""
    names = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [h for h in names if h not in COLUMNS and h not in OPTIONAL_COLUMNS]
    doubled = sorted({h for h in names if names.count(h) > 1})
    parts = []
    if missing:
        parts.append("missing columns: " + ", ".join(missing))
    if unknown:
        parts.append("unknown columns: " + ", ".join(unknown))
    if doubled:
        parts.append("repeated columns: " + ", ".join(doubled))
    return "; ".join(parts)


def _header_problem_of(fh) -> str:
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
    try:
        return header_problem(next(csv.reader(text), []))
    except UnicodeDecodeError:
        return "The file is not UTF-8 text."
    finally:
        text.detach()
