"""Writes: flags from the checks, flag status changes by monitors, and check requests.

Every function here is keyword-only, writes in a transaction, and schedules side effects
(Celery tasks) with ``transaction.on_commit`` so a rolled-back change enqueues nothing.
"""

from __future__ import annotations

import datetime
import json
import logging
import operator
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import partial, reduce
from itertools import islice
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.html import escape
from psycopg.types.json import Jsonb

from . import rules, selectors, visibility
from .models import (
    ACTIVE_FLAG_STATUSES,
    CheckRequest,
    Claim,
    Flag,
    FlagEvent,
    FlagStatus,
    Obligation,
    Place,
    Report,
    Source,
)

logger = logging.getLogger(__name__)

CHUNK = 1000  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


def chunks(items: Sequence, size: int = CHUNK):
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --------------------------------------------------------------------------------------------
# Links and events that point at rows that exist
# --------------------------------------------------------------------------------------------

# A flag's links to its claims, its events, and its obligation, place and country have no
# foreign-key constraint in the database (models.Flag): a first sweep writes one per claim and
# flag, and PostgreSQL checked each at commit. They still point at rows that exist: Django
# deletes links and events with their claim or flag, and protects a flag's place and
# obligation; such a deletion never runs while a writer of flags, links or events is between
# reading what they point at and committing. Writers hold this advisory lock shared,
# deletions (signals.py) exclusive, each until its transaction ends. Writers take it before
# any other lock; so does the admin's report form when it deletes claims (it saves other rows
# first). Otherwise a deletion takes it as it begins (pre_delete), after whatever its
# transaction locked before.
LINKS_LOCK = 0x7472_6163_6B65_72  # "tracker"


def links_lock(*, exclusive: bool = False) -> None:
    """Hold the links' lock until the transaction ends: shared to write flags, links or
    events, exclusive to delete claims, flags, places or obligations. A no-op on SQLite,
    whose IMMEDIATE transactions already run one writer at a time from their first read."""
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("links_lock() outside a transaction")
    lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {lock}(%s)", [LINKS_LOCK])


def flags_protect(target: Place | Obligation) -> None:
    """Raise ``ProtectedError`` if a flag is about ``target``, a place (as its place or its
    country) or an obligation that is being deleted. Django's collector looked for them
    before the deletion held the links' lock; one a check wrote meanwhile protects it too."""
    if isinstance(target, Obligation):
        flags = Flag.objects.filter(obligation=target)
    else:
        flags = Flag.objects.filter(models.Q(place=target) | models.Q(country=target))
    if flag := flags.order_by("pk").first():
        raise models.ProtectedError(
            f"Cannot delete {target._meta.verbose_name} {target}: a check has just written a "
            f"flag about it ({flag}).",
            {flag},
        )


# --------------------------------------------------------------------------------------------
# Flags from the checks
# --------------------------------------------------------------------------------------------


@dataclass
class WriteOutcome:
    found: int = 0
    opened: int = 0
    reopened: int = 0
    refreshed: int = 0
    resolved: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def flags_write(
    *,
    checked: Sequence[tuple[rules.Partition, dict[str, rules.Finding]]],
    settings: rules.CheckSettings,
    now: datetime.datetime,
    read_before_lock: bool = False,
) -> list[WriteOutcome]:
    """Make each checked partition's flags match its findings, an upsert on the fingerprint:

    1. a finding with no flag yet opens one (the unique fingerprint makes a concurrent insert
       of the same finding a no-op, never a duplicate);
    2. a finding whose flag is open, acknowledged or dismissed refreshes ``last_seen`` (and its
       explanation): a dismissed flag stays dismissed for the same evidence;
    3. a finding whose flag was resolved re-opens it;
    4. an open or acknowledged flag of the partition that was not found is resolved, with the
       reason in one sentence (unless another writer has changed it since it was read: its
       status, or its country, adopting it elsewhere).

    For a targeted check (``partition.focus``) only the flags in the focus's scope are
    compared (``rules.in_scope``); the others were not judged and stay as they are.

    Several partitions (a batch of a sweep) are read and written together, by the same
    statements (in chunks of ``CHUNK`` rows where they list ids). The caller holds their locks
    (see ``checks.partitions_check``). With ``read_before_lock`` (a sweep's, which read the
    places and obligations once, before its batches held the links' lock) the findings about
    a place, country or obligation deleted since are dropped (``_about_existing``).
    Returns an outcome per partition, in ``checked``'s order.
    """
    whole = [_country_id(partition) for partition, _ in checked if not partition.focus]
    of_country = selectors.flag_rows_of(whole) if whole else {}
    own = [
        partition.scope_flags if partition.focus else of_country.get(_country_id(partition), [])
        for partition, _ in checked
    ]
    known = {row[1]: row for rows in own for row in rows}
    found_anywhere = {fp for _, found in checked for fp in found}
    if read_before_lock:
        checked = _about_existing(checked, known)

    outcomes: list[WriteOutcome] = []
    to_create: list[tuple] = []  # rows of NEW_FLAG_COLUMNS
    opening: list[tuple[rules.Finding, int | None, WriteOutcome]] = []  # of each new row
    to_update: list[Flag] = []
    to_reopen: list[Flag] = []
    to_refresh: list[int] = []
    unfound: list[tuple] = []  # active flags of a partition not found: (row, its partition, …)
    to_resolve: list[tuple[int, str, str, int | None, WriteOutcome]] = []  # and as read
    events: list[tuple] = []  # rows of EVENT_COLUMNS

    def found_again(row: tuple, finding: rules.Finding, country_id, outcome) -> None:
        """A finding whose flag exists (its ``row``): refresh, update or re-open it."""
        pk, _, status, row_country, severity, explanation, public, *_ = row
        if status == FlagStatus.RESOLVED:
            flag = _updated_flag(pk, finding, country_id, now)
            flag.status, flag.resolved_at, flag.resolved_reason = FlagStatus.OPEN, None, ""
            to_reopen.append(flag)
            events.append((pk, now, FlagEvent.Action.REOPENED, ""))
            outcome.reopened += 1
            return
        if (severity, explanation, public, row_country) != (
            finding.severity,
            finding.explanation,
            finding.explanation_public,
            country_id,
        ):
            to_update.append(_updated_flag(pk, finding, country_id, now))
        else:
            to_refresh.append(pk)
        outcome.refreshed += 1

    for (partition, found), rows in zip(checked, own, strict=True):
        country_id = _country_id(partition)
        outcome = WriteOutcome(found=len(found))
        for fp, finding in found.items():
            if (row := known.get(fp)) is not None:
                found_again(row, finding, country_id, outcome)
            else:
                to_create.append(_new_flag_row(finding, fp, country_id, now))
                opening.append((finding, country_id, outcome))

        successors = None
        for row in rows:
            _, fp, status, row_country, *_ = row
            if (
                fp in found_anywhere
                or status not in ACTIVE_FLAG_STATUSES
                or row_country != country_id
            ):
                continue
            if successors is None:
                successors = rules.successors(found.values())
            unfound.append((row, partition, successors, outcome))
        outcomes.append(outcome)

    # Saying why a flag no longer holds takes its identity (kind, obligation, place, claims):
    # a whole partition's flags were read without it (selectors.FLAG_COLUMNS), so it is read
    # now, for the few not found.
    identities = _flag_identities([row[0] for row, *_ in unfound])
    for row, partition, successors, outcome in unfound:
        pk, _, status, row_country, *_ = row
        if (flag := identities.get(pk)) is not None:  # None: deleted meanwhile
            reason = rules.resolution_reason(flag, partition, settings, successors)
            to_resolve.append((pk, reason, status, row_country, outcome))

    if to_create:
        created = _flags_insert(to_create, now)
        # A fingerprint not inserted is already a flag: of another partition when a place
        # moved between countries, or one a concurrent check inserted first. Found again
        # here, it is adopted (moved to this partition's country, re-opened if resolved),
        # and the other partition does not resolve it. (Looked up only then: looking up every
        # new fingerprint before the insert took a first sweep of 1M disputed claims 3.3 s,
        # in one process.)
        taken = []  # the fingerprints not inserted, with what found_again needs
        for row, (finding, country_id, outcome) in zip(to_create, opening, strict=True):
            if row[_FP] in created:
                outcome.opened += 1
            else:
                taken.append((row[_FP], finding, country_id, outcome))
        elsewhere = {}
        for flags in _flags_among("fingerprint", [fp for fp, *_ in taken]):
            elsewhere.update((row[1], row) for row in selectors.flag_values(flags, identity=False))
        for fp, *again in taken:
            if (row := elsewhere.get(fp)) is not None:
                found_again(row, *again)
            else:  # the insert waited for its writer to commit it: it cannot be gone
                logger.warning("flag %s was neither inserted nor found; left to the next check", fp)
    update_fields = ["severity", "explanation", "explanation_public", "country", "last_seen"]
    _flags_update(to_update, update_fields)
    _flags_update(to_reopen, [*update_fields, "status", "resolved_at", "resolved_reason"])
    _flags_refresh(to_refresh, now)
    # Only flags still as read: one a monitor dismissed, or another country's check adopted
    # (its place moved), after this check read it keeps that change.
    resolved = _flags_update(
        [
            Flag(pk=pk, status=FlagStatus.RESOLVED, resolved_at=now, resolved_reason=reason)
            for pk, reason, *_ in to_resolve
        ],
        ["status", "resolved_at", "resolved_reason"],
        read={
            "status": [status for _, _, status, _, _ in to_resolve],
            "country": [country for *_, country, _ in to_resolve],
        },
    )
    for pk, reason, *_, outcome in to_resolve:
        if pk in resolved:
            events.append((pk, now, FlagEvent.Action.RESOLVED, reason))
            outcome.resolved += 1
    _rows_insert(FlagEvent, EVENT_COLUMNS, events)
    return outcomes


def _flag_identities(ids: list[int]) -> dict[int, rules.FlagRow]:
    """The identities of the flags ``ids``, by id (a flag deleted meanwhile has none)."""
    identity = ("id", *selectors.FLAG_COLUMNS[selectors.FLAG_COMPARED :])
    return {
        pk: rules.FlagRow(pk, kind, obligation_id, place_id, tuple(claim_ids))
        for flags in _flags_among("id", ids)
        for pk, kind, obligation_id, place_id, claim_ids in flags.values_list(*identity)
    }


def _about_existing(
    checked: Sequence[tuple[rules.Partition, dict[str, rules.Finding]]],
    known: dict[str, tuple],
) -> Sequence[tuple[rules.Partition, dict[str, rules.Finding]]]:
    """``checked`` less the findings about a place, country or obligation deleted since the
    check read it: a flag's keys have no constraint in the database (``Flag``). A finding
    whose flag exists (``known``, by fingerprint) is about a place and obligation that flag
    protects (PROTECT, and ``signals.protect_by_flags_written_meanwhile``), and so is its
    partition's country unless the flag is to move there: only new findings and moves are
    looked up, in two queries (none for a sweep that finds what it found before)."""
    places, obligations = set(), set()
    for partition, found in checked:
        for fp, finding in found.items():
            row = known.get(fp)
            if row is None:
                places.add(finding.place_id)
                obligations.add(finding.obligation_id)
            if row is None or row[selectors.FLAG_COUNTRY] != _country_id(partition):
                places.add(_country_id(partition))
    places.discard(None)
    obligations.discard(None)
    gone_places = places - _existing_ids(Place, places)
    gone_obligations = obligations - _existing_ids(Obligation, obligations)
    if not gone_places and not gone_obligations:
        return checked
    return [
        (
            partition,
            {}
            if _country_id(partition) in gone_places
            else {
                fp: finding
                for fp, finding in found.items()
                if finding.place_id not in gone_places
                and finding.obligation_id not in gone_obligations
            },
        )
        for partition, found in checked
    ]


def _existing_ids(model, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    size = len(ids) if connection.vendor == "postgresql" else CHUNK
    return {
        pk
        for chunk in chunks(list(ids), size)
        for pk in model.objects.filter(selectors.among(model, "id", chunk)).values_list(
            "id", flat=True
        )
    }


def _flags_among(name: str, values: list) -> Iterator[models.QuerySet]:
    """Querysets (unordered) of the flags whose field ``name`` holds one of ``values``: one
    on PostgreSQL (``selectors.among``), one per ``CHUNK`` values elsewhere."""
    size = len(values) if connection.vendor == "postgresql" else CHUNK
    for chunk in chunks(values, size):
        yield Flag.objects.order_by().filter(selectors.among(Flag, name, chunk))


def _flags_update(
    flags: list[Flag], names: Sequence[str], *, read: dict[str, list] | None = None
) -> set[int]:
    """Write the fields ``names`` of each flag (found by its pk), each flag its own values;
    with ``read`` (field name -> the value each flag had when it was read), only the flags
    whose fields still hold those values: another writer may have changed one and committed
    since (PostgreSQL waits for a writer holding the row, then judges the row it committed).
    Returns the ids written.

    On PostgreSQL one statement, ``UPDATE ... FROM unnest(...)`` with one array per column;
    elsewhere one executemany UPDATE (one UPDATE per flag with ``read``, to see which
    matched). Django's ``bulk_update`` builds a CASE per field with a branch per flag, which
    the database then walks for every row: a sweep resolving 49,612 flags took 36 s more
    than one resolving none."""
    if not flags:
        return set()
    read = read or {}
    fields = [Flag._meta.get_field(name) for name in names]
    kept = [Flag._meta.get_field(name) for name in read]
    quote = connection.ops.quote_name
    table, columns = quote(Flag._meta.db_table), [quote(field.column) for field in fields]
    was = [quote(f"was_{field.column}") for field in kept]
    rows = _prepared(
        Flag, names, [[getattr(flag, field.attname) for field in fields] for flag in flags]
    )
    was_rows = _prepared(Flag, list(read), list(zip(*read.values(), strict=True))) if read else []
    ids = [flag.pk for flag in flags]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields + kept)
            still = "".join(
                f" AND {table}.{quote(field.column)} IS NOT DISTINCT FROM v.{name}"
                for field, name in zip(kept, was, strict=True)
            )
            cursor.execute(
                f"UPDATE {table} SET {', '.join(f'{c} = v.{c}' for c in columns)} "  # noqa: S608 (quoted names)
                f"FROM unnest(%s::bigint[], {arrays}) AS v(id, {', '.join(columns + was)}) "
                f"WHERE {table}.id = v.id{still} RETURNING {table}.id",
                [
                    ids,
                    *(list(column) for column in zip(*rows, strict=True)),
                    *(list(column) for column in zip(*was_rows, strict=True)),
                ],
            )
            return {pk for (pk,) in cursor.fetchall()}
        sql = (
            f"UPDATE {table} SET {', '.join(f'{c} = %s' for c in columns)} WHERE id = %s"  # noqa: S608 (quoted names)
            + "".join(f" AND {quote(field.column)} IS %s" for field in kept)
        )
        if not read:
            cursor.executemany(sql, [[*row, pk] for row, pk in zip(rows, ids, strict=True)])
            return set(ids)
        written = set()
        for row, pk, was_row in zip(rows, ids, was_rows, strict=True):
            cursor.execute(sql, [*row, pk, *was_row])
            if cursor.rowcount:
                written.add(pk)
        return written


def _flags_refresh(ids: list[int], now: datetime.datetime) -> None:
    """Set ``last_seen`` on the flags found again."""
    for flags in _flags_among("id", ids):
        flags.update(last_seen=now)


def _country_id(partition: rules.Partition) -> int | None:
    return partition.country.id if partition.country else None


# Pages the flag table may hold before its statistics are kept up to date by the checks: at
# this size any plan reads it quickly.
FLAG_PAGES_PLANNED_ANYWAY = 64


# The flag columns the checks read flags by and the admin's list filters and default order
# use, whose statistics the refresh takes: with the texts, fingerprints and claim ids too, it
# took 0.41 s at the end of a first 1M disputed sweep (654,768 flags), against 0.23 s (and
# with the links and events too, at 1M consistent, 0.53 s against 0.14 s). (Links are
# read by the ids of their flag or claim, and events by their flag, or by action and date
# for the counts of a period: those plans hold without fresh statistics; autovacuum takes
# theirs.)
FLAG_COLUMNS_PLANNED = (
    "kind",
    "status",
    "country",
    "place",
    "obligation",
    "severity",
    "last_seen",
)


def flag_statistics_refresh(*, growth: float = 2) -> bool:
    """ANALYZE the flag table (``FLAG_COLUMNS_PLANNED``) when it has grown more than
    ``growth`` times since the planner's statistics were taken (PostgreSQL only); True when
    it did.

    A first sweep on a new installation grows the flag table from empty to tens of thousands
    of flags, and the checks' reads of it are planned from statistics (when the links and
    events still had foreign keys, their checks kept a plan made while the table was nearly
    empty, and a first 1M sweep spent over three minutes in them). autovacuum analyzes too, a
    minute or so late, when it is on; this runs after a check that opened flags, and costs
    one look at the table's size. A sweep runs it once, at its end, with a smaller
    ``growth``: statistics taken before a big country's flags were written miss it, and at 1M
    disputed claims a targeted check of China then took 0.5 s instead of 0.08."""
    if connection.vendor != "postgresql":
        return False
    columns = [Flag._meta.get_field(name).column for name in FLAG_COLUMNS_PLANNED]
    try:
        # Its own transaction (or savepoint): the check has committed, whatever happens here.
        with transaction.atomic(), connection.cursor() as cursor:
            if not _flag_table_outgrown(growth):
                return False
            cursor.execute(f"ANALYZE {_quoted(Flag._meta.db_table)} ({_quoted(*columns)})")
    except DatabaseError:  # a lock or statement timeout, say: autovacuum's job then
        logger.warning("could not analyze the flag table", exc_info=True)
        return False
    return True


def _flag_table_outgrown(growth: float) -> bool:
    """Whether the flag table has grown more than ``growth`` times since its statistics were
    taken."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relpages, pg_relation_size(oid) / current_setting('block_size')::int "
            "FROM pg_class WHERE oid = %s::regclass",
            [Flag._meta.db_table],
        )
        planned, pages = cursor.fetchone()
    return pages > growth * max(planned, FLAG_PAGES_PLANNED_ANYWAY)


# The columns a new flag is inserted with (the others are empty: NULL).
NEW_FLAG_COLUMNS = (
    "kind",
    "obligation_id",
    "place_id",
    "country_id",
    "claim_ids",
    "severity",
    "status",
    "explanation",
    "explanation_public",
    "fingerprint",
    "first_seen",
    "last_seen",
    "resolved_reason",
    "status_note",
)
_FP, _CLAIMS = NEW_FLAG_COLUMNS.index("fingerprint"), NEW_FLAG_COLUMNS.index("claim_ids")
LINK_COLUMNS = ("flag_id", "claim_id")
EVENT_COLUMNS = ("flag_id", "at", "action", "note")
_ON_CONFLICT = "ON CONFLICT (fingerprint) DO NOTHING"
_OPENED = FlagEvent.Action.OPENED


def _new_flag_row(
    finding: rules.Finding, fp: str, country_id: int | None, now: datetime.datetime
) -> tuple:
    return (
        finding.kind,
        finding.obligation_id,
        finding.place_id,
        country_id,
        list(finding.claim_ids),
        finding.severity,
        FlagStatus.OPEN,
        finding.explanation,
        finding.explanation_public,
        fp,
        now,
        now,
        "",
        "",
    )


# New flags at most this many are inserted by one statement with their values; more (a first
# sweep's) are copied into a temporary table first on PostgreSQL.
INSERT_ROWS = 200


def _flags_insert(rows: list[tuple], now: datetime.datetime) -> dict[str, int]:
    """Insert new flags (rows of ``NEW_FLAG_COLUMNS``), each with its links to its claims and
    its "opened" event, none twice: a fingerprint another writer inserted meanwhile stays
    theirs, with its own links and events. Returns the ids of the flags inserted here, by
    fingerprint.

    INSERT ... ON CONFLICT (fingerprint) DO NOTHING RETURNING, in statements of
    ``INSERT_ROWS`` rows. On PostgreSQL the same statement writes the links and events of the
    flags it inserted (from their ``claim_ids``), so they never travel from Python; and more
    rows than ``INSERT_ROWS`` are copied into a temporary table first and inserted from it in
    one statement (without ON CONFLICT, unless that fails on a fingerprint already there):
    COPY takes the tens of thousands of flags of a first sweep in a fraction of the time it
    takes to build their statements. (Built in Python and copied, the 158,080
    links and 79,518 events of a first 1M sweep took 1.8 s of its one process's 24.)"""
    if connection.vendor == "postgresql":
        return _flags_insert_postgresql(rows, now)
    created: dict[str, int] = {}
    with connection.cursor() as cursor:
        for chunk in chunks(_prepared(Flag, NEW_FLAG_COLUMNS, rows), INSERT_ROWS):
            sql, params = _flags_values(chunk)
            cursor.execute(f"{sql} {_ON_CONFLICT} RETURNING fingerprint, id", params)
            created.update(cursor.fetchall())
    _rows_insert(
        Flag.claims.through,
        LINK_COLUMNS,
        [(created[row[_FP]], c) for row in rows if row[_FP] in created for c in row[_CLAIMS]],
    )
    _rows_insert(FlagEvent, EVENT_COLUMNS, [(pk, now, _OPENED, "") for pk in created.values()])
    return created


def _flags_values(rows: list[list]) -> tuple[str, list]:
    """INSERT INTO the flag table VALUES ``rows`` (prepared values of ``NEW_FLAG_COLUMNS``)."""
    one = "({})".format(", ".join(["%s"] * len(NEW_FLAG_COLUMNS)))
    return (
        f"INSERT INTO {_quoted(Flag._meta.db_table)} ({_quoted(*NEW_FLAG_COLUMNS)}) "  # noqa: S608
        f"VALUES {', '.join([one] * len(rows))}",
        [value for row in rows for value in row],
    )


def _quoted(*names: str) -> str:
    return ", ".join(connection.ops.quote_name(name) for name in names)


def _flags_insert_postgresql(rows: list[tuple], now: datetime.datetime) -> dict[str, int]:
    """``_flags_insert`` on PostgreSQL: each statement inserts the flags, then (in the same
    statement, from the rows it inserted) their links and events."""
    then = (
        " RETURNING id, fingerprint, claim_ids), "  # noqa: S608 (quoted names)
        f"links AS (INSERT INTO {_quoted(Flag.claims.through._meta.db_table)} "
        f"({_quoted(*LINK_COLUMNS)}) "
        "SELECT new.id, claim.id::bigint FROM new, jsonb_array_elements_text(new.claim_ids) "
        f"AS claim(id)), events AS (INSERT INTO {_quoted(FlagEvent._meta.db_table)} "
        f"({_quoted(*EVENT_COLUMNS)}) SELECT id, %s, %s, '' FROM new) "
        "SELECT fingerprint, id FROM new"
    )
    created: dict[str, int] = {}
    with connection.cursor() as cursor:
        if len(rows) > INSERT_ROWS:
            columns = _quoted(*NEW_FLAG_COLUMNS)
            cursor.execute(
                "CREATE TEMPORARY TABLE new_flag ON COMMIT DROP AS "  # noqa: S608
                f"SELECT {columns} FROM {_quoted(Flag._meta.db_table)} WITH NO DATA"
            )
            _copy(cursor, Flag, "new_flag", NEW_FLAG_COLUMNS, rows)
            insert = (
                f"WITH new AS (INSERT INTO {_quoted(Flag._meta.db_table)} ({columns}) "  # noqa: S608
                f"SELECT {columns} FROM new_flag"
            )
            try:
                # A plain INSERT first: ON CONFLICT's speculative insertion cost the 269,410
                # new flags of China's first sweep at 1M disputed claims 0.9 s of the
                # statement's 10.5. A fingerprint that is already a flag (of the country a
                # place moved from, or a concurrent check's) fails it, in its savepoint, and
                # the insert is run again with ON CONFLICT.
                with transaction.atomic():
                    cursor.execute(f"{insert}{then}", [now, _OPENED])
            except IntegrityError:
                cursor.execute(f"{insert} {_ON_CONFLICT}{then}", [now, _OPENED])
            created.update(cursor.fetchall())
            cursor.execute("DROP TABLE new_flag")  # another insert may follow in this transaction
            return created
        for chunk in chunks(_prepared(Flag, NEW_FLAG_COLUMNS, rows), INSERT_ROWS):
            sql, params = _flags_values(chunk)
            cursor.execute(f"WITH new AS ({sql} {_ON_CONFLICT}{then}", [*params, now, _OPENED])
            created.update(cursor.fetchall())
    return created


def _rows_insert(model, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert plain rows (tuples of ``columns``' values) into ``model``'s table: PostgreSQL's
    COPY, or one executemany INSERT (with the values prepared as Django does) elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            _copy(cursor, model, model._meta.db_table, columns, rows)
        return
    prepared = _prepared(model, columns, rows)
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names, placeholders)
        connection.ops.quote_name(model._meta.db_table),
        ", ".join(connection.ops.quote_name(c) for c in columns),
        ", ".join(["%s"] * len(columns)),
    )
    with connection.cursor() as cursor:
        for chunk in chunks(prepared):
            cursor.executemany(sql, chunk)


def _prepared(model, columns: Sequence[str], rows: list[tuple]) -> list[list]:
    """The rows' values as Django would send them (``columns``: field names or attnames)."""
    fields = [model._meta.get_field(column) for column in columns]
    return [
        [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, row, strict=True)
        ]
        for row in rows
    ]


def _copy(cursor, model, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """COPY rows of ``model``'s ``columns`` into a PostgreSQL table, in the binary format, typed
    as the fields' columns are: the 269,410 new flags of China's first sweep at 1M disputed
    claims took 1.2 s to copy, against 2.0-2.2 s as text (with each JSON value a string)."""
    statement = "COPY {} ({}) FROM STDIN (FORMAT BINARY)".format(
        connection.ops.quote_name(table), ", ".join(connection.ops.quote_name(c) for c in columns)
    )
    fields = [model._meta.get_field(column) for column in columns]
    # "varchar(20)" -> "varchar": psycopg knows a type by its name, without its modifier.
    types = [field.db_type(connection).split("(")[0] for field in fields]
    json_at = [i for i, field in enumerate(fields) if isinstance(field, models.JSONField)]
    with cursor.copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    row[i] = Jsonb(row[i], dumps=_json_text)
            copy.write_row(row)


def _json_text(value) -> str:
    """A JSON value as COPY writes it: a list of ids (a flag's ``claim_ids``, the bulk of a
    first sweep's values) joined directly, a third of the time of ``json.dumps``, which
    took 1.6 s of Python for the 654,768 new flags of a first 1M disputed sweep."""
    if type(value) is list and all(type(item) is int for item in value):
        return f"[{','.join(map(str, value))}]"
    return json.dumps(value)


def _updated_flag(
    pk: int, finding: rules.Finding, country_id: int | None, now: datetime.datetime
) -> Flag:
    return Flag(
        pk=pk,
        severity=finding.severity,
        explanation=finding.explanation,
        explanation_public=finding.explanation_public,
        country_id=country_id,
        last_seen=now,
    )


# --------------------------------------------------------------------------------------------
# Flags: names made confidential
# --------------------------------------------------------------------------------------------


# Every sentence that names a claim's source follows it with the claim's date: "NKDB says
# 60,000 workers in … (as of 2019-12-23)", "(NKDB, as of …)", "NKDB's claim as of …",
# "claim B by NKDB as of …". So the source of the claim of a date is named between the
# previous "as of" and that date's.
_AS_OF = re.compile(r"as of (\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class Concealment:
    """What a save made confidential, as stored texts name it.

    ``names``: every name of a source made confidential, hidden wherever it stands as a whole
    word (a source called "UN" is not the start of "UNSCR2397-OP8"). ``dated``: for the
    claims of a report made restricted (``claim_ids``), the names of each claim's source by
    the claim's date, hidden only where a text names that source for a claim of that date
    (the same source's other claims stay named). ``titles`` and ``urls``: of the reports made
    restricted (for the summaries that list them)."""

    names: frozenset[str] = frozenset()
    dated: tuple[tuple[str, frozenset[str]], ...] = ()  # (date, the names of its sources)
    claim_ids: frozenset[int] = frozenset()
    titles: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()
    _compiled: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def conceal(self, text: str, *, html: bool = False) -> str:
        """``text`` with each of its mentions replaced by "a confidential source"."""
        label = escape(rules.CONFIDENTIAL_SOURCE) if html else rules.CONFIDENTIAL_SOURCE
        if self.names:
            text = self._words(self.names, html).sub(label, text)
        if not self.dated or "as of " not in text:
            return text
        on = self._compiled.setdefault("on", dict(self.dated))
        parts, last = [], 0
        for match in _AS_OF.finditer(text):
            segment = text[last : match.start()]
            if names := on.get(match.group(1)):
                segment = self._words(names, html).sub(label, segment)
            parts += [segment, match.group(0)]
            last = match.end()
        return "".join([*parts, text[last:]])

    def _words(self, names: frozenset[str], html: bool) -> re.Pattern:
        key = (names, html)
        if key not in self._compiled:
            self._compiled[key] = words_pattern(names, html=html)
        return self._compiled[key]


def words_pattern(words: Iterable[str], *, html: bool = False) -> re.Pattern | None:
    """A pattern matching any of ``words`` (names, titles; as HTML escapes them, with
    ``html``) where it is not part of a longer word (a source called "UN" is not the start
    of "UNSCR2397-OP8"), the longest first (a name that begins another); None for none."""
    words = sorted(set(words) - {""}, key=len, reverse=True)
    if not words:
        return None
    quote = (lambda word: re.escape(escape(word))) if html else re.escape
    return re.compile(rf"(?<!\w)(?:{'|'.join(map(quote, words))})(?!\w)")


# Sent once what a save made confidential is concealed in the flags, with ``concealment``
# (a ``Concealment``): the summaries app conceals it in its stored summaries.
made_confidential = Signal()


def conceal_made_confidential(instance: Source | Report, *, was_called: str = "") -> Concealment:
    """A source or report was saved as confidential (a report: restricted); ``was_called``:
    its name or title as stored before. Conceal it in every flag (``flags_conceal``), in the
    save's transaction or one of its own, holding the links' lock: a check running now
    finishes first, and one starting later reads it as confidential. Then ``made_confidential``
    is sent, for the stored summaries. Returns what was concealed."""
    with transaction.atomic():
        links_lock(exclusive=True)
        if isinstance(instance, Source):
            concealment = concealment_of_source(instance, was_named=was_called)
        else:
            concealment = concealment_of_report(instance, was_titled=was_called)
        flags_conceal(concealment)
        made_confidential.send(sender=type(instance), concealment=concealment)
    return concealment


class StoredAttribution(NamedTuple):
    """A claim as the texts written until now name it: by its source, as of its date."""

    claim_id: int
    source_id: int
    as_of: datetime.date


def unrestricted_attributions(claim_ids: Iterable[int]) -> list[StoredAttribution]:
    """Of the stored claims ``claim_ids``, those not restricted (by a confidential source or a
    restricted report), each as the texts written until now name it. Read before a save that
    may make them restricted, for ``conceal_claims_made_restricted`` after it."""
    stored = []
    for chunk in chunks(list(claim_ids)):
        claims = Claim.objects.filter(pk__in=chunk).exclude(visibility.restricted_claim_q())
        stored += claims.values_list("pk", "attributed_to_id", "as_of")
    return [StoredAttribution(*row) for row in stored]


def conceal_claims_made_restricted(before: Sequence[StoredAttribution]) -> Concealment | None:
    """Claims were saved (moved into a restricted report, say); ``before``: those that were
    not restricted (``unrestricted_attributions``, read before the save). Those restricted
    now are concealed where a text names their stored source for a claim of their stored
    date, as the claims of a report made restricted are (``conceal_made_confidential``).
    Returns what was concealed; None when no claim became restricted."""
    restricted = set()
    for chunk in chunks([claim.claim_id for claim in before]):
        claims = Claim.objects.filter(visibility.restricted_claim_q(), pk__in=chunk)
        restricted.update(claims.values_list("pk", flat=True))
    if not restricted:
        return None
    with transaction.atomic():
        links_lock(exclusive=True)
        made = [claim for claim in before if claim.claim_id in restricted]
        concealment = concealment_of_claims(made, Report.objects.none())
        flags_conceal(concealment)
        made_confidential.send(sender=Claim, concealment=concealment)
    return concealment


def concealment_of_source(source: Source, *, was_named: str = "") -> Concealment:
    """A source made confidential: its names (history, current, and ``was_named``: as stored
    before this save), and the claims of the reports it publishes, which are restricted now."""
    names = source_names([source.pk])[source.pk] | {source.name, was_named}
    reports = Report.objects.filter(publisher=source)
    claims = Claim.objects.filter(report__publisher=source).exclude(attributed_to=source)
    of_reports = concealment_of_claims(
        claims.values_list("pk", "attributed_to_id", "as_of"), reports
    )
    return replace(of_reports, names=frozenset(names - {""}))


def concealment_of_report(report: Report, *, was_titled: str = "") -> Concealment:
    """A report made restricted (confidential, or published by a confidential source)."""
    reports = Report.objects.filter(pk=report.pk)
    claims = Claim.objects.filter(report=report).values_list("pk", "attributed_to_id", "as_of")
    concealment = concealment_of_claims(claims, reports)
    return replace(concealment, titles=concealment.titles | ({was_titled} - {""}))


def concealment_of_claims(
    claims: Iterable[tuple[int, int, datetime.date]], reports: models.QuerySet
) -> Concealment:
    """Claims made restricted, each (id, source id, date) as texts name it, and the reports
    made restricted with them (whose titles and addresses the summaries list). Each claim is
    concealed as every version of it named it (its history's sources and dates too): a flag
    resolved before a public edit of its date or source still names the older one."""
    sources_on: dict[str, set[int]] = {}
    claim_ids = set()
    for pk, source_id, as_of in claims:
        sources_on.setdefault(as_of.isoformat(), set()).add(source_id)
        claim_ids.add(pk)
    for chunk in chunks(list(claim_ids)):
        versions = Claim.history.filter(id__in=chunk).order_by()
        for source_id, as_of in versions.values_list("attributed_to_id", "as_of").distinct():
            sources_on.setdefault(as_of.isoformat(), set()).add(source_id)
    names = source_names(set().union(*sources_on.values()))
    titles, urls = set(), set()
    for model in (Report, Report.history.model):
        for title, url in model.objects.filter(id__in=reports.values("id")).values_list(
            "title", "url"
        ):
            titles.add(title)
            urls.add(url)
    return Concealment(
        dated=tuple(
            (day, frozenset().union(*(names[pk] for pk in sources)) - {""})
            for day, sources in sorted(sources_on.items())
        ),
        claim_ids=frozenset(claim_ids),
        titles=frozenset(titles - {""}),
        urls=frozenset(urls - {""}),
    )


def source_names(source_ids: Iterable[int]) -> dict[int, set[str]]:
    """Every name each source has gone by: its current one and its history's (a source
    created in bulk, by an import, has none)."""
    names: dict[int, set[str]] = {pk: set() for pk in source_ids}
    for ids in chunks(list(names)):
        for model in (Source, Source.history.model):
            for pk, name in model.objects.filter(id__in=ids).values_list("id", "name"):
                names[pk].add(name)
    return names


def flags_conceal(concealment: Concealment) -> int:
    """Conceal what a save made confidential in every flag's public texts: its public
    sentence, the reason it was resolved, the note of its last status change, and the notes
    of its events (the checks' reasons, and the monitors' notes, which may name a source
    too). The full sentence is kept for who may see it. Returns how many flags changed.

    The checks rewrite the sentences of the flags they find again, but a resolved flag, or a
    dismissed one no longer found, keeps the sentence it was last written with, which exports,
    the API and the summaries show to every reader; a reason may quote another flag's
    sentence, or name the claim that resolved it. Called (``signals``) after a source or
    report is saved as confidential, holding the links' lock (``conceal_made_confidential``).
    """
    texts = ("explanation_public", "resolved_reason", "status_note")
    which, noted = models.Q(pk__in=[]), models.Q(pk__in=[])
    for name in concealment.names:  # a source's names: wherever they stand
        which |= reduce(operator.or_, (models.Q(**{f"{text}__contains": name}) for text in texts))
        noted |= models.Q(note__contains=name)
    ids: set[int] = set()
    if concealment.dated:
        # A report's claims: the sentences of the flags resting on them, and the reasons
        # that may quote such a sentence or name the claim that resolved a flag.
        for chunk in chunks(list(concealment.claim_ids)):
            ids.update(
                Flag.claims.through.objects.filter(claim_id__in=chunk).values_list(
                    "flag_id", flat=True
                )
            )
        which |= ~models.Q(resolved_reason="")
        noted |= models.Q(action=FlagEvent.Action.RESOLVED) & ~models.Q(note="")
    ids.update(Flag.objects.filter(which).values_list("pk", flat=True))
    changed = []
    for chunk in chunks(sorted(ids), 2000):
        for flag in Flag.objects.filter(pk__in=chunk).only(*texts):
            values = [getattr(flag, text) for text in texts]
            concealed = [concealment.conceal(value) for value in values]
            if concealed != values:
                for text, value in zip(texts, concealed, strict=True):
                    setattr(flag, text, value)
                changed.append(flag)
    _flags_update(changed, list(texts))
    events = FlagEvent.objects.filter(noted)
    notes = []
    for event in events.only("note").iterator(chunk_size=2000):
        if (note := concealment.conceal(event.note)) != event.note:
            event.note = note
            notes.append(event)
    FlagEvent.objects.bulk_update(notes, ["note"], batch_size=500)
    return len(changed)


# --------------------------------------------------------------------------------------------
# Flags: what monitors do with them
# --------------------------------------------------------------------------------------------

_TRANSITIONS = {
    # action: (statuses it applies to, the new status)
    FlagEvent.Action.ACKNOWLEDGED: ((FlagStatus.OPEN,), FlagStatus.ACKNOWLEDGED),
    FlagEvent.Action.DISMISSED: ((FlagStatus.OPEN, FlagStatus.ACKNOWLEDGED), FlagStatus.DISMISSED),
    FlagEvent.Action.REOPENED_BY_USER: (
        (FlagStatus.ACKNOWLEDGED, FlagStatus.DISMISSED),
        FlagStatus.OPEN,
    ),
}


def _flags_transition(*, flag_ids: Iterable[int], user, action: str, note: str) -> int:
    """Lock the flags, keep those whose status allows ``action``, change them, log it.

    Returns how many changed: a flag the checks resolved in the meantime, or that another
    monitor already moved, is left as it is.
    """
    allowed, new_status = _TRANSITIONS[action]
    now = timezone.now()
    with transaction.atomic():
        links_lock()  # it writes events
        ids = list(
            Flag.objects.select_for_update()
            .filter(pk__in=list(flag_ids), status__in=allowed)
            .values_list("pk", flat=True)
        )
        Flag.objects.filter(pk__in=ids).update(
            status=new_status, status_changed_by=user, status_changed_at=now, status_note=note
        )
        FlagEvent.objects.bulk_create(
            [FlagEvent(flag_id=pk, at=now, action=action, actor=user, note=note) for pk in ids]
        )
    return len(ids)


def flags_acknowledge(*, flag_ids: Iterable[int], user, note: str = "") -> int:
    """Open flags become acknowledged: someone is looking into them."""
    return _flags_transition(
        flag_ids=flag_ids, user=user, action=FlagEvent.Action.ACKNOWLEDGED, note=note.strip()
    )


def flags_dismiss(*, flag_ids: Iterable[int], user, reason: str) -> int:
    """Open or acknowledged flags become dismissed; they stay dismissed for the same evidence.
    A reason is required: the dismissal must be explainable to a reviewer."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the flag is dismissed: the reason is kept."})
    return _flags_transition(
        flag_ids=flag_ids, user=user, action=FlagEvent.Action.DISMISSED, note=reason
    )


def flags_reopen(*, flag_ids: Iterable[int], user, note: str = "") -> int:
    """Acknowledged or dismissed flags become open again."""
    return _flags_transition(
        flag_ids=flag_ids, user=user, action=FlagEvent.Action.REOPENED_BY_USER, note=note.strip()
    )


# --------------------------------------------------------------------------------------------
# Check requests: which partitions to check again after a change
# --------------------------------------------------------------------------------------------


def checks_request(
    *, keys: Iterable[str] = (), targets: Iterable[tuple[str, int, int | None]] = ()
) -> set[str]:
    """Ask for a check of each partition once the current transaction commits: of the whole
    partition for ``keys``, targeted at the claim for each (key, claim id, place id) of
    ``targets``.

    A ``CheckRequest`` row is written in the caller's transaction (the outbox), and the task
    is enqueued on commit, once per partition. If the broker is down the enqueue fails
    quietly: the rows stay and ``dispatch_pending_checks`` (every minute) enqueues them again;
    a partition check deletes the requests it has served.
    """
    from .tasks import check_partition

    now = timezone.now()
    rows = [CheckRequest(key=key, requested_at=now) for key in set(keys)]
    rows += [
        CheckRequest(key=key, requested_at=now, claim_id=claim_id, place_id=place_id)
        for key, claim_id, place_id in set(targets)
    ]
    CheckRequest.objects.bulk_create(rows)
    requested = {row.key for row in rows}
    for key in sorted(requested):
        transaction.on_commit(partial(_enqueue, check_partition, key), robust=True)
    return requested


def _enqueue(task, *args) -> None:
    try:
        task.delay(*args)
    except Exception:  # the broker is down: the CheckRequest outbox row stays for later
        logger.warning("could not enqueue %s%r; it stays pending", task.name, args, exc_info=True)


def checks_request_for(
    *,
    place_ids: Iterable[int] = (),
    source_ids: Iterable[int] = (),
    claims: Iterable[tuple[int, int]] = (),
) -> set[str]:
    """Request checks after a change.

    ``claims`` are (claim id, place id) pairs a save touched, as they were and as they are:
    the partition of each place gets a check targeted at those claims, and so does the state
    of each self-report source among ``source_ids`` (its overdue reports). Without claims, the
    partitions of ``place_ids`` and of those states are checked whole.
    """
    claims, place_ids = set(claims), set(place_ids)
    if selectors.is_world_among(place_ids | {place for _, place in claims}):
        # The world's own counts and complying claims are compared with every country's
        # (scope, stance conflicts), whose flags are the countries': a change to one (its
        # source's grading, say) is every country's, and a check targeted at its claims
        # would not read them.
        return checks_request(keys=selectors.partition_keys())
    if not claims:
        return checks_request(keys=selectors.partition_keys_for(place_ids, source_ids))
    by_place = selectors.partition_key_by_place(place for _, place in claims)
    targets = {(by_place[place], claim, place) for claim, place in claims if place in by_place}
    targets |= {
        (key, claim, None) for key in selectors.state_keys_of(source_ids) for claim, _ in claims
    }
    return checks_request(keys=selectors.partition_keys_for(place_ids), targets=targets)


def checks_request_all() -> set[str]:
    """An obligation changed: every partition."""
    return checks_request(keys=selectors.partition_keys())
