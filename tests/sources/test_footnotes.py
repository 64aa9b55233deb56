"""Tests of the per-table dates read from the Footnotes sheet of ICE detention-statistics workbooks.

Unit tests use hand-written footnote lines copied from (or modelled on) ICE's wording; the real-file tests
read ICE's own workbooks via ``helpers.shared_data_dir`` and skip when they are absent.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache

import pytest
from helpers import shared_data_dir

from icetrack.sources.ice_detention.edition import find_as_of, original_file_name
from icetrack.sources.ice_detention.footnotes import (
    dates_from_lines,
    parse_line,
    table_dates,
)
from icetrack.sources.ice_detention.workbook import FastexcelWorkbook, find_sheet

SHARED = shared_data_dir()
WORKBOOKS = SHARED / "ice-detention-stats" if SHARED else None
NO_DATA = "real ICE workbooks not found (set $ICETRACK_SHARED_DATA to the folder of real public source files)"
needs_data = pytest.mark.skipif(WORKBOOKS is None or not WORKBOOKS.is_dir(), reason=NO_DATA)
ALL_FILES = sorted(WORKBOOKS.rglob("*.xlsx")) if WORKBOOKS and WORKBOOKS.is_dir() else []
CORE = ("currently_detained", "book_ins", "book_outs", "removals", "detention")


def _fy(name: str) -> int:
    return 2000 + int(re.match(r"FY(\d\d)", original_file_name(name)).group(1))


@cache
def _read(relative: str):
    workbook = FastexcelWorkbook(WORKBOOKS / relative)
    # The Facilities sheet's Data Source date, read as the parser reads it.
    facilities = workbook.grid(find_sheet(workbook.sheet_names, "facilities"))
    return (table_dates(workbook, _fy(relative.split("/")[-1])),
            find_as_of(WORKBOOKS / relative, workbook, [facilities]))


# ---- single lines: wording variants ------------------------------------------------------------------------

def test_through_line_with_run_and_eid_dates():
    line = parse_line("FY2025 YTD ICE Removals data are updated through 08/09/2025 "
                      "(IIDS Run Date 08/11/2025; EID as of 08/09/2025).")
    assert (line.topic, line.date, line.kind) == ("removals", date(2025, 8, 9), "through")
    assert (line.run_date, line.eid_as_of) == (date(2025, 8, 11), date(2025, 8, 9))
    assert (line.label, line.label_year) == ("FY2025", 2025)


def test_snapshot_without_of_and_with_double_space():
    no_of = parse_line("Aliens Currently in ICE Detention Facilities data are a snapshot as 04/20/2025 "
                       "(IIDS Run Date 04/21/2025; EID as of 04/20/2025).")
    assert (no_of.topic, no_of.date, no_of.kind, no_of.label) == (
        "currently_detained", date(2025, 4, 20), "snapshot", None)
    double = parse_line("ICE National Docket data are a snapshot as of  01/14/2024 "
                        "(IIDS v2.0 run date 01/15/2024; EID as of 01/14/2024).")
    assert (double.topic, double.date, double.run_date) == ("national_docket", date(2024, 1, 14), date(2024, 1, 15))
    older = parse_line("Non Citizens Currently in ICE Detention Facilities data are a snapshot as 01/14/2024 (x)")
    assert (older.topic, older.date) == ("currently_detained", date(2024, 1, 14))


def test_data_is_and_book_out_wordings():
    assert parse_line("FY2025 YTD ICE Book-ins data is updated through 08/23/2025 (x)").topic == "book_ins"
    assert parse_line("FY2025 YTD ICE Final Book Out data are updated through 08/23/2025 (x)").topic == "book_outs"
    assert parse_line("FY2024 YTD ICE Final Releases data are updated through 01/13/2024 (x)").topic == "book_outs"
    assert parse_line("FY2021 YTD ICE Releases data are updated through 09/11/2021 (x)").topic == "book_outs"
    assert parse_line("FY2025 YTD ICE Detention data are updated through 08/23/2025 (x)").topic == "detention"
    assert parse_line("FY2025 YTD Encounters data is updated through 08/26/2025 (x)").topic == "encounters"
    iclos = parse_line("ICE ICLOS and Detainees Data are updated through 08/26/2025 (IIDS Run Date 08/27/2025).")
    assert (iclos.topic, iclos.date, iclos.run_date) == ("iclos", date(2025, 8, 26), date(2025, 8, 27))


def test_fy2019_fy2020_wordings_and_two_digit_years():
    fy19 = parse_line("EOFY2019 ICE Detention data is filtered through 09/30/2019 "
                      "(IIDS v.1.34 run date 10/06/2019; EID as of 10/04/2019).")
    assert (fy19.topic, fy19.date, fy19.label, fy19.run_date) == (
        "detention", date(2019, 9, 30), "EOFY2019", date(2019, 10, 6))
    fy20 = parse_line("EOFY2020 ICE Final Releases data are historic and static. Data are filtered through "
                      "9/30/2020 (IIDS v 1.34 run as of 10/04/2020;  EID as of 10/02/2020).")
    assert (fy20.topic, fy20.date, fy20.run_date, fy20.label_year) == (
        "book_outs", date(2020, 9, 30), date(2020, 10, 4), 2020)
    short = parse_line("FY25 ICE Removals data are updated through 8/4/25 (IIDS Run Date 8/5/25)")
    assert (short.date, short.run_date, short.label, short.label_year) == (
        date(2025, 8, 4), date(2025, 8, 5), "FY2025", 2025)
    typo = parse_line("ICE ICLSO and Detainees Data are updated through 8/15/2021, as of 09/11/2021 (x)")
    assert (typo.topic, typo.date) == ("iclos", date(2021, 8, 15))


def test_lines_that_are_not_table_dates():
    assert parse_line("Burma (Myanmar) designated TPS as of 05/25/2021. Arrests, Bookins, and Removals "
                      "reported are since the designation date.") is None
    assert parse_line("BMU provided data containing Bonds Posted cases recorded from 11/01/2023 - 12/30/2024 . "
                      "Data were received on 12/31/2024.") is None
    assert parse_line("Length of Program = 1/31/2020 ATD Original Start Date +1") is None
    assert parse_line("EOFY2024 data are historic and static. ICE Removals data are updated through 09/30/2024 "
                      "(x)").label == "EOFY2024"
    assert parse_line("FY2018 - 2022 YTD ICE Removals data are updated through 03/31/2022 (x)").label == "FY2018-2022"


# ---- assignment rules ---------------------------------------------------------------------------------------

def _lines(*texts, section=""):
    return [parse_line(t, section=section) for t in texts]


def test_first_line_wins_and_later_dates_are_conflicts():
    lines = _lines("FY2025 YTD ICE Removals data are updated through 08/09/2025 (x)",
                   "FY2025 YTD ICE Detention data are updated through 08/23/2025 (x)",
                   "FY2025 YTD ICE Detention data are updated through 08/23/2025 (x)",  # repeat: not a conflict
                   "· FY2025 ICE Detention data are updated through 04/22/2025 (x)",
                   "· FY2025 ICE Removals data are updated through 04/22/2025 (x)")
    result = dates_from_lines(lines, 2025)
    assert result.date_of("removals") == date(2025, 8, 9)
    assert result.date_of("detention") == date(2025, 8, 23)
    assert [(c.topic, c.date) for c in result.conflicts] == [
        ("detention", date(2025, 4, 22)), ("removals", date(2025, 4, 22))]


def test_eofy_of_an_earlier_year_is_kept_apart_but_eofy_of_this_year_counts():
    lines = _lines("EOFY2023 ICE Detention data are updated through 09/30/2023 (x)",
                   "FY2018 - 2022 ICE Removals data are updated through 03/31/2022 (x)",
                   "FY2024 YTD ICE Book-ins data is updated through 01/13/2024 (x)")
    result = dates_from_lines(lines, 2024)
    assert result.date_of("detention") is None and result.date_of("removals") is None
    assert result.date_of("book_ins") == date(2024, 1, 13)
    assert [(o.label, o.date) for o in result.other_years] == [
        ("EOFY2023", date(2023, 9, 30)), ("FY2018-2022", date(2022, 3, 31))]
    year_end = dates_from_lines(lines[:1], 2023)
    assert year_end.date_of("detention") == date(2023, 9, 30) and year_end.other_years == []


def test_section_title_supplies_a_topic_no_line_names():
    lines = (_lines("EOFY2019 ICE Detention data is filtered through 09/30/2019 (x)",
                    section="FY2019 ICE Average Daily Population and ICE Average Length of Stay")
             + _lines("ICE National Docket data are a snapshot as of 10/04/2019 (x)",
                      section="ICE Currently Detained Population")
             + _lines("EOFY2019 ICE Detention data is filtered through 09/29/2019 (x)",
                      section="FY2019 ICE Initial Book-Ins"))
    result = dates_from_lines(lines, 2019)
    assert result.topics["book_ins"].date == date(2019, 9, 29)
    assert result.topics["book_ins"].via == "section"
    assert (result.topics["currently_detained"].date, result.topics["currently_detained"].kind) == (
        date(2019, 10, 4), "snapshot")
    assert result.topics["detention"].via == "text"


# ---- ICE's real workbooks -----------------------------------------------------------------------------------

@needs_data
@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_every_real_workbook_dates_its_core_tables(path):
    result, iids = _read(str(path.relative_to(WORKBOOKS)))
    assert result.footnotes_sheet == "Footnotes"
    assert iids is not None
    for topic in CORE:
        stated = result.date_of(topic)
        assert stated is not None, topic
        # A table's date falls within two weeks of the Facilities sheet's IIDS date in every edition.
        assert abs((stated - iids).days) <= 16, (topic, stated, iids)


@needs_data
def test_fy25_august_2025_removals_lag_book_ins():
    result, iids = _read("FY25_detentionStats08292025.xlsx")
    assert iids == date(2025, 8, 18)
    assert result.date_of("removals") == date(2025, 8, 9)
    assert result.topics["removals"].run_date == date(2025, 8, 11)
    assert result.date_of("book_ins") == date(2025, 8, 23)
    assert result.date_of("book_outs") == date(2025, 8, 23)
    assert result.date_of("detention") == date(2025, 8, 23)
    assert (result.date_of("currently_detained"), result.topics["currently_detained"].kind) == (
        date(2025, 8, 24), "snapshot")
    assert result.date_of("iclos") == date(2025, 8, 26) and result.date_of("encounters") == date(2025, 8, 26)
    assert result.date_of("atd") == date(2025, 8, 23)
    # The semiannual block's "FY2025 ICE Detention/Removals ... 04/22/2025" lines lose to the first lines.
    assert {(c.topic, c.date) for c in result.conflicts} == {
        ("detention", date(2025, 4, 22)), ("removals", date(2025, 4, 22))}


@needs_data
def test_fy21_year_file_tables_predate_the_facilities_line():
    result, iids = _read("FY21-detentionstats.xlsx")
    assert iids == date(2021, 9, 27)
    for topic in CORE:
        assert result.date_of(topic) == date(2021, 9, 11), topic
    assert result.topics["detention"].run_date == date(2021, 9, 13)
    assert result.topics["book_ins"].via == "section"  # FY2021 has no "Book-ins data" line
    assert result.date_of("iclos") == date(2021, 8, 15)
    assert result.date_of("atd") == date(2021, 10, 23)


@needs_data
def test_fy24_january_2024_and_its_eofy2023_lines():
    result, iids = _read("20240119051317-FY24_detentionStats01182024.xlsx")
    assert iids == date(2024, 1, 12)
    assert result.date_of("removals") == date(2024, 1, 13)
    assert result.date_of("currently_detained") == date(2024, 1, 14)
    assert result.date_of("national_docket") == date(2024, 1, 14)
    assert result.date_of("atd") == date(2024, 1, 13)
    assert len(result.other_years) == 12
    assert {(o.label, o.date) for o in result.other_years} == {("EOFY2023", date(2023, 9, 30))}


@needs_data
def test_fy19_and_fy20_year_end_files():
    fy19, iids19 = _read("FY19-detentionstats.xlsx")
    assert iids19 == date(2019, 10, 7)
    assert fy19.date_of("detention") == date(2019, 9, 30) and fy19.topics["detention"].label == "EOFY2019"
    assert fy19.date_of("book_ins") == date(2019, 9, 30)
    # FY2019 dates the currently-detained table only by its section's National Docket snapshot.
    assert (fy19.date_of("currently_detained"), fy19.topics["currently_detained"].via) == (
        date(2019, 10, 4), "section")
    assert "atd" not in fy19.topics and "iclos" not in fy19.topics
    fy20, iids20 = _read("FY20-detentionstats.xlsx")
    assert iids20 == date(2020, 9, 30)
    assert fy20.date_of("removals") == date(2020, 9, 30)
    assert fy20.topics["removals"].run_date == date(2020, 10, 6)
    assert fy20.date_of("currently_detained") == date(2020, 10, 2)


@needs_data
def test_fy22_and_fy23_year_end_files():
    fy22, _ = _read("FY22-detentionStats.xlsx")
    assert fy22.date_of("book_outs") == date(2022, 9, 24)
    assert [(c.topic, c.date) for c in fy22.conflicts] == [("book_outs", date(2022, 9, 26))]
    assert {o.label for o in fy22.other_years} == {"FY2018-2022"}
    fy23, iids23 = _read("FY23_detentionStats.xlsx")
    assert iids23 == date(2023, 9, 30)
    assert fy23.date_of("removals") == date(2023, 9, 30)
    # The FY23 file also carries an "ATD FY24 YTD" sheet (as of 10/07/2023): the FY23 one is taken.
    assert fy23.date_of("atd") == date(2023, 9, 30)


@needs_data
def test_fy26_april_2026():
    result, iids = _read("FY26_detentionStats_04092026.xlsx")
    assert iids == date(2026, 4, 2)
    assert result.date_of("removals") == date(2026, 4, 4)
    assert result.date_of("currently_detained") == date(2026, 4, 4)
    assert result.date_of("encounters") == date(2026, 4, 7)
    assert result.conflicts == [] and result.other_years == []
