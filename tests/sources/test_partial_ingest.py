"""A table whose title matches but whose header does not, through the real CLI: one line naming the table and
the file, nothing loaded; with --partial the rest of the workbook loads and the edition records the table as
missing. Also the format-drift lines of an ingest and `editions --changes`."""

from __future__ import annotations

import shutil

from helpers import Icetrack
from test_workbook_hazards import FY25, WORKBOOKS, find_cell, needs_data, read_cells, rebuild, sheet_xml


def _bad_header_workbook(tmp_path):
    # The book-ins table keeps its title, but its month header reads "Q1 .. Q4": a layout the reader does
    # not know. Reading those columns as months would misdate every figure.
    cells = read_cells(WORKBOOKS / FY25, "Detention FY25")
    row, col = find_cell(cells, "ICE Initial Book-Ins by Arresting Agency and Month")
    header = row + 1
    assert cells[header][col + 1] == "Oct"
    for i, label in enumerate(["Q1", "Q2", "Q3", "Q4"]):
        cells[header][col + 1 + i] = label
    return rebuild(WORKBOOKS / FY25, tmp_path / FY25, replace_sheets={"Detention FY25": sheet_xml(cells)})


@needs_data
def test_bad_header_refuses_the_whole_ingest_unless_partial(tmp_path):
    fixture = _bad_header_workbook(tmp_path)
    good = shutil.copy(WORKBOOKS / "FY26_detentionStats02022026.xlsx", tmp_path / "FY26_detentionStats02022026.xlsx")
    icetrack = Icetrack(tmp_path / "wh.duckdb")
    before = icetrack.json("editions")
    result = icetrack("ingest", str(fixture), str(good), expect=2)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].endswith(
        f"{FY25} [Detention FY25 / ICE Initial Book-Ins by Arresting Agency and Month: FY2025]: table 'ICE "
        "Initial Book-Ins by Arresting Agency and Month': title matches but the header does not (found 'Q1 | Q2 | "
        "Q3 | Q4 | Feb | Mar | Apr | May | Jun | Jul | Aug | Sep | Total'); nothing from this file was loaded "
        "(load the rest of it with --partial)")
    assert icetrack.json("editions") == before  # one ingest loads all its files or none: the good one neither

    icetrack("ingest", "--partial", str(fixture), str(good))
    # Other bytes than ICE's file: loaded as its own edition beside the bundled national subset of ICE's.
    loaded = [e for e in icetrack.json("editions") if e["file_name"] == FY25 and e["completeness"] == "full"]
    assert len(loaded) == 1
    edition_id = loaded[0]["edition_id"]
    assert loaded[0]["structure"]["missing_tables"] == ["ICE Initial Book-Ins by Arresting Agency and Month"]
    assert icetrack.json("series", "book_ins", "--vintage", edition_id) == []
    detained = icetrack.json("series", "currently_detained", "--vintage", edition_id,
                             "--dim", "criminality=Total", "--dim", "agency=Total")
    assert [r["value"] for r in detained] == [39080]


@needs_data
def test_ingest_says_each_format_change_and_editions_lists_them(tmp_path):
    icetrack = Icetrack(tmp_path / "wh.duckdb")
    names = ["FY26_detentionStats02022026.xlsx", "FY26_detentionStats_02122026.xlsx"]
    result = icetrack("ingest", *(str(WORKBOOKS / n) for n in names))
    assert ("format change since FY26_detentionStats02022026.xlsx: file name pattern: "
            "'FY_detentionStats<date>.xlsx' -> 'FY_detentionStats_<date>.xlsx'") in result.output
    changes = icetrack.json("editions", "--changes")
    assert [(c["file_name"], c["previous_file_name"], c["kind"], c["before"], c["after"]) for c in changes] == [
        (names[1], names[0], "file_name", "FY_detentionStats<date>.xlsx", "FY_detentionStats_<date>.xlsx")]
    recorded = {e["file_name"]: e["structure"] for e in icetrack.json("editions")}
    assert recorded[names[1]]["layout_changes"] == [
        {"kind": "file_name", "table": "(workbook)", "before": "FY_detentionStats<date>.xlsx",
         "after": "FY_detentionStats_<date>.xlsx"}]
    assert recorded[names[0]]["layout_changes"] == []
