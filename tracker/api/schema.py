"""The OpenAPI schema says what the API answers (drf-spectacular's generator, corrected where
DRF's introspection cannot know):

1. a response lists every field it always carries as required; a request requires only what
   has no default (``COMPONENT_SPLIT_REQUEST``: separate request and response components);
2. a field that a redacted claim shows as null (``Meta.null_when_redacted``) is nullable in
   responses, never in requests;
3. a string that may be blank is "its format, or empty" (``anyOf``, not ``oneOf``), and so is
   a filter: given empty, it is not applied;
4. the errors each operation can answer, with their bodies: 403 for every operation (not
   signed in, or not permitted: DRF answers 403 for both, as session authentication comes
   first), 404 for a path with an id and for a list's invalid cursor, 400 for a write and for
   a list that takes parameters.

tests/tracker/test_api_schema.py validates real answers against it; schemathesis fuzzes it.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Why the request was refused, in one sentence."""

    detail = serializers.CharField()


# DRF's validation errors: a list of messages per field name (``non_field_errors`` or
# ``__all__`` for the whole), or one ``detail`` sentence (a body that could not be parsed).
VALIDATION_ERRORS = {
    "type": "object",
    "description": _("What is wrong with the request: messages by field name."),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


BLANK = {"type": "string", "maxLength": 0}


class AutoSchema(openapi.AutoSchema):
    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction != "response":
            return schema
        properties = schema.get("properties", {})
        for name in getattr(getattr(serializer, "Meta", None), "null_when_redacted", ()):
            properties[name]["nullable"] = True
        # Every field of a response is always there, with or without a default.
        schema["required"] = sorted(properties)
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # A blank-allowed URL is "a URI, or empty": spectacular says oneOf, which an empty
        # string fails wherever a validator does not check the URI format (it is both).
        if schema.get("oneOf", [None])[-1] == BLANK:
            schema["anyOf"] = schema.pop("oneOf")

    def _get_filter_parameters(self):
        # A filter given empty is not applied (django-filter, as on the pages: the browsable
        # API's filter form sends every field, empty ones too): say so where a type, a format
        # or a list of choices would refuse an empty value.
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            schema = parameter["schema"]
            if schema.get("type") != "array" and schema != {"type": "string"}:
                parameter["schema"] = {"anyOf": [schema, BLANK]}
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        paginated = self.method == "GET" and self._is_list_view() and self._get_paginator()
        errors = {"403": ErrorSerializer}
        if "{" in self.path or paginated:  # an id that is not there; a cursor that is not valid
            errors["404"] = ErrorSerializer
        if self.method in ("POST", "PUT", "PATCH") or self._takes_query_parameters():
            errors["400"] = self._validation_errors_ref()
        for code, body in errors.items():
            responses.setdefault(code, self._get_response_for_code(body, code))
        return responses

    def _takes_query_parameters(self) -> bool:
        """Filters, the page size, or parameters declared with ``extend_schema``."""
        return self.method == "GET" and bool(
            self._get_filter_parameters()
            or self._get_pagination_parameters()
            or self.get_override_parameters()
        )

    def _validation_errors_ref(self) -> dict:
        component = ResolvedComponent(
            name="ValidationErrors",
            type=ResolvedComponent.SCHEMA,
            object="ValidationErrors",
            schema=VALIDATION_ERRORS,
        )
        self.registry.register_on_missing(component)
        return component.ref
