"""Claims out, in the import's columns (an export imports back to the same data), as CSV or
XLSX. Names of confidential sources and reports are replaced for a user without the
permission; cells a spreadsheet would run as a formula are escaped."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from django.http import HttpResponse
from django.utils import timezone

from . import selectors
from .cells import escape_cell
from .imports import COLUMNS
from .models import (
    CONFIDENTIAL_REPORT_LABEL,
    CONFIDENTIAL_SOURCE_LABEL,
    Claim,
    Place,
    can_see_confidential,
)


def claim_export_rows(queryset, user) -> Iterator[list[str]]:
    """The header, then one row a claim, every cell a string."""
    show = can_see_confidential(user)
    countries = dict(Place.objects.countries().values_list("pk", "iso_code"))
    yield list(COLUMNS)
    claims = queryset.select_related(
        "report__publisher", "attributed_to__country", "place", "obligation"
    ).order_by("as_of", "pk")
    for claim in claims.iterator(chunk_size=2000):
        yield [escape_cell(cell) for cell in _row(claim, show, countries)]


def _row(claim: Claim, show: bool, countries: dict[int, str]) -> list[str]:
    report, source = claim.report, claim.attributed_to
    publisher = report.publisher
    hide_report = report.is_restricted and not show
    restricted = claim.is_restricted and not show
    country, below = _place_columns(claim.place, countries)
    values = {
        # The monitor's own reference may name whoever made the claim, as its summary may.
        "external_id": "" if restricted else claim.external_id or "",
        "report_title": CONFIDENTIAL_REPORT_LABEL if hide_report else report.title,
        "report_url": "" if hide_report else report.url,
        "publisher": CONFIDENTIAL_SOURCE_LABEL
        if publisher.confidential and not show
        else publisher.name,
        "published_on": report.published_on.isoformat(),
        "publisher_kind": publisher.kind,
        "claim_source": CONFIDENTIAL_SOURCE_LABEL
        if source.confidential and not show
        else source.name,
        "source_kind": source.kind,
        "source_country": source.country.iso_code if source.country else "",
        "country": country,
        "place": below,
        "obligation": claim.obligation.code if claim.obligation else "",
        "stance": claim.stance,
        "measure": claim.measure,
        "count_low": "" if claim.count_low is None else str(claim.count_low),
        "count_high": "" if claim.count_high is None else str(claim.count_high),
        "period_start": claim.period_start.isoformat() if claim.period_start else "",
        "as_of": claim.as_of.isoformat(),
        "credibility": str(claim.credibility),
        # A paraphrase can name whoever made the claim: hidden with its source or its report.
        "summary": "" if restricted else claim.summary,
    }
    return [values[column] for column in COLUMNS]


def _place_columns(place, countries: dict[int, str]) -> tuple[str, str]:
    """(country column, place column): ('CN', 'Northeast China > Liaoning'); a world-level
    region is ('WORLD', 'Southeast Asia')."""
    top = selectors.top_id_of(place.path)
    if top is None:
        return "WORLD", ""
    parts = (place.name_path or place.name).split(" > ")
    if top in countries:
        return countries[top], " > ".join(parts[1:])
    return "WORLD", " > ".join(parts)


def download(content: bytes, what: str, extension: str) -> HttpResponse:
    types = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    response = HttpResponse(content, content_type=types[extension])
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{what}-{stamp}.{extension}"'
    return response


def as_csv(rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode()  # the BOM: spreadsheets read it as UTF-8


def as_xlsx(rows: Iterable[list[str]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("claims")
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


FLAG_COLUMNS = ("id", "kind", "status", "severity", "obligation", "country", "place", "claims",
                "explanation", "first_seen", "last_seen", "resolved_at", "resolved_reason",
                "status_note")  # fmt: skip


def flag_export_rows(queryset, user) -> Iterator[list[str]]:
    """The header, then one row a flag; the explanation names confidential sources only for
    a user allowed to see them, and a confidential claim is listed by number only."""
    show = can_see_confidential(user)
    yield list(FLAG_COLUMNS)
    flags = (
        queryset.select_related("obligation", "country", "place")
        .prefetch_related("claims__attributed_to", "claims__report__publisher")
        .order_by("pk")
    )
    for flag in flags:
        claims = {c.pk: c for c in flag.claims.all()}
        refs = []
        for claim_id in flag.claim_ids:
            claim = claims.get(claim_id)
            refs.append(f"#{claim_id}" if claim is None else claim.ref_for(show_confidential=show))
        row = [
            str(flag.pk),
            flag.kind,
            flag.status,
            flag.get_severity_display(),
            flag.obligation.code if flag.obligation else "",
            flag.country.iso_code if flag.country else "WORLD",
            flag.place.name_path or flag.place.name,
            " ".join(refs),
            flag.explanation_for(user),
            flag.first_seen.isoformat(),
            flag.last_seen.isoformat(),
            flag.resolved_at.isoformat() if flag.resolved_at else "",
            flag.resolved_reason,
            flag.status_note,
        ]
        yield [escape_cell(cell) for cell in row]
