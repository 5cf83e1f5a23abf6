"""Benchmark of the pages a monitor opens every day at a million claims (issue 32):
``make bench-pages``.

Loads ``--claims`` synthetic claims (default 1,000,000) into a PostgreSQL database of its own
with the check sweep benchmark's loader (``bench/checks.py``, the consistent profile), runs a
sweep (flags and kept statuses present, as on a live installation), then in a fresh process
times each page with Django's test client, logged in as a superuser: the median of ``--repeat``
requests (after one warm-up request) and the queries of one request. The reference is a plain
``ModelAdmin`` (no options) of the same claim table, registered on a throwaway ``AdminSite``.

An export is a streaming response: its *first* column is the time to the first rows (the
response and its first chunk), its *whole* time the full download; its peak memory is measured
once more on the whole table (every claim), as the process's peak resident memory while the
download is read (Linux's VmHWM, reset before).

    python bench/pages.py [--claims 1000000] [--repeat 7] [--reuse]

``--reuse`` keeps the database when it already holds ``--claims`` claims and a sweep (loading
1,000,000 takes several minutes); migrations are applied to it either way. ``BENCH_DB`` names
the database (default ``tracker_bench_pages``); ``BENCH_DATABASE_URL`` another server.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# A database of its own: the other benchmarks may be running on theirs.
os.environ.setdefault("BENCH_DB", "tracker_bench_pages")

import checks as common

TARGET_MS = 300
ADMIN_RATIO = 1.5
EXPORT_PEAK_MB = 200

# (label, URL); the admin's claim list is timed against a plain ModelAdmin's, their requests
# alternating.
ADMIN, REFERENCE = "admin claim list", "plain ModelAdmin (reference)"
PAGES = [
    ("dashboard", "/"),
    ("status API", "/api/status/"),
    ("admin claim list", "/admin/tracker/claim/"),
    ("plain ModelAdmin (reference)", "/plain-admin/tracker/claim/"),
    ("admin search", "/admin/tracker/claim/?q=China"),
    ("admin search, a Korean name", "/admin/tracker/claim/?q=%EC%A4%91%EA%B5%AD"),
    ("CSV export, China", "/claims/?country=CN&format=csv"),
    ("XLSX export, China", "/claims/?country=CN&format=xlsx"),
    ("claims, search", "/claims/?q=workers"),
    ("country page", "/countries/CN/"),
    ("claims", "/claims/"),
    ("claims, China", "/claims/?country=CN"),
    ("flags", "/flags/"),
    ("claims API, China", "/api/claims/?country=CN"),
    ("flags API", "/api/flags/"),
]
# The peak memory of an export: a CSV of every claim; a workbook of one country's claims (a
# workbook of a million rows takes some twenty minutes here: its memory is the same, openpyxl's
# write-only mode holding one row at a time).
WHOLE_EXPORTS = [
    ("CSV export, every claim", "/claims/?format=csv"),
    ("XLSX export, China", "/claims/?country=CN&format=xlsx"),
]


# --------------------------------------------------------------------------------------------
# In the child: Django set up on the benchmark's database
# --------------------------------------------------------------------------------------------


def _bench_urlconf() -> str:
    """The project's URLs plus a plain ``ModelAdmin`` of the claims under /plain-admin/."""
    from django.contrib import admin
    from django.urls import path

    from config import urls
    from tracker.models import Claim

    class PlainClaimAdmin(admin.ModelAdmin):
        # Django's own template (the project's, admin/tracker/claim/, links its import view).
        change_list_template = "admin/change_list.html"

    plain = admin.AdminSite(name="plain-admin")
    plain.register(Claim, PlainClaimAdmin)
    module = types.ModuleType("bench_pages_urls")
    module.urlpatterns = [path("plain-admin/", plain.urls), *urls.urlpatterns]
    sys.modules[module.__name__] = module
    return module.__name__


def _client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(
        username="bench-pages", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    return client


def _consume(response) -> tuple[int, float]:
    """Read a response whole: (bytes, seconds to its first chunk after the call returned)."""
    if not response.streaming:
        return len(response.content), 0.0
    size, first = 0, None
    started = time.perf_counter()
    for chunk in response.streaming_content:
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
    return size, first or 0.0


def _first_chunk(response) -> None:
    """Read the first chunk of a streaming response, then close it (a download abandoned)."""
    if response.streaming:
        next(iter(response.streaming_content), None)
        response.close()


def time_pair(client, url: str, reference: str, repeat: int) -> tuple[dict, dict]:
    """A page and its reference, their requests alternating (this machine's speed drifts
    within minutes: a ratio of two pages timed a minute apart measures the drift too)."""
    from django.db import connection

    def once(address: str) -> tuple[float, int, int]:
        counter = common.QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            response = client.get(address)
            size = len(response.content)
            seconds = time.perf_counter() - started
        return seconds, counter.count, size

    once(url), once(reference)  # warm-up
    runs: dict[str, list] = {url: [], reference: []}
    for _ in range(repeat):
        for address in (url, reference):
            runs[address].append(once(address))
    return tuple(
        {
            "median_ms": statistics.median(r[0] for r in runs[address]) * 1000,
            "queries": sorted({r[1] for r in runs[address]}),
            "kb": round(runs[address][0][2] / 1024),
            "streaming": False,
        }
        for address in (url, reference)
    )


def time_page(client, url: str, repeat: int) -> dict:
    from django.db import connection

    def once(whole: bool) -> tuple[float, float, int, int]:
        counter = common.QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
            if whole:
                size, _ = _consume(response)
                first = whole_s = time.perf_counter() - started
            else:
                _first_chunk(response)
                first = time.perf_counter() - started
                whole_s, size = 0.0, 0
            if whole and response.streaming:
                first = 0.0  # measured by the runs that stop at the first chunk
        return first, whole_s, counter.count, size

    probe = client.get(url)  # warm-up (caches, the first compiled queries)
    streaming, from_file = probe.streaming, hasattr(probe, "file_to_stream")
    _consume(probe)
    if from_file:  # an XLSX: sent once written, its first byte comes with its last
        wholes = [once(True)]
        whole_ms = statistics.median(w[1] for w in wholes) * 1000
        return {
            "median_ms": whole_ms,
            "whole_ms": whole_ms,
            "queries": sorted({w[2] for w in wholes}),
            "kb": round(wholes[0][3] / 1024),
            "streaming": True,
        }
    if streaming:
        firsts = [once(False)[0] for _ in range(repeat)]
        wholes = [once(True) for _ in range(3)]
        return {
            "median_ms": statistics.median(firsts) * 1000,
            "whole_ms": statistics.median(w[1] for w in wholes) * 1000,
            "queries": sorted({w[2] for w in wholes}),
            "kb": round(wholes[0][3] / 1024),
            "streaming": True,
        }
    runs = [once(True) for _ in range(repeat)]
    return {
        "median_ms": statistics.median(r[1] for r in runs) * 1000,
        "queries": sorted({r[2] for r in runs}),
        "kb": round(runs[0][3] / 1024),
        "streaming": False,
    }


def _vm_hwm_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as refs:  # "5": reset the peak resident memory
        refs.write("5")


def export_memory(client, url: str) -> dict:
    import gc

    gc.collect()
    _reset_peak()
    rss_before = _vm_hwm_kb()
    started = time.perf_counter()
    response = client.get(url)
    size, _ = _consume(response)
    seconds = time.perf_counter() - started
    peak_rss = _vm_hwm_kb()
    return {
        "seconds": seconds,
        "mb": round(size / 2**20, 1),
        "rss_before_mb": round(rss_before / 1024),
        "peak_rss_mb": round(peak_rss / 1024),
        "streaming": response.streaming,
    }


def _progress(label: str, result: dict) -> None:
    """Each page as it is measured, for whoever follows a long run (``tail -f``)."""
    with open(common.BASE_DIR / "var" / "bench-pages-progress.txt", "a") as out:
        out.write(f"{time.strftime('%H:%M:%S')} {label}: {json.dumps(result)}\n")


def measure(repeat: int, only: str = "") -> dict:
    from django.conf import settings
    from django.test import override_settings

    from tracker.models import Claim

    storages = {**settings.STORAGES}
    storages["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(
        ROOT_URLCONF=_bench_urlconf(),
        ALLOWED_HOSTS=["testserver"],
        STORAGES=storages,
        LANGUAGE_CODE="en",
    ):
        client = _client()
        pages, exports = {}, {}
        reference = dict(PAGES)[REFERENCE]
        for label, url in PAGES:
            if label == REFERENCE or (only and only not in label):
                continue
            if label == ADMIN:
                ours, plain = time_pair(client, url, reference, repeat)
                pages[label], pages[REFERENCE] = {"url": url, **ours}, {"url": reference, **plain}
                _progress(REFERENCE, pages[REFERENCE])
            else:
                pages[label] = {"url": url, **time_page(client, url, repeat)}
            _progress(label, pages[label])
        if REFERENCE not in pages:
            pages[REFERENCE] = {"url": reference, **time_page(client, reference, repeat)}
        for label, url in [] if only else WHOLE_EXPORTS:
            exports[label] = {"url": url, **export_memory(client, url)}
            _progress(label, exports[label])
    return {"claims": Claim.objects.count(), "pages": pages, "exports": exports}


def sweep() -> dict:
    from tracker import checks

    started = time.perf_counter()
    outcome = checks.sweep(today=common.TODAY)
    if outcome.failed:
        raise SystemExit(f"failed partitions: {[p.error for p in outcome.failed]}")
    return {"sweep_s": round(time.perf_counter() - started, 1)}


def loaded(n: int) -> bool:
    """Whether the database holds ``n`` claims and a sweep's check states."""
    import psycopg

    try:
        with psycopg.connect(common.database_url()) as conn:
            claims = conn.execute("SELECT count(*) FROM tracker_claim").fetchone()[0]
            swept = conn.execute("SELECT count(*) FROM tracker_checkstate").fetchone()[0]
    except psycopg.Error:
        return False
    return claims == n and swept > 0


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument(
        "--only", default="", help="measure only the pages whose label holds this (and no export)"
    )
    parser.add_argument("--child", choices=["sweep", "measure"])
    args = parser.parse_args()
    if args.child:
        common.setup_django()
        print(json.dumps(sweep() if args.child == "sweep" else measure(args.repeat, args.only)))
        return

    reuse = args.reuse and loaded(args.claims)
    common.prepare_database()  # creates it if needed, applies the migrations
    if reuse:
        print(f"reusing {common.DB_NAME}: {args.claims:,} claims, swept", flush=True)
    else:
        load = common.run_child(
            "--child", "load", "--n", str(args.claims), "--profile", "consistent"
        )
        swept = common.run_child_of(__file__, "--child", "sweep")
        print(f"loaded {args.claims:,} claims in {load['load_s']} s, swept in {swept['sweep_s']} s")
    result = common.run_child_of(
        __file__, "--child", "measure", "--repeat", str(args.repeat), "--only", args.only
    )
    (common.BASE_DIR / "var" / "bench-pages-result.json").write_text(json.dumps(result))
    report(result, args.repeat)


def report(result: dict, repeat: int) -> None:
    pages = result["pages"]
    reference = pages[REFERENCE]["median_ms"]
    print(f"\n{result['claims']:,} claims; medians of {repeat} requests (test client, superuser)")
    print(f"{'page':<30} {'URL':<40} {'median':>9} {'whole':>9} {'queries':>8} {'KB':>7}  target")
    failed = []
    for label, page in pages.items():
        median = page["median_ms"]
        if label.startswith("plain"):
            ok, target = True, "the reference"
        elif label.startswith("admin claim list"):
            ok = median <= ADMIN_RATIO * reference and median < TARGET_MS
            target = f"<= {ADMIN_RATIO}x reference ({median / reference:.2f}x), < {TARGET_MS} ms"
        elif "xlsx" in page["url"]:
            ok, target = True, "none: a workbook is sent once written (its peak memory below)"
        elif page["streaming"]:
            ok = median < TARGET_MS
            target = f"first rows < {TARGET_MS} ms"
        else:
            ok = median < TARGET_MS
            target = f"< {TARGET_MS} ms"
        if not ok:
            failed.append(label)
        whole = f"{page['whole_ms']:>7.0f}ms" if page["streaming"] else f"{'':>9}"
        queries = ",".join(str(q) for q in page["queries"])
        print(
            f"{label:<30} {page['url']:<40} {median:>7.0f}ms {whole} {queries:>8} "
            f"{page['kb']:>7,}  {'ok' if ok else 'MISSED'} {target}"
        )
    print(f"\nexports, their peak memory (target < {EXPORT_PEAK_MB} MB)")
    for label, export in result["exports"].items():
        ok = export["peak_rss_mb"] < EXPORT_PEAK_MB and export["streaming"]
        if not ok:
            failed.append(label)
        print(
            f"{label:<30} {export['url']:<25} {export['seconds']:>6.1f} s "
            f"{export['mb']:>7} MB out, "
            f"peak RSS {export['peak_rss_mb']} MB (before {export['rss_before_mb']} MB), "
            f"{'streaming' if export['streaming'] else 'NOT streaming'}  "
            f"{'ok' if ok else 'MISSED'}"
        )
    print("\nevery target met" if not failed else f"\nmissed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
