"""The statuses of (country, obligation) pairs named in the reader's language: the pages show
``status_label`` of a cell's status, never its code."""

from django import template
from django.utils.translation import pgettext_lazy

register = template.Library()

STATUS_LABELS = {
    "violating": pgettext_lazy("compliance status", "violating"),
    "complying": pgettext_lazy("compliance status", "complying"),
    "partial": pgettext_lazy("compliance status", "partial"),
    "contested": pgettext_lazy("compliance status", "contested"),
    "stale": pgettext_lazy("compliance status", "stale"),
    "unknown": pgettext_lazy("compliance status", "unknown"),
}


@register.filter
def status_label(status: str) -> str:
    """The status's name in the active language (an unknown code as it is)."""
    return str(STATUS_LABELS.get(status, status))
