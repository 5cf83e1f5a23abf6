"""Benchmark of the full check sweep (issue "The checks"): ``make bench-checks``.

For each N it loads synthetic evidence with COPY into a PostgreSQL database of its own (the 193
member states of the reference data, a few thousand sub-places, 500 sources, N claims spread
over 2017-2026), then in fresh processes measures:

* ``floor``: one SELECT reading the sweep's columns of every claim, in the sweep's order, through
  the same ORM path the sweep uses (the sweep cannot beat reading its input once);
* ``cold``: a full sweep with no flags and no check states yet, as on a new installation
  (every finding is a new flag);
* ``warm``: the nightly case, the same sweep again (every flag refreshed, none new), three
  times, each followed by a floor again (the medians of each are reported: at 10,000 claims
  one sweep varied from 0.19 to 0.50 s in one process on this machine);
* ``warm in one process``: the same sweep once more with ``processes=1`` (the sweeps above
  check their batches in ``TRACKER_SWEEP_PROCESSES`` forked processes), with its SQL queries;
* the peak memory (ru_maxrss) of the measuring process and of the largest sweep worker, and
  (sampled by the driver) of all of them at once; after saving one new claim, the time of the
  check of its country (the incremental check a save enqueues);
* ``resolve``: a sweep after the count tolerance is widened to 50%, which resolves most
  conflicts, each with its reason.

The measuring processes run in ``--repeat`` rounds, each round measuring every N one after the
other; the medians are printed, and time(1M)/time(100k) round by round and its median (the
machine's speed drifts within minutes: a ratio of two measurements a quarter of an hour apart
measured the drift as much as the sweep). Usage:

    python bench/checks.py [--sizes 10000,100000,1000000] [--repeat 3]

The data is synthetic but shaped like real evidence: the claims about a place agree within the
tolerance, stances agree within a country, so the flags are a small fraction of the claims, as
they are in practice (``--profiles consistent``); ``disputed`` adds 0.2% outlier counts and
0.05% contrary stances.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("BENCH_DB", "tracker_bench")
DB_URL = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
TODAY = datetime.date(2026, 11, 24)
START, END = datetime.date(2017, 1, 1), datetime.date(2026, 11, 1)
SUB_PLACES, SOURCES = 3000, 500
SMALL_COUNT = 100  # counts under it are ranges: see load()
INNER = 3  # repeated sweeps (and floors) per measuring process: their medians are reported


def database_url(name: str = DB_NAME) -> str:
    """The URL of the benchmark's database ``name``, on the server of ``DB_URL``."""
    return DB_URL.rsplit("/", 1)[0] + "/" + name


def child_env(database: str = DB_NAME) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_READ_DOT_ENV_FILE="false",
        DATABASE_URL=database_url(database),
        BENCH_DB=database,  # the child's setup_django keeps to this database
        TRACKER_VAR_DIR=str(BASE_DIR / "var" / "bench"),
        REDIS_URL="",
        CELERY_BROKER_URL="memory://",
        CELERY_RESULT_BACKEND="cache+memory://",
        DJANGO_LOG_LEVEL="WARNING",
        DJANGO_DEBUG="false",  # DEBUG keeps every query in memory
    )
    return env


def setup_django() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.update(child_env())
    import django

    django.setup()


# --------------------------------------------------------------------------------------------
# Loading synthetic data
# --------------------------------------------------------------------------------------------


PROFILES = {
    # Sources agree within the tolerance; stances agree within a country.
    "consistent": {"outliers": 0.0, "flips": 0.0},
    # 0.2% of counts are 1.6-3 times the truth, 0.05% of stances contradict the country's.
    "disputed": {"outliers": 0.002, "flips": 0.0005},
}


def load(n: int, profile: str, seed: int = 2017) -> dict:
    from django.db import connection, transaction

    from tracker.models import Obligation, Place

    rng = random.Random(seed)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tracker_flag_claims, tracker_flagobligation, tracker_flagevent, "
            "tracker_flag, tracker_pairstatus, tracker_checkstate, tracker_checkrequest, "
            "tracker_claim, tracker_reportdocument, tracker_report, tracker_watch "
            "RESTART IDENTITY"
        )
        cursor.execute("DELETE FROM tracker_source")
        cursor.execute("DELETE FROM tracker_place WHERE kind NOT IN ('world', 'country')")
        world = Place.objects.get(kind="world")
        countries = list(Place.objects.filter(kind="country").order_by("iso_code"))
        next_id = _max_id(cursor, "tracker_place") + 1

        # Sub-places: most in a few dozen countries that host workers, two levels deep.
        weights = [1 / (rank + 1) ** 0.8 for rank in range(len(countries))]
        # The states known to host the most workers first, then the others in random order.
        known = ["CN", "RU", "AE", "QA", "KW", "OM", "MN", "PL", "MY", "NG", "AO", "LA", "VN"]
        hosts = sorted(countries, key=lambda c: (c.iso_code not in known, rng.random()))
        hosts.sort(key=lambda c: known.index(c.iso_code) if c.iso_code in known else len(known))
        places = []  # (id, name, kind, iso, path, name_path, parent_id)
        children: dict[int, list[int]] = {}
        for i in range(SUB_PLACES):
            if i < SUB_PLACES * 2 // 3 or not places:
                parent = rng.choices(hosts, weights)[0]
                parent_id, path, name_path = parent.id, parent.path, parent.name_path
            else:
                parent_id, _, _, _, path, name_path, _ = rng.choice(places[: SUB_PLACES // 2])
            pid = next_id + i
            places.append(
                (
                    pid,
                    f"Region {i}",
                    "region",
                    None,
                    f"{path}{pid}/",
                    f"{name_path} > Region {i}",
                    parent_id,
                )
            )
            children.setdefault(parent_id, []).append(pid)
        with cursor.copy(
            "COPY tracker_place (id, name, kind, iso_code, path, name_path, parent_id) FROM STDIN"
        ) as copy:
            for row in places:
                copy.write_row(row)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tracker_place', 'id'), "
            "(SELECT max(id) FROM tracker_place))"
        )

        # Sources: NGOs, newspapers, institutes, the UN, governments and their self-reports.
        kinds = ["ngo"] * 4 + ["news"] * 6 + ["research"] * 3 + ["un", "government", "self_report"]
        sources = []
        for i in range(SOURCES):
            kind = rng.choice(kinds)
            state = (
                rng.choices(hosts, weights)[0].id if kind in ("government", "self_report") else None
            )
            sources.append(
                (
                    i + 1,
                    f"Source {i}",
                    kind,
                    rng.choice("AABBBCCCDEF"),
                    rng.random() < 0.02,
                    "",
                    "",
                    state,
                )
            )
        with cursor.copy(
            "COPY tracker_source (id, name, kind, reliability, confidential, url, notes, "
            "country_id) FROM STDIN"
        ) as copy:
            for row in sources:
                copy.write_row(row)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tracker_source', 'id'), %s)", [SOURCES]
        )
        publishers = [s[0] for s in sources if s[2] in ("news", "ngo", "research", "un")]

        # Reports: about five claims each.
        now = datetime.datetime.now(datetime.UTC)
        n_reports = max(1, n // 5)
        report_dates = []
        with cursor.copy(
            "COPY tracker_report (id, title, url, published_on, language, notes, confidential, "
            "created_at, updated_at, publisher_id) FROM STDIN"
        ) as copy:
            for i in range(n_reports):
                day = _day(rng)
                report_dates.append(day)
                copy.write_row(
                    (
                        i + 1,
                        f"Report {i}",
                        "",
                        day,
                        "en",
                        "",
                        rng.random() < 0.01,
                        now,
                        now,
                        rng.choice(publishers),
                    )
                )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tracker_report', 'id'), %s)", [n_reports]
        )

        # Claims: per (place, measure) a true level that drifts; claims agree with it within a
        # few per cent (the disputed profile's outliers aside); a sub-place holds a share of its
        # parent's level. A count under SMALL_COUNT is a range, as sources give a few dozen
        # workers ("20-30"): as one figure, 9 and 10 are 11% apart, and such rounding made 95%
        # of the count conflicts, and most of the flags, of a consistent 1M sweep before
        # 2026-11-29.
        obligations = {o.code: o.id for o in Obligation.objects.all()}
        stance_of = {
            c.id: rng.choice(["violating", "violating", "complying", "partial", "unclear"])
            for c in countries
        }
        country_of = {c.id: c.id for c in countries}
        for pid, *_, parent_id in places:
            country_of[pid] = country_of[parent_id]
        level = {c.id: rng.lognormvariate(7.5, 1.5) for c in countries}
        for pid, *_, parent_id in places:
            level[pid] = level[parent_id] * rng.uniform(0.05, 0.3)
        level[world.id] = sum(level[c.id] for c in countries) * 1.5
        # A claim is about a state (its weight by rank): 40% about the state as a whole, 60%
        # about one of its sub-places, if it has any.
        subs: dict[int, list[int]] = {}
        for pid, *_, parent_id in places:
            subs.setdefault(country_of[parent_id], []).append(pid)
        states = rng.choices([c.id for c in hosts], weights, k=n)
        batch = [rng.choice(subs[s]) if s in subs and rng.random() < 0.6 else s for s in states]
        codes = ["UNSCR2397-OP8"] * 5 + ["UNSCR2371-OP11"] * 2 + ["UNSCR2375-OP17"] + [None] * 2
        measures = ["workers"] * 14 + ["work_permits"] * 3 + ["new_work_permits"] + [""] * 2
        span = (END - START).days
        with cursor.copy(
            "COPY tracker_claim (stance, measure, count_low, count_high, period_start, as_of, "
            "credibility, summary, external_id, created_at, updated_at, obligation_id, place_id, "
            "report_id, attributed_to_id) FROM STDIN"
        ) as copy:
            for i in range(n):
                place_id = world.id if rng.random() < 0.0005 else batch[i]
                report = rng.randrange(n_reports)
                as_of = min(report_dates[report], START + datetime.timedelta(rng.randrange(span)))
                measure = rng.choice(measures)
                low = high = period_start = None
                if measure in ("workers", "work_permits"):
                    years = (as_of - START).days / 365
                    value = level[place_id] * (1 - 0.05 * years)
                    if measure == "work_permits":
                        value *= 0.8
                    if rng.random() < PROFILES[profile]["outliers"]:
                        value *= rng.uniform(1.6, 3)
                    value *= rng.uniform(0.97, 1.03)
                    if value < SMALL_COUNT:
                        low, high = math.floor(value * 0.9), math.ceil(value * 1.1)
                    else:
                        low = round(value)
                        high = round(low * 1.05) if rng.random() < 0.3 else low
                code = rng.choice(codes)
                stance = stance_of[country_of.get(place_id, countries[0].id)]
                if measure == "new_work_permits":
                    # New permits after the ban are evidence of violating it (docs/design.md §2):
                    # none where the country's claims say it complies, or every such count
                    # would contradict them (27,756 of a consistent 1M sweep's flags did).
                    period_start = as_of - datetime.timedelta(days=90)
                    issued = stance != "complying" and rng.random() < 0.1
                    low = high = rng.randrange(1, 200) if issued else 0
                if rng.random() < PROFILES[profile]["flips"]:
                    stance = "complying" if stance == "violating" else "violating"
                copy.write_row(
                    (
                        stance if code else "unclear",
                        measure,
                        low,
                        high,
                        period_start,
                        as_of,
                        rng.choice((1, 2, 2, 3, 3, 3, 4, 5, 6)),
                        "",
                        None,
                        now,
                        now,
                        obligations[code] if code else None,
                        place_id,
                        report + 1,
                        rng.randrange(1, SOURCES + 1),
                    )
                )
    # What autovacuum does on a live server (it is off on some machines): statistics for the
    # planner, and the visibility map that lets index-only scans skip the table.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"n": n, "load_s": round(time.perf_counter() - started, 1)}


def _day(rng: random.Random) -> datetime.date:
    return START + datetime.timedelta(rng.randrange((END - START).days))


def _max_id(cursor, table: str) -> int:
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
    return cursor.fetchone()[0]


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measure() -> dict:
    from django.db import connection, transaction
    from django.test import override_settings

    from tracker import checks, selectors, services
    from tracker.models import Claim, Flag, Place

    with connection.cursor() as cursor:
        # A new installation: no flags, no check states (a first sweep counts its claims).
        cursor.execute(
            "TRUNCATE tracker_flag_claims, tracker_flagobligation, tracker_flagevent, "
            "tracker_flag, tracker_pairstatus, tracker_checkstate"
        )
        cursor.execute("DELETE FROM tracker_claim WHERE external_id LIKE 'BENCH-INC-%%'")
        cursor.execute("DELETE FROM tracker_checkrequest")
    rss_before = _rss_mb()

    def floor() -> tuple[float, int]:
        """One SELECT of the same columns, in the sweep's order, through the same path."""
        started = time.perf_counter()
        rows = 0
        queryset = (
            Claim.objects.filter(as_of__lte=TODAY)
            .order_by("place__path", "as_of", "id")
            .values_list(*selectors.CLAIM_COLUMNS)
        )
        for _ in queryset.iterator(chunk_size=5000):
            rows += 1
        return time.perf_counter() - started, rows

    floor_s, rows = floor()
    floors = [floor_s]
    started = time.perf_counter()
    cold = checks.sweep(today=TODAY)
    cold_s = time.perf_counter() - started
    if cold.failed:
        raise SystemExit(f"failed partitions: {[p.error for p in cold.failed]}")
    flags = Flag.objects.count()

    # The nightly case, the same sweep again: INNER times, each after a floor, so the floor
    # and the sweep are measured through the same moments of the machine's noise.
    warms = []
    for _ in range(INNER):
        started = time.perf_counter()
        warm = checks.sweep(today=TODAY)
        warms.append(time.perf_counter() - started)
        _unchanged(warm)
        floors.append(floor()[0])
    # Once more in this process alone, counting its queries (a worker's are not seen here).
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        alone = checks.sweep(today=TODAY, processes=1)
        alone_s = time.perf_counter() - started
    _unchanged(alone)

    # The incremental check: a monitor saves one claim in the busiest country (about the
    # country itself, the worst case, and about one of its provinces), which requests a
    # targeted check; the check is what the worker then runs.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT split_part(p.path, '/', 3)::bigint, count(*) FROM tracker_claim c "
            "JOIN tracker_place p ON p.id = c.place_id WHERE p.kind <> 'world' "
            "GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
        )
        top_id, in_busiest = cursor.fetchone()
    country = Place.objects.get(pk=top_id)
    busiest = country.iso_code
    incremental: dict[str, list[float]] = {"country": [], "province": []}
    for i in range(10):
        where = "country" if i % 2 == 0 else "province"
        near = {"place": country} if where == "country" else {"place__parent": country}
        template = Claim.objects.filter(measure="workers", **near).order_by("-as_of").first()
        template.pk = None
        template.external_id = f"BENCH-INC-{i}"
        # An estimate agreeing with the newest one (a typical save; an outlier would add one
        # flag per claim it contradicts, which is output, not the check's cost).
        template.count_high = template.count_low
        with transaction.atomic():
            template.save()
            services.checks_request_for(claims={(template.pk, template.place_id)})
        started = time.perf_counter()
        outcome = checks.partition_check(busiest, today=TODAY)
        incremental[where].append(time.perf_counter() - started)
        if not outcome.targeted:
            raise SystemExit("the incremental check was not targeted")

    # Many flags resolving at once: staff widen the count tolerance to 50%, and the next
    # sweep resolves most count and scope conflicts, each with its reason.
    with override_settings(TRACKER_COUNT_TOLERANCE=0.5):
        started = time.perf_counter()
        widened = checks.sweep(today=TODAY)
        resolve_s = time.perf_counter() - started
    if widened.failed:
        raise SystemExit(f"failed partitions: {[p.error for p in widened.failed]}")

    return {
        "claims": rows,
        "flags": flags,
        "floor_s": statistics.median(floors),
        "cold_s": cold_s,
        "warm_s": statistics.median(warms),
        "processes": warm.processes,
        "warm_alone_s": alone_s,
        "queries_warm": counter.count,
        "resolved": widened.total("resolved"),
        "resolve_s": resolve_s,
        "incr_country_s": statistics.median(incremental["country"]),
        "incr_province_s": statistics.median(incremental["province"]),
        "incremental_country": busiest,
        "incremental_claims": in_busiest,
        "rss_before_mb": rss_before,
        "peak_rss_mb": _rss_mb(),
        "worker_peak_rss_mb": _rss_mb(resource.RUSAGE_CHILDREN),
    }


def _unchanged(sweep) -> None:
    if sweep.failed:
        raise SystemExit(f"failed partitions: {[p.error for p in sweep.failed]}")
    if sweep.total("opened") or sweep.total("resolved"):
        raise SystemExit("a repeated sweep changed flags: the sweep is not idempotent")


def _rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory of this process, or of its largest child that has ended."""
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def run_child(*args: str, database: str = DB_NAME) -> dict:
    return run_child_of(__file__, *args, database=database)


def run_child_of(script: str, *args: str, database: str = DB_NAME) -> dict:
    """Run a measuring child; its JSON result, with ``tree_peak_mb``: the most memory the child
    and the processes it forked held at once (their proportional set sizes summed, shared
    pages counted once, sampled every 0.1 s)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            [sys.executable, script, *args],
            cwd=BASE_DIR,
            env=child_env(database),
            stdout=out,
            stderr=err,
            text=True,
        )
        peak_kb = 0
        while True:
            try:
                child.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                peak_kb = max(peak_kb, _tree_pss_kb(child.pid))
        out.seek(0), err.seek(0)
        if child.returncode:
            sys.exit(f"bench child {args} failed:\n{err.read()}")
        result = json.loads(out.read().strip().splitlines()[-1])
    result["tree_peak_mb"] = round(peak_kb / 1024, 1)
    return result


def _tree_pss_kb(pid: int) -> int:
    """The proportional set size of a process and its descendants, in kB (Linux); 0 for a
    process that has just ended."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            pss = next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            kids = [int(kid) for kid in children.read().split()]
    except (OSError, StopIteration, ValueError):
        return 0
    return pss + sum(_tree_pss_kb(kid) for kid in kids)


def prepare_database(name: str = DB_NAME) -> None:
    import psycopg

    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=child_env(name),
        check=True,
    )


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profiles", default="consistent,disputed")
    parser.add_argument("--child", choices=["load", "measure"])
    parser.add_argument("--n", type=int)
    parser.add_argument("--profile", default="disputed")
    args = parser.parse_args()

    if args.child:
        setup_django()
        out = load(args.n, args.profile) if args.child == "load" else measure()
        print(json.dumps(out))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    rounds: dict[tuple[str, int], list[dict]] = {}  # each measurement, by (profile, N)
    for profile in args.profiles.split(","):
        # Each size in a database of its own, all loaded first, then measured in rounds (each
        # round every size, one after the other): this machine's speed drifts by half within
        # minutes, and the ratio of two sizes is best taken from measurements minutes apart
        # at most, round by round, not from sizes measured a quarter of an hour apart.
        databases = {n: f"{DB_NAME}_{profile}_{n}" for n in sizes}
        loaded = {}
        for n, database in databases.items():
            prepare_database(database)
            loaded[n] = run_child(
                "--child", "load", "--n", str(n), "--profile", profile, database=database
            )
        runs: dict[int, list[dict]] = {n: [] for n in sizes}
        for _ in range(args.repeat):
            for n, database in databases.items():
                runs[n].append(run_child("--child", "measure", database=database))
        for n in sizes:
            med = {
                k: statistics.median(r[k] for r in runs[n])
                for k in runs[n][0]
                if isinstance(runs[n][0][k], int | float)
            }
            med.update(
                n=n,
                profile=profile,
                load_s=loaded[n]["load_s"],
                country=runs[n][0]["incremental_country"],
            )
            results.append(med)
            rounds[profile, n] = runs[n]
            print(_line(med), flush=True)
        for database in databases.values():
            drop_database(database)

    print("\nmedians of", args.repeat, "rounds; times in seconds, memory in MB (peak RSS)")
    print(
        f"{'profile':>10} {'N':>9} {'flags':>7} {'floor':>6} {'cold':>7} {'warm':>7} "
        f"{'warm/floor':>10} {'alone':>7} {'queries':>8} {'peak MB':>8} {'worker':>7} "
        f"{'all':>6} "
        f"{'resolved':>9} {'in':>6}  incremental: country / province"
    )
    for r in results:
        print(
            f"{r['profile']:>10} {r['n']:>9,} {r['flags']:>7,.0f} {r['floor_s']:>6.2f} "
            f"{r['cold_s']:>7.2f} {r['warm_s']:>7.2f} {r['warm_s'] / r['floor_s']:>10.1f} "
            f"{r['warm_alone_s']:>7.2f} {r['queries_warm']:>8,.0f} {r['peak_rss_mb']:>8.0f} "
            f"{r['worker_peak_rss_mb']:>7.0f} {r['tree_peak_mb']:>6.0f} "
            f"{r['resolved']:>9,.0f} {r['resolve_s']:>6.2f}  "
            f"{r['incr_country_s']:.3f} / {r['incr_province_s']:.3f} "
            f"({r['incremental_claims']:,.0f} claims in {r['country']})"
        )
    most = max(r["processes"] for r in results)
    print(
        f"cold, warm: the sweep in TRACKER_SWEEP_PROCESSES processes ({most:.0f} here, where "
        "a sweep has several batches); alone: in one process, with its queries; peak MB "
        "(RSS): the measuring process, the largest sweep worker, and all of them at once "
        "(PSS, sampled every 0.1 s)"
    )
    for profile in args.profiles.split(","):
        if (profile, 100_000) in rounds and (profile, 1_000_000) in rounds:
            # Round by round (1M measured right after 100k), then the median of the rounds;
            # the floor's own ratio (10 at a steady speed) shows how much the speed drifted.
            pairs = list(zip(rounds[profile, 1_000_000], rounds[profile, 100_000], strict=True))
            ratios = {
                name: [big[f"{name}_s"] / small[f"{name}_s"] for big, small in pairs]
                for name in ("cold", "warm", "floor")
            }
            each = "; ".join(
                f"{name} " + ", ".join(f"{ratio:.1f}" for ratio in values)
                for name, values in ratios.items()
            )
            cold, warm, floor = (statistics.median(ratios[n]) for n in ("cold", "warm", "floor"))
            print(
                f"{profile}: time(1M)/time(100k), median of {len(pairs)} rounds: cold "
                f"{cold:.1f}, warm {warm:.1f}, the floor's {floor:.1f} (by round: {each})"
            )


def _line(r: dict) -> str:
    return ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items())


if __name__ == "__main__":
    main()
