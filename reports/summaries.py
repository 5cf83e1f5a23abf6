"""A compliance summary: its data, built once for a subscription and a period, and said for
each reader when read or sent (docs/design.md §4, §6 item 1).

``build`` stores what a summary found as ids, statuses with the facts of their reasons, and
figures; never a sentence. ``render`` says it for one reader, in their language and with what
they may see at that moment (a flag through ``tracker.flags.render``, a status through
``reports.status``, a report through ``tracker.visibility``): the email to each group of
recipients, the archive to each reader. Nothing stored is rewritten when confidentiality
changes.

A summary leads with what changed in the period and what needs attention (flags opened,
resolved and dismissed, status changes, deadlines, new reports), lists the countries with
evidence, a watch or an open flag, and sums up the others in one line.

Both run in a fixed number of queries whatever the number of countries.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from tracker import rules, text, visibility
from tracker.flags.render import FlagText
from tracker.models import (
    Claim,
    Flag,
    FlagEvent,
    Obligation,
    Place,
    Report,
    Watch,
)

from . import charts
from .models import Subscription, Summary
from .status import CONTESTED, STALE, UNKNOWN, StatusCell, StatusText, status_matrix

DEADLINE_HORIZON_DAYS = 60
CHART_COUNTRIES = 6
CHART_CID = "chart"
CONFLICTS = (rules.COUNT_CONFLICT, rules.SCOPE_CONFLICT, rules.STANCE_CONFLICT)
# The events a summary reports, by what they did to a flag.
REPORTED = {
    FlagEvent.Action.OPENED: "opened",
    FlagEvent.Action.REOPENED: "opened",
    FlagEvent.Action.RESOLVED: "resolved",
    FlagEvent.Action.DISMISSED: "dismissed",
}
DATA_VERSION = 2


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


# --- the data ------------------------------------------------------------------------------------


def build(
    subscription: Subscription,
    period_start: datetime.date,
    period_end: datetime.date,
    *,
    previous: Summary | None,
) -> dict:
    """What the summary of a period says, as data (JSON): the subscription's countries and
    obligations, each pair's kept status with the facts of its reason, the changes since the
    previous summary, the period's flag events, the deadlines passed or coming, the reports
    logged, and the countries that need attention."""
    countries = list(subscription.countries.all()) or None
    obligations = list(subscription.obligations.all()) or None
    matrix = status_matrix(
        countries=countries, obligations=obligations, today=period_end, sees=False, places=True
    )
    iso = {c.pk: c.iso_code for c in matrix.countries}
    code = {o.pk: o.code for o in matrix.obligations}
    statuses = {
        f"{iso[c]} {code[o]}": {
            "status": cell.status,
            "reason": cell.facts,
            "claims": cell.claims,
            "newest": cell.newest_as_of.isoformat() if cell.newest_as_of else None,
            "flags": list(cell.flag_ids),
        }
        for (c, o), cell in sorted(matrix.cells.items())
    }
    before = _statuses_of(previous) if previous is not None else {}
    changes = [
        [key, before[key], entry["status"]]
        for key, entry in statuses.items()
        if key in before and before[key] != entry["status"]
    ]
    country_ids, obligation_ids = set(iso), set(code)
    events = (
        FlagEvent.objects.filter(
            at__date__gte=period_start, at__date__lte=period_end, action__in=list(REPORTED)
        )
        .filter(Q(flag__country_id__in=country_ids) | Q(flag__country__isnull=True))
        .filter(Q(flag__obligations__in=obligation_ids) | Q(flag__obligations__isnull=True))
        .order_by("at", "id")
        .values_list("id", "flag_id", "action")
        .distinct()
    )
    reported, seen = [], set()
    for pk, flag_id, action in events:
        if (flag_id, REPORTED[action]) not in seen:
            seen.add((flag_id, REPORTED[action]))
            reported.append(pk)
    deadlines = [
        [o.pk, (o.due_on - period_end).days]
        for o in matrix.obligations
        if o.due_on is not None and (o.due_on - period_end).days <= DEADLINE_HORIZON_DAYS
    ]
    reports = list(
        Report.objects.filter(
            created_at__date__gte=period_start,
            created_at__date__lte=period_end,
            claims__place_id__in=list(matrix.place_ids),
        )
        .order_by("published_on", "pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    return {
        "version": DATA_VERSION,
        "countries": sorted(iso),
        "obligations": sorted(code),
        "statuses": statuses,
        "changes": changes,
        "events": reported,
        "deadlines": deadlines,
        "reports": reports,
        "attention": sorted(_needing_attention(matrix, country_ids)),
    }


def _statuses_of(summary: Summary) -> dict[str, str]:
    """A stored summary's statuses, by "ISO CODE" (one stored as text before keeps them
    apart: ``previous_statuses``)."""
    data = summary.content or {}
    if data.get("statuses"):
        return {key: entry["status"] for key, entry in data["statuses"].items()}
    return dict(data.get("previous_statuses") or {})


def content_of(summary: Summary) -> dict:
    """The summary's data; for one stored as text before summaries were data, built now from
    the evidence for its period (and kept), the statuses it reported then kept beside."""
    if (summary.content or {}).get("version") == DATA_VERSION:
        return summary.content
    data = build(summary.subscription, summary.period_start, summary.period_end, previous=None)
    data["rebuilt"] = True
    data["previous_statuses"] = (summary.content or {}).get("previous_statuses", {})
    Summary.objects.filter(pk=summary.pk).update(content=data)
    summary.content = data
    return data


def _needing_attention(matrix, country_ids: set[int]) -> set[int]:
    """The countries with evidence (a status other than unknown), a watch or an open flag."""
    found = {c for (c, _), cell in matrix.cells.items() if cell.status != UNKNOWN}
    found |= set(Watch.objects.filter(place_id__in=country_ids).values_list("place_id", flat=True))
    found |= set(
        Flag.objects.active()
        .filter(country_id__in=country_ids)
        .values_list("country_id", flat=True)
        .distinct()
    )
    return found & country_ids


# --- saying it ------------------------------------------------------------------------------------


@dataclass
class Said:
    """A summary as one reader reads it."""

    subject: str
    text: str
    html: str
    chart_png: bytes = b""
    context: dict = field(default_factory=dict)


def render(summary: Summary, *, language: str, sees: bool, archive_url: str | None = None) -> Said:
    """The summary said for a reader of ``language`` who ``sees`` confidential material (or
    not): subject, text, HTML and chart."""
    with translation.override(language):
        context = _context(summary, sees=sees)
        context["archive_url"] = archive_url or site_url(f"/summaries/{summary.pk or 0}/")
        context["admin_url"] = site_url("/admin/")
        subject = render_to_string("reports/summary_subject.txt", context)
        return Said(
            subject=" ".join(subject.split()),
            text=render_to_string("reports/summary.txt", context),
            html=render_to_string("reports/summary.html", context),
            chart_png=context["chart_png"],
            context=context,
        )


def _context(summary: Summary, *, sees: bool) -> dict:
    data = content_of(summary) if summary.pk else summary.content
    countries = list(Place.objects.filter(pk__in=data.get("countries", [])).order_by("name"))
    obligations = list(
        Obligation.objects.filter(pk__in=data.get("obligations", [])).order_by(
            "effective_from", "code"
        )
    )
    by_iso = {c.iso_code: c for c in countries}
    by_code = {o.code: o for o in obligations}
    by_id = {o.pk: o for o in obligations}

    # Statuses, as stored with the summary, said now for this reader.
    cells: dict[tuple[int, int], StatusCell] = {}
    for key, entry in data.get("statuses", {}).items():
        iso, code = key.split(" ", 1)
        if iso in by_iso and code in by_code:
            cells[by_iso[iso].pk, by_code[code].pk] = StatusCell(
                by_iso[iso].pk,
                by_code[code].pk,
                entry["status"],
                entry["reason"],
                entry["claims"],
                tuple(entry["flags"]),
                datetime.date.fromisoformat(entry["newest"]) if entry["newest"] else None,
            )
    StatusText(cells.values(), sees=sees).say()
    attention = [c for c in countries if c.pk in set(data.get("attention", []))]
    rows = [
        (c, [(o, cells[c.pk, o.pk]) for o in obligations if (c.pk, o.pk) in cells])
        for c in attention
    ]
    counts = dict.fromkeys(rules.STATUSES, 0)
    for cell in cells.values():
        counts[cell.status] += 1

    # The period's flag events, said for this reader.
    events = list(
        FlagEvent.objects.filter(pk__in=data.get("events", []))
        .select_related("flag__place")
        .order_by("at", "id")
    )
    said = FlagText([e.flag for e in events], sees=sees, events=events)
    lines: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        flag = event.flag
        lines[REPORTED[event.action]].append(
            {
                "id": flag.pk,
                "kind": flag.get_kind_display(),
                "place": said.place(flag.place_id),
                "obligations": ", ".join(said.obligation(o) for o in said.obligations_of(flag)),
                "text": said.sentence(flag),
                "note": said.event(event, flag),
                "url": site_url(reverse("flag", args=[flag.pk])),
            }
        )

    changes = [
        {
            "country": by_iso[iso].local_name if iso in by_iso else iso,
            "obligation": by_code[code].name if code in by_code else code,
            "before": before,
            "after": after,
        }
        for key, before, after in data.get("changes", [])
        for iso, code in [key.split(" ", 1)]
    ]
    deadlines = [
        {
            "obligation": by_id[pk],
            "due_on": by_id[pk].due_on,
            "days": days,
            "passed": days < 0,
            "days_ago": -days,
        }
        for pk, days in data.get("deadlines", [])
        if pk in by_id
    ]
    reports = []
    for report in (
        Report.objects.filter(pk__in=data.get("reports", []))
        .select_related("publisher")
        .order_by("published_on", "pk")
    ):
        hidden = report.is_restricted and not sees
        reports.append(
            {
                "title": str(visibility.REPORT_LABEL) if hidden else report.title,
                "publisher": str(visibility.SOURCE_LABEL) if hidden else report.publisher.name,
                "published_on": None if hidden else report.published_on,
                "url": "" if hidden else report.url,
            }
        )
    found = charts.estimates(attention, summary.period_end, sees=sees)
    chart_png = chart(found, attention, obligations)
    return {
        "summary": summary,
        "subscription": summary.subscription,
        "period_start": summary.period_start,
        "period_end": summary.period_end,
        "obligations": obligations,
        "opened": lines["opened"],
        "resolved": lines["resolved"],
        "dismissed": lines["dismissed"],
        "changes": changes,
        "deadlines": deadlines,
        "coming": [d for d in deadlines if not d["passed"]],
        "reports": reports,
        "rows": rows,
        "quiet": len(countries) - len(attention),
        "counts": counts,
        "latest": _latest_estimates(found, attention),
        "contested": CONTESTED,
        "stale": STALE,
        "chart_png": chart_png,
        "chart_cid": CHART_CID if chart_png else "",
        "new_contradictions": sum(
            1 for line in lines["opened"] if line["kind"] in _conflict_labels()
        ),
        "gone_stale": len({line["place"] for line in lines["opened"] if _is_stale(line)}),
    }


def _conflict_labels() -> set[str]:
    return {str(Flag.Kind(kind).label) for kind in CONFLICTS}


def _is_stale(line: dict) -> bool:
    return line["kind"] == str(Flag.Kind.STALE.label)


def _latest_estimates(found: dict, countries: list[Place]) -> list[dict]:
    """The chart as text: each country's newest figure per measure (the last of the chart's
    points, ordered as the checks order evidence), its date as given."""
    names = {c.iso_code: c.local_name for c in countries}
    out = []
    for iso, measures in sorted(found.items()):
        for measure, points in sorted(measures.items()):
            newest = points[-1]
            value = int(newest.value)
            out.append(
                {
                    "country": names.get(iso, iso),
                    "measure": str(Claim.Measure(measure).label),
                    "value": text.count(value, value),
                    "as_of": text.date(newest.given or newest.as_of),
                }
            )
    return out


# --- the chart ------------------------------------------------------------------------------------


def chart(found: dict, countries: list[Place], obligations) -> bytes:
    """A PNG of the estimates over time (``found``: ``charts.estimates``, as the reader may see
    them) of the countries with the largest figures, one panel per country and measure."""
    if not found:
        return b""
    ranked = sorted(
        found.items(),
        key=lambda item: -max(p.high or p.low for points in item[1].values() for p in points),
    )[:CHART_COUNTRIES]
    names = {c.iso_code: c.local_name for c in countries}
    return charts.png(
        [
            panel
            for iso, measures in ranked
            for panel in charts.panels(names.get(iso, iso), measures, obligations)
        ]
    )
