"""Person-level FOIA readers: ERO-LESA Seattle exports, DDP raw xlsx / processed files, the UWCHR joined file.

Real public files (UWCHR's Seattle ERO-LESA exports, https://github.com/UWCHR/ice-enforce, and its DDP join,
https://github.com/UWCHR/deport-data-proj) come from the ``shared_data`` fixture and are never copied into the
repository; tests that need them skip when they are absent. Bad-input and xlsx fixtures are built in
``tmp_path`` (no binary fixture is committed); every value in them is made up.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from icetrack.domain.person_schema import EVENT_DATE, TABLES
from icetrack.domain.edition import SourceError
from icetrack.sources.ddp import read_ddp, read_ddp_joined
from icetrack.sources.ero_lesa import read_ero_lesa

MARKER = re.compile(r"\(?\s*b\s*\)?\s*\(\s*\d\s*\)", re.IGNORECASE)  # any surviving '(b)(6)'-like text


def collect(release):
    """Exhaust a PersonRelease: {table: pa.Table} (checking every batch against the canonical schema)."""
    parts = defaultdict(list)
    for table, batch in release.batches:
        assert batch.schema.equals(TABLES[table]), table
        parts[table].append(batch)
    return {t: pa.Table.from_batches(b, schema=TABLES[t]) for t, b in parts.items()}


def date_range(tab: pa.Table, col: str):
    c = tab.column(col)
    if c.null_count == len(c):
        return None
    return pc.min(c).as_py().date(), pc.max(c).as_py().date()


def assert_no_marker(tab: pa.Table):
    """No redaction marker survives in any string column or in the extra map."""
    for f in tab.schema:
        if pa.types.is_string(f.type):
            vals = tab.column(f.name).drop_null()
            if len(vals):
                assert not pc.any(pc.match_substring_regex(vals, MARKER.pattern, ignore_case=True)).as_py(), f.name
    extra = tab.column("extra").combine_chunks()
    items = extra.items if len(extra) else pa.array([], pa.string())
    assert not any(MARKER.search(v) for v in items.to_pylist() if v), "marker in extra"


def one_line_error(excinfo, path: Path, *words: str):
    msg = str(excinfo.value)
    assert "\n" not in msg
    assert path.name in msg
    for w in words:
        assert w.lower() in msg.lower(), (w, msg)


# --- ERO-LESA (Seattle) -------------------------------------------------------------------------------------

SEATTLE = "uwchr-ice-enforce/aor-seattle-raw"
# file -> (table, rows, event-date range or None, cutoff, removal_type, first data line)
SEATTLE_FILES = {
    "arrests.csv.gz": ("arrests", 32_549, (date(2012, 1, 1), date(2019, 7, 5)), date(2019, 7, 6), None, 8),
    "bookins.csv.gz": ("detention_stints", 36_811, (date(2012, 1, 1), date(2019, 7, 5)), date(2019, 7, 6), None, 8),
    "expedited-removals.csv.gz": ("removals", 6_529, (date(2012, 1, 3), date(2019, 7, 1)), date(2019, 7, 6),
                                  "expedited", 8),
    "other-removals.csv.gz": ("removals", 20_384, (date(2011, 11, 30), date(2019, 7, 2)), date(2019, 7, 6),
                              "other", 8),
    "CAP-FY2017-arrests.csv.gz": ("arrests", 2_656, (date(2016, 10, 3), date(2017, 9, 29)), None, None, 7),
    "CAP-FY2018-arrests.csv.gz": ("arrests", 1_410, (date(2017, 10, 2), date(2018, 4, 27)), date(2018, 4, 27),
                                  None, 7),
    "CAP-FY2017-encounters.csv.gz": ("encounters", 11_712, None, None, None, 7),
    "CAP-FY2018-encounters.csv.gz": ("encounters", 7_829, None, date(2018, 4, 27), None, 7),
    "CAP-FY2017-removals.csv.gz": ("removals", 1_917, None, None, "cap", 7),
    "CAP-FY2018-removals.csv.gz": ("removals", 1_267, None, date(2018, 4, 27), "cap", 7),
}


@pytest.mark.parametrize("name", sorted(SEATTLE_FILES))
def test_seattle_rows_dates_cutoff(shared_data, name):
    table, rows, rng, cutoff, removal_type, first_line = SEATTLE_FILES[name]
    rel = read_ero_lesa(shared_data / SEATTLE / name)
    got = collect(rel)
    assert list(got) == [table]
    tab = got[table]
    assert tab.num_rows == rows == rel.report.rows[table]
    assert date_range(tab, EVENT_DATE[table]) == rng
    assert rel.cutoff == cutoff
    # one FOIA production = one release: the UW v. DHS tables, and each CAP fiscal year
    expected_release = ("uwchr-seattle-cap-fy" + name[6:10]) if name.startswith("CAP-") else "uwchr-seattle-uw-v-dhs"
    assert rel.release_id == expected_release
    assert rel.edition.source == "ice_ero_lesa" and rel.edition.publisher.startswith("U.S. Immigration and Customs")
    assert tab.column("source_row")[0].as_py() == first_line  # line number in the decompressed file
    assert tab.column("unique_identifier").null_count == rows  # the exports carry no person identifier
    if table == "removals":
        assert pc.unique(tab.column("removal_type")).to_pylist() == [removal_type]
    assert_no_marker(tab)


def test_seattle_redactions_and_unknown_columns(shared_data):
    """Exact redacted-cell counts per column as measured; Date of Birth and Event Number redacted in every row."""
    expected = {
        "arrests.csv.gz": {"Date of Birth": 32_549, "Event Number": 32_549},
        "bookins.csv.gz": {"Date of Birth": 36_811},
        "expedited-removals.csv.gz": {"Date of Birth": 6_529, "Event Number": 6_529},
        "other-removals.csv.gz": {"Date of Birth": 20_384, "Event Number": 20_384},
        "CAP-FY2017-arrests.csv.gz": {"Date of Birth": 2_656, "Event Number": 2_656},
        "CAP-FY2018-arrests.csv.gz": {"Date of Birth": 1_410, "Event Number": 1_410},
        "CAP-FY2017-encounters.csv.gz": {"Date of Birth": 11_712, "Event Number": 11_712},
        "CAP-FY2018-encounters.csv.gz": {"Date of Birth": 7_829, "Event Number": 7_829},
        "CAP-FY2017-removals.csv.gz": {"Date of Birth": 1_917, "Event Number": 1_917},
        "CAP-FY2018-removals.csv.gz": {"Date of Birth": 1_267, "Event Number": 1_267},
    }
    unknown = {
        "arrests.csv.gz": ["Date of Birth", "Event Number"],
        "bookins.csv.gz": ["Date of Birth"],
        "CAP-FY2017-arrests.csv.gz": ["Event Number", "Operation", "Date of Birth"],
        "CAP-FY2017-encounters.csv.gz": ["Event Number", "Operation", "Date of Birth"],
        "CAP-FY2017-removals.csv.gz": ["Event Number", "Date of Birth", "Removal Case COL"],
    }
    for name, counts in expected.items():
        rel = read_ero_lesa(shared_data / SEATTLE / name)
        got = collect(rel)
        table = SEATTLE_FILES[name][0]
        assert rel.report.redacted == {table: counts}, name
        # entirely redacted -> listed for dropping from analysis (and nothing else is entirely blank)
        assert sorted(rel.report.all_redacted_or_blank[table]) == sorted(counts), name
        if name in unknown:
            assert rel.report.unknown_columns[table] == unknown[name]
        # redacted cells are absent from the extra map; unmapped non-redacted values are kept as text
        keys = {k for m in got[table].column("extra").to_pylist() for k, _ in m}
        assert not keys & set(counts)
        if "Operation" in unknown.get(name, []):
            assert "Operation" in keys
        if name == "CAP-FY2017-removals.csv.gz":
            cols = [dict(m).get("Removal Case COL") for m in got[table].column("extra").to_pylist()]
            assert cols[:3] == ["1", "1", "3"]


def test_seattle_column_mapping(shared_data):
    arrests = collect(read_ero_lesa(shared_data / SEATTLE / "CAP-FY2018-arrests.csv.gz"))["arrests"]
    row = arrests.slice(0, 1).to_pylist()[0]
    assert row["apprehension_date"] == datetime(2017, 10, 2)
    assert row["apprehension_aor"] == "Seattle Area of Responsibility"
    assert row["apprehension_landmark"] == "FRANKLIN CO. JAIL"
    assert row["apprehension_method"] == "CAP Local Incarceration"
    assert row["processing_disposition"] == "REINSTATEMENT OF DEPORT ORDER I-871"
    assert row["citizenship_country"] == "MEXICO" and row["gender"] == "Male"
    removals = read_ero_lesa(shared_data / SEATTLE / "CAP-FY2017-removals.csv.gz")
    tab = collect(removals)["removals"]
    # CAP removal files give the earlier arrest, not the departure
    assert tab.column("departed_date").null_count == tab.num_rows
    assert date_range(tab, "apprehension_date") == (date(2009, 11, 10), date(2017, 9, 12))
    assert tab.column("apprehension_date").null_count == 12  # '01/01/0001' = ICE's "no date"
    assert any("12 placeholder date(s)" in w for w in removals.report.warnings)
    assert tab.column("final_charge_section")[0].as_py() == "237a2Aiii"
    assert any("earlier arrest" in w for w in removals.report.warnings)
    bookins = collect(read_ero_lesa(shared_data / SEATTLE / "bookins.csv.gz"))["detention_stints"]
    assert bookins.column("detention_facility")[0].as_py() == "NORTHWEST DET. CENTER"
    assert bookins.column("apprehension_method").null_count == 802  # blank in the source
    uw = read_ero_lesa(shared_data / SEATTLE / "arrests.csv.gz")
    tab = collect(uw)["arrests"]
    # no AOR column: the title scopes the file to the Seattle AOR, and the report says so
    assert pc.unique(tab.column("apprehension_aor")).to_pylist() == ["Seattle Area of Responsibility"]
    assert any("from the title" in w for w in uw.report.warnings)


def test_seattle_streams_in_chunks(shared_data):
    rel = read_ero_lesa(shared_data / SEATTLE / "arrests.csv.gz", chunk_rows=10_000)
    sizes = [b.num_rows for _, b in rel.batches]
    assert sizes == [10_000, 10_000, 10_000, 2_549]
    assert rel.report.rows == {"arrests": 32_549}


# --- ERO-LESA bad input (fixtures in tmp_path) ----------------------------------------------------------------

UW_TITLE = ['"ERO-LESA Statistical Tracking Unit"|||', '"For Official Use Only (FOUO)/Pre-decisional"|||',
            '"UW v. DHS - ICE Productions"|||', '"Please review the last tab for footnotes."|||', "|||",
            ('"FY2012 - FY2019 YTD (01/01/2012 - 07/06/2019) ERO Administrative Arrests for the Seattle Area of '
             'Responsibility"|||')]


def ero_file(tmp_path: Path, header: str, rows: list[str], name="arrests.csv.gz", title=UW_TITLE) -> Path:
    p = tmp_path / name
    text = "\n".join(title + [header] + rows) + "\n"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write(text)
    return p


GOOD_HEADER = '"Arrest Date"|"Date of Birth"|"Gender"|"Country of Citizenship"'
GOOD_ROWS = ['1/2/2012|"(b)(6), (b)(7)(c)"|"Male"|"MEXICO"', '12/31/2018|"(b)(6),(b)(7)c)"|"Female"|"Not  Known"']


def test_ero_lesa_small_fixture_and_marker_variants(tmp_path):
    p = ero_file(tmp_path, GOOD_HEADER, GOOD_ROWS + ['3/4/2013|"b(6), b(7)c"|"Male"|"(b)(7)(E )"'])
    rel = read_ero_lesa(p)
    tab = collect(rel)["arrests"]
    assert tab.column("apprehension_date").to_pylist() == [datetime(2012, 1, 2), datetime(2018, 12, 31),
                                                           datetime(2013, 3, 4)]
    assert tab.column("citizenship_country").to_pylist() == ["MEXICO", "Not Known", None]  # collapsed, redacted
    assert rel.report.redacted == {"arrests": {"Date of Birth": 3, "citizenship_country": 1}}
    assert tab.column("source_row").to_pylist() == [8, 9, 10]


def test_ero_lesa_header_found_by_content_not_line(tmp_path):
    p = ero_file(tmp_path, GOOD_HEADER, GOOD_ROWS, title=UW_TITLE[:2] + UW_TITLE[4:])  # 4 title lines
    tab = collect(read_ero_lesa(p))["arrests"]
    assert tab.num_rows == 2 and tab.column("source_row").to_pylist() == [6, 7]


def test_ero_lesa_renamed_required_column(tmp_path):
    p = ero_file(tmp_path, GOOD_HEADER.replace("Arrest Date", "Arrest Dt"), GOOD_ROWS)
    with pytest.raises(SourceError) as e:
        read_ero_lesa(p)
    one_line_error(e, p, "apprehension_date", "Arrest Dt")


def test_ero_lesa_no_header(tmp_path):
    p = ero_file(tmp_path, '"Foo"|"Bar"|"Baz"|"Qux"', GOOD_ROWS)
    with pytest.raises(SourceError) as e:
        read_ero_lesa(p)
    one_line_error(e, p, "no recognisable header")


def test_ero_lesa_truncated_gzip(tmp_path):
    rows = [f'{1 + i % 12}/{1 + i % 28}/2015|"(b)(6),(b)(7)c)"|"Male"|"COUNTRY {i % 97}"' for i in range(60_000)]
    full = ero_file(tmp_path, GOOD_HEADER, rows)
    data = full.read_bytes()
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    rel = read_ero_lesa(cut, chunk_rows=5_000)  # the head decompresses fine; the stream ends mid-way
    with pytest.raises(SourceError) as e:
        collect(rel)
    one_line_error(e, cut, "gzip", "truncated")
    assert not isinstance(e.value, EOFError)


def test_ero_lesa_non_utf8(tmp_path):
    p = tmp_path / "arrests.csv.gz"
    text = "\n".join(UW_TITLE + [GOOD_HEADER] + GOOD_ROWS).encode() + b'\n1/5/2012|"x"|"Male"|"M\xc9XICO"\n'
    p.write_bytes(gzip.compress(text))
    with pytest.raises(SourceError) as e:  # line 10 is within the lines read to find the header
        read_ero_lesa(p)
    one_line_error(e, p, "not UTF-8", "0xc9", "byte offset 472", "line 10")
    assert e.value.row == 10
    # further down, the same surfaces while streaming
    rows = "\n".join(GOOD_ROWS * 20).encode()
    p.write_bytes(gzip.compress("\n".join(UW_TITLE + [GOOD_HEADER]).encode() + b"\n" + rows
                                + b'\n1/5/2012|"x"|"Male"|"M\xc9XICO"\n'))
    rel = read_ero_lesa(p)
    with pytest.raises(SourceError) as e:
        collect(rel)
    one_line_error(e, p, "not UTF-8", "line 48")


# --- DDP raw xlsx (fixtures written with openpyxl) ------------------------------------------------------------

DDP_TITLES = ["ERO-LESA Statistical Tracking Unit", "For Official Use Only (FOUO)/Pre-decisional",
              "SYNTHETIC TEST FIXTURE", "ERO Administrative Arrests", None,
              "ERO Administrative Arrests (09/01/2023 - 07/28/2025)"]
DDP_HEADER = ["Apprehension Date", "Apprehension State", "Apprehension AOR", "Apprehension Criminality",
              "Departed Date", "Birth Date", "Birth Year", "Citizenship Country", "Gender",
              "Apprehension Site Landmark", "Final Order Yes No", "Alien File Number", "Unique Identifier"]


def ddp_sheet(ws, rows, titles=DDP_TITLES, header=DDP_HEADER):
    for t in titles:
        ws.append([t] if t else [])
    ws.append(header)
    for r in rows:
        ws.append(r)


def ddp_rows(ids, start_day=1):
    out = []
    for k, uid in enumerate(ids):
        out.append([datetime(2024, 1, start_day, 9, 30) + timedelta(days=k), "WASHINGTON",
                    "Seattle Area of Responsibility",
                    "1 Convicted Criminal", datetime(2024, 3, 1) if k % 2 else None, "(b)(6), (b)(7)(c)",
                    1980 + k if k % 2 else "(b)(6), (b)(7)(c)", "MEXICO", "Male", "Not  Applicable",
                    "NO", "(b)(6), (b)(7)(c)", uid])
    return out


def write_ddp_xlsx(path: Path, sheets: dict[str, list], **kw) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ddp_sheet(wb.create_sheet(name), rows, **kw)
    wb.save(path)
    return path


def test_ddp_raw_xlsx_two_sheets_identifiers_as_text(tmp_path):
    ids1 = ["00123", "1234567890123456789", "a" * 40]
    ids2 = ["0000000000000000001", "9999999999999999999"]
    p = write_ddp_xlsx(tmp_path / "2025-ICLI-00019_2024-ICFO-39357_ERO Admin Arrests_raw.xlsx",
                       {"Sheet1": ddp_rows(ids1), "Sheet2": ddp_rows(ids2, start_day=10)})
    rel = read_ddp(p)
    got = collect(rel)
    tab = got["arrests"]
    assert tab.column("unique_identifier").to_pylist() == ids1 + ids2  # unchanged, leading zeros kept
    assert tab.column("source_sheet").to_pylist() == ["Sheet1"] * 3 + ["Sheet2"] * 2
    assert tab.column("source_row").to_pylist() == [8, 9, 10, 8, 9]  # header on row 7
    assert tab.column("apprehension_date")[0].as_py() == datetime(2024, 1, 1, 9, 30)
    assert tab.column("apprehension_landmark").to_pylist() == ["Not Applicable"] * 5
    assert tab.column("birth_year").to_pylist() == [None, 1981, None, None, 1981]
    assert rel.cutoff == date(2025, 7, 28)
    assert rel.release_id == "ice-foia:2025-ICLI-00019_2024-ICFO-39357"
    assert rel.report.rows == {"arrests": 5}
    assert rel.report.redacted == {"arrests": {"Birth Date": 5, "birth_year": 3, "Alien File Number": 5}}
    assert rel.report.unknown_columns == {"arrests": ["Departed Date", "Birth Date", "Final Order Yes No",
                                                      "Alien File Number"]}
    assert set(rel.report.all_redacted_or_blank["arrests"]) == {"Birth Date", "Alien File Number"}
    extra = [dict(m) for m in tab.column("extra").to_pylist()]
    assert extra[0] == {"Final Order Yes No": "NO"}
    assert extra[1] == {"Departed Date": "2024-03-01", "Final Order Yes No": "NO"}
    assert_no_marker(tab)


def test_ddp_xlsx_blank_row_and_notes_sheet(tmp_path):
    import openpyxl

    p = tmp_path / "ERO Admin Arrests fixture.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    rows = ddp_rows(["id1", "id2"])
    ddp_sheet(ws, [rows[0], [None] * len(DDP_HEADER), rows[1]])
    notes = wb.create_sheet("Footnotes")
    notes.append(["Footnotes"])
    notes.append(["1. Data are as of the pull date."])
    wb.save(p)
    rel = read_ddp(p)
    tab = collect(rel)["arrests"]
    assert tab.column("source_row").to_pylist() == [8, 10]  # the empty row 9 is skipped, rows keep their numbers
    assert any("Footnotes" in w for w in rel.report.warnings)
    assert any("empty row" in w for w in rel.report.warnings)


def test_ddp_xlsx_text_cells_in_date_columns(tmp_path):
    """Text far below the header in date columns (a typed date, a redaction) is read, not lost."""
    rows = ddp_rows([f"{k:040x}" for k in range(60)])
    rows[45][0] = "1/5/2024"
    rows[50][4] = "(b)(6), (b)(7)(c)"
    p = write_ddp_xlsx(tmp_path / "arrests.xlsx", {"Sheet1": rows})
    rel = read_ddp(p)
    tab = collect(rel)["arrests"]
    assert tab.column("apprehension_date").null_count == 0
    assert tab.column("apprehension_date")[45].as_py() == datetime(2024, 1, 5)
    assert tab.column("apprehension_date")[44].as_py() == datetime(2024, 1, 1, 9, 30) + timedelta(days=44)
    assert rel.report.redacted["arrests"]["Departed Date"] == 1
    assert dict(tab.column("extra")[1].as_py())["Departed Date"] == "2024-03-01"
    bad = ddp_rows(["a", "b"])
    bad[1][0] = "someday"
    p = write_ddp_xlsx(tmp_path / "arrests_bad.xlsx", {"Sheet1": bad})
    with pytest.raises(SourceError) as e:
        collect(read_ddp(p))
    one_line_error(e, p, "unreadable date", "someday", "Apprehension Date")
    assert e.value.row == 9


def test_ddp_xlsx_header_not_where_expected(tmp_path):
    p = write_ddp_xlsx(tmp_path / "arrests.xlsx", {"Sheet1": ddp_rows(["x"])},
                       titles=["title"] * 19)  # header on row 20
    with pytest.raises(SourceError) as e:
        read_ddp(p)
    one_line_error(e, p, "no recognisable header row", "Sheet1")


def test_ddp_xlsx_header_far_below_in_one_sheet(tmp_path):
    """A data sheet whose header sits below the peeked rows is an error, not a skipped 'notes' sheet."""
    import openpyxl

    p = tmp_path / "arrests.xlsx"
    wb = openpyxl.Workbook()
    ddp_sheet(wb.active, ddp_rows(["a"]))
    ddp_sheet(wb.create_sheet("Late"), ddp_rows([f"b{k}" for k in range(30)]), titles=["title"] * 60)
    wb.save(p)
    with pytest.raises(SourceError) as e:
        read_ddp(p)
    one_line_error(e, p, "no recognisable header row", "Late")


def test_ddp_xlsx_renamed_required_column(tmp_path):
    header = ["Apprehension Dt" if h == "Apprehension Date" else h for h in DDP_HEADER]
    p = write_ddp_xlsx(tmp_path / "arrests.xlsx", {"Sheet1": ddp_rows(["x"])}, header=header)
    with pytest.raises(SourceError) as e:
        read_ddp(p)
    one_line_error(e, p, "apprehension_date", "Apprehension Dt", "Sheet1")
    header = ["Unique ID" if h == "Unique Identifier" else h for h in DDP_HEADER]
    p = write_ddp_xlsx(tmp_path / "arrests2.xlsx", {"Sheet1": ddp_rows(["x"])}, header=header)
    with pytest.raises(SourceError) as e:
        read_ddp(p)
    one_line_error(e, p, "unique_identifier", "Unique ID")


def test_ddp_xlsx_identifiers_stored_as_numbers(tmp_path):
    # every identifier an Excel number (seen already in the header peek)
    p = write_ddp_xlsx(tmp_path / "arrests.xlsx", {"Sheet1": ddp_rows([1234567890123456789, 42])})
    with pytest.raises(SourceError) as e:
        read_ddp(p)
    one_line_error(e, p, "stored as Excel numbers", "15 significant digits", "Sheet1")
    # text identifiers, then one number far below the rows the header search reads
    ids = [f"{k:040x}" for k in range(60)]
    ids[50] = 1.23457e18  # Excel row 58
    p = write_ddp_xlsx(tmp_path / "arrests_mixed.xlsx", {"Sheet1": ddp_rows(["a" * 40]), "Sheet2": ddp_rows(ids)})
    rel = read_ddp(p)
    with pytest.raises(SourceError) as e:
        collect(rel)
    one_line_error(e, p, "mixes numbers and text", "Sheet2", "15 significant digits")
    assert e.value.row == 58


def test_ddp_xlsx_not_a_workbook(tmp_path):
    p = tmp_path / "arrests.xlsx"
    p.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(SourceError) as e:
        read_ddp(p)
    one_line_error(e, p, "xlsx")


# --- DDP processed csv / parquet ------------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_ddp_processed_older_release_names(tmp_path):
    p = write_csv(tmp_path / "arrests-2024.csv", ["anonymized_identifier", "apprehension_date",
                                                  "toa_current_duty_aor", "apprehension_method", "lpr_yes_no"],
                  [["00123", "2024-02-03 10:15:00", "Seattle Area of Responsibility", "Located", "NA"],
                   ["1234567890123456789", "2024-02-04", "NA", "(b)(6), (b)(7)(c)", "YES"]])
    rel = read_ddp(p)
    tab = collect(rel)["arrests"]
    assert tab.column("unique_identifier").to_pylist() == ["00123", "1234567890123456789"]
    assert tab.column("apprehension_aor").to_pylist() == ["Seattle Area of Responsibility", None]
    assert tab.column("apprehension_date").to_pylist() == [datetime(2024, 2, 3, 10, 15), datetime(2024, 2, 4)]
    assert [dict(m) for m in tab.column("extra").to_pylist()] == [{}, {"lpr_yes_no": "YES"}]
    assert rel.report.unknown_columns == {"arrests": ["lpr_yes_no"]}
    assert rel.report.redacted == {"arrests": {"apprehension_method": 1}}
    assert tab.column("source_row").to_pylist() == [2, 3]


def test_ddp_csv_identifiers_in_scientific_notation(tmp_path):
    p = write_csv(tmp_path / "removals.csv", ["unique_identifier", "departed_date"],
                  [["abc", "2024-01-01"], ["1.23457E+18", "2024-01-02"]])
    rel = read_ddp(p)
    with pytest.raises(SourceError) as e:
        collect(rel)
    one_line_error(e, p, "scientific notation", "15 significant digits")
    assert e.value.row == 3


def test_ddp_csv_identifiers_truncated_to_15_digits(tmp_path):
    rows = [[str(10**18 + k * 10**4), "2024-01-01"] for k in range(1, 50)]
    p = write_csv(tmp_path / "removals.csv", ["unique_identifier", "departed_date"], rows)
    with pytest.raises(SourceError) as e:
        collect(read_ddp(p))
    one_line_error(e, p, "15 significant digits", "truncated")
    # genuine 19-digit text identifiers pass
    rows = [[str(1234567890123456789 + 7919 * k), "2024-01-01"] for k in range(50)]
    p2 = write_csv(tmp_path / "removals2.csv", ["unique_identifier", "departed_date"], rows)
    assert collect(read_ddp(p2))["removals"].column("unique_identifier").to_pylist() == [r[0] for r in rows]


def test_ddp_parquet_float_identifiers_refused(tmp_path):
    p = tmp_path / "detainers.parquet"
    pq.write_table(pa.table({"unique_identifier": pa.array([1.2345678901234568e18, 2.0]),
                             "detainer_prepare_date": pa.array([datetime(2024, 1, 1)] * 2)}), p)
    with pytest.raises(SourceError) as e:
        collect(read_ddp(p))
    one_line_error(e, p, "stored as numbers", "text")


def test_ddp_parquet_typed_columns(tmp_path):
    p = tmp_path / "detention_stints.parquet"
    pq.write_table(pa.table({
        "unique_identifier": ["u1", "u2"],
        "book_in_date_time": pa.array([datetime(2024, 5, 1, 8), datetime(2024, 5, 2)], pa.timestamp("ms")),
        "detention_book_out_date_time": pa.array([None, datetime(2024, 6, 1)], pa.timestamp("ns")),
        "initial_bond_set_amount": pa.array([1500.0, None]),
        "birth_year": pa.array([1990, None], pa.int64()),
        "marital_status": ["Single", "Not  Applicable"],
    }), p)
    rel = read_ddp(p)
    tab = collect(rel)["detention_stints"]
    assert tab.column("book_in_date_time").to_pylist() == [datetime(2024, 5, 1, 8), datetime(2024, 5, 2)]
    assert tab.column("initial_bond_set_amount").to_pylist() == [1500.0, None]
    assert tab.column("birth_year").to_pylist() == [1990, None]
    assert [dict(m) for m in tab.column("extra").to_pylist()] == [{"marital_status": "Single"},
                                                                  {"marital_status": "Not Applicable"}]


def test_ddp_feather_synthetic_metadata_and_explicit_table(tmp_path):
    import json

    import pyarrow.feather as feather

    tab = pa.table({"unique_identifier": ["s1", "s2", "s3"],
                    "event_date": pa.array([datetime(2025, 1, 2)] * 3, pa.timestamp("us")),
                    "responsible_aor": ["X AOR", None, "Y AOR"]})
    tab = tab.replace_schema_metadata({b"icetrack_synthetic": b"true", b"icetrack_table": b"encounters"})
    p = tmp_path / "part-0001.feather"  # the name says nothing: the table comes from the metadata
    feather.write_feather(tab, p)
    (tmp_path / "synthetic_release.json").write_text(json.dumps({"seed": 3, "people": 9, "cutoff": "2025-03-31"}))
    rel = read_ddp(p, chunk_rows=2)
    got = collect(rel)["encounters"]
    assert got.num_rows == 3 and rel.edition.synthetic
    assert got.column("synthetic").to_pylist() == [True] * 3 and got.column("source_row").to_pylist() == [1, 2, 3]
    assert rel.cutoff == date(2025, 3, 31) and rel.release_id == "synthetic:seed3-people9-cutoff2025-03-31"
    # a csv named after nothing: table= says which
    q = write_csv(tmp_path / "part.csv", ["unique_identifier", "departed_date"], [["u", "2024-05-06"]])
    assert collect(read_ddp(q, table="removals"))["removals"].num_rows == 1
    with pytest.raises(SourceError) as e:
        read_ddp(q, table="stays")
    one_line_error(e, q, "unknown table")
    r = write_csv(tmp_path / "part2.csv", ["foo", "bar"], [["1", "2"]])
    with pytest.raises(SourceError) as e:
        read_ddp(r)
    one_line_error(e, r, "cannot tell which table")


def test_ddp_xlsx_chunks_keep_rows_and_sheets(tmp_path):
    p = write_ddp_xlsx(tmp_path / "arrests.xlsx", {"A": ddp_rows([f"a{k}" for k in range(7)]),
                                                   "B": ddp_rows([f"b{k}" for k in range(5)])})
    rel = read_ddp(p, chunk_rows=3)
    parts = [b for _, b in rel.batches]
    assert [b.num_rows for b in parts] == [3, 3, 1, 3, 2]
    rows = [r for b in parts for r in b.column("source_row").to_pylist()]
    assert rows == list(range(8, 15)) + list(range(8, 13))
    assert rel.report.rows == {"arrests": 12}


def test_ddp_csv_gz_truncated_and_non_utf8(tmp_path):
    rows = [[f"{k:040x}", "2024-01-01", "Seattle Area of Responsibility"] for k in range(40_000)]
    p = write_csv(tmp_path / "arrests.csv", ["unique_identifier", "apprehension_date", "apprehension_aor"], rows)
    gz = tmp_path / "arrests.csv.gz"
    data = gzip.compress(p.read_bytes())
    gz.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError) as e:
        collect(read_ddp(gz))
    one_line_error(e, gz, "truncated")
    bad = tmp_path / "encounters.csv"
    bad.write_bytes(b"unique_identifier,event_date,responsible_aor\nabc,2024-01-01,Seattle\n"
                    b"def,2024-01-02,Caf\xe9 AOR\n")
    with pytest.raises(SourceError) as e:
        collect(read_ddp(bad))
    one_line_error(e, bad, "not UTF-8", "byte offset 86", "line 3")


# --- UWCHR joined file ----------------------------------------------------------------------------------------

JOINED = "uwchr-deport-data-proj/joined_df_wa.csv"
JOINED_FILLED = {
    "detainers": {"unique_identifier", "detainer_prepare_date", "facility_aor", "facility_state",
                  "detention_facility", "detainer_prepared_criminality", "citizenship_country", "gender"},
    "arrests": {"unique_identifier", "apprehension_date", "apprehension_aor", "apprehension_state",
                "apprehension_method", "apprehension_criminality", "final_program", "case_category",
                "citizenship_country", "gender"},
    "encounters": {"unique_identifier", "event_date", "responsible_aor", "event_type", "processing_disposition",
                   "encounter_criminality", "citizenship_country", "gender"},
    "detention_stints": {"unique_identifier", "book_in_date_time", "detention_book_out_date_time",
                         "stay_book_in_date_time", "stay_book_out_date_time", "detention_facility_code",
                         "detention_facility", "detention_release_reason", "stay_release_reason",
                         "book_in_criminality", "initial_bond_set_amount", "case_category", "gender"},
}


def test_joined_file_split_by_suffix(shared_data):
    rel = read_ddp(shared_data / JOINED)  # dispatches to read_ddp_joined on the suffixes
    got = collect(rel)
    # distinct rows each table contributed (235 joined rows)
    assert rel.report.rows == {"detainers": 47, "arrests": 47, "encounters": 77, "detention_stints": 103}
    prov = {"release_id", "edition_id", "source_file", "source_row", "synthetic"}
    for table, tab in got.items():
        filled = {c for c in tab.column_names if c != "extra" and tab.column(c).null_count < tab.num_rows}
        assert filled - prov == JOINED_FILLED[table], table
        assert_no_marker(tab)
        # the extra maps hold every unmapped non-withheld column that had a value
        keys = {k for m in tab.column("extra").to_pylist() for k, _ in m}
        assert keys <= set(rel.report.unknown_columns[table])
    assert date_range(got["detainers"], "detainer_prepare_date") == (date(2023, 11, 27), date(2025, 2, 5))
    assert date_range(got["arrests"], "apprehension_date") == (date(2024, 1, 8), date(2025, 2, 15))
    assert date_range(got["detention_stints"], "stay_book_in_date_time") == (date(2024, 3, 19), date(2025, 2, 15))
    # unknown columns are reported, not dropped
    assert "n_dupe.arrest" in rel.report.unknown_columns["arrests"]
    assert "n_dupe.arrest" in {k for m in got["arrests"].column("extra").to_pylist() for k, _ in m}
    assert rel.report.unknown_columns["(join)"] == ["date_diff.detainer_arrest", "possible_kww_violation"]
    assert "religion.detention" in rel.report.all_redacted_or_blank["detention_stints"]
    # redactions counted per column; birth year redacted in every row
    assert rel.report.redacted["arrests"] == {"birth_date.arrest": 47, "birth_year": 47,
                                              "alien_file_number.arrest": 47, "eid_case_id.arrest": 47,
                                              "eid_subject_id.arrest": 47}
    # double inner spaces collapsed
    statuses = {dict(m).get("entry_status.detainer") for m in got["detainers"].column("extra").to_pylist()}
    assert "Not Applicable" in statuses and not any(s and "  " in s for s in statuses)
    uid = got["arrests"].column("unique_identifier")
    assert pc.all(pc.match_substring_regex(uid, r"^[0-9a-f]{40}$")).as_py()
    assert read_ddp_joined(shared_data / JOINED).release_id == "uwchr-joined:joined_df_wa"
