"""The export's optional column "Remote auditing (ICT)" (issue #17; IAF MD 4:2022 §4.2): off
by default, so the file stays CertSearch's template (IAF MD 28); when asked, where ICT was
used in the audits of each certificate's cycle."""

import csv
import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from registry_io_helpers import audited_cycle, make_certificate

from isocert.certification.models import Certificate
from isocert.core.files import open_stored
from isocert.core.models import AuditEvent
from isocert.registry import certsearch, selectors, services

pytestmark = pytest.mark.django_db

MARCH_2 = datetime.date(2026, 3, 2)
HYPERLINK = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def registry(nordlicht):
    """Three certificates: issued after a cycle with remote audits, issued after a cycle
    audited on site, and imported from the CB's earlier records (no cycle)."""
    remote = audited_cycle(nordlicht, [
        # Recorded first, held last: the column follows the dates, not the records.
        ("surveillance1", "closed", datetime.date(2026, 11, 16), 50, "Video conference"),
        # Planned remote: not used yet, not listed.
        ("surveillance2", "planned", datetime.date(2027, 11, 15), 100, "Video conference"),
        ("stage1", "closed", datetime.date(2026, 1, 12), None, ""),
        ("stage2", "closed", MARCH_2, 30, "Video  conference,\n screen sharing | drone; live"),
        ("short_notice", "cancelled", datetime.date(2026, 6, 1), 100, "Telephone"),
    ])
    on_site = audited_cycle(nordlicht, [("stage1", "closed", MARCH_2, None, ""),
                                        ("stage2", "closed", MARCH_2, None, "")])
    make_certificate("NL-REMOTE", cycle=remote)
    make_certificate("NL-ONSITE", cycle=on_site)
    make_certificate("NL-IMPORTED")


def _csv(with_ict: bool) -> list[dict]:
    out = io.StringIO()
    certsearch.write_csv(certsearch.export_rows(with_ict=with_ict), out,
                         certsearch.export_columns(with_ict=with_ict))
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_the_default_export_is_exactly_the_certsearch_template(registry):
    rows = _csv(with_ict=False)

    assert list(rows[0]) == certsearch.COLUMNS
    assert certsearch.COL_ICT not in certsearch.COLUMNS
    assert {len(values) for values in certsearch.export_rows()} == {len(certsearch.COLUMNS)}


def test_with_ict_each_row_says_where_ict_was_used(registry):
    rows = {r["Certificate number"]: r for r in _csv(with_ict=True)}

    assert list(rows["NL-REMOTE"]) == [*certsearch.COLUMNS, "Remote auditing (ICT)"]
    # Date order, the cancelled and the planned audits left out, the on-site stage 1 not
    # listed; the ICT text
    # on one line without the file's separators.
    assert rows["NL-REMOTE"]["Remote auditing (ICT)"] == (
        "Stage 2 audit 20260302: 30 % remote (Video conference, screen sharing / drone, live); "
        "Surveillance 1 audit 20261116: 50 % remote (Video conference)")
    assert rows["NL-ONSITE"]["Remote auditing (ICT)"] == "None: held on site"
    assert rows["NL-IMPORTED"]["Remote auditing (ICT)"] == ""
    # The template's columns are the same as without the column.
    without = {r["Certificate number"]: r for r in _csv(with_ict=False)}
    assert {n: {c: r[c] for c in certsearch.COLUMNS} for n, r in rows.items()} == without


def test_the_workbook_has_the_column_too(registry):
    out = io.BytesIO()
    columns = certsearch.export_columns(with_ict=True)
    certsearch.write_xlsx(certsearch.export_rows(with_ict=True), out, columns)
    values = [list(r) for r in load_workbook(io.BytesIO(out.getvalue()), read_only=True)
              .active.iter_rows(values_only=True)]

    assert values[0] == columns
    assert [r[-1] or "" for r in values[1:]] == [r[certsearch.COL_ICT]
                                                 for r in _csv(with_ict=True)]


def test_a_formula_in_the_ict_used_never_starts_a_csv_cell(nordlicht):
    make_certificate("F-1", cycle=audited_cycle(nordlicht, [
        ("stage2", "closed", MARCH_2, 20, HYPERLINK)]))

    (exported,) = _csv(with_ict=True)

    # The cell starts with the audit, so no spreadsheet reads it as a formula ...
    assert exported[certsearch.COL_ICT] == (
        'Stage 2 audit 20260302: 20 % remote (=HYPERLINK("http://evil.example","x"))')
    # ... and the column goes through the same neutralising writer as every other cell.
    out = io.StringIO()
    certsearch.write_csv([[""] * len(certsearch.COLUMNS) + [HYPERLINK]], out,
                         certsearch.export_columns(with_ict=True))
    (written,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert written[certsearch.COL_ICT] == "'" + HYPERLINK


def _queries_for(count: int, organization) -> int:
    for n in range(count):
        make_certificate(f"Q-{count}-{n}", cycle=audited_cycle(organization, [
            ("stage2", "closed", MARCH_2, 10 + n, "Video conference"),
            ("surveillance1", "closed", MARCH_2 + datetime.timedelta(days=365), None, "")]))
    with CaptureQueriesContext(connection) as queries:
        rows = list(certsearch.export_rows(with_ict=True))
    assert len(rows) == count and all(r[-1].startswith("Stage 2 audit") for r in rows)
    return len(queries.captured_queries)


def test_the_ict_column_reads_each_chunk_with_one_query(nordlicht):
    two = _queries_for(2, nordlicht)
    Certificate.objects.all().delete()
    six = _queries_for(6, nordlicht)

    assert six == two
    with CaptureQueriesContext(connection) as plain:
        list(certsearch.export_rows())
    assert len(plain.captured_queries) == two - 1  # one query more for the column


def test_a_prepared_export_with_ict_is_stored_named_and_audited(registry, ada):
    export = services.create_registry_export(fmt="csv", with_ict=True, actor=ada)

    assert export.with_ict and export.rows == 3
    with open_stored(export.file) as fh:
        header = fh.read().decode().splitlines()[0]
    assert header.split(",") == [*certsearch.COLUMNS, certsearch.COL_ICT]
    queued = AuditEvent.objects.get(action="certification.registry.export_queued")
    assert queued.payload == {"format": "csv", "with_ict": True}
    assert selectors.export_file_name(export).endswith("-ict.csv")


def test_a_prepared_export_without_ict_says_so(registry, ada):
    export = services.create_registry_export(fmt="xlsx", actor=ada)

    assert not export.with_ict
    with open_stored(export.file) as fh:
        header = next(load_workbook(io.BytesIO(fh.read()), read_only=True).active.iter_rows(
            values_only=True))
    assert list(header) == certsearch.COLUMNS
    queued = AuditEvent.objects.get(action="certification.registry.export_queued")
    assert queued.payload == {"format": "xlsx", "with_ict": False}
    assert not selectors.export_file_name(export).endswith("-ict.xlsx")


def test_the_export_command_adds_the_column_when_asked(registry, tmp_path):
    plain, with_ict = io.StringIO(), io.StringIO()
    call_command("export-certsearch", stdout=plain, stderr=io.StringIO())
    call_command("export-certsearch", "--with-ict", stdout=with_ict, stderr=io.StringIO())

    assert next(csv.reader(io.StringIO(plain.getvalue()))) == certsearch.COLUMNS
    rows = list(csv.DictReader(io.StringIO(with_ict.getvalue())))
    assert [r[certsearch.COL_ICT] for r in rows] == [r[certsearch.COL_ICT]
                                                     for r in _csv(with_ict=True)]
    target = tmp_path / "certsearch.xlsx"
    call_command("export-certsearch", "--format", "xlsx", "--with-ict", "--output",
                 str(target), stderr=io.StringIO())
    sheet = load_workbook(target).active
    assert sheet.cell(row=1, column=len(certsearch.COLUMNS) + 1).value == certsearch.COL_ICT
