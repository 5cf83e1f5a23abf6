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


# --- said as given: flags and statuses (tracker/flags/render.py, reports/status.py) ----------


@pytest.mark.django_db
def test_a_flag_says_each_claims_date_as_given_in_both_languages():
    from tests.factories import ClaimFactory, SourceFactory, country
    from tracker import checks
    from tracker.flags.render import FlagText
    from tracker.models import Flag

    ClaimFactory(
        place=country("CN"), count_low=50_000, as_of=D(2017, 9, 1), as_of_precision="month",
        attributed_to=SourceFactory(name="NKDB"),
    )  # fmt: skip
    ClaimFactory(
        place=country("CN"), count_low=70_000, count_high=80_000, as_of=D(2017, 1, 1),
        as_of_precision="year", attributed_to=SourceFactory(name="KITA"),
    )  # fmt: skip
    checks.sweep(today=D(2018, 6, 1), keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict")
    with translation.override("en"):
        assert FlagText([flag], sees=True).sentence(flag) == (
            "NKDB says 50,000 workers in China (as of September 2017) but KITA says "
            "70,000–80,000 (as of 2017)."
        )
    with translation.override("ko"):
        sentence = FlagText([flag], sees=True).sentence(flag)
    assert "2017년 9월 기준" in sentence and "2017년 기준" in sentence


@pytest.mark.django_db
def test_a_status_says_its_newest_evidence_as_given():
    from reports.status import status_matrix
    from tests.factories import ClaimFactory, country, obligation
    from tracker import checks

    op8 = obligation("UNSCR2397-OP8")
    ClaimFactory(
        place=country("CN"), obligation=op8, stance="violating", measure="", count_low=None,
        count_high=None, as_of=D(2020, 1, 1), as_of_precision="year",
    )  # fmt: skip
    ClaimFactory(
        place=country("CN"), obligation=op8, stance="violating", measure="", count_low=None,
        count_high=None, as_of=D(2019, 12, 1), as_of_precision="month",
    )  # fmt: skip
    today = D(2020, 6, 1)
    checks.sweep(today=today, keys=["CN"])
    with translation.override("en"):
        matrix = status_matrix(countries=[country("CN")], obligations=[op8], today=today)
    result = matrix.cell(country("CN").pk, op8.pk)
    # "December 2019" reaches back before the deadline: only "2020" is evidence after it.
    assert result.reason == (
        "violating: 1 claim from 1 independent source(s) since 22 December 2019, newest 2020"
    )


@pytest.mark.django_db
def test_the_dossier_carries_dates_as_given(viewer_client):
    from tests.factories import ClaimFactory, obligation
    from tests.tracker.test_dossier import csv_rows, dossier
    from tracker import checks

    ClaimFactory(
        obligation=obligation("UNSCR2397-OP8"), stance="violating", count_low=50_000,
        as_of=D(2020, 9, 1), as_of_precision="month", external_id="NK-9",
    )  # fmt: skip
    checks.sweep(today=D(2020, 12, 1), keys=["CN"])
    archive = dossier(viewer_client)
    [row] = [r for r in csv_rows(archive, "claims.csv") if r["external_id"] == "NK-9"]
    assert row["as_of"] == "2020-09"
    assert "as of September 2020" in archive.read("dossier.html").decode()
