"""Projections start from the present (issue 16): the capacity in force on the start date, no day-one
releases of a population already above it, --beds none, and one-line refusals."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from icetrack.model.calibration import beds_in_force
from icetrack.model.capacity import project
from icetrack.model.stock_flow import simulate
from icetrack.sources.user_csv import parse_csv
from icetrack.warehouse import open_warehouse

from test_capacity import hand_calibration

BEDS = """target_id,kind,label,concept,scope,value_low,value_high,unit,announced_on,effective_from,effective_to,track,source_url
funded,target,funded 100,detained_population,national,100,100,beds,2023-03-01,2023-10-01,2025-09-30,funded,https://example.org/f
expansion,target,expansion 300,detained_population,national,300,300,beds,2025-07-04,2025-07-04,2029-09-30,expansion,https://example.org/e
goal,target,a daily goal,arrests,national,3000,3000,arrests per day,2025-05-28,2025-05-21,,goal,https://example.org/g
"""


def test_capacity_in_force_follows_effective_and_announcement_dates(tmp_path):
    f = tmp_path / "beds.csv"
    f.write_text(BEDS, encoding="utf-8")
    path = tmp_path / "w.duckdb"
    with open_warehouse(path, load_reference=False) as wh:
        wh.load_many([parse_csv(f)])
        con = wh.ibis()
        assert beds_in_force(con, date(2023, 9, 30)) is None  # before any capacity
        assert beds_in_force(con, date(2024, 6, 1))["target_id"] == "funded"
        # both in force from July 4, 2025: the one in force from the later date (the expansion) is the cap ...
        assert beds_in_force(con, date(2025, 8, 1))["value"] == 300
        # ... unless the projection stands before it was announced (a back-test from June 2025)
        assert beds_in_force(con, date(2025, 8, 1), known_by=date(2025, 6, 30))["target_id"] == "funded"
        assert beds_in_force(con, date(2026, 4, 1))["period_end"] == "2029-09-30"


def test_a_population_above_the_cap_is_not_released_on_day_one():
    # 40 held, 25 beds, 10 arriving a day, a 4-day stay: day 0: 40 - 10 = 30 held, all 10 arrivals turned away;
    # day 1: 30 - 7.5 = 22.5, 2.5 of the 10 arrivals fit (25); the stock itself is never released.
    sim = simulate(np.array([[40.0]]), np.array([[[10.0]]]), np.array([[4.0]]), 25, 3)
    assert sim["population"][0].tolist() == [30.0, 25.0, 25.0]
    assert sim["forced_releases"][0].tolist() == [10.0, 7.5, 3.75]
    assert sim["held"][0].tolist() == [0.0, 2.5, 6.25]
    cal = hand_calibration(last_adp=(30_000.0, 20_000.0))  # 50,000 held against 41,500 beds
    p = project(cal, arrests_per_day=1000, beds=None, days=30, runs=5, seed=0)
    assert p["capacity"]["beds"] == 41_500 and p["capacity"]["start_population"] == 50_000
    assert "already 8,500 above the 41,500 beds on 2025-01-01: no one held is released" in p["capacity"]["above_cap_at_start"]
    # day one: 50,000 less one night's exits (30,000/50 + 20,000/40 = 1,100) = 48,900; no arrival fits
    assert p["daily"][0]["population"]["p50"] == pytest.approx(48_900, abs=0.5)
    assert p["daily"][0]["forced_releases"]["p50"] == pytest.approx(1_000, abs=0.5)  # 800 ICE + 200 CBP arrivals


def test_beds_none_is_uncapped_and_zero_beds_are_refused():
    cal = hand_calibration(last_adp=(30_000.0, 20_000.0))
    p = project(cal, arrests_per_day=1000, beds="none", days=30, runs=5, seed=0)
    assert p["capacity"]["beds"] is None and p["capacity"]["above_cap_at_start"] is None
    assert p["totals"]["forced_releases"]["p95"] == 0
    with pytest.raises(ValueError, match="beds must be above 0"):
        project(cal, arrests_per_day=1000, beds=0, days=30, runs=5)
    with pytest.raises(ValueError, match="arrests_per_day must be at least 0"):
        project(cal, arrests_per_day=-1, beds=None, days=30, runs=5)
    with pytest.raises(ValueError, match="a horizon of 800 days is over 24 months"):
        project(cal, arrests_per_day=1000, beds=None, days=800, runs=5)


def test_cli_defaults_to_the_capacity_in_force_and_refuses_in_one_line(icetrack):
    out = icetrack("project", "--arrests-per-day", "1200", "--days", "30", "--runs", "10", "--json")
    import json

    result = json.loads(out.stdout)
    # the bundled data's last complete month is March 2026: the 2025 expansion goal (100,000) is in force
    assert result["inputs"]["start"] == "2026-04-01" and result["capacity"]["beds"] == 100_000
    assert result["capacity"]["above_cap_at_start"] is None
    none = json.loads(icetrack("project", "--arrests-per-day", "1200", "--beds", "none", "--days", "30",
                               "--runs", "10", "--json").stdout)
    assert none["inputs"]["beds"] is None
    for args, message in [(["--beds", "0"], "beds must be above 0"),
                          (["--days", "800"], "a horizon of 800 days is over 24 months"),
                          (["--through", "2015-01-01"], "no ICE detention workbook was published on or before 2015-01-01")]:
        err = icetrack("project", "--arrests-per-day", "1200", *args, expect=2).stderr
        assert err.startswith(f"icetrack: error: {message}") and err.count("\n") == 1


def test_cli_evaluate_prints_the_rolling_evaluation(icetrack):
    import json

    result = json.loads(icetrack("project", "--evaluate", "--runs", "20", "--json").stdout)
    assert result["origins"]["count"] >= 40 and result["horizons"] == 6
    assert {(r["target"], r["horizon"]) for r in result["per_horizon"]} == {
        (t, h) for t in ("adp", "book_outs", "removals_to_date") for h in range(1, 7)}
    assert all(0 <= v["achieved"] <= 1 for v in result["coverage"]["empirical"]["all_targets"]["overall"].values())
    text = icetrack("project", "--evaluate", "--runs", "20").stdout
    assert "Rolling-origin evaluation: 104 origins" in text and "adp: error by horizon" in text
    for args, message in [(["--horizons", "25"], "over 24 months"), (["--horizons", "0"], "at least 1 month")]:
        err = icetrack("project", "--evaluate", *args, expect=2).stderr
        assert message in err and err.count("\n") == 1
