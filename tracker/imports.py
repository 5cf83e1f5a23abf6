"""Importing claims from a spreadsheet (CSV or XLSX), in two steps: ``plan`` reads and checks
every row and says what would change; ``apply`` writes a clean plan in one transaction.

A file with any error writes nothing; each error names its row (as a spreadsheet numbers it:
the header is row 1), its column and what is wrong, with the models' own messages.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from . import services, visibility
from .cells import FORMULA_STARTS, unescape_cell
from .models import (
    Claim,
    Measure,
    Obligation,
    Place,
    PlaceKind,
    Report,
    Source,
    SourceKind,
    Stance,
)

COLUMNS = (
    "external_id",
    "report_title",
    "report_url",
    "publisher",
    "published_on",
    "publisher_kind",
    "claim_source",
    "source_kind",
    "source_country",
    "country",
    "place",
    "obligation",
    "stance",
    "measure",
    "count_low",
    "count_high",
    "period_start",
    "as_of",
    "credibility",
    "summary",
)
REQUIRED = ("report_title", "publisher", "published_on", "claim_source", "source_kind",
            "country", "stance", "as_of")  # fmt: skip
TEXT_COLUMNS = ("external_id", "report_title", "report_url", "publisher", "claim_source",
                "place", "summary")  # fmt: skip
PLACE_KINDS_BY_DEPTH = (PlaceKind.REGION, PlaceKind.PROVINCE, PlaceKind.CITY)
# Where a model field's error shows in the file.
FIELD_COLUMN = {
    "attributed_to": "claim_source",
    "place": "place",
    "report": "report_title",
    "title": "report_title",
    "url": "report_url",
}
BATCH = 2000


class ImportFileError(ValueError):
    """The file as a whole cannot be read (type, size, encoding, header)."""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("row %(row)s, column %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class Plan:
    rows: int = 0
    to_add: list[Claim] = field(default_factory=list)
    to_update: list[Claim] = field(default_factory=list)
    new_sources: list[Source] = field(default_factory=list)
    new_reports: list[Report] = field(default_factory=list)
    new_places: list[Place] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return _(
            "%(rows)s rows: %(add)s claims to add, %(update)s to update; %(reports)s reports, "
            "%(sources)s sources and %(places)s places to create; %(errors)s errors"
        ) % {
            "rows": self.rows,
            "add": len(self.to_add),
            "update": len(self.to_update),
            "reports": len(self.new_reports),
            "sources": len(self.new_sources),
            "places": len(self.new_places),
            "errors": len(self.errors),
        }


# --------------------------------------------------------------------------------------------
# Reading the file
# --------------------------------------------------------------------------------------------


def read_rows(data: bytes, filename: str) -> list[dict[str, str]]:
    """The rows of a CSV (UTF-8, with or without BOM) or XLSX file as dicts by column name."""
    limit = settings.TRACKER_IMPORT_MAX_BYTES
    if len(data) > limit:
        raise ImportFileError(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": f"{len(data) / 1e6:.1f}", "limit": f"{limit / 1e6:.0f}"}
        )
    name = filename.lower()
    if name.endswith(".xlsx"):
        if not data.startswith(b"PK"):
            raise ImportFileError(_("%(file)s is not an XLSX workbook.") % {"file": filename})
        table = _xlsx_rows(data)
    elif name.endswith(".csv"):
        if data.startswith(b"PK") or b"\x00" in data[:4096]:
            raise ImportFileError(_("%(file)s is not a text CSV file.") % {"file": filename})
        table = _csv_rows(data)
    else:
        raise ImportFileError(
            _("%(file)s: only .csv and .xlsx files can be imported.") % {"file": filename}
        )
    if not table:
        raise ImportFileError(_("The file is empty: it needs a header row and one row a claim."))
    header = [str(h or "").strip().lower() for h in table[0]]
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise ImportFileError(
            _("Unknown column(s) %(unknown)s; the columns are %(columns)s.")
            % {"unknown": _listed(unknown), "columns": ", ".join(COLUMNS)}
        )
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFileError(
            _("Missing required column(s): %(columns)s.") % {"columns": ", ".join(missing)}
        )
    rows = []
    for number, values in enumerate(table[1:], start=2):
        cells = ["" if v is None else str(v).strip() for v in values]
        if any("\x00" in cell for cell in cells):
            column = header[next(i for i, c in enumerate(cells) if "\x00" in c)] or "?"
            raise ImportFileError(
                _(
                    "Row %(row)s, column %(column)s: a NUL character (byte 0), which no text "
                    "can hold; remove it and import again."
                )
                % {"row": number, "column": column}
            )
        if any(cells):
            rows.append(dict(zip(header, cells, strict=False)))
        else:
            rows.append({})
    return rows


def _listed(names: list[str], most: int = 10) -> str:
    """At most ``most`` names, each cut to 40 characters: a message stays readable whatever
    the file holds."""
    shown = [name if len(name) <= 40 else name[:39] + "…" for name in names[:most]]
    more = _(" and %(more)s more") % {"more": f"{len(names) - most:,}"} if len(names) > most else ""
    return ", ".join(shown) + more


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1]
        raise ImportFileError(
            _(
                "The file is not UTF-8 text (byte %(position)s is %(byte)s); save it as "
                "'CSV UTF-8' and try again."
            )
            % {"position": f"{error.start:,}", "byte": repr(bad)}
        ) from None
    max_cell = settings.TRACKER_IMPORT_MAX_CELL
    # The csv module stops at 128 KB a field with its own message; let it read up to the file
    # limit so that the cell limit below answers, with the row.
    csv.field_size_limit(max(csv.field_size_limit(), settings.TRACKER_IMPORT_MAX_BYTES + 1))
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    try:
        for row in reader:
            for cell in row:
                if len(cell) > max_cell:
                    raise ImportFileError(
                        _("Row %(row)s: a cell of %(length)s characters; the limit is %(limit)s.")
                        % {
                            "row": reader.line_num,
                            "length": f"{len(cell):,}",
                            "limit": f"{max_cell:,}",
                        }
                    )
            rows.append(row)
    except csv.Error as error:
        raise ImportFileError(
            _("Row %(row)s: not valid CSV (%(error)s).") % {"row": reader.line_num, "error": error}
        ) from None
    return rows


def _xlsx_rows(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise ImportFileError(
            _("The workbook cannot be read: %(error)s.") % {"error": error}
        ) from None
    sheet = workbook.worksheets[0]
    rows = [[_xlsx_cell(v) for v in values] for values in sheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


def _xlsx_cell(value) -> str:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


# --------------------------------------------------------------------------------------------
# Checking every row
# --------------------------------------------------------------------------------------------


def name_key(name: str) -> str:
    """A name as the unique constraints on LOWER(name) compare it: each character lowered on
    its own ('İ' is 'i'), not casefolded ('ß' stays apart from 'ss')."""
    return "".join(ch.lower()[:1] for ch in name)


HIDDEN = "hidden"  # the key of a resolver's error about something the user may not use


class _Resolver:
    """Finds or plans the sources, places and reports that rows name, so that rows naming the
    same one share it."""

    def __init__(self, plan: Plan, user=None) -> None:
        self.plan = plan
        self.countries = {p.iso_code: p for p in Place.objects.countries()}
        self.world = Place.objects.get(kind=PlaceKind.WORLD)
        self.sources = {name_key(s.name): s for s in Source.objects.all()}
        # A user without the permission neither uses nor learns a confidential source's name
        # (a source of that name is refused, as the admin refuses a second one), and matches
        # only the reports they may see (a row naming a hidden one makes a new report).
        self.may_see = user is None or visibility.sees_confidential(user)
        self.hidden_sources: set[str] = set()
        reports = Report.objects.all()
        if not self.may_see:
            self.hidden_sources = {key for key, s in self.sources.items() if s.confidential}
            reports = visibility.reports(user, reports)
        self.obligations = {o.code: o for o in Obligation.objects.all()}
        self.children: dict[tuple[int | str, str], Place] = {
            (p.parent_id, name_key(p.name)): p
            for p in Place.objects.exclude(kind__in=[PlaceKind.WORLD, PlaceKind.COUNTRY])
        }
        self.reports: dict[tuple, Report] = {
            (r.title, r.url, r.publisher_id, r.published_on): r
            for r in reports.only("id", "title", "url", "publisher_id", "published_on")
        }

    def source(self, name: str, kind: str, country: Place | None) -> Source:
        if name_key(name) in self.hidden_sources:
            raise ValidationError(
                {HIDDEN: _("A source named %(name)r exists that you may not use.") % {"name": name}}
            )
        found = self.sources.get(name_key(name))
        if found is None:
            found = Source(name=name, kind=kind, country=country, reliability="F")
            found.full_clean(exclude=["country"] if country is None else None)
            self.sources[name_key(name)] = found
            self.plan.new_sources.append(found)
        return found

    def place(self, country: Place, path: str) -> Place:
        place = country
        parts = [p.strip() for p in path.split(">") if p.strip()]
        if len(parts) > len(PLACE_KINDS_BY_DEPTH):
            raise ValidationError(
                {
                    "place": _("At most %(levels)s levels below a country.")
                    % {"levels": len(PLACE_KINDS_BY_DEPTH)}
                }
            )
        for depth, name in enumerate(parts):
            key = (place.pk or id(place), name_key(name))
            child = self.children.get(key)
            if child is None:
                child = Place(name=name, kind=PLACE_KINDS_BY_DEPTH[depth], parent=place)
                try:
                    child.clean_fields(exclude=["parent"])
                except ValidationError as error:
                    raise ValidationError({"place": error.messages}) from None
                self.children[key] = child
                self.plan.new_places.append(child)
            place = child
        return place

    def report(self, title: str, url: str, publisher: Source, published_on) -> Report:
        key = (title, url, publisher.pk or id(publisher), published_on)
        found = self.reports.get(key)
        if found is None:
            found = Report(title=title, url=url, publisher=publisher, published_on=published_on)
            found.full_clean(exclude=["publisher", "logged_by"])
            self.reports[key] = found
            self.plan.new_reports.append(found)
        return found


def plan(
    rows: list[dict[str, str]],
    *,
    progress: Callable[[int], None] | None = None,
    user=None,
) -> Plan:
    """Check every row and say what an import would do; write nothing. With ``user``, as that
    user may: one without the permission to see confidential material changes no claim it
    hides, and uses no source or report it hides (the command line imports as the operator,
    with every permission)."""
    result = Plan(rows=len(rows))
    resolve = _Resolver(result, user)
    claims = Claim.objects.select_related("attributed_to", "report__publisher")
    existing = {
        c.external_id: c
        for c in claims.filter(
            external_id__in=[unescape_cell(r["external_id"]) for r in rows if r.get("external_id")]
        )
    }
    seen_ids: dict[str, int] = {}
    for index, row in enumerate(rows):
        number = index + 2  # the header is row 1
        if not row:
            continue
        errors = _row_errors(number, row, resolve, existing, seen_ids, result)
        result.errors.extend(errors)
        if progress is not None and number % BATCH == 0:
            progress(number)
    return result


def _row_errors(number, row, resolve, existing, seen_ids, result) -> list[RowError]:
    errors: list[RowError] = []

    def fail(column: str, message: str) -> None:
        errors.append(RowError(number, column, message))

    for column in REQUIRED:
        if not row.get(column):
            fail(column, _("required, but empty."))
    for column in TEXT_COLUMNS:
        value = row.get(column, "")
        text = unescape_cell(value)
        if text != value:
            row[column] = text  # escaped as the exports do: text, as written
        elif value.startswith(FORMULA_STARTS):
            fail(
                column,
                _(
                    "begins with %(character)r, which a spreadsheet would run as a formula; "
                    "remove the character (or the formula) and import again."
                )
                % {"character": value[0]},
            )
    if errors:
        return errors

    dates = {}
    for column in ("published_on", "period_start", "as_of"):
        if row.get(column):
            try:
                dates[column] = datetime.date.fromisoformat(row[column])
            except ValueError:
                fail(
                    column,
                    _("%(value)r is not a date: write it as YYYY-MM-DD.") % {"value": row[column]},
                )
    numbers = {}
    for column in ("count_low", "count_high", "credibility"):
        raw = row.get(column, "").replace(",", "").replace(" ", "")
        if raw:
            if not (raw.isascii() and raw.isdigit()):  # not '²' or '٣', which int() misreads
                fail(
                    column,
                    _("%(value)r is not a whole number of zero or more.") % {"value": row[column]},
                )
            else:
                numbers[column] = int(raw)
    choices = {
        "source_kind": SourceKind.values,
        "publisher_kind": SourceKind.values,
        "stance": Stance.values,
        "measure": Measure.values,
    }
    for column, allowed in choices.items():
        value = row.get(column, "").lower()
        if value and value not in allowed:
            fail(
                column,
                _("%(value)r is not one of %(allowed)s.")
                % {"value": row[column], "allowed": ", ".join(allowed)},
            )
    iso = row.get("country", "").upper()
    country = resolve.world if iso == "WORLD" else resolve.countries.get(iso)
    if iso and country is None:
        fail(
            "country",
            _("%(value)r is not the ISO code of a UN member state, nor WORLD.")
            % {"value": row["country"]},
        )
    state = None
    if row.get("source_country"):
        state = resolve.countries.get(row["source_country"].upper())
        if state is None:
            fail(
                "source_country",
                _("%(value)r is not a member state's ISO code.") % {"value": row["source_country"]},
            )
    obligation = None
    if row.get("obligation"):
        obligation = resolve.obligations.get(row["obligation"].upper())
        if obligation is None:
            fail(
                "obligation",
                _("%(value)r is not an obligation code; the codes are %(codes)s.")
                % {"value": row["obligation"], "codes": ", ".join(sorted(resolve.obligations))},
            )
    external_id = row.get("external_id") or None
    if external_id:
        if external_id in seen_ids:
            fail(
                "external_id",
                _("%(value)r is also on row %(row)s.")
                % {"value": external_id, "row": seen_ids[external_id]},
            )
        seen_ids[external_id] = number
        claim = existing.get(external_id)
        if claim is not None and claim.is_restricted and not resolve.may_see:
            fail(
                "external_id",
                _("%(value)r is the reference of a claim you may not change.")
                % {"value": external_id},
            )
    if errors:
        return errors

    try:
        publisher = resolve.source(
            row["publisher"], row.get("publisher_kind", "").lower() or SourceKind.NEWS, None
        )
    except ValidationError as error:
        column = "publisher" if HIDDEN in error.message_dict else "publisher_kind"
        return [RowError(number, column, m) for m in error.messages]
    try:
        source = resolve.source(row["claim_source"], row["source_kind"].lower(), state)
    except ValidationError as error:
        column = "source_country" if "country" in error.message_dict else "source_kind"
        column = "claim_source" if HIDDEN in error.message_dict else column
        return [RowError(number, column, m) for m in error.messages]
    try:
        place = resolve.place(country, row.get("place", "")) if row.get("place") else country
        report = resolve.report(
            row["report_title"], row.get("report_url", ""), publisher, dates["published_on"]
        )
    except ValidationError as error:
        return [
            RowError(number, FIELD_COLUMN.get(f, f), m)
            for f, messages in error.message_dict.items()
            for m in messages
        ]

    claim = existing.get(external_id) if external_id else None
    values = {
        "report": report,
        "attributed_to": source,
        "place": place,
        "obligation": obligation,
        "stance": row["stance"].lower(),
        "measure": row.get("measure", "").lower(),
        "count_low": numbers.get("count_low"),
        "count_high": numbers.get("count_high"),  # empty: "at least count_low"
        "period_start": dates.get("period_start"),
        "as_of": dates["as_of"],
        "credibility": numbers.get("credibility", 6),
        "summary": row.get("summary", ""),
        "external_id": external_id,
    }
    target = claim or Claim()
    for name, value in values.items():
        setattr(target, name, value)
    try:
        target.clean_fields(exclude=["report", "attributed_to", "place", "obligation"])
        target.clean()
    except ValidationError as error:
        return [
            RowError(number, FIELD_COLUMN.get(f, f), m)
            for f, messages in error.message_dict.items()
            for m in messages
        ]
    (result.to_update if claim else result.to_add).append(target)
    return []


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def apply(
    import_plan: Plan, *, user=None, progress: Callable[[str], None] | None = None
) -> set[str]:
    """Write a clean plan in one transaction; request the checks of the countries touched,
    once each. Returns the partitions requested."""
    if not import_plan.ok:
        raise ValueError("A plan with errors cannot be applied.")
    say = progress or (lambda message: None)
    with transaction.atomic():
        for source in import_plan.new_sources:
            source.save()
        # Parents were planned before their children; saving one gives its children the id.
        for place in import_plan.new_places:
            place.save()
        for report in import_plan.new_reports:
            report.logged_by = user
        # With their history, as the claims: which versions of a claim a reader may see is
        # judged by its report's past (tracker/history.py).
        bulk_create_with_history(
            import_plan.new_reports, Report, batch_size=BATCH, default_user=user
        )
        places_before, sources_before = _stored_of(c.pk for c in import_plan.to_update)
        unrestricted = services.unrestricted_attributions(c.pk for c in import_plan.to_update)
        for start in range(0, len(import_plan.to_add), BATCH):
            bulk_create_with_history(
                import_plan.to_add[start : start + BATCH], Claim, default_user=user
            )
            say(f"added {min(start + BATCH, len(import_plan.to_add)):,} claims")
        for start in range(0, len(import_plan.to_update), BATCH):
            _update(import_plan.to_update[start : start + BATCH], user)
            say(f"updated {min(start + BATCH, len(import_plan.to_update)):,} claims")
        # Updated with one statement, not saved one by one: no signal conceals them.
        services.conceal_claims_made_restricted(unrestricted)
        # As stored before too: a claim moved away from a place, or from a state's
        # self-report source (that state's overdue reports), re-checks it.
        # (A world claim is compared with every country's: every partition.)
        claims = (*import_plan.to_add, *import_plan.to_update)
        return services.checks_request_for(
            place_ids=places_before | {c.place_id for c in claims},
            source_ids=sources_before | {c.attributed_to_id for c in claims},
        )


_CLAIM_FIELDS = [
    "report", "attributed_to", "place", "obligation", "stance", "measure",
    "count_low", "count_high", "period_start", "as_of", "credibility", "summary",
]  # fmt: skip


def _update(claims: list[Claim], user) -> None:
    """UPDATE the claims' columns, one parameterised statement run for many rows (Django's
    bulk_update builds a CASE per field and row, far slower), then their history rows."""
    now = timezone.now()
    columns = [Claim._meta.get_field(name) for name in _CLAIM_FIELDS]
    table = connection.ops.quote_name(Claim._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in columns)
    sql = f"UPDATE {table} SET {assignments}, updated_at = %s WHERE id = %s"  # noqa: S608 (names from the model)
    params = []
    for claim in claims:
        # A report, source or place new in this import was saved after the claim was given
        # it: its id reaches the claim now, as save() and bulk_create() would do.
        claim._prepare_related_fields_for_save(operation_name="update")
        claim.updated_at = now
        values = [f.get_db_prep_save(getattr(claim, f.attname), connection) for f in columns]
        params.append([*values, now, claim.pk])
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    Claim.history.bulk_history_create(claims, update=True, default_user=user)


def _stored_of(claim_ids: Iterable[int]) -> tuple[set[int], set[int]]:
    """The places and sources of stored claims, as they are before an import updates them."""
    places, sources = set(), set()
    for chunk in services.chunks(list(claim_ids)):
        for place_id, source_id in Claim.objects.filter(pk__in=chunk).values_list(
            "place_id", "attributed_to_id"
        ):
            places.add(place_id)
            sources.add(source_id)
    return places, sources
