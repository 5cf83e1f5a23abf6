"""Importing claims from a spreadsheet (CSV or XLSX), in two steps: ``plan`` reads and checks
every row and says what would change; ``apply`` writes a clean plan in one transaction.

The file is read within bounds by ``spreadsheets`` (rows, cells, a workbook's unpacked size).
A file with any error writes nothing; each error names its row (as a spreadsheet numbers it:
the header is row 1), its column and what is wrong, with the models' own messages; every error
of every row at once (``_RowCheck``), the first ``MAX_ERRORS`` of them kept.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from . import services, spreadsheets, visibility
from .cells import FORMULA_STARTS, unescape_cell
from .models import (
    SYSTEM_REFERENCE,
    Claim,
    Measure,
    Obligation,
    Place,
    PlaceKind,
    Reliability,
    Report,
    Source,
    SourceKind,
    Stance,
    system_reference,
)
from .partialdates import PartialDate
from .spreadsheets import ImportFileError

COLUMNS = (
    "external_id",
    "report_title",
    "report_url",
    "publisher",
    "published_on",
    "publisher_kind",
    "publisher_country",
    "publisher_reliability",
    "claim_source",
    "source_kind",
    "source_country",
    "source_reliability",
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
# The columns whose text may differ on every row (the others hold codes, a few values each):
# a workbook holds at most that many distinct texts a row (its shared strings).
FREE_TEXT_COLUMNS = ("external_id", "report_title", "report_url", "publisher", "published_on",
                     "claim_source", "place", "count_low", "count_high", "period_start", "as_of",
                     "summary")  # fmt: skip
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


MAX_ERRORS = 200  # the errors a plan keeps; the others are counted


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
    # The first MAX_ERRORS errors, in row order; a file of a million bad cells does not make
    # a million objects, nor a page of them.
    errors: list[RowError] = field(default_factory=list)
    more_errors: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.more_errors

    def add_errors(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            if len(self.errors) < MAX_ERRORS:
                self.errors.append(error)
            else:
                self.more_errors += 1

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
            "errors": self.error_count,
        }


# --------------------------------------------------------------------------------------------
# Reading the file
# --------------------------------------------------------------------------------------------


def read_rows(data: bytes, filename: str) -> list[dict[str, str]]:
    """The rows below the header of a CSV (UTF-8, with or without BOM) or XLSX file as dicts
    by column name, up to the last filled one (an empty row is an empty dict); read within
    the bounds ``spreadsheets`` sets."""
    table = spreadsheets.read_table(
        data, filename, columns=len(COLUMNS), texts_per_row=len(FREE_TEXT_COLUMNS)
    )
    empty = _("The file is empty: it needs a header row and one row a claim.")
    if not table:
        raise ImportFileError(empty)
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
            _("Missing required column(s): %(missing)s.") % {"missing": ", ".join(missing)}
        )
    if len(table) < 2:
        raise ImportFileError(empty)
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
    if len(names) > most:
        return _("%(names)s and %(count)s more") % {
            "names": ", ".join(shown),
            "count": f"{len(names) - most:,}",
        }
    return ", ".join(shown)


# --------------------------------------------------------------------------------------------
# Checking every row
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 16)  # rows name the same few sources and places again
def name_key(name: str) -> str:
    """A name as the unique constraints on LOWER(name) compare it: each character lowered on
    its own ('İ' is 'i'), not casefolded ('ß' stays apart from 'ss')."""
    return "".join(ch.lower()[:1] for ch in name)


# A source's columns in a row: its name, kind, country and grade; as publisher, as claim source.
SOURCE_ROLES = (
    ("publisher", "publisher_kind", "publisher_country", "publisher_reliability"),
    ("claim_source", "source_kind", "source_country", "source_reliability"),
)


@dataclass
class _Wanted:
    """What a row says of one source it names, as publisher, claim source or both: each value
    with the column that gives it."""

    name: str
    roles: list[tuple[str, str, str, str]] = field(default_factory=list)
    kind: tuple[str, str] | None = None
    country: tuple[Place, str] | None = None
    reliability: tuple[str, str] | None = None

    @property
    def name_columns(self) -> list[str]:
        return [role[0] for role in self.roles]

    def column_of(self, name: str) -> str:
        """The column where an error on the field ``name`` of the new source shows: the one
        that gave the value, else the column of the role that gave its kind (a government
        source needs a country: that role's country column)."""
        given: dict[str, tuple[object, str] | None] = {
            "kind": self.kind,
            "country": self.country,
            "reliability": self.reliability,
        }
        value = given.get(name)
        if value:
            return value[1]
        role = next((r for r in self.roles if self.kind and r[1] == self.kind[1]), self.roles[0])
        return {"kind": role[1], "country": role[2], "reliability": role[3]}.get(name, role[0])


class _Resolver:
    """Finds or plans the sources, places and reports that rows name, so that rows naming the
    same one share it."""

    def __init__(self, plan: Plan, user=None) -> None:
        self.plan = plan
        self.countries = {p.iso_code: p for p in Place.objects.countries()}
        self.world = Place.objects.get(kind=PlaceKind.WORLD)
        self.sources = {name_key(s.name): s for s in Source.objects.select_related("country")}
        self.created_by: dict[str, int] = {}  # a source new in this file: the row that made it
        # A user without the permission neither uses nor learns a confidential source's name
        # (a source of that name is refused, as the admin refuses a second one), and matches
        # only the reports they may see (a row naming a hidden one makes a new report).
        self.may_see = user is None or visibility.sees_confidential(user)
        self.hidden_sources: set[str] = set()
        reports = Report.objects.all()
        if not self.may_see:
            self.hidden_sources = {
                key for key, s in self.sources.items() if visibility.source_is_hidden(s, user)
            }
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

    def source(self, wanted: _Wanted, number: int) -> tuple[Source | None, list[tuple]]:
        """The source a row names, as ``wanted`` says it: found (what the row says of it must
        be what it is: a file never changes a source) or planned, with what the row gives
        (a kind, else a news outlet; a country; a grade, else F). Returns it, or None, with
        the errors as (column, message)."""
        key = name_key(wanted.name)
        if key in self.hidden_sources:  # nothing more is said of it, nor compared
            message = _("A source named %(name)s exists that you may not use.") % {
                "name": repr(wanted.name)
            }
            return None, [(column, message) for column in wanted.name_columns]
        found = self.sources.get(key)
        if found is not None:
            return found, self._differences(found, wanted, self.created_by.get(key))
        country = wanted.country[0] if wanted.country else None
        found = Source(
            name=wanted.name,
            kind=wanted.kind[0] if wanted.kind else SourceKind.NEWS,
            country=country,
            reliability=wanted.reliability[0] if wanted.reliability else Reliability.F,
        )
        try:
            found.full_clean(exclude=["country"] if country is None else None)
        except ValidationError as error:
            return None, [
                (wanted.column_of(name), message)
                for name, messages in error.message_dict.items()
                for message in messages
            ]
        self.sources[key] = found
        self.created_by[key] = number
        self.plan.new_sources.append(found)
        return found, []

    @staticmethod
    def _differences(found: Source, wanted: _Wanted, row: int | None) -> list[tuple]:
        """Where the row says another kind, country or grade than the source has."""
        errors = []
        values = {"name": repr(found.name), "row": row}
        if wanted.kind and wanted.kind[0] != found.kind:
            values.update(existing=found.kind, given=wanted.kind[0])
            message = (
                _("%(name)s exists as a source of kind %(existing)s, not %(given)s: correct "
                  "the row, or the source in the admin first.")
                if row is None
                else _("%(name)s is made by row %(row)s as a source of kind %(existing)s, not "
                       "%(given)s.")
            )  # fmt: skip
            errors.append((wanted.kind[1], message % values))
        if wanted.country and wanted.country[0].pk != found.country_id:
            values.update(given=wanted.country[0].iso_code)
            if found.country_id is None:
                message = (
                    _("%(name)s exists with no country, not %(given)s: correct the row, or "
                      "the source in the admin first.")
                    if row is None
                    else _("%(name)s is made by row %(row)s with no country, not %(given)s.")
                )  # fmt: skip
            else:
                values.update(existing=found.country.iso_code)
                message = (
                    _("%(name)s exists with country %(existing)s, not %(given)s: correct the "
                      "row, or the source in the admin first.")
                    if row is None
                    else _("%(name)s is made by row %(row)s with country %(existing)s, not "
                           "%(given)s.")
                )  # fmt: skip
            errors.append((wanted.country[1], message % values))
        if wanted.reliability and wanted.reliability[0] != found.reliability:
            values.update(existing=found.reliability, given=wanted.reliability[0])
            message = (
                _("%(name)s exists graded %(existing)s, not %(given)s: correct the row, or "
                  "the source in the admin first.")
                if row is None
                else _("%(name)s is made by row %(row)s graded %(existing)s, not %(given)s.")
            )  # fmt: skip
            errors.append((wanted.reliability[1], message % values))
        return errors

    def place(self, country: Place, path: str) -> Place:
        place = country
        parts = [p.strip() for p in path.split(">") if p.strip()]
        if len(parts) > len(PLACE_KINDS_BY_DEPTH):
            raise ValidationError(
                {
                    "place": _("At most %(count)s levels below a country.")
                    % {"count": len(PLACE_KINDS_BY_DEPTH)}
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

    def report(self, title: str, url: str, publisher: Source | None, published_on) -> Report | None:
        """The report of that title, URL, publisher and date, found or planned; without a
        publisher or a date (the row's are wrong), only its title and URL are checked."""
        if publisher is None or published_on is None:
            report = Report(title=title, url=url, published_on=published_on)
            report.clean_fields(exclude=["publisher", "logged_by", "published_on"])
            return None
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
    references = [unescape_cell(r["external_id"]) for r in rows if r.get("external_id")]
    existing = {c.external_id: c for c in claims.filter(external_id__in=references)}
    # A reference the system gave (an export of claims entered without one) finds its claim
    # by id: the export imports back to the same claims.
    by_system = {
        int(match[1]): reference
        for reference in references
        if (match := SYSTEM_REFERENCE.fullmatch(reference))
        and system_reference(int(match[1])) == reference
        and reference not in existing
    }
    if by_system:
        # Only a claim without a reference of its own goes by the system's: a claim that has
        # one is named by it, so two rows cannot name one claim two ways.
        for c in claims.filter(pk__in=list(by_system)):
            if not c.external_id:
                existing[by_system[c.pk]] = c
    seen_ids: dict[str, int] = {}
    for index, row in enumerate(rows):
        number = index + 2  # the header is row 1
        if not row:
            continue
        errors = _row_errors(number, row, resolve, existing, seen_ids, result)
        result.add_errors(errors)
        if progress is not None and number % BATCH == 0:
            progress(number)
    return result


def _row_errors(number, row, resolve, existing, seen_ids, result) -> list[RowError]:
    """Every error of one row: a clean row joins the plan."""
    check = _RowCheck(number, row, resolve)
    check.cells(seen_ids, existing)
    check.named()
    claim = check.claim(existing)
    if check.errors:
        return check.errors
    (result.to_update if claim.pk else result.to_add).append(claim)
    return []


DATE_COLUMNS = ("published_on",)
# A claim's dates are a day, a month or a year, as the source gives them.
PARTIAL_DATE_COLUMNS = ("period_start", "as_of")
NUMBER_COLUMNS = ("count_low", "count_high", "credibility")
CHOICE_COLUMNS = {
    "source_kind": SourceKind.values,
    "publisher_kind": SourceKind.values,
    "stance": Stance.values,
    "measure": Measure.values,
}
# The claim's fields that its own columns give, by column: what claim validation checks.
CLAIM_COLUMNS = ("stance", "measure", "count_low", "count_high", "period_start", "as_of",
                 "credibility", "summary", "external_id")  # fmt: skip


class _RowCheck:
    """The checks of one row, in three layers, each check skipping the cells an earlier one
    found wrong (and what rests on them), so that one preview shows every error of the row:

    1. ``cells``: each cell on its own (required, formula, date, number, choice, code);
    2. ``named``: the sources, place and report the row names, found or planned;
    3. ``claim``: the claim's own rules (the model's), on the fields whose cells are sound.
    """

    def __init__(self, number: int, row: dict[str, str], resolve: _Resolver) -> None:
        self.number = number
        self.row = row
        self.resolve = resolve
        self.errors: list[RowError] = []
        self.wrong: set[str] = set()  # the columns with an error
        self.dates: dict[str, datetime.date] = {}
        self.partial_dates: dict[str, PartialDate] = {}
        self.numbers: dict[str, int] = {}
        self.country: Place | None = None
        self.states: dict[str, Place] = {}  # the countries of sources, by column
        self.obligation: Obligation | None = None
        self.external_id: str | None = None
        self.publisher: Source | None = None
        self.source: Source | None = None
        self.place: Place | None = None
        self.report: Report | None = None

    def fail(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, message))
        self.wrong.add(column)

    def sound(self, *columns: str) -> bool:
        """Whether none of ``columns`` has an error yet."""
        return self.wrong.isdisjoint(columns)

    def fail_with(self, error: ValidationError, columns: dict[str, str]) -> None:
        """A model's ValidationError, each field's messages at its column."""
        for name, messages in error.message_dict.items():
            for message in messages:
                self.fail(columns.get(name, FIELD_COLUMN.get(name, name)), message)

    # --- 1. each cell on its own ---------------------------------------------------------

    def cells(self, seen_ids: dict[str, int], existing: dict[str, Claim]) -> None:
        row, resolve = self.row, self.resolve
        for column in REQUIRED:
            if not row.get(column):
                self.fail(column, _("required, but empty."))
        for column in TEXT_COLUMNS:
            value = row.get(column, "")
            text = unescape_cell(value)
            if text != value:
                row[column] = text  # escaped as the exports do: text, as written
            elif value.startswith(FORMULA_STARTS):
                self.fail(
                    column,
                    _(
                        "begins with %(character)s, which a spreadsheet would run as a "
                        "formula; remove the character (or the formula) and import again."
                    )
                    % {"character": repr(value[0])},
                )
        for column in DATE_COLUMNS:
            if row.get(column) and self.sound(column):
                try:
                    self.dates[column] = datetime.date.fromisoformat(row[column])
                except ValueError:
                    self.fail(
                        column,
                        _("%(value)s is not a date: write it as YYYY-MM-DD.")
                        % {"value": repr(row[column])},
                    )
        for column in PARTIAL_DATE_COLUMNS:
            if row.get(column) and self.sound(column):
                try:
                    self.partial_dates[column] = PartialDate.parse(row[column])
                except ValueError:
                    self.fail(
                        column,
                        _(
                            "%(value)s is not a date: write a day, a month or a year "
                            "(2019-12-23, 2017-09 or 2022)."
                        )
                        % {"value": repr(row[column])},
                    )
        for column in NUMBER_COLUMNS:
            raw = row.get(column, "").replace(",", "").replace(" ", "")
            if raw:
                if raw.isascii() and raw.isdigit():  # not '²' or '٣', which int() misreads
                    self.numbers[column] = int(raw)
                else:
                    self.fail(
                        column,
                        _("%(value)s is not a whole number of zero or more.")
                        % {"value": repr(row[column])},
                    )
        for column, allowed in CHOICE_COLUMNS.items():
            value = row.get(column, "").lower()
            if value and value not in allowed and self.sound(column):
                self.fail(
                    column,
                    _("%(value)s is not one of %(choices)s.")
                    % {"value": repr(row[column]), "choices": ", ".join(allowed)},
                )
        iso = row.get("country", "").upper()
        self.country = resolve.world if iso == "WORLD" else resolve.countries.get(iso)
        if iso and self.country is None:
            self.fail(
                "country",
                _("%(value)s is not the ISO code of a UN member state, nor WORLD.")
                % {"value": repr(row["country"])},
            )
        for column in ("publisher_country", "source_country"):
            if row.get(column):
                state = resolve.countries.get(row[column].upper())
                if state is None:
                    self.fail(
                        column,
                        _("%(value)s is not a member state's ISO code.")
                        % {"value": repr(row[column])},
                    )
                else:
                    self.states[column] = state
        for column in ("publisher_reliability", "source_reliability"):
            value = row.get(column, "").upper()
            if value and value not in Reliability.values:
                self.fail(
                    column,
                    _("%(value)s is not a grade of the Admiralty scale: use a letter from A "
                      "(completely reliable) to F (cannot be judged).")
                    % {"value": repr(row[column])},
                )  # fmt: skip
        if row.get("obligation"):
            self.obligation = resolve.obligations.get(row["obligation"].upper())
            if self.obligation is None:
                self.fail(
                    "obligation",
                    _("%(value)s is not an obligation code; the codes are %(codes)s.")
                    % {
                        "value": repr(row["obligation"]),
                        "codes": ", ".join(sorted(resolve.obligations)),
                    },
                )
        external_id = row.get("external_id") or None
        if external_id and self.sound("external_id"):
            self.external_id = external_id
            if external_id in seen_ids:
                self.fail(
                    "external_id",
                    _("%(value)s is also on row %(row)s.")
                    % {"value": repr(external_id), "row": seen_ids[external_id]},
                )
            seen_ids[external_id] = self.number
            claim = existing.get(external_id)
            if claim is not None and visibility.shown(claim, sees=resolve.may_see).hidden:
                self.fail(
                    "external_id",
                    _("%(value)s is the reference of a claim you may not change.")
                    % {"value": repr(external_id)},
                )

    # --- 2. what the row names -----------------------------------------------------------

    def named(self) -> None:
        row, resolve = self.row, self.resolve
        self.publisher, self.source = self.sources()
        if self.country is not None and self.sound("place"):
            try:
                path = row.get("place", "")
                self.place = resolve.place(self.country, path) if path else self.country
            except ValidationError as error:
                self.fail_with(error, {})
        if row.get("report_title") and self.sound("report_title", "report_url"):
            try:
                self.report = resolve.report(
                    row["report_title"],
                    row.get("report_url", ""),
                    self.publisher,
                    self.dates.get("published_on"),
                )
            except ValidationError as error:
                self.fail_with(error, {})

    def sources(self) -> tuple[Source | None, Source | None]:
        """The publisher and the claim source, found or planned. What the row says of a
        source in both roles (the same name) is said of one source, and must agree."""
        row: dict[str, str] = self.row
        wanted: dict[str, _Wanted] = {}
        for role in SOURCE_ROLES:
            name = row.get(role[0])
            if not name or not self.sound(*role):
                continue
            source = wanted.setdefault(name_key(name), _Wanted(name))
            source.roles.append(role)
            kind_column, country_column, grade_column = role[1:]
            given = {
                "kind": row.get(kind_column, "").lower(),
                "country": self.states.get(country_column),
                "reliability": row.get(grade_column, "").upper(),
            }
            columns = {"kind": kind_column, "country": country_column,
                       "reliability": grade_column}  # fmt: skip
            for attribute, value in given.items():
                if not value:
                    continue
                before = getattr(source, attribute)
                if before is None:
                    setattr(source, attribute, (value, columns[attribute]))
                elif before[0] != value:
                    shown = {"country": lambda p: p.iso_code}.get(attribute, str)
                    self.fail(
                        columns[attribute],
                        _("%(name)s is given %(first)s in %(column)s and %(second)s here: one "
                          "source, one value.")
                        % {"name": repr(name), "first": shown(before[0]), "column": before[1],
                           "second": shown(value)},
                    )  # fmt: skip
        found = {}
        for key, source in wanted.items():
            if not self.sound(*{c for role in source.roles for c in role}):
                continue
            found[key], errors = self.resolve.source(source, self.number)
            for column, message in errors:
                self.fail(column, message)
        publisher, claim_source = (name_key(row.get(role[0], "")) for role in SOURCE_ROLES)
        return found.get(publisher), found.get(claim_source)

    # --- 3. the claim's own rules --------------------------------------------------------

    def claim(self, existing: dict[str, Claim]) -> Claim:
        """The claim the row adds or updates, checked by the model on every field whose cell
        is sound; an error on a field whose cell is wrong already is not said twice."""
        row = self.row
        target = existing.get(self.external_id) if self.external_id else None
        target = target or Claim()
        related = {
            "report": self.report,
            "attributed_to": self.source,
            "place": self.place,
            "obligation": self.obligation,
        }
        for name, related_value in related.items():
            if related_value is not None or name == "obligation":
                setattr(target, name, related_value)
        values = {
            "stance": row.get("stance", "").lower(),
            "measure": row.get("measure", "").lower(),
            "count_low": self.numbers.get("count_low"),
            "count_high": self.numbers.get("count_high"),  # empty: "at least count_low"
            "period_start_given": self.partial_dates.get("period_start"),
            "as_of_given": self.partial_dates.get("as_of"),
            "credibility": self.numbers.get("credibility", 6),
            "summary": row.get("summary", ""),
            # A claim found by the reference the system gives it keeps having none of its own.
            "external_id": (
                target.external_id
                if target.pk is not None and self.external_id == target.reference_by_system
                else self.external_id
            ),
        }
        unsound = {name for name in CLAIM_COLUMNS if not self.sound(name)}
        for name, value in values.items():
            if name.removesuffix("_given") not in unsound:
                setattr(target, name, value)
        fields = {"report", "attributed_to", "place", "obligation"} | unsound
        try:
            target.clean_fields(exclude=sorted(fields))
        except ValidationError as error:
            self.fail_with(error, {})
            fields |= set(error.message_dict)
        try:
            target.clean()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                if name not in fields:
                    for message in messages:
                        self.fail(FIELD_COLUMN.get(name, name), message)
        return target


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
        for start in range(0, len(import_plan.to_add), BATCH):
            _claims_insert(import_plan.to_add[start : start + BATCH], user)
            done = min(start + BATCH, len(import_plan.to_add))
            say(_("added %(count)s claims") % {"count": f"{done:,}"})
        for start in range(0, len(import_plan.to_update), BATCH):
            _update(import_plan.to_update[start : start + BATCH], user)
            done = min(start + BATCH, len(import_plan.to_update))
            say(_("updated %(count)s claims") % {"count": f"{done:,}"})
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
    "count_low", "count_high", "period_start", "period_start_precision", "as_of",
    "as_of_precision", "credibility", "summary",
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


def _claims_insert(claims: list[Claim], user) -> None:
    """INSERT new claims with their history rows ('+', by ``user``), as
    ``bulk_create_with_history`` does. On PostgreSQL the ids are drawn from the table's sequence
    first, then both tables are written by COPY: Django's bulk INSERT spends most of an import's
    time building its statement."""
    if connection.vendor != "postgresql":
        bulk_create_with_history(claims, Claim, batch_size=BATCH, default_user=user)
        return
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Claim._meta.db_table, len(claims)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
    fields = list(Claim._meta.concrete_fields)
    for claim, pk in zip(claims, ids, strict=True):
        # A report, source or place new in this import was saved after the claim was given it.
        claim._prepare_related_fields_for_save(operation_name="bulk_create")
        claim.pk = pk
        for column in fields:
            column.pre_save(claim, add=True)  # the creation and update times
    columns = [f.attname for f in fields]
    services.rows_insert(Claim, columns, [tuple(getattr(c, n) for n in columns) for c in claims])
    history = Claim.history.model
    extra = {
        "history_date": now,
        "history_change_reason": None,
        "history_type": "+",
        "history_user_id": getattr(user, "pk", None),
    }
    history_columns = [
        f.attname for f in history._meta.concrete_fields if f.attname != "history_id"
    ]
    services.rows_insert(
        history,
        history_columns,
        [tuple(extra[n] if n in extra else getattr(c, n) for n in history_columns) for c in claims],
    )
