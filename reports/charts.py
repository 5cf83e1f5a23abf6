"""The chart of worker estimates over time: the country page's and the summaries' (one code
for both, docs/design.md §7, decision on the country chart).

``estimates`` reads the figures (data, tested as data); ``panels`` arranges them with the
obligations' dates and caps; ``png`` draws them with matplotlib, in the active language.

What it draws, per country and stock measure:

1. each source's figures as points, one colour and marker per source, a legend naming the
   sources (a confidential source, for a reader who may not see it, is "confidential
   source": its figures stay, its name does not);
2. a range (``count_low``..``count_high``) as a vertical bar between its bounds; an open
   range ("at least 2,000") as a bar from its lower bound to the top of the axis, with an
   upward arrowhead;
3. the median line: for each calendar year, the median of each source's latest figure that
   year (a range counts by its midpoint, an open range by its lower bound), drawn across the
   year: one source that publishes monthly weighs as much as one that publishes yearly;
4. the deadlines and reporting dates, and the dates caps and bans took effect, as vertical
   lines, each named in the legend; a cap's level (the country's latest figure on or before
   it took effect, its upper bound) as a horizontal line, when there is one;
5. the y axis from zero.
"""

from __future__ import annotations

import datetime
import functools
import io
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from tracker import rules, text, visibility
from tracker.models import Claim, Measure, Obligation, Place
from tracker.partialdates import PartialDate

# Hangul in the labels: matplotlib falls back glyph by glyph through this list (Debian's
# fonts-nanum, which scripts/ensure-services.sh and the Dockerfile install).
FONTS = ["DejaVu Sans", "NanumGothic", "NanumBarunGothic"]
MARKERS = ["o", "s", "D", "^", "v", "P", "X", "h", "<", ">"]
COLOURS = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
]
LINE_STYLES: dict[str, tuple[str, str]] = {
    Obligation.Kind.DEADLINE: ("#c62828", "--"),
    Obligation.Kind.REPORTING: ("#ef6c00", ":"),
    Obligation.Kind.CAP: ("#455a64", "-."),
    Obligation.Kind.PROHIBITION: ("#6a1b9a", "-."),
}


@dataclass(frozen=True)
class Point:
    """One figure of one source: ``high`` equals ``low`` for an exact count, is None for
    "at least ``low``"."""

    as_of: datetime.date
    low: int
    high: int | None
    source: str
    # The as-of date as the source gave it (a day, a month, a year): a figure dated "2017"
    # covers the year, so it is not before a cap of September 2017.
    given: PartialDate | None = None

    @property
    def until(self) -> datetime.date:
        """The last day of the interval the as-of date covers."""
        return self.given.last if self.given else self.as_of

    @property
    def value(self) -> float:
        """What the median takes: the midpoint of a range, the lower bound of an open one."""
        return self.low if self.high is None else (self.low + self.high) / 2


@dataclass(frozen=True)
class Mark:
    """A date (vertical line) or level (horizontal line) and what it is."""

    at: datetime.date | int
    label: str
    kind: str


@dataclass
class Panel:
    title: str
    measure: str
    points: list[Point]
    dates: list[Mark] = field(default_factory=list)
    levels: list[Mark] = field(default_factory=list)

    @property
    def sources(self) -> list[str]:
        """The sources in the order they first published."""
        return list(dict.fromkeys(p.source for p in sorted(self.points, key=_when)))

    @property
    def median(self) -> list[tuple[datetime.date, datetime.date, float]]:
        """(first day, last day, median) of each calendar year with figures: the median of
        each source's latest figure that year."""
        latest: dict[int, dict[str, Point]] = defaultdict(dict)
        for point in sorted(self.points, key=_when):
            latest[point.as_of.year][point.source] = point
        return [
            (
                datetime.date(year, 1, 1),
                datetime.date(year, 12, 31),
                statistics.median(p.value for p in by_source.values()),
            )
            for year, by_source in sorted(latest.items())
        ]

    @property
    def top(self) -> float:
        """The upper limit of the y axis: room above the highest bound, figure or level."""
        values = [p.high if p.high is not None else p.low for p in self.points]
        values += [m.at for m in self.levels if isinstance(m.at, int)]
        return max([*values, 1]) * 1.2


def _when(point: Point) -> tuple:
    return (point.as_of, point.source)


def estimates(
    countries: list[Place], until: datetime.date, *, sees: bool
) -> dict[str, dict[str, list[Point]]]:
    """Per country (ISO code) and stock measure, every figure about the country as a whole
    dated up to ``until``, oldest first (by the end of the interval its date covers, as the
    checks order evidence: "2019" is newer than "June 2019"), each with its source as a reader
    who ``sees`` confidential material (or not) may name it. One query."""
    by_id = {c.pk: c.iso_code or "" for c in countries}  # countries always have one
    out: dict[str, dict[str, list[Point]]] = defaultdict(lambda: defaultdict(list))
    claims = (
        Claim.objects.filter(
            place_id__in=list(by_id),
            measure__in=rules.STOCK_MEASURES,
            count_low__isnull=False,
            as_of__lte=until,
        )
        .select_related(*visibility.CLAIM_RELATED)
        .order_by("as_of", "pk")
    )
    for claim in claims:
        out[by_id[claim.place_id]][claim.measure].append(
            Point(
                claim.as_of,
                claim.count_low,
                claim.count_high,
                visibility.shown(claim, sees=sees).source_name,
                claim.as_of_given,
            )
        )
    # Stable: points that end on one day keep the query's order (first day, then id).
    return {
        iso: {measure: sorted(points, key=lambda p: p.until) for measure, points in m.items()}
        for iso, m in out.items()
    }


def panels(
    title: str, measures: dict[str, list[Point]], obligations: list[Obligation]
) -> list[Panel]:
    """One panel per stock measure of one country, with the obligations' dates and the caps'
    levels, titled in the active language."""
    out = []
    for measure, points in sorted(measures.items()):
        panel = Panel(
            title=_("%(country)s: %(measure)s")
            % {
                "country": title,
                "measure": Measure(measure).label,
            },
            measure=measure,
            points=points,
        )
        for o in sorted(obligations, key=lambda o: (o.effective_from, o.code)):
            if o.kind in (Obligation.Kind.DEADLINE, Obligation.Kind.REPORTING) and o.due_on:
                panel.dates.append(
                    Mark(
                        o.due_on,
                        _("due %(date)s: %(obligation)s")
                        % {"date": text.date(o.due_on), "obligation": o.name},
                        o.kind,
                    )
                )
            elif o.kind in (Obligation.Kind.CAP, Obligation.Kind.PROHIBITION):
                panel.dates.append(
                    Mark(
                        o.effective_from,
                        _("in force %(date)s: %(obligation)s")
                        % {"date": text.date(o.effective_from), "obligation": o.name},
                        o.kind,
                    )
                )
                level = _level_at(points, o.effective_from)
                if o.kind == Obligation.Kind.CAP and level is not None:
                    panel.levels.append(
                        Mark(
                            level,
                            _("capped at %(count)s: %(obligation)s")
                            % {"count": text.number(level), "obligation": o.name},
                            o.kind,
                        )
                    )
        panel.dates.sort(key=lambda mark: mark.at)
        out.append(panel)
    return out


def _level_at(points: list[Point], day: datetime.date) -> int | None:
    """The level a cap froze: the upper bound of the latest figure wholly on or before ``day``
    (the highest of that day's), None when no figure is that old or the latest is open."""
    before = [p for p in points if p.until <= day]
    if not before:
        return None
    newest = max(p.until for p in before)
    highs = [p.high for p in before if p.until == newest]
    return None if None in highs else max(h for h in highs if h is not None)


def png(chart_panels: list[Panel]) -> bytes:
    """The panels drawn one above the other, as a PNG; labels in the active language."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"font.family": _fonts(), "font.size": 8}):
        figure = Figure(figsize=(11, 0.2 + 4.4 * len(chart_panels)), dpi=90, layout="constrained")
        axes = figure.subplots(len(chart_panels), 1, squeeze=False)[:, 0]
        # One colour and marker per source across the panels: a reader compares countries.
        styles = source_styles([s for panel in chart_panels for s in panel.sources])
        for ax, panel in zip(axes, chart_panels, strict=True):
            _draw(ax, panel, styles)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def source_styles(sources: list[str]) -> dict[str, tuple[str, str]]:
    """(colour, marker) of each source, in the order given (repeats ignored)."""
    return {
        source: (COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)])
        for i, source in enumerate(dict.fromkeys(sources))
    }


def _draw(ax, panel: Panel, style: dict[str, tuple[str, str]] | None = None) -> None:
    top = panel.top
    style = style or source_styles(panel.sources)
    for source in panel.sources:
        colour, marker = style[source]
        points = [p for p in panel.points if p.source == source]
        exact = [p for p in points if p.high == p.low]
        ranged = [p for p in points if p.high != p.low]
        ax.plot(
            [p.as_of for p in exact] or [],
            [p.low for p in exact] or [],
            linestyle="none",
            marker=marker,
            markersize=6,
            color=colour,
            label=source,
        )
        for p in ranged:
            upper = top if p.high is None else p.high
            ax.vlines(p.as_of, p.low, upper, color=colour, linewidth=4, alpha=0.45)
            # The source's marker, hollow, where the range's figure lies: its midpoint, or the
            # lower bound of an open range (whose arrowhead points up).
            ax.plot([p.as_of], [p.value], marker=marker, markersize=6, color=colour,
                    fillstyle="none", linestyle="none")  # fmt: skip
            if p.high is None:
                ax.plot([p.as_of], [upper], marker="^", markersize=7, color=colour,
                        clip_on=False)  # fmt: skip
            else:
                ax.plot([p.as_of] * 2, [p.low, p.high], marker="_", markersize=10,
                        color=colour, linestyle="none")  # fmt: skip
    for first, last, value in panel.median:
        ax.hlines(value, first, last, color="black", linewidth=1.5)
    if panel.median:
        ax.plot(
            [],
            [],
            color="black",
            linewidth=1.5,
            label=_("median of each source's latest figure in the year"),
        )
    if panel.points and any(p.high != p.low for p in panel.points):
        ax.plot([], [], color="grey", linewidth=3, alpha=0.55, label=_("range (▲: at least)"))
    for mark in panel.dates:
        colour, line = LINE_STYLES[mark.kind]
        ax.axvline(mark.at, color=colour, linestyle=line, linewidth=1.2, label=mark.label)
    for mark in panel.levels:
        colour, line = LINE_STYLES[mark.kind]
        ax.axhline(mark.at, color=colour, linestyle=line, linewidth=1, label=mark.label)
    ax.set_ylim(0, top)
    ax.set_title(panel.title, loc="left", fontsize=10)
    ax.set_ylabel(str(Measure(panel.measure).label).capitalize())
    ax.set_xlabel(_("as of"))
    ax.yaxis.set_major_formatter(lambda value, _pos: text.number(int(value)))
    ax.grid(axis="y", color="#e5e5e5")
    # Below the plot, in two columns: the long names of the obligations keep the plot wide.
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.12), ncols=2, fontsize=7, frameon=False)


@functools.cache
def _fonts() -> list[str]:
    """The fonts installed of ``FONTS`` (matplotlib warns of every one it cannot find)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return [name for name in FONTS if name in names] or ["DejaVu Sans"]
