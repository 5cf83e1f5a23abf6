"""The evidence dossier of one (country, obligation): every claim with its source and grades
(the obligation's, and every claim its flags rest on, whatever its obligation), the flags and
how they were handled, a timeline, and the documents kept with the claims' reports — a ZIP of
CSVs, a readable HTML page, the documents, and ``MANIFEST.sha256`` (``sha256sum -c`` format),
so a panel can check that nothing was altered since each document was added.

Redacted as the exports are: a reader without the permission gets restricted claims with their
source and report replaced, and no document of a report they may not see, nor of the report of
a restricted claim (which the dossier does not name).
"""

from __future__ import annotations

import datetime
import hashlib
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from . import documents, exports, text, visibility
from .cells import unescape_cell
from .models import (
    Claim,
    Flag,
    FlagClaim,
    FlagEvent,
    Measure,
    Obligation,
    Place,
    ReportDocument,
    Severity,
    Stance,
)

# A dossier up to this size is built in memory, a larger one in a temporary file.
SPOOL_BYTES = 32 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
# Kept as they are in the ZIP: compressing them again gains nothing.
STORED_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/webp"})


@dataclass
class DossierDocument:
    """A document as the dossier carries it: where in the ZIP, and the SHA-256 of the bytes
    copied there (None: missing from the storage)."""

    document: ReportDocument
    path: str
    found: str | None = None

    @property
    def intact(self) -> bool:
        return self.found == self.document.sha256

    @property
    def missing(self) -> bool:
        return self.found is None

    @property
    def size(self) -> str:
        return documents.size_display(self.document.size)

    @property
    def added_at(self) -> str:
        return human_moment(self.document.added_at)


# Dates as people write them ("7 December 2026, 14:05 UTC"), never with microseconds. Each is
# a format of Django's date filter that a translation gives its own order ("Y년 F j일").
MOMENT = pgettext_lazy("dossier: a date and time, in the date filter's format", "j F Y, H:i T")


def human_date(value: str) -> str:
    """A date as the exports write it, as people write it: '2019-12-23' is '23 December
    2019', '2017-09' 'September 2017', '2022' '2022' (in Korean '2022년'); anything else as
    it is."""
    try:
        return text.date(value)
    except ValueError:
        return value or ""


def human_moment(value: datetime.datetime | str | None) -> str:
    """A moment (or its ISO text) in the site's time zone: '7 December 2026, 14:05 UTC'."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return date_format(timezone.localtime(value), str(MOMENT))


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _claim_row(
    row: dict, grade: str, carried: list[DossierDocument], countries: dict[str, str]
) -> dict:
    """A claim as the page shows it: the export's cells, and what people read."""
    low, high = row["count_low"], row["count_high"]
    if low:
        count = number_format(int(low), force_grouping=True)
        if not high:
            count = _("at least %(count)s") % {"count": count}
        elif high != low:
            count = f"{count}–{number_format(int(high), force_grouping=True)}"
        # One message, so that a translation orders them: "노동자 60,000".
        count = _("%(count)s %(measure)s") % {
            "count": count,
            "measure": _label(Measure, row["measure"]),
        }
    else:
        count = ""
    if row["period_start"]:
        when = _("%(start)s to %(end)s") % {
            "start": human_date(row["period_start"]),
            "end": human_date(row["as_of"]),
        }
    else:
        when = _("as of %(date)s") % {"date": human_date(row["as_of"])}
    return {
        **row,
        "grade": grade,
        "documents": carried,
        "count": count,
        "when": when,
        "stance_label": _label(Stance, row["stance"]),
        "published": human_date(row["published_on"]),
        "where": " > ".join(
            part for part in (countries.get(row["country"], row["country"]), row["place"]) if part
        ),
    }


def _flag_row(row: dict) -> dict:
    """A flag as the page shows it (its sentence as ``exports.flag_export_rows`` gives it)."""
    return {
        **row,
        "kind_label": _label(Flag.Kind, row["kind"]),
        "status_label": _label(Flag.Status, row["status"]),
        "first_seen_at": human_moment(row["first_seen"]),
        "last_seen_at": human_moment(row["last_seen"]),
        "resolved": human_moment(row["resolved_at"]),
        "high": row["severity"] == Severity.HIGH.label,
    }


def _dicts(rows: list[list[str]]) -> list[dict]:
    """Rows of an export (header first) as dicts of their cells, unescaped for the page."""
    header = rows[0]
    return [dict(zip(header, map(unescape_cell, row), strict=True)) for row in rows[1:]]


def build(country: Place, obligation: Obligation, user) -> tuple[str, IO[bytes]]:
    """(file name, the ZIP in a temporary file at its start: the caller closes it).

    1. The flags found in the country about the obligation, or about no obligation.
    2. The claims: the obligation's about the country or inside it, and every claim a flag
       rests on.
    3. The documents: those of the reports of the claims ``user`` may open, if ``user`` may
       see the report.
    4. Each document is copied into the ZIP in chunks and hashed on the way: one whose bytes
       no longer hash to what was recorded when it was added is marked altered, and
       ``MANIFEST.sha256``, which lists the recorded hash, fails on it; a missing one is
       marked missing and listed all the same.
    5. ``claims.csv``, ``flags.csv`` and ``dossier.html``, then the manifest of every file.
    """
    show = visibility.sees_confidential(user)
    flags = (
        Flag.objects.filter(Q(country=country) | Q(place=country))
        .filter(Q(obligations=obligation) | Q(obligations__isnull=True))
        .select_related("place")
        .distinct()
        .order_by("first_seen", "pk")
    )
    # The obligation's evidence, and every claim a flag here rests on, whatever its obligation
    # (a count conflict compares counts that need none): the dossier holds what it cites.
    claims = Claim.objects.inside(country).filter(obligation=obligation) | Claim.objects.filter(
        pk__in=FlagClaim.objects.filter(flag__in=flags).values("claim_id")
    )
    events = (
        FlagEvent.objects.filter(flag__in=flags)
        .select_related("flag", "actor")
        .order_by("at", "pk")
    )
    claim_rows = list(exports.claim_export_rows(claims, user))
    rows_of = claims.order_by("as_of", "pk").values_list(
        "pk", "report_id", "attributed_to__reliability", "credibility"
    )
    opened = set(visibility.claims(user, claims).values_list("pk", flat=True))
    carried = _documents(user, claims)
    by_report: dict[int, list[DossierDocument]] = {}
    for item in carried:
        by_report.setdefault(item.document.report_id, []).append(item)
    countries = dict(Place.objects.countries().values_list("iso_code", "name"))
    countries["WORLD"] = _("World")
    claim_table = [
        _claim_row(
            row,
            f"{reliability}{credibility}",
            by_report.get(report_id, []) if pk in opened else [],
            countries,
        )
        for (pk, report_id, reliability, credibility), row in zip(
            rows_of, _dicts(claim_rows), strict=True
        )
    ]
    flag_rows = list(exports.flag_export_rows(flags, user))
    flag_table = [_flag_row(row) for row in _dicts(flag_rows)]
    dated: list[tuple[str, str, object]] = [(row["as_of"], "claim", row) for row in claim_table]
    dated += [(e.at.date().isoformat(), "flag", e) for e in events]
    timeline = sorted(dated, key=lambda item: item[0])
    timeline = [(human_date(day), what, item) for day, what, item in timeline]
    stamp = timezone.now()
    context = {
        "country": country,
        "obligation": obligation,
        "claims": claim_table,
        "flags": flag_table,
        "documents": carried,
        "timeline": timeline,
        "made_at": human_moment(stamp),
        "redacted": not show,
    }
    tables = {
        "claims.csv": exports.csv_bytes(claim_rows),
        "flags.csv": exports.csv_bytes(flag_rows),
    }
    # Returned open, for the response to stream and close.
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        _write(out, carried, tables, context, stamp)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    name = f"dossier-{country.iso_code}-{obligation.code}-{stamp:%Y%m%d-%H%M}.zip"
    return name, out


def _write(
    out: IO[bytes], carried: list[DossierDocument], tables: dict[str, bytes], context, stamp
) -> None:
    """Steps 4 and 5: the documents first, as the page says what was found in them."""
    manifest: dict[str, str] = {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in carried:
            item.found = _copy(item, archive, stamp)
            manifest[item.path] = item.document.sha256
        files = {
            **tables,
            "dossier.html": render_to_string("tracker/dossier.html", context).encode(),
        }
        for name, data in files.items():
            archive.writestr(name, data)
            manifest[name] = hashlib.sha256(data).hexdigest()
        archive.writestr(
            "MANIFEST.sha256",
            "".join(f"{digest}  {name}\n" for name, digest in sorted(manifest.items())),
        )


def _documents(user, claims) -> list[DossierDocument]:
    """The documents the dossier carries (step 3), each with its place in the ZIP."""
    reports = visibility.claims(user, claims).values("report_id")
    documents = (
        visibility.documents(user, ReportDocument.objects.filter(report_id__in=reports))
        .select_related("report", "added_by")
        .order_by("report_id", "added_at", "pk")
    )
    return [
        DossierDocument(d, f"documents/{d.pk}-{_safe_name(d.original_name)}") for d in documents
    ]


def _safe_name(name: str) -> str:
    """A file name any unzip tool and ``sha256sum -c`` take as it is: letters (any script),
    digits, dot, dash and underscore; the extension kept."""
    safe = re.sub(r"[^\w.-]+", "_", name).strip("._") or "document"
    suffix = PurePath(safe).suffix[:16]
    return safe if len(safe) <= 100 else safe[: 100 - len(suffix)] + suffix


def _copy(item: DossierDocument, archive: zipfile.ZipFile, stamp) -> str | None:
    """Copy a document's stored bytes into the ZIP in chunks (step 4); the SHA-256 of what was
    copied, or None if the storage has no such file (nothing is written then)."""
    document = item.document
    try:
        stored = document.file.storage.open(document.file.name, "rb")
    except FileNotFoundError:
        return None
    entry = zipfile.ZipInfo(item.path, date_time=stamp.timetuple()[:6])
    stored_as_is = document.content_type in STORED_TYPES
    entry.compress_type = zipfile.ZIP_STORED if stored_as_is else zipfile.ZIP_DEFLATED
    digest = hashlib.sha256()
    with stored, archive.open(entry, "w", force_zip64=document.size > 2**30) as copy:
        for chunk in stored.chunks(CHUNK_BYTES):
            digest.update(chunk)
            copy.write(chunk)
    return digest.hexdigest()
