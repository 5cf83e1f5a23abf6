"""The API's own serializer fields: values are taken as the schema types them.

DRF coerces: a JSON number is taken for a text (``"title": 0``), a text for a number
(``"count_low": "12"``, ``"credibility": "1"``, ``"report": "11"``), 1, 0, "yes" or "off" for a
boolean. A client cannot know which of these the API reads, and the schema says otherwise
(schemathesis found each). In a JSON body a value must be of its type. A form (the browsable
API's HTML forms) sends only text, and is read as DRF reads it, but for booleans: "true" or
"false", which is what its checkbox sends.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import BigIntegerField  # type: ignore[attr-defined]  # stubs: DRF 3.16
from rest_framework.utils import html

from ..partialdates import PartialDate


def from_form(field: serializers.Field) -> bool:
    """Whether the data being validated came from a form (all text), not a JSON body."""
    return html.is_html_input(getattr(field.root, "initial_data", None))


def is_of(value, types: tuple[type, ...]) -> bool:
    """``isinstance``, except that a boolean is not a number."""
    return isinstance(value, types) and (bool in types or not isinstance(value, bool))


class JsonTyped:
    """In a JSON body, refuse a value that is not of ``json_types`` with the field's own
    ``json_error`` message."""

    json_types: tuple[type, ...] = ()
    json_error = "invalid"

    def types_in_json(self) -> tuple[type, ...]:
        return self.json_types

    def to_internal_value(self, data):
        if not from_form(self) and not is_of(data, self.types_in_json()):
            self.fail(self.json_error, input=data)
        return super().to_internal_value(data)


class StrictCharField(JsonTyped, serializers.CharField):
    json_types = (str,)


class StrictURLField(JsonTyped, serializers.URLField):
    json_types = (str,)


class StrictIntegerField(JsonTyped, serializers.IntegerField):
    json_types = (int,)


class StrictBigIntegerField(JsonTyped, BigIntegerField):
    json_types = (int,)


class StrictChoiceField(JsonTyped, serializers.ChoiceField):
    """A choice of the type of its values: ``1`` for a credibility, not ``"1"``."""

    json_error = "invalid_choice"

    def types_in_json(self) -> tuple[type, ...]:
        return tuple({type(value) for value in self.choices})


class StrictBooleanField(JsonTyped, serializers.BooleanField):
    """``true`` or ``false``: a JSON boolean, or those words in a form."""

    json_types = (bool,)

    def to_internal_value(self, data):
        if from_form(self) and not (isinstance(data, str) and data.lower() in ("true", "false")):
            self.fail("invalid", input=data)
        return super().to_internal_value(data)


# DRF's field for each kind, and this module's in its place.
STRICT = {
    serializers.CharField: StrictCharField,
    serializers.URLField: StrictURLField,
    serializers.IntegerField: StrictIntegerField,
    BigIntegerField: StrictBigIntegerField,
    serializers.BooleanField: StrictBooleanField,
}


PARTIAL_DATE_SCHEMA = {
    "type": "string",
    "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$",
    "example": "2017-09",
    "description": "ISO 8601 at the precision the source gave: a day (2019-12-23), a month "
    "(2017-09) or a year (2022).",
}


@extend_schema_field(PARTIAL_DATE_SCHEMA)
class PartialDateField(serializers.Field):
    """A day, a month or a year as ISO 8601 at reduced precision, in and out: ``2019-12-23``,
    ``2017-09``, ``2022`` (``tracker.partialdates.PartialDate``)."""

    default_error_messages = {
        "invalid": _(
            "%(value)s is not a date: write a day, a month or a year (2019-12-23, 2017-09 or 2022)."
        ),
    }

    def fail(self, key, **kwargs):
        if key == "invalid":
            raise serializers.ValidationError(
                self.error_messages["invalid"] % {"value": repr(kwargs.get("input"))}, code=key
            )
        super().fail(key, **kwargs)

    def to_internal_value(self, data) -> PartialDate:
        if not isinstance(data, str):  # in a form too: a form sends text
            self.fail("invalid", input=data)
        try:
            return PartialDate.parse(data)
        except ValueError:
            self.fail("invalid", input=data)
            raise  # unreachable: fail raises

    def to_representation(self, value) -> str | None:
        return None if value is None else value.isoformat()
