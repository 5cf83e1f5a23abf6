"""A date as a source gives it: a day, a month or a year (docs/design.md §2, §7 decision 18).

Plain Python, no Django: the rules, the model, the form and serializer fields, the import and
the exports share it. A claim stores the first day of the interval (a ``DateField``: indexes
and ordering keep working) and its precision beside it; ``PartialDate`` joins the two again.
Written as ISO 8601 at reduced precision: ``2019-12-23``, ``2017-09``, ``2022``.
"""

from __future__ import annotations

import calendar
import datetime
import re
from typing import NamedTuple

DAY, MONTH, YEAR = "day", "month", "year"
PRECISIONS = (DAY, MONTH, YEAR)

_ISO = re.compile(r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?")


class PartialDate(NamedTuple):
    """A day, a month or a year: ``first`` is the interval's first day."""

    first: datetime.date
    precision: str = DAY

    @classmethod
    def parse(cls, value: str) -> PartialDate:
        """``2019-12-23``, ``2017-09`` or ``2022`` (surrounding blanks ignored); ValueError
        for anything else, including a day or month that does not exist."""
        match = _ISO.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"{value!r} is not a day, a month or a year")
        year, month, day = match["year"], match["month"], match["day"]
        try:
            if day is not None:
                return cls(datetime.date(int(year), int(month), int(day)), DAY)
            if month is not None:
                return cls(datetime.date(int(year), int(month), 1), MONTH)
            return cls(datetime.date(int(year), 1, 1), YEAR)
        except ValueError:
            raise ValueError(f"{value!r} is not a day, a month or a year") from None

    @classmethod
    def of(cls, first: datetime.date | None, precision: str | None) -> PartialDate | None:
        """The partial date a stored (first day, precision) pair holds, None for no date."""
        if first is None:
            return None
        return cls(first, precision or DAY)

    @property
    def last(self) -> datetime.date:
        """The interval's last day."""
        first = self.first
        if self.precision == YEAR:
            return datetime.date(first.year, 12, 31)
        if self.precision == MONTH:
            return first.replace(day=calendar.monthrange(first.year, first.month)[1])
        return first

    @property
    def span(self) -> int:
        """Days from the first to the last day (0 for a day)."""
        return (self.last - self.first).days

    def isoformat(self) -> str:
        return iso(self.first, self.precision)

    def __str__(self) -> str:
        return self.isoformat()


def iso(first: datetime.date, precision: str) -> str:
    """ISO 8601 at the precision given: '2019-12-23', '2017-09', '2022'."""
    if precision == YEAR:
        return f"{first.year:04d}"
    if precision == MONTH:
        return f"{first.year:04d}-{first.month:02d}"
    return first.isoformat()


def span(first: datetime.date, precision: str) -> int:
    """Days from the first to the last day of the interval (0 for a day): what the rules
    add to a claim's first day to reach its last."""
    if precision == DAY:
        return 0
    return PartialDate(first, precision).span
