"""*Evidence dossier* in the claim admin: choose a country and an obligation, get the ZIP."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import dossier
from ..models import Obligation, Place, reads_korean


class DossierForm(forms.Form):
    country = forms.ModelChoiceField(Place.objects.countries(), label=_("Country"))
    obligation = forms.ModelChoiceField(Obligation.objects.order_by("code"), label=_("Obligation"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # By name in the reader's language.
        order = "name_ko" if reads_korean() else "name"
        country = self.fields["country"]
        assert isinstance(country, forms.ModelChoiceField)  # noqa: S101 (declared above)
        country.queryset = Place.objects.countries().order_by(order, "name")


class DossierMixin:
    def get_urls(self):
        return [
            path(
                "dossier/",
                self.admin_site.admin_view(self.dossier_view),
                name="tracker_claim_dossier",
            ),
            *super().get_urls(),
        ]

    def dossier_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = DossierForm(request.GET or None)
        if form.is_valid():
            name, archive = dossier.build(
                form.cleaned_data["country"], form.cleaned_data["obligation"], request.user
            )
            # Streamed from its temporary file, which the response closes.
            return FileResponse(
                archive, as_attachment=True, filename=name, content_type="application/zip"
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Evidence dossier"),
            "form": form,
        }
        return TemplateResponse(request, "admin/tracker/claim/dossier.html", context)
