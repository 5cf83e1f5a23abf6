"""The API's representations, each read through the visibility rule (``tracker.visibility``):
a relation offers, accepts and renders in the browsable API's forms only the rows the requesting
user may see; a restricted claim is shown as everywhere else (``visibility.ClaimShown``); writes
go through the models' own validation."""

from __future__ import annotations

import datetime
from functools import cached_property

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from reports.status import STATUSES

from .. import visibility
from ..flags.render import FlagText
from ..models import (
    Claim,
    Flag,
    Obligation,
    Place,
    Report,
    Resolution,
    Source,
)
from .fields import STRICT, PartialDateField, StrictCharField, StrictChoiceField, from_form, is_of


def _user(context):
    """The requesting user (None without a request: nothing confidential is shown)."""
    request = context.get("request")
    return getattr(request, "user", None)


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A relation by id whose choices are the rows the requesting user may see
    (``visibility.queryset_for``): its validation, and the drop-downs of the browsable API's
    forms, know no other. A hidden id is refused as one that does not exist, with the same
    message. Without a request in the context nothing confidential is offered."""

    default_error_messages = {"does_not_exist": _("No such {model}.")}

    def __init__(self, **kwargs):
        # An id is a whole number: 1.5 is refused, not read as 1.
        kwargs.setdefault("pk_field", serializers.IntegerField())
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        return visibility.queryset_for(queryset.model, _user(self.context), queryset)

    def to_internal_value(self, data):
        if not from_form(self) and not is_of(data, (int,)):  # "11" in JSON
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)

    def fail(self, key, **kwargs):
        super().fail(key, model=self.queryset.model._meta.verbose_name, **kwargs)


class VisibleModelSerializer(serializers.ModelSerializer):
    """Every relation a model serializer builds is a ``VisibleRelatedField``; every value is
    taken as the schema types it (``tracker.api.fields``)."""

    serializer_related_field = VisibleRelatedField
    serializer_field_mapping = {
        model_field: STRICT.get(field, field)
        for model_field, field in serializers.ModelSerializer.serializer_field_mapping.items()
    }
    serializer_choice_field = StrictChoiceField


class ModelValidated(VisibleModelSerializer):
    """Runs the model's ``full_clean`` so the API says what the admin says."""

    def validate(self, attrs):
        instance = self.instance or self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        try:
            instance.full_clean(exclude=self._clean_exclude())
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return attrs

    def _clean_exclude(self) -> list[str]:
        return []


class ResolutionSerializer(VisibleModelSerializer):
    """A UN Security Council resolution."""

    class Meta:
        model = Resolution
        fields = ["id", "symbol", "number", "adopted_on", "title", "title_ko"]


class ObligationSerializer(VisibleModelSerializer):
    """One operative duty of a resolution."""

    resolution = serializers.SlugRelatedField(slug_field="symbol", read_only=True)

    class Meta:
        model = Obligation
        fields = ["id", "code", "resolution", "paragraph", "kind", "summary", "exceptions",
                  "effective_from", "due_on", "max_evidence_age_days",
                  "short_name", "short_name_ko", "summary_ko", "exceptions_ko"]  # fmt: skip


class PlaceSerializer(VisibleModelSerializer):
    """A place: the world, a country, or a region, province or city inside one."""

    class Meta:
        model = Place
        fields = ["id", "name", "kind", "iso_code", "parent", "name_path", "name_ko",
                  "name_path_ko", "aliases"]  # fmt: skip


class SourceSerializer(VisibleModelSerializer):
    """Who makes claims. Confidential sources are listed only to who may see them."""

    country = serializers.SlugRelatedField(slug_field="iso_code", read_only=True)

    class Meta:
        model = Source
        fields = ["id", "name", "kind", "country", "reliability", "confidential", "aliases"]


class ReportSerializer(ModelValidated):
    """One source document. Restricted reports (confidential, or by a confidential
    publisher) are listed only to who may see them."""

    publisher_name = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ["id", "title", "url", "publisher", "publisher_name", "published_on",
                  "language", "confidential"]  # fmt: skip

    def get_publisher_name(self, report: Report) -> str:
        if visibility.source_is_hidden(report.publisher, _user(self.context)):
            return str(visibility.SOURCE_LABEL)
        return report.publisher.name


class ClaimSerializer(ModelValidated):
    """One assertion inside a report: who says what about which place, as of when.

    A restricted claim (made by a confidential source, or recorded from a restricted report) is
    listed to a user without the permission as the pages and exports show it: its source,
    report, publisher and publication date replaced, its reference and summary blank, and no id
    of its source or report; by its id it does not exist."""

    # What a restricted claim must not show is read from ``visibility.ClaimShown``, never from
    # the claim itself.
    source_name = serializers.SerializerMethodField()
    report_title = serializers.SerializerMethodField()
    publisher_name = serializers.SerializerMethodField()
    published_on = serializers.SerializerMethodField()
    place_name = serializers.CharField(source="place.name_path", read_only=True)
    # Null for a pure count (allow_null; a default would be skipped in a PATCH's answer).
    obligation_code = serializers.CharField(
        source="obligation.code", read_only=True, allow_null=True
    )
    summary = StrictCharField(required=False, allow_blank=True)
    # Dates at the precision the source gave, as ISO 8601: "2019-12-23", "2017-09", "2022".
    as_of = PartialDateField(source="as_of_given")
    period_start = PartialDateField(source="period_start_given", required=False, allow_null=True)
    reference = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=_(
            "The claim's reference: its external_id, else the one the system gave it (C- and its "
            "id), what exports write; null where the claim is shown redacted."
        ),
    )

    class Meta:
        model = Claim
        fields = [
            "id", "external_id", "reference", "report", "report_title", "publisher_name",
            "published_on", "attributed_to", "source_name", "place", "place_name", "obligation",
            "obligation_code", "stance", "measure", "count_low", "count_high", "period_start",
            "as_of", "credibility", "summary",
        ]  # fmt: skip
        # Null where the claim is shown redacted (tracker/api/schema.py puts it in responses).
        null_when_redacted = ["attributed_to", "report"]

    _shown_last: visibility.ClaimShown | None = None

    @cached_property
    def _sees_confidential(self) -> bool:
        return visibility.sees_confidential(_user(self.context))

    def _shown(self, claim: Claim) -> visibility.ClaimShown:
        """The claim as the user may read it, built once per claim."""
        if self._shown_last is None or self._shown_last.claim is not claim:
            self._shown_last = visibility.shown(claim, sees=self._sees_confidential)
        return self._shown_last

    def get_source_name(self, claim: Claim) -> str:
        return self._shown(claim).source_name

    def get_report_title(self, claim: Claim) -> str:
        return self._shown(claim).report_title

    def get_publisher_name(self, claim: Claim) -> str:
        return self._shown(claim).publisher_name

    def get_published_on(self, claim: Claim) -> datetime.date | None:
        return self._shown(claim).published_on

    def to_representation(self, claim):
        data = super().to_representation(claim)
        shown = self._shown(claim)
        # The monitor's own reference may name whoever made the claim, as its summary may; the
        # ids would let a reader group the claims of one informant, or of one confidential
        # report, and count where they were made.
        data.update(
            external_id=shown.external_id or None,
            reference=shown.reference or None,
            summary=shown.summary,
            attributed_to=shown.source_id,
            report=shown.report_id,
        )
        return data


class SaidFlags(serializers.ListSerializer):
    """A list of flags, said for the requester by one ``FlagText`` (its queries once for the
    page, not once per flag)."""

    def to_representation(self, data):
        flags = list(data.all() if hasattr(data, "all") else data)
        request = self.context.get("request")
        self.child.said = FlagText(flags, request.user if request else None)
        return super().to_representation(flags)


class FlagSerializer(VisibleModelSerializer):
    """A flag's facts, and its sentence and resolution said for the requester, in their
    language, with what they may see now (``tracker.flags.render``)."""

    explanation = serializers.SerializerMethodField()
    resolved_reason = serializers.SerializerMethodField()
    obligations = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    country = serializers.SlugRelatedField(slug_field="iso_code", read_only=True, allow_null=True)
    place = serializers.CharField(source="place.name_path", read_only=True)
    claim_ids = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = Flag
        list_serializer_class = SaidFlags
        fields = ["id", "kind", "status", "severity", "obligations", "country", "place",
                  "measure", "claim_ids", "facts", "explanation", "first_seen", "last_seen",
                  "resolved_at", "resolved_reason", "status_note"]  # fmt: skip

    def _said(self, flag: Flag) -> FlagText:
        said = getattr(self, "said", None)
        if said is None:  # one flag (a detail)
            request = self.context.get("request")
            said = self.said = FlagText([flag], request.user if request else None)
        return said

    def get_explanation(self, flag: Flag) -> str:
        return self._said(flag).sentence(flag)

    def get_resolved_reason(self, flag: Flag) -> str:
        return self._said(flag).resolution(flag)


class FlagNoteSerializer(serializers.Serializer):
    """Acknowledge or re-open a flag, with a note if the monitor has something to say."""

    note = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Optional. Kept with the flag and shown to every reader."),
    )


class FlagDismissSerializer(serializers.Serializer):
    """Dismiss a flag: why it is not a problem (required; blank is refused)."""

    reason = StrictCharField(
        help_text=_(
            "Why this flag is not a problem. Kept with the flag and shown to every reader; "
            "the flag stays dismissed while the evidence it rests on is the same."
        ),
    )


class StatusQuerySerializer(serializers.Serializer):
    """The status endpoint's filters; each, if given, must name what exists."""

    country = serializers.CharField(
        required=False, allow_blank=True, help_text=_("A member state's ISO code, e.g. CN.")
    )
    obligation = serializers.CharField(
        required=False, allow_blank=True, help_text=_("An obligation's code, e.g. UNSCR2397-OP8.")
    )

    def validate_country(self, iso: str) -> Place | None:
        if not iso:
            return None
        country = Place.objects.countries().filter(iso_code=iso.upper()).first()
        if country is None:
            raise serializers.ValidationError(
                _("“%(value)s” is not a member state's ISO code.") % {"value": iso}
            )
        return country

    def validate_obligation(self, code: str) -> Obligation | None:
        if not code:
            return None
        obligation = Obligation.objects.filter(code=code.upper()).first()
        if obligation is None:
            raise serializers.ValidationError(
                _("“%(value)s” is not an obligation code.") % {"value": code}
            )
        return obligation


class StatusSerializer(serializers.Serializer):
    """The status of one (country, obligation) pair, with its reason."""

    country = serializers.CharField(help_text=_("ISO code"))
    obligation = serializers.CharField(help_text=_("Obligation code"))
    status = serializers.ChoiceField(choices=STATUSES)
    reason = serializers.CharField()
    newest_as_of = serializers.DateField(allow_null=True)
    claims = serializers.IntegerField(help_text=_("How many claims it rests on."))
    flag_ids = serializers.ListField(child=serializers.IntegerField())
