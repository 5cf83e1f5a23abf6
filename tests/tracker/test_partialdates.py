"""Dates as sources give them: a day, a month or a year (tracker/partialdates.py)."""

import datetime

import pytest
from django.utils import translation

from tracker import text
from tracker.partialdates import PartialDate

D = datetime.date


@pytest.mark.parametrize(
    ("given", "first", "last", "precision"),
    [
        ("2019-12-23", D(2019, 12, 23), D(2019, 12, 23), "day"),
        ("2017-09", D(2017, 9, 1), D(2017, 9, 30), "month"),
        ("2020-02", D(2020, 2, 1), D(2020, 2, 29), "month"),
        (" 2022 ", D(2022, 1, 1), D(2022, 12, 31), "year"),
    ],
)
def test_a_partial_date_is_an_interval_kept_as_given(given, first, last, precision):
    date = PartialDate.parse(given)
    assert (date.first, date.last, date.precision) == (first, last, precision)
    assert str(date) == given.strip()
    assert PartialDate.parse(date.isoformat()) == date


@pytest.mark.parametrize(
    "wrong", ["", "2017-9", "17-09", "2017-13", "2019-02-30", "2017/09", "September 2017", "20222"]
)
def test_anything_else_is_not_a_date(wrong):
    with pytest.raises(ValueError, match="not a day, a month or a year"):
        PartialDate.parse(wrong)


@pytest.mark.parametrize(
    ("given", "english", "korean"),
    [
        ("2019-12-23", "23 December 2019", "2019년 12월 23일"),
        ("2017-09", "September 2017", "2017년 9월"),
        ("2022", "2022", "2022년"),
    ],
)
def test_a_date_reads_as_given_in_each_language(given, english, korean):
    with translation.override("en"):
        assert text.date(given) == english
        assert text.date(PartialDate.parse(given)) == english
    with translation.override("ko"):
        assert text.date(given) == korean
