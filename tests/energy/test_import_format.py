"""How an import file writes numbers and dates: chosen or confirmed, never guessed.

A value that can be read two ways (``12,500``, ``03/04/2025``) is flagged and refuses the
import until the person chooses; one that decides (``1.234,5``, ``13/04/2025``) settles
its option for the whole file.
"""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from isocert.core.errors import InvalidInput
from isocert.energy import importer, services
from isocert.energy.dataformat import (
    DataFormat,
    Detected,
    column_numbers,
    detect_format,
    frequency_of,
    parse_number,
)
from isocert.energy.importer import MappingChoice
from isocert.energy.models import ImportBatch, Reading, VariableValue

# --- reading one value ---------------------------------------------------------------------


@pytest.mark.parametrize(("text", "decimal", "thousands", "expected"), [
    ("12,500", ".", "", None),                    # the bug: was read as 12.5 silently
    ("12,500", ".", ",", Decimal("12500")),
    ("12,500", ",", "", Decimal("12.5")),
    ("1.234,5", ",", ".", Decimal("1234.5")),
    ("1,234.5", ".", ",", Decimal("1234.5")),
    ("1 234,5", ",", " ", Decimal("1234.5")),
    ("1\u00a0234,5", ",", " ", Decimal("1234.5")),
    ("1'234.5", ".", "'", Decimal("1234.5")),
    ("-3,5", ",", "", Decimal("-3.5")),
    ("12,50", ".", ",", None),                    # not a regular grouping of thousands
    ("1.234,5", ".", ",", None),                  # written the other way
    ("1,234,567", ".", ",", Decimal("1234567")),
    ("abc", ".", "", None),
    ("", ".", "", None),
])
def test_a_number_is_read_with_the_chosen_separators(text, decimal, thousands, expected):
    assert parse_number(text, decimal, thousands) == expected


def test_excel_numbers_need_no_separator():
    assert parse_number(1234.5, ",", ".") == Decimal("1234.5")
    assert parse_number(True) is None and parse_number(float("nan")) is None


# --- what the file shows -------------------------------------------------------------------

def _detect(*values, dates=()) -> Detected:
    rows = [(line, [date, value]) for line, (date, value) in enumerate(
        zip(dates or ["2025-01-01"] * len(values), values, strict=True), start=2)]
    return detect_format(rows, number_columns=[1], date_columns=[0])


@pytest.mark.parametrize(("values", "decimal", "thousands"), [
    (["1.234,5", "980"], ",", "."),      # both marks: the last one is the decimal
    (["1,234.5", "980"], ".", ","),
    (["1234,5"], ",", ""),               # four digits before the mark: no grouping
    (["12,500", "1234,5"], ",", ""),     # another value decides the comma
    (["12,500", "7.5"], ".", ","),       # … or the point, and 12,500 is then twelve thousand
    (["1,234,567"], ".", ","),           # a mark that repeats groups thousands
    (["12 500,5"], ",", " "),
    (["980", "1200"], ".", ""),          # no mark anywhere: nothing to decide
])
def test_a_value_that_decides_settles_the_separators(values, decimal, thousands):
    detected = _detect(*values)
    assert (detected.decimal, detected.thousands, detected.flags) == (decimal, thousands, {})


@pytest.mark.parametrize("value", ["12,500", "12.500"])
def test_an_ambiguous_number_is_flagged_not_guessed(value):
    detected = _detect(value, "980")

    assert detected.decimal is None
    assert value in detected.flags["decimal_separator"]
    assert "12.5" in detected.flags["decimal_separator"]
    assert "12,500" in detected.flags["decimal_separator"]


def test_decimals_written_both_ways_are_flagged():
    detected = _detect("1.234,5", "1,234.5")
    assert "both ways" in detected.flags["decimal_separator"]


@pytest.mark.parametrize(("dates", "order", "flagged"), [
    (["03/04/2025"], None, True),                    # 3 April or 4 March?
    (["2025-04-03"], None, False),                   # ISO: no order needed
    (["03/04/2025", "13/04/2025"], "dmy", False),    # a day above 12 decides day first
    (["04/03/2025", "04/13/2025"], "mdy", False),    # … or month first
    (["04.04.2025"], None, False),                   # day = month: either way the same
])
def test_the_date_order_is_decided_by_the_file_or_flagged(dates, order, flagged):
    detected = _detect(*["1"] * len(dates), dates=dates)

    assert detected.date_order == order
    assert ("date_order" in detected.flags) is flagged


def test_dates_written_both_ways_are_flagged():
    detected = _detect("1", "2", dates=["13/04/2025", "04/14/2025"])
    assert "both ways" in detected.flags["date_order"]


@pytest.mark.parametrize(("whens", "frequency"), [
    ([datetime.date(2025, 1, d) for d in (1, 2, 3)], "daily"),
    ([datetime.date(2025, 1, d) for d in (6, 13, 20)], "weekly"),
    ([datetime.date(2025, m, 1) for m in (1, 2, 3)], "monthly"),
    ([datetime.datetime(2025, 1, 1, 0, m) for m in (0, 15, 30)], "interval"),
    ([datetime.date(2025, 1, 1), datetime.date(2025, 1, 4)], None),
])
def test_the_period_type_is_read_from_the_dates(whens, frequency):
    assert frequency_of(whens) == frequency


# --- the import ----------------------------------------------------------------------------

def _mapping(setup, **options) -> MappingChoice:
    return MappingChoice.from_json({"date": "Date", "columns": [
        {"column": "Electricity (kWh)", "meter_id": setup["electricity"].pk}], **options})


def _import(nordlicht, alice, setup, text, **options):
    return services.import_energy_data(organization=nordlicht, actor=alice,
                                       data=text.encode(), file_name="locale.csv",
                                       mapping=_mapping(setup, **options))


def _refused(nordlicht, alice, setup, text, **options) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        _import(nordlicht, alice, setup, text, **options)
    assert not Reading.objects.exists() and not ImportBatch.objects.exists()
    return refused.value


def _kwh(meter) -> list[tuple]:
    return list(Reading.objects.filter(meter=meter).order_by("period_start")
                .values_list("period_start", "quantity"))


GERMAN = "Date;Electricity (kWh)\n01.01.2025;1.234,5\n02.01.2025;12.500\n13.01.2025;3,25\n"


def test_a_german_file_is_read_with_its_separators_and_day_first(nordlicht, alice, setup):
    text = ("Date;Electricity (kWh)\n"
            + "".join(f"{d:02d}.01.2025;{v}\n" for d, v in
                      zip(range(1, 15), ["1.234,5", "12.500", "3,25"] + ["100"] * 11,
                          strict=True)))

    batch = _import(nordlicht, alice, setup, text)

    assert _kwh(setup["electricity"])[:3] == [
        (datetime.date(2025, 1, 1), Decimal("1234.5")),
        (datetime.date(2025, 1, 2), Decimal("12500")),
        (datetime.date(2025, 1, 3), Decimal("3.25"))]
    assert batch.frequency == "daily"
    assert (batch.mapping["decimal_separator"], batch.mapping["thousands_separator"],
            batch.mapping["date_order"]) == (",", ".", "dmy")


def test_an_american_file_is_read_with_its_separators_and_month_first(nordlicht, alice, setup):
    text = ("Date,Electricity (kWh)\n"
            + "".join(f'01/{d:02d}/2025,"{v}"\n' for d, v in
                      zip(range(1, 15), ["1,234.5", "12,500"] + ["100"] * 12, strict=True)))

    _import(nordlicht, alice, setup, text)

    assert _kwh(setup["electricity"])[:2] == [(datetime.date(2025, 1, 1), Decimal("1234.5")),
                                              (datetime.date(2025, 1, 2), Decimal("12500"))]
    assert Reading.objects.count() == 14


AMBIGUOUS = 'Date,Electricity (kWh)\n2025-04-01,"12,500"\n2025-04-02,"980"\n'


def test_an_ambiguous_number_refuses_the_import_naming_the_option(nordlicht, alice, setup):
    refused = _refused(nordlicht, alice, setup, AMBIGUOUS)

    assert refused.code == "import_ambiguous"
    assert set(refused.fields) == {"decimal_separator"}
    assert "“12,500” (line 2) may be 12.5 or 12,500" in refused.fields["decimal_separator"]


@pytest.mark.parametrize(("decimal", "expected"), [(".", Decimal("12500")),
                                                   (",", Decimal("12.5"))])
def test_the_chosen_decimal_separator_reads_the_ambiguous_value(nordlicht, alice, setup,
                                                                decimal, expected):
    _import(nordlicht, alice, setup, AMBIGUOUS, decimal_separator=decimal)

    assert _kwh(setup["electricity"])[0] == (datetime.date(2025, 4, 1), expected)


MONTHLY_SLASHES = "Date,Electricity (kWh)\n01/03/2025,100\n01/04/2025,110\n01/05/2025,120\n"


def test_an_ambiguous_date_refuses_the_import_naming_the_date_order(nordlicht, alice, setup):
    refused = _refused(nordlicht, alice, setup, MONTHLY_SLASHES)

    assert set(refused.fields) == {"date_order"}
    assert "“01/03/2025” (line 2) may be day first or month first" in refused.fields["date_order"]


@pytest.mark.parametrize(("order", "first", "frequency"), [
    ("dmy", datetime.date(2025, 3, 1), "monthly"),   # 1 March, 1 April, 1 May
    ("mdy", datetime.date(2025, 1, 3), "daily"),     # 3, 4, 5 January
])
def test_the_chosen_date_order_reads_the_dates(nordlicht, alice, setup, order, first,
                                               frequency):
    batch = _import(nordlicht, alice, setup, MONTHLY_SLASHES, date_order=order)

    assert _kwh(setup["electricity"])[0][0] == first
    assert batch.frequency == frequency


def test_iso_dates_need_no_date_order(nordlicht, alice, setup):
    batch = _import(nordlicht, alice, setup,
                    "Date,Electricity (kWh)\n2025-04-03,5\n2025-04-04,6\n")

    assert batch.frequency == "daily" and Reading.objects.count() == 2


def test_a_value_written_against_the_chosen_separator_is_reported_by_line(nordlicht, alice,
                                                                           setup):
    refused = _refused(nordlicht, alice, setup,
                       'Date,Electricity (kWh)\n2025-04-01,"1.234,5"\n2025-04-02,7\n',
                       decimal_separator=".", thousands_separator=",")

    assert refused.code == "import_refused"
    assert "“1.234,5” is not a number" in refused.fields["line 2"]


@pytest.mark.parametrize(("options", "field"), [
    ({"decimal_separator": ";"}, "decimal_separator"),
    ({"thousands_separator": "_"}, "thousands_separator"),
    ({"date_order": "ydm"}, "date_order"),
    ({"decimal_separator": ",", "thousands_separator": ","}, "thousands_separator"),
    ({"frequency": "hourly"}, "frequency"),
])
def test_an_unknown_option_is_refused_by_its_name(nordlicht, alice, setup, options, field):
    refused = _refused(nordlicht, alice, setup, AMBIGUOUS, **options)
    assert field in refused.fields


def test_a_period_type_the_dates_do_not_show_must_be_chosen(nordlicht, alice, setup):
    refused = _refused(nordlicht, alice, setup, "Date,Electricity (kWh)\n2025-04-01,5\n"
                                                "2025-04-04,6\n")
    assert set(refused.fields) == {"frequency"}


# --- intervals within a day ----------------------------------------------------------------

def _intervals(days: int, *, skip: int | None = None, start=datetime.datetime(2025, 1, 6)):
    lines = ["Timestamp,Electricity (kWh),Natural gas (m³)"]
    for i in range(days * 96):
        if i == skip:
            continue
        when = start + datetime.timedelta(minutes=15 * i)
        lines.append(f"{when:%Y-%m-%d %H:%M},{1 + i % 4},0.5")
    return "\n".join(lines) + "\n"


def _interval_mapping(setup, **extra) -> MappingChoice:
    return MappingChoice.from_json({"date": "Timestamp", "columns": [
        {"column": "Electricity (kWh)", "meter_id": setup["electricity"].pk},
        {"column": "Natural gas (m³)", "meter_id": setup["gas"].pk}], **extra})


def test_fifteen_minute_data_is_summed_into_days(nordlicht, alice, setup):
    batch = services.import_energy_data(organization=nordlicht, actor=alice,
                                        data=_intervals(2).encode(), file_name="15min.csv",
                                        mapping=_interval_mapping(setup))

    assert (batch.frequency, batch.rows, batch.values) == ("interval", 192, 4)
    # 24 cycles of 1+2+3+4 kWh a day; 96 × 0.5 m³ of gas = 48 m³ = 480 kWh.
    assert _kwh(setup["electricity"]) == [(datetime.date(2025, 1, 6), Decimal(240)),
                                          (datetime.date(2025, 1, 7), Decimal(240))]
    gas = Reading.objects.filter(meter=setup["gas"]).first()
    assert (gas.quantity, gas.kwh) == (Decimal(48), Decimal(480))


def test_a_day_missing_an_interval_is_refused(nordlicht, alice, setup):
    with pytest.raises(InvalidInput) as refused:
        services.import_energy_data(organization=nordlicht, actor=alice,
                                    data=_intervals(2, skip=100).encode(),
                                    file_name="15min.csv", mapping=_interval_mapping(setup))

    assert "7 Jan 2025 has 95 of its 96 15-minute intervals" in refused.value.fields["line 98"]
    assert not Reading.objects.exists()


def test_a_variable_in_interval_data_is_refused(nordlicht, alice, setup):
    text = "Timestamp,Production (t)\n2025-01-06 00:00,1\n2025-01-06 00:15,1\n"
    with pytest.raises(InvalidInput) as refused:
        services.import_energy_data(
            organization=nordlicht, actor=alice, data=text.encode(), file_name="p.csv",
            mapping=MappingChoice.from_json({"date": "Timestamp", "columns": [
                {"column": "Production (t)", "variable_id": setup["production"].pk}]}))

    assert "meters only" in refused.value.fields["frequency"]
    assert not VariableValue.objects.exists()


def test_the_mapping_as_stored_names_the_format_used(nordlicht, alice, setup):
    batch = _import(nordlicht, alice, setup, AMBIGUOUS, decimal_separator=",")
    assert batch.mapping | {"columns": []} == {
        "frequency": "daily", "date": "Date", "start": "", "end": "", "columns": [],
        "decimal_separator": ",", "thousands_separator": "", "date_order": "dmy"}


# --- API and page --------------------------------------------------------------------------

def _upload(client, nordlicht, text, mapping):
    return client.post(f"/api/v1/organizations/{nordlicht.pk}/energy/imports", {
        "file": SimpleUploadedFile("locale.csv", text.encode(), content_type="text/csv"),
        "mapping": json.dumps(mapping)})


def test_the_api_answers_422_naming_the_option_then_imports_with_it(nordlicht, alice, setup,
                                                                     api_client):
    client = api_client(alice)
    mapping = {"date": "Date", "columns": [
        {"column": "Electricity (kWh)", "meter_id": setup["electricity"].pk}]}

    refused = _upload(client, nordlicht, AMBIGUOUS, mapping)
    imported = _upload(client, nordlicht, AMBIGUOUS, mapping | {"decimal_separator": "."})

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "import_ambiguous"
    assert list(refused.json()["error"]["fields"]) == ["decimal_separator"]
    assert imported.status_code == 201
    assert _kwh(setup["electricity"])[0][1] == Decimal(12500)


def test_the_mapping_step_flags_the_ambiguous_value_and_imports_the_choice(nordlicht, alice,
                                                                           setup, api_client):
    alice_web = api_client(alice)
    url = f"/organizations/{nordlicht.pk}/energy/import/"
    alice_web.post(url, {"file": SimpleUploadedFile("a.csv", MONTHLY_SLASHES.encode())})

    page = alice_web.get(url + "map/").content.decode()
    columns = {"col_0": "date", "col_1": f"meter:{setup['electricity'].pk}"}
    unchosen = alice_web.post(url + "map/", columns)
    assert unchosen.status_code == 200 and not Reading.objects.exists()
    chosen = alice_web.post(url + "map/", columns | {"date_order": "dmy"})

    assert 'data-testid="format-flags"' in page and "may be day first or month first" in page
    assert "may be day first or month first" in unchosen.content.decode()
    assert chosen.status_code == 302
    assert _kwh(setup["electricity"])[0] == (datetime.date(2025, 3, 1), Decimal(100))
    assert ImportBatch.objects.get().frequency == "monthly"


def test_columns_are_matched_to_meters_by_name():
    from types import SimpleNamespace

    from isocert.energy.forms import guess_target

    meters = [SimpleNamespace(pk=1, name="Gas"), SimpleNamespace(pk=2, name="Gas boiler 2")]
    variables = [SimpleNamespace(pk=3, name="Production")]

    assert guess_target("Gas (m³)", meters, variables) == "meter:1"
    assert guess_target("Gas boiler 2 [m³]", meters, variables) == "meter:2"
    assert guess_target("Total gas boiler 2 reading", meters, variables) == "meter:2"
    assert guess_target("Production (t)", meters, variables) == "variable:3"
    assert guess_target("Timestamp", meters, variables) == "date"
    assert guess_target("Comment", meters, variables) == ""


def test_detection_reads_only_the_named_columns():
    table = importer.Table(kind="csv", headers=["Date", "Electricity", "Note"],
                           rows=[(2, ["2025-01-01", "1234,5", "12.500"])])
    detected = importer.detect(table, number_columns=["Electricity"], date_columns=["Date"])
    assert (detected.decimal, detected.flags) == (",", {})


def test_a_bad_or_negative_interval_value_is_reported_by_its_line(nordlicht, alice, setup):
    text = _intervals(1).replace("2025-01-06 00:15,2,", "2025-01-06 00:15,two,").replace(
        "2025-01-06 00:30,3,0.5", "2025-01-06 00:30,3,-0.5")
    with pytest.raises(InvalidInput) as refused:
        services.import_energy_data(organization=nordlicht, actor=alice, data=text.encode(),
                                    file_name="15min.csv", mapping=_interval_mapping(setup))

    assert "“two” is not a number" in refused.value.fields["line 3"]
    assert "-0.5 is negative" in refused.value.fields["line 4"]
    assert not Reading.objects.exists()


@pytest.mark.parametrize(("column", "data_format", "expected"), [
    (("1", "2.5", "-3", ".5"), DataFormat(), [1, 2.5, -3, 0.5]),
    (("1.234,5", "12.500"), DataFormat(",", "."), [1234.5, 12500]),
    (("1 234,5", "12\u00a0500"), DataFormat(",", " "), [1234.5, 12500]),
    (("1", "x"), DataFormat(), None),
    (("1", ""), DataFormat(), None),
    (("12,50",), DataFormat(".", ","), None),
    (("1e5",), DataFormat(), None),
    ((1.5, "2"), DataFormat(), None),
])
def test_a_column_is_read_at_once_or_handed_back_cell_by_cell(column, data_format, expected):
    numbers = column_numbers(column, data_format)
    assert numbers == (None if expected is None else [Decimal(str(v)) for v in expected])
