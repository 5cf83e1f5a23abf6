"""Benchmark of the spreadsheet import (issue "Evidence in and out"): ``make bench-import``.

Writes a CSV of ``--n`` claims (default 100,000: 20 countries, 300 sub-places, 50 sources,
1,000 reports) and imports it into PostgreSQL with ``manage.py importclaims`` twice: the first
run adds every claim, the second (same external ids, new counts) updates every claim. Then the
same claims are imported again through django-import-export (``bench/import_export_reference.py``:
a plain ``ModelResource`` in its bulk mode) as the reference, in the same run. Prints the wall
time of each, median of ``--repeat`` rounds, and the targets: adding 100,000 rows under 60 s
and at least 10x faster than the reference.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("BENCH_DB", "tracker_bench_imports")

import checks as common

HEADER = (
    "external_id,report_title,report_url,publisher,published_on,claim_source,source_kind,"
    "source_country,country,place,obligation,stance,measure,count_low,count_high,"
    "period_start,as_of,credibility,summary"
)
COUNTRIES = ["CN", "RU", "AE", "QA", "KW", "OM", "MN", "PL", "MY", "NG",
             "AO", "LA", "VN", "KH", "TH", "ID", "SG", "MM", "LY", "EG"]  # fmt: skip


def write_csv(path: Path, n: int, bump: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    places = [
        (iso, f"Region {i} > Province {i}" if i % 3 else f"Region {i}")
        for i, iso in enumerate(rng.choice(COUNTRIES) for _ in range(300))
    ]
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\n")
        for i in range(n):
            iso, place = rng.choice(places) if rng.random() < 0.6 else (rng.choice(COUNTRIES), "")
            report = rng.randrange(1000)
            low = rng.randrange(100, 90_000) + bump
            day = f"20{rng.randrange(17, 26)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}"
            out.write(
                f"B-{i},Report {report},https://example.org/{report},Publisher {report % 20},"
                f"2026-01-{report % 28 + 1:02d},Source {i % 50},ngo,,{iso},{place},UNSCR2397-OP8,"
                f"violating,workers,{low},{low},,{day},3,Synthetic row {i}\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--no-reference",
        dest="reference",
        action="store_false",
        help="skip django-import-export (the reference takes ten times as long as the import)",
    )
    args = parser.parse_args()
    common.prepare_database()
    env = common.child_env()
    env["TRACKER_IMPORT_MAX_BYTES"] = str(500_000_000)
    adds, updates, references = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeat):
            subprocess.run(
                [
                    sys.executable,
                    "manage.py",
                    "shell",
                    "-c",
                    "from tracker.models import Claim, Report; Claim.objects.filter("
                    "external_id__startswith='B-').delete(); Report.objects.filter("
                    "title__startswith='Report ').delete()",
                ],
                cwd=common.BASE_DIR,
                env=env,
                check=True,
            )
            for bump, times in ((0, adds), (1, updates)):
                path = Path(folder) / f"claims-{bump}.csv"
                write_csv(path, args.n, bump)
                started = time.perf_counter()
                subprocess.run(
                    [sys.executable, "manage.py", "importclaims", str(path)],
                    cwd=common.BASE_DIR, env=env, check=True, stdout=subprocess.DEVNULL,
                )  # fmt: skip
                times.append(time.perf_counter() - started)
            if not args.reference:
                continue
            reference = subprocess.run(
                [sys.executable, str(Path(__file__).with_name("import_export_reference.py"))],
                cwd=common.BASE_DIR, env=env, check=True, capture_output=True, text=True,
            )  # fmt: skip
            references.append(float(reference.stdout.rsplit("reference_seconds=", 1)[1]))
    add, update = statistics.median(adds), statistics.median(updates)
    if not references:
        print(f"import of {args.n:,} rows: adding {add:.1f} s, updating {update:.1f} s")
        return
    ref = statistics.median(references)
    print(
        f"import of {args.n:,} rows (median of {args.repeat}): adding {add:.1f} s, updating "
        f"{update:.1f} s (process start, reading, checking every row, writing with history)\n"
        f"django-import-export, plain ModelResource, bulk mode, same rows by id: {ref:.1f} s "
        f"(import_data only)\n"
        f"targets: adding under 60 s: {'met' if add < 60 else 'MISSED'} ({add:.1f} s); "
        f"at least 10x faster than the reference: {'met' if ref / add >= 10 else 'MISSED'} "
        f"({ref / add:.1f}x)"
    )


if __name__ == "__main__":
    main()
