"""The IAF CertSearch export: the layout, both formats, prepared exports and commands."""

import csv
import io

import pytest
from django.core.management import call_command
from django.http import Http404
from openpyxl import load_workbook
from registry_io_helpers import make_certificate

from isocert.core.errors import Conflict, InvalidInput
from isocert.core.files import open_stored
from isocert.core.models import AuditEvent
from isocert.registry import certsearch, runs, selectors, services
from isocert.registry.models import RegistryExport

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    make_certificate("NL-9001-1", sites=[
        ("Bremen head office", "Hafenstraße 12", "Bremen", "28217", "DE"),
        ("Oldenburg plant", "Industrieweg 4|5", "Oldenburg", "26135", "DE")],
        standards=(("ISO 9001", "2015"), ("ISO 50001", "2018")), sectors=(17, 18))
    make_certificate("BP-14001-2", name="Brightpath Services Ltd", status="Suspended",
                     standards=(("ISO 14001", "2015"),), sectors=(), confidential=True,
                     sites=[("Leeds office", "4 Queen Street", "Leeds", "LS1 2TW", "GB")])


def _csv_rows() -> list[dict]:
    out = io.StringIO()
    certsearch.write_csv(certsearch.export_rows(), out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_the_csv_has_certsearch_columns_and_one_row_per_certificate(registry):
    rows = _csv_rows()

    assert list(rows[0]) == certsearch.COLUMNS
    nordlicht, brightpath = rows
    assert nordlicht == {
        "Certification identity number": "ID-NL-9001-1", "Certificate number": "NL-9001-1",
        "Certification status": "Active", "Certification type": "Management System",
        "Standards": "ISO 9001:2015;ISO 50001:2018", "Technical sectors": "17;18",
        "Certification scope": "Die casting of aluminium parts.",
        "Original issue date": "20190301", "Issue date": "20250301", "Expiry date": "20280229",
        "Certified entity id": "E-NL-9001-1", "Certified entity name": "Nordlicht Aluminium GmbH",
        "Certified entity registered address": "Hafenstraße 12, 28217 Bremen",
        "Certified entity country": "DE", "Certified entity legal identifier": "HRB 1234",
        "Site name": "Bremen head office|Oldenburg plant",
        # A "|" inside a value would split the site: written as "/".
        "Site street": "Hafenstraße 12|Industrieweg 4/5", "Site city": "Bremen|Oldenburg",
        "Site state": "", "Site postcode": "28217|26135", "Site country": "DE|DE",
        "Confidential": "N",
    }
    assert (brightpath["Certification status"], brightpath["Standards"],
            brightpath["Technical sectors"], brightpath["Confidential"],
            brightpath["Site country"]) == ("Suspended", "ISO 14001:2015", "", "Y", "GB")


@pytest.mark.parametrize("status", ["Active", "Suspended", "Withdrawn", "Expired"])
def test_statuses_are_certsearch_words(status):
    make_certificate("S-1", status=status)
    [exported] = _csv_rows()
    assert exported["Certification status"] == status
    assert status in certsearch.CERTSEARCH_STATUSES


def test_the_workbook_opens_with_the_same_rows(registry):
    out = io.BytesIO()
    count = certsearch.write_xlsx(certsearch.export_rows(), out)
    sheet = load_workbook(io.BytesIO(out.getvalue()), read_only=True).active

    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert count == 2
    assert values[0] == certsearch.COLUMNS
    assert [dict(zip(certsearch.COLUMNS, [v or "" for v in r], strict=True))
            for r in values[1:]] == _csv_rows()
    assert values[1][certsearch.COLUMNS.index("Expiry date")] == "20280229"


def test_workbook_values_stay_text_never_formulas_or_links():
    out = io.BytesIO()
    row = ["=HYPERLINK(\"http://x\")", "00123", "https://example.org", "20280229"]
    certsearch.write_xlsx([row + [""] * (len(certsearch.COLUMNS) - len(row))], out)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    cells = [sheet.cell(row=2, column=i + 1) for i in range(len(row))]
    assert [c.value for c in cells] == row
    assert {c.data_type for c in cells} == {"s"}
    assert all(c.hyperlink is None for c in cells)


def test_export_reads_sites_per_chunk_not_per_certificate(django_assert_max_num_queries,
                                                          monkeypatch):
    monkeypatch.setattr(certsearch, "EXPORT_CHUNK", 10)
    for n in range(25):
        make_certificate(f"C-{n:03d}")
    with django_assert_max_num_queries(8):
        assert len(list(certsearch.export_rows())) == 25


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_prepared_export_is_stored_and_audited(registry, ada, fmt):
    export = services.create_registry_export(fmt=fmt, actor=ada)

    assert (export.format, export.rows, export.created_by) == (fmt, 2, ada)
    with open_stored(export.file) as fh:
        data = fh.read()
    assert export.file.size == len(data)
    if fmt == "csv":
        assert data.decode().startswith("Certification identity number,Certificate number,")
    else:
        assert data.startswith(b"PK")
    event = AuditEvent.objects.get(action="certification.registry.exported")
    assert event.payload == {"format": fmt, "rows": 2, "sha256": export.file.sha256}
    assert AuditEvent.objects.filter(action="certification.registry.export_queued").count() == 1
    assert selectors.export_file_name(export).endswith(f".{fmt}")
    assert (export.status, export.total_rows) == (RegistryExport.Status.DONE, 2)
    assert export.finished_at is not None


def test_an_unknown_format_is_refused_and_nothing_is_queued(ada):
    with pytest.raises(InvalidInput) as refused:
        services.request_registry_export(fmt="pdf", actor=ada)
    assert refused.value.fields == {"format": "Choose xlsx or csv."}
    assert not RegistryExport.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="certification.registry").exists()


def test_only_registry_staff_may_request_an_export(alice, dora):
    for who in (alice, dora):
        with pytest.raises(Http404):
            services.request_registry_export(fmt="csv", actor=who)
    assert not RegistryExport.objects.exists()


def test_a_failing_export_is_marked_failed_with_its_reason(registry, ada, monkeypatch):
    export = services.request_registry_export(fmt="csv", actor=ada)

    def broken(rows, fh, columns):
        raise OSError("disk full")

    monkeypatch.setattr(runs, "write_csv", broken)
    with pytest.raises(OSError):
        services.run_registry_export(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == RegistryExport.Status.FAILED and export.file is None
    assert "disk full" in export.error and export.finished_at is not None
    assert AuditEvent.objects.filter(action="certification.registry.export_failed").exists()
    with pytest.raises(Conflict):
        selectors.ready_export(user=ada, pk=export.pk)


def test_an_export_runs_once_and_reports_its_progress(registry, ada, monkeypatch):
    monkeypatch.setattr(runs, "EXPORT_PROGRESS_EVERY", 1)
    export = services.request_registry_export(fmt="csv", actor=ada)
    seen = []
    real = certsearch.write_csv

    def watching(rows, fh, columns):
        def rows_seen():
            for row in rows:
                yield row
                seen.append(RegistryExport.objects.get(pk=export.pk).rows)
        return real(rows_seen(), fh, columns)

    monkeypatch.setattr(runs, "write_csv", watching)
    done = services.run_registry_export(export_id=export.pk)
    assert seen == [1, 2] and done.status == RegistryExport.Status.DONE
    again = services.run_registry_export(export_id=export.pk)
    assert again.file_id == done.file_id
    assert AuditEvent.objects.filter(action="certification.registry.exported").count() == 1


def test_export_command_writes_csv_to_stdout_and_xlsx_to_a_file(registry, tmp_path):
    out = io.StringIO()
    call_command("export-certsearch", "--format", "csv", stdout=out, stderr=io.StringIO())
    assert out.getvalue().splitlines()[0].startswith("Certification identity number,")
    assert len(list(csv.reader(io.StringIO(out.getvalue())))) == 3

    target = tmp_path / "certsearch.xlsx"
    call_command("export-certsearch", "--format", "xlsx", "--output", str(target),
                 stderr=io.StringIO())
    assert load_workbook(target).active.max_row == 3


def test_prepare_certsearch_export_now_keeps_both_formats(registry):
    out = io.StringIO()
    call_command("prepare-certsearch-export", "--now", stdout=out)
    assert "Export prepared: 2 certificates." in out.getvalue()
    assert sorted(RegistryExport.objects.values_list("format", "rows")) == [("csv", 2),
                                                                           ("xlsx", 2)]


HYPERLINK = '=HYPERLINK("http://evil.example","x")'


def test_an_imported_formula_name_is_exported_as_text(ada, django_capture_on_commit_callbacks):
    # The name arrives through the import, as a CB's old register could carry it.
    from registry_io_helpers import csv_text, import_text, row

    imported = import_text(csv_text([row(1, **{"Certified entity name": HYPERLINK,
                                               "Site city": "-Bremen",
                                               "Certified entity legal identifier": "@HRB"})]),
                           actor=ada, capture=django_capture_on_commit_callbacks)
    assert imported.status == "done", imported.errors

    (exported,) = _csv_rows()

    assert exported["Certified entity name"] == "'" + HYPERLINK
    assert exported["Site city"] == "'-Bremen"
    assert exported["Certified entity legal identifier"] == "'@HRB"
    assert exported["Site name"] == "'" + HYPERLINK  # a site without a name takes the entity's
    # The workbook keeps the name as it is: its cells are text, never formulas.
    out = io.BytesIO()
    certsearch.write_xlsx(certsearch.export_rows(), out)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    name = sheet.cell(row=2, column=certsearch.COLUMNS.index("Certified entity name") + 1)
    assert (name.value, name.data_type) == (HYPERLINK, "s")


def test_a_prepared_csv_export_is_neutralised_too(ada):
    make_certificate("F-1", name="+49 Solutions GmbH")

    export = services.create_registry_export(fmt="csv", actor=ada)

    with open_stored(export.file) as fh:
        rows = list(csv.DictReader(io.StringIO(fh.read().decode())))
    assert rows[0]["Certified entity name"] == "'+49 Solutions GmbH"
