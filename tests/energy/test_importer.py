"""Importing meter data: CSV and XLSX, every bad line reported, all or nothing."""

import csv
import datetime
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection
from openpyxl import Workbook

from isocert.core.errors import InvalidInput
from isocert.core.models import AuditEvent
from isocert.energy import importer, services
from isocert.energy.demo import monthly_csv, monthly_mapping
from isocert.energy.importer import MappingChoice
from isocert.energy.models import ImportBatch, Reading, VariableValue

HEADER = "Month,Electricity (kWh),Natural gas (m³),Production (t),Heating degree days (K·d)\n"


def _import(nordlicht, alice, setup, text, *, mapping=None, name="data.csv"):
    data = text.encode() if isinstance(text, str) else text
    return services.import_energy_data(organization=nordlicht, actor=alice, data=data,
                                       file_name=name, mapping=MappingChoice.from_json(
                                           mapping or monthly_mapping(setup)))


def _refused(nordlicht, alice, setup, text, **kwargs) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        _import(nordlicht, alice, setup, text, **kwargs)
    assert Reading.objects.count() == 0 and VariableValue.objects.count() == 0
    assert not ImportBatch.objects.exists()
    return refused.value.fields


def test_a_good_monthly_csv_is_imported_with_kwh_converted(nordlicht, alice, setup):
    batch = _import(nordlicht, alice, setup, monthly_csv(months=18))

    assert (batch.rows, batch.values, batch.kind, batch.frequency) == (18, 72, "csv", "monthly")
    gas = Reading.objects.get(meter=setup["gas"], period_start=datetime.date(2024, 2, 1))
    assert gas.period_end == datetime.date(2024, 2, 29)
    assert gas.kwh == gas.quantity * 10  # natural gas: 10 kWh per m³
    assert Reading.objects.filter(meter=setup["electricity"]).count() == 18
    assert AuditEvent.objects.filter(action="energy.data.imported").get().payload["rows"] == 18


def test_every_bad_line_is_reported_by_number_and_nothing_is_written(nordlicht, alice, setup):
    text = (HEADER
            + "2024-01,50000,3000,800,500\n"          # line 2: fine
            + "2024-02,abc,3000,800,500\n"            # line 3: not a number
            + "2024-13,50000,3000,800,500\n"          # line 4: not a date
            + "2024-03,-5,3000,800,500\n"             # line 5: negative
            + "2024-04,50000,3000,800,500\n"          # line 6: fine (April)
            + "2024-04,50000,3000,800,500\n"          # line 7: duplicate of line 6
            + "2024-06,50000,,800,500\n")             # line 8: gap (May) and a missing value

    fields = _refused(nordlicht, alice, setup, text)

    assert set(fields) == {"line 3", "line 4", "line 5", "line 7", "line 8"}
    assert "“abc” is not a number" in fields["line 3"]
    assert "“2024-13” in Month is not a date" in fields["line 4"]
    assert "-5 is negative" in fields["line 5"]
    assert "already on line" in fields["line 7"] and "duplicate" in fields["line 7"]
    assert "Gap before this line: nothing from 1 May 2024 to 31 May 2024" in fields["line 8"]
    assert "the value is missing" in fields["line 8"]


def test_a_missing_column_is_reported_on_the_header_line(nordlicht, alice, setup):
    text = "Month,Electricity (kWh),Production (t),Heating degree days (K·d)\n2024-01,1,2,3\n"

    fields = _refused(nordlicht, alice, setup, text)

    assert list(fields) == ["line 1"]
    assert "Column “Natural gas (m³)” is not in the file" in fields["line 1"]


def test_an_unknown_unit_is_refused(nordlicht, alice, setup):
    mapping = monthly_mapping(setup)
    mapping["columns"][1]["unit"] = "barrel"

    fields = _refused(nordlicht, alice, setup, monthly_csv(months=3), mapping=mapping)

    assert "“barrel” is not a unit of Natural gas" in fields["columns.1.unit"]


def test_a_meter_of_another_organization_cannot_be_mapped(nordlicht, alice, setup, brightpath,
                                                          charlie):
    from isocert.energy.demo import set_up_meters

    theirs = set_up_meters(organization=brightpath, actor=charlie)
    mapping = monthly_mapping(setup)
    mapping["columns"][0]["meter_id"] = theirs["electricity"].pk

    fields = _refused(nordlicht, alice, setup, monthly_csv(months=3), mapping=mapping)

    assert "columns.0" in fields


def test_data_overlapping_earlier_imports_is_refused(nordlicht, alice, setup):
    _import(nordlicht, alice, setup, monthly_csv(months=6))

    with pytest.raises(InvalidInput) as refused:
        _import(nordlicht, alice, setup, monthly_csv(start=datetime.date(2024, 6, 1), months=3))

    assert "line 2" in refused.value.fields
    assert "Electricity already has data for 1 Jun 2024 – 30 Jun 2024" in \
        refused.value.fields["line 2"]
    assert ImportBatch.objects.count() == 1 and Reading.objects.count() == 12


def test_start_and_end_columns_and_overlapping_periods(nordlicht, alice, setup):
    mapping = {"frequency": "weekly", "start": "From", "end": "To", "columns": [
        {"column": "kWh", "meter_id": setup["electricity"].pk}]}
    text = ("From;To;kWh\n2024-01-01;2024-01-07;1000\n2024-01-05;2024-01-14;900\n"
            "2024-01-21;2024-01-15;1\n")

    fields = _refused(nordlicht, alice, setup, text, mapping=mapping)

    assert "overlaps the one on line 2" in fields["line 3"]
    assert "ends (15 Jan 2024) before it starts" in fields["line 4"]


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_with_real_dates_is_imported(nordlicht, alice, setup):
    mapping = {"frequency": "daily", "date": "Date", "columns": [
        {"column": "Electricity", "meter_id": setup["electricity"].pk, "unit": "MWh"},
        {"column": "Production", "variable_id": setup["production"].pk}]}
    rows = [["Date", "Electricity", "Production"]]
    rows += [[datetime.datetime(2024, 3, d), 1.5, 10 + d] for d in range(1, 11)]

    batch = _import(nordlicht, alice, setup, _xlsx(rows), mapping=mapping, name="days.xlsx")

    assert (batch.kind, batch.rows, batch.values) == ("xlsx", 10, 20)
    assert Reading.objects.get(period_start=datetime.date(2024, 3, 4)).kwh == Decimal("1500")


def test_xlsx_problems_carry_the_sheet_row_number(nordlicht, alice, setup):
    mapping = {"frequency": "daily", "date": "Date", "columns": [
        {"column": "Electricity", "meter_id": setup["electricity"].pk}]}
    rows = [["Date", "Electricity"], [datetime.date(2024, 3, 1), 5],
            [datetime.date(2024, 3, 2), "n/a"], ["yesterday", 5], [datetime.date(2024, 3, 5), 5]]

    fields = _refused(nordlicht, alice, setup, _xlsx(rows), mapping=mapping, name="d.xlsx")

    assert set(fields) == {"line 3", "line 4", "line 5"}
    assert "“n/a” is not a number" in fields["line 3"]
    assert "“yesterday” in Date is not a date" in fields["line 4"]
    assert "Gap before this line" in fields["line 5"]


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"%PDF-1.4 not a table\x00\x00", "not a CSV or XLSX"),
    (b"PK\x03\x04broken zip", "cannot be read"),
    (b"Month,kWh\n", "no data lines"),
])
def test_unreadable_files_are_refused(nordlicht, alice, setup, data, message):
    with pytest.raises(InvalidInput, match=message):
        _import(nordlicht, alice, setup, data)
    assert not ImportBatch.objects.exists()


def test_undoing_an_import_removes_its_data(nordlicht, alice, setup):
    batch = _import(nordlicht, alice, setup, monthly_csv(months=4))

    services.undo_import(batch=batch, actor=alice)

    assert Reading.objects.count() == 0 and VariableValue.objects.count() == 0
    assert AuditEvent.objects.filter(action="energy.data.import_undone").exists()


# --- bounded reading ---------------------------------------------------------------------------

@pytest.fixture
def parsed_rows(monkeypatch):
    """The sheet rows openpyxl parsed from the workbook's XML, by number."""
    from openpyxl.worksheet._reader import WorkSheetParser

    numbers: list[int] = []
    parse = WorkSheetParser.parse

    def spy(self):
        for number, row in parse(self):
            numbers.append(number)
            yield number, row

    monkeypatch.setattr(WorkSheetParser, "parse", spy)
    return numbers


def _month_rows(count: int) -> list[list]:
    return [["Month", "Electricity"]] + [
        [datetime.date(2000 + i // 12, i % 12 + 1, 1), 100 + i] for i in range(count)]


def test_a_workbook_past_the_row_limit_is_refused_at_the_first_line_too_many(
        nordlicht, alice, setup, monkeypatch, parsed_rows):
    monkeypatch.setattr(importer, "MAX_ROWS", 50)
    data = _xlsx(_month_rows(400))
    mapping = {"frequency": "monthly", "date": "Month", "columns": [
        {"column": "Electricity", "meter_id": setup["electricity"].pk}]}

    fields = _refused(nordlicht, alice, setup, data, mapping=mapping, name="many.xlsx")

    assert max(parsed_rows) == 1 + 51   # the header, the limit and the line past it
    assert fields == {"file": "At most 50 data lines per file; split it in parts."}


def test_a_csv_past_the_row_limit_is_refused_at_the_first_line_too_many(monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    read = []

    class Reader:
        def __init__(self, *args, **kwargs):
            self.reader = csv.reader(*args, **kwargs)

        def __iter__(self):
            return self

        def __next__(self):
            read.append(next(self.reader))
            return read[-1]

        @property
        def line_num(self):
            return self.reader.line_num

    monkeypatch.setattr(importer, "csv", SimpleNamespace(reader=Reader, Error=csv.Error))
    lines = "".join(f"2024-{m:02d},{m}\n" for m in range(1, 13))

    with pytest.raises(InvalidInput) as refused:
        importer.read_table(("Month,kWh\n" + lines).encode())

    assert len(read) == 1 + 4   # the header, the limit and the line past it
    assert refused.value.fields == {"file": "At most 3 data lines per file; split it in parts."}


def test_a_workbook_declaring_a_million_blank_rows_is_refused(monkeypatch):
    monkeypatch.setattr(importer, "MAX_BLANK_ROWS", 100)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Month", "Electricity"])
    sheet.append(["2024-01", 5])
    sheet.cell(row=1_000_000, column=1, value="the end")   # openpyxl yields every row between
    buffer = io.BytesIO()
    workbook.save(buffer)
    yielded = []
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    cells_by_row = ReadOnlyWorksheet._cells_by_row

    def spy(self, *args, **kwargs):
        for row in cells_by_row(self, *args, **kwargs):
            yielded.append(1)
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", spy)

    with pytest.raises(InvalidInput) as refused:
        importer.read_table(buffer.getvalue(), "sparse.xlsx")

    assert len(yielded) == 2 + 101
    assert refused.value.fields == {"file": "More than 100 blank lines: delete them."}


def test_a_workbook_with_too_many_columns_is_refused():
    data = _xlsx([["Month"] + [f"c{i}" for i in range(importer.MAX_COLUMNS)], ["2024-01"]])

    with pytest.raises(InvalidInput) as refused:
        importer.read_table(data, "wide.xlsx")

    assert refused.value.fields == {
        "file": f"At most {importer.MAX_COLUMNS} columns (line 1 has more)."}


def test_a_workbook_unpacking_beyond_the_limit_is_refused_before_openpyxl_reads_it(
        nordlicht, alice, setup, monkeypatch):
    monkeypatch.setattr(importer, "MAX_XLSX_UNPACKED", 64 * 1024)
    data = _xlsx(_month_rows(2_000))   # ~300 kB of sheet XML in a ~40 kB file

    def never(*args, **kwargs):
        raise AssertionError("openpyxl opened the workbook")

    monkeypatch.setattr("openpyxl.load_workbook", never)
    fields = _refused(nordlicht, alice, setup, data, name="big.xlsx")

    assert fields["file"].startswith("Unpacked, the archive would take")
    assert fields["file"].endswith("at most 64.0\xa0KB are accepted.")


# --- the write transaction -----------------------------------------------------------------------

@pytest.fixture
def carriers(transactional_db):
    """A transactional test may follow another that emptied the data migration's carriers."""
    from django.apps import apps

    from isocert.energy.loader import load_carriers
    from isocert.energy.models import EnergyCarrier

    if not EnergyCarrier.objects.exists():
        load_carriers(apps.get_model)


@pytest.fixture
def tx_setup(carriers, nordlicht, alice):
    from isocert.energy.demo import set_up_meters

    return set_up_meters(organization=nordlicht, actor=alice)


@pytest.mark.django_db(transaction=True)
def test_the_file_is_read_and_checked_outside_the_write_transaction(nordlicht, alice, tx_setup,
                                                                    monkeypatch):
    seen = {}

    def watch(name, func):
        def watched(*args, **kwargs):
            seen[name] = connection.in_atomic_block
            return func(*args, **kwargs)
        monkeypatch.setattr(importer, name, watched)

    watch("read_table", importer.read_table)
    watch("check_rows", importer.check_rows)
    create = ImportBatch.objects.create
    monkeypatch.setattr(ImportBatch.objects, "create", lambda **kw: (
        seen.setdefault("write", connection.in_atomic_block), create(**kw))[1])

    _import(nordlicht, alice, tx_setup, monthly_csv(months=3))

    assert seen == {"read_table": False, "check_rows": False, "write": True}


@pytest.mark.django_db(transaction=True)
def test_a_locked_database_on_writing_is_tried_again_and_the_import_completes(
        nordlicht, alice, tx_setup, monkeypatch):
    from isocert.core import db

    sleeps = []
    monkeypatch.setattr(db.time, "sleep", sleeps.append)
    create = ImportBatch.objects.create
    attempts = []

    def locked_once(**kwargs):
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("database is locked")
        return create(**kwargs)

    monkeypatch.setattr(ImportBatch.objects, "create", locked_once)

    batch = _import(nordlicht, alice, tx_setup, monthly_csv(months=3))

    assert len(attempts) == 2 and sleeps == [db.LOCKED_BACKOFF_SECONDS]
    assert ImportBatch.objects.get() == batch
    assert batch.values == Reading.objects.count() + VariableValue.objects.count() > 0
    assert AuditEvent.objects.filter(action="energy.data.imported").count() == 1


def test_data_imported_while_the_file_was_checked_is_refused_on_writing(nordlicht, alice, setup,
                                                                         monkeypatch):
    check_rows = importer.check_rows

    def meanwhile(*args, **kwargs):
        plan = check_rows(*args, **kwargs)
        monkeypatch.setattr(importer, "check_rows", check_rows)
        _import(nordlicht, alice, setup, monthly_csv(months=2))   # Bob, at the same moment
        return plan

    monkeypatch.setattr(importer, "check_rows", meanwhile)

    with pytest.raises(InvalidInput) as refused:
        _import(nordlicht, alice, setup, monthly_csv(months=3))

    assert "already has data for" in refused.value.fields["line 2"]
    assert ImportBatch.objects.count() == 1


# --- the mapping's JSON form -------------------------------------------------------------------

def test_a_mapping_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidInput, match="must be an object") as refused:
        MappingChoice.from_json(["Month"])

    assert set(refused.value.fields) == {"mapping"}


def test_malformed_column_entries_are_refused_by_their_place(nordlicht, alice, setup):
    mapping = monthly_mapping(setup)
    mapping["columns"] = ["Electricity (kWh)", {"column": "Natural gas (m³)", "meter_id": "x"}]

    fields = _refused(nordlicht, alice, setup, monthly_csv(months=3), mapping=mapping)

    assert fields["columns.0"] == "Give the column name."
    assert fields["columns.1"].startswith("Choose a meter of")
