"""The Facilities sheet reader against ICE's real workbooks (https://www.ice.gov/detain/detention-management; file
URL pattern https://www.ice.gov/doclib/detention/<file name>): one listing per facility row (name, city, state,
AOR, type, gender, last inspection), the guaranteed minimum as a figure, and a header it does not know refused
in one line. Cells below were read by hand (openpyxl) from the files named."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import pytest
from helpers import shared_data_dir

from icetrack.domain.edition import SourceError
from icetrack.domain.plausible import IngestPolicy
from icetrack.sources.ice_detention.facilities import iso_day, read_facilities
from icetrack.sources.ice_detention.observations import ParseContext
from icetrack.sources.ice_detention.sheets import classify_sheet
from icetrack.sources.ice_detention.workbook import FastexcelWorkbook, Grid

SHARED = shared_data_dir()
WORKBOOKS = SHARED / "ice-detention-stats" if SHARED else None
needs_data = pytest.mark.skipif(
    WORKBOOKS is None or not WORKBOOKS.is_dir(),
    reason="real ICE workbooks not found (set $ICETRACK_SHARED_DATA to the folder of real public source files)")


def _context(path: Path, fiscal_year: int, as_of: date, policy: IngestPolicy | None = None) -> ParseContext:
    return ParseContext(path=path, fiscal_year=fiscal_year, as_of=as_of, source_url="https://www.ice.gov/doclib/"
                        f"detention/{path.name}", warnings=[], policy=policy or IngestPolicy())


@cache
def read(relative: str, fiscal_year: int, as_of: date):
    """(listings, observations, warnings) of one workbook's Facilities sheet."""
    path = WORKBOOKS / relative
    workbook = FastexcelWorkbook(path)
    sheet = next(s for s in workbook.sheet_names if classify_sheet(s).role == "facilities")
    ctx = _context(path, fiscal_year, as_of)
    listings = read_facilities(ctx, workbook.grid(sheet))
    return listings, ctx.rows, ctx.warnings


def one(listings: list[dict], name: str) -> dict:
    found = [x for x in listings if x["name"] == name]
    assert len(found) == 1, (name, found)
    return found[0]


def figure(rows: list[dict], measure: str, facility: str, **dims) -> float:
    found = [r for r in rows if r["measure"] == measure and r["dims"]["facility"] == facility
             and all(r["dims"].get(k) == v for k, v in dims.items())]
    assert len(found) == 1, (measure, facility, dims, found)
    return found[0]["value"]


@needs_data
def test_fy19_listing_with_group_header_row_and_two_inspections():
    listings, rows, _ = read("FY19-detentionstats.xlsx", 2019, date(2019, 10, 7))
    assert len(listings) == 213  # A8 .. A220 of 'Facilities FY19'
    stewart = one(listings, "STEWART DETENTION CENTER")  # row 8, below 'Name' in A7 and group labels in row 5
    assert stewart["position"] == 1
    assert (stewart["city"], stewart["state"], stewart["aor"], stewart["facility_type"], stewart["gender"]) == \
        ("LUMPKIN", "GA", "ATL", "DIGSA", "Male")  # C8, D8, F8, G8, H8
    assert stewart["inspection_type"] == "Regular"  # X8
    assert stewart["inspection_date"] == "2019-05-09"  # AA8 printed as text '5/9/2019'
    assert stewart["inspection_more"]["Second to Last Inspection Date"] == "2018-05-03"  # AE8, a real date cell
    assert figure(rows, "facility_guaranteed_minimum", "STEWART DETENTION CENTER") == 1600  # W8
    assert figure(rows, "facility_adp", "STEWART DETENTION CENTER", category="Level A") == \
        pytest.approx(1150.150684931497)  # J8
    # the street address (B8) and ZIP (E8) are not kept, on the listing or in any figure's dims
    assert not {"address", "zip"} & set(stewart)
    assert not any("146 CCA ROAD" in v or "31815" in v for r in rows for v in r["dims"].values())


@needs_data
def test_fy26_listing_city_dim_and_guaranteed_minimum_dated_at_the_pull():
    listings, rows, _ = read("FY26_detentionStats_04092026.xlsx", 2026, date(2026, 4, 2))
    adams = one(listings, "ADAMS COUNTY CORRECTIONAL CENTER")  # A11 (header 'Name' in A10)
    assert (adams["city"], adams["gender"], adams["inspection_date"], adams["inspection_rating"]) == \
        ("NATCHEZ", "Male", "2025-01-16", "Pass")  # C11, H11, Y11 (a date cell), AA11
    gm = [r for r in rows if r["measure"] == "facility_guaranteed_minimum"
          and r["dims"]["facility"] == "ADAMS COUNTY CORRECTIONAL CENTER"]
    assert [(r["value"], r["grain"], r["period_end"], r["unit"]) for r in gm] == [(1436, "snapshot", date(2026, 4, 2),
                                                                                   "beds")]  # W11
    assert figure(rows, "facility_adp", "ADAMS COUNTY CORRECTIONAL CENTER", category="Level A") == \
        pytest.approx(1709.327869)  # J11
    assert {r["dims"]["city"] for r in rows if r["dims"]["facility"] == "ADAMS COUNTY CORRECTIONAL CENTER"} == \
        {"NATCHEZ"}
    # the row printed without a state (D100 blank) is read, without a state dim
    imperial = one(listings, "IMPERIAL REGIONAL DETENTION FACILITY")
    assert imperial["state"] is None and imperial["city"] == "CALEXICO"
    assert figure(rows, "facility_guaranteed_minimum", "IMPERIAL REGIONAL DETENTION FACILITY") == 640  # W100


@needs_data
def test_fy25_na_guaranteed_minimum_is_no_figure_and_pending_inspection_is_kept():
    listings, rows, warnings = read("FY25_detentionStats12112024.xlsx", 2025, date(2024, 11, 12))
    assert figure(rows, "facility_guaranteed_minimum", "ADAMS COUNTY DET CENTER") == 1100  # W8
    with_gm = {r["dims"]["facility"] for r in rows if r["measure"] == "facility_guaranteed_minimum"}
    na = [x["name"] for x in listings if x["name"] not in with_gm]
    assert len(na) == 62  # printed 'N/A' in column W: no figure, and no warning per cell
    assert not any("N/A" in w for w in warnings)
    adelanto = one(listings, "ADELANTO ICE PROCESSING CENTER")  # row 9: X9 'ODO', Y9 2024-07-18
    assert (adelanto["inspection_type"], adelanto["inspection_date"]) == ("ODO", "2024-07-18")
    assert not any("inspection_pending" in x for x in listings)  # column Z 'Pending FY25 Inspection' is blank here
    later, _, _ = read("FY25_detentionStats01162025.xlsx", 2025, date(2025, 1, 6))
    assert (later[0]["name"], later[0]["inspection_pending"]) == ("ADAMS COUNTY DET CENTER", "Scheduled")  # A8, Z8


@needs_data
def test_fy23_odo_and_nakamoto_inspections():
    listings, _, _ = read("FY23_detentionStats.xlsx", 2023, date(2023, 9, 30))
    south_texas = one(listings, "SOUTH TEXAS ICE PROCESSING CENTER")
    assert (south_texas["inspection_type"], south_texas["inspection_date"], south_texas["inspection_rating"]) == \
        ("ODO", "2023-02-09", "Superior")
    assert south_texas["inspection_more"]["Last Nakamoto Inspection Date"] == "2022-02-17"


@needs_data
def test_a_facility_printed_twice_keeps_both_listings():
    listings, rows, warnings = read("third-party-modified/FY25_detentionStats07072025.xlsx", 2025, date(2025, 6, 23))
    nassau = [x for x in listings if x["name"] == "NASSAU COUNTY CORRECTIONAL CENTER"]  # rows 144 and 146
    assert [x["listing"] for x in nassau] == [1, 2]
    repeat = [r for r in rows if r["dims"]["facility"] == "NASSAU COUNTY CORRECTIONAL CENTER"
              and r["dims"].get("listing") == "2" and r["dims"].get("category") == "Level A"]
    assert [r["value"] for r in repeat] == [pytest.approx(0.266932270916335)]  # J146
    assert any("listed 2 times" in w for w in warnings)


def _grid(header: list[str], row: list) -> Grid:
    texts = [[h, str(v) if v is not None else None] for h, v in zip(header, row)]
    numbers = [[None, v if isinstance(v, (int, float)) else None] for v in row]
    return Grid("Facilities FY25", texts, numbers)


def test_a_header_without_the_level_columns_is_refused_in_one_line(tmp_path):
    grid = _grid(["Name", "City", "State", "AOR", "Type Detailed", "FY25 ALOS", "ADP"],
                 ["SOME COUNTY JAIL", "TOWN", "TX", "HOU", "IGSA", 12.5, 40.0])
    with pytest.raises(SourceError) as err:
        read_facilities(_context(tmp_path / "FY25_x.xlsx", 2025, date(2025, 1, 6)), grid)
    message = str(err.value)
    assert "\n" not in message and "lacks level a, level b, level c, level d" in message and "--partial" in message
    ctx = _context(tmp_path / "FY25_x.xlsx", 2025, date(2025, 1, 6), IngestPolicy(partial=True))
    assert read_facilities(ctx, grid) == [] and ctx.rows == []
    assert "facility list not read (--partial)" in ctx.warnings[0]


def test_a_text_in_a_figure_cell_skips_that_cell_only(tmp_path):
    header = ["Name", "City", "State", "AOR", "Type Detailed", "Level A", "Level B", "Level C", "Level D",
              "Guaranteed Minimum"]
    grid = _grid(header, ["SOME COUNTY JAIL", "TOWN", "TX", "HOU", "IGSA", 1.0, "Scheduled", 2.0, 3.0, "N/A"])
    ctx = _context(tmp_path / "FY25_x.xlsx", 2025, date(2025, 1, 6))
    (listing,) = read_facilities(ctx, grid)
    assert listing["city"] == "TOWN"
    assert sorted(r["dims"]["category"] for r in ctx.rows) == ["Level A", "Level C", "Level D"]
    assert len(ctx.warnings) == 1 and "'Scheduled'" in ctx.warnings[0]


def test_inspection_dates_read_as_iso():
    assert iso_day("5/9/2019") == "2019-05-09"
    assert iso_day("2018-05-03 00:00:00") == "2018-05-03"
    assert iso_day("Scheduled FY26") == "Scheduled FY26"
