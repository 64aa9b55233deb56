"""The Semiannual, Vulnerable & Special Population and Monthly Segregation sheets of ICE's detention-statistics
workbooks (https://www.ice.gov/detain/detention-management; files at https://www.ice.gov/doclib/detention/<file
name>), and the bounded reader of the segregation sheet that declares 16,383 columns since June 2025.

Real-data tests read one hand-checked cell per table and per layout (the cell address is in the comment; the
workbook opened in a spreadsheet program). Grid tests need no data: a title over a header the reader does not
know is refused in one line, and the period rules are checked on small hand-made grids. The first-columns
loader is tested on small xlsx files written here.
"""

from __future__ import annotations

import time
import zipfile
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from helpers import shared_data_dir

from icetrack.domain.catalogue import CATALOGUE
from icetrack.domain.edition import SourceError
from icetrack.domain.plausible import IngestPolicy
from icetrack.sources.ice_detention import parse_workbook, segregation, semiannual, vulnerable
from icetrack.sources.ice_detention.catalog import GRID_LOADERS
from icetrack.sources.ice_detention.first_columns import MAX_COLUMNS, load_first_columns
from icetrack.sources.ice_detention.footnotes import parse_line
from icetrack.sources.ice_detention.observations import ParseContext
from icetrack.sources.ice_detention.read_tables import TableReport, read_sheet_tables
from icetrack.sources.ice_detention.sheets import classify_sheet
from icetrack.sources.ice_detention.workbook import Grid, check_container, check_sheet, sheet_names

SHARED = shared_data_dir()
WORKBOOKS = SHARED / "ice-detention-stats" if SHARED else None
needs_data = pytest.mark.skipif(
    WORKBOOKS is None or not WORKBOOKS.is_dir(),
    reason="real ICE workbooks not found (set $ICETRACK_SHARED_DATA to the folder of real public source files)")
ALL_WORKBOOKS = (sorted(p.relative_to(WORKBOOKS).as_posix() for p in WORKBOOKS.rglob("*.xlsx"))
                 if WORKBOOKS is not None and WORKBOOKS.is_dir() else [])


def _roles(name: str) -> dict[str, str]:
    """{role: sheet name} of a shared workbook's sheets (the first of each role)."""
    roles: dict[str, str] = {}
    for sheet in sheet_names(WORKBOOKS / name):
        roles.setdefault(classify_sheet(sheet).role, sheet)
    return roles


SEGREGATION_WORKBOOKS = [n for n in ALL_WORKBOOKS if "segregation" in _roles(n)]

# Other sheets' readers are not under test here: --partial keeps their problems from hiding these tables', and
# every parse checks that none of these tables was the one left out.
PARTIAL = IngestPolicy(partial=True)
MINE = ("Semiannual", "Vulnerable", "Segregation")
SEMIANNUAL = ("arrests_by_group", "book_ins_by_group", "removals_by_group", "arrests_by_tps_country",
              "book_ins_by_tps_country", "removals_by_tps_country")
VULNERABLE = ("vulnerable_segregation_placements", "vulnerable_segregation_consecutive_days",
              "vulnerable_segregation_cumulative_days", "vulnerable_segregation_detainees")
SEGREGATION = ("segregated_individuals",)
ARMED, CITIZENS, PARENTS = semiannual.ARMED_FORCES, semiannual.CITIZENS, semiannual.PARENTS


@cache
def _parsed(name: str):
    result = parse_workbook(WORKBOOKS / name, PARTIAL)
    dropped = [w for w in result.warnings if "(--partial)" in w and any(t in w for t in MINE)]
    assert not dropped, dropped
    return result


def _rows(name: str, measure: str, dims_key: str | None = None) -> list[dict]:
    return [r for r in _parsed(name).observations.to_pylist()
            if r["measure"] == measure and (dims_key is None or r["dims_key"] == dims_key)]


def _value(name: str, measure: str, dims_key: str, start: date) -> dict | None:
    rows = [r for r in _rows(name, measure, dims_key) if r["period_start"] == start]
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


# --- Semiannual: one cell per layout ---------------------------------------------------------------------

FY22, FY23, FY24 = "FY22-detentionStats.xlsx", "FY23_detentionStats.xlsx", "FY24_detentionStats.xlsx"
JAN25 = "20250106074944-FY25_detentionStats01032025.xlsx"  # archive copy of the 01/03/2025 edition
DEC24 = "FY25_detentionStats12112024.xlsx"
AUG25 = "FY25_detentionStats08292025.xlsx"
MAY25 = "FY25_detentionStats05232025.xlsx"
APR26 = "FY26_detentionStats_04092026.xlsx"


@needs_data
@pytest.mark.parametrize("name, measure, dims_key, value, grain, start, end", [
    # FY22 B9 "FY2022 (10/1/2021 - 3/31/2022)": the Footnotes say FY2018 - 2022 data run through 03/31/2022
    (FY22, "arrests_by_group", f"group={ARMED}", 133, "fytd", date(2021, 10, 1), date(2022, 3, 31)),
    (FY22, "arrests_by_group", f"group={PARENTS}", 24552, "fiscal_year", date(2017, 10, 1), date(2018, 9, 30)),  # B53
    (FY22, "arrests_by_tps_country", "country=El Salvador", 3973, "fytd", date(2021, 10, 1), date(2022, 3, 31)),  # F78
    (FY23, "arrests_by_group", f"group={PARENTS}", 9042, "fiscal_year", date(2022, 10, 1), date(2023, 9, 30)),  # B64
    (FY23, "book_ins_by_group", f"group={CITIZENS}", 4, "fiscal_year", date(2022, 10, 1), date(2023, 9, 30)),  # B46
    (JAN25, "book_ins_by_group", f"group={PARENTS}", 9977, "fiscal_year", date(2023, 10, 1), date(2024, 9, 30)),  # B81
    # 08/29/2025: FY2025 through 04/22/2025 (Footnotes); B78 parents' arrests, I110 Honduras, H150 FY2024 removals
    (AUG25, "arrests_by_group", f"group={PARENTS}", 6341, "fytd", date(2024, 10, 1), date(2025, 4, 22)),
    (AUG25, "arrests_by_tps_country", "country=Honduras", 9000, "fytd", date(2024, 10, 1), date(2025, 4, 22)),
    (AUG25, "removals_by_tps_country", "country=Honduras", 45535, "fiscal_year", date(2023, 10, 1),
     date(2024, 9, 30)),
    (APR26, "arrests_by_tps_country", "country=Honduras", 12273, "fiscal_year", date(2023, 10, 1),
     date(2024, 9, 30)),  # H110
])
def test_semiannual_cells(name, measure, dims_key, value, grain, start, end):
    row = _value(name, measure, dims_key, start)
    assert (row["value"], row["grain"], row["period_end"], row["unit"]) == (value, grain, end,
                                                                            CATALOGUE[measure].unit)


@needs_data
@pytest.mark.parametrize("name, year, printed", [
    (APR26, 2025, "I110 Honduras 0, B89 parents' book-ins 18277"),  # Footnotes: only FY2018-FY2024 are dated
    (DEC24, 2024, "H120 Honduras book-ins 0"),  # every FY2024 figure 0 though dated EOFY2024 through 09/30/2024
])
def test_semiannual_year_not_filled_in_is_not_stored(name, year, printed):
    years = {r["period_end"].year for m in SEMIANNUAL for r in _rows(name, m)}
    assert max(years) == year - 1, printed
    assert any(w.startswith(f"Semiannual: FY{year} figures not read") for w in _parsed(name).warnings)
    # the year before is read: DEC24 G120 (Honduras FY2023 book-ins) = 21,610
    if name == DEC24:
        assert _value(name, "book_ins_by_tps_country", "country=Honduras", date(2022, 10, 1))["value"] == 21610


@needs_data
def test_tps_country_without_designation_is_blank_not_zero():
    # AUG25 row 104: Afghanistan, blank B104:E104 (designated 05/20/2022), F104 = 23 for FY2022
    starts = {r["period_start"].year + 1 for r in _rows(AUG25, "arrests_by_tps_country", "country=Afghanistan")}
    assert starts == {2022, 2023, 2024, 2025}


# --- Vulnerable & Special Population: one cell per layout --------------------------------------------------

@needs_data
@pytest.mark.parametrize("name, measure, reason, value, start, end", [
    # FY22 "FY 2022 Quarter 1 Data": B6, C6, D6 (Disciplinary)
    (FY22, "vulnerable_segregation_placements", "Disciplinary", 55, date(2021, 10, 1), date(2021, 12, 31)),
    (FY22, "vulnerable_segregation_consecutive_days", "Disciplinary", 12.36, date(2021, 10, 1), date(2021, 12, 31)),
    (FY22, "vulnerable_segregation_cumulative_days", "Disciplinary", 36.24, date(2021, 10, 1), date(2021, 12, 31)),
    # FY24 "Fiscal Year (FY) 2024 Quarter 2 Data": B104 'Medical Mental', C107 Grand Total
    (FY24, "vulnerable_segregation_placements", "Medical/Mental Health", 96, date(2024, 1, 1), date(2024, 3, 31)),
    (FY24, "vulnerable_segregation_consecutive_days", "Total", 46.956432314, date(2024, 1, 1), date(2024, 3, 31)),
    (APR26, "vulnerable_segregation_placements", "Total", 467, date(2026, 1, 1), date(2026, 3, 31)),  # B191
])
def test_vulnerable_cells(name, measure, reason, value, start, end):
    row = _value(name, measure, f"placement_reason={reason}", start)
    assert (row["value"], row["grain"], row["period_end"]) == (pytest.approx(value), "period", end)


@needs_data
@pytest.mark.parametrize("name, start, value", [
    (FY22, date(2021, 10, 1), 287),  # A13 "* Data represents 287 unique detainees ... FY22 Q1"
    (APR26, date(2026, 1, 1), 380),  # A193 "*Data represents 380 unique detainees ... FY26 Q2"
])
def test_vulnerable_unique_detainees_note(name, start, value):
    assert _value(name, "vulnerable_segregation_detainees", "", start)["value"] == value


# --- Monthly Segregation: one cell per layout --------------------------------------------------------------

@needs_data
@pytest.mark.parametrize("name, facility, value, start", [
    (FY24, "Total", 620, date(2024, 9, 1)),  # B58, title A3 "September 2024 This SRMS data represents ..."
    (FY24, "MOSHANNON VALLEY PROCESSING CENTER", 140, date(2024, 9, 1)),  # B5
    (MAY25, "MOSHANNON VALLEY PROCESSING CENTER", 121, date(2025, 2, 1)),  # B142: 'February 2025' has no header
    (MAY25, "Total", 938, date(2025, 2, 1)),  # B207
    (AUG25, "Total", 1059, date(2025, 6, 1)),  # B64 of the sheet declared A1:XFC923
    (AUG25, "MOSHANNON VALLEY PROCESSING CENTER", 113, date(2025, 6, 1)),  # B7
    (APR26, "Total", 868, date(2026, 3, 1)),  # B56 of 'FY26 Monthly Segregation'
])
def test_segregation_cells(name, facility, value, start):
    row = _value(name, "segregated_individuals", f"facility={facility}", start)
    assert (row["value"], row["grain"], row["period_end"].month, row["unit"]) == (value, "month", start.month,
                                                                                 "persons")


@needs_data
def test_segregation_months_cross_fiscal_years():
    # The 08/29/2025 copy holds April 2024 - June 2025 (FY2024 and FY2025), each month under its own dates.
    months = sorted({r["period_start"] for r in _rows(AUG25, "segregated_individuals", "facility=Total")})
    assert (months[0], months[-1], len(months)) == (date(2024, 4, 1), date(2025, 6, 1), 15)


# --- every shared edition -----------------------------------------------------------------------------------

@needs_data
@pytest.mark.parametrize("name", ALL_WORKBOOKS)
def test_every_edition_parses_with_its_sheets_read(name):
    """All 30 shared workbooks parse; a workbook with the sheet has the sheet's measures (FY2019 - FY2021 have
    none of the three sheets; the Monthly Segregation sheet starts with the FY2024 year-end file)."""
    roles = _roles(name)
    measures = set(_parsed(name).observations.column("measure").to_pylist())
    for role, expected in (("semiannual", SEMIANNUAL), ("vulnerable", VULNERABLE), ("segregation", SEGREGATION)):
        assert (set(expected) <= measures) == (role in roles), (role, sorted(measures & set(expected)))


@needs_data
@pytest.mark.parametrize("name", SEGREGATION_WORKBOOKS)
def test_segregation_sheet_loads_within_bounds(name):
    path = WORKBOOKS / name
    sheet = _roles(name)["segregation"]
    start = time.perf_counter()
    grid = GRID_LOADERS["segregation"](path, None, sheet)
    elapsed = time.perf_counter() - start
    assert grid.n_cols <= MAX_COLUMNS and 100 < grid.n_rows <= 1041
    assert elapsed < 5  # ~40 ms for the 11 MB sheets; a loop over every declared cell would take minutes
    member = check_container(path)[sheet]
    with zipfile.ZipFile(path) as zf:
        wide = zf.getinfo(member).file_size > 5_000_000  # the June 2025 - September 2025 editions
    if wide:  # the general loader refuses what this one reads
        with pytest.raises(SourceError, match="declares its extent as A1:XFC"):
            check_sheet(path, member, sheet)


# --- grids: refusals in one line and the period rules ---------------------------------------------------

def _grid(rows: list[list]) -> Grid:
    width = max(len(r) for r in rows)
    cells = [r + [None] * (width - len(r)) for r in rows]
    texts = [[None if v is None else (v if isinstance(v, str) else f"{v:g}") for v in col] for col in zip(*cells)]
    numbers = [[v if isinstance(v, (int, float)) else None for v in col] for col in zip(*cells)]
    return Grid("Sheet", [list(c) for c in texts], [list(c) for c in numbers])


def _ctx(dates: dict | None = None, fiscal_year: int = 2025, as_of: date = date(2025, 8, 24)) -> ParseContext:
    return ParseContext(path=Path("FY25_detentionStats08292025.xlsx"), fiscal_year=fiscal_year, as_of=as_of,
                        source_url="", warnings=[], table_dates=dates or {})


def _read(ctx: ParseContext, grid: Grid, specs) -> None:
    read_sheet_tables(ctx, grid, specs, TableReport())


SEMI_DATES = {f"semiannual_{e}": date(2025, 4, 22) for e in semiannual.EVENTS}


def test_semiannual_title_over_a_wrong_header_is_refused_in_one_line():
    grid = _grid([["United States Citizen Arrests FY2018 - FY2025"], ["Fiscal Year", "Removals"],
                  ["FY2024", 13.0], ["FY2025", 7.0]])
    with pytest.raises(SourceError) as err:
        _read(_ctx(SEMI_DATES), grid, semiannual.TABLES)
    assert "United States Citizen Arrests FY2018 - FYxx': title matches but the header does not" in str(err.value)
    assert "\n" not in str(err.value)


def _tps(latest_values: list[float], header: str = "FY2025 YTD") -> Grid:
    return _grid([["Temporary Protected Status Countries Arrests FY2018 - FY2025 YTD"],
                  ["Citizenship Country", "FY2024", header],
                  ["Honduras", 12273.0, latest_values[0]], ["Lebanon", None, latest_values[1]]])


@pytest.mark.parametrize("dates, latest, expected", [
    ({"semiannual_arrests": date(2025, 4, 22)}, [9000.0, 14.0], ("fytd", date(2025, 4, 22))),
    ({"semiannual_arrests": date(2025, 9, 30)}, [9000.0, 14.0], ("fiscal_year", date(2025, 9, 30))),
    ({"semiannual_arrests": date(2024, 9, 30)}, [9000.0, 14.0], None),  # dated before FY2025 began
    ({"semiannual_arrests": None}, [9000.0, 14.0], None),  # no date stated
    ({"semiannual_arrests": date(2025, 4, 22)}, [0.0, 0.0], None),  # a column not filled in
])
def test_semiannual_latest_year_period(dates, latest, expected):
    ctx = _ctx(dates)
    _read(ctx, _tps(latest), semiannual.TABLES)
    by_year = {r["period_start"].year + 1: r for r in ctx.rows if r["dims"] == {"country": "Honduras"}}
    assert by_year[2024]["grain"] == "fiscal_year" and by_year[2024]["value"] == 12273
    assert ("Lebanon" in str([r["dims"] for r in ctx.rows])) == (expected is not None)  # blank FY2024 skipped
    if expected is None:
        assert 2025 not in by_year and ctx.warnings[0].startswith("Sheet: FY2025 figures not read")
    else:
        assert (by_year[2025]["grain"], by_year[2025]["period_end"], by_year[2025]["value"]) == (*expected, 9000)


def test_semiannual_dates_come_from_its_footnote_section():
    section = "Semiannual Arrests, Bookins and Removals"
    lines = [parse_line("FY2025 YTD ICE Removals data are updated through 08/09/2025 (IIDS Run Date 08/11/2025).",
                        section="FY2025 ICE Removals"),
             parse_line("FY2018 - 2022 ICE Arrests data are updated through 03/31/2022 (IIDS v.2.0 run date "
                        "06/01/2022; EID as of 05/31/2022).", section=section),
             parse_line("FY2018 - 2022 YTD ICE Removals data are updated through 03/31/2022.", section=section)]
    assert semiannual.semiannual_dates(lines) == {"arrests": date(2022, 3, 31), "book_ins": date(2022, 3, 31),
                                                 "removals": date(2022, 3, 31)}
    assert semiannual.semiannual_dates(lines[:1]) == {}


VULNERABLE_HEADER = ["Placement Reason", "Number of Placements", "Average Number of Consecutive Days in Segregation",
                     "Average Number of Cumulative Days in Segregation"]


def _vulnerable(header: list[str]) -> Grid:
    return _grid([["Definition for Vulnerable and Special Populations"], ["U.S. Immigration and Customs ..."], [],
                  ["Fiscal Year (FY) 2025 Quarter 3 Data"], header,
                  ["Medical Mental", 131.0, 11.53, 14.39], ["Grand Total", 566.0, 49.48, 64.85], [],
                  ["*Data represents 432 unique detainees. Some detainees have multiple placements within FY25 Q3 "
                   "(566 total placements)."]])


def test_vulnerable_quarter_read_from_a_grid():
    ctx = _ctx()
    _read(ctx, _vulnerable(VULNERABLE_HEADER), vulnerable.TABLES)
    got = {(r["measure"], tuple(r["dims"].values())): r["value"] for r in ctx.rows}
    assert got[("vulnerable_segregation_placements", ("Medical/Mental Health",))] == 131
    assert got[("vulnerable_segregation_cumulative_days", ("Total",))] == 64.85
    assert got[("vulnerable_segregation_detainees", ())] == 432
    assert {(r["period_start"], r["period_end"], r["grain"]) for r in ctx.rows} == {
        (date(2025, 4, 1), date(2025, 6, 30), "period")}


def test_vulnerable_block_with_a_wrong_header_is_refused_in_one_line():
    swapped = VULNERABLE_HEADER[:2] + VULNERABLE_HEADER[3:] + VULNERABLE_HEADER[2:3]  # cumulative before consecutive
    with pytest.raises(SourceError) as err:
        _read(_ctx(), _vulnerable(swapped), vulnerable.TABLES)
    assert "block 'Fiscal Year (FY) 2025 Quarter 3 Data' (row 4): header is 'Placement Reason | Number of" in str(
        err.value)
    assert "\n" not in str(err.value)


def _segregation(header: list | None, total: float = 3.0) -> Grid:
    block = [["April 2025"]] + ([header] if header else []) + [["MOSHANNON VALLEY PROCESSING CENTER", 2.0],
                                                            ["PIKE COUNTY JAIL", 1.0], ["Grand Total", total]]
    return _grid([["U.S. Immigration and Customs Enforcement This Segregation Review Management System (SRMS) data "
                   "represents the total number of unique individuals ..."], [], *block])


@pytest.mark.parametrize("header", [["Facilities", "Placement Count"], None])
def test_segregation_month_read_from_a_grid(header):
    ctx = _ctx()
    _read(ctx, _segregation(header), segregation.TABLES)
    got = {r["dims"]["facility"]: (r["value"], r["period_start"], r["period_end"]) for r in ctx.rows}
    assert got == {"MOSHANNON VALLEY PROCESSING CENTER": (2, date(2025, 4, 1), date(2025, 4, 30)),
                   "PIKE COUNTY JAIL": (1, date(2025, 4, 1), date(2025, 4, 30)),
                   "Total": (3, date(2025, 4, 1), date(2025, 4, 30))}
    assert ctx.warnings == []


def test_segregation_total_that_is_not_the_sum_is_kept_and_warned():
    ctx = _ctx()
    _read(ctx, _segregation(None, total=4.0), segregation.TABLES)
    assert [r["value"] for r in ctx.rows if r["dims"]["facility"] == "Total"] == [4]
    assert "Grand Total 4 is not the sum of its facility rows (3)" in ctx.warnings[0]


def test_segregation_block_with_a_wrong_header_is_refused_in_one_line():
    with pytest.raises(SourceError) as err:
        _read(_ctx(), _segregation(["Facility Name", "Individuals"]), segregation.TABLES)
    assert "block 'April 2025' (row 3): header is 'Facility Name | Individuals'" in str(err.value)
    assert "\n" not in str(err.value)


# --- the first-columns loader on small xlsx files ----------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _xlsx(path: Path, rows_xml: str, strings: tuple[str, ...] = ("Facilities", "Grand Total"),
          dimension: str = "A1:XFC4", root: str = f'<worksheet xmlns="{MAIN}">') -> Path:
    """A one-sheet workbook named 'Monthly Segregation' whose sheet XML holds ``rows_xml``."""
    sst = "".join(f"<si><t>{s}</t></si>" for s in strings)
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets><sheet name="Monthly Segregation" '
                           'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                                      f'relationships"><Relationship Id="rId1" Type="{RELS}/worksheet" '
                                      'Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}" count="{len(strings)}">{sst}</sst>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?>{root}<dimension ref="{dimension}"/><sheetData>{rows_xml}'
                                    f'</sheetData></{root[1:].split()[0]}>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
    return path


def _empty_cells(row: int, first: str = "C") -> str:
    """Empty styled cells from ``first`` out to column XFC, as the June 2025 sheets write them."""
    from icetrack.sources.files import column_letters
    start = next(n for n in range(1, 40) if column_letters(n) == first)
    return "".join(f'<c r="{column_letters(n)}{row}" s="89"/>' for n in range(start, 16384, 97))


WIDE_ROWS = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><r><rPr><color rgb="FF0000"/></rPr>'
             '<t>Placement</t></r><r><t xml:space="preserve"> Count</t></r><rPh><t>x</t></rPh></is></c>'
             + _empty_cells(1) + '</row><row r="2"><c r="A2" t="str"><v>PIKE &amp; CO</v></c><c r="B2" s="19">'
             '<v>140</v></c>' + _empty_cells(2) + '</row><row r="4"><c r="A4" t="s"><v>1</v></c><c r="B4">'
             '<f>SUM(B2:B3)</f><v>140</v></c><c r="F4" s="3"></c>' + _empty_cells(4, "G") + "</row>")


def test_wide_sheet_loads_its_first_columns(tmp_path):
    path = _xlsx(tmp_path / "wide.xlsx", WIDE_ROWS)
    grid = load_first_columns(path, "Monthly Segregation")
    assert (grid.n_rows, grid.n_cols) == (4, 2)
    assert [grid.text(0, 0), grid.text(0, 1), grid.text(1, 0), grid.text(3, 0)] == [
        "Facilities", "Placement Count", "PIKE & CO", "Grand Total"]
    assert (grid.number(1, 1), grid.text(1, 1), grid.number(3, 1), grid.number(0, 0)) == (140.0, "140", 140.0, None)
    with pytest.raises(SourceError, match="declares its extent as A1:XFC4"):  # the general loader refuses it
        check_sheet(path, "xl/worksheets/sheet1.xml", "Monthly Segregation")


@pytest.mark.parametrize("rows, problem", [
    ('<row r="2"><c r="BM2"><v>1</v></c></row>', "cell BM2 holds a value beyond the first 64 columns (through BL)"),
    ('<row r="2"><c r="XFC2" t="s"><v>0</v></c></row>', "cell XFC2 holds a value beyond the first 64 columns"),
    ('<row r="2"><c r="B2"><f>SUM(B3:B4)</f></c></row>', "formula cell B2 has no cached value"),
    ('<row r="2"><c r="B2"><f>SUM(B3:B4)</f><v></v></c></row>', "formula cell B2 has no cached value"),
    ('<row r="20001"><c r="A20001"><v>1</v></c></row>', "cell A20001 is beyond row 20,000"),
    ('<row r="2"><c r="A2" t="s"><v>7</v></c></row>', "cell A2 names shared string 7, which the workbook's 2"),
    ('<row r="2"><c r="B2"><v>N/A</v></c></row>', "cell B2 holds 'N/A' as a number"),
    ('<row r="2"><c t="s"><v>0</v></c></row>', "a cell without a reference holds"),
])
def test_first_columns_refusals_are_one_line(tmp_path, rows, problem):
    path = _xlsx(tmp_path / "bad.xlsx", rows)
    with pytest.raises(SourceError) as err:
        load_first_columns(path, "Monthly Segregation")
    assert problem in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("bad.xlsx [Monthly Segregation]: ")


def test_first_columns_refuses_a_prefixed_worksheet_namespace(tmp_path):
    rows = '<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c></x:row>'
    path = _xlsx(tmp_path / "prefixed.xlsx", rows, root=f'<x:worksheet xmlns:x="{MAIN}">')
    with pytest.raises(SourceError, match="binds the worksheet namespace to a prefix"):
        load_first_columns(path, "Monthly Segregation")


def test_first_columns_bounds_a_cell_without_an_end(tmp_path):
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>' + "x" * (1_100_000) + "</t></is>"
    path = _xlsx(tmp_path / "long.xlsx", rows)
    with pytest.raises(SourceError, match="a cell's XML is longer than 1,048,576 bytes"):
        load_first_columns(path, "Monthly Segregation")
