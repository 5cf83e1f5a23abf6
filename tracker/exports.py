"""Claims out, in the import's columns (an export imports back to the same data), as CSV or
XLSX. Names of confidential sources and reports are replaced for a user without the
permission; cells a spreadsheet would run as a formula are escaped.

An export of any size streams in constant memory (issue 32): the rows are read from a
server-side cursor ``FETCH`` at a time (``claim_export_rows``); a CSV is sent as they come
(``as_csv``, a generator of chunks), an XLSX is written row by row by openpyxl's write-only
workbook into a temporary file, which is then sent from disk (``as_xlsx``: a zip is complete
only at its end, so its first byte comes once the file is written)."""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from django.db import connections, transaction
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from . import selectors, visibility
from .cells import escape_cell
from .flags.render import FlagText
from .imports import COLUMNS
from .models import Place

# Rows written out at a time (the first chunk sooner), and read from the cursor at a time (a
# first read of 2,000 claims of one country took 0.2-0.5 s here, before the first row).
CHUNK = 2000
FIRST_CHUNK = 50
FETCH = 500


def claim_export_rows(queryset, user) -> Iterator[list[str]]:
    """The header, then one row a claim, every cell a string; a restricted claim redacted
    for a reader without the permission (``visibility.ClaimShown``)."""
    sees = visibility.sees_confidential(user)
    countries = dict(Place.objects.countries().values_list("pk", "iso_code"))
    yield list(COLUMNS)
    related = (*visibility.CLAIM_RELATED, "report__publisher__country")
    claims = queryset.select_related(*related).order_by("as_of", "pk")
    # In a transaction, PostgreSQL's server-side cursor is not WITH HOLD, so it is not
    # materialised whole before its first rows (outside one it is, at the implicit commit).
    # Not on SQLite: its transactions begin IMMEDIATE (the settings), so one would hold the
    # database's write lock for as long as a client takes to read the download.
    postgresql = connections[claims.db].vendor == "postgresql"
    with transaction.atomic(using=claims.db) if postgresql else contextlib.nullcontext():
        for claim in claims.iterator(chunk_size=FETCH):
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
        # As given (a day, a month or a year): what the import reads back.
        "period_start": str(claim.period_start_given or ""),
        "as_of": str(claim.as_of_given),
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


TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def download(content: Iterator[bytes] | IO[bytes], what: str, extension: str):
    """A streaming response: ``content`` is ``as_csv``'s chunks or ``as_xlsx``'s file."""
    if hasattr(content, "read"):
        response: StreamingHttpResponse = FileResponse(content, content_type=TYPES[extension])
    else:
        response = StreamingHttpResponse(content, content_type=TYPES[extension])
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{what}-{stamp}.{extension}"'
    response["Cache-Control"] = "private, no-store"
    return response


def as_csv(rows: Iterable[list[str]]) -> Iterator[bytes]:
    """The CSV of ``rows``, in chunks of ``CHUNK`` rows (the first of ``FIRST_CHUNK``, for
    the download to start at once), the first with the BOM (spreadsheets then read it as
    UTF-8)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    try:
        for n, row in enumerate(rows, 1):
            writer.writerow(row)
            if n % CHUNK == 0 or n == FIRST_CHUNK:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue().encode()
    finally:
        # A download abandoned half-way: end the rows' transaction and cursor now.
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def csv_bytes(rows: Iterable[list[str]]) -> bytes:
    """The whole CSV of ``rows`` at once (a file of the dossier's archive)."""
    return b"".join(as_csv(rows))


def as_xlsx(rows: Iterable[list[str]]) -> IO[bytes]:
    """The workbook of ``rows`` in a temporary file (deleted when closed), at its start."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("claims")
    for row in rows:
        sheet.append(row)
    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (the response closes it)
    workbook.save(out)
    out.seek(0)
    return out


FLAG_COLUMNS = ("id", "kind", "status", "severity", "obligations", "country", "place",
                "measure", "claims", "explanation", "first_seen", "last_seen", "resolved_at",
                "resolution", "status_note")  # fmt: skip
# Flags are said (``FlagText``) this many at a time: its queries per chunk, not per flag.
FLAG_CHUNK = 500


def flag_export_rows(queryset, user) -> Iterator[list[str]]:
    """The header, then one row a flag, said for ``user`` (``flags.render``): a source they
    may not see is "confidential source", a restricted claim is named "#id"."""
    sees = visibility.sees_confidential(user)
    yield list(FLAG_COLUMNS)
    flags = queryset.select_related("country", "place").order_by("pk")
    chunk: list = []
    for flag in flags.iterator(chunk_size=FLAG_CHUNK):
        chunk.append(flag)
        if len(chunk) == FLAG_CHUNK:
            yield from _flag_rows(chunk, sees)
            chunk = []
    yield from _flag_rows(chunk, sees)


def _flag_rows(flags: list, sees: bool) -> Iterator[list[str]]:
    if not flags:
        return
    said = FlagText(flags, sees=sees, claim_ids=[pk for flag in flags for pk in flag.claim_ids])
    for flag in flags:
        row = [
            str(flag.pk),
            flag.kind,
            flag.status,
            str(flag.get_severity_display()),
            " ".join(said.obligation(o) for o in said.obligations_of(flag)),
            flag.country.iso_code if flag.country else "WORLD",
            flag.place.name_path or flag.place.name,
            flag.measure,
            " ".join(said.ref(pk) for pk in flag.claim_ids),
            said.sentence(flag),
            flag.first_seen.isoformat(),
            flag.last_seen.isoformat(),
            flag.resolved_at.isoformat() if flag.resolved_at else "",
            said.resolution(flag),
            flag.status_note,
        ]
        yield [escape_cell(cell) for cell in row]
