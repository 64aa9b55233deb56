"""Tests of the ICE detention-statistics workbook reader against real published workbooks.

The workbooks are ICE's own files (https://www.ice.gov/detain/detention-management), located by
``helpers.shared_data_dir`` (``$ICETRACK_SHARED_DATA``) and never copied into the repository; tests that need
them skip when they are absent. Bad-input fixtures are built in ``tmp_path``.
"""

from __future__ import annotations

import csv
import io
import math
import re
import shutil
import zipfile
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from helpers import shared_data_dir

from icetrack.domain.edition import GRAINS, OBSERVATION_SCHEMA, SourceError
from icetrack.sources.ice_detention import looks_like_workbook, parse_workbook
from icetrack.sources.ice_detention.edition import PARSER_VERSION, SOURCE, published_on
from icetrack.sources.ice_detention.labels import AGENCIES, CRIMINALITIES, NON_CRIMINAL


SHARED = shared_data_dir()
WORKBOOKS = SHARED / "ice-detention-stats" if SHARED else None
VALIDATION = SHARED / "ddp-core-paper-validation" if SHARED else None
NO_DATA = "real ICE workbooks not found (set $ICETRACK_SHARED_DATA to the folder of real public source files)"
needs_data = pytest.mark.skipif(WORKBOOKS is None or not WORKBOOKS.is_dir(), reason=NO_DATA)

ALL_FILES = sorted(WORKBOOKS.rglob("*.xlsx")) if WORKBOOKS and WORKBOOKS.is_dir() else []


@cache
def parsed(relative: str):
    return parse_workbook(WORKBOOKS / relative)


@cache
def rows_of(relative: str) -> tuple[dict, ...]:
    rows = parsed(relative).observations.to_pylist()
    for row in rows:
        row["dims"] = dict(row["dims"])
    return tuple(rows)


def values(relative: str, measure: str, **dims) -> list[dict]:
    return [r for r in rows_of(relative) if r["measure"] == measure
            and all(r["dims"].get(k) == v for k, v in dims.items())]


def one_value(relative: str, measure: str, period_start: date | None = None, *, grain: str | None = None,
              **dims) -> float:
    """The single value of a measure/dims (for a month start, the month row unless grain says otherwise)."""
    if period_start is not None and grain is None:
        grain = "month"
    found = [r for r in values(relative, measure, **dims)
             if (period_start is None or r["period_start"] == period_start) and (grain is None or r["grain"] == grain)]
    assert len(found) == 1, (relative, measure, dims, period_start, found)
    return found[0]["value"]


# --- every shared workbook parses ----------------------------------------------------------------------

@needs_data
@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(WORKBOOKS)))
def test_every_shared_workbook_parses(path: Path):
    relative = str(path.relative_to(WORKBOOKS))
    result = parsed(relative)
    edition = result.edition
    assert edition.source == SOURCE and edition.parser_version == PARSER_VERSION == "3"
    assert edition.file_name == path.name
    assert re.fullmatch(r"[0-9a-f]{64}", edition.sha256) and edition.size_bytes == path.stat().st_size
    assert edition.as_of is not None
    assert edition.original_url.startswith("https://www.ice.gov/doclib/detention/FY")
    assert re.fullmatch(r"ICE detention statistics FY\d\d", edition.title)
    assert edition.note == ("third-party copy" if "third-party-modified" in relative else None)
    assert result.observations.schema == OBSERVATION_SCHEMA

    rows = rows_of(relative)
    measures = {r["measure"] for r in rows}
    assert {"currently_detained", "book_ins", "removals_fytd", "book_outs", "adp", "alos",
            "facility_adp", "facility_alos"} <= measures
    fy_start = next(r["period_start"] for r in rows if r["measure"] == "removals_fytd")
    assert (fy_start.month, fy_start.day) == (10, 1)
    for r in rows:
        assert r["grain"] in GRAINS
        assert r["source_url"] == edition.original_url
        assert r["unit"]
        assert math.isfinite(r["value"]) and r["value"] >= 0, r
        assert r["period_start"] <= r["period_end"]
        # No month (or anything else) that starts after the data were pulled: each table is dated by its own
        # footnote (the facility list by the Data Source line), the edition by its detention tables.
        pulled = max([edition.as_of, edition.data_source_date or edition.as_of]
                     + [date.fromisoformat(d["date"]) for _, d in edition.table_dates])
        assert r["period_start"] <= pulled, r
        if r["grain"] == "snapshot":
            assert r["period_start"] == r["period_end"] <= pulled
        if r["grain"] == "fytd":
            assert r["period_start"] == fy_start and r["period_end"] <= pulled
        if r["grain"] == "month":
            assert r["period_start"].day == 1
            assert (r["period_end"].month, r["period_end"].year) == (r["period_start"].month, r["period_start"].year)
        for key, value in r["dims"].items():
            assert isinstance(value, str) and value == " ".join(value.split()) and value, (key, value)
        if "agency" in r["dims"]:
            assert r["dims"]["agency"] in AGENCIES
        if "criminality" in r["dims"]:
            assert r["dims"]["criminality"] in (*CRIMINALITIES, NON_CRIMINAL)
        if "release_reason" in r["dims"]:
            assert not r["dims"]["release_reason"].endswith(" Total")
        # A facility's city is kept (its identity across editions needs it); street address and ZIP are not.
        assert not {"address", "zip"} & set(r["dims"])


# --- FORMATS.md: as-of date, currently detained, removals FYTD -----------------------------------------

FORMATS_TABLE = [
    ("FY25_detentionStats12112024.xlsx", date(2024, 11, 12), 39_080, 40_658),
    ("FY25_detentionStats01162025.xlsx", date(2025, 1, 6), 39_703, 76_939),
    ("third-party-modified/FY25_detentionStats02032025_markedup.xlsx", date(2025, 1, 21), 39_238, 85_769),
    ("third-party-modified/FY25_detentionStats02142025_markedup.xlsx", date(2025, 2, 8), 41_169, 95_474),
    ("FY25_detentionStats02272025.xlsx", date(2025, 2, 18), 43_759, 103_868),
    ("FY25_detentionStats06052025.xlsx", date(2025, 5, 27), 51_302, 181_360),
    ("FY25_detentionStats08292025.xlsx", date(2025, 8, 18), 61_226, 283_295),
    ("FY26_detentionStats02022026.xlsx", date(2026, 1, 22), 70_766, 144_378),
]


@needs_data
@pytest.mark.parametrize("relative,as_of,detained,removals", FORMATS_TABLE, ids=[t[0] for t in FORMATS_TABLE])
def test_formats_table_values(relative, as_of, detained, removals):
    edition = parsed(relative).edition
    # The validation table dates each edition by its IIDS "Data Source" line; the footnotes date the tables.
    assert edition.data_source_date == as_of
    removals_through = date.fromisoformat(dict(edition.table_dates)["removals"]["date"])
    assert abs((removals_through - as_of).days) <= 16  # 08/29/2025: removals through 08-09, Data Source 08-18
    assert one_value(relative, "currently_detained", criminality="Total", agency="Total") == detained
    assert one_value(relative, "removals_fytd") == removals
    removal_row = values(relative, "removals_fytd")[0]
    assert removal_row["grain"] == "fytd"
    assert removal_row["period_start"] == date(as_of.year - (as_of.month < 10), 10, 1)
    assert removal_row["period_end"] == min(removals_through, date(as_of.year + (as_of.month >= 10), 9, 30))


@needs_data
def test_currently_detained_breakdown_and_percent_columns_skipped():
    relative = "FY25_detentionStats08292025.xlsx"
    detained = values(relative, "currently_detained")
    assert len(detained) == 12  # 4 criminality rows x ICE, CBP, Total; Percent columns are not emitted
    assert one_value(relative, "currently_detained", criminality="Convicted Criminal", agency="ICE") == 16_619
    assert one_value(relative, "currently_detained", criminality="Other Immigration Violator", agency="CBP") == 11_664
    assert one_value(relative, "currently_detained_by_disposition", disposition="Notice to Appear (I-862)",
                     facility_type="Adult") == 37_573


# --- revisions and validation figures -------------------------------------------------------------------

JANUARY_2025 = date(2025, 1, 1)


@needs_data
def test_january_2025_ice_book_ins_revision_path():
    by_as_of = {}
    for path in ALL_FILES:
        relative = str(path.relative_to(WORKBOOKS))
        jan = [r for r in values(relative, "book_ins", agency="ICE") if r["period_start"] == JANUARY_2025]
        if jan:
            by_as_of[parsed(relative).edition.data_source_date] = jan[0]["value"]
    assert by_as_of[date(2025, 1, 6)] == 2_363  # partial month
    assert by_as_of[date(2025, 1, 21)] == 6_552  # partial month
    assert by_as_of[date(2025, 2, 8)] == 11_758
    assert by_as_of[date(2025, 2, 18)] == 11_755
    assert by_as_of[date(2025, 3, 3)] == 11_753
    later = {d: v for d, v in by_as_of.items() if d > date(2025, 3, 3)}
    assert len(later) == 11
    # The later editions move by a unit or two (11,752 on 03-17, 11,754 from 04-14 to 06-23) and settle at
    # 11,753 from the 07-21 edition on.
    assert all(abs(v - 11_753) <= 2 for v in later.values())
    assert all(v == 11_753 for d, v in later.items() if d >= date(2025, 7, 21))
    partial = values("FY25_detentionStats01162025.xlsx", "book_ins", agency="ICE")
    # The footnote dates ICE's book-ins "through 01/11/2025" (the Data Source line says 01/06/2025).
    assert [r["note"] for r in partial if r["period_start"] == JANUARY_2025] == ["partial month: data as of 2025-01-11"]


def _validation_csv(name: str) -> list[dict]:
    with open(VALIDATION / name, newline="") as fh:
        return list(csv.DictReader(fh))


@needs_data
def test_fy24_monthly_book_ins_equal_the_validation_csv():
    expected = _validation_csv("dtm_monthly_bookins_by_agency_fy2024.csv")
    assert len(expected) == 36

    def matches(relative: str) -> int:
        got = {(r["period_start"], r["dims"]["agency"]): r["value"] for r in values(relative, "book_ins")}
        return sum(got.get((date.fromisoformat(e["month_start"]), e["arresting_agency"]))
                   == float(e["initial_book_ins"]) for e in expected)

    # The year-end FY24 workbook (as of 2024-10-07) is the one the paper transcribed; the mid-year FY24
    # edition (as of 2024-01-12) is not.
    assert parsed("FY24_detentionStats.xlsx").edition.data_source_date == date(2024, 10, 7)
    assert matches("FY24_detentionStats.xlsx") == 36
    assert matches("20240119051317-FY24_detentionStats01182024.xlsx") < 36


@needs_data
def test_fy24_book_outs_against_the_2024_09_03_pull():
    expected = {(date.fromisoformat(e["month_start"]), e["release_reason"]): float(e["book_outs"])
                for e in _validation_csv("dtm_book_outs_by_month_fy2024.csv")}
    # The CSV was read from the edition pulled 2024-09-03 (FY24_detentionStats09172024), which is not in the
    # shared folder, so it can only be compared with neighbouring editions.
    assert date(2024, 9, 3) not in {parsed(str(p.relative_to(WORKBOOKS))).edition.data_source_date for p in ALL_FILES}

    year_end = "FY24_detentionStats.xlsx"  # as of 2024-10-07: a month later, months revised slightly
    got = {(r["period_start"], r["dims"]["release_reason"]): r["value"]
           for r in values(year_end, "book_outs", criminality="Total")}
    for (month, reason), value in expected.items():
        if month == date(2024, 9, 1):
            assert value < got[(month, reason)] / 4  # September was only 3 days old at the 09-03 pull
        elif reason == "Bonded Out" and month <= date(2024, 6, 1):
            assert got[(month, reason)] == value
        else:
            assert abs(got[(month, reason)] - value) <= 0.002 * value, (month, reason)

    mid_year = "20240119051317-FY24_detentionStats01182024.xlsx"  # as of 2024-01-12
    assert one_value(mid_year, "book_outs", date(2023, 10, 1), release_reason="Bonded Out", criminality="Total") == 941
    assert one_value(mid_year, "book_outs", date(2023, 11, 1), release_reason="Bonded Out", criminality="Total") == 940
    # That edition's table is "ICE Final Releases": its Total excludes removals, unlike the CSV's book-outs.
    mid_total = values(mid_year, "book_outs", release_reason="Total", criminality="Total")
    assert all("removals not included" in r["note"] for r in mid_total)
    assert {r["period_start"] for r in mid_total} == {date(2023, 10, 1), date(2023, 11, 1), date(2023, 12, 1),
                                                      date(2024, 1, 1)}


@needs_data
def test_removals_fytd_matches_the_validation_pull_of_2024_01_12():
    expected = {e["pull_date"]: float(e["removals_fiscal_ytd"])
                for e in _validation_csv("dtm_removals_fytd_by_pull_date_fy2024.csv")}
    relative = "20240119051317-FY24_detentionStats01182024.xlsx"
    assert parsed(relative).edition.data_source_date == date(2024, 1, 12)
    assert one_value(relative, "removals_fytd") == expected["2024-01-12"] == 69_741


# --- layouts and vocabularies ---------------------------------------------------------------------------

@needs_data
def test_book_outs_two_level_rows_and_grand_total():
    relative = "FY25_detentionStats08292025.xlsx"
    oct_2024 = date(2024, 10, 1)
    assert one_value(relative, "book_outs", oct_2024, release_reason="Total", criminality="Total") == 21_709
    assert one_value(relative, "book_outs", oct_2024, release_reason="Bonded Out", criminality="Total") == 909
    assert one_value(relative, "book_outs", oct_2024, release_reason="Bonded Out",
                     criminality="Pending Criminal Charges") == 329
    assert one_value(relative, "book_outs", date(2025, 8, 1), release_reason="Release to Remove",
                     criminality="Other Immigration Violator") == 7_586
    months = {r["period_start"] for r in values(relative, "book_outs")}
    assert date(2025, 9, 1) not in months  # September holds 0 and starts after the 2025-08-18 pull
    assert len(months) == 11


@needs_data
def test_adp_alos_agency_labels_and_fy_overall():
    relative = "FY25_detentionStats08292025.xlsx"
    oct_2024 = date(2024, 10, 1)
    assert one_value(relative, "adp", oct_2024, agency="CBP", criminality="Total") == pytest.approx(24423.5806451613)
    assert one_value(relative, "adp", oct_2024, agency="ICE", criminality="Total") == pytest.approx(14286.193548387)
    assert one_value(relative, "adp", oct_2024, agency="Total", criminality="Total") == pytest.approx(38709.774193548)
    fy_overall = [r for r in values(relative, "alos", agency="Total", criminality="Total") if r["grain"] == "fytd"]
    assert [r["value"] for r in fy_overall] == [pytest.approx(50.02253159)]
    assert values(relative, "adp")[0]["unit"] == "persons (average daily population, midnight)"
    assert one_value(relative, "adp_by_facility_type", date(2025, 4, 1), facility_type="FSC") == \
        pytest.approx(129.208333333)


@needs_data
def test_fy19_layout_fiscal_year_totals_and_non_criminal():
    relative = "FY19-detentionstats.xlsx"
    assert parsed(relative).edition.data_source_date == date(2019, 10, 7)
    total = values(relative, "book_outs", release_reason="Total", criminality="Total")
    assert [(r["grain"], r["value"], r["period_end"]) for r in total] == [("fytd", 263_263, date(2019, 9, 30))]
    assert one_value(relative, "book_outs", release_reason="Order of Supervision", criminality="Convicted Criminal") \
        == 5_269  # printed "Order of supervision"
    # FY19 ADP splits criminality into Convicted Criminal / Non-Criminal (= pending charges + other).
    convicted = one_value(relative, "adp", date(2018, 10, 1), agency="CBP", criminality="Convicted Criminal")
    non_criminal = one_value(relative, "adp", date(2018, 10, 1), agency="CBP", criminality="Non-Criminal")
    assert convicted + non_criminal == pytest.approx(
        one_value(relative, "adp", date(2018, 10, 1), agency="CBP", criminality="Total"))
    assert one_value(relative, "book_ins", date(2019, 9, 1), agency="ICE") == 10_728
    assert one_value(relative, "book_ins_by_facility_type", facility_type="FRC", criminality="Total") == 37_906


@needs_data
def test_facility_rows():
    relative = "FY25_detentionStats08142025.xlsx"
    assert parsed(relative).edition.data_source_date == date(2025, 8, 4)  # printed unpadded: 8/4/2025
    adams = {"facility": "ADAMS COUNTY DET CENTER", "aor": "NOL", "facility_type": "DIGSA", "state": "MS"}
    assert one_value(relative, "facility_adp", **adams, breakdown="level", category="Level A") == 1_883
    assert one_value(relative, "facility_adp", **adams, breakdown="gender_criminality", category="Male Crim",
                     gender="Male", criminality="Convicted Criminal") == 43
    assert one_value(relative, "facility_adp", **adams, breakdown="threat", category="No ICE Threat Level") == 2_139
    assert one_value(relative, "facility_adp", **adams, breakdown="mandatory") == 1_025
    assert one_value(relative, "facility_alos", **adams) == 55
    facility_rows = values(relative, "facility_adp") + values(relative, "facility_alos")
    assert {r["grain"] for r in facility_rows} == {"fytd"}
    assert {r["dims"]["breakdown"] for r in values(relative, "facility_adp")} == {
        "level", "gender_criminality", "threat", "mandatory"}
    # Footnotes and the stray cell below the list are not facilities.
    assert not any(r["dims"]["facility"].startswith(("[", "*", "(")) for r in facility_rows)


@needs_data
def test_facilities_sheet_with_two_header_rows_fy20():
    relative = "FY20-detentionstats.xlsx"
    names = {r["dims"]["facility"] for r in values(relative, "facility_alos")}
    assert len(names) > 100 and "Name" not in names


@needs_data
def test_edition_metadata_from_file_names():
    archive = parsed("20240119051317-FY24_detentionStats01182024.xlsx").edition
    assert archive.original_url == "https://www.ice.gov/doclib/detention/FY24_detentionStats01182024.xlsx"
    assert archive.published_on == date(2024, 1, 18) and archive.title == "ICE detention statistics FY24"
    assert parsed("FY26_detentionStats_02122026.xlsx").edition.published_on == date(2026, 2, 12)
    assert parsed("FY24_detentionStats.xlsx").edition.published_on is None
    assert parsed("FY19-detentionstats.xlsx").edition.original_url.endswith("/FY19-detentionstats.xlsx")
    marked = parsed("third-party-modified/FY25_detentionStats02032025_markedup.xlsx").edition
    assert marked.note == "third-party copy" and marked.published_on == date(2025, 2, 3)


def test_published_on_name_variants():
    assert published_on("FY25_detentionStats12112024.xlsx", 2025) == date(2024, 12, 11)  # MMDDYYYY
    assert published_on("FY21_detentionStats060921.xlsx", 2021) == date(2021, 6, 9)  # MMDDYY
    assert published_on("FY23_detentionStats230316.xlsx", 2023) == date(2023, 3, 16)  # YYMMDD
    assert published_on("FY26_detentionStats_02122026.xlsx", 2026) == date(2026, 2, 12)
    assert published_on("FY24_detentionStats.xlsx", 2024) is None
    assert published_on("FY22-detentionStats.xlsx", 2022) is None


@needs_data
def test_looks_like_workbook(tmp_path):
    assert looks_like_workbook(WORKBOOKS / "FY19-detentionstats.xlsx")
    text = tmp_path / "notes.xlsx"
    text.write_text("hello")
    assert not looks_like_workbook(text)
    assert not looks_like_workbook(WORKBOOKS.parent / "FORMATS.md")
    assert not looks_like_workbook(tmp_path / "missing.xlsx")


# --- bad input ------------------------------------------------------------------------------------------

def assert_one_line_error(err: pytest.ExceptionInfo, path: Path, *fragments: str) -> str:
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(path.name)
    for fragment in fragments:
        assert fragment in message, message
    return message


@needs_data
def test_truncated_workbook(tmp_path):
    source = WORKBOOKS / "FY25_detentionStats12112024.xlsx"
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    with pytest.raises(SourceError) as err:
        parse_workbook(truncated)
    assert_one_line_error(err, truncated, "truncated or corrupt")


def test_text_file_renamed_xlsx(tmp_path):
    fake = tmp_path / "report.xlsx"
    fake.write_text("Name,Value\nICE,1\n")
    with pytest.raises(SourceError) as err:
        parse_workbook(fake)
    assert_one_line_error(err, fake, "not an xlsx workbook")


def test_zip_bomb_is_refused_before_reading(tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(24):  # 24 MB of zeros deflate to ~24 kB: ratio ~1000:1
                member.write(chunk)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(SourceError) as err:
        parse_workbook(bomb)
    assert_one_line_error(err, bomb, "zip bomb", "xl/worksheets/sheet1.xml", "compression ratio")


def _rewrite_member(source: Path, target: Path, member: str, rewrite) -> None:
    """Copy a workbook, passing one zip member's bytes through rewrite()."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, rewrite(data) if info.filename == member else data)


@needs_data
def test_required_table_renamed_is_reported_missing_and_the_rest_loads(tmp_path):
    renamed = tmp_path / "FY25_detentionStats12112024.xlsx"
    _rewrite_member(WORKBOOKS / renamed.name, renamed, "xl/sharedStrings.xml",
                    lambda xml: xml.replace(b"ICE Currently Detained by Criminality",
                                            b"ICE Currently Held by Criminality"))
    result = parse_workbook(renamed)
    assert result.edition.missing_tables == ("ICE Currently Detained by Criminality and Arresting Agency",)
    assert "table not found on sheet 'Detention FY25': ICE Currently Detained by Criminality and Arresting Agency" \
        in result.warnings
    measures = set(result.observations.column("measure").to_pylist())
    assert "currently_detained" not in measures
    rows = result.observations.to_pylist()
    assert [r["value"] for r in rows if r["measure"] == "removals_fytd"] == [40658.0]


@needs_data
def test_optional_table_missing_is_a_warning(tmp_path):
    renamed = tmp_path / "FY25_detentionStats12112024.xlsx"
    _rewrite_member(WORKBOOKS / renamed.name, renamed, "xl/sharedStrings.xml",
                    lambda xml: xml.replace(b"ICE Average Daily Population by Arresting",
                                            b"ICE Mean Population by Arresting"))
    result = parse_workbook(renamed)
    assert any("Average Daily Population by Arresting Agency" in w for w in result.warnings)
    assert "adp" not in set(result.observations.column("measure").to_pylist())


@needs_data
def test_missing_as_of_date(tmp_path):
    renamed = tmp_path / "FY25_detentionStats12112024.xlsx"
    _rewrite_member(WORKBOOKS / renamed.name, renamed, "xl/sharedStrings.xml",
                    lambda xml: xml.replace(b"Integrated Decision Support (IIDS)", b"Integrated Decision Support"))
    with pytest.raises(SourceError) as err:
        parse_workbook(renamed)
    assert_one_line_error(err, renamed, "no as-of date")


@needs_data
def test_real_workbook_with_cached_values_stripped(tmp_path):
    # Drop the cached <v> of every formula cell of the Detention sheet (sheet4.xml in this workbook).
    stripped = tmp_path / "FY25_detentionStats12112024.xlsx"
    _rewrite_member(WORKBOOKS / stripped.name, stripped, "xl/worksheets/sheet4.xml",
                    lambda xml: re.sub(rb"(</f>)<v>[^<]*</v>", rb"\1", xml))
    with pytest.raises(SourceError) as err:
        parse_workbook(stripped)
    message = assert_one_line_error(err, stripped, "[Detention FY25]", "no cached value")
    assert re.search(r"formula cell [A-Z]+\d+ ", message)


def test_openpyxl_written_formulas_have_no_cached_values(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Detention FY25"
    sheet["A1"] = "ICE Initial Book-Ins by Arresting Agency and Month: FY2025"
    sheet.append(["Agency", "Oct", "Nov"])
    sheet.append(["CBP", 10, 12])
    sheet.append(["ICE", 5, 6])
    sheet["B5"] = "=SUM(B3:B4)"
    book.create_sheet("Facilities FY25")["A1"] = "Data Source: ICE Integrated Decision Support (IIDS), 11/12/2024"
    written = tmp_path / "resaved.xlsx"
    book.save(written)
    with pytest.raises(SourceError) as err:
        parse_workbook(written)
    assert_one_line_error(err, written, "[Detention FY25]", "formula cell B5 has no cached value")


def test_workbook_without_detention_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "Facilities FY25"
    written = tmp_path / "facilities_only.xlsx"
    book.save(written)
    with pytest.raises(SourceError) as err:
        parse_workbook(written)
    assert_one_line_error(err, written, "required table", "no 'Detention ...' sheet")


def test_error_messages_are_single_line_even_for_odd_input(tmp_path):
    empty_zip = tmp_path / "empty.xlsx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    empty_zip.write_bytes(buffer.getvalue())
    with pytest.raises(SourceError) as err:
        parse_workbook(empty_zip)
    assert_one_line_error(err, empty_zip, "no xl/workbook.xml")


@needs_data
def test_third_party_copy_of_same_edition_has_same_values(tmp_path):
    # Same bytes under another name and folder: same values, same sha256, note only where the path says so.
    original = WORKBOOKS / "FY25_detentionStats12112024.xlsx"
    copy = tmp_path / "third-party-modified" / "FY25_detentionStats12112024.xlsx"
    copy.parent.mkdir()
    shutil.copyfile(original, copy)
    a, b = parse_workbook(original), parse_workbook(copy)
    assert a.edition.edition_id == b.edition.edition_id and b.edition.note == "third-party copy"
    assert a.observations.equals(b.observations)
