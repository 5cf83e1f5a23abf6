"""Writes: flags from the checks, flag status changes by monitors, and check requests.

Every function here is keyword-only, writes in a transaction, and schedules side effects
(Celery tasks) with ``transaction.on_commit`` so a rolled-back change enqueues nothing.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from functools import partial
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy
from psycopg.types.json import Jsonb

from . import rules, selectors
from .models import (
    ACTIVE_FLAG_STATUSES,
    CheckRequest,
    Flag,
    FlagClaim,
    FlagEvent,
    FlagObligation,
    FlagStatus,
    Obligation,
    PairStatus,
    Place,
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
        flags = Flag.objects.filter(obligations=target)
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


# The order in which a keyed subject's flags are preferred to carry its situation (legacy
# data may hold several): the one a monitor is working with first.
_PREFERRED: dict[str, int] = {
    FlagStatus.OPEN: 0,
    FlagStatus.ACKNOWLEDGED: 0,
    FlagStatus.DISMISSED: 1,
}


def match(
    found: Sequence[rules.Finding], flags: Sequence[rules.FlagRow]
) -> tuple[list[tuple[rules.Finding, rules.FlagRow | None]], list[rules.FlagRow]]:
    """Each situation found with the flag that carries it (docs/design.md §3.3), or None for a
    new one; and the flags no situation carries.

    A keyed kind's situation (cap signal, staleness, overdue report) takes its subject's flag
    (the active one, else a dismissed one, else the oldest). A conflict takes the flag of its
    subject sharing most claims with it (on a tie, the oldest), each flag carrying at most one
    situation: greedily, the largest overlaps first."""
    by_subject: dict[tuple[str, str], list[rules.FlagRow]] = defaultdict(list)
    for flag in flags:
        by_subject[flag.kind, flag.subject].append(flag)
    carried: dict[int, rules.FlagRow | None] = {}  # index in ``found`` -> its flag
    taken: set[int] = set()
    overlaps = []  # (-shared, flag id, finding index)
    for index, finding in enumerate(found):
        candidates = by_subject.get((finding.kind, finding.subject), [])
        if finding.kind in rules.KEYED_KINDS:
            free = [f for f in candidates if f.id not in taken]
            if free:
                flag = min(free, key=lambda f: (_PREFERRED.get(f.status, 2), f.id))
                carried[index] = flag
                taken.add(flag.id)
            continue
        claims = set(finding.claim_ids)
        overlaps.extend(
            (-shared, flag.id, index, flag)
            for flag in candidates
            if (shared := len(claims.intersection(flag.claim_ids)))
        )
    for _, flag_id, index, flag in sorted(overlaps, key=lambda o: o[:3]):
        if index not in carried and flag_id not in taken:
            carried[index] = flag
            taken.add(flag_id)
    return (
        [(finding, carried.get(index)) for index, finding in enumerate(found)],
        [flag for flag in flags if flag.id not in taken],
    )


@dataclass
class _Changes:
    """What one write does, gathered for all the partitions of a check."""

    now: datetime.datetime
    new: list[tuple[rules.Finding, int | None, WriteOutcome]] = field(default_factory=list)
    updated: list[Flag] = field(default_factory=list)
    reopened: list[Flag] = field(default_factory=list)
    refreshed: list[int] = field(default_factory=list)
    relinked: dict[int, rules.Finding] = field(default_factory=dict)  # flag id -> its claims
    events: list[tuple] = field(default_factory=list)  # rows of EVENT_COLUMNS
    unfound: list[tuple[rules.FlagRow, rules.Partition, WriteOutcome]] = field(default_factory=list)
    # (kind, subject, claim id) -> the flag that carries a situation resting on the claim
    carriers: dict[tuple[str, str, int], int] = field(default_factory=dict)

    def found_again(
        self, flag: rules.FlagRow, finding: rules.Finding, country_id, outcome: WriteOutcome
    ) -> None:
        """A situation carried by an existing flag: update it, re-open it if its status says
        so (docs/design.md §3.3), or only note it was seen."""
        old, new = set(flag.claim_ids), set(finding.claim_ids)
        joined, left = sorted(new - old), sorted(old - new)
        data = {"joined": joined, "left": left} if joined or left else {}
        reopen = flag.status == FlagStatus.RESOLVED or (
            flag.status == FlagStatus.DISMISSED
            and (
                bool(joined)
                if finding.kind in rules.CONFLICT_KINDS
                else finding.kind == rules.CAP_SIGNAL and old != new
            )
        )
        changed = (
            old != new
            or flag.facts != finding.facts
            or flag.severity != finding.severity
            or flag.country_id != country_id
            or (finding.kind == rules.CAP_SIGNAL and flag.obligation_ids != finding.obligation_ids)
        )
        row = Flag(
            pk=flag.id,
            claim_ids=list(finding.claim_ids),
            facts=finding.facts,
            severity=finding.severity,
            measure=finding.measure,
            country_id=country_id,
            last_seen=self.now,
        )
        if reopen:
            row.status, row.resolved_at, row.resolution = FlagStatus.OPEN, None, None
            self.reopened.append(row)
            self.events.append((flag.id, self.now, FlagEvent.Action.REOPENED, "", data))
            outcome.reopened += 1
        else:
            if changed:
                self.updated.append(row)
            else:
                self.refreshed.append(flag.id)
            if data:
                self.events.append((flag.id, self.now, FlagEvent.Action.CHANGED, "", data))
            outcome.refreshed += 1
        if old != new or (
            finding.kind == rules.CAP_SIGNAL and flag.obligation_ids != finding.obligation_ids
        ):
            self.relinked[flag.id] = finding
        self.carry(finding, flag.id)

    def carry(self, finding: rules.Finding, flag_id: int) -> None:
        for claim_id in finding.claim_ids:
            self.carriers[finding.kind, finding.subject, claim_id] = flag_id


def flags_write(
    *,
    checked: Sequence[tuple[rules.Partition, list[rules.Finding]]],
    settings: rules.CheckSettings,
    now: datetime.datetime,
    read_before_lock: bool = False,
) -> list[WriteOutcome]:
    """Make each checked partition's flags carry its situations (docs/design.md §3.3):

    1. each situation is matched with the flag that carries it (``match``); a situation no
       flag carries opens one (inserted on its unique fingerprint: one a concurrent writer
       inserted first, or another country's when a place moved, is adopted instead);
    2. a carried situation updates its flag's claims, facts and severity, re-opens it when
       resolved (or dismissed, when a claim joined), and an event records the claims that
       joined or left;
    3. an open or acknowledged flag of the partition that carries no situation is resolved,
       with its reason as facts (``rules.resolution``; "merged" when its claims went to
       another flag of its subject), unless another writer changed it since it was read.

    For a targeted check (``partition.focus``) only the flags in its scope are compared
    (``rules.in_scope``); the others were not judged and stay as they are. Several
    partitions (a batch of a sweep) are written together, by the same statements. The caller
    holds their locks (``checks.partitions_check``). With ``read_before_lock`` (a sweep's),
    new flags about a place or obligation deleted since are not opened (``_about_existing``).
    Returns an outcome per partition, in ``checked``'s order."""
    whole = [_country_id(partition) for partition, _ in checked if not partition.focus]
    of_country = selectors.flag_rows_of(whole) if whole else {}
    own = [
        partition.scope_flags if partition.focus else of_country.get(_country_id(partition), [])
        for partition, _ in checked
    ]
    changes = _Changes(now=now)
    outcomes: list[WriteOutcome] = []
    for (partition, found), flags in zip(checked, own, strict=True):
        country_id = _country_id(partition)
        outcome = WriteOutcome(found=len(found))
        matched, unmatched = match(found, flags)
        for finding, flag in matched:
            if flag is None:
                changes.new.append((finding, country_id, outcome))
            else:
                changes.found_again(flag, finding, country_id, outcome)
        changes.unfound += [
            (flag, partition, outcome)
            for flag in unmatched
            if flag.status in ACTIVE_FLAG_STATUSES and flag.country_id == country_id
        ]
        outcomes.append(outcome)

    if read_before_lock:
        changes.new = _about_existing(changes.new)
    _flags_create(changes)
    _flags_update(
        changes.updated, ["claim_ids", "facts", "severity", "measure", "country", "last_seen"]
    )
    _flags_update(
        changes.reopened,
        ["claim_ids", "facts", "severity", "measure", "country", "last_seen", "status",
         "resolved_at", "resolution"],
    )  # fmt: skip
    _flags_refresh(changes.refreshed, now)
    _links_replace(changes.relinked)
    _flags_resolve(changes, settings)
    rows_insert(FlagEvent, EVENT_COLUMNS, changes.events)
    return outcomes


def statuses_write(
    *,
    checked: Sequence[tuple[rules.Partition, list[rules.Finding]]],
    now: datetime.datetime,
    read_before_lock: bool = False,
) -> int:
    """Keep each checked country's statuses (``rules.statuses``), once its flags are written:
    one upsert for all. With ``read_before_lock`` (a sweep's, which read the countries and
    obligations before its batch held the links' lock), none about one deleted since.
    Returns how many pairs it wrote."""
    countries = [partition.country.id for partition, _ in checked if partition.country]
    if not countries:
        return 0
    active = selectors.active_flags_of(countries)
    obligations = {o for partition, _ in checked for o in partition.obligations}
    existing_countries, existing_obligations = set(countries), obligations
    if read_before_lock:
        existing_countries = set(
            Place.objects.filter(pk__in=countries).values_list("pk", flat=True)
        )
        existing_obligations = set(
            Obligation.objects.filter(pk__in=obligations).values_list("pk", flat=True)
        )
    rows = [
        PairStatus(
            country_id=status.country_id,
            obligation_id=status.obligation_id,
            status=status.status,
            reason=status.reason,
            claims=len(status.claim_ids),
            newest_as_of=status.newest_as_of,
            flag_ids=list(status.flag_ids),
            as_of=partition.today,
            updated_at=now,
        )
        for partition, _ in checked
        if partition.country is not None
        if partition.country.id in existing_countries
        for status in rules.statuses(
            partition,
            selectors.country_evidence(partition),
            active.get(partition.country.id, []),
        )
        if status.obligation_id in existing_obligations
    ]
    PairStatus.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["country", "obligation"],
        update_fields=[
            "status",
            "reason",
            "claims",
            "newest_as_of",
            "flag_ids",
            "as_of",
            "updated_at",
        ],
    )
    return len(rows)


def _flags_create(changes: _Changes) -> None:
    """Insert the new flags with their links to claims and obligations and their "opened"
    events; adopt a fingerprint another writer inserted meanwhile (``_Changes.found_again``)."""
    if not changes.new:
        return
    now = changes.now
    rows = [_new_flag_row(finding, country_id, now) for finding, country_id, _ in changes.new]
    created = _flags_insert(rows, now)
    taken = []
    for (finding, country_id, outcome), row in zip(changes.new, rows, strict=True):
        fp = row[_FP]
        if fp in created:
            outcome.opened += 1
            changes.carry(finding, created[fp])
        else:
            taken.append((fp, finding, country_id, outcome))
    rows_insert(
        FlagObligation,
        ("flag_id", "obligation_id"),
        [
            (created[row[_FP]], obligation_id)
            for (finding, *_), row in zip(changes.new, rows, strict=True)
            if row[_FP] in created
            for obligation_id in finding.obligation_ids
        ],
    )
    if taken:
        # Taken by another writer, or another country's flag (its place moved here): found
        # again here, it is adopted (moved to this partition's country, re-opened if
        # resolved), and the other partition does not resolve it.
        elsewhere = {}
        for flags in _flags_among("fingerprint", [fp for fp, *_ in taken]):
            elsewhere.update((row.fingerprint, row) for row in selectors.flag_values(flags))
        for fp, finding, country_id, outcome in taken:
            if (flag := elsewhere.get(fp)) is not None:
                changes.found_again(flag, finding, country_id, outcome)
            else:  # the insert waited for its writer to commit it: it cannot be gone
                logger.warning("flag %s was neither inserted nor found; left to the next check", fp)


def _links_replace(relinked: dict[int, rules.Finding]) -> None:
    """The flags whose claims (or, for a cap signal, obligations) changed get their links
    anew: one deletion of their old links, one insert of the new."""
    if not relinked:
        return
    ids = list(relinked)
    for chunk in chunks(ids):
        FlagClaim.objects.filter(flag_id__in=chunk).delete()
        FlagObligation.objects.filter(flag_id__in=chunk).delete()
    rows_insert(
        FlagClaim,
        LINK_COLUMNS,
        [(pk, claim_id) for pk, finding in relinked.items() for claim_id in finding.claim_ids],
    )
    rows_insert(
        FlagObligation,
        ("flag_id", "obligation_id"),
        [(pk, o) for pk, finding in relinked.items() for o in finding.obligation_ids],
    )


def _flags_resolve(changes: _Changes, settings: rules.CheckSettings) -> None:
    """Resolve the active flags no situation carries, each with its reason as facts: merged
    into the flag that now carries one of its claims for the same subject, else
    ``rules.resolution``. Only flags still as read: one a monitor dismissed, or another
    country's check adopted (its place moved), after this check read it keeps that change."""
    if not changes.unfound:
        return
    reasons = []
    for flag, partition, outcome in changes.unfound:
        carriers = changes.carriers
        into = next(
            (
                carriers[key]
                for c in flag.claim_ids
                if (key := (flag.kind, flag.subject, c)) in carriers and carriers[key] != flag.id
            ),
            None,
        )
        if into is not None and flag.kind in rules.CONFLICT_KINDS:
            reason = {"code": "merged", "into": into}
        else:
            reason = rules.resolution(flag, partition, settings)
        reasons.append((flag, reason, outcome))
    resolved = _flags_update(
        [
            Flag(pk=flag.id, status=FlagStatus.RESOLVED, resolved_at=changes.now, resolution=reason)
            for flag, reason, _ in reasons
        ],
        ["status", "resolved_at", "resolution"],
        read={
            "status": [flag.status for flag, _, _ in reasons],
            "country": [flag.country_id for flag, _, _ in reasons],
        },
    )
    for flag, reason, outcome in reasons:
        if flag.id in resolved:
            changes.events.append(
                (flag.id, changes.now, FlagEvent.Action.RESOLVED, "", {"resolution": reason})
            )
            outcome.resolved += 1


def _about_existing(
    new: list[tuple[rules.Finding, int | None, WriteOutcome]],
) -> list[tuple[rules.Finding, int | None, WriteOutcome]]:
    """The new flags less those about a place, country or obligation deleted since the
    check read it: a flag's keys have no constraint in the database (``Flag``). A flag found
    again protects its own (PROTECT, and ``signals.protect_by_flags_written_meanwhile``): only
    new flags' are looked up, in two queries (none when nothing is new)."""
    places, obligations = set(), set()
    for finding, country_id, _ in new:
        places.update((finding.place_id, country_id))
        obligations.update(finding.obligation_ids)
    places.discard(None)
    gone_places = places - _existing_ids(Place, places)
    gone_obligations = obligations - _existing_ids(Obligation, obligations)
    kept = []
    for finding, country_id, outcome in new:
        if (
            finding.place_id in gone_places
            or country_id in gone_places
            or not gone_obligations.isdisjoint(finding.obligation_ids)
        ):
            outcome.found -= 1  # about nothing now: not a finding
        else:
            kept.append((finding, country_id, outcome))
    return kept


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
    the database then walks for every row: quadratic in the flags written."""
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
# use, whose statistics the refresh takes: the facts, fingerprints and claim ids, and the
# links and events, would make it several times slower for no plan that needs them. (Links are
# read by the ids of their flag or claim, and events by their flag, or by action and date
# for the counts of a period: those plans hold without fresh statistics; autovacuum takes
# theirs.)
FLAG_COLUMNS_PLANNED = (
    "kind",
    "status",
    "country",
    "place",
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
    empty, and a first large sweep spent minutes in them). autovacuum analyzes too, a
    minute or so late, when it is on; this runs after a check that opened flags, and costs
    one look at the table's size. A sweep runs it once, at its end, with a smaller
    ``growth``: statistics taken before a big country's flags were written miss it, and a
    targeted check of that country is then planned as if it had none."""
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
    "subject",
    "measure",
    "place_id",
    "country_id",
    "claim_ids",
    "facts",
    "severity",
    "status",
    "fingerprint",
    "first_seen",
    "last_seen",
    "status_note",
)
_FP, _CLAIMS = NEW_FLAG_COLUMNS.index("fingerprint"), NEW_FLAG_COLUMNS.index("claim_ids")
LINK_COLUMNS = ("flag_id", "claim_id")
EVENT_COLUMNS = ("flag_id", "at", "action", "note", "data")
_ON_CONFLICT = "ON CONFLICT (fingerprint) DO NOTHING"
_OPENED = FlagEvent.Action.OPENED


def _new_flag_row(finding: rules.Finding, country_id: int | None, now: datetime.datetime) -> tuple:
    return (
        finding.kind,
        finding.subject,
        finding.measure,
        finding.place_id,
        country_id,
        list(finding.claim_ids),
        finding.facts,
        finding.severity,
        FlagStatus.OPEN,
        finding.fingerprint,
        now,
        now,
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
    takes to build their statements; built in Python and copied, the links and events would
    take a noticeable part of a first sweep."""
    if connection.vendor == "postgresql":
        return _flags_insert_postgresql(rows, now)
    created: dict[str, int] = {}
    with connection.cursor() as cursor:
        for chunk in chunks(_prepared(Flag, NEW_FLAG_COLUMNS, rows), INSERT_ROWS):
            sql, params = _flags_values(chunk)
            cursor.execute(f"{sql} {_ON_CONFLICT} RETURNING fingerprint, id", params)
            created.update(cursor.fetchall())
    rows_insert(
        Flag.claims.through,
        LINK_COLUMNS,
        [(created[row[_FP]], c) for row in rows if row[_FP] in created for c in row[_CLAIMS]],
    )
    rows_insert(FlagEvent, EVENT_COLUMNS, [(pk, now, _OPENED, "", {}) for pk in created.values()])
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
        f"({_quoted(*EVENT_COLUMNS)}) SELECT id, %s, %s, '', '{{}}'::jsonb FROM new) "
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
                # A plain INSERT first: ON CONFLICT's speculative insertion costs every row of
                # a first sweep's insert. A fingerprint that is already a flag (of the country a
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


def rows_insert(model, columns: Sequence[str], rows: list[tuple]) -> None:
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
    as the fields' columns are: faster than text, where each JSON value is a string to parse."""
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
    first sweep's values) joined directly, a third of the time of ``json.dumps``."""
    if type(value) is list and all(type(item) is int for item in value):
        return f"[{','.join(map(str, value))}]"
    return json.dumps(value)


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
        # A country's statuses read its active flags: its check keeps them (docs/design.md §4).
        countries = set(
            Flag.objects.filter(pk__in=ids, country__isnull=False).values_list(
                "country_id", flat=True
            )
        )
        if countries:
            checks_request(keys=set(selectors.partition_key_by_place(countries).values()))
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
        raise ValidationError(
            {"reason": gettext_lazy("Say why the flag is dismissed: the reason is kept.")}
        )
    return _flags_transition(
        flag_ids=flag_ids, user=user, action=FlagEvent.Action.DISMISSED, note=reason
    )


def flags_reopen(*, flag_ids: Iterable[int], user, note: str = "") -> int:
    """Acknowledged or dismissed flags become open again."""
    return _flags_transition(
        flag_ids=flag_ids, user=user, action=FlagEvent.Action.REOPENED_BY_USER, note=note.strip()
    )


# One flag at a time, as the flag's page and the API act on it: the action by its name.
FLAG_ACTIONS = {
    "acknowledge": FlagEvent.Action.ACKNOWLEDGED,
    "dismiss": FlagEvent.Action.DISMISSED,
    "reopen": FlagEvent.Action.REOPENED_BY_USER,
}
# Why an action was refused: the statuses it applies to, said for the reader.
_REFUSED = {
    "acknowledge": gettext_lazy(
        "Flag #%(id)s is %(status)s: only an open flag can be acknowledged."
    ),
    "dismiss": gettext_lazy(
        "Flag #%(id)s is %(status)s: only an open or acknowledged flag can be dismissed."
    ),
    "reopen": gettext_lazy(
        "Flag #%(id)s is %(status)s: only an acknowledged or dismissed flag can be re-opened."
    ),
}


class FlagActionRefused(Exception):
    """The flag's status does not allow the action (the checks or another monitor may have
    moved it since the page was read); ``str()`` says why, for the reader."""

    def __init__(self, *, flag: Flag, action: str) -> None:
        self.flag, self.action = flag, action
        super().__init__(action)

    def __str__(self) -> str:
        return str(
            _REFUSED[self.action] % {"id": self.flag.pk, "status": self.flag.get_status_display()}
        )


def flag_actions_allowed(status: str) -> list[str]:
    """The actions (``FLAG_ACTIONS``' names) a monitor may take on a flag in ``status``."""
    return [name for name, event in FLAG_ACTIONS.items() if status in _TRANSITIONS[event][0]]


def flag_act(*, flag: Flag, user, action: str, note: str = "") -> Flag:
    """One monitor's ``action`` on one flag, with their note (the reason, to dismiss: required,
    else a ``ValidationError`` on ``reason``). Returns the flag as it now is; raises
    ``FlagActionRefused`` when its status (read under the lock) does not allow the action."""
    if action == "dismiss":
        changed = flags_dismiss(flag_ids=[flag.pk], user=user, reason=note)
    elif action == "acknowledge":
        changed = flags_acknowledge(flag_ids=[flag.pk], user=user, note=note)
    elif action == "reopen":
        changed = flags_reopen(flag_ids=[flag.pk], user=user, note=note)
    else:
        raise ValueError(f"no such flag action: {action}")
    flag.refresh_from_db()
    if not changed:
        raise FlagActionRefused(flag=flag, action=action)
    return flag


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
