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


# The flags' kinds and severities as the dashboard names them (the models' choices keep the
# stored codes' English names).
FLAG_KIND_LABELS = {
    "count_conflict": pgettext_lazy("flag kind", "count conflict"),
    "scope_conflict": pgettext_lazy("flag kind", "scope conflict"),
    "stance_conflict": pgettext_lazy("flag kind", "stance conflict"),
    "cap_signal": pgettext_lazy("flag kind", "cap signal"),
    "stale": pgettext_lazy("flag kind", "stale evidence"),
    "overdue_report": pgettext_lazy("flag kind", "overdue report"),
}
SEVERITY_LABELS = {
    3: pgettext_lazy("flag severity", "high"),
    2: pgettext_lazy("flag severity", "medium"),
    1: pgettext_lazy("flag severity", "low"),
}


@register.filter
def flag_kind_label(kind: str) -> str:
    return str(FLAG_KIND_LABELS.get(kind, kind))


@register.filter
def severity_label(severity: int) -> str:
    return str(SEVERITY_LABELS.get(severity, severity))
