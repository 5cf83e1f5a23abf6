"""Building a compliance summary for a subscription and a period: the figures, the chart, and
the subject, text and HTML bodies. Reads only; ``reports.sending`` stores and sends.

A summary is built in a fixed number of queries whatever the number of countries.
"""

from __future__ import annotations

import datetime
import io
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string

from tracker import rules, text, visibility
from tracker.flags.render import FlagText
from tracker.models import (
    Claim,
    FlagEvent,
    Obligation,
    Place,
    Report,
)

from .models import Subscription, Summary
from .status import CONTESTED, STALE, StatusMatrix, status_matrix

DEADLINE_HORIZON_DAYS = 60
CHART_COUNTRIES = 6
CHART_CID = "chart"
CONFLICTS = (rules.COUNT_CONFLICT, rules.SCOPE_CONFLICT, rules.STANCE_CONFLICT)


@dataclass
class Change:
    country: str
    obligation: str
    before: str
    after: str


@dataclass
class FlagLine:
    id: int
    kind: str
    action: str
    place: str
    obligation: str
    text: str
    note: str
    url: str


@dataclass
class Deadline:
    code: str
    what: str
    due_on: datetime.date
    days: int  # negative: passed

    @property
    def passed(self) -> bool:
        return self.days < 0

    @property
    def days_ago(self) -> int:
        return -self.days


@dataclass
class Content:
    """Everything a summary says, before rendering."""

    subscription: Subscription
    period_start: datetime.date
    period_end: datetime.date
    confidential: bool
    matrix: StatusMatrix
    changes: list[Change]
    opened: list[FlagLine]
    resolved: list[FlagLine]
    dismissed: list[FlagLine]
    deadlines: list[Deadline]
    reports: list[dict]
    estimates: dict[str, dict[str, list[tuple[datetime.date, int]]]] = field(default_factory=dict)
    chart_png: bytes = b""

    @property
    def new_contradictions(self) -> int:
        return sum(1 for f in self.opened if f.kind in CONFLICTS)

    @property
    def countries_gone_stale(self) -> int:
        return len({f.place for f in self.opened if f.kind == rules.STALE})

    @property
    def deadlines_coming(self) -> list[Deadline]:
        return [d for d in self.deadlines if not d.passed]

    @property
    def headline(self) -> str:
        parts = [
            _plural(self.new_contradictions, "new contradiction"),
            _plural(self.countries_gone_stale, "country", "countries") + " gone stale",
        ]
        coming = self.deadlines_coming
        if coming:
            soonest = min(d.days for d in coming)
            parts.append(_plural(len(coming), "deadline") + f" in {soonest} days")
        else:
            parts.append(f"no deadline within {DEADLINE_HORIZON_DAYS} days")
        return ", ".join(parts)


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def build(
    subscription: Subscription,
    period_start: datetime.date,
    period_end: datetime.date,
    *,
    previous: Summary | None,
) -> Content:
    countries = list(subscription.countries.all()) or None
    obligations = list(subscription.obligations.all()) or None
    confidential = subscription.include_confidential
    matrix = status_matrix(
        countries=countries,
        obligations=obligations,
        today=period_end,
        sees=confidential,
        places=True,
    )
    country_ids = {c.pk for c in matrix.countries}
    obligation_ids = {o.pk for o in matrix.obligations}

    changes = []
    if previous is not None:
        before = previous.statuses or {}
        after = matrix.as_dict()
        for key, status in after.items():
            old = before.get(key)
            if old is not None and old != status:
                iso, code = key.split(" ", 1)
                changes.append(Change(iso, code, old, status))

    period_events = (
        FlagEvent.objects.filter(
            at__date__gte=period_start,
            at__date__lte=period_end,
            action__in=[
                FlagEvent.Action.OPENED,
                FlagEvent.Action.REOPENED,
                FlagEvent.Action.RESOLVED,
                FlagEvent.Action.DISMISSED,
            ],
        )
        .filter(Q(flag__country_id__in=country_ids) | Q(flag__country__isnull=True))
        .filter(Q(flag__obligations__in=obligation_ids) | Q(flag__obligations__isnull=True))
        .select_related("flag__place")
        .distinct()
        .order_by("at", "id")
    )
    events = list(period_events)
    said = FlagText([e.flag for e in events], sees=confidential, events=events)
    lines: dict[str, list[FlagLine]] = defaultdict(list)
    seen: set[tuple[int, str]] = set()
    for event in events:
        flag = event.flag
        action = {"reopened": "opened"}.get(event.action, event.action)
        if (flag.pk, action) in seen:
            continue
        seen.add((flag.pk, action))
        lines[action].append(
            FlagLine(
                id=flag.pk,
                kind=flag.kind,
                action=action,
                place=flag.place.name_path or flag.place.name,
                obligation=" ".join(said.obligation(o) for o in said.obligations_of(flag)),
                text=said.sentence(flag),
                note=said.event(event, flag),
                url=site_url(f"/admin/tracker/flag/{flag.pk}/change/"),
            )
        )

    deadlines = []
    for obligation in matrix.obligations:
        if obligation.due_on is None:
            continue
        days = (obligation.due_on - period_end).days
        if days <= DEADLINE_HORIZON_DAYS:
            deadlines.append(
                Deadline(obligation.code, obligation.get_kind_display(), obligation.due_on, days)
            )

    reports = _new_reports(period_start, period_end, matrix.place_ids, confidential)
    content = Content(
        subscription=subscription,
        period_start=period_start,
        period_end=period_end,
        confidential=confidential,
        matrix=matrix,
        changes=changes,
        opened=lines["opened"],
        resolved=lines["resolved"],
        dismissed=lines["dismissed"],
        deadlines=deadlines,
        reports=reports,
        estimates=estimates(matrix.countries, period_end),
    )
    content.chart_png = chart(content)
    return content


def _new_reports(
    start: datetime.date, end: datetime.date, place_ids: set[int], confidential: bool
) -> list[dict]:
    """Reports logged in the period with a claim about one of the countries (or inside it)."""
    reports = (
        Report.objects.filter(
            created_at__date__gte=start,
            created_at__date__lte=end,
            claims__place_id__in=list(place_ids),
        )
        .select_related("publisher")
        .distinct()
        .order_by("published_on", "pk")
    )
    out = []
    for report in reports:
        hidden = report.is_restricted and not confidential
        out.append(
            {
                "title": str(visibility.REPORT_LABEL) if hidden else report.title,
                "publisher": str(visibility.SOURCE_LABEL) if hidden else report.publisher.name,
                "published_on": None if hidden else report.published_on,
                "url": "" if hidden else report.url,
            }
        )
    return out


def estimates(countries: list[Place], until: datetime.date):
    """Per country (ISO code) and stock measure, the (as_of, midpoint) of every count about
    the country as a whole, oldest first."""
    by_id = {c.pk: c.iso_code for c in countries}
    out: dict[str, dict[str, list[tuple[datetime.date, int]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    rows = (
        Claim.objects.filter(
            place_id__in=list(by_id),
            measure__in=rules.STOCK_MEASURES,
            count_low__isnull=False,
            as_of__lte=until,
        )
        .order_by("as_of", "pk")
        .values_list("place_id", "measure", "as_of", "count_low", "count_high")
    )
    for place_id, measure, as_of, low, high in rows:
        value = low if high is None else (low + high) // 2
        out[by_id[place_id]][measure].append((as_of, value))
    return {iso: dict(measures) for iso, measures in out.items()}


def chart(content: Content) -> bytes:
    """A PNG: worker estimates over time for the countries with the largest counts, one panel
    each, one line per measure, the deadlines and caps as dashed lines."""
    if not content.estimates:
        return b""
    ranked = sorted(
        content.estimates.items(),
        key=lambda item: -max(v for series in item[1].values() for _, v in series),
    )[:CHART_COUNTRIES]
    names = {c.iso_code: c.name for c in content.matrix.countries}
    panels = [(names.get(iso, iso), measures) for iso, measures in ranked]
    return estimates_chart(panels, content.matrix.obligations)


def estimates_chart(panels, obligations) -> bytes:
    """A PNG of one panel per (title, {measure: [(day, value), ...]}), monthly medians, with
    the obligations' deadlines and start dates marked."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    marks = [
        (o.due_on, o.code) for o in obligations if o.kind == Obligation.Kind.DEADLINE and o.due_on
    ] + [
        (o.effective_from, o.code)
        for o in obligations
        if o.kind in (Obligation.Kind.CAP, Obligation.Kind.PROHIBITION)
    ]
    # Constrained layout keeps every title and date label inside the picture, one panel or 50.
    figure = Figure(figsize=(8, 0.6 + 2.2 * len(panels)), dpi=90, layout="constrained")
    axes = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, (title, measures) in zip(axes, panels, strict=True):
        for measure, series in sorted(measures.items()):
            days, values = zip(*_monthly(series), strict=True)
            ax.plot(days, values, marker="o", markersize=2, label=measure.replace("_", " "))
        for day, code in marks:
            ax.axvline(day, color="grey", linestyle="--", linewidth=0.8)
            ax.annotate(code, (day, 1), xycoords=("data", "axes fraction"), fontsize=6,
                        rotation=90, va="top", ha="right", color="grey")  # fmt: skip
        ax.set_title(f"{title}: estimates (monthly median)", fontsize=9)
        ax.yaxis.set_major_formatter(lambda value, _: f"{value:,.0f}")
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="upper left")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _monthly(series: list[tuple[datetime.date, int]]) -> list[tuple[datetime.date, float]]:
    """The median estimate of each month, dated the 15th: a readable line at any volume."""
    by_month: dict[datetime.date, list[int]] = defaultdict(list)
    for day, value in series:
        by_month[day.replace(day=15)].append(value)
    return [(month, statistics.median(values)) for month, values in sorted(by_month.items())]


def render(content: Content, *, summary_id: int) -> tuple[str, str, str]:
    """(subject, text, html) from the templates."""
    context = {
        "c": content,
        "headline": content.headline,
        "archive_url": site_url(f"/summaries/{summary_id}/"),
        "admin_url": site_url("/admin/"),
        "chart_cid": CHART_CID if content.chart_png else "",
        "rows": list(content.matrix),
        "counts": content.matrix.counts(),
        "latest": _latest_estimates(content),
        "contested": CONTESTED,
        "stale": STALE,
    }
    subject = render_to_string("reports/summary_subject.txt", context).strip()
    text = render_to_string("reports/summary.txt", context)
    html = render_to_string("reports/summary.html", context)
    return " ".join(subject.split()), text, html


def _latest_estimates(content: Content) -> list[dict]:
    """The chart as text: each country's newest estimate per measure."""
    names = {c.iso_code: c.name for c in content.matrix.countries}
    out = []
    for iso, measures in sorted(content.estimates.items()):
        for measure, series in sorted(measures.items()):
            day, value = series[-1]
            out.append(
                {
                    "country": names.get(iso, iso),
                    "measure": measure.replace("_", " "),
                    "value": text.count(value, value),
                    "as_of": day,
                }
            )
    return out
