"""Bring-your-own CSV: strict validation, one-line errors, transactional and idempotent loads, vintages."""

from __future__ import annotations

from pathlib import Path

import pytest

from icetrack.domain.edition import SourceError
from icetrack.sources.user_csv import parse_csv
from icetrack.warehouse import open_warehouse

from helpers import sha256

GOOD = """date,measure,value,unit,source_url,dim_aor,note
2025-02-03,ice_posted_arrests,1200,arrests,https://example.org/post-1,,a new post
2025-02-04,ice_posted_arrests,1150,arrests,https://example.org/post-2,,
2025-02-03,ice_posted_arrests,60,arrests,https://example.org/post-1,Seattle,field office figure
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_ingest_then_same_file_again_changes_nothing(icetrack, tmp_path, warehouse_path):
    f = write(tmp_path, "posts.csv", GOOD)
    first = icetrack("ingest", str(f))
    assert "loaded edition user_csv:" in first.stdout and "3 observations" in first.stdout
    before = sha256(warehouse_path)
    again = icetrack("ingest", str(f))
    assert "already loaded" in again.stdout and "nothing changed" in again.stdout
    assert sha256(warehouse_path) == before
    rows = icetrack.json("series", "ice_posted_arrests", "--dim", "aor=Seattle")
    assert [(r["period_start"], r["value"], r["dims"]) for r in rows] == [("2025-02-03", 60.0, {"aor": "Seattle"})]


def test_user_series_joins_the_ledger_and_field_office_target_applies(icetrack, tmp_path):
    icetrack("ingest", str(write(tmp_path, "posts.csv", GOOD)))
    ledger = icetrack.json("targets", "--daily-summary")
    national = next(s for s in ledger["series"] if s["measure"] == "ice_posted_arrests" and s["dims_key"] == "")
    assert national["variants"]["as_published"]["total"] == 7314 + 1200 + 1150
    assert national["variants"]["as_published"]["days_missing"] == 2  # Feb 1 and 2 were never posted
    nbc = next(t for t in national["targets"] if t["target_id"] == "nbc_daily_quota_2025")
    assert nbc["as_published"]["days_meeting_low"] == 1
    seattle = next(s for s in ledger["series"] if s["dims_key"] == "aor=Seattle")
    assert seattle["scope"] == "field_office"
    assert [t["target_id"] for t in seattle["targets"]] == ["wapo_field_office_goal_2025"]
    assert seattle["targets"][0]["as_published"]["shortfall_low"] == 75 - 60


MALFORMED = {
    "bad_date": ("date,measure,value,unit,source_url\n2025-02-30,ice_posted_arrests,5,arrests,https://x.org/a\n",
                 "row 2: date '2025-02-30' is not a real calendar date"),
    "bad_date_format": ("date,measure,value,unit,source_url\n02/03/2025,ice_posted_arrests,5,arrests,https://x.org/a\n",
                        "row 2: date '02/03/2025' is not a date YYYY-MM-DD"),
    "negative": ("date,measure,value,unit,source_url\n2025-02-03,ice_posted_arrests,-5,arrests,https://x.org/a\n",
                 "row 2: value -5 is negative"),
    "non_numeric": ("date,measure,value,unit,source_url\n2025-02-03,ice_posted_arrests,many,arrests,https://x.org/a\n",
                    "row 2: value 'many' is not a number"),
    "thousands": ('date,measure,value,unit,source_url\n2025-02-03,ice_posted_arrests,"1,179",arrests,https://x.org/a\n',
                  "without thousands separators"),
    "missing_column": ("date,measure,value,source_url\n2025-02-03,ice_posted_arrests,5,https://x.org/a\n",
                       "row 1: missing required column: unit"),
    "unknown_column": ("date,measure,value,unit,source_url,colour\n2025-02-03,ice_posted_arrests,5,arrests,https://x.org/a,red\n",
                       "unknown column 'colour'"),
    "duplicate_key": ("date,measure,value,unit,source_url\n2025-02-03,ice_posted_arrests,5,arrests,https://x.org/a\n"
                      "2025-02-03,ice_posted_arrests,6,arrests,https://x.org/a\n",
                      "row 3: duplicate key ice_posted_arrests 2025-02-03 with a different value (6 here, 5 on row 2)"),
    "no_source": ("date,measure,value,unit,source_url\n2025-02-03,ice_posted_arrests,5,arrests,\n",
                  "source_url is empty"),
    "wrong_unit": ("date,measure,value,unit,source_url\n2025-02-03,ice_posted_arrests,5,people,https://x.org/a\n",
                   "catalogue unit is 'arrests'"),
    "ragged_row": ("date,measure,value,unit,source_url\n2025-02-03,ice_posted_arrests,5,arrests\n",
                   "row 2: 4 cells but the header has 5 columns"),
    "inverted_target": ("target_id,kind,label,concept,scope,value_low,value_high,unit,source_url\n"
                        "t1,target,T,arrests,national,1500,1200,arrests per day,https://x.org/t\n",
                        "value_high 1200 is below value_low 1500"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_csv_is_one_line_error_and_warehouse_is_byte_identical(icetrack, tmp_path, warehouse_path, case):
    text, expected = MALFORMED[case]
    icetrack("editions")  # the warehouse exists, reference facts loaded
    before = sha256(warehouse_path)
    f = write(tmp_path, f"{case}.csv", text)
    result = icetrack("ingest", str(f), expect=2)
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in result.output
    assert message.startswith(f"icetrack: error: {case}.csv")
    assert expected in message
    assert sha256(warehouse_path) == before


def test_several_problems_are_counted_in_the_one_line(tmp_path):
    f = write(tmp_path, "many.csv", "date,measure,value,unit,source_url\n"
              "2025-13-01,ice_posted_arrests,5,arrests,https://x.org/a\n"
              "2025-02-01,ice_posted_arrests,-1,arrests,https://x.org/a\n"
              "2025-02-02,ice_posted_arrests,x,arrests,https://x.org/a\n")
    with pytest.raises(SourceError) as e:
        parse_csv(f)
    assert str(e.value) == "many.csv row 2: date '2025-13-01' is not a real calendar date (and 2 more problems)"


def test_non_utf8_and_binary_are_refused(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("date,measure,value,unit,source_url\n2025-02-03,caf\xe9,1,x,https://x.org\n".encode("latin-1"))
    with pytest.raises(SourceError, match=r"latin.csv: not UTF-8 \(byte 0xe9"):
        parse_csv(latin)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(SourceError, match="binary data"):
        parse_csv(binary)


def test_revised_figure_is_a_new_vintage(icetrack, tmp_path):
    v1 = write(tmp_path, "v1.csv", "date,measure,value,unit,source_url,published_on\n"
               "2025-02-03,ice_posted_arrests,1200,arrests,https://x.org/a,2025-02-04\n")
    v2 = write(tmp_path, "v2.csv", "date,measure,value,unit,source_url,published_on\n"
               "2025-02-03,ice_posted_arrests,1180,arrests,https://x.org/b,2025-02-10\n")
    icetrack("ingest", str(v2))
    icetrack("ingest", str(v1))  # loaded later but published earlier: must not become "latest"
    rows = [r for r in icetrack.json("series", "ice_posted_arrests") if r["period_start"] == "2025-02-03"]
    assert [r["value"] for r in rows] == [1180.0]
    every = [r for r in icetrack.json("series", "ice_posted_arrests", "--vintage", "all")
             if r["period_start"] == "2025-02-03"]
    assert sorted(r["value"] for r in every) == [1180.0, 1200.0]


def test_load_is_all_or_nothing(warehouse_path, tmp_path, monkeypatch):
    """A failure half-way through a load leaves no edition and no observation behind."""
    from icetrack import warehouse as wmod

    f = write(tmp_path, "posts.csv", GOOD)
    parsed = parse_csv(f)
    with open_warehouse(warehouse_path) as wh:
        n_obs = wh.con.execute("SELECT count(*) FROM observations").fetchone()[0]
        original = wmod.Warehouse._insert_all

        def failing_insert(self, p):
            original(self, p)  # everything inserted ...
            raise RuntimeError("disk full")  # ... then the load fails before commit

        monkeypatch.setattr(wmod.Warehouse, "_insert_all", failing_insert)
        with pytest.raises(RuntimeError, match="disk full"):
            wh.load(parsed)
        assert wh.con.execute("SELECT count(*) FROM observations").fetchone()[0] == n_obs
        assert wh.has_sha256(parsed.edition.sha256) is None


def test_python_api_returns_arrow_and_pandas(warehouse_path):
    with open_warehouse(warehouse_path) as wh:
        table = wh.series_arrow("ice_posted_arrests")
        frame = wh.series("ice_posted_arrests")
    assert table.num_rows == 9 and table.column("value").to_pylist()[4] == 1179.0
    assert frame.value.sum() == 7314


def test_reference_facts_load_once(warehouse_path):
    with open_warehouse(warehouse_path) as wh:
        first = wh.editions()
    with open_warehouse(warehouse_path) as wh:
        again = wh.editions()
    assert len(first) == len(again)
    assert list(first.edition_id) == list(again.edition_id)
    reference = first[first.source == "icetrack_reference"]
    assert sorted(reference.file_name) == ["detention_capacity.csv", "ice_daily_enforcement_posts_2025.csv",
                                           "ice_fy2019_ero_report.csv", "ice_fy2023_annual_report.csv",
                                           "ice_fy2024_annual_report.csv", "targets_2025.csv"]
    bundled = first[first.source == "ice_detention_workbook"]
    assert len(bundled) == 30 and set(bundled.completeness) == {"national"}


def test_warehouse_location_from_environment(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from icetrack.cli import cli

    target = tmp_path / "env" / "wh.duckdb"
    monkeypatch.setenv("ICETRACK_WAREHOUSE", str(target))
    result = CliRunner().invoke(cli, ["editions", "--json"], obj={})
    assert result.exit_code == 0 and target.exists()


def test_not_a_warehouse_is_a_one_line_error(icetrack, tmp_path):
    from helpers import Icetrack

    bogus = tmp_path / "bogus.duckdb"
    bogus.write_text("hello")
    result = Icetrack(bogus)("editions", expect=2)
    assert result.stderr.count("\n") == 1 and "bogus.duckdb" in result.stderr
