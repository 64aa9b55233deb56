"""Regression fixtures for the workbook hazards of issue 14 ("Every edition ICE ever published"), built in
``tmp_path`` by transforming a real shared workbook with zipfile, so none of ICE's files is committed.

The Detention sheet is read as a grid of cells, changed in Python (a table moved, repeated, retitled, a
label padded) and written back as a plain sheet XML of values (inline strings, no formulas, so no cached
value is missing). A stale sheet is added as a new part registered in workbook.xml, its rels and
[Content_Types].xml. Each test compares the hazard's parse with the untouched workbook's.
"""

from __future__ import annotations

import zipfile
from datetime import date
from functools import cache
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import fastexcel
import pytest
from helpers import shared_data_dir

from icetrack.domain.plausible import IngestPolicy
from icetrack.domain.edition import SourceError
from icetrack.sources.ice_detention import parse_workbook
from icetrack.sources.ice_detention.sheets import choose_detention, classify_sheet
from icetrack.sources.ice_detention.workbook import find_sheet

SHARED = shared_data_dir()
WORKBOOKS = SHARED / "ice-detention-stats" if SHARED else None
needs_data = pytest.mark.skipif(
    WORKBOOKS is None or not WORKBOOKS.is_dir(),
    reason="real ICE workbooks not found (set $ICETRACK_SHARED_DATA to the folder of real public source files)")

FY25 = "FY25_detentionStats12112024.xlsx"  # as of 2024-11-12: 39,080 detained, 40,658 removals
FY26 = "FY26_detentionStats02022026.xlsx"  # as of 2026-01-22: 70,766 detained
CURRENTLY_DETAINED = "ICE Currently Detained by Criminality and Arresting Agency"
BOOK_INS = "ICE Initial Book-Ins by Arresting Agency and Month"
ADP = "ICE Average Daily Population by Arresting Agency, Month and Criminality"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


# --- building fixtures --------------------------------------------------------------------------------

def _sheet_members(zf: zipfile.ZipFile) -> dict[str, str]:
    """{sheet name: zip member} from workbook.xml and its rels."""
    rels = {rel.get("Id"): rel.get("Target") for rel in ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))}
    book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    return {sheet.get("name"): "xl/" + rels[sheet.get(f"{{{REL_NS}}}id")].lstrip("/").removeprefix("xl/")
            for sheet in book.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet")}


def read_cells(path: Path, sheet: str) -> list[list]:
    """The sheet as rows of cells: a float, a string, or None for a blank."""
    reader = fastexcel.read_excel(str(path))
    texts = reader.load_sheet(sheet, header_row=None, dtypes="string", eager=True)
    numbers = reader.load_sheet(sheet, header_row=None, dtypes="float", eager=True)
    columns = [(texts.column(i).to_pylist(), numbers.column(i).to_pylist()) for i in range(texts.num_columns)]
    n_rows = len(columns[0][0]) if columns else 0
    return [[number if number is not None else (text or None)
             for text, number in ((t[r], n[r]) for t, n in columns)] for r in range(n_rows)]


def _ref(row: int, col: int) -> str:
    letters, col = "", col + 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def sheet_xml(cells: list[list]) -> bytes:
    rows = []
    for r, row in enumerate(cells):
        out = []
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                out.append(f'<c r="{_ref(r, c)}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>')
            else:
                out.append(f'<c r="{_ref(r, c)}"><v>{value!r}</v></c>')
        if out:
            rows.append(f'<row r="{r + 1}">{"".join(out)}</row>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData>{"".join(rows)}</sheetData></worksheet>').encode()


def rebuild(source: Path, target: Path, replace_sheets: dict[str, bytes] | None = None,
            rename: dict[str, str] | None = None, stale_first: tuple[str, bytes] | None = None) -> Path:
    """Copy a workbook, replacing sheets' XML, renaming sheets, or adding a sheet before all others."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        members = _sheet_members(zin)
        replaced = {members[name]: xml for name, xml in (replace_sheets or {}).items()}
        for info in zin.infolist():
            data = replaced.get(info.filename) or zin.read(info.filename)
            if info.filename == "xl/workbook.xml":
                for old, new in (rename or {}).items():
                    data = data.replace(f'name="{old}"'.encode(), f'name="{new}"'.encode())
                if stale_first:
                    data = data.replace(b"<sheets>", f'<sheets><sheet name="{stale_first[0]}" sheetId="999" '
                                                     f'r:id="rIdStale"/>'.encode())
            elif info.filename == "xl/_rels/workbook.xml.rels" and stale_first:
                data = data.replace(b"</Relationships>", f'<Relationship Id="rIdStale" Type="{REL_NS}/worksheet" '
                                                         'Target="worksheets/stale.xml"/></Relationships>'.encode())
            elif info.filename == "[Content_Types].xml" and stale_first:
                data = data.replace(b"</Types>", b'<Override PartName="/xl/worksheets/stale.xml" ContentType='
                                    b'"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                                    b"</Types>")
            zout.writestr(info, data)
        if stale_first:
            zout.writestr("xl/worksheets/stale.xml", stale_first[1])
    return target


def find_cell(cells: list[list], prefix: str) -> tuple[int, int]:
    return next((r, c) for r, row in enumerate(cells) for c, v in enumerate(row)
                if isinstance(v, str) and v.strip().startswith(prefix))


def replace_text(cells: list[list], old: str, new: str) -> list[list]:
    return [[v.replace(old, new) if isinstance(v, str) else v for v in row] for row in cells]


@cache
def _baseline(name: str):
    result = parse_workbook(WORKBOOKS / name)
    return result, _keyed(result)


def _keyed(result) -> dict[tuple, float]:
    return {(r["measure"], r["dims_key"], r["period_start"], r["grain"]): r["value"]
            for r in result.observations.to_pylist()}


def _detained_total(result) -> list[float]:
    return [r["value"] for r in result.observations.to_pylist()
            if r["measure"] == "currently_detained" and r["dims_key"] == "agency=Total|criminality=Total"]


# --- the sheet classifier (no data needed) -------------------------------------------------------------

@pytest.mark.parametrize("name, role, fiscal_year, end_of_year", [
    ("Detention FY26", "detention", 2026, False),
    ("Detention EOFY2020", "detention", 2020, True),
    ("Detention FY21 YTD", "detention", 2021, False),
    ("Facilities EOYFY20 ", "facilities", 2020, True),
    ("Facilities EOFY24", "facilities", 2024, True),
    ("ATD EOFY23 ", "atd", 2023, True),
    ("ATD FY24 YTD", "atd", 2024, False),
    ("Footnotes", "footnotes", None, False),
    ("Header", "header", None, False),
    (" ICLOS and Detainees", "iclos", None, False),
    ("FY26 Monthly Segregation", "segregation", 2026, False),
    ("Monthly Bond Statistics", "bonds", None, False),
    ("Vulnerable & Special Population", "vulnerable", None, False),
    ("Semiannual", "semiannual", None, False),
    ("Trans. Detainee Pop. FY22 YTD ", "transfers", 2022, False),
    ("Notes", "other", None, False),
])
def test_sheet_names_classified(name, role, fiscal_year, end_of_year):
    info = classify_sheet(name)
    assert (info.role, info.fiscal_year, info.end_of_year) == (role, fiscal_year, end_of_year)


def test_latest_fiscal_year_detention_sheet_is_chosen_whatever_the_order():
    names = ["Header", "ATD FY26 YTD", "Detention EOFY2020", "Detention FY26", "Facilities FY26"]
    assert choose_detention([classify_sheet(n) for n in names]).name == "Detention FY26"
    assert find_sheet(names, "detention") == "Detention FY26"
    assert find_sheet(["Detention EOFY2020"], "detention") == "Detention EOFY2020"
    assert find_sheet(["Header"], "detention") is None


# --- (a) a stale year-end sheet before the current one ---------------------------------------------------

@needs_data
def test_stale_eofy_sheet_first_is_skipped(tmp_path):
    source = WORKBOOKS / FY26
    cells = replace_text(read_cells(source, "Detention FY26"), "FY2026", "FY2020")
    row, col = find_cell(cells, "ICE Currently Detained by Criminality")
    total_row = next(r for r in range(row + 1, len(cells)) if cells[r][col] == "Total")
    assert cells[total_row][col + 5] == 70766  # Total column of the Total row in the FY26 original
    cells[total_row][col + 5] = 19068.0  # FY2020's year-end figure
    fixture = rebuild(source, tmp_path / FY26, stale_first=("Detention EOFY2020", sheet_xml(cells)))
    assert fastexcel.read_excel(str(fixture)).sheet_names[:2] == ["Detention EOFY2020", "Header"]

    result = parse_workbook(fixture)
    assert _detained_total(result) == [70766.0]
    assert 19068.0 not in result.observations.column("value").to_pylist()
    assert "sheet 'Detention EOFY2020' is FY2020's year-end re-post; not read as FY2026" in result.warnings
    assert result.edition.sheets_used[:2] == ("Detention FY26", "Facilities FY26")
    assert result.edition.sheets_skipped == ("sheet 'Detention EOFY2020' is FY2020's year-end re-post; "
                                             "not read as FY2026",)
    assert result.edition.title == "ICE detention statistics FY26"
    assert _keyed(result) == _baseline(FY26)[1]


# --- (b) the only detention sheet is another fiscal year's --------------------------------------------

@needs_data
def test_only_sheet_of_an_earlier_year_is_read_as_that_year(tmp_path):
    # An FY25 file whose only Detention sheet is FY2024's year-end (titles and name): its figures are
    # FY2024's, so they keep FY2024 periods; the snapshot, of an unknown day near that year's end, is not
    # dated at the file's as-of date; the FY25 Facilities sheet is not mixed in.
    source = WORKBOOKS / FY25
    cells = replace_text(read_cells(source, "Detention FY25"), "FY2025", "FY2024")
    fixture = rebuild(source, tmp_path / FY25, replace_sheets={"Detention FY25": sheet_xml(cells)},
                      rename={"Detention FY25": "Detention EOFY2024"})
    result = parse_workbook(fixture)
    edition = result.edition
    assert edition.title == "ICE detention statistics FY24" and edition.as_of == date(2024, 11, 12)
    assert "file name says FY25 but the workbook says FY2024; using FY2024" in result.warnings
    assert edition.sheets_used[0] == "Detention EOFY2024"
    assert not any(name.startswith("Facilities") for name in edition.sheets_used)
    assert edition.sheets_skipped == ("sheet 'Facilities FY25' is FY2025's sheet; not read as FY2024",)
    # The snapshot tables (national and the fear-decisions count) are not read from an earlier year's sheet.
    assert edition.missing_tables == (CURRENTLY_DETAINED, "ICE Currently Detained by Processing Disposition",
                                      "Aliens with USCIS-Established Fear Decisions in an ICE Detention Facility "
                                      "by Facility Type")
    rows = result.observations.to_pylist()
    assert not [r for r in rows if r["measure"].startswith(("currently_detained", "facility_"))]
    ice_oct = [r for r in rows if r["measure"] == "book_ins" and r["dims_key"] == "agency=ICE"
               and r["period_start"] == date(2023, 10, 1)]
    assert [r["value"] for r in ice_oct] == [8611.0]  # the sheet's October cell, dated in FY2024
    assert [r["period_end"] for r in rows if r["measure"] == "removals_fytd"] == [date(2024, 9, 30)]


@needs_data
def test_sheet_named_for_another_year_follows_its_content(tmp_path):
    source = WORKBOOKS / FY25
    fixture = rebuild(source, tmp_path / FY25, rename={"Detention FY25": "Detention EOFY2024"})
    result = parse_workbook(fixture)
    assert result.edition.title == "ICE detention statistics FY25"
    assert ("sheet 'Detention EOFY2024' is named FY2024 but its book-ins table says FY2025; read as FY2025"
            in result.warnings)
    assert result.edition.sheets_used[:2] == ("Detention EOFY2024", "Facilities FY25")
    assert _keyed(result) == _baseline(FY25)[1]


# --- (c) a table published twice ----------------------------------------------------------------------

def _adp_block(cells: list[list]) -> tuple[int, int]:
    """First and last row (exclusive) of the ADP table: title to the blank row after it."""
    start, col = find_cell(cells, "ICE Average Daily Population by Arresting")
    end = next(r for r in range(start + 2, len(cells)) if cells[r][col] is None)
    return start, end


@needs_data
@pytest.mark.parametrize("gap", [1, 0], ids=["after-a-blank-row", "stacked-directly"])
def test_second_adp_table_is_flagged_and_the_first_kept(tmp_path, gap):
    source = WORKBOOKS / FY25
    cells = read_cells(source, "Detention FY25")
    start, end = _adp_block(cells)
    copy = [[v * 2 if isinstance(v, float) else v for v in row] for row in cells[start:end]]
    blank = [[None] * len(cells[0]) for _ in range(gap)]
    cells[end:end] = blank + copy
    fixture = rebuild(source, tmp_path / FY25, replace_sheets={"Detention FY25": sheet_xml(cells)})
    result = parse_workbook(fixture)
    second = end + gap + 1
    assert result.edition.flagged_tables == (f"{ADP} (published twice: row {second})",)
    assert any(w.endswith(f"published twice (row {second}); the first copy is kept") for w in result.warnings)
    assert _keyed(result) == _baseline(FY25)[1]


@needs_data
def test_group_repeated_inside_one_table_keeps_the_first_values(tmp_path):
    # Rows of one agency group printed twice in the same table (no second title): the repeat is dropped.
    source = WORKBOOKS / FY25
    cells = read_cells(source, "Detention FY25")
    start, end = _adp_block(cells)
    cbp = [[v + 1 if isinstance(v, float) else v for v in row] for row in cells[start + 2:start + 6]]
    cells[end:end] = cbp
    fixture = rebuild(source, tmp_path / FY25, replace_sheets={"Detention FY25": sheet_xml(cells)})
    result = parse_workbook(fixture)
    assert result.edition.flagged_tables == (f"{ADP} (published twice: 12 repeated values)",)
    assert _keyed(result) == _baseline(FY25)[1]


# --- (d) padded agency labels --------------------------------------------------------------------------

@needs_data
def test_padded_agency_labels(tmp_path):
    source = WORKBOOKS / FY25
    cells = read_cells(source, "Detention FY25")
    row, col = find_cell(cells, "ICE Initial Book-Ins by Arresting Agency")
    for r in range(row + 2, row + 5):
        cells[r][col] = f"{cells[r][col]}   "  # "ICE   ", "CBP   ", "Total   "
    header_row, header_col = find_cell(cells, "ICE Currently Detained by Criminality")
    cells[header_row + 1][header_col + 1] = "  ICE   "
    fixture = rebuild(source, tmp_path / FY25, replace_sheets={"Detention FY25": sheet_xml(cells)})
    result = parse_workbook(fixture)
    assert not [w for w in result.warnings if "unrecognised" in w]
    assert _keyed(result) == _baseline(FY25)[1]


# --- (e) a table beside another ------------------------------------------------------------------------

@needs_data
def test_book_ins_beside_currently_detained_one_row_lower(tmp_path):
    # In this edition the book-ins table already sits right of the currently-detained table, title on the
    # same row. Moved one row down, the currently-detained title row has nothing to its right: its span
    # must end at the blank column, not take in the book-ins title and figures.
    source = WORKBOOKS / FY25
    cells = read_cells(source, "Detention FY25")
    row, col = find_cell(cells, "ICE Initial Book-Ins by Arresting Agency")
    assert find_cell(cells, "ICE Currently Detained by Criminality")[0] == row
    block = [cells[r][col:] for r in range(row, row + 5)]
    for r in range(row, row + 6):
        cells[r][col:] = block[r - row - 1] if r > row else [None] * len(block[0])
    fixture = rebuild(source, tmp_path / FY25, replace_sheets={"Detention FY25": sheet_xml(cells)})
    result = parse_workbook(fixture)
    assert not [w for w in result.warnings if "unrecognised" in w]
    assert _detained_total(result) == [39080.0]
    assert _keyed(result) == _baseline(FY25)[1]


# --- (f) a table's title removed -----------------------------------------------------------------------

@needs_data
@pytest.mark.parametrize("title, name, measure", [
    ("ICE Removals: FY2025", "ICE Removals: FYxx", "removals_fytd"),
    ("ICE Initial Book-Ins by Arresting Agency", BOOK_INS, "book_ins"),
    ("ICE Currently Detained by Criminality", CURRENTLY_DETAINED, "currently_detained"),
])
def test_required_table_title_removed_loads_the_rest(tmp_path, title, name, measure):
    source = WORKBOOKS / FY25
    cells = read_cells(source, "Detention FY25")
    row, col = find_cell(cells, title)
    cells[row][col] = None
    fixture = rebuild(source, tmp_path / FY25, replace_sheets={"Detention FY25": sheet_xml(cells)})
    result = parse_workbook(fixture)
    assert result.edition.missing_tables == (name,)
    assert f"table not found on sheet 'Detention FY25': {name}" in result.warnings
    assert result.edition.title == "ICE detention statistics FY25"  # from the sheet name without book-ins
    expected = {k: v for k, v in _baseline(FY25)[1].items() if k[0] != measure}
    assert _keyed(result) == expected


@needs_data
def test_unreadable_table_refuses_the_file_unless_partial(tmp_path):
    # The removals table without its "Total" row: its title matches, its body does not. Refused in one line
    # naming the table and the file; with --partial it is reported, nothing of it emitted, the rest loads.
    source = WORKBOOKS / FY25
    cells = read_cells(source, "Detention FY25")
    row, col = find_cell(cells, "ICE Removals: FY2025")
    assert cells[row + 2][col] == "Total"
    cells[row + 2][col] = "All removals"
    fixture = rebuild(source, tmp_path / FY25, replace_sheets={"Detention FY25": sheet_xml(cells)})
    with pytest.raises(SourceError) as err:
        parse_workbook(fixture)
    assert str(err.value) == (f"{FY25} [Detention FY25 / ICE Removals: FY2025]: table 'ICE Removals: FYxx': no "
                              "'Total' value in the removals table; nothing from this file was loaded (load the "
                              "rest of it with --partial)")
    result = parse_workbook(fixture, IngestPolicy(partial=True))
    assert result.edition.missing_tables == ("ICE Removals: FYxx",)
    assert ("Detention FY25 / ICE Removals: FY2025: no 'Total' value in the removals table; table not read "
            "(--partial)" in result.warnings)
    assert {k: v for k, v in _baseline(FY25)[1].items() if k[0] != "removals_fytd"} == _keyed(result)


@needs_data
def test_detention_sheet_without_any_readable_table_is_refused(tmp_path):
    # Every national title blanked: the credible-fear and parole tables on the same sheet still read, but a
    # Detention sheet with no national table is not an edition of these statistics.
    source = WORKBOOKS / FY25
    cells = [[None if isinstance(v, str) and v.startswith("ICE ") else v for v in row]
             for row in read_cells(source, "Detention FY25")]
    fixture = rebuild(source, tmp_path / FY25, replace_sheets={"Detention FY25": sheet_xml(cells)})
    with pytest.raises(SourceError) as err:
        parse_workbook(fixture)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{FY25} [Detention FY25]: no readable table on sheet")
