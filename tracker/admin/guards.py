"""What the admin lets a user name, pick or filter by: the visibility rule at the admin's edges.

- ``VisibleChoicesMixin``: every form field pointing at a source, report or claim (add and
  change forms, inlines) offers and accepts only the rows the user may see
  (``visibility.queryset_for``); a hidden id is refused as one that does not exist, with
  Django's own message, and never rendered back as a selected option.
- ``AllowListedLookupsMixin``: a changelist filters only by its own filters and date
  hierarchy; any other lookup in the URL (``?attributed_to_id=9``, ``?summary__icontains=K``)
  is refused with a 400, for everyone.
- The autocomplete, for every relation at once: ``tracker.admin_site``.
"""

from __future__ import annotations

from .. import visibility

# What a list filter or the date hierarchy adds to its field's path in the URL.
FILTER_SUFFIXES = frozenset(
    {"exact", "isnull", "isempty", "in", "id__exact", "pk__exact", "gte", "lt", "lte", "gt"}
)
DATE_HIERARCHY_SUFFIXES = frozenset({"year", "month", "day"})


class VisibleChoicesMixin:
    """Form fields to sources, reports and claims offer (and accept) only visible rows."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return _narrowed(field, db_field, request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        return _narrowed(field, db_field, request)


def _narrowed(field, db_field, request):
    model = db_field.related_model
    if field is not None and visibility.guards(model):
        # The queryset's setter gives the widget (an autocomplete's too) the same choices.
        field.queryset = visibility.queryset_for(model, request.user, field.queryset)
    return field


class AllowListedLookupsMixin:
    """A changelist takes, as URL lookups, only those of its list filters and date hierarchy.

    Django also filters by any field of the model named in the URL, ``_id`` forms included,
    which would list one informant's claims (``?attributed_to_id=9``) or find a hidden summary
    a letter at a time. Anything not allow-listed here is a 400."""

    def lookup_allowed(self, lookup, value, request=None):
        if not _listed(lookup, self._allowed_lookups(request)):
            return False
        return super().lookup_allowed(lookup, value, request)

    def _allowed_lookups(self, request) -> tuple[set[str], set[str], set[str]]:
        """(parameter names, field paths of list filters, the date hierarchy's field)."""
        names, paths = set(), set()
        list_filter = self.get_list_filter(request) if request is not None else self.list_filter
        for entry in list_filter:
            if isinstance(entry, str):
                paths.add(entry)
            elif isinstance(entry, (tuple, list)):
                paths.add(entry[0])
            else:
                names.add(entry.parameter_name)
        dates = {self.date_hierarchy} if self.date_hierarchy else set()
        return names, paths, dates


def _listed(lookup: str, allowed: tuple[set[str], set[str], set[str]]) -> bool:
    names, paths, dates = allowed
    if lookup in names:
        return True
    for path in paths:
        if lookup == path or (
            lookup.startswith(f"{path}__") and lookup[len(path) + 2 :] in FILTER_SUFFIXES
        ):
            return True
    return any(
        lookup.startswith(f"{field}__") and lookup[len(field) + 2 :] in DATE_HIERARCHY_SUFFIXES
        for field in dates
    )
