"""Hostile spreadsheets, written part by part (a program such as openpyxl would take minutes
to write a million rows, and refuses to write most of these), and a probe that reads one in a
fresh process and reports the outcome, the time and the peak memory.

Used by tests/integration/test_hostile_input.py and bench/hostile_imports.py.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from tracker.imports import COLUMNS

BASE_DIR = Path(__file__).resolve().parent.parent
MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
SHEET_HEAD = DECLARATION + b'<worksheet xmlns="' + MAIN + b'"><sheetData>'
SHEET_TAIL = b"</sheetData></worksheet>"
_PARTS = {
    "[Content_Types].xml": DECLARATION
    + b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    b'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    b'worksheet+xml"/>%(strings)s</Types>',
    "_rels/.rels": DECLARATION
    + b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": DECLARATION + b'<workbook xmlns="' + MAIN + b'" xmlns:r="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="claims" '
    b'sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": DECLARATION
    + b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}
_STRINGS_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sharedStrings+xml"/>'
)


def xlsx(sheet: Iterable[bytes], strings: Iterable[bytes] | None = None) -> bytes:
    """A workbook of one sheet whose XML is the chunks of ``sheet``, and shared strings whose
    XML is the chunks of ``strings``; each part compressed as hard as deflate can."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in _PARTS.items():
            if name == "[Content_Types].xml":
                content = content % {b"strings": _STRINGS_TYPE if strings is not None else b""}
            archive.writestr(name, content)
        _stream(archive, "xl/worksheets/sheet1.xml", sheet)
        if strings is not None:
            _stream(archive, "xl/sharedStrings.xml", strings)
    return buffer.getvalue()


def _stream(archive: zipfile.ZipFile, name: str, chunks: Iterable[bytes]) -> None:
    with archive.open(name, "w", force_zip64=True) as part:
        for chunk in chunks:
            part.write(chunk)


def text(value: str | bytes) -> bytes:
    """An inline-string cell."""
    value = value.encode() if isinstance(value, str) else value
    return b'<c t="inlineStr"><is><t>' + value + b"</t></is></c>"


def header() -> bytes:
    return b'<row r="1">' + b"".join(text(column) for column in COLUMNS) + b"</row>"


def repeated(piece: bytes, times: int, batch: int = 10_000) -> Iterator[bytes]:
    """``piece`` ``times`` times, a batch of them at a time."""
    block = piece * batch
    for _ in range(times // batch):
        yield block
    yield piece * (times % batch)


def sheet(*rows: bytes | Iterable[bytes]) -> Iterator[bytes]:
    """The chunks of a sheet: the head, the header row, ``rows``, the tail."""
    yield SHEET_HEAD
    yield header()
    for row in rows:
        if isinstance(row, bytes):
            yield row
        else:
            yield from row
    yield SHEET_TAIL


# --- the three hostile workbooks of the issue, and their kin -----------------------------------


def million_rows() -> bytes:
    """1,000,000 rows of one number each (about 150 KB)."""
    return xlsx(sheet(repeated(b"<row><c><v>1</v></c></row>", 1_000_000)))


def empty_rows(count: int = 20_000_000) -> bytes:
    """The header, then ``count`` empty rows (about 120 KB for 20,000,000)."""
    return xlsx(sheet(repeated(b"<row/>", count)))


def huge_cell(megabytes: int = 300, *, runs: int = 1, shared: bool = False) -> bytes:
    """One cell of ``megabytes`` MB of text in row 2, inline or shared, in ``runs``
    rich-text runs (300 MB: about 310 KB)."""
    size = megabytes * 1_000_000 // runs
    if runs == 1:
        string = itertools.chain([b"<t>"], repeated(b"x", size, batch=1_000_000), [b"</t>"])
    else:
        string = repeated(b"<r><t>" + b"x" * size + b"</t></r>", runs, batch=1)
    if shared:
        head = DECLARATION + b'<sst xmlns="' + MAIN + b'"><si>'
        strings = itertools.chain([head], string, [b"</si></sst>"])
        return xlsx(sheet(b'<row r="2"><c t="s"><v>0</v></c></row>'), strings)
    return xlsx(sheet(b'<row r="2"><c t="inlineStr"><is>', string, b"</is></c></row>"))


HOSTILE: dict[str, Callable[[], bytes]] = {
    "1,000,000 rows": million_rows,
    "20,000,000 empty rows": empty_rows,
    "a 300 MB cell": huge_cell,
    "a 150 MB cell": lambda: huge_cell(150),
    "a 150 MB shared string": lambda: huge_cell(150, shared=True),
    "a 150 MB cell in 1,500 runs": lambda: huge_cell(150, runs=1500),
    "a 150 MB shared string in 1,500 runs": lambda: huge_cell(150, runs=1500, shared=True),
    "a row of 10,000,000 cells": lambda: xlsx(
        sheet(b'<row r="2">', repeated(b"<c/>", 10_000_000), b"</row>")
    ),
    "10,000,000 shared strings": lambda: xlsx(
        sheet(),
        [DECLARATION, b'<sst xmlns="' + MAIN + b'">', *repeated(b"<si/>", 10_000_000), b"</sst>"],
    ),
    "a row at 20,000,000": lambda: xlsx(sheet(b'<row r="20000000">' + text("x") + b"</row>")),
}
# The same as CSV files (``probe(path, "claims.csv")``).
CSV_HOSTILE: dict[str, Callable[[], bytes]] = {
    "a CSV of 1,000,000 rows": lambda: (",".join(COLUMNS) + "\n" + "x,\n" * 1_000_000).encode(),
    "a CSV of 19,000,000 empty lines": lambda: (",".join(COLUMNS) + "\n" * 19_000_000).encode(),
}
# Just within the bounds: the most a workbook may make openpyxl hold.
WITHIN_BOUNDS: dict[str, Callable[[], bytes]] = {
    "100,000 empty rows": lambda: empty_rows(100_000),
    "1,000,000 shared strings no cell shows": lambda: xlsx(
        sheet(b'<row r="2"><c t="s"><v>0</v></c></row>'),
        [DECLARATION, b'<sst xmlns="' + MAIN + b'">']
        + [
            b"".join(b"<si><t>%d</t></si>" % n for n in range(k, k + 10_000))
            for k in range(0, 1_000_000, 10_000)
        ]
        + [b"</sst>"],
    ),
}
# The most a file may be (about a minute to read, nearly all of it openpyxl's): for the bench.
REFERENCE: dict[str, Callable[[], bytes]] = {
    "100,000 rows of 23 filled cells": lambda: xlsx(
        sheet(repeated(b"<row>" + text("x") * len(COLUMNS) + b"</row>", 100_000))
    ),
}
GOOD_ROW = {
    "external_id": "H-1", "report_title": "NKDB survey", "publisher": "Radio Free Asia",
    "published_on": "2019-12-23", "claim_source": "NKDB", "source_kind": "ngo", "country": "CN",
    "stance": "violating", "measure": "workers", "count_low": "60000", "count_high": "60000",
    "as_of": "2019-12-23", "credibility": "2",
}  # fmt: skip


def small_workbook() -> bytes:
    """The header and one good row."""
    return xlsx(sheet(b"<row>" + b"".join(text(GOOD_ROW.get(c, "")) for c in COLUMNS) + b"</row>"))


def unpacked_size(path: Path) -> int:
    """The size a workbook's zip declares for its parts, added up."""
    with zipfile.ZipFile(path) as archive:
        return sum(member.file_size for member in archive.infolist())


# --- the probe ------------------------------------------------------------------------------

# The peak resident memory of this process since it started: getrusage's ru_maxrss, unless
# Linux's /proc says it (its VmHWM). On Linux, ru_maxrss keeps across exec the peak of the
# process that forked it (a test run's hundreds of MB); VmHWM is this program's own.
_PROBE = """
import json, re, resource, sys, time
import django


def peak_mb():
    try:
        with open("/proc/self/status") as status:
            return int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1)) / 1024
    except (OSError, AttributeError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


django.setup()
from tracker import imports

data = open(sys.argv[1], "rb").read()
before = peak_mb()
started = time.perf_counter()
try:
    rows = imports.read_rows(data, sys.argv[2])
    outcome = f"read {len(rows)} rows"
except imports.ImportFileError as error:
    outcome = str(error)
seconds = time.perf_counter() - started
print(json.dumps({"outcome": outcome, "seconds": seconds, "before_mb": before,
                  "peak_mb": peak_mb()}))
"""


def probe(path: Path, name: str = "claims.xlsx", **environment: str) -> dict:
    """Read the file at ``path`` as an upload named ``name`` in a fresh process: the outcome
    (the rows read, or the refusal), the seconds it took, and the process's peak resident
    memory (MB) before it read and at the end."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DJANGO_READ_DOT_ENV_FILE": "false",
        **environment,
    }
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path), name],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"the probe failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
