"""Which past versions of a source, report or claim were restricted when they were recorded.

A version is restricted if what made it restricted held when it was recorded or holds now: a
source confidential; a report confidential or published by a confidential source; a claim made
by a confidential source or in a restricted report. A reader who may not see confidential
material sees neither such a version nor the values it held: a report's title before it was
made public, the confidential source a claim was attributed to before it was corrected, a
summary written while its report was confidential.
"""

from __future__ import annotations

import bisect
import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence

from .models import Claim, Report, Source


class Timeline:
    """A model's rows as they were over time (``Model.history``): the value of ``fields``
    of each of ``ids`` at a moment, and as it is now."""

    def __init__(self, model, ids: Iterable[int], fields: Sequence[str]) -> None:
        ids = {pk for pk in ids if pk is not None}
        self.fields = tuple(fields)
        self.dates: dict[int, list[datetime.datetime]] = defaultdict(list)
        self.values: dict[int, list[tuple]] = defaultdict(list)
        for pk, date, history_type, *values in (
            model.history.filter(id__in=ids)
            .order_by("id", "history_date", "history_id")
            .values_list("id", "history_date", "history_type", *fields)
        ):
            self.dates[pk].append(date)
            self.values[pk].append(None if history_type == "-" else tuple(values))
        self.now = {
            pk: tuple(values)
            for pk, *values in model.objects.filter(pk__in=ids).values_list("pk", *fields)
        }

    def at(self, pk: int | None, moment: datetime.datetime) -> tuple | None:
        """The row's values at ``moment`` (its last version recorded by then; where none is,
        as created without history, its values now), or None (no such row then)."""
        if pk is None:
            return None
        i = bisect.bisect_right(self.dates.get(pk, []), moment)
        return self.values[pk][i - 1] if i else self.now.get(pk)

    def then_or_now(self, pk: int | None, moment: datetime.datetime) -> list[tuple]:
        return [values for values in (self.at(pk, moment), self.now.get(pk)) if values]

    def every(self, field: str) -> set:
        """Every value ``field`` has held, or holds now."""
        i = self.fields.index(field)
        rows = [*(v for values in self.values.values() for v in values), *self.now.values()]
        return {values[i] for values in rows if values is not None}


def restricted_versions(records: Sequence) -> set[int]:
    """The history ids of those among ``records`` (versions of one model: Source, Report or
    Claim) that were restricted when recorded or would be now (see the module)."""
    if not records:
        return set()
    model = records[0].instance_type
    if model is Source:
        sources = _sources(r.id for r in records)
        return {
            r.history_id
            for r in records
            if r.confidential or _confidential(sources, r.id, r.history_date)
        }
    if model is Report:
        reports = _reports(r.id for r in records)
        sources = _sources({r.publisher_id for r in records} | reports.every("publisher_id"))
        return {
            r.history_id
            for r in records
            if _restricted_report(
                [(r.confidential, r.publisher_id), reports.now.get(r.id)], r.history_date, sources
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
                reports.then_or_now(r.report_id, r.history_date), r.history_date, sources
            )
        }
    raise TypeError(f"no confidentiality is known for {model.__name__}")


def _sources(ids: Iterable[int | None]) -> Timeline:
    return Timeline(Source, ids, ["confidential"])


def _reports(ids: Iterable[int | None]) -> Timeline:
    return Timeline(Report, ids, ["confidential", "publisher_id"])


def _confidential(sources: Timeline, pk: int | None, moment: datetime.datetime) -> bool:
    """Whether the source was confidential at ``moment`` or is now."""
    return any(confidential for (confidential,) in sources.then_or_now(pk, moment))


def _restricted_report(
    versions: Iterable[tuple | None], moment: datetime.datetime, sources: Timeline
) -> bool:
    """Whether a report as it was in any of ``versions`` (confidential, publisher) was
    restricted: confidential, or published by a source confidential at ``moment`` or now."""
    return any(
        confidential or _confidential(sources, publisher, moment)
        for confidential, publisher in filter(None, versions)
    )
