"""Figures and dates as a reader reads them, in the active language (``django.utils.translation``).

Small helpers shared by every renderer (flags, statuses, claims, summaries): the stored facts
are numbers and ISO dates; these say them.
"""

from __future__ import annotations

import datetime

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


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


def date(value: datetime.date | str | None) -> str:
    """A day as people write it, in the reader's language: '23 December 2019'."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value)
    return formats.date_format(value, "DATE_FORMAT")


def days(n: int) -> str:
    return ngettext("%(n)s day", "%(n)s days", n) % {"n": number(n)}


def percent(fraction) -> str:
    """A fraction as a percentage, without needless decimals: Fraction(1, 10) -> '10%'."""
    value = float(fraction) * 100
    shown = f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
    return _("%(value)s%%") % {"value": shown}
