"""Which past versions of a source, report or claim a reader without the permission may not see.

A version is restricted if what made it restricted held at any moment from when it was recorded
until now: a source confidential; a report confidential or published by a confidential
source; a claim made by a confidential source or in a restricted report. A reader who may not
see confidential material sees neither such a version nor the values it held: a report's title
before it was made public, the confidential source a claim was attributed to before it was
corrected, a summary written while its report was confidential, a source's name before it was
made confidential (as the flags conceal every name a source has gone by).
A document's version is restricted as a claim's is by its report.

A related row's past is read from its history; where it cannot be (its history begins after
the moment asked about, as for a row written without it), the version counts as restricted.
"""

from __future__ import annotations

import bisect
import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence

from .models import Claim, Report, ReportDocument, Source

UNKNOWN = object()  # a row's values at a moment its history does not reach


class Timeline:
    """A model's rows as they were over time (``Model.history``): the values of ``fields`` of
    each of ``ids`` from a moment until now."""

    def __init__(self, model, ids: Iterable[int], fields: Sequence[str]) -> None:
        ids = {pk for pk in ids if pk is not None}
        self.fields = tuple(fields)
        self.dates: dict[int, list[datetime.datetime]] = defaultdict(list)
        self.values: dict[int, list[tuple | None]] = defaultdict(list)  # None: deleted
        self.versions: dict[int, list[int]] = defaultdict(list)  # their history ids
        self.created: set[int] = set()  # the rows whose history begins with their creation
        for pk, version, date, history_type, *values in (
            model.history.filter(id__in=ids)
            .order_by("id", "history_date", "history_id")
            .values_list("id", "history_id", "history_date", "history_type", *fields)
        ):
            if not self.dates[pk] and history_type == "+":
                self.created.add(pk)
            self.versions[pk].append(version)
            self.dates[pk].append(date)
            self.values[pk].append(None if history_type == "-" else tuple(values))
        self.now = {
            pk: tuple(values)
            for pk, *values in model.objects.filter(pk__in=ids).values_list("pk", *fields)
        }

    def since(self, pk: int | None, moment: datetime.datetime) -> list:
        """Every value the row has held from ``moment`` until now: its version then (each
        version recorded at that very moment, and the one before, since their order at one
        moment is not known), those after, and its values now; ``UNKNOWN`` where its history
        does not reach back to ``moment``. A row with no history at all was never changed
        through the models: its values now."""
        if pk is None:
            return []
        dates = self.dates.get(pk, [])
        first = bisect.bisect_left(dates, moment)
        held = self.values[pk][max(first - 1, 0) :] if dates else []
        if dates and first == 0 and (pk not in self.created or dates[0] > moment):
            held = [UNKNOWN, *held]
        return [values for values in (*held, self.now.get(pk)) if values is not None]

    def from_version(self, pk: int, version: int) -> list:
        """Every value the row has held from its version ``version`` (a history id) until
        now: that version's (none for a deletion), those recorded after it, and its values
        now."""
        held = self.values[pk][self.versions[pk].index(version) :]
        return [values for values in (*held, self.now.get(pk)) if values is not None]

    def every(self, field: str) -> set:
        """Every value ``field`` has held, or holds now."""
        i = self.fields.index(field)
        rows = [*(v for values in self.values.values() for v in values), *self.now.values()]
        return {values[i] for values in rows if values is not None}


def restricted_versions(records: Sequence) -> set[int]:
    """The history ids of those among ``records`` (versions of one model: Source, Report,
    Claim or ReportDocument) that a reader without the permission may not see (see the module)."""
    if not records:
        return set()
    model = records[0].instance_type
    if model is Source:
        sources = _sources(r.id for r in records)
        return {
            r.history_id
            for r in records
            if r.confidential
            or any(confidential for (confidential,) in sources.from_version(r.id, r.history_id))
        }
    if model is Report:
        reports = _reports(r.id for r in records)
        sources = _sources({r.publisher_id for r in records} | reports.every("publisher_id"))
        return {
            r.history_id
            for r in records
            if _restricted_report(
                [(r.confidential, r.publisher_id), *reports.from_version(r.id, r.history_id)],
                r.history_date,
                sources,
            )
        }
    if model is Claim:
        reports = _reports(r.report_id for r in records)
        sources = _sources({r.attributed_to_id for r in records} | reports.every("publisher_id"))
        return {
            r.history_id
            for r in records
            if _confidential(sources, r.attributed_to_id, r.history_date)
            or _restricted_report(
                reports.since(r.report_id, r.history_date), r.history_date, sources
            )
        }
    if model is ReportDocument:
        # What its report was, from the version's moment on (as for a claim's report).
        reports = _reports(r.report_id for r in records)
        sources = _sources(reports.every("publisher_id"))
        return {
            r.history_id
            for r in records
            if _restricted_report(
                reports.since(r.report_id, r.history_date), r.history_date, sources
            )
        }
    raise TypeError(f"no confidentiality is known for {model.__name__}")


def _sources(ids: Iterable[int | None]) -> Timeline:
    return Timeline(Source, ids, ["confidential"])


def _reports(ids: Iterable[int | None]) -> Timeline:
    return Timeline(Report, ids, ["confidential", "publisher_id"])


def _confidential(sources: Timeline, pk: int | None, moment: datetime.datetime) -> bool:
    """Whether the source has been confidential at any time since ``moment`` (or may have
    been: its history does not reach back so far)."""
    return any(values is UNKNOWN or values[0] for values in sources.since(pk, moment))


def _restricted_report(versions: Iterable, moment: datetime.datetime, sources: Timeline) -> bool:
    """Whether a report as it was in any of ``versions`` ((confidential, publisher), or
    ``UNKNOWN``) was restricted: confidential, or published by a source confidential at any
    time since ``moment``."""
    return any(
        values is UNKNOWN or values[0] or _confidential(sources, values[1], moment)
        for values in versions
    )
