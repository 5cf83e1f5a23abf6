"""The add-report page's forms: a report with a new source and a new place typed on the same
page, its claims as stacked blocks that may name them, and the errors listed at the top.

A new source or place is created with the report or not at all (docs/design.md, section 7):
the report form validates it as the source or place page would (the model's rules and
constraints, a duplicate name refused), the admin saves it in the report's transaction, and
the claims that tick "the new source" or "the new place" point at it. No pop-up window, no
endpoint of its own: only who may add sources (places) sees the fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import forms as forms_
from ..models import Claim, Place, PlaceKind, Reliability, Report, Source, SourceKind

# The fields of the report form that describe a new source, by the Source field they fill.
NEW_SOURCE_FIELDS = {
    "new_source_name": "name",
    "new_source_kind": "kind",
    "new_source_country": "country",
    "new_source_reliability": "reliability",
    "new_source_confidential": "confidential",
}
NEW_PLACE_FIELDS = {
    "new_place_name": "name",
    "new_place_name_ko": "name_ko",
    "new_place_kind": "kind",
    "new_place_parent": "parent",
}
# Countries ship with the reference data (ISO code, CLDR names); a new place lies inside one.
NEW_PLACE_KINDS = [PlaceKind.REGION, PlaceKind.PROVINCE, PlaceKind.CITY]


def may_create(user, model) -> bool:
    """Whether ``user`` may create a ``model`` row (a source, a place) from the report form."""
    opts = model._meta
    return user.has_perm(f"{opts.app_label}.add_{opts.model_name}")


def _label(model, name: str):
    return capfirst(model._meta.get_field(name).verbose_name)


class ReportForm(forms.ModelForm):
    """The report, and the new source and place its claims may name.

    ``may_create_source`` and ``may_create_place`` are set per request (``ReportAdmin``):
    without the permission the fields are gone, and whatever is posted for them is ignored.
    """

    may_create_source = False
    may_create_place = False

    publisher_new = forms.BooleanField(
        label=_("the new source"),
        required=False,
        help_text=_("Published by the source described under “New source”."),
    )
    new_source_name = forms.CharField(label=_label(Source, "name"), required=False, max_length=200)
    new_source_kind = forms.ChoiceField(
        label=_label(Source, "kind"),
        required=False,
        choices=[("", "---------"), *SourceKind.choices],
    )
    new_source_country = forms.ModelChoiceField(
        label=_label(Source, "country"),
        required=False,
        queryset=Place.objects.countries(),
        help_text=Source._meta.get_field("country").help_text,
    )
    new_source_reliability = forms.ChoiceField(
        label=_label(Source, "reliability"),
        choices=Reliability.choices,
        initial=Reliability.F,
        required=False,
    )
    new_source_confidential = forms.BooleanField(
        label=_label(Source, "confidential"),
        required=False,
        help_text=Source._meta.get_field("confidential").help_text,
    )
    new_place_name = forms.CharField(label=_label(Place, "name"), required=False, max_length=200)
    new_place_name_ko = forms.CharField(
        label=_label(Place, "name_ko"), required=False, max_length=200
    )
    new_place_kind = forms.ChoiceField(
        label=_label(Place, "kind"),
        required=False,
        choices=[("", "---------"), *((kind.value, kind.label) for kind in NEW_PLACE_KINDS)],
    )
    new_place_parent = forms.ModelChoiceField(
        label=capfirst(_("inside")),
        required=False,
        queryset=Place.objects.all(),
        help_text=_("The country (or region, province) the new place lies in."),
    )

    class Meta:
        model = Report
        fields: list[str] = []  # the admin's fieldsets say which

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Autocompletes through the relations they fill, so that they offer what those do.
        for name, relation in [
            ("new_source_country", Source._meta.get_field("country")),
            ("new_place_parent", Place._meta.get_field("parent")),
        ]:
            field = cast(forms.ModelChoiceField, self.fields[name])
            field.widget = AutocompleteSelect(relation, admin.site)
            field.queryset = field.queryset  # gives the new widget the field's choices
        for name in [*NEW_SOURCE_FIELDS, "publisher_new"] if not self.may_create_source else []:
            self.fields.pop(name, None)
        for name in NEW_PLACE_FIELDS if not self.may_create_place else []:
            self.fields.pop(name, None)
        if "publisher_new" in self.fields and "publisher" in self.fields:
            self.fields["publisher"].required = False
        self.new_source: Source | None = None
        self.new_place: Place | None = None

    def clean(self):
        cleaned = super().clean()
        if self.may_create_source:
            self.new_source = self._new_row(Source, NEW_SOURCE_FIELDS, ignore={"reliability"})
        if self.may_create_place:
            self.new_place = self._new_row(Place, NEW_PLACE_FIELDS)
        if "publisher" in self.fields and not self.has_error("publisher"):
            chosen, new = cleaned.get("publisher"), cleaned.get("publisher_new")
            if chosen is None and not new:
                self.add_error("publisher", self.fields["publisher"].error_messages["required"])
            elif chosen is not None and new:
                self.add_error("publisher", _both_message(source=True))
            elif new and self.new_source is None and not self._errors_in(NEW_SOURCE_FIELDS):
                self.add_error("publisher_new", _nothing_new_message(source=True))
        return cleaned

    def _errors_in(self, fields: dict[str, str]) -> bool:
        return any(self.has_error(name) for name in fields)

    def _new_row(self, model, fields: dict[str, str], ignore=frozenset()):
        """The unsaved, validated row the fields describe; None when they are left empty
        (the defaults alone describe nothing)."""
        values = {target: self.cleaned_data.get(name) for name, target in fields.items()}
        typed = {target: value for target, value in values.items() if value not in (None, "")}
        if not any(value for target, value in typed.items() if target not in ignore):
            return None
        if self._errors_in(fields):
            return None
        row = model(**typed)
        try:
            row.full_clean()
        except ValidationError as error:
            by_target = {target: name for name, target in fields.items()}
            for target, messages in error.message_dict.items():
                self.add_error(by_target.get(target, next(iter(fields))), messages)
            return None
        return row


def _both_message(*, source: bool) -> str:
    if source:
        return gettext("Choose one, or tick “the new source”, not both.")
    return gettext("Choose one, or tick “the new place”, not both.")


def _nothing_new_message(*, source: bool) -> str:
    if source:
        return gettext("Describe the new source under “New source” (its name and kind at least).")
    return gettext("Describe the new place under “New place” (its name, kind and where it lies).")


class ClaimForm(forms_.ClaimForm):
    """A claim: its source and place chosen, or the new ones of the same submission; its
    dates as given (a day, a month or a year: ``tracker.forms.ClaimForm``)."""

    may_create_source = False
    may_create_place = False

    attributed_to_new = forms.BooleanField(label=_("the new source"), required=False)
    place_new = forms.BooleanField(label=_("the new place"), required=False)

    class Meta:
        model = Claim
        fields: list[str] = []  # the inline's fieldsets say which

    def __init__(self, *args, new_source_named: bool = False, new_place_named: bool = False,
                 **kwargs) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.new_named = {"attributed_to": new_source_named, "place": new_place_named}
        for field, allowed in [
            ("attributed_to", self.may_create_source),
            ("place", self.may_create_place),
        ]:
            if not allowed:
                self.fields.pop(f"{field}_new", None)
            elif field in self.fields:
                self.fields[field].required = False

    def clean(self):
        cleaned = super().clean()
        for field in ("attributed_to", "place"):
            if f"{field}_new" not in self.fields or field not in self.fields:
                continue
            if self.has_error(field):
                continue
            chosen, new = cleaned.get(field), cleaned.get(f"{field}_new")
            if chosen is None and not new:
                # Only a row that says something is checked: an untouched extra block is not.
                self.add_error(field, self.fields[field].error_messages["required"])
            elif chosen is not None and new:
                self.add_error(field, _both_message(source=field == "attributed_to"))
            elif new and not self.new_named[field]:
                self.add_error(
                    f"{field}_new", _nothing_new_message(source=field == "attributed_to")
                )
        return cleaned


class ClaimFormSet(BaseInlineFormSet):
    """Tells each claim whether a new source and a new place are described on the page."""

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        data = self.data or {}
        kwargs["new_source_named"] = bool(str(data.get("new_source_name", "")).strip())
        kwargs["new_place_named"] = bool(str(data.get("new_place_name", "")).strip())
        return kwargs


def attach_new_rows(formset, *, source: Source | None, place: Place | None) -> None:
    """Point the claims that ticked "the new source" or "the new place" at the rows just
    created, before the formset saves them."""
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if not data or data.get("DELETE"):
            continue
        if data.get("attributed_to_new") and source is not None:
            form.instance.attributed_to = source
        if data.get("place_new") and place is not None:
            form.instance.place = place


# --- the errors, listed at the top ----------------------------------------------------------


@dataclass(frozen=True)
class ErrorItem:
    """One error of the page, as the summary at its top lists it."""

    where: str  # "Claim #2, as of"
    message: str
    anchor: str  # the id of the field (or of the block) to scroll to


def error_summary(adminform, inline_admin_formsets) -> list[ErrorItem]:
    """Every error of the report form and its inlines, in page order, each with the block
    number the page shows ("Claim #2") and its field's label."""
    items = _form_errors(adminform.form, "", anchor_of_form="content-main")
    for inline in inline_admin_formsets:
        formset = inline.formset
        name = capfirst(inline.opts.verbose_name)
        group = f"{formset.prefix}-group"
        items += [ErrorItem(str(name), str(m), group) for m in formset.non_form_errors()]
        for number, form in enumerate(formset.forms, start=1):
            where = gettext("%(name)s #%(number)s") % {"name": name, "number": number}
            items += _form_errors(form, where, anchor_of_form=f"{formset.prefix}-{number - 1}")
    return items


def _form_errors(form, where: str, *, anchor_of_form: str) -> list[ErrorItem]:
    items = []
    for name, messages in form.errors.items():
        if name == NON_FIELD_ERRORS or name not in form.fields:
            label, anchor = "", anchor_of_form
        else:
            field = form[name]
            label, anchor = str(field.label), field.id_for_label or anchor_of_form
        place = ", ".join(part for part in (where, label) if part)
        items += [ErrorItem(place, str(message), anchor) for message in messages]
    return items
