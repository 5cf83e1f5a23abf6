"""The dashboard and the country pages: the status matrix, deadlines, open flags, and one
country's claims, estimates and flags."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from tracker import visibility
from tracker.flags.render import FlagText
from tracker.models import Claim, Flag, Obligation, Place

from . import charts
from .dashboard import dashboard_for
from .status import status_matrix


@login_required
@permission_required(["tracker.view_claim", "tracker.view_flag"], raise_exception=True)
def dashboard(request):
    """What needs attention first; every member state with ``?all=1``; the map of the
    obligation ``?obligation=CODE`` (default: ``reports.dashboard.default_map_obligation``)."""
    board = dashboard_for(
        user=request.user,
        today=timezone.localdate(),
        show_all=request.GET.get("all") == "1",
        obligation_code=request.GET.get("obligation"),
    )
    return render(request, "reports/dashboard.html", {"board": board})


@login_required
@permission_required(["tracker.view_claim", "tracker.view_flag"], raise_exception=True)
def country_detail(request, iso: str):
    country = get_object_or_404(Place.objects.countries(), iso_code=iso.upper())
    sees = visibility.sees_confidential(request.user)
    claims = (
        Claim.objects.inside(country)
        .select_related(*visibility.CLAIM_RELATED)
        .order_by("-as_of", "-pk")[:500]
    )
    flags = list(Flag.objects.active().filter(country=country).select_related("place"))
    said = FlagText(flags, request.user)
    matrix = status_matrix(countries=[country], user=request.user)
    return render(
        request,
        "reports/country.html",
        {
            "country": country,
            "cells": list(zip(next(iter(matrix))[1], matrix.obligations, strict=True)),
            "claims": [visibility.shown(c, sees=sees) for c in claims],
            "flags": [(f, said.sentence(f)) for f in flags],
        },
    )


@login_required
@permission_required("tracker.view_claim", raise_exception=True)
def country_chart(request, iso: str):
    """The country's estimates over time (``reports.charts``), as the reader may see them."""
    country = get_object_or_404(Place.objects.countries(), iso_code=iso.upper())
    sees = visibility.sees_confidential(request.user)
    measures = charts.estimates([country], timezone.localdate(), sees=sees).get(country.iso_code)
    if not measures:
        return HttpResponse(status=204)
    obligations = list(Obligation.objects.all())
    png = charts.png(charts.panels(country.local_name, measures, obligations))
    return HttpResponse(png, content_type="image/png")
