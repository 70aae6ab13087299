"""The ISO 50003 audit-day table the CB enters, and the audit-time selectors that use it."""

import io
import json
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from isocert.catalog import selectors
from isocert.catalog.audittime import compute_audit_time
from isocert.catalog.models import EnmsDayTableRow
from isocert.core.errors import InvalidInput

ENERGY = {"code": "ISO 50001", "effective_personnel": 24, "annual_energy_consumption_tj": 310,
          "energy_types": 3, "significant_energy_uses": 5}


def row(low, high, high_days="3", medium_days="2.5", low_days="2"):
    return EnmsDayTableRow(personnel_min=low, personnel_max=high, high=Decimal(high_days),
                           medium=Decimal(medium_days), low=Decimal(low_days))


def add(low, high, *days):
    entry = row(low, high, *days)
    entry.full_clean()
    entry.save()
    return entry


# --- the model ----------------------------------------------------------------------------------

def test_rows_are_ordered_by_their_first_head_count(db):
    add(31, None)
    add(1, 10)
    add(11, 30)

    assert [r.band_label for r in EnmsDayTableRow.objects.all()] == ["1–10", "11–30", "31+"]


@pytest.mark.parametrize(("new", "field"), [
    ((5, 20), "personnel_min"),     # starts inside 1-10
    ((1, 10), "personnel_min"),     # the same band again
    ((11, 20), "personnel_min"),    # inside 11-30
    ((0, 5), "personnel_min"),      # below 1
    ((50, None), "personnel_min"),  # inside the open-ended 40+
    ((35, None), "personnel_max"),  # a second open-ended band, reaching into 40+
])
def test_overlapping_bands_are_refused(db, new, field):
    add(1, 10)
    add(11, 30)
    add(40, None)

    with pytest.raises(ValidationError) as exc:
        row(*new).full_clean()

    assert field in exc.value.message_dict


def test_a_band_ending_inside_the_next_names_its_upper_bound(db):
    add(20, 30)

    with pytest.raises(ValidationError) as exc:
        row(5, 25).full_clean()

    assert list(exc.value.message_dict) == ["personnel_max"]
    assert "overlaps the 20–30 band" in exc.value.message_dict["personnel_max"][0]


def test_an_open_ended_band_overlaps_everything_above_it(db):
    add(1, None)

    with pytest.raises(ValidationError) as exc:
        row(500, 600).full_clean()

    assert "overlaps the 1+ band" in str(exc.value)


def test_adjacent_bands_and_editing_a_row_in_place_are_fine(db):
    first = add(1, 10)
    add(11, None)

    first.personnel_max = 10
    first.high = Decimal("3.5")
    first.full_clean()  # does not overlap itself


def test_upper_bound_below_lower_bound_is_refused(db):
    with pytest.raises(ValidationError) as exc:
        row(10, 5).full_clean()

    assert list(exc.value.message_dict) == ["personnel_max"]


@pytest.mark.parametrize("column", ["high", "medium", "low"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_days_must_be_more_than_zero(db, column, value):
    entry = row(1, 10)
    setattr(entry, column, Decimal(value))

    with pytest.raises(ValidationError) as exc:
        entry.full_clean()

    assert column in exc.value.message_dict


@pytest.mark.parametrize("values", [
    {"personnel_min": 10, "personnel_max": 5},
    {"personnel_min": 0, "personnel_max": 5},
    {"personnel_min": 1, "personnel_max": 5, "medium": Decimal("0")},
])
def test_the_database_refuses_what_clean_refuses(db, values):
    data = {"high": Decimal(3), "medium": Decimal(2), "low": Decimal(1), **values}

    with pytest.raises(IntegrityError), transaction.atomic():
        EnmsDayTableRow.objects.create(**data)


# --- selectors ----------------------------------------------------------------------------------

def test_an_empty_table_is_none(db):
    assert selectors.enms_days_table() is None
    assert selectors.enms_days_table_gaps() == []


def test_the_table_in_the_engines_row_format(db):
    add(11, None, "8", "6.5", "5")
    add(1, 10, "3", "2.5", "2")

    rows = selectors.enms_days_table()

    assert rows == [
        {"personnel_min": 1, "personnel_max": 10, "high": Decimal("3"),
         "medium": Decimal("2.5"), "low": Decimal("2")},
        {"personnel_min": 11, "personnel_max": None, "high": Decimal("8"),
         "medium": Decimal("6.5"), "low": Decimal("5")},
    ]
    result = compute_audit_time({"standards": [ENERGY]}, enms_days_table=rows)
    assert result["standards"][0]["table_days"] == 6.5


def test_gaps_in_the_table_are_listed(db):
    add(5, 10)
    add(12, 30)

    assert selectors.enms_days_table_gaps() == ["1-4", "11", "31 and more"]


@pytest.mark.parametrize(("value", "share"), [("1/3", Fraction(1, 3)), (" 1/4 ", Fraction(1, 4)),
                                              ("0.4", Fraction(2, 5))])
def test_the_stage1_share_comes_from_the_settings(settings, value, share):
    settings.AUDIT_TIME_STAGE1_SHARE = value

    assert selectors.audit_time_stage1_share() == share


@pytest.mark.parametrize("value", ["one third", "1/0", "0", "1", "3/2", "-1/3"])
def test_a_bad_stage1_share_setting_fails_loudly(settings, value):
    settings.AUDIT_TIME_STAGE1_SHARE = value

    with pytest.raises(ImproperlyConfigured, match="AUDIT_TIME_STAGE1_SHARE"):
        selectors.audit_time_stage1_share()


def test_estimate_uses_the_configured_share_and_table(db, settings):
    settings.AUDIT_TIME_STAGE1_SHARE = "1/4"
    add(1, None, "4", "3", "2")
    data = {"standards": [{"code": "ISO 9001", "effective_personnel": 30}, ENERGY]}

    result = selectors.estimate_audit_time(data)

    assert result == compute_audit_time(data, stage1_share=Fraction(1, 4),
                                        enms_days_table=selectors.enms_days_table())
    assert result["initial_days"] == 7.0 and result["stage1_days"] == 2.0


def test_estimate_turns_engine_refusals_into_invalid_input(db):
    with pytest.raises(InvalidInput) as exc:
        selectors.estimate_audit_time(
            {"standards": [{"code": "ISO 45001", "effective_personnel": 8}]})

    assert exc.value.status == 422 and exc.value.code == "invalid"
    assert exc.value.fields == {
        "standards.0.complexity": "is required for ISO 45001 (high|medium|low)"}
    assert exc.value.message == ("standards.0.complexity: is required for ISO 45001 "
                                 "(high|medium|low)")


@pytest.mark.parametrize(("value", "field"), [
    (10**13, "standards.0.effective_personnel"),
    ("1e99999999", "standards.0.effective_personnel"),
    (Decimal("1e-40"), "standards.0.effective_personnel"),
])
def test_estimate_bounds_number_sizes_before_the_exact_engine_runs(db, value, field):
    with pytest.raises(InvalidInput) as exc:
        selectors.estimate_audit_time(
            {"standards": [{"code": "ISO 9001", "effective_personnel": value}]})

    assert list(exc.value.fields) == [field]


def test_bounded_numbers_elsewhere_are_named_too(db):
    with pytest.raises(InvalidInput) as exc:
        selectors.estimate_audit_time({
            "standards": [{"code": "ISO 9001", "effective_personnel": 5}],
            "adjustments": [{"reason": "1e99999999 is only text here", "percent": "-1e20"}]})

    assert list(exc.value.fields) == ["adjustments.0.percent"]


# --- the admin ----------------------------------------------------------------------------------

def test_the_admin_explains_where_the_figures_come_from(ada, api_client):
    client = api_client(ada)

    empty = client.get(reverse("admin:catalog_enmsdaytablerow_changelist"))
    add(5, None)
    gaps = client.get(reverse("admin:catalog_enmsdaytablerow_changelist"))
    form = client.get(reverse("admin:catalog_enmsdaytablerow_add"))

    assert empty.status_code == gaps.status_code == form.status_code == 200
    for page in (empty, form):
        assert "licensed copy of ISO 50003:2021" in page.content.decode()
        assert "isocert ships none" in page.content.decode()
    assert "Not configured:" in empty.content.decode()
    assert "Not covered:</strong> effective personnel 1-4" in gaps.content.decode()


def test_the_admin_refuses_an_overlapping_band(ada, api_client):
    add(1, 10)
    client = api_client(ada)

    response = client.post(reverse("admin:catalog_enmsdaytablerow_add"), {
        "personnel_min": "8", "personnel_max": "20", "high": "3", "medium": "2", "low": "1"})

    assert response.status_code == 200
    assert "overlaps the 1–10 band" in response.content.decode()
    assert EnmsDayTableRow.objects.count() == 1


def test_clients_cannot_reach_the_admin(alice, api_client):
    response = api_client(alice).get(reverse("admin:catalog_enmsdaytablerow_changelist"))

    assert response.status_code == 302
    assert EnmsDayTableRow.objects.count() == 0


# --- the command line ---------------------------------------------------------------------------

def cli(*args):
    out = io.StringIO()
    call_command("audit-time", *args, stdout=out)
    return out.getvalue()


def test_the_cli_uses_the_configured_table_when_asked(db):
    add(1, None, "4", "3", "2")
    energy = ("--standard", "ISO 50001", "--personnel", "24", "--energy-tj", "310",
              "--energy-types", "3", "--seus", "5")

    with_table = cli(*energy, "--configured-enms-table")
    without = cli(*energy)

    assert "Needs configuration" not in with_table
    assert "Initial audit (stage 1 + 2)       3 days" in with_table
    assert "Needs configuration: ISO 50001 audit-day table (ISO 50003) not configured" in without


def test_the_cli_json_output_with_the_configured_table(db, tmp_path):
    add(1, None, "4", "3", "2")
    path = tmp_path / "input.json"
    path.write_text(json.dumps({"standards": [ENERGY]}))

    result = json.loads(cli("--json", str(path), "--configured-enms-table"))

    assert result == selectors.estimate_audit_time({"standards": [ENERGY]})
