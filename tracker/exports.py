"""Claims out, in the import's columns (an export imports back to the same data), as CSV or
XLSX. Names of confidential sources and reports are replaced for a user without the
permission; cells a spreadsheet would run as a formula are escaped."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from django.http import HttpResponse
from django.utils import timezone

from . import selectors, visibility
from .cells import escape_cell
from .imports import COLUMNS
from .models import Place


def claim_export_rows(queryset, user) -> Iterator[list[str]]:
    """The header, then one row a claim, every cell a string; a restricted claim redacted
    for a reader without the permission (``visibility.ClaimShown``)."""
    sees = visibility.sees_confidential(user)
    countries = dict(Place.objects.countries().values_list("pk", "iso_code"))
    yield list(COLUMNS)
    related = (*visibility.CLAIM_RELATED, "report__publisher__country")
    claims = queryset.select_related(*related).order_by("as_of", "pk")
    for claim in claims.iterator(chunk_size=2000):
        shown = visibility.shown(claim, sees=sees)
        yield [escape_cell(cell) for cell in _row(shown, countries)]


def _row(shown: visibility.ClaimShown, countries: dict[int, str]) -> list[str]:
    claim = shown.claim
    country, below = _place_columns(claim.place, countries)
    published_on = shown.published_on
    values = {
        "external_id": shown.reference,
        "report_title": shown.report_title,
        "report_url": shown.report_url,
        "publisher": shown.publisher_name,
        "published_on": published_on.isoformat() if published_on else "",
        "publisher_kind": shown.publisher_kind,
        "publisher_country": shown.publisher_country,
        "publisher_reliability": shown.publisher_reliability,
        "claim_source": shown.source_name,
        "source_kind": shown.source_kind,
        "source_country": shown.source_country,
        "source_reliability": shown.reliability,
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
        "summary": shown.summary,
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
    sees = visibility.sees_confidential(user)
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
            refs.append(f"#{claim_id}" if claim is None else visibility.shown(claim, sees=sees).ref)
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
