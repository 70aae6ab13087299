"""Checking the rows of an import file before anything is written.

The first pass of an import checks every row — required fields, dates and their order,
status, countries, standards, sectors, duplicates inside the file and against the registry,
lengths — and spools the converted rows to a temporary file for the insert (``bulk``).
"""

import csv
import datetime
import io
import json
import marshal
import operator
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.files.storage import default_storage

from isocert.catalog.models import Country, Sector, Standard
from isocert.certification.models import (
    Certificate,
)
from isocert.certification.names import name_key
from isocert.core.csvsafe import restore_row
from isocert.core.models import StoredFile

from .certsearch import (
    CERTIFICATION_TYPE,
    CERTSEARCH_STATUSES,
    COL_CONFIDENTIAL,
    COL_ENTITY_ADDRESS,
    COL_ENTITY_COUNTRY,
    COL_ENTITY_ID,
    COL_ENTITY_NAME,
    COL_EXPIRY,
    COL_IDENTITY,
    COL_ISSUE,
    COL_LEGAL_ID,
    COL_NUMBER,
    COL_ORIGINAL_ISSUE,
    COL_SCOPE,
    COL_SECTORS,
    COL_SITE_CITY,
    COL_SITE_COUNTRY,
    COL_SITE_NAME,
    COL_SITE_POSTCODE,
    COL_SITE_STATE,
    COL_SITE_STREET,
    COL_STANDARDS,
    COL_STATUS,
    COL_TYPE,
    COLUMNS,
    IMPORTABLE_STATUSES,
    LIST_SEPARATOR,
    MAX_LENGTHS,
    REQUIRED,
    SITE_COLUMNS,
    SITE_SEPARATOR,
    header_problem,
)
from .models import CertificateImport

MAX_STORED_ERRORS = 1000
PROGRESS_EVERY = 5000     # rows between two progress updates of the import row


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
        # Values in COLUMNS order, whatever the file's column order; an optional column
        # (``OPTIONAL_COLUMNS``: the export's ICT column) is not read.
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
