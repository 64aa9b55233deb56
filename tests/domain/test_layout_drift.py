"""Format drift between consecutive workbook editions: hand-built layouts (each kind of change), and the
FY2026 differences in ICE's real workbooks (https://www.ice.gov/detain/detention-management)."""

from __future__ import annotations

from pathlib import Path

import pytest

from icetrack.domain.layout_drift import LayoutChange, layout_changes, without_year


def _table(title: str, header: list[str], *, decimals=True, prefilled=0, sheet="Detention FY25") -> dict:
    return {"sheet": sheet, "title": title, "header": header, "decimals": decimals, "rows": 3,
            "prefilled": prefilled}


MONTHS = ["Oct", "Nov", "Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "FY Overall"]


def _layout(**tables) -> dict:
    return {"(workbook)": {"file_name": "FY25_detentionStats<date>.xlsx",
                           "sheets": ["Header", "Detention FY25", "Facilities FY25", "Monthly Segregation"]},
            **tables}


def test_fiscal_year_roll_over_is_not_a_change():
    before = _layout(ADP=_table("ICE Average Daily Population by Month: FY2025 YTD", MONTHS))
    after = {"(workbook)": {"file_name": "FY26_detentionStats<date>.xlsx",
                            "sheets": ["Header", "Detention FY26", "Facilities FY26", "Monthly Segregation"]},
             "ADP": _table("ICE Average Daily Population by Month: EOFY2026", MONTHS, sheet="Detention FY26")}
    assert layout_changes(before, after) == []
    assert without_year("Detention FY21 YTD") == without_year("Detention EOFY2022") == "Detention FY"


def test_every_kind_of_change_is_one_line():
    before = _layout(ADP=_table("ICE Average Daily Population by Month: FY2025", MONTHS),
                     Gone=_table("ICE Removals: FY2025", ["Total"]))
    after = _layout(ADP=_table("ICE Average Daily Population by Facility Type and Month: FY2025",
                               MONTHS[:-1] + ["FY Total"], decimals=False, prefilled=3),
                    New=_table("Removals with a FAMU Identifier", ["Total"]))
    after["(workbook)"] = {"file_name": "FY25_detentionStats_<date>.xlsx",
                           "sheets": ["Header", "Detention FY25", "FY25 Monthly Segregation", "Semiannual"]}
    lines = [c.line() for c in layout_changes(before, after)]
    assert lines == [
        "file name pattern: 'FY_detentionStats<date>.xlsx' -> 'FY_detentionStats_<date>.xlsx'",
        "sheet renamed: 'Monthly Segregation' -> 'FY Monthly Segregation'",
        "sheet removed: 'Facilities FY'",
        "sheet added: 'Semiannual'",
        "ADP: title changed: 'ICE Average Daily Population by Month: FY2025' -> "
        "'ICE Average Daily Population by Facility Type and Month: FY2025'",
        # No word in common: a column removed and one added, not guessed to be a rename.
        "ADP: column removed: 'FY Overall'",
        "ADP: column added: 'FY Total'",
        "ADP: averages rounded to whole numbers (figures that had decimals are whole numbers)",
        "ADP: months after the table's date pre-filled (3 figures in months after its date)",
        "Gone: table removed: 'Detention FY25: ICE Removals: FY2025'",
        "New: table added: 'Detention FY25: Removals with a FAMU Identifier'",
    ]


def test_columns_added_together_are_one_change_and_renames_pair_by_words():
    before = {"Facilities": _table("", ["Name", "Last Inspection Date", "Second to Last Inspection Rating"],
                                   decimals=None)}
    after = {"Facilities": _table("", ["Name", "Last Nakamoto Inspection Date", "Guaranteed Minimum",
                                       "Level A"], decimals=None)}
    assert layout_changes(before, after) == [
        LayoutChange("column_renamed", "Facilities", "Last Inspection Date", "Last Nakamoto Inspection Date"),
        LayoutChange("column_removed", "Facilities", "Second to Last Inspection Rating", ""),
        LayoutChange("column_added", "Facilities", "", "Guaranteed Minimum', 'Level A"),
    ]


def _workbook_layout(folder: Path, name: str) -> dict:
    from icetrack.sources.ice_detention import parse_workbook

    return dict(parse_workbook(folder / name).edition.layout)


def test_fy2026_layout_differences_in_ice_workbooks(shared_data):
    folder = shared_data / "ice-detention-stats"
    fy25_last = _workbook_layout(folder, "FY25_detentionStats08292025.xlsx")
    fy26_first = _workbook_layout(folder, "FY26_detentionStats02022026.xlsx")
    fy26_second = _workbook_layout(folder, "FY26_detentionStats_02122026.xlsx")
    # FY2025 -> FY2026: the segregation sheet gains the year in its name; the Facilities sheet drops the
    # "Pending FY25 Inspection" column.
    assert [c.line() for c in layout_changes(fy25_last, fy26_first)] == [
        "sheet renamed: 'Monthly Segregation' -> 'FY Monthly Segregation'",
        "Facilities: column removed: 'Pending FY Inspection'",
    ]
    assert "Pending FY25 Inspection" in fy25_last["Facilities"]["header"]
    # Within FY2026: ICE's file name gains an underscore before the date (FY26_detentionStats_02122026.xlsx).
    assert layout_changes(fy26_first, fy26_second) == [
        LayoutChange("file_name", "(workbook)", "FY_detentionStats<date>.xlsx", "FY_detentionStats_<date>.xlsx")]


@pytest.mark.parametrize("name", ["FY19-detentionstats.xlsx", "FY26_detentionStats_04092026.xlsx"])
def test_layout_records_every_national_table(shared_data, name):
    layout = _workbook_layout(shared_data / "ice-detention-stats", name)
    book_ins = layout["ICE Initial Book-Ins by Arresting Agency and Month"]
    assert book_ins["header"][:3] == ["Oct", "Nov", "Dec"] and book_ins["decimals"] is False
    assert layout["ICE Average Daily Population by Arresting Agency, Month and Criminality"]["decimals"] is True
