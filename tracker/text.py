"""Figures and dates as a reader reads them, in the active language (``django.utils.translation``).

Small helpers shared by every renderer (flags, statuses, claims, summaries): the stored facts
are numbers and ISO dates; these say them.
"""

from __future__ import annotations

import datetime

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from .partialdates import DAY, MONTH, PartialDate


def number(value: int) -> str:
    """60000 -> '60,000' (grouped as the reader's language groups digits)."""
    return formats.number_format(value, force_grouping=True)


def count(low: int | None, high: int | None) -> str:
    """'60,000', '70,000–80,000', 'at least 2,000', or '' when there is no count."""
    if low is None:
        return ""
    if high is None:
        return _("at least %(low)s") % {"low": number(low)}
    if high == low:
        return number(low)
    return _("%(low)s–%(high)s") % {"low": number(low), "high": number(high)}


def date(value: datetime.date | PartialDate | str | None) -> str:
    """A date as people write it, in the reader's language, at the precision it was given:
    '23 December 2019', 'September 2017', '2022' ('2019년 12월 23일', '2017년 9월', '2022년').
    A string is ISO 8601, at reduced precision or not ('2017-09')."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = PartialDate.parse(value)
    elif not isinstance(value, PartialDate):
        value = PartialDate(value, DAY)
    if value.precision == DAY:
        return formats.date_format(value.first, "DATE_FORMAT")
    if value.precision == MONTH:
        return formats.date_format(value.first, "YEAR_MONTH_FORMAT")
    return pgettext("a year, as a date", "%(year)s") % {"year": value.first.year}


def days(n: int) -> str:
    return ngettext("%(n)s day", "%(n)s days", n) % {"n": number(n)}


def percent(fraction) -> str:
    """A fraction as a percentage, without needless decimals: Fraction(1, 10) -> '10%'."""
    value = float(fraction) * 100
    shown = f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
    return _("%(value)s%%") % {"value": shown}
