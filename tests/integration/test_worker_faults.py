"""Faults of the background machinery, with real processes: a Celery worker SIGKILLed in the
middle of the full sweep, one pool process killed in the middle of a check, and the broker
(Redis) stopped while the web keeps taking reports.

Every process (a private redis-server on a free port, Celery workers, beat, gunicorn) runs
``config.settings.local`` against this run's *test* database; see ``procs.py``. The machine's
Redis on 6379 is never touched.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections import defaultdict

import pytest
import redis
from django.db import connection
from django.utils import timezone

from tests.integration.procs import (
    Procs,
    children,
    database_url,
    django_env,
    free_port,
    port_open,
    wait_for,
)
from tracker import checks, selectors
from tracker.models import CheckRequest, CheckState, Flag, FlagEvent

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    # The reference data (member states, obligations, groups, schedules) comes from the
    # migrations: restore it for the tests that run after these.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TODAY = datetime.date(2026, 11, 24)
# Synthetic evidence for the sweep test (bench/checks.py's generator, "consistent" profile):
# enough that a sweep on two worker processes takes a few seconds on this 2-core machine.
SWEEP_CLAIMS = 30_000


@pytest.fixture
def procs(tmp_path):
    started = Procs(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
        print(started.logs())  # shown by pytest only when the test failed


@pytest.fixture
def deployment_env(tmp_path):
    """Environment for a process of the deployment, given its private Redis's URL."""
    db_url = database_url(connection.settings_dict)

    def make(redis_url: str, **extra: str) -> dict:
        return django_env(
            database_url=db_url, redis_url=redis_url, var_dir=tmp_path / "var", **extra
        )

    return make


# --- helpers ---------------------------------------------------------------------------------


def flag_snapshot() -> list[tuple]:
    """Every flag as what a monitor sees of it: kind, fingerprint, status, severity, where, the
    claims it rests on (the fingerprint's ids and the linked rows) and its timeline's actions;
    not the timestamps."""
    linked: dict[int, list[int]] = defaultdict(list)
    for flag_id, claim_id in Flag.claims.through.objects.values_list("flag_id", "claim_id"):
        linked[flag_id].append(claim_id)
    events: dict[int, list[str]] = defaultdict(list)
    for flag_id, action in FlagEvent.objects.values_list("flag_id", "action"):
        events[flag_id].append(action)
    columns = ("kind", "fingerprint", "status", "severity", "subject", "place_id")
    rows = Flag.objects.values_list("id", "country_id", "claim_ids", "facts", *columns)
    return sorted(
        (
            *rest,
            country_id,
            tuple(sorted(ids)),
            tuple(sorted(linked[pk])),
            tuple(sorted(events[pk])),
            repr(facts),
        )
        for pk, country_id, ids, facts, *rest in rows
    )


def half_written(snapshot: list[tuple]) -> list[tuple]:
    """Flags whose linked claims are not the claims of their fingerprint, or with no 'opened'
    event: what a check interrupted between its writes would leave."""
    return [row for row in snapshot if row[7] != row[8] or "opened" not in row[9]]


def checked_partitions() -> set[str]:
    return set(
        CheckState.objects.filter(last_checked_at__isnull=False)
        .exclude(key="SWEEP")
        .values_list("key", flat=True)
    )


def unacked(broker: redis.Redis) -> dict[str, str]:
    """The messages a consumer took but did not acknowledge: delivery tag -> partition key."""
    held = {}
    for tag, raw in broker.hgetall("unacked").items():
        message = json.loads(raw)[0]
        args = json.loads(base64.b64decode(message["body"]))[0]
        held[tag.decode()] = args[0] if args else message["headers"]["task"]
    return held


def queued_keys(broker: redis.Redis) -> list[str]:
    """The partition keys of the messages waiting in the queue."""
    keys = []
    for raw in broker.lrange("celery", 0, -1):
        args = json.loads(base64.b64decode(json.loads(raw)["body"]))[0]
        keys.append(args[0] if args else "")
    return keys


def redeliver_expired(redis_url: str) -> None:
    """What any running worker's consumer does once the broker's ``visibility_timeout`` (35
    minutes in the settings) has passed since a message was taken and not acknowledged: put
    it back on its queue. Run here with the timeout at zero, as if that time had passed."""
    from kombu import Connection

    with Connection(redis_url, transport_options={"visibility_timeout": 0}) as conn:
        conn.default_channel.qos.restore_visible(num=1000)


def send(redis_url: str, task, *args) -> None:
    """Enqueue ``task`` on the private broker (this process's app points at another Redis)."""
    from config.celery_app import app

    with app.connection_for_write(redis_url) as conn:
        task.apply_async(args=args, connection=conn)


# --- a worker killed in the middle of the sweep ---------------------------------------------


def test_a_worker_killed_mid_sweep_leaves_exactly_the_flags_of_a_clean_sweep(procs, deployment_env):
    """SIGKILL a prefork worker (parent and pool children) while the nightly sweep's
    per-country checks run, then recover the way a deployment does, and compare the flags
    with a clean in-process sweep of the same evidence.

    What recovery takes, as the project is configured (found by this test):

    * each partition check is one transaction, so the checks the kill interrupted roll back:
      no half-written flag, no flag of an unfinished partition;
    * the restarted worker (docker-compose ``restart``, systemd) consumes the rest of the
      fan-out from Redis;
    * the messages the dead worker held (``acks_late``: taken, not acknowledged) stay in
      Redis's ``unacked`` set until the broker's ``visibility_timeout`` (35 minutes:
      ``CELERY_BROKER_TRANSPORT_OPTIONS``), and a message it had just popped from the queue
      but not yet recorded as unacknowledged is lost: kombu's Redis transport pops and records
      in two steps (RPOP, then ZADD/HSET ``unacked``; celery/kombu#305, celery/celery#7950).
      A second ``run_sweep`` is refused within ``SWEEP_MIN_INTERVAL`` of the first;
    * but the sweep left a whole-check request per partition, which each check deletes: the
      unchecked partitions' requests remain, and ``dispatch_pending_checks`` (every minute)
      enqueues them once they are 30 seconds old. The held messages, delivered again after the
      visibility timeout, change nothing. The test lets those times pass by backdating the
      requests and running kombu's own restore with the timeout at zero.

    The checks the dispatcher enqueues are as of the day they run, so this test's sweep is as
    of today.
    """
    from bench.checks import load as load_evidence
    from tracker import tasks

    # Evidence, and the oracle: a clean in-process sweep as of today.
    today = timezone.localdate()
    load_evidence(SWEEP_CLAIMS, "consistent")
    started = time.monotonic()
    clean_run = checks.sweep(today=today)
    clean_seconds = time.monotonic() - started
    assert not clean_run.failed
    clean = flag_snapshot()
    assert len(clean) > 300, f"too few flags to compare: {len(clean)}"
    assert not half_written(clean)
    keys = selectors.partition_keys()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tracker_flag_claims, tracker_flagevent, tracker_flag, tracker_checkstate"
        )

    redis_port = free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    procs.redis(redis_port)
    broker = redis.Redis(port=redis_port)
    env = deployment_env(redis_url)
    first = procs.worker(env, name="worker1")
    send(redis_url, tasks.run_sweep, today.isoformat())

    # Kill when a third of the partitions are checked.
    wait_for(
        lambda: len(checked_partitions()) >= len(keys) // 3 or not first.alive(),
        60,
        f"a third of the partitions checked; worker log:\n{first.log()}",
        interval=0.02,
    )
    first.kill()
    assert first.popen.returncode == -9
    done_at_kill = checked_partitions()
    held = unacked(broker)  # taken by the dead worker, never acknowledged
    queued = queued_keys(broker)
    lost = set(keys) - done_at_kill - set(held.values()) - set(queued)
    assert 0 < len(done_at_kill) < len(keys), "the kill did not land in the middle"
    assert queued
    assert 1 <= len(held) <= 2, held  # prefetch 1 x concurrency 2, acks_late
    assert len(lost) <= 1, lost  # popped, not yet recorded as unacked (kombu's window)
    # What the kill left: only whole partitions, nothing half-written.
    left = flag_snapshot()
    assert not half_written(left)
    flagged = set(
        Flag.objects.filter(country__isnull=False).values_list("country__iso_code", flat=True)
    )
    if Flag.objects.filter(country__isnull=True).exists():
        flagged.add(selectors.WORLD_KEY)
    assert flagged <= done_at_kill, "flags of a partition whose check did not commit"

    # The worker comes back (a supervisor restarts it) and consumes the rest of the fan-out.
    second = procs.worker(env, name="worker2")

    def drained() -> bool:
        return broker.llen("celery") == 0 and set(unacked(broker)) == set(held)

    wait_for(drained, 60, f"the queue drained; worker log:\n{second.log()}", interval=0.1)
    time.sleep(0.3)
    assert drained()
    missing = set(keys) - checked_partitions()
    # Only the partitions the dead worker held (or lost) are unchecked; their requests remain.
    assert missing <= set(held.values()) | lost, (missing, held, lost)
    assert set(CheckRequest.objects.values_list("key", flat=True)) == missing
    send(redis_url, tasks.run_sweep, today.isoformat())
    wait_for(
        lambda: "a sweep was dispatched less than" in second.log(1_000_000),
        30,
        f"the second sweep refused\n{second.log()}",
    )
    assert drained()
    assert set(keys) - checked_partitions() == missing

    # 30 seconds on, the dispatcher enqueues the requests left behind.
    CheckRequest.objects.update(requested_at=timezone.now() - datetime.timedelta(minutes=1))
    send(redis_url, tasks.dispatch_pending_checks)
    wait_for(
        lambda: checked_partitions() == set(keys) and not CheckRequest.objects.exists(),
        60,
        f"every partition checked; worker log:\n{second.log()}",
        interval=0.1,
    )
    # 35 minutes on, the held messages are delivered again: checked twice, the same flags.
    redeliver_expired(redis_url)
    wait_for(
        lambda: not unacked(broker) and not broker.llen("celery"),
        60,
        f"the held messages redelivered and run\n{second.log()}",
    )
    assert second.alive()
    assert not CheckState.objects.exclude(last_error="").exists()

    recovered = flag_snapshot()
    assert not half_written(recovered)
    assert len({row[1] for row in recovered}) == len(recovered)  # no duplicate fingerprint
    assert recovered == clean
    print(
        f"partitions: {len(keys)}, checked at the kill: {len(done_at_kill)}, held by the dead "
        f"worker: {sorted(held.values())}, lost: {sorted(lost)}, queued: {len(queued)}, "
        f"unchecked after the restart: "
        f"{sorted(missing)}; flags compared: {len(clean)}; clean sweep {clean_seconds:.1f} s"
    )


# --- one pool process killed in the middle of a check ---------------------------------------


def lock_waiters() -> int:
    """Backends of the test database waiting for a row lock (a check at its partition's lock)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_a_sweep_check_whose_pool_process_dies_is_delivered_again(procs, deployment_env):
    """The commoner crash: the kernel's OOM killer (or a segfault) kills the *pool process*
    running one country's check, not the whole worker. The main process replaces it.

    The sweep's check carries no ``CheckRequest`` (only saves write those), so the message is
    its only record: it must stay in the broker to be delivered again. With ``acks_late`` and
    Celery's default ``task_reject_on_worker_lost=False`` the worker acknowledges it instead
    (``WorkerLostError``): the country is not checked again until the next sweep, and its
    ``CheckState`` shows no error (``record_failure`` never ran). A check requested by a save
    survives the same crash: its ``CheckRequest`` row stays and the dispatcher re-enqueues it.
    """
    import psycopg

    from tests.factories import ClaimFactory, country
    from tracker import tasks

    ClaimFactory(place=country("CN"), count_low=50_000)
    ClaimFactory(place=country("CN"), count_low=80_000)
    CheckState.objects.create(key="CN")
    redis_port = free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    procs.redis(redis_port)
    broker = redis.Redis(port=redis_port)
    worker = procs.worker(deployment_env(redis_url), concurrency=1)

    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
    ) as blocker:
        # Hold CN's check at its lock, as a long check of a large country holds its process.
        blocker.execute("SELECT 1 FROM tracker_checkstate WHERE key = 'CN' FOR UPDATE")
        send(redis_url, tasks.check_partition, "CN", TODAY.isoformat(), True)  # as run_sweep
        wait_for(lambda: lock_waiters() > 0, 30, f"the CN check at its lock\n{worker.log()}")
        pool = children(worker.pid)
        assert pool, "no pool process"
        for pid in pool:
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: "WorkerLostError" in worker.log(100_000), 30, "the worker noticing")
        assert worker.alive()

        def in_broker() -> int:
            return broker.llen("celery") + broker.hlen("unacked")

        def fate() -> str:
            # Gone for good, not between the worker's pop from the queue and its entry in
            # "unacked" (two commands in kombu: a sample there once failed this test).
            if in_broker() == 0 and (time.sleep(1) or in_broker() == 0):
                return "acknowledged: gone from the broker, it will never run"
            # Delivered again to the new pool process, which waits at the lock too (beside
            # the dead one's backend, which waits until the lock is released).
            return "delivered again" if lock_waiters() >= 2 else ""

        outcome = wait_for(fate, 30, "the message acknowledged or delivered again")
        blocker.rollback()
    assert outcome == "delivered again"
    wait_for(
        lambda: CheckState.objects.filter(key="CN", last_checked_at__isnull=False).exists(),
        15,
        "CN checked",
    )
    assert Flag.objects.filter(kind="count_conflict", country=country("CN")).exists()


# --- the broker stopped and started again ----------------------------------------------------


def call(base: str, path: str, *, token: str = "", body: dict | None = None) -> tuple[int, dict]:
    """One HTTP request to the web process: (status, JSON answer)."""
    assert base.startswith("http://127.0.0.1:")
    request = urllib.request.Request(  # noqa: S310 (a loopback http URL, asserted above)
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"}
        | ({"Authorization": f"Token {token}"} if token else {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, {"body": raw[:500].decode(errors="replace")}


def post_report(base: str, token: str, title: str, claims: list[dict]) -> list[int]:
    """A report and its claims through the JSON API, as a monitor's script would; the ids of
    the claims. Every answer must be 201."""
    status, report = call(
        base,
        "/api/reports/",
        token=token,
        body={
            "title": title,
            "publisher": claims[0]["publisher"],
            "published_on": (timezone.localdate() - datetime.timedelta(days=30)).isoformat(),
        },
    )
    assert status == 201, report
    ids = []
    for claim in claims:
        body = {k: v for k, v in claim.items() if k != "publisher"}
        status, saved = call(
            base, "/api/claims/", token=token, body={**body, "report": report["id"]}
        )
        assert status == 201, saved
        ids.append(saved["id"])
    return ids


def conflict_claims(publisher, place, low: int, high: int) -> list[dict]:
    """Two estimates of workers in one place, from different sources, far apart."""
    from tests.factories import SourceFactory

    return [
        {
            "publisher": publisher.pk,
            "attributed_to": SourceFactory().pk,
            "place": place.pk,
            "stance": "unclear",
            "measure": "workers",
            "count_low": count,
            "count_high": count,
            "as_of": (timezone.localdate() - datetime.timedelta(days=60)).isoformat(),
            "credibility": 2,
        }
        for count in (low, high)
    ]


def test_the_web_keeps_reports_while_redis_is_down_and_their_checks_run_when_it_is_back(
    procs, deployment_env
):
    """Stop the private Redis (broker, results and cache of web, worker and beat) while a
    monitor posts reports through the API, then start it again on the same port, empty.

    During the outage every report and claim is saved (201): the enqueue after commit fails
    quietly and the ``CheckRequest`` rows written in the same transaction stay;
    ``/healthz`` answers 503 with the queue unavailable and the database ok.

    Recovery is the deployment's own: the worker reconnects by itself, and beat (with
    django-celery-beat's database scheduler, as in docker-compose) runs *Dispatch pending
    checks*, which enqueues every request older than ``PENDING_GRACE`` (30 s) again. The
    schedule is every minute in a deployment; this test sets it to every 2 seconds in the
    database (as staff would under *Periodic tasks*) so the wait is the grace, not the
    minute. The flags of the reports saved during the outage then appear, and they are
    exactly those a whole check of those countries leaves.
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask
    from rest_framework.authtoken.models import Token

    from tests.factories import SourceFactory, UserFactory, country
    from tracker import tasks
    from tracker.models import Claim, Report, Source

    every_2s, _ = IntervalSchedule.objects.get_or_create(every=2, period="seconds")
    PeriodicTask.objects.exclude(task="tracker.dispatch_pending_checks").update(enabled=False)
    assert PeriodicTask.objects.filter(task="tracker.dispatch_pending_checks").update(
        interval=every_2s, enabled=True
    )
    editor = UserFactory(username="api-editor", groups=["Editors"])
    token = Token.objects.create(user=editor).key
    publisher = SourceFactory(kind=Source.Kind.NEWS, name="Radio Free Asia")

    redis_port, web_port = free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    base = f"http://127.0.0.1:{web_port}"
    broker = procs.redis(redis_port)
    env = deployment_env(redis_url)
    beat = procs.beat(env)
    web = procs.gunicorn(env, web_port)
    worker = procs.worker(env, concurrency=1)
    wait_for(lambda: port_open(web_port) or not web.alive(), 30, "gunicorn listening")
    assert web.alive(), web.log()

    def conflict_in(iso: str, claim_ids: list[int]) -> bool:
        return Flag.objects.filter(
            kind="count_conflict", country=country(iso), claims__in=claim_ids
        ).exists()

    # Everything up: a report's flag appears through the worker, /healthz says ok.
    before = post_report(
        base, token, "Before", conflict_claims(publisher, country("CN"), 50_000, 80_000)
    )
    wait_for(lambda: conflict_in("CN", before), 30, f"the CN flag\n{worker.log()}", 0.1)
    wait_for(
        lambda: call(base, "/healthz")[0] == 200, 30, f"/healthz ok: {call(base, '/healthz')}", 0.2
    )

    # Redis stops.
    broker.kill()
    stopped = time.monotonic()
    outage = {
        "RU": conflict_claims(publisher, country("RU"), 30_000, 60_000),
        "MN": conflict_claims(publisher, country("MN"), 1_000, 3_000),
        "AE": conflict_claims(publisher, country("AE"), 5_000, 10_000),
        "QA": conflict_claims(publisher, country("QA"), 2_000, 4_000),
    }
    posted, slowest = {}, 0.0
    for iso, claims in outage.items():
        started = time.monotonic()
        posted[iso] = post_report(base, token, f"During the outage: {iso}", claims)
        slowest = max(slowest, (time.monotonic() - started) / (1 + len(claims)))
    assert web.alive()
    assert "it stays pending" in web.log(1_000_000), "the enqueue did not fail: is Redis down?"
    status, answer = call(base, "/api/reports/?page_size=10", token=token)
    assert status == 200
    assert {r["title"] for r in answer["results"]} >= {
        f"During the outage: {iso}" for iso in outage
    }
    assert Claim.objects.filter(pk__in=[i for ids in posted.values() for i in ids]).count() == 8
    # The durable record of the checks still to run.
    assert set(CheckRequest.objects.values_list("key", flat=True)) >= set(outage)
    status, health = call(base, "/healthz")
    assert status == 503, health
    assert health["status"] == "unavailable"
    assert health["checks"]["database"] == "ok"
    assert health["checks"]["queue"] == "unavailable"
    assert health["checks"]["beat"] in ("ok", "stale", "unavailable")
    assert not any(conflict_in(iso, ids) for iso, ids in posted.items())
    time.sleep(max(0.0, 3 - (time.monotonic() - stopped)))  # down for at least 3 s

    # Redis starts again, empty, on the same port.
    down_for = time.monotonic() - stopped
    procs.redis(redis_port, name="redis-again")
    restarted = time.monotonic()
    wait_for(
        lambda: all(conflict_in(iso, ids) for iso, ids in posted.items()),
        tasks.PENDING_GRACE.total_seconds() + 40,
        f"the flags of the reports saved during the outage\n{procs.logs()}",
        0.2,
    )
    recovered_in = time.monotonic() - restarted
    wait_for(
        lambda: not CheckRequest.objects.filter(key__in=outage).exists(), 20, "requests served"
    )
    wait_for(
        lambda: call(base, "/healthz")[0] == 200,
        30,
        f"/healthz ok again: {call(base, '/healthz')}",
        0.2,
    )
    status, health = call(base, "/healthz")
    assert health == {"status": "ok", "checks": {"database": "ok", "queue": "ok", "beat": "ok"}}
    assert web.alive() and worker.alive() and beat.alive(), procs.logs()
    assert Report.objects.filter(title__startswith="During the outage").count() == len(outage)

    # The targeted checks the dispatcher ran left what a whole check of each country leaves.
    for iso in ["CN", *outage]:
        again = checks.partition_check(iso, whole=True)
        assert (again.opened, again.reopened, again.resolved) == (0, 0, 0), (iso, again)
    flags = Flag.objects.filter(kind="count_conflict")
    assert flags.count() == 1 + len(outage)
    for flag in flags:
        assert sorted(flag.claim_ids) == sorted(flag.claims.values_list("pk", flat=True))
    print(
        f"reports posted during the outage: {len(outage)} ({2 * len(outage)} claims), slowest "
        f"request {slowest:.2f} s; Redis down {down_for:.1f} s; flags {recovered_in:.1f} s "
        "after Redis was back"
    )
