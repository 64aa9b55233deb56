"""The canonicalisation the person-level readers share: the column crosswalk (checked against the Deportation
Data Project's column inventory, https://deportationdata.org/docs/ice/codebook.html), redaction markers,
title cut-off dates and the plausible range of event dates.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import REPO

from icetrack.domain.edition import SourceError
from icetrack.domain.person_schema import EVENT_DATE, TABLES
from icetrack.domain.plausible import IngestPolicy, latest_plausible_date
from icetrack.sources import read_person_file
from icetrack.sources.canonical.crosswalk import CROSSWALK_PATH, WITHHELD, column_key, load_crosswalk
from icetrack.sources.canonical.release import title_cutoff
from icetrack.sources.canonical.values import is_redacted


# --- crosswalk ------------------------------------------------------------------------------------------------


def crosswalk_rows():
    with open(CROSSWALK_PATH, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_crosswalk_shape_and_examples():
    rows = crosswalk_rows()
    assert rows and set(rows[0]) == {"table", "source_column", "canonical_column", "release_note"}
    for r in rows:
        assert r["table"] in TABLES
        assert r["canonical_column"] in ("", WITHHELD) or r["canonical_column"] in TABLES[r["table"]].names
    cw = load_crosswalk()
    examples = [
        ("arrests", "anonymized_identifier", "unique_identifier"),
        ("arrests", "toa_current_duty_aor", "apprehension_aor"),
        ("arrests", "Apprehension Date", "apprehension_date"),
        ("arrests", "Area of Responsibility", "apprehension_aor"),
        ("arrests", "Arrest Date", "apprehension_date"),
        ("arrests", "Arrest Method", "apprehension_method"),
        ("arrests", "Apprehension Landmark", "apprehension_landmark"),
        ("arrests", "Processing Disposition", "processing_disposition"),
        ("arrests", "Country of Citizenship", "citizenship_country"),
        ("detainers", "Prepare Date", "detainer_prepare_date"),
        ("detention_stints", "Book In Date Time", "book_in_date_time"),
        ("detention_stints", "Book In Date", "book_in_date_time"),
        ("detention_stints", "Detention Facility", "detention_facility"),
        ("detention_stints", "Apprehension Method", "apprehension_method"),
        ("detention_stints", "Most Serious Conviction", "most_serious_conviction"),
        ("removals", "Departed Date", "departed_date"),
        ("removals", "Case Category", "case_category"),
        ("removals", "Final Charge Section", "final_charge_section"),
        ("removals", "Gender", "gender"),
        ("encounters", "Event Area of Responsibility", "responsible_aor"),
        ("encounters", "Landmark", "event_landmark"),
    ]
    for table, source, canonical in examples:
        assert cw.maps(table, source) == canonical, (table, source)
    # case / space / punctuation insensitive
    assert cw.maps("arrests", "  APPREHENSION-aor ") == "apprehension_aor"
    assert column_key("Most Serious Conviction (MSC) Charge") == "mostseriousconvictionmsccharge"
    # known columns without a canonical home, and withheld identifiers
    assert cw.lookup("arrests", "Event Number").canonical_column == ""
    assert cw.lookup("removals", "Removal Case COL").canonical_column == ""
    assert cw.lookup("arrests", "Date of Birth").canonical_column == WITHHELD
    assert cw.lookup("arrests", "Alien File Number").canonical_column == WITHHELD
    assert cw.lookup("detention_stints", "Book In Date").fallback


def _raw_headers(shared_data: Path):
    import fastexcel

    cols = fastexcel.read_excel(str(shared_data / "deportationdata-org-docs" / "data_column_names.xlsx")).load_sheet(
        0, dtypes="string").to_arrow().to_pydict()
    types = {"arrests": "arrests", "detainers": "detainers", "detentions": "detention_stints",
             "encounters": "encounters", "removals": "removals"}
    files = []
    for i in range(len(cols["path"])):
        parts = (cols["path"][i] or "").split("/")
        if len(parts) >= 3 and parts[0] == "ice" and parts[1] in types:
            heads = [cols[c][i].strip() for c in cols if c.isdigit() and cols[c][i] and cols[c][i].strip()]
            files.append((cols["name"][i], types[parts[1]], parts[2], heads))
    return files


def test_crosswalk_covers_every_raw_header(shared_data):
    cw = load_crosswalk()
    files = _raw_headers(shared_data)
    assert len(files) == 95
    pairs = {(t, h) for _, t, _, heads in files for h in heads}
    unlisted = sorted(p for p in pairs if cw.lookup(*p) is None)
    assert unlisted == []  # every header is in the crosswalk: mapped, kept in extra, or withheld
    status = {p: cw.lookup(*p).canonical_column for p in pairs}
    mapped = sorted(p for p, c in status.items() if c not in ("", WITHHELD))
    extra = sorted(p for p, c in status.items() if c == "")
    withheld = sorted(p for p, c in status.items() if c == WITHHELD)
    assert (len(pairs), len(mapped), len(extra), len(withheld)) == (448, 104, 301, 43)
    assert len(mapped) / len(pairs) >= 0.23  # the canonical schema is narrow: most raw fields go to extra
    # every file's event date maps, except the 11 files of 14-03290 whose inventory row holds title text
    no_date = sorted({rel for _, t, rel, heads in files if EVENT_DATE[t] not in {cw.maps(t, h) for h in heads}})
    assert no_date == ["14-03290"]
    # every canonical column of every table has a raw source in at least one release
    sources = defaultdict(set)
    for _, t, rel, heads in files:
        for h in heads:
            c = cw.maps(t, h)
            if c:
                sources[(t, c)].add(rel)
    missing = sorted((t, c) for t in TABLES for c in TABLES[t].names
                     if c not in {"release_id", "edition_id", "source_file", "source_sheet", "source_row",
                                  "synthetic", "extra", "removal_type"} and not sources[(t, c)])
    # (detention_stints.apprehension_method comes only from the ERO-LESA book-ins, not in the inventory)
    assert missing == [("detention_stints", "apprehension_method")]
    # identifiers map in every release that has one (the older UWCHR / NPR / 2019 / 14-03290 files have none)
    no_id = sorted({(t, rel) for _, t, rel, heads in files if "unique_identifier" not in {cw.maps(t, h)
                                                                                          for h in heads}})
    assert no_id == [("arrests", "uwchr"), ("detainers", "npr"), ("detention_stints", "2019-ICFO-21307"),
                     ("encounters", "uwchr"), ("removals", "14-03290"), ("removals", "uwchr")]


def test_crosswalk_is_what_the_docs_give(shared_data):
    spec = importlib.util.spec_from_file_location("build_crosswalk", REPO / "tools" / "build_crosswalk.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.to_csv(mod.build(shared_data)) == CROSSWALK_PATH.read_text(encoding="utf-8")


# --- small helpers --------------------------------------------------------------------------------------------


def test_redaction_marker_variants():
    for v in ["(b)(6),(b)(7)c)", "(b)(7)e)", "(b)(7)(E )", "(b)(6),(b)(7)(c )", "(b)(6), (b)(7)(c)",
              "b(6), b(7)c", "(b)(6), (b)(7)(c) (b)(7)(e)", " (B)(6) "]:
        assert is_redacted(v), v
    for v in ["INA 241(b)(3)", "212a6Ai", "Not  Applicable", "", None, "(a)(6)"]:
        assert not is_redacted(v), v


def test_title_cutoff():
    assert title_cutoff("FY2012 - FY2019 YTD (01/01/2012 - 07/06/2019) ERO Administrative Arrests") == date(2019, 7, 6)
    assert title_cutoff("FY2018 YTD ERO Encounters ... through 04/27/2018") == date(2018, 4, 27)
    assert title_cutoff("FY2017 ERO Administrative Arrests") is None


# --- event dates: the plausible range ---------------------------------------------------------------------------

ALLOW = IngestPolicy(allow_implausible=True)


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _ero(tmp_path: Path, dates: list[str]) -> Path:
    lines = ['"ERO-LESA Statistical Tracking Unit"|', '"FY2012 - FY2019 YTD (01/01/2012 - 07/06/2019) ERO '
             'Administrative Arrests"|', '"Arrest Date"|"Gender"|"Country of Citizenship"']
    lines += [f'{d}|"Male"|"MEXICO"' for d in dates]
    p = tmp_path / "arrests.csv.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return p


def _xlsx(tmp_path: Path, dates: list[datetime]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["ERO Administrative Arrests"])
    ws.append(["Apprehension Date", "Unique Identifier", "Gender"])
    for i, d in enumerate(dates):
        ws.append([d, f"{i:040x}", "Male"])
    p = tmp_path / "ERO Admin Arrests_raw.xlsx"
    wb.save(p)
    return p


def date_fixture(fmt: str, tmp_path: Path, last: str) -> tuple[Path, str, str, int]:
    """(file, where, printed column, row of ``last``): two good event dates, then ``last`` (ISO)."""
    iso = ["2024-01-05", "2024-02-06", last]
    if fmt == "ddp csv":
        rows = [[f"{i:040x}", d, "Male"] for i, d in enumerate(iso)]
        return _csv(tmp_path / "arrests.csv", ["unique_identifier", "apprehension_date", "gender"], rows), \
            "arrests", "apprehension_date", 4
    if fmt == "joined":
        rows = [[f"{i:040x}", d, "Male"] for i, d in enumerate(iso)]
        return _csv(tmp_path / "joined_wa.csv", ["unique_identifier", "apprehension_date.arrest", "gender.arrest"],
                    rows), "arrests", "apprehension_date.arrest", 4
    if fmt == "ero":
        mdy = [f"{int(d[5:7])}/{int(d[8:])}/{d[:4]}" for d in iso]
        return _ero(tmp_path, mdy), "arrests", "Arrest Date", 6
    if fmt == "parquet":  # typed timestamps: no text parsing involved
        p = tmp_path / "arrests.parquet"
        pq.write_table(pa.table({"unique_identifier": ["a", "b", "c"],
                                 "apprehension_date": pa.array([datetime.fromisoformat(d) for d in iso],
                                                               pa.timestamp("us"))}), p)
        return p, "arrests", "apprehension_date", 3
    if fmt == "xlsx":  # typed Excel date cells
        return _xlsx(tmp_path, [datetime.fromisoformat(d) for d in iso]), "Sheet1", "Apprehension Date", 5
    raise AssertionError(fmt)


DATE_FORMATS = ["ddp csv", "joined", "ero", "parquet", "xlsx"]


def _refusal(p: Path, where: str, col: str, row: int, problem: str) -> str:
    return (f"{p.name} [{where}] row {row}: column '{col}': {problem}; load it anyway with --allow-implausible "
            "(such dates are then read as missing)")


@pytest.mark.parametrize("fmt", DATE_FORMATS)
def test_event_date_in_the_far_future_refused(tmp_path, fmt):
    # 9999-12-31 used to load and become the release's inferred cut-off (open stays censored for millennia)
    p, where, col, row = date_fixture(fmt, tmp_path, "9999-12-31")
    with pytest.raises(SourceError) as e:
        list(read_person_file(p).batches)
    latest = latest_plausible_date().isoformat()
    assert str(e.value) == _refusal(p, where, col, row, f"date 9999-12-31 is after {latest} (the day of ingest "
                                                        "plus 14 days)")


@pytest.mark.parametrize("fmt", DATE_FORMATS)
def test_event_date_before_the_records_refused(tmp_path, fmt):
    p, where, col, row = date_fixture(fmt, tmp_path, "1969-12-31")
    with pytest.raises(SourceError) as e:
        list(read_person_file(p).batches)
    assert str(e.value) == _refusal(p, where, col, row, "date 1969-12-31 is before 1970-01-01, earlier than any "
                                                        "such record")


def test_plausible_range_bounds(tmp_path):
    last_ok = latest_plausible_date()
    for day, refused in [(last_ok, False), (last_ok + timedelta(days=1), True), (date(1970, 1, 1), False),
                         (date(1900, 1, 1), True)]:  # 1900-01-01: a spreadsheet's day zero, not ICE's 'no date'
        p, *_ = date_fixture("ddp csv", tmp_path, day.isoformat())
        rel = read_person_file(p)
        if refused:
            with pytest.raises(SourceError, match=f"date {day.isoformat()} is "):
                list(rel.batches)
        else:
            got = pa.Table.from_batches([b for _, b in rel.batches])
            assert got.column("apprehension_date")[2].as_py() == datetime.combine(day, datetime.min.time())


@pytest.mark.parametrize("fmt", DATE_FORMATS)
def test_implausible_dates_read_as_missing_when_allowed(tmp_path, fmt):
    p, where, col, row = date_fixture(fmt, tmp_path, "9999-12-31")
    rel = read_person_file(p, policy=ALLOW)
    got = pa.Table.from_batches([b for _, b in rel.batches])
    assert got.column("apprehension_date").to_pylist() == [datetime(2024, 1, 5), datetime(2024, 2, 6), None]
    assert rel.report.implausible_dates == {"arrests.apprehension_date": 1}
    latest = latest_plausible_date().isoformat()
    assert f"arrests: 1 date(s) outside 1970-01-01 .. {latest} in '{col}' read as missing (--allow-implausible)" \
        in rel.report.warnings


def test_implausible_dates_counted_per_column(tmp_path):
    header = ["unique_identifier", "book_in_date_time", "detention_book_out_date_time"]
    rows = [["a", "2024-01-05", "9999-12-31"], ["b", "1965-07-01", "9999-12-31"], ["c", "2024-01-07", ""]]
    rel = read_person_file(_csv(tmp_path / "detention_stints.csv", header, rows), policy=ALLOW)
    got = pa.Table.from_batches([b for _, b in rel.batches])
    assert got.column("book_in_date_time").to_pylist() == [datetime(2024, 1, 5), None, datetime(2024, 1, 7)]
    assert got.column("detention_book_out_date_time").null_count == 3
    assert rel.report.implausible_dates == {"detention_stints.book_in_date_time": 1,
                                            "detention_stints.detention_book_out_date_time": 2}
    # without the override the first one (in file order) is the refusal
    with pytest.raises(SourceError, match=r"row 2: column 'detention_book_out_date_time': date 9999-12-31"):
        list(read_person_file(tmp_path / "detention_stints.csv").batches)


@pytest.mark.parametrize("text", ["0001-01-01", "01/01/0001", "1/1/0001 00:00:00"])
def test_ice_no_date_placeholder_is_missing_not_refused(tmp_path, text):
    rows = [["a", "2024-01-05"], ["b", text]]
    rel = read_person_file(_csv(tmp_path / "arrests.csv", ["unique_identifier", "apprehension_date"], rows))
    got = pa.Table.from_batches([b for _, b in rel.batches])
    assert got.column("apprehension_date").to_pylist() == [datetime(2024, 1, 5), None]
    assert rel.report.warnings == ["arrests: 1 placeholder date(s) 01/01/0001 (ICE's 'no date') in "
                                   "'apprehension_date' read as missing"]
    assert rel.report.implausible_dates == {}


@pytest.mark.parametrize("fmt", ["ddp csv", "joined", "ero"])
def test_impossible_calendar_date_refused(tmp_path, fmt):
    # 30 February is an error, never rolled over into March
    p, where, col, row = date_fixture(fmt, tmp_path, "2024-02-30")
    with pytest.raises(SourceError) as e:
        list(read_person_file(p, policy=ALLOW).batches)  # not an implausible value: no override reads it
    shown = "2/30/2024" if fmt == "ero" else "2024-02-30"
    assert str(e.value) == f"{p.name} [{where}] row {row}: unreadable date '{shown}' in column '{col}'"
