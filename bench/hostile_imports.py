"""Hostile spreadsheets against the import's bounds (issue "Confidential material stays hidden",
point 6): each workbook of ``tests/hostile_files.py`` is written to a temporary folder, then
read by ``imports.read_rows`` in a fresh process, which reports the outcome, the time and its
peak resident memory. Prints a Markdown table for bench/README.md.

    .venv/bin/python bench/hostile_imports.py [--with-reference] [NAME ...]

``--with-reference`` adds the most a file may be: 100,000 rows of 23 filled cells (about a
minute, nearly all of it openpyxl's). No database is needed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DJANGO_READ_DOT_ENV_FILE", "false")

import django  # noqa: E402

django.setup()

from tests import hostile_files  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="workbooks to measure (default: all)")
    parser.add_argument("--with-reference", action="store_true")
    args = parser.parse_args()
    factories = {**hostile_files.HOSTILE, **hostile_files.WITHIN_BOUNDS}
    if args.with_reference:
        factories.update(hostile_files.REFERENCE)
    names = args.names or list(factories)
    print("| workbook | file | unpacked | outcome | time | peak memory (before reading) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        names = ["one good row", *names]
        factories["one good row"] = hostile_files.small_workbook
        if not args.names:
            names += list(hostile_files.CSV_HOSTILE)
        factories.update(hostile_files.CSV_HOSTILE)
        for name in names:
            csv = name in hostile_files.CSV_HOSTILE
            path = Path(folder) / ("claims.csv" if csv else "claims.xlsx")
            path.write_bytes(factories[name]())
            result = hostile_files.probe(path, path.name)
            unpacked = path.stat().st_size if csv else hostile_files.unpacked_size(path)
            print(
                f"| {name} | {path.stat().st_size / 1e3:,.0f} KB "
                f"| {unpacked / 1e6:,.0f} MB | {result['outcome']} "
                f"| {result['seconds']:.2f} s | {result['peak_mb']:.0f} MB "
                f"({result['before_mb']:.0f}) |",
                flush=True,
            )


if __name__ == "__main__":
    main()
