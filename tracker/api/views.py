"""The JSON API at /api/: read for Editors and Viewers, write (claims, reports) for Editors.

Same filters as the pages (the FilterSets of ``tracker.filters``), cursor pagination (newest
first), session or token authentication, the same redaction as everywhere."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from reports.status import status_matrix

from .. import services, visibility
from ..filters import ClaimFilter, FlagFilter
from ..models import (
    Claim,
    Flag,
    Obligation,
    Place,
    Report,
    Resolution,
    Source,
)
from . import serializers
from .permissions import HandlesFlags, ModelPermissions
from .schema import ErrorSerializer

DIGITS = re.compile(r"[0-9]+")


class NewestFirst(CursorPagination):
    """Cursor pages, newest first. ``?page_size=`` is a whole number from 1 (more than
    ``max_page_size`` gives that many); anything else is a 400, not silently the default."""

    ordering = "-id"
    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"
    page_size_query_description = _(  # type: ignore[assignment]  # lazy: read with the schema
        "Results on a page, from 1 (default 50; more than 500 gives 500)."
    )

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # ASCII digits only: int() also reads " 5", "+5", "5_0" and other scripts' digits.
        digits = raw.lstrip("0") if DIGITS.fullmatch(raw) else ""
        if not digits:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _(
                            "The page size is a whole number from 1 (at most %(maximum)d "
                            "results are given)."
                        )
                        % {"maximum": self.max_page_size}
                    ]
                }
            )
        # Compared as text first: int() refuses numbers of more than 4,300 digits.
        return self.max_page_size if len(digits) > 9 else min(int(digits), self.max_page_size)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


class ReadOnly(viewsets.ReadOnlyModelViewSet):
    permission_classes = [permissions.IsAuthenticated, ModelPermissions]
    pagination_class = NewestFirst


class ResolutionViewSet(ReadOnly):
    queryset = Resolution.objects.all()
    serializer_class = serializers.ResolutionSerializer


class ObligationViewSet(ReadOnly):
    queryset = Obligation.objects.select_related("resolution")
    serializer_class = serializers.ObligationSerializer


class PlaceViewSet(ReadOnly):
    queryset = Place.objects.all()
    serializer_class = serializers.PlaceSerializer


class SourceViewSet(ReadOnly):
    queryset = Source.objects.select_related("country")
    serializer_class = serializers.SourceSerializer

    def get_queryset(self):
        return visibility.sources(self.request.user, super().get_queryset())


class Writes(mixins.CreateModelMixin, mixins.UpdateModelMixin, ReadOnly):
    """Creates and updates, each in one transaction (the API runs without
    ``ATOMIC_REQUESTS``): the save, what its signals do (conceal what it made confidential)
    and the checks it requests land together or not at all."""

    def create(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().create(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().update(request, *args, **kwargs)


class ReportViewSet(Writes):
    queryset = Report.objects.select_related("publisher")
    serializer_class = serializers.ReportSerializer

    def get_queryset(self):
        return visibility.reports(self.request.user, super().get_queryset())

    def perform_create(self, serializer):
        serializer.save(logged_by=self.request.user)


class ClaimViewSet(Writes):
    queryset = Claim.objects.select_related(
        "attributed_to", "place", "obligation", "report__publisher"
    )
    serializer_class = serializers.ClaimSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ClaimFilter

    def get_queryset(self):
        """A list shows every claim, the restricted ones redacted (``ClaimShown``); opened,
        changed or named by its id, a restricted claim does not exist for a user without the
        permission (the visibility rule), as in the admin."""
        queryset = super().get_queryset()
        if self.action == "list":
            return queryset
        return visibility.claims(self.request.user, queryset)

    def perform_create(self, serializer):
        claim = serializer.save()
        services.checks_request_for(
            claims={(claim.pk, claim.place_id)}, source_ids={claim.attributed_to_id}
        )

    def perform_update(self, serializer):
        # As stored before (validation has set the new values on the instance already), and
        # locked, so that a concurrent move cannot slip between: a claim moved away from a
        # place, or from a state's self-report source (its overdue reports), re-checks it.
        stored = Claim.objects.select_for_update().filter(pk=serializer.instance.pk)
        place, source = stored.values_list("place_id", "attributed_to_id").get()
        claim = serializer.save()
        services.checks_request_for(
            claims={(claim.pk, place), (claim.pk, claim.place_id)},
            source_ids={source, claim.attributed_to_id},
        )


class Conflict(APIException):
    """The flag's status does not allow the action: the checks or another monitor moved it
    (409: the request is well formed, the flag's state refuses it; sent again later, as the
    state allows, the same request succeeds)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _flag_action(serializer_class, description: str | Promise):
    """The schema of a monitor's action on one flag: its body, the flag as it now is, and a
    409 when its status does not allow the action."""
    return extend_schema(
        request=serializer_class,
        responses={200: serializers.FlagSerializer, 409: ErrorSerializer},
        description=description,
    )


class FlagViewSet(ReadOnly):
    """Flags, said for the requester; Editors (who may change flags, as in the admin)
    acknowledge, dismiss and re-open them (``services.flag_act``), one at a time."""

    queryset = Flag.objects.select_related("country", "place").prefetch_related("obligations")
    serializer_class = serializers.FlagSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = FlagFilter

    def _act(self, request, name: str, body_class, field: str):
        flag = self.get_object()  # a flag that is not there: 404, whatever the body
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.flag_act(
                flag=flag, user=request.user, action=name, note=body.validated_data[field]
            )
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        except services.FlagActionRefused as refused:
            raise Conflict(str(refused)) from None
        flag = self.get_queryset().get(pk=flag.pk)
        return Response(self.get_serializer(flag).data)

    @_flag_action(
        serializers.FlagNoteSerializer,
        _("An open flag becomes acknowledged: someone is looking into it."),
    )
    @action(detail=True, methods=["post"], permission_classes=[HandlesFlags])
    def acknowledge(self, request, pk=None):
        return self._act(request, "acknowledge", serializers.FlagNoteSerializer, "note")

    @_flag_action(
        serializers.FlagDismissSerializer,
        _(
            "An open or acknowledged flag becomes dismissed, with the reason why it is not a "
            "problem; it stays dismissed until a claim joins it."
        ),
    )
    @action(detail=True, methods=["post"], permission_classes=[HandlesFlags])
    def dismiss(self, request, pk=None):
        return self._act(request, "dismiss", serializers.FlagDismissSerializer, "reason")

    @_flag_action(
        serializers.FlagNoteSerializer,
        _("An acknowledged or dismissed flag becomes open again."),
    )
    @action(detail=True, methods=["post"], permission_classes=[HandlesFlags])
    def reopen(self, request, pk=None):
        return self._act(request, "reopen", serializers.FlagNoteSerializer, "note")


class StatusViewSet(viewsets.ViewSet):
    """The status of each (country, obligation) pair: ``?country=CN&obligation=CODE``."""

    permission_classes = [permissions.IsAuthenticated, ModelPermissions]
    queryset = Claim.objects.none()  # the permission it needs: view_claim
    serializer_class = serializers.StatusSerializer

    @extend_schema(
        parameters=[serializers.StatusQuerySerializer],
        responses=serializers.StatusSerializer(many=True),
    )
    def list(self, request):
        query = serializers.StatusQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        country, obligation = (
            query.validated_data.get("country"),
            query.validated_data.get("obligation"),
        )
        matrix = status_matrix(
            countries=[country] if country else None,
            obligations=[obligation] if obligation else None,
            today=timezone.localdate(),
            user=request.user,
        )
        iso_of = {c.pk: c.iso_code for c in matrix.countries}
        code_of = {o.pk: o.code for o in matrix.obligations}
        rows = [
            {
                "country": iso_of[cell.country_id],
                "obligation": code_of[cell.obligation_id],
                "status": cell.status,
                "reason": cell.reason,
                "newest_as_of": cell.newest_as_of,
                "claims": cell.claims,
                "flag_ids": list(cell.flag_ids),
            }
            for cell in matrix.cells.values()
        ]
        return Response(serializers.StatusSerializer(rows, many=True).data)
