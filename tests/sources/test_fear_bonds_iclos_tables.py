"""The credible-fear, FAMU, bond and ICLOS tables of ICE's detention-statistics workbooks
(https://www.ice.gov/detain/detention-management; files at https://www.ice.gov/doclib/detention/<file name>).

Real-data tests read one hand-checked cell per table and per fiscal-year layout (the cell address is in the
comment; the workbook opened in a spreadsheet program). Grid tests need no data: a title over a header the
reader does not know is refused in one line, and the reader's rules (swapped bond rows, years that go on after
December, months of another fiscal year) are checked on small hand-made grids.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import pytest
from helpers import shared_data_dir

from icetrack.domain.catalogue import CATALOGUE
from icetrack.domain.edition import SourceError
from icetrack.domain.plausible import DEFAULT_POLICY, IngestPolicy
from icetrack.sources.ice_detention import bonds, fear, iclos, parse_workbook
from icetrack.sources.ice_detention.observations import ParseContext
from icetrack.sources.ice_detention.periods import fiscal_year_of_label
from icetrack.sources.ice_detention.read_tables import TableReport, read_sheet_tables
from icetrack.sources.ice_detention.workbook import Grid

SHARED = shared_data_dir()
WORKBOOKS = SHARED / "ice-detention-stats" if SHARED else None
needs_data = pytest.mark.skipif(
    WORKBOOKS is None or not WORKBOOKS.is_dir(),
    reason="real ICE workbooks not found (set $ICETRACK_SHARED_DATA to the folder of real public source files)")

# Other sheets' readers are not under test here: --partial keeps their problems from hiding these tables',
# and every test checks that none of these tables was the one left out.
PARTIAL = IngestPolicy(partial=True)
MINE = ("Average Time from USCIS", "Aliens with USCIS-Established", "Aliens with Positive Credible Fear",
        "Removals with a FAMU", "Bonded Out", "Average In Custody Length of Stay")


@cache
def _parsed(name: str):
    result = parse_workbook(WORKBOOKS / name, PARTIAL)
    dropped = [w for w in result.warnings if "(--partial)" in w and any(t in w for t in MINE)]
    assert not dropped, dropped
    return result


def _value(name: str, measure: str, dims_key: str = "", start: date | None = None, grain: str | None = None):
    rows = [r for r in _parsed(name).observations.to_pylist()
            if r["measure"] == measure and r["dims_key"] == dims_key
            and (start is None or r["period_start"] == start) and (grain is None or r["grain"] == grain)]
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


def _measures(name: str) -> set[str]:
    return set(_parsed(name).observations.column("measure").to_pylist())


# --- fear tables: one cell per layout (FRC FY2020, FSC FY2022, adult-only FY2024, column N FY2026) ---------

@needs_data
@pytest.mark.parametrize("name, facility, value, start, end", [
    ("FY20-detentionstats.xlsx", "FRC", 19.15, date(2019, 10, 1), date(2020, 9, 30)),       # I10
    ("FY22-detentionStats.xlsx", "Total", 34.96699289, date(2021, 10, 1), date(2022, 9, 25)),  # K10
    ("FY24_detentionStats.xlsx", "Total", 71.847867, date(2023, 10, 1), date(2024, 9, 30)),   # J10 "FY2024"
    ("FY26_detentionStats_04092026.xlsx", "FSC", 34.0, date(2025, 10, 1), date(2026, 4, 4)),  # I10
])
def test_fear_decision_to_release_days(name, facility, value, start, end):
    row = _value(name, "fear_decision_to_release_days", f"facility_type={facility}")
    assert (row["value"], row["grain"], row["period_start"], row["period_end"], row["unit"]) == (
        pytest.approx(value), "fytd", start, end, "days")


@needs_data
def test_average_of_zero_for_no_one_is_not_emitted():
    # FY23 I10 (FSC) prints 0 where the FSC fear-decision count (O11) is 0 as well; J10 (Adult) is read.
    assert _value("FY23_detentionStats.xlsx", "fear_decision_to_release_days", "facility_type=FSC") is None
    assert _value("FY23_detentionStats.xlsx", "fear_decision_to_release_days",
                  "facility_type=Adult")["value"] == pytest.approx(31.212331106)


@needs_data
@pytest.mark.parametrize("name, facility, value, day", [
    ("FY20-detentionstats.xlsx", "Total", 2387, date(2020, 10, 2)),           # O10, "Aliens with ..."
    ("FY22-detentionStats.xlsx", "Adult", 5615, date(2022, 9, 25)),           # O12, "Noncitizens with ..."
    ("FY24_detentionStats.xlsx", "Total", 515, date(2024, 10, 3)),            # O10, "...: EOFY2024"
    ("FY26_detentionStats_04092026.xlsx", "FSC", 16, date(2026, 4, 4)),       # P11, column moved to N/P
])
def test_detained_with_established_fear(name, facility, value, day):
    row = _value(name, "detained_with_established_fear", f"facility_type={facility}")
    assert (row["value"], row["grain"], row["period_start"], row["period_end"]) == (value, "snapshot", day, day)


@needs_data
def test_fear_tables_absent_from_fy19():
    assert not _measures("FY19-detentionstats.xlsx") & FEAR
    # Not published before FY2020: absent from the edition's layout, and not reported missing (only the national
    # tables every edition since FY2019 carries are).
    edition = _parsed("FY19-detentionstats.xlsx").edition
    assert edition.missing_tables == ()
    assert "Average Time from USCIS Fear Decision Service Date to ICE Release (In Days)" not in dict(edition.layout)
    fy20 = dict(_parsed("FY20-detentionstats.xlsx").edition.layout)
    assert "Average Time from USCIS Fear Decision Service Date to ICE Release (In Days)" in fy20


# --- parole tables: each row dated in its own fiscal year ------------------------------------------------

@needs_data
@pytest.mark.parametrize("name, measure, dims_key, start, value", [
    ("FY22-detentionStats.xlsx", "credible_fear_parole_requested", "", date(2021, 10, 1), 475),     # B120 FY2022
    ("FY22-detentionStats.xlsx", "credible_fear_parole_requested", "", date(2020, 10, 1), 128),     # B121 FY2021
    ("FY22-detentionStats.xlsx", "credible_fear_parole_decisions", "decision=Denied", date(2021, 10, 1), 4),  # C126
    ("FY24_detentionStats.xlsx", "credible_fear_parole_requested", "", date(2021, 10, 1), 111),     # B143 FY2022
    ("FY24_detentionStats.xlsx", "credible_fear_parole_decisions", "decision=Denied", date(2021, 10, 1), 0),  # C152
    ("FY26_detentionStats_04092026.xlsx", "credible_fear_parole_requested", "", date(2025, 10, 1), 2),  # B148
    ("FY26_detentionStats_04092026.xlsx", "credible_fear_parole_requested", "", date(2024, 9, 1), 697),  # M150
    ("FY26_detentionStats_04092026.xlsx", "credible_fear_parole_decisions", "decision=Granted", date(2023, 10, 1),
     322),  # C158 FY2024 Parole Granted
])
def test_parole_months_in_their_own_fiscal_year(name, measure, dims_key, start, value):
    row = _value(name, measure, dims_key, start)
    assert (row["value"], row["grain"], row["unit"]) == (value, "month", "persons")


@needs_data
def test_parole_year_left_at_zero_is_not_read_and_current_month_is_partial():
    name = "FY26_detentionStats_04092026.xlsx"
    # A149:N149 (FY2025) are all 0 although the FY2025 editions reported 825 requests for October 2024.
    assert _value(name, "credible_fear_parole_requested", "", date(2024, 10, 1)) is None
    assert _value("FY25_detentionStats08292025.xlsx", "credible_fear_parole_requested", "",
                  date(2024, 10, 1))["value"] == 825  # B144
    assert any("every month of FY2025 is 0" in w for w in _parsed(name).warnings)
    # April 2026 (H148 = 0) is running at the Encounters date 04/07/2026; May (I148) starts after it.
    april = _value(name, "credible_fear_parole_requested", "", date(2026, 4, 1))
    assert april["value"] == 0 and april["note"] == "partial month: data as of 2026-04-07"
    assert _value(name, "credible_fear_parole_requested", "", date(2026, 5, 1)) is None
    # The "FY Overall" column (N150 = 7051) is a sum and not emitted at any grain.
    assert 7051 not in [r["value"] for r in _parsed(name).observations.to_pylist()
                        if r["measure"] == "credible_fear_parole_requested"]


# --- FAMU removals: a row of the removals table ------------------------------------------------------------

@needs_data
@pytest.mark.parametrize("name, famu, total", [
    ("20240119051317-FY24_detentionStats01182024.xlsx", 22541, 69741),  # P30, P29: first edition with the row
    ("FY24_detentionStats.xlsx", 49435, 271484),                        # P30, P29
    ("FY25_detentionStats12112024.xlsx", 5088, 40658),                  # P30, P29
    ("FY26_detentionStats_04092026.xlsx", 23658, 234236),               # P30, P29
])
def test_famu_removals(name, famu, total):
    row = _value(name, "removals_famu_fytd")
    assert (row["value"], row["grain"]) == (famu, "fytd")
    # The national total of the same table is read as before.
    assert _value(name, "removals_fytd")["value"] == total


@needs_data
def test_famu_row_absent_before_fy2024():
    assert "removals_famu_fytd" not in _measures("FY23_detentionStats.xlsx")
    assert _value("FY23_detentionStats.xlsx", "removals_fytd") is not None


# --- bond statistics: two fiscal years of months, releases then book-outs -------------------------------

@needs_data
@pytest.mark.parametrize("name, measure, counted, start, value", [
    ("FY22-detentionStats.xlsx", "bond_stats_book_outs", "final releases", date(2021, 9, 1), 27780),  # B4
    ("FY22-detentionStats.xlsx", "bond_posted_share", "final releases", date(2022, 9, 1), 0.2124834),  # N6
    ("FY24_detentionStats.xlsx", "bond_stats_book_outs", "final releases", date(2023, 8, 1), 12344),  # B4
    ("FY24_detentionStats.xlsx", "bond_stats_book_outs", "final book-outs", date(2023, 10, 1), 20388),  # D4
    ("20240119051317-FY24_detentionStats01182024.xlsx", "bond_stats_book_outs", "final releases",
     date(2023, 10, 1), 10028),  # K4: labelled releases, FY2024 months included
    ("FY25_detentionStats12112024.xlsx", "bond_stats_bond_posted", "final book-outs", date(2024, 10, 1), 974),  # N5
    ("FY26_detentionStats02022026.xlsx", "average_bond_amount", "final book-outs", date(2025, 10, 1),
     7352.007648184),  # L7
])
def test_bond_statistics(name, measure, counted, start, value):
    row = _value(name, measure, f"counted={counted}", start)
    assert (row["value"], row["grain"]) == (pytest.approx(value), "month")
    assert row["unit"] == CATALOGUE[measure].unit


@needs_data
def test_bond_months_left_at_zero_and_months_to_come_are_not_read():
    name = "FY25_detentionStats12112024.xlsx"
    # B4:M4 (October 2023 - September 2024) are 0 in every row, though ICE reported ~20,000 book-outs a month.
    assert _value(name, "bond_stats_book_outs", "counted=final book-outs", date(2023, 10, 1)) is None
    assert any("12 months with a total of 0" in w for w in _parsed(name).warnings)
    # FY22: September 2022 (N4) is running at the book-outs date 09/24/2022.
    assert _value("FY22-detentionStats.xlsx", "bond_stats_book_outs", "counted=final releases",
                  date(2022, 9, 1))["note"] == "partial month: data as of 2022-09-24"


@needs_data
def test_bond_rows_swapped_in_the_april_2026_edition():
    name = "FY26_detentionStats_04092026.xlsx"
    # J4 ("Total ICE Final Book Outs") = 1124 and J5 ("... with Bond Posted") = 37537 for October 2025; the
    # 02/02/2026 edition prints 37539 and 1131 (L4, L5). J6 = 33.39 is their inverse and is not read.
    total = _value(name, "bond_stats_book_outs", "counted=final book-outs", date(2025, 10, 1))
    posted = _value(name, "bond_stats_bond_posted", "counted=final book-outs", date(2025, 10, 1))
    assert (total["value"], posted["value"]) == (37537, 1124)
    assert "swapped" in total["note"] and "swapped" in posted["note"]
    assert "bond_posted_share" not in _measures(name)
    assert _value("FY26_detentionStats02022026.xlsx", "bond_stats_book_outs", "counted=final book-outs",
                  date(2025, 10, 1))["value"] == 37539


# --- ICLOS and Detainees: one column per half-month ---------------------------------------------------

@needs_data
@pytest.mark.parametrize("name, measure, dims_key, day, value", [
    # FY22 (55 columns from July 2020; "Post-Determination for Adult Facility Individuals with Postive Fear Claim")
    ("FY22-detentionStats.xlsx", "iclos", "population=Single Adults with a Positive Fear Determination",
     date(2020, 7, 15), 287.27669),  # B9
    ("FY22-detentionStats.xlsx", "detainees_by_length_of_stay",
     "length_of_stay=More than 730 Days|population=Adult Facility", date(2020, 7, 15), 432),  # B23
    # FY24 year-end (43 columns from January 2023, no family rows)
    ("FY24_detentionStats.xlsx", "iclos", "population=Single Adults with a Positive Fear Determination",
     date(2024, 9, 30), 451.933333333),  # AQ8
    ("FY24_detentionStats.xlsx", "detainees_by_length_of_stay", "length_of_stay=Total|population=Total",
     date(2024, 9, 30), 39057),  # AQ34
    # FY26 (79 columns; no "2026" over January 2026)
    ("FY26_detentionStats_04092026.xlsx", "iclos", "population=FSC Facility", date(2026, 1, 15), 31.934569248),  # BV8
    ("FY26_detentionStats_04092026.xlsx", "detainees_by_length_of_stay",
     "length_of_stay=Total|population=Total", date(2026, 1, 31), 72536),  # BW48
])
def test_iclos_and_detainees(name, measure, dims_key, day, value):
    row = _value(name, measure, dims_key, day)
    assert (row["value"], row["grain"], row["period_end"]) == (pytest.approx(value), "snapshot", day)


@needs_data
def test_iclos_days_not_filled_or_to_come_are_not_read():
    # FY25 12/11/2024 edition: T7:AQ7 (October 2023 - September 2024) are 0 in every row.
    assert _value("FY25_detentionStats12112024.xlsx", "iclos", "population=Total", date(2023, 10, 15)) is None
    assert _value("FY25_detentionStats12112024.xlsx", "iclos", "population=Total", date(2023, 9, 15)) is not None
    # FY22: end of September 2022 (BC11) is after the ICLOS date 09/15/2022; mid-September (BB11) is not.
    assert _value("FY22-detentionStats.xlsx", "iclos", "population=Total", date(2022, 9, 30)) is None
    assert _value("FY22-detentionStats.xlsx", "iclos", "population=Total", date(2022, 9, 15)) is not None
    # An ICLOS of 0 for a group with no one held (FY26 B8, FSC in January 2023) is not emitted; its count is.
    assert _value("FY26_detentionStats_04092026.xlsx", "iclos", "population=FSC Facility", date(2023, 1, 15)) is None
    assert _value("FY26_detentionStats_04092026.xlsx", "detainees_by_length_of_stay",
                  "length_of_stay=Total|population=FSC Facility", date(2023, 1, 15))["value"] == 0  # B30


# --- every shared edition: which of these tables it has -----------------------------------------------

FEAR = {"fear_decision_to_release_days", "detained_with_established_fear"}
PAROLE = {"credible_fear_parole_requested", "credible_fear_parole_decisions"}
BONDS = {"bond_stats_book_outs", "bond_stats_bond_posted", "average_bond_amount", "bond_stats_alos"}
ICLOS = {"iclos", "detainees_by_length_of_stay"}
NO_BOND_SHEET = {"FY25_detentionStats03262025.xlsx", "FY25_detentionStats02142025_markedup.xlsx"}


def _shared_workbooks() -> list[str]:
    if WORKBOOKS is None or not WORKBOOKS.is_dir():
        return []
    return sorted(str(p.relative_to(WORKBOOKS)) for p in WORKBOOKS.rglob("*.xlsx"))


def _expected(name: str) -> set[str]:
    fiscal_year = int(Path(name).name.split("FY")[1][:2])
    expected = set()
    if fiscal_year >= 20:
        expected |= FEAR
    if fiscal_year >= 22:
        expected |= PAROLE | ICLOS | (set() if Path(name).name in NO_BOND_SHEET else BONDS)
    if fiscal_year >= 24:
        expected.add("removals_famu_fytd")
    return expected


@needs_data
@pytest.mark.parametrize("name", _shared_workbooks())
def test_every_shared_edition_has_the_tables_of_its_year(name):
    mine = FEAR | PAROLE | BONDS | ICLOS | {"removals_famu_fytd", "bond_posted_share"}
    found = _measures(name) & mine - {"bond_posted_share"}
    assert found == _expected(name)


# --- no data: a title over a header the reader does not know is refused in one line ------------------------

def _grid(cells: dict[tuple[int, int], object], n_rows: int = 12, n_cols: int = 16) -> Grid:
    texts = [[None] * n_rows for _ in range(n_cols)]
    numbers = [[None] * n_rows for _ in range(n_cols)]
    for (row, col), value in cells.items():
        texts[col][row] = value if isinstance(value, str) else str(value)
        numbers[col][row] = float(value) if isinstance(value, (int, float)) else None
    return Grid("Detention FY26", texts, numbers)


def _context(policy: IngestPolicy = DEFAULT_POLICY) -> ParseContext:
    return ParseContext(path=Path("FY26_detentionStats_04092026.xlsx"), fiscal_year=2026, as_of=date(2026, 4, 4),
                        source_url="", warnings=[], policy=policy)


MONTHS = ["Oct", "Nov", "Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep"]


def _parole_requested_over(header: list[str]) -> Grid:
    cells = {(0, 0): "Aliens with Positive Credible Fear Determination Parole Requested: FY2024 - FY2026",
             (1, 0): "Fiscal Year", (2, 0): "FY2026"}
    for i, text in enumerate(header):
        cells[(1, 1 + i)] = text
        cells[(2, 1 + i)] = 5
    return _grid(cells)


def test_parole_title_over_a_status_header_is_refused_in_one_line():
    grid = _parole_requested_over(["Parole Status"] + MONTHS)
    with pytest.raises(SourceError) as refused:
        read_sheet_tables(_context(), grid, fear.TABLES, TableReport())
    message = str(refused.value)
    assert "\n" not in message
    assert "table 'Aliens with Positive Credible Fear Determination Parole Requested'" in message
    assert "title matches but the header does not (found 'Parole Status | Oct" in message


def test_parole_title_over_a_status_header_is_left_out_with_partial():
    ctx = _context(IngestPolicy(partial=True))
    report = TableReport()
    read_sheet_tables(ctx, _parole_requested_over(["Parole Status"] + MONTHS), fear.TABLES, report,
                      )
    assert report.missing == ["Aliens with Positive Credible Fear Determination Parole Requested"]
    assert ctx.rows == []


def test_parole_requested_dates_each_month_in_the_rows_year():
    ctx = _context()
    read_sheet_tables(ctx, _parole_requested_over(MONTHS + ["FY Overall"]), fear.TABLES, TableReport(),
                      )
    starts = [r["period_start"] for r in ctx.rows]
    # October 2025 - April 2026 (April partial); May - September 2026 start after 2026-04-04 and are not read.
    assert starts == [date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1),
                      date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    assert ctx.rows[-1]["note"] == "partial month: data as of 2026-04-04"
    assert ctx.future_values == {"Detention FY26 / Aliens with Positive Credible Fear Determination Parole "
                                 "Requested: FY2024 - FY2026": 5}


def test_famu_row_is_read_from_its_label_and_a_text_figure_refused():
    cells = {(0, 13): "ICE Removals: FY2026", (1, 13): "Removals", (1, 15): "Total", (2, 13): "Total",
             (2, 15): 234236, (3, 13): "Removals with a FAMU Identifier", (3, 15): 23658}
    ctx = _context()
    read_sheet_tables(ctx, _grid(cells, n_cols=18), fear.TABLES, TableReport())
    assert [(r["measure"], r["value"], r["grain"], r["period_end"]) for r in ctx.rows] == [
        ("removals_famu_fytd", 23658, "fytd", date(2026, 4, 4))]
    cells[(3, 15)] = "N/A"
    with pytest.raises(SourceError, match=r"cell P4 holds 'N/A' where a number is expected"):
        read_sheet_tables(_context(), _grid(cells, n_cols=18), fear.TABLES, TableReport())


def _bond_grid(headers: list[str], total: list[float], posted: list[float]) -> Grid:
    cells = {(0, 0): "FY2026 Bonded Out Book Outs Count and ALOS - Prior 12 months plus Current Month",
             (3, 0): "Total ICE Final Book Outs", (4, 0): "ICE Final Book Outs with Bond Posted",
             (5, 0): "Bond Posted Book Outs/Releases (%)", (6, 0): "Average Bond Amount ($)", (7, 0): "ALOS (Days)"}
    for i, header in enumerate(headers):
        cells[(2, 1 + i)] = header
        cells[(3, 1 + i)], cells[(4, 1 + i)] = total[i], posted[i]
        cells[(5, 1 + i)] = posted[i] / total[i] if total[i] else 0
        cells[(6, 1 + i)], cells[(7, 1 + i)] = 7000.5, 50.25
    return _grid(cells)


def test_bond_title_over_month_names_without_years_is_refused():
    grid = _bond_grid(["Feb", "Mar"], [100, 90], [10, 9])
    with pytest.raises(SourceError, match="title matches but the header does not .found 'Feb . Mar'"):
        read_sheet_tables(_context(), grid, bonds.TABLES, TableReport())


def test_bond_count_above_total_in_some_months_only_is_refused():
    grid = _bond_grid(["2026-02-01 00:00:00", "2026-03-01 00:00:00"], [100, 90], [10, 95])
    with pytest.raises(SourceError, match="bond-posted count exceeds the total in 1 of 2 months .first 2026-03."):
        read_sheet_tables(_context(), grid, bonds.TABLES, TableReport())


def test_bond_months_of_two_fiscal_years_are_dated_by_their_headers():
    ctx = _context()
    grid = _bond_grid(["2025-09-01 00:00:00", "2025-10-01 00:00:00", "2026-04-01 00:00:00"], [0, 90, 80], [0, 9, 8])
    with pytest.raises(SourceError, match="column '2026-04-01 00:00:00' does not follow the month before it"):
        read_sheet_tables(ctx, grid, bonds.TABLES, TableReport())
    grid = _bond_grid(["2025-09-01 00:00:00", "2025-10-01 00:00:00", "2025-11-01 00:00:00"], [0, 90, 80], [0, 9, 8])
    read_sheet_tables(ctx, grid, bonds.TABLES, TableReport())
    totals = {r["period_start"]: r["value"] for r in ctx.rows if r["measure"] == "bond_stats_book_outs"}
    assert totals == {date(2025, 10, 1): 90, date(2025, 11, 1): 80}  # September 2025 (total 0) not filled


def _iclos_grid(year_cells: dict[int, str], months: list[str]) -> Grid:
    cells = {(0, 0): "Average In Custody Length of Stay (ICLOS)", (2, 0): "Population "}
    for col, year in year_cells.items():
        cells[(2, col)] = year
    for i, month in enumerate(months):
        cells[(3, 1 + 2 * i)] = month
        cells[(4, 1 + 2 * i)], cells[(4, 2 + 2 * i)] = "mid ", "end"
    cells[(5, 0)], cells[(6, 0)] = "Adult Facility Aliens", "Total"
    for col in range(1, 1 + 2 * len(months)):
        cells[(5, col)], cells[(6, col)] = 40.5, 41.5
    return _grid(cells)


def test_iclos_years_go_on_after_december_when_the_year_cell_is_missing():
    ctx = _context()
    read_sheet_tables(ctx, _iclos_grid({1: "2025"}, ["November", "December", "January"]), iclos.TABLES,
                      TableReport())
    days = sorted({r["period_start"] for r in ctx.rows})
    assert days == [date(2025, 11, 15), date(2025, 11, 30), date(2025, 12, 15), date(2025, 12, 31),
                    date(2026, 1, 15), date(2026, 1, 31)]
    assert any("no 'Detainees' table" in w for w in ctx.warnings)


def test_iclos_year_cell_disagreeing_with_its_months_is_refused():
    grid = _iclos_grid({1: "2025", 5: "2025"}, ["November", "December", "January"])
    with pytest.raises(SourceError, match="'2025' is not the year its months run into .2026."):
        read_sheet_tables(_context(), grid, iclos.TABLES, TableReport())


def test_iclos_title_over_a_header_without_years_is_refused():
    grid = _iclos_grid({1: "Calendar year"}, ["November"])
    with pytest.raises(SourceError, match="title matches but the header does not"):
        read_sheet_tables(_context(), grid, iclos.TABLES, TableReport())


@pytest.mark.parametrize("label, fiscal_year", [("FY2024", 2024), ("EOFY2023", 2023), ("FY 2025", 2025),
                                                ("FY24", 2024), ("Total", None), ("Parole Granted", None)])
def test_fiscal_year_of_label(label, fiscal_year):
    assert fiscal_year_of_label(label) == fiscal_year


@pytest.mark.parametrize("label, population", [
    ("Adult Facility Individuals", "Adult Facility"),
    ("Adult Facility Aliens", "Adult Facility"),
    ("FSC Facility Individuals", "FSC Facility"),
    ("Post-Determination for Adult Facility Individuals with Postive Fear Claim", iclos.SINGLE_ADULTS),
    ("Single Adults with a Positive Fear Determination Still in Custody", iclos.SINGLE_ADULTS),
    ("Post-Determination for FSC Facility Individuals with Positive Fear Claim", iclos.FAMILY_UNITS),
    ("Family Units with a Positive Fear Determination Still in Custody", iclos.FAMILY_UNITS),
    ("Total", "Total"),
    ("Unaccompanied children", None),
])
def test_population_labels(label, population):
    assert iclos.population_of(label) == population


def test_every_measure_is_defined_with_its_unit():
    emitted = {fear.RELEASE_TIME: "days", fear.ESTABLISHED_FEAR: "persons", fear.PAROLE_REQUESTED: "persons",
               fear.PAROLE_DECISIONS: "persons", fear.FAMU_REMOVALS: "removals", bonds.BOOK_OUTS: "book-outs",
               bonds.BOND_POSTED: "book-outs", bonds.SHARE: "share", bonds.AMOUNT: "US dollars",
               bonds.ALOS: "days", iclos.ICLOS: "days", iclos.DETAINEES: "persons"}
    assert {name: CATALOGUE[name].unit for name in emitted} == emitted
