"""Bulk import of existing certificates: all rows checked first, all or nothing."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from registry_io_helpers import (
    audited_cycle,
    csv_text,
    csv_upload,
    import_text,
    make_certificate,
    row,
)

from isocert.certification.models import (
    Certificate,
    CertificateSite,
    CertificateStandard,
    CertificateStatusChange,
)
from isocert.certification.services import CODE_ALPHABET
from isocert.core.errors import InvalidInput
from isocert.core.models import AuditEvent
from isocert.registry import bulk, certsearch, row_checks, runs, services
from isocert.registry.models import CertificateImport, NameWord

pytestmark = pytest.mark.django_db


def test_a_good_file_is_imported_whole(ada, django_capture_on_commit_callbacks):
    text = csv_text([
        row(1),
        row(2, **{"Standards": "ISO 9001:2015;ISO 14001:2015", "Technical sectors": "17;18",
                  "Certification status": "Suspended", "Confidential": "Y",
                  "Certified entity legal identifier": "RCS 552 120 222",
                  "Site name": "Paris|Lyon plant", "Site street": "1 rue de la Paix|2 quai Est",
                  "Site city": "Paris|Lyon", "Site state": "|Rhône",
                  "Site postcode": "75002|69001", "Site country": "FR|FR"}),
    ])

    certificate_import = import_text(text, actor=ada, capture=django_capture_on_commit_callbacks,
                                     name="old-register.csv")

    assert certificate_import.status == CertificateImport.Status.DONE
    assert (certificate_import.total_rows, certificate_import.processed_rows,
            certificate_import.imported_rows, certificate_import.error_count) == (2, 2, 2, 0)
    assert certificate_import.finished_at is not None
    first, second = Certificate.objects.order_by("number")
    assert first.imported and first.organization is None and first.cycle is None
    assert len(first.public_code) == 12 and set(first.public_code) <= set(CODE_ALPHABET)
    assert first.public_code != second.public_code
    assert first.name_key == "societe generale d'aluminium 1"
    assert first.original_issue_date == datetime.date(2019, 3, 1)
    assert first.expiry_date == datetime.date(2028, 2, 29)
    assert first.standards == [{"code": "ISO 9001", "edition": "2015"}]
    assert first.sectors == [17] and not first.confidential
    assert [(s.name, s.address, s.city, s.postcode, s.country) for s in first.sites.all()] == [
        ("Société Générale d'Aluminium 1", "1 rue de la Paix", "Paris", "75002", "FR")]
    assert second.status == "Suspended" and second.confidential
    assert second.legal_identifier == "RCS 552 120 222"
    assert sorted(second.standard_rows.values_list("code", "edition")) == [
        ("ISO 14001", "2015"), ("ISO 9001", "2015")]
    assert [(s.position, s.name, s.address) for s in second.sites.all()] == [
        (0, "Paris", "1 rue de la Paix"), (1, "Lyon plant", "2 quai Est, Rhône")]
    change = CertificateStatusChange.objects.get(certificate=second)
    assert (change.status, change.date, change.reason, change.actor) == (
        "Suspended", datetime.date(2025, 3, 1), "Imported from old-register.csv", ada)
    events = AuditEvent.objects.filter(action="certification.registry.imported")
    assert [e.payload for e in events] == [{"file_name": "old-register.csv", "certificates": 2,
                                            "sites": 3, "standards": 3}]


def test_export_then_import_into_an_empty_registry_gives_the_same_registry(
        ada, django_capture_on_commit_callbacks):
    make_certificate("Q-1", sites=[("Head office", "Hafenstraße 12", "Bremen", "28217", "DE"),
                                   ("Plant", "Industrieweg 4", "Oldenburg", "", "DE")],
                     standards=(("ISO 9001", "2015"), ("ISO 50001", "2018")), sectors=(17, 18))
    make_certificate("Q-2", name="Ørsted Façades A/S", status="Withdrawn", confidential=True,
                     sectors=())
    make_certificate("Q-3", status="Expired", standards=(("ISO/IEC 27001", "2022"),))

    def snapshot():
        return [
            (c.number, c.identity_number, c.status, c.entity_id, c.organization_name,
             c.name_key, c.organization_country, c.organization_address, c.legal_identifier,
             c.standards, c.sectors, c.scope, c.original_issue_date, c.issue_date,
             c.expiry_date, c.confidential,
             sorted(c.standard_rows.values_list("code", "edition")),
             list(c.sites.values_list("position", "name", "address", "city", "postcode",
                                      "country")))
            for c in Certificate.objects.order_by("number")]

    before = snapshot()
    exported = io.StringIO()
    certsearch.write_csv(certsearch.export_rows(), exported)
    Certificate.objects.all().delete()

    certificate_import = import_text(exported.getvalue(), actor=ada,
                                     capture=django_capture_on_commit_callbacks)

    assert certificate_import.status == "done", certificate_import.errors
    assert snapshot() == before


BAD_ROWS = [
    ({"Issue date": "2025-03-01"}, "Issue date", "not a date as YYYYMMDD"),
    ({"Expiry date": "20230231"}, "Expiry date", "not a date as YYYYMMDD"),
    ({"Original issue date": "20260101"}, "Original issue date", "after the issue date"),
    ({"Expiry date": "20200101"}, "Expiry date", "before the issue date"),
    ({"Standards": "ISO 9001:2008"}, "Standards", "Unknown standard 'ISO 9001:2008'"),
    ({"Standards": "ISO 9001:2015;ISO 9001:2015"}, "Standards", "listed twice"),
    ({"Technical sectors": "17;99"}, "Technical sectors", "Unknown IAF sector code '99'"),
    ({"Certified entity country": "XX"}, "Certified entity country", "Unknown country"),
    ({"Site country": "FR|ZZ", "Site street": "a|b", "Site city": "|", "Site postcode": "|"},
     "Site country",
     "Site 2: unknown country code 'ZZ'"),
    ({"Site street": "a|b"}, "Site street", "2 sites given, but 1 site countries"),
    ({"Certification status": "Cancelled"}, "Certification status",
     "a CertSearch status this registry does not keep"),
    ({"Certification status": "Valid"}, "Certification status", "Unknown status"),
    ({"Certification type": "Product"}, "Certification type", "Management System"),
    ({"Certification scope": ""}, "Certification scope", "Required."),
    ({"Certified entity name": ""}, "Certified entity name", "Required."),
    ({"Certified entity id": "E" * 46}, "Certified entity id", "At most 45 characters"),
    ({"Certificate number": "N" * 61}, "Certificate number", "At most 60 characters"),
    ({"Site postcode": "1" * 21}, "Site postcode", "Site 1: at most 20 characters"),
    ({"Confidential": "yes"}, "Confidential", "Write Y or N"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_ROWS,
                         ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD_ROWS)])
def test_one_bad_row_refuses_the_whole_file(ada, django_capture_on_commit_callbacks, change,
                                            field, message):
    text = csv_text([row(1), row(2), row(3, **change), row(4)])

    certificate_import = import_text(text, actor=ada, capture=django_capture_on_commit_callbacks)

    assert certificate_import.status == CertificateImport.Status.FAILED
    assert certificate_import.error_count == 1
    [error] = certificate_import.errors
    assert (error["line"], error["field"]) == (4, field)  # header = line 1
    assert message in error["message"]
    assert certificate_import.imported_rows == 0
    assert not Certificate.objects.exists()
    assert not CertificateSite.objects.exists() and not CertificateStandard.objects.exists()
    assert not CertificateStatusChange.objects.exists()
    assert AuditEvent.objects.filter(action="certification.registry.import_refused").exists()
    assert not AuditEvent.objects.filter(action="certification.registry.imported").exists()


def test_duplicates_inside_the_file_and_against_the_registry(
        ada, django_capture_on_commit_callbacks):
    make_certificate("CB-00009")
    text = csv_text([
        row(1),
        # A scope over two physical lines: later line numbers are those of the file.
        row(2, **{"Certification scope": "Casting\nand machining"}),
        row(3, **{"Certificate number": "CB-00001"}),
        row(4, **{"Certification identity number": "CB-ID-00002"}),
        row(5, **{"Certificate number": "CB-00009"}),
        row(6, **{"Certification identity number": "ID-CB-00009"}),
    ])

    certificate_import = import_text(text, actor=ada, capture=django_capture_on_commit_callbacks)

    assert certificate_import.status == "failed"
    assert [(e["line"], e["field"], e["message"]) for e in certificate_import.errors] == [
        (5, "Certificate number", "Certificate number 'CB-00001' is also on line 2."),
        (6, "Certification identity number",
         "Identity number 'CB-ID-00002' is also on line 3."),
        (7, "Certificate number", "Certificate number 'CB-00009' is already in the registry."),
        (8, "Certification identity number",
         "Identity number 'ID-CB-00009' is already in the registry."),
    ]
    assert Certificate.objects.count() == 1


def test_several_problems_are_all_counted_and_the_first_thousand_kept(
        ada, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(runs, "MAX_STORED_ERRORS", 3)
    text = csv_text([row(n, **{"Issue date": "bad", "Site country": "ZZ"}) for n in range(1, 4)]
                    + [row(4)])

    certificate_import = import_text(text, actor=ada, capture=django_capture_on_commit_callbacks)

    assert certificate_import.error_count == 6
    assert [(e["line"], e["field"]) for e in certificate_import.errors] == [
        (2, "Issue date"), (2, "Site country"), (3, "Issue date")]
    every = list(row_checks.all_problems(certificate_import))
    assert len(every) == 6 and every[-1]["line"] == 4


def test_progress_is_reported_while_rows_are_checked(ada, monkeypatch):
    monkeypatch.setattr(row_checks, "PROGRESS_EVERY", 2)
    path_text = csv_text([row(n) for n in range(1, 6)])
    certificate_import = services.start_import(upload=csv_upload(path_text), actor=ada)
    assert certificate_import.status == "queued"
    seen = []

    def progress(rows):
        current = CertificateImport.objects.get(pk=certificate_import.pk)
        seen.append((current.status, current.processed_rows, current.total_rows))

    done = services.run_import(import_id=certificate_import.pk, progress=progress)

    assert seen == [("running", 2, 5), ("running", 4, 5)]
    assert (done.status, done.processed_rows, done.total_rows, done.imported_rows) == (
        "done", 5, 5, 5)
    # A task delivered twice does not import twice.
    assert services.run_import(import_id=certificate_import.pk).status == "done"
    assert Certificate.objects.count() == 5


def test_the_upload_must_be_a_csv_in_the_registry_layout(ada):
    pdf = csv_upload("%PDF-1.4\n\0\0binary", name="x.pdf")
    with pytest.raises(InvalidInput) as not_csv:
        services.start_import(upload=pdf, actor=ada)
    assert "CSV" in not_csv.value.fields["file"]

    wrong = csv_upload("Number,Name\n1,Acme\n")
    with pytest.raises(InvalidInput) as wrong_header:
        services.start_import(upload=wrong, actor=ada)
    assert "missing columns: Certification identity number" in wrong_header.value.fields["file"]
    assert not CertificateImport.objects.exists()


def test_an_empty_file_is_refused(ada, django_capture_on_commit_callbacks):
    certificate_import = import_text(csv_text([]), actor=ada,
                                     capture=django_capture_on_commit_callbacks)
    assert certificate_import.status == "failed"
    assert certificate_import.errors == [{"line": 1, "field": "",
                                          "message": "The file has no certificates."}]


def test_columns_may_come_in_any_order(ada, django_capture_on_commit_callbacks):
    columns = list(reversed(certsearch.COLUMNS))
    certificate_import = import_text(csv_text([row(1)], columns=columns), actor=ada,
                                     capture=django_capture_on_commit_callbacks)
    assert certificate_import.status == "done"
    assert Certificate.objects.get().number == "CB-00001"


# --- the export's optional ICT column (issue #17) --------------------------------------------------

WITH_ICT = [*certsearch.COLUMNS, certsearch.COL_ICT]


def test_the_header_accepts_the_optional_ict_column_and_nothing_else():
    assert certsearch.header_problem(WITH_ICT) == ""
    assert certsearch.header_problem([certsearch.COL_ICT, *certsearch.COLUMNS]) == ""
    assert certsearch.header_problem([*WITH_ICT, certsearch.COL_ICT]) == (
        "repeated columns: Remote auditing (ICT)")
    assert certsearch.header_problem([*WITH_ICT, "Audit method"]) == (
        "unknown columns: Audit method")
    assert certsearch.header_problem([certsearch.COL_ICT]).startswith(
        "missing columns: Certification identity number")


def test_the_ict_column_is_ignored_by_the_import(ada, django_capture_on_commit_callbacks):
    text = csv_text([row(1, **{certsearch.COL_ICT: "Stage 2 audit 20260302: 30 % remote"}),
                     row(2)], columns=WITH_ICT)
    certificate_import = import_text(text, actor=ada, capture=django_capture_on_commit_callbacks)
    assert certificate_import.status == "done", certificate_import.errors
    assert sorted(Certificate.objects.values_list("number", "cycle")) == [
        ("CB-00001", None), ("CB-00002", None)]


def test_a_file_with_the_ict_column_names_its_problems_by_column(
        ada, django_capture_on_commit_callbacks):
    # ``explain`` counts the file's own width (23 columns with the ICT column).
    good = csv_text([row(1)], columns=WITH_ICT).splitlines()
    short = good[1].rsplit(",", 1)[0]
    text = csv_text([row(2, **{"Certified entity country": "XX"})], columns=WITH_ICT)
    certificate_import = import_text("\r\n".join([*text.splitlines(), short]) + "\r\n",
                                     actor=ada, capture=django_capture_on_commit_callbacks)
    assert certificate_import.status == "failed"
    assert certificate_import.errors == [
        {"line": 2, "field": "Certified entity country",
         "message": "Unknown country code 'XX' (ISO 3166-1 alpha-2)."},
        {"line": 3, "field": "", "message": "Expected 23 columns, found 22."}]


def test_an_export_with_the_ict_column_imports_back_unchanged(
        ada, nordlicht, django_capture_on_commit_callbacks):
    make_certificate("R-1", cycle=audited_cycle(nordlicht, [
        ("stage2", "closed", datetime.date(2026, 3, 2), 30, "=Video conference; drone")]))
    make_certificate("R-2", cycle=audited_cycle(nordlicht, [
        ("stage2", "closed", datetime.date(2026, 3, 2), None, "")]))
    make_certificate("R-3", name="Ørsted Façades A/S", status="Withdrawn", sectors=())

    def snapshot():
        return [(c.number, c.identity_number, c.status, c.entity_id, c.organization_name,
                 c.organization_country, c.organization_address, c.legal_identifier,
                 c.standards, c.sectors, c.scope, c.original_issue_date, c.issue_date,
                 c.expiry_date, c.confidential,
                 list(c.sites.values_list("position", "name", "address", "city", "postcode",
                                          "country")))
                for c in Certificate.objects.order_by("number")]

    before = snapshot()
    exported = io.StringIO()
    certsearch.write_csv(certsearch.export_rows(with_ict=True), exported, WITH_ICT)
    assert "Stage 2 audit 20260302: 30 % remote (=Video conference, drone)" in (
        exported.getvalue())
    Certificate.objects.all().delete()

    certificate_import = import_text(exported.getvalue(), actor=ada,
                                     capture=django_capture_on_commit_callbacks)

    assert certificate_import.status == "done", certificate_import.errors
    assert snapshot() == before


def test_import_certificates_command(tmp_path, db):
    good = tmp_path / "good.csv"
    good.write_text(csv_text([row(1), row(2)]), encoding="utf-8")
    out = io.StringIO()
    call_command("import-certificates", str(good), stdout=out)
    assert "Imported 2 certificates" in out.getvalue()

    bad = tmp_path / "bad.csv"
    bad.write_text(csv_text([row(3, Standards="ISO 1:1"), row(1)]), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command("import-certificates", str(bad), stdout=io.StringIO(), stderr=err)
    assert exit_status.value.code == 1
    assert "line 2 [Standards]: Unknown standard 'ISO 1:1'" in err.getvalue()
    assert "line 3 [Certificate number]: Certificate number 'CB-00001' is already in the " \
           "registry." in err.getvalue()
    assert "Nothing imported: 3 problem(s) in 2 rows." in err.getvalue()
    assert Certificate.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's bulk path")
def test_sqlite_bulk_path_restores_indexes_and_the_name_search(
        ada, django_capture_on_commit_callbacks, monkeypatch):
    from isocert.registry.directory import FTS_TABLE

    monkeypatch.setattr(bulk, "REBUILD_INDEXES_FROM", 1)

    def schema():
        with connection.cursor() as cursor:
            cursor.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name LIKE "
                           "'certification_certificate%' ORDER BY name")
            return cursor.fetchall()

    def indexed(word):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",
                           [word])
            return cursor.fetchone()[0]

    def vocabulary():
        return set(NameWord.objects.values_list("word", flat=True))

    before = schema()
    certificate_import = import_text(csv_text([row(1), row(2)]), actor=ada,
                                     capture=django_capture_on_commit_callbacks)

    assert certificate_import.status == "done"
    assert schema() == before
    assert indexed("aluminium") == 2
    # The vocabulary has the file's words, added in one statement.
    assert {"societe", "generale", "d'aluminium", "1", "2"} <= vocabulary()
    make_certificate("LATER-1", name="Emden Aluminium GmbH")  # the triggers are back
    assert indexed("aluminium") == 3
    assert "emden" in vocabulary()


REGISTRY_TABLES = ["certification_certificate", "certification_certificatesite",
                   "certification_certificatestandard", "certification_certificatestatuschange"]


def registry_schema() -> list[tuple]:
    """The indexes and constraints of the four tables an import writes, as defined."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT 'index', indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                "UNION ALL SELECT 'constraint', conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
                [REGISTRY_TABLES, REGISTRY_TABLES])
        else:
            marks = ", ".join(["%s"] * len(REGISTRY_TABLES))
            cursor.execute("SELECT type, name, sql FROM sqlite_master "  # noqa: S608
                           f"WHERE type IN ('index', 'table') AND tbl_name IN ({marks}) "
                           "ORDER BY name", REGISTRY_TABLES)
        return cursor.fetchall()


def schema_while_inserting(monkeypatch) -> list:
    """Records the registry's schema as each batch is inserted."""
    seen = []
    insert_batch = bulk._Inserter.insert_batch

    def spy(self, batch):
        seen.append(registry_schema())
        insert_batch(self, batch)

    monkeypatch.setattr(bulk._Inserter, "insert_batch", spy)
    return seen


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's bulk path")
def test_postgresql_bulk_path_rebuilds_indexes_and_foreign_keys(
        ada, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(bulk, "REBUILD_INDEXES_FROM", 1)
    make_certificate("CB-00009")  # a smaller registry, its foreign-key checks still pending
    before = registry_schema()
    during = schema_while_inserting(monkeypatch)

    certificate_import = import_text(csv_text([
        row(1), row(2, **{"Standards": "ISO 9001:2015;ISO 14001:2015",
                          "Site street": "1 rue de la Paix|2 quai Est", "Site city": "Paris|Lyon",
                          "Site state": "|", "Site postcode": "75002|69001",
                          "Site country": "FR|FR"})]),
        actor=ada, capture=django_capture_on_commit_callbacks)

    assert certificate_import.status == "done"
    assert registry_schema() == before
    # While the rows went in: no secondary index, no unique constraint, no foreign key
    # among the four tables; primary keys and the key to the users' table stayed.
    [inserting] = during
    names = {name for _, name, _ in inserting}
    definitions = {definition for _, _, definition in inserting}
    assert not names & {"cert_name_words", "cert_status_name", "cert_standard_code",
                        "unique_certificate_number", "unique_certificate_code"}
    assert not [d for d in definitions if "REFERENCES certification_certificate(id)" in d]
    assert [d for d in definitions if "REFERENCES accounts_user(id)" in d]
    assert "certification_certificatesite_pkey" in names
    assert Certificate.objects.count() == 3
    assert CertificateSite.objects.count() == 4 and CertificateStandard.objects.count() == 4
    assert set(CertificateStatusChange.objects.values_list("actor", flat=True)) == {ada.pk}
    # The planner's statistics were refreshed (the registry had one certificate before).
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s",
                       ["certification_certificate"])
        assert cursor.fetchone()[0] == 3
    # The ids came from the sequences: later inserts do not collide with them.
    make_certificate("LATER-1", sites=[("Plant", "Werkstraße 1", "Emden", "26721", "DE")])
    assert CertificateSite.objects.count() == 5


def test_a_small_import_into_a_bigger_registry_keeps_the_indexes(
        ada, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(bulk, "REBUILD_INDEXES_FROM", 1)
    make_certificate("CB-00008")
    make_certificate("CB-00009")
    before = registry_schema()
    during = schema_while_inserting(monkeypatch)

    certificate_import = import_text(csv_text([row(1), row(2)]), actor=ada,
                                     capture=django_capture_on_commit_callbacks)

    assert certificate_import.status == "done"
    assert during == [before]
    assert registry_schema() == before


def test_a_failure_after_the_indexes_are_dropped_restores_them_and_imports_nothing(
        ada, monkeypatch):
    monkeypatch.setattr(bulk, "REBUILD_INDEXES_FROM", 1)
    before = registry_schema()
    dropped = []
    insert_batch = bulk._Inserter.insert_batch

    def broken(self, batch):
        insert_batch(self, batch)
        dropped.append(registry_schema() != before)
        raise OSError("disk full")

    monkeypatch.setattr(bulk._Inserter, "insert_batch", broken)
    certificate_import = services.start_import(
        upload=csv_upload(csv_text([row(1), row(2)])), actor=ada)
    with pytest.raises(OSError):
        services.run_import(import_id=certificate_import.pk)

    certificate_import.refresh_from_db()
    assert dropped == [True]
    assert certificate_import.status == "failed"
    assert registry_schema() == before
    assert not Certificate.objects.exists() and not CertificateSite.objects.exists()
    assert not CertificateStandard.objects.exists()
    assert not CertificateStatusChange.objects.exists()


def test_a_duplicate_registered_while_the_file_was_checked_fails_the_rebuild(
        ada, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(bulk, "REBUILD_INDEXES_FROM", 1)
    before = registry_schema()
    check_file = row_checks.check_file

    def check_then_register(*args, **kwargs):
        result = check_file(*args, **kwargs)
        make_certificate("CB-00002")  # registered elsewhere in the meantime
        return result

    monkeypatch.setattr(runs, "check_file", check_then_register)
    certificate_import = import_text(csv_text([row(1), row(2), row(3)]), actor=ada,
                                     capture=django_capture_on_commit_callbacks)

    assert certificate_import.status == "failed"
    assert "The registry changed while the file was checked" in (
        certificate_import.errors[0]["message"])
    assert list(Certificate.objects.values_list("number", flat=True)) == ["CB-00002"]
    assert CertificateSite.objects.count() == 1
    assert not CertificateStatusChange.objects.exists()
    assert registry_schema() == before


def test_an_unexpected_failure_leaves_the_import_refused_not_running(ada, monkeypatch):
    certificate_import = services.start_import(upload=csv_upload(csv_text([row(1)])),
                                                  actor=ada)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(runs, "_insert", broken)
    with pytest.raises(OSError):
        services.run_import(import_id=certificate_import.pk)

    certificate_import.refresh_from_db()
    assert certificate_import.status == "failed"
    assert "disk full" in certificate_import.errors[0]["message"]
    assert not Certificate.objects.exists()


def test_an_import_adds_the_words_of_its_names_to_the_vocabulary(ada,
                                                                  django_capture_on_commit_callbacks):
    certificate_import = import_text(csv_text([row(1), row(2)]), actor=ada,
                                     capture=django_capture_on_commit_callbacks)

    assert certificate_import.status == "done"
    assert {"societe", "generale", "d'aluminium", "1", "2"} <= set(
        NameWord.objects.values_list("word", flat=True))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's bulk path")
@pytest.mark.django_db(transaction=True)
def test_a_large_import_on_postgresql_is_vacuumed_after_it_commits(ada, monkeypatch):
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(bulk, "REBUILD_INDEXES_FROM", 1)
    # Outside a test transaction the queued import runs when the upload commits.
    with CaptureQueriesContext(connection) as queries:
        started = services.start_import(upload=csv_upload(csv_text([row(1), row(2)])),
                                           actor=ada)

    assert CertificateImport.objects.get(pk=started.pk).status == "done"
    vacuums = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("VACUUM")]
    assert vacuums == ['VACUUM (ANALYZE) "certification_certificate"']


def test_an_export_imports_back_without_its_formula_quotes_and_exports_alike(
        ada, django_capture_on_commit_callbacks):
    name = '=HYPERLINK("http://evil.example","x")'
    make_certificate("F-1", name=name, sites=[("-Annex", "@Kai 1", "Bremen", "28217", "DE")])
    make_certificate("F-2", name="'t Hooft Installaties B.V.")
    first = io.StringIO()
    certsearch.write_csv(certsearch.export_rows(), first)
    assert f"\"'{name.replace('\"', '\"\"')}\"" in first.getvalue()
    Certificate.objects.all().delete()

    certificate_import = import_text(first.getvalue(), actor=ada,
                                     capture=django_capture_on_commit_callbacks)

    assert certificate_import.status == "done", certificate_import.errors
    imported = Certificate.objects.get(number="F-1")
    assert imported.organization_name == name
    assert list(imported.sites.values_list("name", "address")) == [("-Annex", "@Kai 1")]
    assert Certificate.objects.get(number="F-2").organization_name == (
        "'t Hooft Installaties B.V.")
    again = io.StringIO()
    certsearch.write_csv(certsearch.export_rows(), again)
    assert again.getvalue() == first.getvalue()
