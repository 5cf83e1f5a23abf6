"""What a reader without the permission to see confidential material may filter a list by."""

from __future__ import annotations

from ..models import can_see_confidential


class GuardedLookupsMixin:
    """Django filters a list by any of its model's own fields named in the URL
    (``?summary__icontains=Kim``), whatever the search hides: a hidden name or summary could
    be found a letter at a time. For a reader without the permission, lookups through
    ``guarded_lookups`` are refused (a 400), except those of the list's own filters."""

    guarded_lookups: tuple[str, ...] = ()

    def lookup_allowed(self, lookup, value, request=None):
        if request is not None and not can_see_confidential(request.user):
            filters = {_parameter(f) for f in self.list_filter}
            guarded = any(
                lookup == field or lookup.startswith(f"{field}__") for field in self.guarded_lookups
            )
            if guarded and not any(
                lookup == path or lookup.startswith(f"{path}__") for path in filters
            ):
                return False
        return super().lookup_allowed(lookup, value, request)


def _parameter(list_filter) -> str:
    """The lookup a ``list_filter`` entry filters by: a field path, a (path, filter class)
    pair, or a SimpleListFilter's parameter."""
    if isinstance(list_filter, str):
        return list_filter
    if isinstance(list_filter, tuple):
        return list_filter[0]
    return list_filter.parameter_name
