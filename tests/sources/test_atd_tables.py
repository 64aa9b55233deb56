"""The ATD sheet's tables (alternatives to detention) in ICE's detention-statistics workbooks
(https://www.ice.gov/detain/detention-management; files at https://www.ice.gov/doclib/detention/<file name>).

Each value asserted below was read by hand from the workbook: the cell address is in the comment. One test per
fiscal-year layout (FY19 status and AOR only, FY20-FY21 'TR', FY22 technology table, FY23 year-end court
tables, FY25 and FY26), the dating rules (BI participants-report line over a stale title, a stale court title),
and fixtures built as small grids for the refusals (a known title over a header its reader does not know).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import pytest
from helpers import shared_data_dir

from icetrack.domain.edition import SourceError
from icetrack.domain.plausible import IngestPolicy
from icetrack.sources.ice_detention import parse_workbook
from icetrack.sources.ice_detention.atd import TABLES, court_period
from icetrack.sources.ice_detention.observations import ParseContext
from icetrack.sources.ice_detention.read_tables import TableReport, read_sheet_tables
from icetrack.sources.ice_detention.sheets import classify_sheet
from icetrack.sources.ice_detention.workbook import Grid

SHARED = shared_data_dir()
WORKBOOKS = SHARED / "ice-detention-stats" if SHARED else None
needs_data = pytest.mark.skipif(
    WORKBOOKS is None or not WORKBOOKS.is_dir(),
    reason="real ICE workbooks not found (set $ICETRACK_SHARED_DATA to the folder of real public source files)")

TECHNOLOGY, STATUS, AOR, COURT_TOTAL, COURT_FINAL = (spec.name for spec in TABLES)


@cache
def parsed(name: str):
    path = WORKBOOKS / name
    if not path.exists():
        path = WORKBOOKS / "third-party-modified" / name
    # partial: a table of another sheet whose reader refuses it (other readers change independently) leaves
    # this file's ATD tables to be read; an ATD table refused would show in missing_tables (asserted below).
    return parse_workbook(path, IngestPolicy(partial=True))


def rows(name: str, measure: str) -> dict[tuple, dict]:
    """{sorted dims items: observation} of one measure."""
    return {tuple(sorted(dict(o["dims"]).items())): o for o in parsed(name).observations.to_pylist()
            if o["measure"] == measure}


def value(name: str, measure: str, **dims: str) -> float:
    return rows(name, measure)[tuple(sorted(dims.items()))]["value"]


def one(name: str, measure: str, **dims: str) -> dict:
    return rows(name, measure)[tuple(sorted(dims.items()))]


# --- real editions, one per layout ----------------------------------------------------------------------

@needs_data
def test_fy19_status_and_aor_tables_dated_by_the_participants_report_line():
    name = "FY19-detentionstats.xlsx"  # sheet 'ATD FY19'; the AOR title states no date
    assert value(name, "atd_active_population", status="FAMU") == 58608  # B7
    assert value(name, "atd_average_length_in_program", status="FAMU") == pytest.approx(292.2)  # C7
    assert value(name, "atd_active_population", status="ECMS-FAMU") == 44  # B8
    assert value(name, "atd_active_population", status="Total") == 83186  # B11
    assert value(name, "atd_active_population", aor="Atlanta", technology="Total") == 6835  # B20
    assert value(name, "atd_active_population", aor="Atlanta", technology="GPS") == 5749  # B21
    assert value(name, "atd_active_population", aor="Atlanta", technology="VoiceID") == 993  # B23
    assert value(name, "atd_active_population", aor="Washington DC", technology="Total") == 4596  # A112 'WashingtonDC'
    # A12: 'Data from BI Inc. Participants Report, 9.30.2019' (the edition is as of 2019-10-04)
    dated = {(o["grain"], o["period_end"]) for o in parsed(name).observations.to_pylist()
             if o["measure"].startswith("atd_")}
    assert dated == {("snapshot", date(2019, 9, 30))}
    assert not rows(name, "atd_daily_cost") and not rows(name, "atd_court_appearance")  # no such tables in FY19


@needs_data
def test_fy20_tr_rows_are_read_as_voiceid():
    name = "FY20-detentionstats.xlsx"  # sheet 'ATD EOFY20'
    atlanta = one(name, "atd_active_population", aor="Atlanta", technology="VoiceID")  # A22 'TR', B22
    assert atlanta["value"] == 1664 and atlanta["period_end"] == date(2020, 9, 30)
    assert value(name, "atd_average_length_in_program", aor="Atlanta", technology="VoiceID") == pytest.approx(
        1126.344951923)  # C22


@needs_data
def test_fy21_stray_unlabelled_row_is_not_read():
    name = "FY21-detentionstats.xlsx"  # sheet 'ATD FY21 YTD', A115 blank, B115 117682 below the last TR row
    assert 117682 not in {o["value"] for o in rows(name, "atd_active_population").values()}
    assert any("no label not read (B115)" in w for w in parsed(name).warnings)
    assert value(name, "atd_active_population", aor="Total", technology="Total") == 136026  # B18
    # the Footnotes-less sheet is dated by its title and its report line, both 10/23/2021 (A16, A12)
    assert one(name, "atd_active_population", status="Total")["period_end"] == date(2021, 10, 23)


@needs_data
def test_fy22_technology_table_and_its_voiceid_equals_the_aor_tr_rows():
    name = "FY22-detentionStats.xlsx"  # sheet 'ATD FY22'
    assert value(name, "atd_active_population", technology="VoiceID") == 19544  # B11
    assert value(name, "atd_daily_cost", technology="VoiceID") == pytest.approx(3517.92)  # C11
    assert value(name, "atd_active_population", technology="No Tech") == 36379  # A12 'No Technology', B12
    assert value(name, "atd_daily_cost", technology="No Tech") == 0  # C12: a printed zero, not a blank
    assert value(name, "atd_daily_cost", technology="Total") == pytest.approx(276221.52)  # C13
    assert one(name, "atd_daily_cost", technology="Total")["unit"] == "US dollars per day"
    tr = [o["value"] for k, o in rows(name, "atd_active_population").items()
          if dict(k).get("technology") == "VoiceID" and dict(k).get("aor") not in (None, "Total")]
    assert sum(tr) == 19544  # the AOR table's 'TR' rows (e.g. A33 under Atlanta: 471)
    assert value(name, "atd_active_population", aor="Atlanta", technology="VoiceID") == 471  # B33


@needs_data
def test_fy23_year_end_court_tables_cover_the_fiscal_year():
    name = "FY23_detentionStats.xlsx"  # sheet 'ATD EOFY23', E8 'FY23 Year End Court Appearance: Total Hearings*'
    attended = one(name, "atd_court_appearance", hearing_type="Total", outcome="Attended")  # F10
    assert attended["value"] == 78716
    assert (attended["grain"], attended["period_start"], attended["period_end"]) == (
        "fiscal_year", date(2022, 10, 1), date(2023, 9, 30))
    assert "FY23 Year End Court Appearance: Total Hearings" in attended["note"]
    assert value(name, "atd_court_appearance_share", hearing_type="Total", outcome="Attended") == 0.991  # G10
    assert value(name, "atd_court_appearance", hearing_type="Final", outcome="Total") == 11415  # F23
    assert value(name, "atd_court_appearance_share", hearing_type="Final", outcome="Failed to Attend") == 0.064  # G22
    # the Total row's 100% (G12, G23) is not a figure
    assert not any(dict(k)["outcome"] == "Total" for k in rows(name, "atd_court_appearance_share"))
    assert value(name, "atd_active_population", technology="VeriWatch") == 42  # A12 'Veriwatch', B12
    assert value(name, "atd_active_population", technology="Dual Tech") == 513  # A14 'Dual Technology', B14


@needs_data
def test_fy26_layout_court_tables_through_a_month():
    name = "FY26_detentionStats_04092026.xlsx"  # sheet 'ATD FY26 YTD', data as of 04/04/2026
    smartlink = one(name, "atd_active_population", technology="SmartLINK")  # B9
    assert smartlink["value"] == 131643 and smartlink["grain"] == "snapshot"
    assert smartlink["period_end"] == date(2026, 4, 4)  # A14 'Data from BI Inc. Participants Report, 04.04.2026'
    assert value(name, "atd_daily_cost", technology="SmartLINK") == pytest.approx(126377.280000354)  # C9
    assert value(name, "atd_active_population", status="FAMU") == 67299  # B19
    assert value(name, "atd_average_length_in_program", status="FAMU") == pytest.approx(928.972481018)  # C19
    assert value(name, "atd_active_population", aor="Washington DC", technology="Ankle Monitor") == 5940  # B139
    assert value(name, "atd_average_length_in_program", aor="Total", technology="Total") == pytest.approx(
        767.057990825)  # C29
    final = one(name, "atd_court_appearance", hearing_type="Final", outcome="Attended")  # E20 title, F22
    assert final["value"] == 7090
    assert (final["grain"], final["period_start"], final["period_end"]) == (
        "period", date(2025, 10, 1), date(2026, 3, 31))  # 'FY26 thru March'
    assert value(name, "atd_court_appearance_share", hearing_type="Final", outcome="Attended") == pytest.approx(
        0.892722236)  # G22
    assert value(name, "atd_court_appearance", hearing_type="Total", outcome="Failed to Attend") == 852  # F10


@needs_data
def test_stale_aor_title_is_dated_by_the_participants_report_line():
    # The 06/05/2025 edition's AOR title (A30) still says 'as of 5/17/2025', but its Total (B32 185,824) is the
    # technology table's (B15), whose report line (A16) says 5.31.2025; the 05/23/2025 edition's 5/17 Total
    # is 185,675 (B32). Dated by the title, the two would claim two values for one day.
    later = one("FY25_detentionStats06052025.xlsx", "atd_active_population", aor="Total", technology="Total")
    earlier = one("FY25_detentionStats05232025.xlsx", "atd_active_population", aor="Total", technology="Total")
    assert (later["value"], later["period_end"]) == (185824, date(2025, 5, 31))
    assert (earlier["value"], earlier["period_end"]) == (185675, date(2025, 5, 17))
    assert any("title says as of 2025-05-17" in w and "dated 2025-05-31" in w
               for w in parsed("FY25_detentionStats06052025.xlsx").warnings)


@needs_data
def test_stale_court_title_is_read_through_the_other_tables_month():
    # 02/27/2025: E8 'FY25 thru January ... Total Hearings', E19 'FY25 thru December ... Final Hearings', whose
    # Total (F23 3,045) is what the 02/14/2025 edition titles 'thru January'; 01/16/2025's December is 2,145.
    final = one("FY25_detentionStats02272025.xlsx", "atd_court_appearance", hearing_type="Final", outcome="Total")
    assert (final["value"], final["period_end"]) == (3045, date(2025, 1, 31))
    assert "read as through January 2025" in final["note"]
    december = one("FY25_detentionStats01162025.xlsx", "atd_court_appearance", hearing_type="Final", outcome="Total")
    assert (december["value"], december["period_end"]) == (2145, date(2024, 12, 31))


@needs_data
def test_unlabelled_technology_rows_are_not_read():
    name = "FY26_detentionStats02022026.xlsx"  # A32 blank, B32 4, C32 7.25 between SmartLINK and Ankle Monitor
    assert value(name, "atd_active_population", aor="Atlanta", technology="Total") == 5872  # B30
    assert value(name, "atd_active_population", aor="Atlanta", technology="Ankle Monitor") == 2466  # B33
    atlanta = {dict(k)["technology"] for k in rows(name, "atd_active_population") if dict(k).get("aor") == "Atlanta"}
    assert atlanta == {"Total", "SmartLINK", "Ankle Monitor", "Wristworn"}
    assert any("4 row(s) with figures but no label not read (B32, B66, B91, B112)" in w
               for w in parsed(name).warnings)


def _editions() -> list[str]:
    if WORKBOOKS is None or not WORKBOOKS.is_dir():
        return []
    return sorted(p.name for p in [*WORKBOOKS.glob("*.xlsx"), *WORKBOOKS.glob("third-party-modified/*.xlsx")])


# The ATD tables by fiscal year (survey of the shared editions): FY19-FY21 status and AOR only, FY22 adds the
# technology table, FY23 on adds the two court-appearance tables.
EXPECTED_BY_FISCAL_YEAR = {2019: {STATUS, AOR}, 2020: {STATUS, AOR}, 2021: {STATUS, AOR},
                           2022: {TECHNOLOGY, STATUS, AOR}}
ALL_TABLES = {TECHNOLOGY, STATUS, AOR, COURT_TOTAL, COURT_FINAL}


@needs_data
@pytest.mark.parametrize("name", _editions())
def test_every_edition_reads_its_atd_tables_and_their_totals_agree(name):
    result = parsed(name)
    sheets = [classify_sheet(sheet) for sheet in result.edition.sheets_used]
    fiscal_year = next(s.fiscal_year for s in sheets if s.role == "atd")
    layout = dict(result.edition.layout)
    found = {spec.name for spec in TABLES if spec.name in layout}
    assert found == EXPECTED_BY_FISCAL_YEAR.get(fiscal_year, ALL_TABLES)
    assert not found & set(result.edition.missing_tables)
    population = rows(name, "atd_active_population")
    totals = {population[k]["value"] for k in [(("status", "Total"),), (("aor", "Total"), ("technology", "Total")),
                                               (("technology", "Total"),)] if k in population}
    assert len(totals) == 1  # ICE's three Total rows count the same people
    aor_rows = [o["value"] for k, o in population.items()
                if dict(k).get("aor") not in (None, "Total") and dict(k)["technology"] == "Total"]
    assert sum(aor_rows) == totals.pop()  # a check of ICE's rows, never an emitted figure


# --- fixtures: a known title over a header its reader does not know --------------------------------------

def grid_of(cells: list[list]) -> Grid:
    """A sheet from rows of cells (a string, a number or None), as the workbook reader builds it."""
    width = max(len(r) for r in cells)
    padded = [r + [None] * (width - len(r)) for r in cells]
    texts = [[None if r[c] is None else str(r[c]) for r in padded] for c in range(width)]
    numbers = [[r[c] if isinstance(r[c], (int, float)) else None for r in padded] for c in range(width)]
    return Grid("ATD FY26 YTD", texts, numbers)


def context() -> ParseContext:
    return ParseContext(path=Path("FY26_detentionStats_fixture.xlsx"), fiscal_year=2026, as_of=date(2026, 4, 4),
                        source_url="", warnings=[])


TECHNOLOGY_ROWS = [["SmartLINK", 131643, 126377.28], ["Total", 180701, 265607.56]]


def test_technology_title_over_an_unknown_header_is_refused_in_one_line():
    grid = grid_of([["ATD Active Population Counts and Daily Cost by Technology"],
                    ["Technology", "Count", "ALIP"], *TECHNOLOGY_ROWS])
    with pytest.raises(SourceError) as err:
        read_sheet_tables(context(), grid, TABLES, TableReport())
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("FY26_detentionStats_fixture.xlsx [ATD FY26 YTD / ATD Active Population Counts")
    assert "table 'ATD Active Population Counts and Daily Cost by Technology': title matches but the header " \
           "does not (found 'Count | ALIP')" in message


def test_known_header_is_read_and_partial_drops_only_the_refused_table():
    good = grid_of([["ATD Active Population Counts and Daily Cost by Technology"],
                    ["Technology", "Count", "Daily Tech Cost"], *TECHNOLOGY_ROWS,
                    ["Data from BI Inc. Participants Report, 04.03.2026"]])
    ctx = context()
    read_sheet_tables(ctx, good, TABLES, TableReport())
    assert {(r["measure"], r["dims"]["technology"], r["period_end"]): r["value"] for r in ctx.rows} == {
        ("atd_active_population", "SmartLINK", date(2026, 4, 3)): 131643,
        ("atd_daily_cost", "SmartLINK", date(2026, 4, 3)): 126377.28,
        ("atd_active_population", "Total", date(2026, 4, 3)): 180701,
        ("atd_daily_cost", "Total", date(2026, 4, 3)): 265607.56}
    bad_court = grid_of([["FY26 Court Appearance: Total Hearings*"], ["Metric", "Count", "%"],
                         ["Attended", 36159, 0.977], ["Total", 37011, 1]])
    with pytest.raises(SourceError, match=r"its title names no period"):
        read_sheet_tables(context(), bad_court, TABLES, TableReport())
    ctx = context()
    ctx.policy = IngestPolicy(partial=True)
    report = TableReport()
    read_sheet_tables(ctx, bad_court, TABLES, report)
    assert ctx.rows == [] and report.missing == [COURT_TOTAL]


def test_court_title_periods():
    assert court_period("FY26 thru March Court Appearance: Total Hearings*") == (
        date(2025, 10, 1), date(2026, 3, 31), "period")
    assert court_period("FY25 thru November Court Appearance: Final Hearings*") == (
        date(2024, 10, 1), date(2024, 11, 30), "period")
    assert court_period("FY24 thru September Court Appearance: Total Hearings*") == (
        date(2023, 10, 1), date(2024, 9, 30), "fiscal_year")
    assert court_period("FY23 Year End Court Appearance: Final Hearings*") == (
        date(2022, 10, 1), date(2023, 9, 30), "fiscal_year")
    assert court_period("FY26 Court Appearance: Total Hearings*") is None
