"""The shared input cleaners: clean values, or InvalidInput naming the field."""

import datetime

import pytest

from isocert.core.errors import InvalidInput
from isocert.core.validation import clean_date, clean_reason

DAY = datetime.date(2026, 11, 26)


@pytest.mark.parametrize("value", [DAY, datetime.datetime(2026, 11, 26, 23, 5), "2026-11-26"])
def test_a_date_from_a_date_a_datetime_or_text(value):
    assert clean_date(value, "start_date") == DAY


def test_an_empty_date_takes_the_default_or_is_refused():
    assert clean_date("", "start_date", default=DAY) == DAY
    with pytest.raises(InvalidInput) as refused:
        clean_date(None, "start_date")
    assert refused.value.fields == {"start_date": "Enter a date (YYYY-MM-DD)."}


@pytest.mark.parametrize("value", ["26.11.2026", "2026-13-01", "2026-02-30", "tomorrow"])
def test_a_malformed_or_impossible_date_is_refused_naming_the_field(value):
    with pytest.raises(InvalidInput) as refused:
        clean_date(value, "end_date")
    assert refused.value.message == "Please give a valid date."
    assert refused.value.fields == {"end_date": "Enter a date (YYYY-MM-DD)."}


def test_a_reason_is_trimmed_and_cut_at_the_limit():
    assert clean_reason("  Client's request.  ") == "Client's request."
    assert clean_reason("x" * 50, limit=10) == "x" * 10


def test_a_short_reason_is_refused_with_what_is_missing():
    with pytest.raises(InvalidInput) as refused:
        clean_reason(" no ", what="the reason for the withdrawal")
    assert refused.value.message == "Please give the reason for the withdrawal."
    assert refused.value.fields == {
        "reason": "Give the reason for the withdrawal (at least 5 characters)."}
    with pytest.raises(InvalidInput) as refused:
        clean_reason("", field="comment", message="Say why the plan is revised.")
    assert refused.value.message == "Say why the plan is revised."
    assert list(refused.value.fields) == ["comment"]


def test_choices_are_named_by_their_labels_not_their_codes():
    from isocert.audits.models import AuditReport
    from isocert.core.validation import choice_error, choice_labels

    assert choice_error(AuditReport.Recommendation, what="the recommendation") == (
        "Choose the recommendation: Recommend certification, Recommend after the major "
        "nonconformities are closed or Do not recommend.")
    assert choice_labels([("a", "Yes"), ("b", "No")]) == "Yes or No"
    assert choice_labels([("a", "Only")]) == "Only"
