"""Targets with a timeline (issue 15): the CSV fields, their refusals, and the schema upgrade."""

from __future__ import annotations

import duckdb
import pytest

from icetrack.domain.targets import per_day, unit_kind, unit_problem, window_problem
from icetrack.warehouse import open_warehouse
from icetrack.warehouse.store import SCHEMA_VERSION

from helpers import sha256

HEADER = "target_id,kind,label,concept,scope,value_low,value_high,unit,effective_from,effective_to,track,source_url\n"
GOOD = HEADER + (
    "goal_low,target,a goal,arrests,national,100,100,arrests per day,2025-01-01,2025-03-31,goal,https://example.org/a\n"
    "goal_high,target,a raised goal,arrests,national,300,300,arrests per day,2025-04-01,,goal,https://example.org/b\n"
    "beds_goal,target,beds,detained_population,national,9000,9000,beds,2025-07-04,2029-09-30,,https://example.org/c\n")


def test_unit_kinds_and_per_day():
    assert [unit_kind(u) for u in ("arrests per day", "arrests per day per field office", "removals per year",
                                   "beds", "persons", "arrests a day", "")] == [
        "per_day", "per_day", "per_year", "level", "level", None, None]
    assert per_day(1_000_000, "removals per year") == pytest.approx(2739.726, abs=1e-3)
    assert per_day(3000, "arrests per day") == 3000 and per_day(41500, "beds") == 41500
    assert "not a rate per day" in unit_problem("arrests a fortnight")
    assert window_problem(None, None) is None
    from datetime import date
    assert window_problem(date(2025, 5, 1), date(2025, 4, 30)) == "effective_to 2025-04-30 is before effective_from 2025-05-01"


def test_timeline_fields_load_and_are_read_back(icetrack, tmp_path, warehouse_path):
    f = tmp_path / "targets.csv"
    f.write_text(GOOD, encoding="utf-8")
    icetrack("ingest", str(f))
    with open_warehouse(warehouse_path, read_only=True) as wh:
        t = wh.targets().set_index("target_id")
    assert t.loc["goal_low", "effective_to"].isoformat()[:10] == "2025-03-31"
    assert (t.loc["goal_high", "track"], t.loc["beds_goal", "track"]) == ("goal", "beds_goal")  # default: own id
    assert t.loc["beds_goal", "date_precision"] == "day"
    doc = icetrack.json("targets", "--grain", "month", "--target", "goal_low", "--target", "goal_high",
                        "--series", "book_ins.ice_arrested", "--since", "2025-01-01")
    s = doc["series"][0]
    goal = next(x for x in s["targets"] if x["track"] == "goal")
    by_month = {p["period_start"]: p for p in goal["periods"]}
    # Bundled January 2025 book-ins (379.1 a day) against 100 a day; April on against 300.
    assert by_month["2025-01-01"]["target_low"] == 100 and by_month["2025-01-01"]["attainment_low_pct"] == 379.1
    assert by_month["2025-04-01"]["in_force"] == ["goal_high"]
    assert goal["first_period_at_or_above_low"] == "2025-01-01"


@pytest.mark.parametrize("row, message", [
    ("x,target,x,arrests,national,1,1,arrests per day,2025-05-01,2025-04-30,,https://example.org/x",
     "row 2: effective_to 2025-04-30 is before effective_from 2025-05-01"),
    ("x,target,x,arrests,national,1,1,arrests a fortnight,2025-05-01,,,https://example.org/x",
     "row 2: unit 'arrests a fortnight' is not a rate per day"),
    ("x,target,x,deportations,national,1,1,arrests per day,2025-05-01,,,https://example.org/x",
     "row 2: concept 'deportations' is not one of"),
    ("x,target,x,arrests,national,1,1,arrests per day,,2025-05-01,,https://example.org/x",
     "row 2: effective_to needs an effective_from"),
])
def test_bad_target_rows_are_refused_in_one_line(icetrack, tmp_path, warehouse_path, row, message):
    icetrack("editions")
    before = sha256(warehouse_path)
    f = tmp_path / "bad.csv"
    f.write_text(HEADER + row + "\n", encoding="utf-8")
    out = icetrack("ingest", str(f), expect=2)
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.output + out.stderr
    assert sha256(warehouse_path) == before


def test_overlapping_targets_of_one_track_are_refused(icetrack, tmp_path, warehouse_path):
    icetrack("editions")
    before = sha256(warehouse_path)
    f = tmp_path / "overlap.csv"
    f.write_text(HEADER
                 + "a,target,a,arrests,national,1,1,arrests per day,2025-01-01,2025-06-30,goal,https://example.org/a\n"
                 + "b,target,b,arrests,national,2,2,arrests per day,2025-06-01,,goal,https://example.org/b\n",
                 encoding="utf-8")
    out = icetrack("ingest", str(f), expect=2)
    assert "track 'goal': a (from 2025-01-01 to 2025-06-30) overlaps b (from 2025-06-01)" in out.stderr
    assert sha256(warehouse_path) == before


def test_cli_grain_a_series_cannot_be_read_at(icetrack, warehouse_path):
    icetrack("editions")
    before = sha256(warehouse_path)
    out = icetrack("targets", "--grain", "week", "--series", "book_ins.ice_arrested", expect=2)
    assert out.stderr.strip().splitlines() == [
        "icetrack: error: series 'book_ins.ice_arrested' is published per month; it cannot be read per week "
        "(readable: month, fytd)"]
    out = icetrack("targets", "--target", "no_such_target", expect=2)
    assert "target 'no_such_target' is not loaded" in out.stderr
    assert sha256(warehouse_path) == before


def test_cli_csv_rows_follow_the_json(icetrack):
    import csv
    import io

    out = icetrack("targets", "--grain", "month", "--series", "book_ins.ice_arrested", "--since", "2025-01-01",
                   "--csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    jan = next(r for r in rows if r["period_start"] == "2025-01-01" and r["track"] == "daily_arrest_goal")
    assert (jan["per_day"], jan["total"], jan["in_force"], jan["target_low"]) == (
        "379.1", "11753.0", "wapo_daily_goal_2025", "1200.0")


def test_schema_4_targets_are_upgraded_keeping_their_meaning(tmp_path):
    path = tmp_path / "old.duckdb"
    f = tmp_path / "t.csv"
    f.write_text(GOOD, encoding="utf-8")
    from icetrack.sources.user_csv import parse_csv

    with open_warehouse(path, load_reference=False) as wh:
        wh.load_many([parse_csv(f)])
    con = duckdb.connect(str(path))
    for column in ("effective_to", "date_precision", "track"):
        con.execute(f"ALTER TABLE targets DROP COLUMN {column}")
    con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    con.close()
    with open_warehouse(path, load_reference=False) as wh:
        assert wh.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (SCHEMA_VERSION,)
        t = wh.targets().set_index("target_id")
    # Before schema 5 a target was open-ended and alone: it stays so.
    assert t.effective_to.isna().all() and (t.track == t.index).all() and set(t.date_precision) == {"day"}
