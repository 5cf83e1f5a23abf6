"""The check engine: load a partition, run the rules, write the flags.

A *partition* is a country with every place inside it, or ``WORLD`` (the world itself and the
world-level regions such as Southeast Asia). Each partition is checked on its own, in its own
transaction, under a lock on its ``CheckState`` row; the full sweep is one check per partition,
in-process (``sweep``, used by ``manage.py runchecks``) or fanned out to Celery workers
(``tasks.run_sweep``).
"""

from __future__ import annotations

import datetime
import gc
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import rules, selectors, services
from .models import CheckRequest, CheckState

logger = logging.getLogger(__name__)


def check_settings() -> rules.CheckSettings:
    return rules.CheckSettings(
        window_days=settings.TRACKER_COMPARISON_WINDOW_DAYS,
        tolerance=settings.TRACKER_COUNT_TOLERANCE,
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

    1. Lock the partition's ``CheckState`` row (SELECT ... FOR UPDATE; on SQLite the
       transaction's write lock): a second check of the same partition waits for this one and
       then sees its flags, so checks of one country never overlap.
    2. Read the pending ``CheckRequest`` rows: the changes they stand for are what this check
       reads. A request that commits later (even with a lower id, its transaction having
       started first) is left for the next check, not lost.
    3. Load the partition's rows, run the rules, write the flags (an upsert on the unique
       fingerprint, so even an unlocked concurrent writer cannot make a duplicate).
    4. Delete the requests served, record the run on the state row; commit.
    """
    today = today or timezone.localdate()
    cfg = check_settings()
    started, now = time.perf_counter(), timezone.now()
    with _collector_paused(), transaction.atomic():
        state = CheckState.objects.select_for_update().filter(key=key).first()
        if state is None:  # the partition's first check (or a concurrent first: no duplicate)
            CheckState.objects.bulk_create([CheckState(key=key)], ignore_conflicts=True)
            state = CheckState.objects.select_for_update().get(key=key)
        pending = list(
            CheckRequest.objects.filter(key=key).values_list("id", "claim_id", "place_id")
        )
        focus = None if whole or key == selectors.WORLD_KEY else _focus(pending)
        partition = selectors.partition_load(
            key, today=today, focus=focus, settings=cfg, shared=shared
        )
        found = rules.run_rules(partition, cfg)
        written = services.flags_write(partition=partition, found=found, settings=cfg, now=now)
        for chunk in services.chunks([row[0] for row in pending]):
            CheckRequest.objects.filter(id__in=chunk).delete()
        outcome = PartitionOutcome(
            key=key,
            claims=len(partition.claims),
            targeted=focus is not None,
            **written.as_dict(),
        )
        outcome.duration_ms = round((time.perf_counter() - started) * 1000)
        state.last_checked_at = now
        state.last_as_of = today
        state.last_duration_ms = outcome.duration_ms
        if focus is None:  # a targeted check saw a part: keep the whole check's figures
            state.last_claims = outcome.claims
            state.last_found = outcome.found
        state.last_error = ""
        state.failures = 0
        state.save()
    if outcome.opened:
        services.flag_statistics_refresh()
    return outcome


_pause_lock = threading.Lock()
_pausing = 0  # checks running in this process with the collector paused
_collector_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a check. A check builds a tuple per claim
    (a million in a full sweep), and each few hundred new objects set the collector going
    through every object alive: at 1M claims that was three quarters of the time the rules
    take. The rows form no reference cycles, so reference counting frees them as usual; the
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


def sweep(
    *, today: datetime.date | None = None, keys: list[str] | None = None, progress=None
) -> SweepOutcome:
    """Check every partition (or ``keys``) in this process, one after another.

    A partition that fails is recorded on its state row and counted; the others still run.
    """
    today = today or timezone.localdate()
    outcome = SweepOutcome(today=today)
    with _collector_paused():  # for the whole sweep, not catching up between countries
        shared = selectors.Shared.for_sweep(today)
        for key in keys if keys is not None else selectors.partition_keys():
            try:
                result = partition_check(key, today=today, whole=True, shared=shared)
            except Exception as exc:
                logger.exception("check of partition %s failed", key)
                record_failure(key, exc)
                result = PartitionOutcome(key=key, error=f"{type(exc).__name__}: {exc}")
            outcome.partitions.append(result)
            if progress is not None:
                progress(result)
    return outcome
