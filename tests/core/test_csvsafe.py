"""core.csvsafe: CSV cells a spreadsheet would run as formulas get a quote in front
(OWASP CSV injection), and the registry import can take it off again."""

import csv
import io

import pytest

from isocert.core.csvsafe import neutralise, restore, restore_row, safe_row, safe_writer

HYPERLINK = '=HYPERLINK("http://evil.example","x")'


@pytest.mark.parametrize("value", [HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx",
                                   "\0x", "=cmd|' /C calc'!A0"])
def test_a_cell_that_starts_like_a_formula_gets_a_quote(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["Nordlicht GmbH", "", "'t Hooft B.V.", "a=b", "ISO 9001",
                                   "20280229", "'", "x-y"])
def test_other_text_is_written_as_it_is(value):
    assert neutralise(value) == value


def test_values_that_are_not_text_are_left_alone():
    assert safe_row([3, None, -1, "-1"]) == [3, None, -1, "'-1"]


def test_a_cell_already_starting_with_a_quote_before_a_trigger_gets_another():
    # ...so that the reader can always take exactly one off.
    assert neutralise("'=1+1") == "''=1+1"
    assert neutralise("''@x") == "'''@x"


@pytest.mark.parametrize("value", [HYPERLINK, "'" + HYPERLINK, "''-1", "'t Hooft", "'", "",
                                   "plain", "-", "'-", "\t", "'\r"])
def test_restore_gives_back_what_was_neutralised(value):
    assert restore(neutralise(value)) == value
    # Written twice over a round trip, never a quote more.
    assert neutralise(restore(neutralise(value))) == neutralise(value)


def test_restore_row_keeps_a_row_without_quotes_as_it_is():
    values = ["a", "b=c", "-"]
    assert restore_row(values) is values
    assert restore_row(["x", "'=1", "'t"]) == ["x", "=1", "'t"]
    assert restore_row(["'+1"]) == ["+1"]


def test_the_writer_neutralises_every_cell_of_every_row():
    out = io.StringIO()
    writer = safe_writer(out)
    writer.writerow(["name", "note"])
    writer.writerows([[HYPERLINK, "@x"], ["Nordlicht", 7]])

    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["name", "note"], ["'" + HYPERLINK, "'@x"], ["Nordlicht", "7"]]
