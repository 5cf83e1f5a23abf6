"""The check engine: load a partition, run the rules, write the flags.

A *partition* is a country with every place inside it, or ``WORLD`` (the world itself and the
world-level regions such as Southeast Asia). A partition is checked in a transaction that holds
a lock on its ``CheckState`` row. The full sweep checks every partition: in batches of
partitions, each batch one transaction, in this process or in worker processes it forks
(``sweep``, used by ``manage.py runchecks``), or fanned out to Celery workers, one task per
partition (``tasks.run_sweep``).
"""

from __future__ import annotations

import datetime
import gc
import logging
import multiprocessing
import multiprocessing.util
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from . import rules, selectors, services
from .models import CheckRequest, CheckState

logger = logging.getLogger(__name__)


def check_settings() -> rules.CheckSettings:
    return rules.CheckSettings(
        window_days=settings.TRACKER_COMPARISON_WINDOW_DAYS,
        tolerance=settings.TRACKER_COUNT_TOLERANCE,
        same_moment_days=settings.TRACKER_SAME_MOMENT_DAYS,
    )


@dataclass
class PartitionOutcome:
    key: str
    claims: int = 0
    found: int = 0
    opened: int = 0
    reopened: int = 0
    refreshed: int = 0
    resolved: int = 0
    duration_ms: int = 0
    targeted: bool = False
    error: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SweepOutcome:
    today: datetime.date
    partitions: list[PartitionOutcome] = field(default_factory=list)
    processes: int = 1  # the processes that checked the batches

    @property
    def failed(self) -> list[PartitionOutcome]:
        return [p for p in self.partitions if p.error]

    def total(self, name: str) -> int:
        return sum(getattr(p, name) for p in self.partitions)


# A targeted check for more claims than this (an import) checks the whole country instead.
FOCUS_LIMIT = 200


def partition_check(
    key: str,
    *,
    today: datetime.date | None = None,
    whole: bool = False,
    shared: selectors.Shared | None = None,
) -> PartitionOutcome:
    """Check one partition as of ``today`` (default: the local date) and write its flags.

    Whole, or targeted: when every pending request of a country names the claims a save
    touched (and ``whole`` is not asked for), only the findings those claims can make or
    unmake are judged (``rules.Focus``), which the full check would judge the same way.
    """
    return partitions_check([key], today=today, whole=whole, shared=shared)[0]


def partitions_check(
    keys: list[str],
    *,
    today: datetime.date | None = None,
    whole: bool = False,
    shared: selectors.Shared | None = None,
    analyze: bool = True,
) -> list[PartitionOutcome]:
    """Check partitions together, in one transaction (a sweep's batch, or one partition):

    1. Hold the links' lock shared (``services.links_lock``: no claim, place or obligation
       it reads is deleted before it commits; a sweep's ``shared``, read before, is checked
       after). Lock their ``CheckState`` rows, in key order (SELECT ... FOR UPDATE; on
       SQLite the transaction's write lock): a second check of one of them waits for this
       one and then sees its flags, so checks of one country never overlap.
    2. Read their pending ``CheckRequest`` rows: the changes they stand for are what this
       check reads. A request that commits later (even with a lower id, its transaction
       having started first) is left for the next check, not lost.
    3. Load each partition's rows (the claims of a sweep's countries in one query), run the
       rules, write the flags (an upsert on the unique fingerprint, so even an unlocked
       concurrent writer cannot make a duplicate): one statement of each kind for all.
    4. Delete the requests served, record each run on its state row; commit.

    One failing partition fails them all (the sweep then checks each alone). A check that
    opened flags then refreshes the flag table's statistics once the table has doubled
    (``services.flag_statistics_refresh``), unless ``analyze`` is False: a sweep's batches
    leave it to the sweep's end.
    """
    keys = list(dict.fromkeys(keys))
    if not keys:
        return []
    today = today or timezone.localdate()
    cfg = check_settings()
    started, now = time.perf_counter(), timezone.now()
    with _collector_paused(), transaction.atomic():
        services.links_lock()  # before reading the claims it links flags to
        if shared is not None:  # read before the lock
            shared = shared.still_current()
        states = _states_locked(keys)
        pending: dict[str, list[tuple]] = {key: [] for key in keys}
        for key, *request in CheckRequest.objects.filter(key__in=keys).values_list(
            "key", "id", "claim_id", "place_id"
        ):
            pending[key].append(tuple(request))
        focus = {
            key: None if whole or key == selectors.WORLD_KEY else _focus(pending[key])
            for key in keys
        }
        claims = {}
        if len(keys) > 1 and shared is not None:
            wanted = [key for key in keys if focus[key] is None]
            claims = selectors.country_claims(wanted, today=today, shared=shared)
        checked, own_time = [], []
        for key in keys:
            own_started = time.perf_counter()
            partition = selectors.partition_load(
                key,
                today=today,
                focus=focus[key],
                settings=cfg,
                shared=shared,
                claims=claims.pop(key, None),
            )
            checked.append((partition, rules.run_rules(partition, cfg)))
            own_time.append(time.perf_counter() - own_started)
        written = services.flags_write(
            checked=checked, settings=cfg, now=now, read_before_lock=shared is not None
        )
        services.statuses_write(checked=checked, now=now, read_before_lock=shared is not None)
        served = [request[0] for requests in pending.values() for request in requests]
        if shared is not None and shared.requests_seen is not None:
            served = [pk for pk in served if pk in shared.requests_seen]  # see for_sweep
        for chunk in services.chunks(served):
            CheckRequest.objects.filter(id__in=chunk).delete()
        # Each partition's own loading and rules, and its share of what they did together.
        common = (time.perf_counter() - started - sum(own_time)) / len(keys)
        outcomes = []
        for (partition, _), own, outcome in zip(checked, own_time, written, strict=True):
            key = partition.key
            result = PartitionOutcome(
                key=key,
                claims=len(partition.claims),
                targeted=focus[key] is not None,
                duration_ms=round((own + common) * 1000),
                **outcome.as_dict(),
            )
            state = states[key]
            state.last_checked_at = now
            state.last_as_of = today
            state.last_duration_ms = result.duration_ms
            if not result.targeted:  # a targeted check saw a part: keep the whole check's
                state.last_claims = result.claims
                state.last_found = result.found
            state.last_error = ""
            state.failures = 0
            outcomes.append(result)
        # An upsert of rows that exist: one statement, where bulk_update's CASE per field and
        # row cost a third of a second per sweep to build.
        CheckState.objects.bulk_create(
            states.values(),
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=STATE_FIELDS,
        )
    if analyze and any(result.opened for result in outcomes):
        services.flag_statistics_refresh()
    return outcomes


STATE_FIELDS = [
    "last_checked_at",
    "last_as_of",
    "last_duration_ms",
    "last_claims",
    "last_found",
    "last_error",
    "failures",
]


def _states_locked(keys: list[str]) -> dict[str, CheckState]:
    """The partitions' state rows, locked in key order. A partition's first check inserts its
    row before it locks anything (insert-or-ignore, in key order, waiting for a concurrent first
    check's insert), so every check takes its locks in one order and two cannot deadlock. The
    keys are read first, without a lock: a check whose rows exist inserts nothing."""
    keys = sorted(keys)
    states = CheckState.objects.filter(key__in=keys)
    existing = set(states.values_list("key", flat=True))  # no lock: only to skip the insert
    states_locked = {}
    while len(states_locked) < len(keys):  # again if a row was deleted before it was locked
        missing = [CheckState(key=key) for key in keys if key not in existing]
        CheckState.objects.bulk_create(missing, ignore_conflicts=True)
        states_locked = {state.key: state for state in states.select_for_update().order_by("key")}
        existing = set(states_locked)
    return states_locked


_pause_lock = threading.Lock()
_pausing = 0  # checks running in this process with the collector paused
_collector_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a check. A check builds a tuple per claim
    (a million in a full sweep), and each few hundred new objects set the collector going
    through every object alive: at a million claims that cost more than the rules themselves.
    The rows form no reference cycles, so reference counting frees them as usual; the
    collector resumes, and catches up, when the last check running in the process ends."""
    global _pausing, _collector_was_enabled
    with _pause_lock:
        if _pausing == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pausing -= 1
            if _pausing == 0 and _collector_was_enabled:
                gc.enable()


def _focus(pending: list[tuple]) -> rules.Focus | None:
    """The focus of the pending requests, or None (check whole) when one of them asks for the
    whole partition, or there are none (a scheduled check), or too many claims."""
    if not pending or any(claim_id is None for _, claim_id, _ in pending):
        return None
    claim_ids = frozenset(claim_id for _, claim_id, _ in pending)
    if len(claim_ids) > FOCUS_LIMIT:
        return None
    places = frozenset(place_id for *_, place_id in pending if place_id is not None)
    return rules.Focus(claim_ids=claim_ids, place_ids=places)


def record_failure(key: str, error: BaseException) -> None:
    """Keep a failed check's error on its state row (in a transaction of its own), so staff
    see it in the admin and the next run starts clean."""
    CheckState.objects.bulk_create([CheckState(key=key)], ignore_conflicts=True)
    CheckState.objects.filter(key=key).update(
        last_error=f"{type(error).__name__}: {error}"[:2000],
        last_failed_at=timezone.now(),
        failures=F("failures") + 1,
    )


# A sweep checks its partitions in batches (a batch's claims are read in one query, its flags
# written by the same statements), a batch closing once its claims, as its partitions' last
# checks counted them, reach TRACKER_SWEEP_BATCH_CLAIMS (default 50,000): that bounds how long
# a batch holds its locks. The claims of partitions never checked are counted first (one
# query); UNKNOWN_CLAIMS is what one counts as when they cannot be (``partition_sizes``
# without ``shared``). A batch holds at most BATCH_PARTITIONS, the 194 partitions of the
# reference data: a sweep of little evidence is one batch (each batch costs ~10 queries,
# which at 10,000 claims weighed as much as the rules).
BATCH_PARTITIONS = 200
UNKNOWN_CLAIMS = 6_250
# A sweep in several processes gives each of them a batch, its claims cut in equal shares,
# down to this many claims a batch: below it, a second process costs as much to set up as
# the work it takes over (bench/README.md keeps the measurements).
SHARED_BATCH_CLAIMS = 4_000
# A sweep that opened flags refreshes the planner's statistics of the flag table at its end
# once the flag table has grown by a tenth since they were taken (autovacuum's default).
SWEEP_STATISTICS_GROWTH = 1.1


def sweep(
    *,
    today: datetime.date | None = None,
    keys: list[str] | None = None,
    progress=None,
    processes: int | None = None,
) -> SweepOutcome:
    """Check every partition (or ``keys``) in batches (``batches``), in this process or in
    ``processes`` worker processes (default ``TRACKER_SWEEP_PROCESSES``; ``_may_fork`` says
    when it may). The outcomes, and ``progress`` calls, come in ``keys``' order.

    A partition that fails is recorded on its state row and counted; the others still run.
    """
    today = today or timezone.localdate()
    keys = list(dict.fromkeys(keys)) if keys is not None else selectors.partition_keys()
    outcome = SweepOutcome(today=today)
    with _collector_paused():  # for the whole sweep, not catching up between countries
        shared = selectors.Shared.for_sweep(today)
        wanted = settings.TRACKER_SWEEP_PROCESSES if processes is None else processes
        wanted = max(1, wanted) if _may_fork() else 1
        sizes = partition_sizes(keys, shared=shared)
        todo = list(batches(keys, sizes=sizes, shares=wanted))
        outcome.processes = max(1, min(wanted, len(todo)))
        if outcome.processes > 1:
            checked = _in_processes(todo, today=today, shared=shared, n=outcome.processes)
        else:
            checked = (_checked_or_recorded(b, today=today, shared=shared) for b in todo)
        for results in checked:
            for result in results:
                outcome.partitions.append(result)
                if progress is not None:
                    progress(result)
    if outcome.total("opened"):
        services.flag_statistics_refresh(growth=SWEEP_STATISTICS_GROWTH)
    return outcome


def _may_fork() -> bool:
    """Whether a sweep may check its batches in forked processes: on PostgreSQL (SQLite takes
    one writer at a time), outside any transaction (a worker would not see its uncommitted
    rows; and the connections are closed before forking), from a process running no other
    thread (a lock another thread held at the fork would stay held in the child), on Linux
    (macOS's system libraries are not safe to use in a forked child)."""
    return (
        connection.vendor == "postgresql"
        and not any(
            c.in_atomic_block or (c.connection is not None and not c.get_autocommit())
            for c in connections.all(initialized_only=True)
        )
        and threading.active_count() == 1
        and sys.platform.startswith("linux")
    )


def _in_processes(
    todo: list[list[str]], *, today: datetime.date, shared: selectors.Shared, n: int
) -> Iterator[list[PartitionOutcome]]:
    """Each batch's outcomes, in order, from ``n`` forked processes each checking one batch at
    a time, with a connection of its own. The rules run in Python, one core per process: two
    processes halve them, and the database works on one batch while Python works on another.

    The workers inherit ``shared`` (read once, not copied through a pipe) and send back only
    the outcomes. A worker that dies (killed for memory, say) breaks the pool: every batch
    not yet reported is recorded as failed on its partitions' state rows (one another worker
    committed just then is checked again by the next sweep, which clears the error)."""
    connections.close_all()  # a forked child must not talk on its parent's connection
    reported = 0
    with ProcessPoolExecutor(
        n,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_started,
        initargs=(today, shared),
    ) as pool:
        try:
            # In order, not the biggest batches first: that runs the two biggest at once, for
            # a sweep's peak memory, to save little time.
            for results in pool.map(_worker_check, todo):
                reported += 1
                yield results
        except BrokenProcessPool as exc:
            logger.error("a sweep worker died (%s): its batches are recorded as failed", exc)
            for batch in todo[reported:]:
                yield [_failed(key, exc) for key in batch]


_worker: dict = {}  # in a sweep's worker process: what every batch reads the same


def _worker_started(today: datetime.date, shared: selectors.Shared) -> None:
    _worker.update(today=today, shared=shared)
    # One connection for all the worker's batches (a new one per batch cost a 10,000-claim
    # first sweep a fifth of its time), closed as the worker exits: a pool's worker ends with
    # multiprocessing's finalizers, not with atexit.
    multiprocessing.util.Finalize(None, connections.close_all, exitpriority=0)


def _worker_check(keys: list[str]) -> list[PartitionOutcome]:
    return _checked_or_recorded(keys, today=_worker["today"], shared=_worker["shared"])


def partition_sizes(keys: list[str], *, shared: selectors.Shared | None = None) -> dict[str, int]:
    """The claims of each partition, as its last whole check counted them. Those of a
    partition never checked whole, or that had none, are counted (``selectors.claim_counts``,
    given the sweep's ``shared``; a targeted check leaves the count at 0), or taken to be
    ``UNKNOWN_CLAIMS``."""
    sizes = dict(
        CheckState.objects.filter(
            key__in=keys, last_as_of__isnull=False, last_claims__gt=0
        ).values_list("key", "last_claims")
    )
    missing = [key for key in keys if key not in sizes]
    if missing and shared is not None:
        sizes.update(selectors.claim_counts(missing, shared=shared))
    return {key: sizes.get(key, UNKNOWN_CLAIMS) for key in keys}


def batches(
    keys: list[str], *, sizes: dict[str, int] | None = None, shares: int = 1
) -> Iterator[list[str]]:
    """``keys`` in order, cut into batches of at most ``BATCH_PARTITIONS``, each closed once
    its partitions' claims (``sizes``, default ``partition_sizes``) reach
    ``TRACKER_SWEEP_BATCH_CLAIMS``, or, for a sweep in ``shares`` processes, a ``shares``-th
    of all their claims if that is fewer, but no fewer than ``SHARED_BATCH_CLAIMS``."""
    sizes = partition_sizes(keys) if sizes is None else sizes
    limit = settings.TRACKER_SWEEP_BATCH_CLAIMS
    if shares > 1:
        share = -(-sum(sizes[key] for key in keys) // shares)  # rounded up
        limit = min(limit, max(share, SHARED_BATCH_CLAIMS))
    batch, claims = [], 0
    for key in keys:
        batch.append(key)
        claims += sizes[key]
        if len(batch) == BATCH_PARTITIONS or claims >= limit:
            yield batch
            batch, claims = [], 0
    if batch:
        yield batch


def _checked_or_recorded(
    keys: list[str], *, today: datetime.date, shared: selectors.Shared
) -> list[PartitionOutcome]:
    """Check a batch whole; when it fails, check each of its partitions alone, so the others
    land and the failing one is recorded on its state row."""
    try:
        # The sweep refreshes the statistics once, at its end: after each batch, ANALYZE
        # slows a first sweep down for nothing.
        return partitions_check(keys, today=today, whole=True, shared=shared, analyze=False)
    except Exception as exc:
        if len(keys) > 1:
            logger.warning("a batch of the sweep failed (%s); checking each alone", exc)
            return [
                result
                for key in keys
                for result in _checked_or_recorded([key], today=today, shared=shared)
            ]
        logger.exception("check of partition %s failed", keys[0])
        return [_failed(keys[0], exc)]


def _failed(key: str, error: BaseException) -> PartitionOutcome:
    """Record a partition's failure on its state row; its outcome, with the error."""
    record_failure(key, error)
    return PartitionOutcome(key=key, error=f"{type(error).__name__}: {error}")
