"""Importing claims from CSV and XLSX: all or nothing, every error with its row and column."""

import csv
import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from tests.factories import ClaimFactory, ReportFactory, SourceFactory, country
from tracker import imports, selectors, spreadsheets, tasks
from tracker.models import CheckRequest, Claim, Place, Report, Source

pytestmark = pytest.mark.django_db

HEADER = (
    "external_id,report_title,report_url,publisher,published_on,claim_source,source_kind,"
    "source_country,country,place,obligation,stance,measure,count_low,count_high,"
    "period_start,as_of,credibility,summary"
)
GOOD = [
    "NK-1,NKDB survey,https://example.org/nkdb,Radio Free Asia,2019-12-23,NKDB,ngo,,CN,"
    "Northeast China > Liaoning > Dandong,UNSCR2397-OP8,violating,workers,60000,60000,,"
    "2019-12-23,2,Workers still in the three provinces",
    "NK-2,NKDB survey,https://example.org/nkdb,Radio Free Asia,2019-12-23,KITA,research,,CN,,"
    ",unclear,workers,70000,80000,,2019-08-31,3,",
    "NK-3,Statement,,Foreign Ministry,2019-12-20,Russian government,government,RU,RU,,"
    "UNSCR2397-OP8,complying,,,,,2019-12-20,4,",
]


def csv_bytes(*lines: str, bom: bool = False) -> bytes:
    text = "\n".join([HEADER, *lines]) + "\n"
    return ("\ufeff" if bom else "").encode() + text.encode()


def run(data: bytes, name: str = "claims.csv", **kwargs):
    rows = imports.read_rows(data, name)
    plan = imports.plan(rows)
    return plan, (imports.apply(plan, **kwargs) if plan.ok else None)


def test_a_csv_with_a_bom_lands_whole():
    plan, keys = run(csv_bytes(*GOOD, bom=True))
    assert plan.ok, plan.errors
    assert (len(plan.to_add), len(plan.new_reports), len(plan.new_places)) == (3, 2, 3)
    dandong = Place.objects.get(name="Dandong")
    assert dandong.name_path == "China > Northeast China > Liaoning > Dandong"
    claim = Claim.objects.get(external_id="NK-1")
    assert (claim.place, claim.count_low, claim.attributed_to.name) == (dandong, 60000, "NKDB")
    assert Claim.objects.get(external_id="NK-2").report == claim.report  # one report
    assert Source.objects.get(name="Russian government").country == country("RU")
    assert keys == {"CN", "RU"}


def test_an_empty_count_high_means_at_least():
    line = GOOD[1].replace(",70000,80000,", ",2000,,")
    run(csv_bytes(line))
    claim = Claim.objects.get(external_id="NK-2")
    assert (claim.count_low, claim.count_high) == (2000, None)


def test_an_xlsx_workbook_lands_like_the_csv():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    for line in GOOD:
        cells = line.split(",")
        cells[4] = datetime.date.fromisoformat(cells[4])  # a real date cell
        cells[13] = int(cells[13]) if cells[13] else None  # a real number cell
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    plan, _ = run(buffer.getvalue(), "claims.xlsx")
    assert plan.ok, plan.errors
    assert Claim.objects.get(external_id="NK-1").count_low == 60000
    assert Report.objects.get(title="Statement").published_on == datetime.date(2019, 12, 20)


def test_added_claims_are_stored_whole_with_their_history(editor):
    plan, _ = run(csv_bytes(*GOOD), user=editor)
    assert plan.ok
    stored = {c.external_id: c for c in Claim.objects.select_related("report", "place")}
    nk1 = stored["NK-1"]
    assert (nk1.count_low, nk1.as_of, nk1.credibility) == (60000, datetime.date(2019, 12, 23), 2)
    assert nk1.place.name == "Dandong" and nk1.report.title == "NKDB survey"
    assert nk1.created_at is not None and nk1.updated_at is not None
    for claim in stored.values():
        (version,) = claim.history.all()
        assert (version.history_type, version.history_user, version.count_low) == (
            "+",
            editor,
            claim.count_low,
        )
    # The table's id sequence moved past the ids the import drew: a claim saved next is new.
    later = ClaimFactory()
    assert later.pk not in {c.pk for c in stored.values()}


def test_reimporting_a_known_external_id_updates_it():
    run(csv_bytes(*GOOD))
    changed = GOOD[0].replace(",60000,60000,", ",65000,65000,")
    plan, _ = run(csv_bytes(changed))
    assert (len(plan.to_add), len(plan.to_update)) == (0, 1)
    assert Claim.objects.filter(external_id="NK-1").count() == 1
    claim = Claim.objects.get(external_id="NK-1")
    assert claim.count_low == 65000
    assert claim.history.count() == 2


@pytest.mark.parametrize(
    ("old", "new", "moved"),
    [
        ("NKDB survey,", "NKDB survey II,", lambda c: c.report.title == "NKDB survey II"),
        (",NKDB,ngo", ",NKDB Two,ngo", lambda c: c.attributed_to.name == "NKDB Two"),
        ("> Dandong,", "> Shenyang,", lambda c: c.place.name_path.endswith("Liaoning > Shenyang")),
    ],
    ids=["report", "source", "place"],
)
def test_reimporting_a_known_claim_into_a_new_report_source_or_place_moves_it(old, new, moved):
    """The report, source or place is new in this import, created before the claim is
    updated: the claim's row takes its id."""
    run(csv_bytes(*GOOD))
    plan, _ = run(csv_bytes(GOOD[0].replace(old, new)))
    assert plan.ok, plan.errors
    claim = Claim.objects.get(external_id="NK-1")
    assert moved(claim)
    assert claim.history.count() == 2


def test_sources_are_matched_by_name_whatever_the_case():
    SourceFactory(name="NKDB", kind="ngo")
    run(csv_bytes(GOOD[0].replace(",NKDB,", ",nkdb,")))
    assert Source.objects.filter(name__iexact="nkdb").count() == 1


@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        ((",60000,60000,", ",80000,70000,"), "count_high",
         "The upper bound (70,000) is below the lower bound (80,000)."),
        ((",CN,", ",XX,"), "country", "'XX' is not the ISO code of a UN member state, nor WORLD."),
        ((",2019-12-23,2,", ",23/12/2019,2,"), "as_of",
         "'23/12/2019' is not a date: write a day, a month or a year"),
        ((",violating,", ",maybe,"), "stance",
         "'maybe' is not one of complying, violating, partial, unclear."),
        ((",UNSCR2397-OP8,", ",OP9,"), "obligation", "'OP9' is not an obligation code"),
        ((",2019-12-23,2,", ",2019-12-23,9,"), "credibility", "Credibility 9 is not a grade"),
        ((",workers,60000", ",,60000"), "measure", "A count needs a measure"),
        ((",NKDB,ngo,", ",NKDB,government,"), "source_country",
         "A government source speaks for a state: choose its country."),
        ((",2019-12-23,2,", ",2099-01-01,2,"), "as_of", "in the future"),
        ((",Workers still", ",=HYPERLINK(\"http://x\")"), "summary",
         "begins with '=', which a spreadsheet would run as a formula"),
    ],
)  # fmt: skip
def test_a_bad_row_says_where_and_why_and_nothing_is_written(change, column, message):
    bad = GOOD[0].replace(*change)
    assert bad != GOOD[0]
    before = (Claim.objects.count(), Report.objects.count(), Source.objects.count())
    plan, _ = run(csv_bytes(GOOD[1], bad, GOOD[2]))
    assert not plan.ok
    assert [(e.row, e.column) for e in plan.errors] == [(3, column)]
    assert message in plan.errors[0].message
    assert (Claim.objects.count(), Report.objects.count(), Source.objects.count()) == before


def test_every_error_of_a_row_is_in_one_preview():
    """Seven problems in one row: one preview names them all, each once, in its column (on
    main, each upload showed one layer of them)."""
    bad = (
        GOOD[0]
        .replace("Radio Free Asia,2019-12-23,", "Radio Free Asia,23.12.2019,")
        .replace("https://example.org/nkdb", "not a web address")
        .replace(",CN,", ",XX,")
        .replace(",violating,", ",maybe,")
        .replace(",60000,60000,", ",80000,70000,")
        .replace(",2019-12-23,2,", ",2019-12-23,9,")
        .replace(",Workers still", ",=SUM(A1) workers")
    )
    plan, _ = run(csv_bytes(GOOD[1], bad))
    assert [(e.row, e.column) for e in plan.errors] == [
        (3, "summary"),
        (3, "published_on"),
        (3, "stance"),
        (3, "country"),
        (3, "report_url"),
        (3, "credibility"),
        (3, "count_high"),
    ]
    assert "'23.12.2019' is not a date" in plan.errors[1].message
    assert "The upper bound (70,000) is below the lower bound (80,000)." in plan.errors[6].message
    assert not Claim.objects.exists()


def test_an_error_is_said_once_not_again_by_what_rests_on_it():
    """A count that is not a number is not also a measure without a count; a country that is
    not one leaves its place unchecked; a wrong publisher leaves the report's title and URL
    checked."""
    line = (
        GOOD[0]
        .replace(",60000,60000,", ",6o,,")
        .replace(",CN,", ",XX,")
        .replace(",Radio Free Asia,", ",=Radio,")
        .replace("https://example.org/nkdb", "nowhere")
    )
    plan, _ = run(csv_bytes(line))
    assert [(e.column, e.message) for e in plan.errors] == [
        ("publisher", plan.errors[0].message),
        ("count_low", "'6o' is not a whole number of zero or more."),
        ("country", "'XX' is not the ISO code of a UN member state, nor WORLD."),
        ("report_url", "Enter a valid URL."),
    ]


def test_the_admin_preview_shows_every_error_of_a_row(editor_client):
    bad = GOOD[0].replace(",CN,", ",XX,").replace(",violating,", ",maybe,")
    text = upload(editor_client, csv_bytes(bad)).content.decode()
    assert "<tr><td>2</td><td>stance</td>" in text
    assert "<tr><td>2</td><td>country</td>" in text


# --- sources as the rows give them -------------------------------------------------------------


def full_csv(*rows: dict[str, str]) -> bytes:
    """A CSV with every column of imports.COLUMNS: each row GOOD[0] with ``rows``' changes."""
    lines = [",".join(good_cells(**changes)) for changes in rows]
    return "\n".join([",".join(imports.COLUMNS), *lines]).encode() + b"\n"


MINISTRY = {"publisher": "Ministry of Unification", "claim_source": "Ministry of Unification"}


def test_a_government_publisher_is_imported_with_its_country_and_grade():
    plan, _ = run(
        full_csv(
            {"publisher": "Ministry of Unification", "publisher_kind": "government",
             "publisher_country": "KR", "publisher_reliability": "B"}
        )
    )  # fmt: skip
    assert plan.ok, plan.errors
    ministry = Source.objects.get(name="Ministry of Unification")
    assert (ministry.kind, ministry.country.iso_code, ministry.reliability) == (
        "government",
        "KR",
        "B",
    )
    assert Claim.objects.get().report.publisher == ministry


def test_a_publisher_and_claim_source_of_one_name_are_one_source_as_the_row_says():
    """The ministry's own press release: on main the source was made a news outlet with no
    country, graded F, whatever the claim source's columns said."""
    plan, _ = run(
        full_csv(
            {**MINISTRY, "source_kind": "government", "source_country": "KR",
             "source_reliability": "B"}
        )
    )  # fmt: skip
    assert plan.ok, plan.errors
    ministry = Source.objects.get(name="Ministry of Unification")
    assert (ministry.kind, ministry.country.iso_code, ministry.reliability) == (
        "government",
        "KR",
        "B",
    )
    claim = Claim.objects.get()
    assert claim.attributed_to == claim.report.publisher == ministry
    assert Source.objects.count() == 1


def test_a_new_source_without_a_grade_is_graded_f():
    run(full_csv({}))
    assert Source.objects.get(name="NKDB").reliability == "F"


def test_one_row_giving_one_source_two_kinds_is_an_error():
    plan, _ = run(
        full_csv({**MINISTRY, "publisher_kind": "news", "source_kind": "government",
                  "source_country": "KR"})
    )  # fmt: skip
    assert [(e.column, e.message) for e in plan.errors] == [
        ("source_kind", "'Ministry of Unification' is given news in publisher_kind and "
         "government here: one source, one value."),
    ]  # fmt: skip
    assert not Source.objects.exists()


@pytest.mark.parametrize(
    ("changes", "column", "message"),
    [
        ({"source_kind": "research"}, "source_kind",
         "'NKDB' exists as a source of kind ngo, not research: correct the row, or the source "
         "in the admin first."),
        ({"source_country": "RU"}, "source_country",
         "'NKDB' exists with no country, not RU: correct the row, or the source in the admin "
         "first."),
        ({"source_reliability": "c"}, "source_reliability",
         "'NKDB' exists graded B, not C: correct the row, or the source in the admin first."),
        ({"publisher": "NKDB", "publisher_kind": "news", "claim_source": "KITA",
          "source_kind": "research"}, "publisher_kind",
         "'NKDB' exists as a source of kind ngo, not news"),
        ({"claim_source": "Russian government", "source_kind": "government",
          "source_country": "KP"}, "source_country",
         "'Russian government' exists with country RU, not KP"),
    ],
    ids=["kind", "no country", "grade", "as publisher", "country"],
)  # fmt: skip
def test_a_row_that_says_another_kind_country_or_grade_of_a_source_is_an_error(
    changes, column, message
):
    SourceFactory(name="NKDB", kind="ngo", reliability="B")
    SourceFactory(name="Russian government", kind="government", country=country("RU"))
    before = list(Source.objects.values_list("name", "kind", "country", "reliability"))
    plan, _ = run(full_csv(changes))
    assert [(e.row, e.column) for e in plan.errors] == [(2, column)]
    assert plan.errors[0].message.startswith(message)
    assert list(Source.objects.values_list("name", "kind", "country", "reliability")) == before
    assert not Claim.objects.exists()


def test_a_row_silent_on_a_source_takes_it_as_it_is():
    ministry = SourceFactory(name="Ministry of Unification", kind="government",
                             country=country("KR"), reliability="B")  # fmt: skip
    plan, _ = run(full_csv({**MINISTRY, "source_kind": "government"}))
    assert plan.ok, plan.errors
    assert Claim.objects.get().attributed_to == ministry


def test_a_source_made_by_one_row_and_named_otherwise_by_another_is_an_error():
    plan, _ = run(
        full_csv(
            {"claim_source": "KITA", "source_kind": "research"},
            {"external_id": "NK-2", "claim_source": "kita", "source_kind": "ngo"},
        )
    )
    assert [(e.row, e.column, e.message) for e in plan.errors] == [
        (3, "source_kind", "'KITA' is made by row 2 as a source of kind research, not ngo."),
    ]


def test_a_hidden_source_named_with_another_kind_is_only_a_source_you_may_not_use(editor):
    """Nothing is compared with a source hidden from the user: a comparison would tell its
    kind, country or grade."""
    SourceFactory(name="Informant Kim", kind="ngo", confidential=True, reliability="A")
    data = full_csv({"claim_source": "Informant Kim", "source_kind": "research",
                     "source_reliability": "C"})  # fmt: skip
    plan = imports.plan(imports.read_rows(data, "c.csv"), user=editor)
    assert [(e.column, e.message) for e in plan.errors] == [
        ("claim_source", "A source named 'Informant Kim' exists that you may not use.")
    ]


def test_a_duplicated_external_id_names_both_rows():
    plan, _ = run(csv_bytes(GOOD[0], GOOD[0]))
    assert [str(e) for e in plan.errors] == ["row 3, column external_id: 'NK-1' is also on row 2."]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (csv_bytes(*GOOD).decode().encode("utf-16"), "claims.csv", "is not a text CSV file"),
        ("Émile".encode("latin-1") + b",x\n", "claims.csv", "is not UTF-8 text"),
        (b"title,foo\nx,y\n", "claims.csv", "Unknown column(s) title, foo"),
        (b"external_id\nx\n", "claims.csv", "Missing required column(s): report_title"),
        (b"%PDF-1.4", "claims.pdf", "only .csv and .xlsx files can be imported"),
        (b"not a zip", "claims.xlsx", "is not an XLSX workbook"),
        (csv_bytes("x" * 200_000), "claims.csv", "Row 2:"),
    ],
)
def test_an_unreadable_file_is_refused_clearly(data, name, message):
    with pytest.raises(
        imports.ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        imports.read_rows(data, name)


def test_a_byte_that_is_not_utf8_is_named_wherever_it_is(settings):
    """The file is decoded a chunk at a time: the offset counts from its start, and a
    character cut by a chunk's end is no error."""
    settings.TRACKER_IMPORT_MAX_CELL = 100_000
    chunk = spreadsheets.CHUNK
    for odd in ("", "a"):  # one of the two cuts an 'é' in two at the chunk's end
        data = csv_bytes(GOOD[0].replace("Workers", odd + "é" * chunk))
        assert len(imports.read_rows(data, "claims.csv")) == 1
    with pytest.raises(imports.ImportFileError) as refused:
        imports.read_rows(b"a" * (chunk + 10) + b"\xff", "claims.csv")
    assert str(refused.value).startswith(f"The file is not UTF-8 text (byte {chunk + 10:,} is b")


def test_a_file_over_the_limit_is_refused(settings):
    settings.TRACKER_IMPORT_MAX_BYTES = 100
    with pytest.raises(imports.ImportFileError, match="the limit is 0 MB"):
        imports.read_rows(csv_bytes(*GOOD), "claims.csv")


# --- bounds: rows, cells, workbooks ----------------------------------------------------------


def xlsx_of(*rows: list[str], strings: list[str] | None = None) -> bytes:
    """A workbook of ``rows`` under the header (inline strings; with ``strings``, a shared
    strings table whose entries a cell shows as ``{s0}``, ``{s1}`` ...)."""
    from tests import hostile_files

    def cell(value: str) -> bytes:
        if value.startswith("{s") and value.endswith("}"):
            return b'<c t="s"><v>' + value[2:-1].encode() + b"</v></c>"
        return hostile_files.text(value) if value else b"<c/>"

    body = [b"<row>" + b"".join(cell(v) for v in row) + b"</row>" for row in rows]
    table = None
    if strings is not None:
        table = [hostile_files.DECLARATION, b'<sst xmlns="' + hostile_files.MAIN + b'">']
        table += [b"<si><t>" + value.encode() + b"</t></si>" for value in strings]
        table.append(b"</sst>")
    return hostile_files.xlsx(hostile_files.sheet(*body), table)


def good_cells(line: str = GOOD[0], **changes: str) -> list[str]:
    """A line of GOOD as cells in the order of imports.COLUMNS."""
    cells = dict(zip(HEADER.split(","), line.split(","), strict=True)) | changes
    return [cells.get(column, "") for column in imports.COLUMNS]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_file_over_the_row_limit_is_refused_naming_the_limit(settings, kind):
    settings.TRACKER_IMPORT_MAX_ROWS = 3
    lines = [GOOD[0].replace("NK-1", f"NK-{i}") for i in range(4)]
    data = csv_bytes(*lines) if kind == "csv" else xlsx_of(*map(good_cells, lines))
    with pytest.raises(imports.ImportFileError) as refused:
        imports.read_rows(data, f"claims.{kind}")
    assert str(refused.value) == (
        "The file has more rows than the limit of 3 below its header (row 5 is filled); "
        "split it and import each part."
    )
    assert len(imports.read_rows(csv_bytes(*lines[:3]), "claims.csv")) == 3  # at the limit


def test_empty_rows_below_the_last_claim_of_a_csv_do_not_count(settings):
    settings.TRACKER_IMPORT_MAX_ROWS = 4
    data = csv_bytes(GOOD[0], "", ",,,", GOOD[1]) + b"\n" * 100 + b",,,\n" * 100
    rows = imports.read_rows(data, "claims.csv")
    assert [bool(r) for r in rows] == [True, False, False, True]


def test_empty_rows_of_a_workbook_count_up_to_the_limit(settings):
    """openpyxl keeps an element for every row it passes: a workbook's rows are counted
    filled or not (a sheet written by a program ends at its last filled row)."""
    settings.TRACKER_IMPORT_MAX_ROWS = 3
    data = xlsx_of(good_cells(), [], [], [])
    with pytest.raises(imports.ImportFileError, match="empty rows count too"):
        imports.read_rows(data, "claims.xlsx")
    assert len(imports.read_rows(xlsx_of(good_cells(), [], []), "claims.xlsx")) == 1


@pytest.mark.parametrize(
    "data",
    [
        b"\n\n\n",
        b",,,\n ,\t, \n" * 50,
        b"\xef\xbb\xbf" + b"\r\n" * 10_000,
    ],
    ids=["blank lines", "empty cells", "BOM and blank lines"],
)
def test_a_csv_of_only_empty_rows_is_refused_as_empty(data):
    with pytest.raises(imports.ImportFileError, match=r"^The file is empty"):
        imports.read_rows(data, "claims.csv")


@pytest.mark.parametrize("rows", [[], [[], [], []], [["", " "]]], ids=["none", "empty", "blank"])
def test_a_workbook_of_only_empty_rows_is_refused_as_empty(rows):
    from tests import hostile_files

    body = [b"<row>" + b"".join(hostile_files.text(v) for v in row) + b"</row>" for row in rows]
    data = hostile_files.xlsx([hostile_files.SHEET_HEAD, *body, hostile_files.SHEET_TAIL])
    with pytest.raises(imports.ImportFileError, match=r"^The file is empty"):
        imports.read_rows(data, "claims.xlsx")


def test_a_header_without_rows_is_refused_as_empty():
    with pytest.raises(imports.ImportFileError, match=r"^The file is empty"):
        imports.read_rows(csv_bytes(), "claims.csv")


@pytest.mark.parametrize("shared", [False, True], ids=["inline", "shared string"])
def test_a_workbook_cell_over_the_cell_limit_is_refused_naming_its_row(shared):
    """The CSV's cell limit holds for a workbook: a 32,767-character summary (a spreadsheet
    program's longest cell) is refused, with its row."""
    summary = "s" * 32_767
    cells = good_cells(GOOD[1], summary="{s0}" if shared else summary)
    data = xlsx_of(good_cells(), cells, strings=[summary] if shared else None)
    with pytest.raises(imports.ImportFileError) as refused:
        imports.read_rows(data, "claims.xlsx")
    length = "32,767" if shared else "more than 10,000"
    assert str(refused.value) == f"Row 3: a cell of {length} characters; the limit is 10,000."


def test_a_workbook_cell_at_the_cell_limit_is_read(settings):
    settings.TRACKER_IMPORT_MAX_CELL = 3000
    cells = good_cells(summary="한" * 3000)  # three bytes each in the XML: characters count
    (row,) = imports.read_rows(xlsx_of(cells, strings=[]), "claims.xlsx")
    assert row["summary"] == "한" * 3000


def test_a_shared_string_over_the_limit_that_no_cell_shows_is_refused():
    data = xlsx_of(good_cells(summary="{s1}"), strings=["x" * 20_000, "short"])
    with pytest.raises(imports.ImportFileError, match="a text of 20,000 characters that no row"):
        imports.read_rows(data, "claims.xlsx")


def test_shared_strings_are_read_as_the_cells_they_fill():
    strings = ["NKDB survey", "Workers still in the three provinces"]
    data = xlsx_of(good_cells(report_title="{s0}", summary="{s1}"), strings=strings)
    plan, _ = run(data, "claims.xlsx")
    assert plan.ok, plan.errors
    claim = Claim.objects.get(external_id="NK-1")
    assert (claim.report.title, claim.summary) == tuple(strings)


def test_a_workbook_that_unpacks_past_ten_times_the_file_limit_is_refused(settings):
    settings.TRACKER_IMPORT_MAX_BYTES = 10_000
    data = xlsx_of(*[good_cells(summary="s" * 9_000)] * 20)
    assert len(data) < 10_000
    with pytest.raises(imports.ImportFileError, match=r"unpacks to 0.2 MB; the limit is 0.1 MB"):
        imports.read_rows(data, "claims.xlsx")


def test_a_workbook_that_understates_a_parts_size_is_unpacked_no_further():
    """The unpacked size is judged by what the zip declares: zipfile unpacks no more of a
    part than that, so a part that holds more ends cut short, and the workbook is refused."""
    import struct
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx_of(*[good_cells()] * 200)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():  # without the ZIP64 sizes the streamed parts have
            archive.writestr(name, source.read(name))
    data = bytearray(buffer.getvalue())
    at = 0
    while True:  # the sheet's entry in the central directory
        at = data.index(b"PK\x01\x02", at + 1)
        (length,) = struct.unpack_from("<H", data, at + 28)
        if data[at + 46 : at + 46 + length] == b"xl/worksheets/sheet1.xml":
            break
    struct.pack_into("<I", data, at + 24, 2_000)  # its uncompressed size
    with pytest.raises(imports.ImportFileError, match=r"^The workbook cannot be read"):
        imports.read_rows(bytes(data), "claims.xlsx")


@pytest.mark.parametrize(
    "xml",
    [
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>',
        b"<!-- a comment -->",
        b"<?php x ?>",
    ],
    ids=["doctype", "comment", "instruction"],
)
def test_xml_that_spreadsheet_programs_do_not_write_is_refused(xml):
    from tests import hostile_files

    head = hostile_files.SHEET_HEAD.replace(b"<worksheet", xml + b"<worksheet")
    data = hostile_files.xlsx([head, hostile_files.SHEET_TAIL])
    with pytest.raises(imports.ImportFileError, match="XML that spreadsheet programs do not"):
        imports.read_rows(data, "claims.xlsx")


def test_a_cdata_section_is_refused_but_the_same_text_escaped_is_read():
    from tests import hostile_files

    def workbook(summary: bytes) -> bytes:
        cells = [hostile_files.text(v) for v in good_cells()]
        cells[imports.COLUMNS.index("summary")] = hostile_files.text(summary)
        return hostile_files.xlsx(hostile_files.sheet(b"<row>" + b"".join(cells) + b"</row>"))

    with pytest.raises(imports.ImportFileError, match="CDATA section"):
        imports.read_rows(workbook(b"<![CDATA[x]]>"), "claims.xlsx")
    (row,) = imports.read_rows(workbook(b"&lt;![CDATA[x]]&gt;"), "claims.xlsx")
    assert row["summary"] == "<![CDATA[x]]>"


def test_checks_are_requested_once_per_country_not_per_row(
    monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(tasks.check_partition, "delay", lambda *args: sent.append(args))
    lines = [GOOD[0].replace("NK-1", f"NK-{i}") for i in range(10, 40)]
    with django_capture_on_commit_callbacks(execute=True):
        run(csv_bytes(*lines, GOOD[2]))
    assert sorted(sent) == [("CN",), ("RU",)]
    assert CheckRequest.objects.filter(key="CN").count() == 1


def test_a_claim_reimported_away_from_a_self_report_source_rechecks_that_state():
    """NK-9 was Russia's self-report about China: re-imported as KITA's, Russia's overdue
    reports are checked again, as China is."""
    line = (
        "NK-9,Statement,,Foreign Ministry,2019-12-20,{},{},{},CN,,UNSCR2397-OP8,complying,"
        ",,,,2019-12-20,4,"
    )
    run(csv_bytes(line.format("Russian Foreign Ministry", "self_report", "RU")))
    _, keys = run(csv_bytes(line.format("KITA", "research", "")))
    assert keys == {"CN", "RU"}


def test_importing_a_world_claim_rechecks_every_country():
    """The world's complying claims and counts are compared with every country's."""
    line = (
        "W-1,Panel report,,UN Panel,2019-12-20,Panel Alpha,research,,WORLD,,UNSCR2397-OP8,"
        "complying,,,,,2019-12-01,2,"
    )
    _, keys = run(csv_bytes(line))
    assert keys == set(selectors.partition_keys())


# --- an editor without the permission to see confidential material --------------------------


def test_an_editor_without_the_permission_changes_no_claim_hidden_from_them(editor):
    hidden = ClaimFactory(
        attributed_to=SourceFactory(name="Informant Kim", confidential=True),
        external_id="NK-1",
        count_low=5_000,
    )
    plan = imports.plan(imports.read_rows(csv_bytes(GOOD[0]), "c.csv"), user=editor)
    assert [(e.column, e.message) for e in plan.errors] == [
        ("external_id", "'NK-1' is the reference of a claim you may not change.")
    ]
    hidden.refresh_from_db()
    assert hidden.count_low == 5_000


@pytest.mark.parametrize("column", ["claim_source", "publisher"])
def test_an_editor_without_the_permission_cannot_use_a_confidential_source(editor, column):
    SourceFactory(name="Informant Kim", confidential=True)
    line = (
        GOOD[1].replace(",KITA,", ",Informant Kim,")
        if column == "claim_source"
        else (GOOD[1].replace(",Radio Free Asia,", ",Informant Kim,"))
    )
    plan = imports.plan(imports.read_rows(csv_bytes(line), "c.csv"), user=editor)
    assert [(e.column, e.message) for e in plan.errors] == [
        (column, "A source named 'Informant Kim' exists that you may not use.")
    ]


def test_an_editor_without_the_permission_puts_no_claim_into_a_hidden_report(editor):
    """A row naming a confidential report makes a report of its own."""
    hidden = ReportFactory(
        title="NKDB survey",
        url="https://example.org/nkdb",
        publisher=SourceFactory(name="Radio Free Asia", kind="news"),
        published_on=datetime.date(2019, 12, 23),
        confidential=True,
    )
    plan = imports.plan(imports.read_rows(csv_bytes(GOOD[1]), "c.csv"), user=editor)
    assert plan.ok, plan.errors
    imports.apply(plan, user=editor)
    claim = Claim.objects.get(external_id="NK-2")
    assert claim.report != hidden and not claim.report.confidential


def test_the_command_imports_and_reports(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_bytes(csv_bytes(*GOOD))
    out = io.StringIO()
    call_command("importclaims", str(path), "--dry-run", stdout=out)
    assert "3 claims to add" in out.getvalue() and not Claim.objects.exists()
    call_command("importclaims", str(path), stdout=out)
    assert Claim.objects.count() == 3
    assert "checks requested for 2 partition(s): CN, RU" in out.getvalue()


def test_the_command_lists_the_errors_and_writes_nothing(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_bytes(csv_bytes(GOOD[0].replace(",CN,", ",XX,")))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("importclaims", str(path), stdout=io.StringIO(), stderr=err)
    assert "row 2, column country" in err.getvalue()
    assert not Claim.objects.exists()


def test_existing_claims_are_untouched_by_a_failed_import():
    kept = ClaimFactory(external_id="NK-1", count_low=1)
    run(csv_bytes(GOOD[0].replace(",60000,60000,", ",5,4,")))
    kept.refresh_from_db()
    assert kept.count_low == 1


# --- the admin's two steps ----------------------------------------------------------------------


def upload(client, data: bytes, name: str = "claims.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/admin/tracker/claim/import/", {"file": SimpleUploadedFile(name, data, "text/csv")}
    )


def test_the_admin_previews_then_imports_on_confirmation(editor_client, editor):
    page = upload(editor_client, csv_bytes(*GOOD))
    assert page.status_code == 200
    text = page.content.decode()
    assert "3 claims to add" in text and "Dandong (city)" in text
    assert "Russian government (government, RU, F)" in text
    assert not Claim.objects.exists()  # a preview writes nothing
    token = page.context["token"]
    done = editor_client.post("/admin/tracker/claim/import/", {"token": token})
    assert done.status_code == 302
    assert Claim.objects.count() == 3
    assert Claim.objects.get(external_id="NK-1").history.first().history_user == editor
    again = editor_client.post("/admin/tracker/claim/import/", {"token": token})
    assert again.status_code == 302 and Claim.objects.count() == 3  # a token works once


def test_the_admin_preview_lists_every_error_and_offers_no_import(editor_client):
    page = upload(editor_client, csv_bytes(GOOD[0].replace(",CN,", ",XX,"), GOOD[1]))
    text = page.content.decode()
    assert "Nothing will be imported" in text
    assert "is not the ISO code of a UN member state" in text
    assert 'name="token"' not in text


def test_the_errors_are_capped_at_200_and_the_others_counted(editor_client, tmp_path):
    """A file of a million bad cells makes neither a million objects nor a page of them."""
    lines = [GOOD[0].replace("NK-1", f"NK-{i}").replace(",CN,", ",XX,") for i in range(250)]
    plan = imports.plan(imports.read_rows(csv_bytes(*lines), "c.csv"))
    assert (len(plan.errors), plan.more_errors, plan.error_count, plan.ok) == (200, 50, 250, False)
    assert [e.row for e in plan.errors] == list(range(2, 202))
    assert plan.summary().endswith("; 250 errors")
    page = upload(editor_client, csv_bytes(*lines)).content.decode()
    assert page.count("<tr><td>") == 200
    assert "… and 50 more errors." in page
    path = tmp_path / "claims.csv"
    path.write_bytes(csv_bytes(*lines))
    err = io.StringIO()
    with pytest.raises(CommandError, match="250 error"):
        call_command("importclaims", str(path), stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines()[-1] == "... and 50 more errors"


def test_the_admin_refuses_a_file_of_the_wrong_type(editor_client):
    page = upload(editor_client, b"%PDF", "claims.pdf")
    assert "Only .csv and .xlsx files can be imported." in page.content.decode()


def test_another_users_token_imports_nothing(editor_client, client):
    token = upload(editor_client, csv_bytes(*GOOD)).context["token"]
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="editor2", groups=["Editors"]))
    client.post("/admin/tracker/claim/import/", {"token": token})
    assert not Claim.objects.exists()


def test_a_viewer_cannot_import(viewer_client):
    assert viewer_client.get("/admin/tracker/claim/import/").status_code == 403
    assert upload(viewer_client, csv_bytes(*GOOD)).status_code == 403
    assert not Claim.objects.exists()


# --- exports ------------------------------------------------------------------------------------


def export(client, action: str, claims) -> bytes:
    response = client.post(
        "/admin/tracker/claim/",
        {"action": action, "_selected_action": [c.pk for c in claims]},
    )
    assert response.status_code == 200
    assert response.streaming  # an export of any size starts at once, in constant memory
    return b"".join(response.streaming_content)  # read whole, the response closes itself


def comparable() -> set[tuple]:
    return set(
        Claim.objects.values_list(
            "external_id", "report__title", "report__url", "report__publisher__name",
            "report__publisher__kind", "report__publisher__country__iso_code",
            "report__publisher__reliability", "report__published_on", "attributed_to__name",
            "attributed_to__kind", "attributed_to__country__iso_code",
            "attributed_to__reliability", "place__name_path", "obligation__code", "stance",
            "measure", "count_low", "count_high", "period_start", "as_of", "credibility",
            "summary",
        )
    )  # fmt: skip


@pytest.mark.parametrize(("action", "name"), [("export_csv", "x.csv"), ("export_xlsx", "x.xlsx")])
def test_an_export_imports_back_to_the_same_data(trusted_client, action, name):
    """Into an empty database too: the sources come back with their kinds, countries and
    grades (a government publisher among them)."""
    run(csv_bytes(*GOOD))
    run(
        full_csv(
            {"external_id": "NK-4", **MINISTRY, "source_kind": "government",
             "source_country": "KR", "source_reliability": "B"}
        )
    )  # fmt: skip
    Source.objects.filter(name="NKDB").update(reliability="A")
    before = comparable()
    assert len(before) == 4
    data = export(trusted_client, action, Claim.objects.all())
    Claim.objects.all().delete()
    Report.objects.all().delete()
    Source.objects.all().delete()
    plan, _ = run(data, name)
    assert plan.ok, plan.errors
    assert comparable() == before


def test_an_export_escapes_cells_a_spreadsheet_would_run(trusted_client):
    run(csv_bytes(*GOOD))
    Claim.objects.filter(external_id="NK-1").update(summary='=HYPERLINK("http://evil")')
    text = export(trusted_client, "export_csv", Claim.objects.all()).decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert ",=HYPERLINK" not in text


def test_an_export_names_no_confidential_source_to_a_viewer(viewer_client, trusted_editor):
    from django.test import Client

    informant = SourceFactory(name="Canary Informant 7", confidential=True)
    ClaimFactory(attributed_to=informant, summary="what the informant saw")
    assert b"Canary" not in export(viewer_client, "export_csv", Claim.objects.all())
    assert "Canary" not in xlsx_text(export(viewer_client, "export_xlsx", Claim.objects.all()))
    text = export(viewer_client, "export_csv", Claim.objects.all()).decode("utf-8-sig")
    assert "confidential source" in text
    trusted = Client()
    trusted.force_login(trusted_editor)
    assert b"Canary" in export(trusted, "export_csv", Claim.objects.all())
    assert "Canary" in xlsx_text(export(trusted, "export_xlsx", Claim.objects.all()))


def test_an_export_gives_a_viewer_nothing_of_a_hidden_claims_publisher(viewer_client):
    publisher = SourceFactory(name="Canary Ministry", kind="government", country=country("KP"),
                              reliability="B", confidential=True)  # fmt: skip
    ClaimFactory(report=ReportFactory(publisher=publisher))
    text = export(viewer_client, "export_csv", Claim.objects.all()).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    cells = dict(zip(header, row, strict=True))
    assert header == list(imports.COLUMNS)
    assert (cells["publisher"], cells["publisher_kind"], cells["publisher_country"],
            cells["publisher_reliability"]) == ("confidential source", "", "", "")  # fmt: skip


def xlsx_text(data: bytes) -> str:
    """Every cell of a workbook (its bytes are compressed: searching them proves nothing)."""
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return " ".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row if v)


# --- the evidence dossier -----------------------------------------------------------------------


def test_the_dossier_holds_claims_flags_and_a_manifest_that_verifies(viewer_client):
    import hashlib
    import zipfile

    from tracker import checks
    from tracker.models import Obligation

    run(csv_bytes(*GOOD))
    informant = SourceFactory(name="Canary Informant 7", confidential=True)
    ClaimFactory(
        attributed_to=informant,
        obligation=Obligation.objects.get(code="UNSCR2397-OP8"),
        stance="complying",
        as_of=datetime.date(2019, 12, 24),
        measure="",
        count_low=None,
        count_high=None,
    )
    checks.sweep(today=datetime.date(2026, 11, 24), keys=["CN"])
    response = viewer_client.get(
        "/admin/tracker/claim/dossier/",
        {
            "country": country("CN").pk,
            "obligation": Obligation.objects.get(code="UNSCR2397-OP8").pk,
        },
    )
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == [
        "MANIFEST.sha256",
        "claims.csv",
        "dossier.html",
        "flags.csv",
    ]
    for line in archive.read("MANIFEST.sha256").decode().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest
    claims_csv = archive.read("claims.csv").decode("utf-8-sig")
    assert "NK-1" in claims_csv and "NK-3" not in claims_csv  # Russia's claim is not China's
    html = archive.read("dossier.html").decode()
    assert "Evidence dossier: China (CN), UNSCR2397-OP8" in html
    assert "stance_conflict" in archive.read("flags.csv").decode("utf-8-sig")
    for name in archive.namelist():
        assert b"Canary" not in archive.read(name)
