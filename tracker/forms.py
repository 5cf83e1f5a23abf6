"""Form fields shared by the admin's claim forms (tracker/admin/evidence.py)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .models import Claim
from .partialdates import PartialDate


class PartialDateField(forms.Field):
    """A day, a month or a year typed as ISO 8601 (``2019-12-23``, ``2017-09``, ``2022``), kept
    at that precision (``tracker.partialdates.PartialDate``)."""

    widget = forms.TextInput
    default_error_messages = {
        "invalid": _("%(value)s is not a date: write a day, a month or a year (2019-12-23, "
                     "2017-09 or 2022)."),
    }  # fmt: skip

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("size", 10)

    def prepare_value(self, value):
        if isinstance(value, PartialDate):
            return value.isoformat()
        return value.isoformat() if hasattr(value, "isoformat") else value

    def to_python(self, value) -> PartialDate | None:
        if value in self.empty_values:
            return None
        if isinstance(value, PartialDate):
            return value
        try:
            return PartialDate.parse(str(value))
        except ValueError:
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": repr(value)}
            ) from None

    def has_changed(self, initial, data) -> bool:
        try:
            return self.to_python(self.prepare_value(initial)) != self.to_python(data)
        except ValidationError:
            return True


class ClaimForm(forms.ModelForm):
    """A claim's form with its dates as given (a day, a month or a year): the admin's claim
    page and the report page's claim rows."""

    PARTIAL = (("as_of", "as_of_given"), ("period_start", "period_start_given"))

    as_of = PartialDateField(help_text=Claim._meta.get_field("as_of").help_text)
    period_start = PartialDateField(
        required=False, help_text=Claim._meta.get_field("period_start").help_text
    )

    class Meta:
        model = Claim
        # The admin passes its own field lists; these are the claim's editable fields.
        fields = ["report", "attributed_to", "place", "obligation", "stance", "measure",
                  "count_low", "count_high", "period_start", "as_of", "credibility", "summary",
                  "external_id"]  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, _given in self.PARTIAL:
            if name in self.fields:  # labelled as the model's own fields are, in the language
                model_field = cast(models.Field, Claim._meta.get_field(name))
                self.fields[name].label = capfirst(model_field.verbose_name)
        if self.instance.pk:
            for name, given in self.PARTIAL:
                self.initial[name] = getattr(self.instance, given)

    def clean(self) -> dict:
        # The model stores a partial date as its first day and its precision: the day goes
        # through the model form's own path (and the model's validation), the precision beside.
        cleaned = super().clean() or {}
        for name, given in self.PARTIAL:
            if name in cleaned:
                value = cleaned[name]
                setattr(self.instance, given, value)
                cleaned[name] = value.first if value else None
        return cleaned
