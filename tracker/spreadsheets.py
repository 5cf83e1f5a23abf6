"""Reading the spreadsheet a user uploads (CSV or XLSX) within bounds: a hostile file within the
byte limit is refused in seconds, with the memory of a small file, before anything reads it
whole. The rows come back as text, up to the last filled one; ``imports`` makes claims of them.

1. **CSV** is read twice, decoded as it is read: a first pass streams every row and keeps
   nothing (cell lengths, the row limit, where the last filled row is); the second keeps the
   rows up to it.
2. **XLSX** is a zip of XML parts. Before any part is unpacked, the sizes the zip declares for
   them are added up (``zipfile`` never unpacks a member past its declared size: a lie ends in
   a CRC error). Then every XML part is streamed once through expat with bounds (``_Scan``),
   keeping counters and never the text. Only then does openpyxl, in read-only mode, read the
   first sheet, up to its last filled row.

openpyxl's read-only mode alone would not do: it loads the shared strings whole, builds every
row and every text whole before it yields them, keeps each row element it has passed, reads a
whole sheet at load time when the sheet does not state its dimension first, and fills the gaps
that row numbers leave with empty rows.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import itertools
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext as _

SHEET_MAX_COLUMNS = 16_384  # the last column of a spreadsheet program (Excel, LibreOffice)
UNPACKED_PER_BYTE = 10  # a workbook unpacks to at most ten times the file limit
MAX_MEMBERS = 10_000  # parts of a workbook; one written by a program has a few dozen
MAX_DEPTH = 64  # elements nested in a part; spreadsheet programs write about ten
MAX_PART_ELEMENTS = 500_000  # elements of a part openpyxl reads whole (styles, workbook)
MAX_OUTSIDE_ELEMENTS = 50_000  # elements of a sheet outside its rows (columns, views)
ELEMENTS_PER_CELL = 4  # c and v; c, is and t; more with rich text
MAX_ROW_ELEMENTS = ELEMENTS_PER_CELL * SHEET_MAX_COLUMNS  # elements of one row
MAX_STRING_ELEMENTS = 1_000  # elements of one shared string: its rich-text runs
UNSHOWN_STRINGS = 1_000  # shared strings no cell shows (a program saves none, or a few)
CHUNK = 1 << 16

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main "
WORKSHEET, SST = _MAIN + "worksheet", _MAIN + "sst"
ROW, SI, IS, V, T = _MAIN + "row", _MAIN + "si", _MAIN + "is", _MAIN + "v", _MAIN + "t"
RPH, SHEET_DATA = _MAIN + "rPh", _MAIN + "sheetData"


class ImportFileError(ValueError):
    """The file as a whole cannot be read (type, size, encoding, header, bounds)."""


def row_limit() -> int:
    """The most rows below the header a file may fill (``TRACKER_IMPORT_MAX_ROWS``)."""
    return settings.TRACKER_IMPORT_MAX_ROWS


def read_table(data: bytes, filename: str, *, columns: int, texts_per_row: int) -> list[list[str]]:
    """The rows of a CSV (UTF-8, with or without BOM) or XLSX file (its first sheet), the
    header first, each a list of cells as text, up to the last row with a filled cell: at most
    ``TRACKER_IMPORT_MAX_ROWS`` rows below the header. ``columns``: the columns a row may use;
    ``texts_per_row``: how many of them may hold a text found on no other row (they bound the
    elements and the distinct texts a workbook may hold)."""
    limit = settings.TRACKER_IMPORT_MAX_BYTES
    if len(data) > limit:
        raise ImportFileError(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": f"{len(data) / 1e6:.1f}", "limit": f"{limit / 1e6:.0f}"}
        )
    name = filename.lower()
    if name.endswith(".xlsx"):
        if not data.startswith(b"PK"):
            raise ImportFileError(_("%(name)s is not an XLSX workbook.") % {"name": filename})
        return _xlsx_table(data, columns, texts_per_row)
    if name.endswith(".csv"):
        if data.startswith(b"PK") or b"\x00" in data[:4096]:
            raise ImportFileError(_("%(name)s is not a text CSV file.") % {"name": filename})
        return _csv_table(data)
    raise ImportFileError(
        _("%(name)s: only .csv and .xlsx files can be imported.") % {"name": filename}
    )


def _too_many_rows(row: int) -> ImportFileError:
    return ImportFileError(
        _(
            "The file has more rows than the limit of %(limit)s below its header (row "
            "%(row)s is filled); split it and import each part."
        )
        % {"limit": f"{row_limit():,}", "row": f"{row:,}"}
    )


def _cell_too_long(row: int, length: int) -> ImportFileError:
    return ImportFileError(
        _("Row %(row)s: a cell of %(length)s characters; the limit is %(limit)s.")
        % {"row": row, "length": f"{length:,}", "limit": f"{settings.TRACKER_IMPORT_MAX_CELL:,}"}
    )


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def _csv_table(data: bytes) -> list[list[str]]:
    _check_utf8(data)
    # The csv module stops at 128 KB a field with its own message; let it read up to the file
    # limit so that the cell limit answers, with the row.
    csv.field_size_limit(max(csv.field_size_limit(), settings.TRACKER_IMPORT_MAX_BYTES + 1))
    last = _csv_last_filled_row(_text(data))
    return list(itertools.islice(csv.reader(_text(data)), last))


def _text(data: bytes) -> io.TextIOWrapper:
    """The file as text, decoded as it is read: the whole of it decoded at once would take up
    to four times its size (a single character beyond U+FFFF makes every one four bytes)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def _check_utf8(data: bytes) -> None:
    """Refuse a file that is not UTF-8, saying where, decoding it a chunk at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(data) or 1, CHUNK):
        chunk = view[start : start + CHUNK]
        try:
            decoder.decode(chunk, final=start + CHUNK >= len(data))
        except UnicodeDecodeError as error:
            # The decoder prefixes the bytes it kept from the chunk before.
            offset = start - (len(error.object) - len(chunk)) + error.start
            raise ImportFileError(
                _(
                    "The file is not UTF-8 text (byte %(offset)s is %(byte)s); save it as "
                    "'CSV UTF-8' and try again."
                )
                % {"offset": f"{offset:,}", "byte": repr(data[offset : offset + 1])}
            ) from None


def _csv_last_filled_row(text: io.TextIOWrapper) -> int:
    """The number of the last row with a filled cell, checking every row on the way and
    keeping none: a cell over the limit, a filled row past the row limit."""
    max_cell, most = settings.TRACKER_IMPORT_MAX_CELL, row_limit() + 1
    reader = csv.reader(text)
    last = 0
    try:
        for number, row in enumerate(reader, start=1):
            if not row:
                continue
            longest = max(map(len, row))
            if longest > max_cell:
                raise _cell_too_long(reader.line_num, longest)
            if any(map(str.strip, row)):
                if number > most:
                    raise _too_many_rows(number)
                last = number
    except csv.Error as error:
        raise ImportFileError(
            _("Row %(row)s: not valid CSV (%(error)s).") % {"row": reader.line_num, "error": error}
        ) from None
    return last


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------


def _unreadable(error: object) -> ImportFileError:
    return ImportFileError(_("The workbook cannot be read: %(error)s.") % {"error": error})


def _xlsx_table(data: bytes, columns: int, texts_per_row: int) -> list[list[str]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError) as error:
        raise _unreadable(error) from None
    with archive:
        last_filled = _check_workbook(archive, columns, texts_per_row)
    return _read_first_sheet(data, last_filled)


@dataclass(frozen=True)
class _Bounds:
    max_cell: int  # characters of a cell's text
    max_run: int  # bytes between two tags
    most_rows: int  # rows a sheet may hold, the header and empty ones included
    max_elements: int  # elements of a sheet or of the shared strings
    max_strings: int  # shared strings


def _check_workbook(archive: zipfile.ZipFile, columns: int, texts_per_row: int) -> dict[str, int]:
    """Refuse a workbook that would take more than a small one's memory or a few seconds to
    read; return the last filled row of each sheet, by part name."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise _unreadable(_("it has %(count)s parts") % {"count": f"{len(members):,}"})
    unpacked = sum(member.file_size for member in members)
    limit = UNPACKED_PER_BYTE * settings.TRACKER_IMPORT_MAX_BYTES
    if unpacked > limit:
        raise ImportFileError(
            _(
                "The workbook unpacks to %(size)s MB; the limit is %(limit)s MB (ten times "
                "the limit of a file)."
            )
            % {"size": f"{unpacked / 1e6:,.1f}", "limit": f"{limit / 1e6:,.1f}"}
        )
    max_cell, rows = settings.TRACKER_IMPORT_MAX_CELL, row_limit() + 1
    bounds = _Bounds(
        max_cell=max_cell,
        # A character takes at most ten bytes in XML (a reference such as &#1114111;).
        max_run=10 * max_cell + 4096,
        most_rows=rows,
        # A cell is a few elements: c, v; or c, is, t; more with rich text.
        max_elements=rows * columns * ELEMENTS_PER_CELL,
        max_strings=rows * texts_per_row,
    )
    long_strings: dict[int, int] = {}
    last_filled: dict[str, int] = {}
    strings = string_cells = 0
    try:
        # The shared strings and the other parts first: a sheet's cell that shows a string
        # over the cell limit is then refused with its row.
        sheets = []
        for member in members:
            scan = _Scan(member.filename, bounds, long_strings)
            if scan.run(archive, member) is _SHEET:
                sheets.append(member)
            strings += scan.counted
        for member in sheets:
            scan = _Scan(member.filename, bounds, long_strings, sheet=True)
            scan.run(archive, member)
            last_filled[member.filename] = scan.last_filled
            string_cells += scan.counted
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as error:
        raise _unreadable(error) from None
    if strings > string_cells + UNSHOWN_STRINGS:
        # openpyxl loads every string, and slowly (a million take half a minute).
        raise ImportFileError(
            _(
                "The workbook holds %(strings)s texts but its cells show %(cells)s; save it "
                "again from a spreadsheet program, which keeps only the texts cells show."
            )
            % {"strings": f"{strings:,}", "cells": f"{string_cells:,}"}
        )
    for length in long_strings.values():
        # Shown by no row of any sheet, yet openpyxl would load it whole.
        raise ImportFileError(
            _(
                "The workbook holds a text of %(length)s characters that no row shows; the "
                "limit of a cell is %(limit)s."
            )
            % {"length": f"{length:,}", "limit": f"{max_cell:,}"}
        )
    return last_filled


def _read_first_sheet(data: bytes, last_filled: dict[str, int]) -> list[list[str]]:
    """The first sheet's rows as text, up to its last filled row, with openpyxl in read-only
    mode (the workbook has passed ``_check_workbook``)."""
    from openpyxl import load_workbook

    max_cell = settings.TRACKER_IMPORT_MAX_CELL
    rows = []
    try:
        with warnings.catch_warnings():
            # Unsupported extensions, a missing default style: what openpyxl warns about does
            # not change the values it reads.
            warnings.simplefilter("ignore")
            workbook = load_workbook(
                io.BytesIO(data), read_only=True, data_only=True, keep_links=False
            )
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # a stated dimension would pad every row up to it
            # openpyxl names no public attribute for the part a sheet is read from.
            last = last_filled.get(getattr(sheet, "_worksheet_path", ""), row_limit() + 1)
            values = sheet.iter_rows(values_only=True)
            for number, cells in enumerate(itertools.islice(values, last), start=1):
                row = [_xlsx_cell(value) for value in cells]
                longest = max(map(len, row), default=0)
                if longest > max_cell:
                    raise _cell_too_long(number, longest)
                rows.append(row)
            workbook.close()
    except ImportFileError:
        raise
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise _unreadable(error) from None
    return rows


def _xlsx_cell(value) -> str:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


_SHEET = object()  # what ``_Scan.run`` returns for a sheet met before the other parts


class _Sheet(Exception):  # a signal, not an error
    """A sheet met before every other part was scanned: it is scanned after them."""


class _Scan:
    """One XML part of a workbook streamed through expat, keeping counters and never the text,
    and refused at the first bound it passes:

    1. in its bytes, before expat sees them: no DOCTYPE, comment, CDATA section or processing
       instruction (expat would hold each whole; spreadsheet programs write none of them), and
       no run between two tags longer than a cell's text can take (expat would hold a tag, and
       openpyxl a text, whole);
    2. in every part: elements nested at most ``MAX_DEPTH`` deep;
    3. in a sheet (``_sheet_handlers``): no row past the row limit, filled or not (openpyxl
       keeps an element for each row it passes); at most ``MAX_ROW_ELEMENTS`` elements in a
       row; no cell with a text over the cell limit, nor one that shows such a shared string;
       at most ``MAX_OUTSIDE_ELEMENTS`` elements outside the rows before the sheet's data ends
       (openpyxl reads no further), and a few elements for each cell the row limit allows;
    4. in the shared strings (``_strings_handlers``): at most ``texts_per_row`` strings for each
       row the limit allows, and (``_check_workbook``) few more than the cells that show one
       (openpyxl reads each, slowly, and keeps it with an element), each of at most
       ``MAX_STRING_ELEMENTS`` elements (one over the cell limit is noted, and refused with the
       row of the first cell that shows it);
    5. in any other part: at most ``MAX_PART_ELEMENTS`` elements (openpyxl reads it whole).

    It finds rows, cells and strings where openpyxl does: a ``row`` or an ``si`` element at any
    depth, every child of a row a cell. Its handlers are closures over local counters: expat
    calls them for every element, which attribute lookups would make twice as slow.
    """

    def __init__(
        self,
        part: str,
        bounds: _Bounds,
        long_strings: dict[int, int],
        *,
        sheet: bool = False,
    ) -> None:
        self.part = part if len(part) <= 60 else part[:59] + "…"
        self.bounds = bounds
        self.long_strings = long_strings
        self.sheet = sheet
        self.last_filled = 0
        self.counted = 0  # in a sheet, the cells that show a shared string; else the strings
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.StartElementHandler = self._root
        self.parser = parser

    def run(self, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> object:
        """Stream the part through the checks; ``_SHEET`` for a sheet met too early."""
        max_run = self.bounds.max_run
        with archive.open(member) as stream:
            chunk = stream.read(CHUNK)
            head = chunk.lstrip(b"\xef\xbb\xbf \t\r\n")
            if head[:2] in (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<"):
                raise _unreadable(_("%(part)s is not UTF-8 XML") % {"part": self.part})
            if not head.startswith(b"<"):
                return None  # not XML (an image, a binary part): openpyxl does not parse it
            # The XML declaration is the one processing instruction allowed, at the start.
            instructions = 1 if head.startswith(b"<?xml") else 0
            run, last_byte = 0, b""
            try:
                while chunk:
                    first, *rest = chunk.split(b"<")
                    run += len(first)
                    if (max(run, *map(len, rest)) if rest else run) > max_run:
                        raise self.text_too_long()
                    if rest:
                        run = len(rest[-1])
                    joined = last_byte + chunk
                    instructions -= joined.count(b"<?")
                    if b"<!" in joined or instructions < 0:
                        raise ImportFileError(
                            _(
                                "The workbook holds XML that spreadsheet programs do not write "
                                "(a DOCTYPE, comment, CDATA section or processing instruction) "
                                "in %(part)s."
                            )
                            % {"part": self.part}
                        )
                    self.parser.Parse(chunk, False)
                    last_byte = chunk[-1:]
                    chunk = stream.read(CHUNK)
                self.parser.Parse(b"", True)
            except _Sheet:
                return _SHEET
            except expat.ExpatError as error:
                raise _unreadable(
                    _("%(error)s in %(part)s") % {"error": error, "part": self.part}
                ) from None
        return None

    def text_too_long(self) -> ImportFileError:
        return ImportFileError(
            _(
                "The workbook holds a text of more than %(limit)s characters; the limit of a "
                "cell is %(limit)s."
            )
            % {"limit": f"{self.bounds.max_cell:,}"}
        )

    def too_deep(self) -> ImportFileError:
        return ImportFileError(
            _(
                "The workbook's part %(part)s nests elements more than %(depth)s deep; no "
                "spreadsheet program writes that."
            )
            % {"part": self.part, "depth": MAX_DEPTH}
        )

    def too_many_elements(self, most: int) -> ImportFileError:
        return ImportFileError(
            _(
                "The workbook's part %(part)s holds more than %(count)s elements; no "
                "spreadsheet of claims needs that many."
            )
            % {"part": self.part, "count": f"{most:,}"}
        )

    def _root(self, name: str, attributes: dict) -> None:
        parser = self.parser
        if name == WORKSHEET:
            if not self.sheet:
                raise _Sheet
            handlers = _sheet_handlers(self)
            parser.CharacterDataHandler = handlers[2]
        elif name == SST:
            handlers = _strings_handlers(self)
            parser.CharacterDataHandler = handlers[2]
        else:
            handlers = _other_handlers(self)
        parser.StartElementHandler, parser.EndElementHandler = handlers[:2]


def _other_handlers(scan: _Scan) -> tuple:
    """A part openpyxl reads whole: its elements are counted."""
    depth, elements = 1, 0

    def start(name: str, attributes: dict) -> None:
        nonlocal depth, elements
        depth += 1
        elements += 1
        if depth > MAX_DEPTH:
            raise scan.too_deep()
        if elements > MAX_PART_ELEMENTS:
            raise scan.too_many_elements(MAX_PART_ELEMENTS)

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    return start, end


def _row_number(value: str) -> int:
    """A row's ``r`` attribute as openpyxl reads it."""
    try:
        return int(value)
    except ValueError:
        try:
            number = float(value)
        except ValueError:
            number = 0.5
        if not number.is_integer():
            raise _unreadable(
                _("%(number)s is not a row number") % {"number": repr(value[:20])}
            ) from None
        return int(number)


def _sheet_handlers(scan: _Scan) -> tuple:
    """A sheet: its rows, their cells and the text of each (see ``_Scan``)."""
    bounds, long_strings = scan.bounds, scan.long_strings
    max_cell, most_rows = bounds.max_cell, bounds.most_rows
    max_elements = bounds.max_elements
    depth, elements, outside, data_ended, string_cells = 1, 0, 0, False, 0
    rows = number = row = row_depth = row_elements = 0  # row: the number of the row being read
    filled = False
    cell_type, length, index = "n", 0, ""
    # The depth of the element whose text is counted (a value, a run), of the inline string
    # it belongs to, and of a phonetic run (not part of the text); 0 when there is none.
    counting = container = phonetic = 0

    def start(name: str, attributes: dict) -> None:
        nonlocal depth, elements, outside, rows, number, row, row_depth, row_elements, filled
        nonlocal cell_type, length, index, counting, container, phonetic, string_cells
        depth += 1
        elements += 1
        if depth > MAX_DEPTH:
            raise scan.too_deep()
        if elements > max_elements:
            raise scan.too_many_elements(max_elements)
        if row:
            row_elements += 1
            if row_elements > MAX_ROW_ELEMENTS:
                raise ImportFileError(
                    _("Row %(row)s has more cells than a spreadsheet program holds (%(count)s).")
                    % {"row": f"{row:,}", "count": f"{SHEET_MAX_COLUMNS:,}"}
                )
            below = depth - row_depth
            if below == 1:  # a cell: openpyxl reads every child of a row as one
                cell_type, length, index = attributes.get("t", "n"), 0, ""
                if cell_type == "s":
                    string_cells += 1
                    scan.counted = string_cells
            elif below == 2:
                if name == V:
                    counting = depth
                elif name == IS:
                    container = depth
            elif container and not phonetic:
                if name == T:
                    counting = depth
                elif name == RPH:
                    phonetic = depth
        elif name == ROW:
            rows += 1
            value = attributes.get("r")
            number = number + 1 if value is None else _row_number(value)
            row = number if number > 0 else -1  # a row numbered 0 or less is read too
            row_depth, row_elements, filled = depth, 0, False
        elif not data_ended:
            outside += 1
            if outside > MAX_OUTSIDE_ELEMENTS:
                raise scan.too_many_elements(MAX_OUTSIDE_ELEMENTS)

    def end(name: str) -> None:
        nonlocal depth, row, counting, container, phonetic, data_ended
        ended = depth
        depth -= 1
        if not row:
            if name == SHEET_DATA:
                data_ended = True
        elif ended == counting:
            counting = 0
        elif ended == phonetic:
            phonetic = 0
        elif ended == container:
            container = 0
        elif ended == row_depth + 1:
            if cell_type == "s" and index:
                position = index.strip()
                long = long_strings.get(int(position)) if position.isdigit() else None
                if long is not None:
                    raise _cell_too_long(row, long)
        elif ended == row_depth:
            if filled:
                if row > most_rows or rows > most_rows:
                    raise _too_many_rows(row)
                scan.last_filled = max(scan.last_filled, row)
            elif rows > most_rows:
                raise _too_many_sheet_rows(scan.last_filled)
            row = 0

    def text(data: str) -> None:
        nonlocal length, filled, index
        if not counting:
            return
        length += len(data)
        if length > max_cell:
            raise ImportFileError(
                _("Row %(row)s: a cell of more than %(limit)s characters; the limit is %(limit)s.")
                % {"row": f"{row:,}", "limit": f"{max_cell:,}"}
            )
        if not filled and not data.isspace():
            filled = True
        if cell_type == "s":
            index += data

    return start, end, text


def _too_many_sheet_rows(last_filled: int) -> ImportFileError:
    """A sheet goes on past the row limit, with rows so far empty below ``last_filled``."""
    if last_filled <= 1:  # a header at most
        return ImportFileError(
            _("The file is empty: it holds no claim in its first %(rows)s rows.")
            % {"rows": f"{row_limit() + 1:,}"}
        )
    return ImportFileError(
        _(
            "The file has more rows than the limit of %(limit)s below its header (empty rows "
            "count too); delete the rows below the last claim, or split the file."
        )
        % {"limit": f"{row_limit():,}"}
    )


def _strings_handlers(scan: _Scan) -> tuple:
    """The shared strings: how many, the elements and the length of each (see ``_Scan``)."""
    bounds, long_strings = scan.bounds, scan.long_strings
    max_cell, max_strings, max_elements = bounds.max_cell, bounds.max_strings, bounds.max_elements
    depth, elements, outside, strings, string_elements, length = 1, 0, 0, 0, 0, 0
    counting = container = phonetic = 0  # as in a sheet's inline strings

    def start(name: str, attributes: dict) -> None:
        nonlocal depth, elements, outside, strings, string_elements, length
        nonlocal counting, container, phonetic
        depth += 1
        elements += 1
        if depth > MAX_DEPTH:
            raise scan.too_deep()
        if elements > max_elements:
            raise scan.too_many_elements(max_elements)
        if container:
            string_elements += 1
            if string_elements > MAX_STRING_ELEMENTS:
                raise ImportFileError(
                    _("The workbook holds a text of more than %(count)s formatted runs.")
                    % {"count": f"{MAX_STRING_ELEMENTS:,}"}
                )
            if not phonetic:
                if name == T:
                    counting = depth
                elif name == RPH:
                    phonetic = depth
        elif name == SI:  # openpyxl takes an si at any depth for a string
            strings += 1
            if strings > max_strings:
                raise ImportFileError(
                    _(
                        "The workbook holds more than %(count)s different texts, more than "
                        "%(rows)s rows of claims can show."
                    )
                    % {"count": f"{max_strings:,}", "rows": f"{row_limit():,}"}
                )
            container, string_elements, length = depth, 0, 0
            scan.counted = strings
        else:  # openpyxl keeps every element outside a string to the end
            outside += 1
            if outside > MAX_OUTSIDE_ELEMENTS:
                raise scan.too_many_elements(MAX_OUTSIDE_ELEMENTS)

    def end(name: str) -> None:
        nonlocal depth, counting, container, phonetic
        ended = depth
        depth -= 1
        if ended == counting:
            counting = 0
        elif ended == phonetic:
            phonetic = 0
        elif ended == container:
            container = 0
            if length > max_cell:
                long_strings[strings - 1] = length

    def text(data: str) -> None:
        nonlocal length
        if counting:
            length += len(data)

    return start, end, text
