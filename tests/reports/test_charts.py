"""The chart of estimates (country page and summaries): the data it plots, checked on the
matplotlib axes it draws (not on pixels): y axis from zero, each source its points, ranges as
bars, the median line, the obligations' dates and caps, labels in the reader's language."""

import datetime

import pytest
from django.utils import translation
from matplotlib.collections import LineCollection
from matplotlib.dates import date2num
from matplotlib.figure import Figure

from reports import charts
from tests.factories import ClaimFactory, SourceFactory, country
from tracker.models import Obligation
from tracker.partialdates import PartialDate

pytestmark = pytest.mark.django_db

UNTIL = datetime.date(2026, 1, 1)


def figure(source, low, high, as_of, iso="CN"):
    return ClaimFactory(place=country(iso), attributed_to=source, measure="workers",
                        count_low=low, count_high=high, as_of=as_of,
                        obligation=None, stance="")  # fmt: skip


@pytest.fixture
def figures():
    kita, kinu = SourceFactory(name="KITA"), SourceFactory(name="KINU")
    informant = SourceFactory(name="Canary Informant", confidential=True)
    figure(kita, 70_000, 80_000, datetime.date(2019, 8, 31))
    figure(kita, 72_000, 72_000, datetime.date(2019, 10, 1))  # KITA's latest of 2019
    figure(kinu, 50_000, 50_000, datetime.date(2019, 12, 23))
    figure(informant, 2_000, None, datetime.date(2016, 6, 1))  # "at least 2,000"
    return charts.estimates([country("CN")], UNTIL, sees=False)["CN"]["workers"]


def panel(points, language="en"):
    with translation.override(language):
        name = country("CN").local_name
        return charts.panels(name, {"workers": points}, list(Obligation.objects.all()))[0]


def drawn(p):
    ax = Figure().subplots()
    charts._draw(ax, p)
    return ax


def test_each_figure_keeps_its_bounds_and_a_hidden_source_is_not_named(figures):
    assert [(f.low, f.high, f.source) for f in figures] == [
        (2_000, None, "confidential source"),
        (70_000, 80_000, "KITA"),
        (72_000, 72_000, "KITA"),
        (50_000, 50_000, "KINU"),
    ]


def test_the_median_takes_each_sources_latest_figure_of_the_year(figures):
    p = panel(figures)
    assert p.median == [
        (datetime.date(2016, 1, 1), datetime.date(2016, 12, 31), 2_000),  # an open range: its low
        (datetime.date(2019, 1, 1), datetime.date(2019, 12, 31), 61_000),  # median(72,000, 50,000)
    ]


def test_the_y_axis_starts_at_zero_and_ranges_are_bars(figures):
    ax = drawn(panel(figures))
    bottom, top = ax.get_ylim()
    assert bottom == 0 and top >= 80_000
    bars = [
        [tuple(point) for point in segment]
        for collection in ax.collections
        if isinstance(collection, LineCollection)
        for segment in collection.get_segments()
    ]
    x = date2num(datetime.date(2019, 8, 31))
    assert [(x, 70_000), (x, 80_000)] in bars
    # "At least 2,000": a bar from its lower bound to the top of the axis.
    x = date2num(datetime.date(2016, 6, 1))
    assert [(x, 2_000), (x, top)] in bars


def test_each_source_has_its_own_marker_and_the_legend_names_them(figures):
    ax = drawn(panel(figures))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"KITA", "KINU", "confidential source"} <= set(legend)
    markers = {line.get_label(): line.get_marker() for line in ax.lines if line.get_label()}
    assert len({markers["KITA"], markers["KINU"], markers["confidential source"]}) == 3
    assert "median of each source's latest figure in the year" in legend
    assert "due 22 December 2019: repatriation by 22 December 2019" in legend
    assert "in force 5 August 2017: cap on work authorisations" in legend


def test_a_cap_is_marked_at_the_level_it_froze(figures):
    kita = SourceFactory(name="Early")
    figure(kita, 30_000, 40_000, datetime.date(2017, 7, 1))
    points = charts.estimates([country("CN")], UNTIL, sees=False)["CN"]["workers"]
    p = panel(points)
    assert [(m.at, m.label) for m in p.levels] == [
        (40_000, "capped at 40,000: cap on work authorisations")
    ]
    ax = drawn(p)
    assert any(list(line.get_ydata()) == [40_000, 40_000] for line in ax.lines)


def test_a_figure_dated_to_the_year_of_a_cap_is_not_the_level_it_froze(figures):
    """'2017' covers the whole year: it is not wholly before the cap of 5 August 2017."""
    early = SourceFactory(name="Early")
    ClaimFactory(place=country("CN"), attributed_to=early, measure="workers", count_low=30_000,
                 count_high=40_000, as_of_given=PartialDate.parse("2017"), obligation=None,
                 stance="")  # fmt: skip
    points = charts.estimates([country("CN")], UNTIL, sees=False)["CN"]["workers"]
    assert panel(points).levels == []


def test_the_chart_speaks_korean(figures):
    with translation.override("ko"):
        points = charts.estimates([country("CN")], UNTIL, sees=False)["CN"]["workers"]
    p = panel(points, "ko")
    with translation.override("ko"):
        ax = drawn(p)
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert p.title == "중국: 노동자"
    assert any("2019년 12월 22일까지 송환" in label for label in legend)
    assert "비공개 출처" in legend  # a hidden source, said in Korean
    assert "median of each source's latest figure in the year" not in legend


def test_the_country_chart_is_a_png(viewer_client, figures):
    response = viewer_client.get("/countries/CN/chart.png", HTTP_ACCEPT_LANGUAGE="ko")
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert viewer_client.get("/countries/FR/chart.png").status_code == 204


def test_a_source_keeps_its_colour_and_marker_from_one_panel_to_the_next():
    styles = charts.source_styles(["KITA", "KINU", "KITA", "NKDB"])
    assert list(styles) == ["KITA", "KINU", "NKDB"]
    assert len(set(styles.values())) == 3
