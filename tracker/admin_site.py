"""The admin site: Django's, with an autocomplete that offers only what the user may see.

Django serves an autocomplete for every relation that points at a model whose admin has
``search_fields`` (any model's foreign key, many-to-many or reverse relation, named in the
URL), through that admin's queryset, which for claims lists the restricted ones redacted. Here
the one view behind all of them offers only the rows the user may see
(``visibility.queryset_for``). Outside the ``tracker.admin`` package: Django imports the site
before it discovers the admin modules that register on it.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignObjectRel
from django.utils.translation import gettext_lazy as _

from . import visibility


class VisibleAutocompleteJsonView(AutocompleteJsonView):
    """Django's autocomplete, offering only the rows the user may see, for a model's own
    relation fields (a reverse relation named in the URL made Django's view fail)."""

    def process_request(self, request):
        term, model_admin, source_field, to_field_name = super().process_request(request)
        if isinstance(source_field, ForeignObjectRel):
            raise PermissionDenied
        return term, model_admin, source_field, to_field_name

    def get_queryset(self):
        queryset = super().get_queryset()
        return visibility.queryset_for(queryset.model, self.request.user, queryset)


class TrackerAdminSite(admin.AdminSite):
    site_header = _("Sanctions-deadline compliance tracker")
    site_title = _("Compliance tracker")
    index_title = _("Evidence on DPRK workers abroad")

    def autocomplete_view(self, request):
        return VisibleAutocompleteJsonView.as_view(admin_site=self)(request)
