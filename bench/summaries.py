"""Benchmark of building a compliance summary (issue "Compliance status and scheduled
summaries"): ``make bench-summaries``.

Loads 100,000 synthetic claims into PostgreSQL (the same generator as ``bench/checks.py``),
runs the checks once so there are flags, then builds the summary of a subscription covering
all 193 countries and the 5 obligations (status matrix, changes, flags, deadlines, reports,
chart, templates) ``--repeat`` times and prints the median time and the number of queries.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# A database of its own: the checks' benchmark may be running on the other.
os.environ.setdefault("BENCH_DB", "tracker_bench_summaries")

import checks as common


def measure(repeat: int) -> dict:
    from django.db import connection

    from reports import summaries
    from reports.models import Subscription, Summary
    from tracker import checks

    checks.sweep(today=common.TODAY)
    subscription, _ = Subscription.objects.get_or_create(name="Everything (bench)")
    end = common.TODAY - datetime.timedelta(days=1)
    start = end - datetime.timedelta(days=6)
    times, queries = [], []
    for _ in range(repeat):
        counter = common.QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            content = summaries.build(subscription, start, end, previous=None)
            unsaved = Summary(
                subscription=subscription, period_start=start, period_end=end, content=content
            )
            said = summaries.render(unsaved, language="en", sees=False)
            times.append(time.perf_counter() - started)
        queries.append(counter.count)
    return {
        "cells": len(content["statuses"]),
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "queries": sorted(set(queries)),
        "chart_kb": round(len(said.chart_png) / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        common.setup_django()
        print(json.dumps(measure(args.repeat)))
        return
    common.prepare_database()
    loaded = common.run_child("--child", "load", "--n", str(args.n), "--profile", "disputed")
    result = common.run_child_of(__file__, "--child", "--repeat", str(args.repeat))
    print(
        f"summary of {result['cells']} (country, obligation) pairs over {args.n:,} claims "
        f"(loaded in {loaded['load_s']} s): median {result['median_s']:.3f} s "
        f"(min {result['min_s']:.3f}, max {result['max_s']:.3f}, {args.repeat} runs), "
        f"queries per build {result['queries']}, chart {result['chart_kb']} KB"
    )


if __name__ == "__main__":
    main()
