"""Capacity and projection model (issue 7): Little's law, the stock-and-flow simulation, goal seeking, the
back-test on the real workbook editions, and the `icetrack project` command."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pytest

from icetrack.model.capacity import Calibration, backtest, calibrate, goal_seek, project, simulate, steady_state
from icetrack.warehouse import open_warehouse

from helpers import Icetrack


def hand_calibration(*, stays=(50.0, 40.0), admissions=(300.0, 200.0), sd=0.0, removal_share=0.6,
                     share_detained=0.8, beds=41_500.0, last_adp=(15_000.0, 8_000.0), other=100.0) -> Calibration:
    """A calibration with round numbers, so every figure below can be checked by hand."""
    est = lambda m: {"mean": m, "sd": sd * m}  # noqa: E731
    return Calibration(
        through=None, as_of=date(2025, 1, 6), start=date(2025, 1, 1), window=["2024-12"],
        stay_days={"ICE": est(stays[0]), "CBP": est(stays[1]), "Total": est(45.0)},
        alos_days={"ICE": est(stays[0]), "CBP": est(stays[1]), "Total": est(45.0)},
        admissions_per_day={"ICE": est(admissions[0]), "CBP": est(admissions[1])},
        book_out_shares={"removal": est(removal_share), "release": est(1 - removal_share),
                         "transfer": est(0.0), "other": est(0.0)},
        share_detained={"value": share_detained, "fiscal_year": 2024, "edition_ids": ["hand"]},
        beds={"value": beds, "period_start": "2023-10-01", "period_end": "2025-03-14", "edition_id": "hand",
              "file_name": "hand.csv", "source_url": None, "note": None},
        last_adp={"month": "2024-12", "ICE": last_adp[0], "CBP": last_adp[1], "Total": sum(last_adp),
                  "edition_id": "hand"},
        other_removals_per_day={"value": other, "edition_ids": ["hand"]},
        removals_fytd={"value": 0.0, "fiscal_year_start": "2024-10-01", "as_of": "2025-01-06", "edition_id": "hand",
                       "file_name": "hand.xlsx"},
        monthly=[], editions=[{"edition_id": "hand", "file_name": "hand.xlsx", "published_on": None, "as_of": None}])


# -- Little's law ------------------------------------------------------------------------------------------
def test_steady_state_is_littles_law_exactly():
    cal = hand_calibration()
    ss = steady_state(cal, arrests_per_day=1000, beds=math.inf)
    # ICE 1000 x 0.8 = 800 a day for 50 days, CBP 200 a day for 40 days
    assert ss["admissions_per_day"] == 1000
    assert ss["beds_needed"] == 800 * 50 + 200 * 40 == 48_000
    assert ss["mean_stay_days"] == 48
    assert ss["population"] == 48_000 and ss["forced_releases_per_day"] == 0 and not ss["capacity_binds"]
    assert ss["removals_per_year"] == 365 * (1000 * 0.6 + 100)
    assert ss["inputs"]["beds"] is None and ss["sustainable_admissions_per_day"] is None  # no cap: null

    capped = steady_state(cal, arrests_per_day=1000, beds=41_500)
    assert capped["sustainable_admissions_per_day"] == 41_500 / 48
    assert capped["forced_releases_per_day"] == pytest.approx(1000 - 41_500 / 48, rel=1e-15)
    assert capped["population"] == pytest.approx(41_500, rel=1e-15) and capped["capacity_binds"]
    # ICE arrests the beds hold beside the CBP admissions: 0.8 a x 50 + 200 x 40 = 41,500
    assert capped["sustainable_arrests_per_day"] == (41_500 - 200 * 40) / (0.8 * 50)

    # REFERENCE.md section 5: 41,500 beds at a 45-day stay sustain ~920 admissions a day; 1,200 a day, all
    # detained, need 54,000 beds.
    alone = hand_calibration(admissions=(0.0, 0.0))
    ref = steady_state(alone, arrests_per_day=1200, beds=41_500, stay_days=45, share_detained=1.0)
    assert ref["beds_needed"] == 54_000
    assert round(ref["sustainable_admissions_per_day"]) == 922


# -- the simulation ----------------------------------------------------------------------------------------
def test_without_a_cap_the_population_converges_to_admissions_times_stay():
    sim = simulate(np.zeros((1, 2)), np.array([[[800.0, 200.0]]]), np.array([[50.0, 40.0]]), math.inf, 2000)
    assert sim["population"][0, -1] == pytest.approx(48_000, rel=1e-9)
    assert sim["forced_releases"].sum() == 0
    assert sim["book_outs"][0, -1] == pytest.approx(1000, rel=1e-9)  # outflow = inflow in steady state

    # With uncertain stays and CBP admissions (sd 10%), the mean over runs converges to E[admissions x stay].
    cal = hand_calibration(sd=0.1, admissions=(0.0, 200.0))
    p = project(cal, arrests_per_day=1000, beds=math.inf, days=731, runs=400, seed=3)
    expected = 800 * 50 + 200 * 40
    assert p["totals"]["final_population"]["p50"] == pytest.approx(expected, rel=0.01)
    assert p["totals"]["forced_releases"]["p95"] == 0


def test_forced_releases_equal_the_excess_when_the_cap_binds():
    # 20 held, 10 arrive a day, a 4-day mean stay (a quarter leave each night), 25 beds:
    # day 0: 20 - 5 + 10 = 25 (fits); day 1: 25 - 6.25 + 10 = 28.75, so 3.75 are released; and so on.
    sim = simulate(np.array([[20.0]]), np.array([[[10.0]]]), np.array([[4.0]]), 25, 4)
    assert sim["population"][0].tolist() == [25, 25, 25, 25]
    assert sim["forced_releases"][0].tolist() == [0, 3.75, 3.75, 3.75]
    assert sim["held"][0].tolist() == [10, 6.25, 6.25, 6.25]
    # a population already above the beds: 40 - 10 + 10 = 40, 15 over: all 10 arrivals are turned away and no
    # one held is released (issue 16): 30 held, still above the 25 beds
    over = simulate(np.array([[40.0]]), np.array([[[10.0]]]), np.array([[4.0]]), 25, 1)
    assert over["forced_releases"][0, 0] == 10 and over["held"][0, 0] == 0 and over["population"][0, 0] == 30

    # any case: forced releases = population before the cap - beds, and the stock balances every day
    rng = np.random.default_rng(1)
    adm = rng.uniform(0, 600, (3, 60, 2))
    sim = simulate(np.array([[7_000.0, 3_000.0]]), adm, np.array([[30.0, 20.0]]), 11_000, 60)
    before = np.concatenate([np.full((3, 1), 10_000.0), sim["population"][:, :-1]], axis=1)
    uncapped = before - sim["book_outs"] + sim["arrivals"]
    assert np.allclose(sim["forced_releases"], np.maximum(uncapped - 11_000, 0))
    assert np.allclose(sim["population"], uncapped - sim["forced_releases"])
    assert sim["forced_releases"].sum() > 0 and sim["population"].max() <= 11_000 + 1e-9


def test_projection_is_deterministic_with_a_seed_and_json_ready():
    cal = hand_calibration(sd=0.1)
    a = project(cal, arrests_per_day=1200, beds=41_500, days=90, runs=50, seed=7)
    b = project(cal, arrests_per_day=1200, beds=41_500, days=90, runs=50, seed=7)
    c = project(cal, arrests_per_day=1200, beds=41_500, days=90, runs=50, seed=8)
    assert json.dumps(a) == json.dumps(b)
    assert a["totals"]["removals"] != c["totals"]["removals"]
    assert len(a["daily"]) == 90 and a["daily"][0]["date"] == "2025-01-01" and a["daily"][-1]["date"] == "2025-03-31"
    assert [m["month"] for m in a["monthly"]] == ["2025-01", "2025-02", "2025-03"]
    for m in a["monthly"]:
        assert m["population"]["p5"] <= m["population"]["p50"] <= m["population"]["p95"]
        assert m["removals"]["p50"] == pytest.approx(m["removals_from_detention"]["p50"] + 100 * m["days"], abs=0.2)


# -- goal seeking ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("solve_for, given", [("arrests_per_day", {}), ("beds", {"arrests_per_day": 1500}),
                                              ("stay_days", {"arrests_per_day": 1500})])
def test_goal_seeking_round_trips(solve_for, given):
    cal = hand_calibration()
    goal = 200_000.0  # the 41,500 beds allow at most 227,030 (next test)
    g = goal_seek(cal, removals_per_year=goal, solve_for=solve_for, **given)
    assert g["reachable"] and g["steady_state"]["removals_per_year"] == pytest.approx(goal, rel=1e-9)
    kwargs = {"arrests_per_day": given.get("arrests_per_day"), "beds": None, "stay_days": None, solve_for: g["value"]}
    p = project(cal, days=731, runs=20, seed=0, **kwargs)
    assert p["totals"]["removals_per_year"]["p50"] == pytest.approx(goal, rel=0.03)


def test_goal_seeking_says_when_a_goal_is_out_of_reach():
    cal = hand_calibration()
    # The beds fill at 0.8 a x 50 + 200 x 40 = 41,500, i.e. a = 837.5 arrests (870 admissions a day). More
    # arrests only shift the mix towards ICE's longer stay and lower the throughput: 365 x (870 x 0.6 + 100).
    g = goal_seek(cal, removals_per_year=1_000_000)
    assert not g["reachable"] and g["value"] is None
    assert g["max_removals_per_year"] == pytest.approx(365 * (870 * 0.6 + 100), rel=1e-9) == 227_030
    assert steady_state(cal, arrests_per_day=5000, beds=None)["removals_per_year"] < 227_030
    assert "unreachable" in g["message"]
    # at 1,500 arrests a day (1,400 admissions) no number of beds removes more than 365 x (1,400 x 0.6 + 100)
    beds = goal_seek(cal, removals_per_year=400_000, solve_for="beds", arrests_per_day=1500)
    assert not beds["reachable"] and beds["max_removals_per_year"] == pytest.approx(365 * (1400 * 0.6 + 100))


@pytest.mark.parametrize("call, message", [
    (lambda c: steady_state(c, arrests_per_day=1000, beds=-1), "beds must be at least 0"),
    (lambda c: steady_state(c, arrests_per_day=1000, beds=1, share_detained=1.5), "share_detained must be between 0 and 1"),
    (lambda c: steady_state(c, arrests_per_day=-3, beds=1), "arrests_per_day must be at least 0"),
    (lambda c: steady_state(c, arrests_per_day=1000, beds=1, stay_days=0.5), "stay_days must be between 1"),
    (lambda c: project(c, arrests_per_day=1000, beds=1, days=0), "days must be between 1 and 731"),
    (lambda c: project(c, arrests_per_day=1000, beds=1, days=5000), "a horizon of 5000 days is over 24 months"),
    (lambda c: project(c, arrests_per_day=1000, beds=1, runs=0), "runs must be between 1"),
    (lambda c: goal_seek(c, removals_per_year=1, solve_for="flights"), "solve_for must be one of"),
])
def test_invalid_inputs_raise_one_line_value_errors(call, message):
    with pytest.raises(ValueError) as e:
        call(hand_calibration())
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


# -- the real workbooks ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workbooks(tmp_path_factory):
    """A warehouse holding every shared workbook edition, ingested with `icetrack ingest`."""
    from helpers import shared_data_dir

    data = shared_data_dir()
    if data is None:
        pytest.skip("../shared/data (real public source files) is not present beside this checkout; "
                    "set ICETRACK_SHARED_DATA to its location to run this test")
    path = tmp_path_factory.mktemp("capacity") / "wh.duckdb"
    Icetrack(path)("ingest", str(data / "ice-detention-stats"))
    return path


@pytest.fixture(scope="module")
def backtested(workbooks):
    with open_warehouse(workbooks) as wh:
        return backtest(wh.ibis())


# Monthly ADP (all agencies, midnight) Feb-Aug 2025, latest vintage: the 09/11/2025 edition (data as of 09/02;
# the copy in third-party-modified/, the only file holding a complete August 2025).
ACTUAL_ADP_2025 = [43_111.75, 47_670.32, 49_499.40, 50_314.48, 57_390.77, 58_315.77, 60_930.74]


def test_backtest_calibrates_only_on_editions_published_by_the_cut_off(backtested):
    cal = backtested["calibration"]
    assert cal["through"] == "2025-01-31" and cal["as_of"] == "2025-01-12"
    assert cal["window"] == ["2024-07", "2024-08", "2024-09", "2024-10", "2024-11", "2024-12"]
    files = {e["file_name"] for e in cal["editions"]}
    # not the 02/03/2025 copy (published after Jan 31); the beds are the capacity in force on the start date
    # (the FY2024 funded beds of targets_2025.csv), not the 2025 expansion goal announced in July 2025
    assert {"FY25_detentionStats01162025.xlsx", "FY24_detentionStats.xlsx", "targets_2025.csv",
            "ice_fy2024_annual_report.csv"} == files
    assert (cal["beds"]["value"], cal["beds"]["target_id"]) == (41_500, "funded_beds_fy2024")
    assert all((e["published_on"] or e["as_of"] or "2023-10-01") <= "2025-01-31" for e in cal["editions"])
    assert cal["last_adp"]["month"] == "2024-12" and cal["last_adp"]["Total"] == pytest.approx(39_154.48, abs=0.01)
    # FY2024: 90,615 ICE-arrested book-ins / 113,431 ERO administrative arrests
    assert cal["share_detained"]["value"] == pytest.approx(90_615 / 113_431)
    # removals FYTD through 2025-01-11 (its footnote; the Data Source line says 01-06): 76,939, of which 42,381
    # 'Release to Remove' book-outs, over 103 days
    assert cal["other_removals_per_day"]["value"] == pytest.approx((76_939 - 42_381) / 103)
    assert cal["stay_days"]["ICE"]["mean"] == pytest.approx(55.08, abs=0.01)
    assert cal["stay_days"]["CBP"]["mean"] == pytest.approx(49.28, abs=0.01)
    assert cal["alos_days"]["Total"]["mean"] == pytest.approx(47.06, abs=0.01)  # ALOS: shorter than ADP / book-ins


def test_calibration_moves_with_each_publication(workbooks):
    # The 02/03/2025 copy (data as of 01/21) counts from Feb 3, the 02/14/2025 copy (as of 02/08) from Feb 14;
    # a Warehouse is accepted as well as its Ibis connection.
    with open_warehouse(workbooks) as wh:
        assert calibrate(wh, date(2025, 2, 2)).as_of == date(2025, 1, 12)
        assert calibrate(wh, date(2025, 2, 3)).as_of == date(2025, 1, 26)
        february = calibrate(wh.ibis(), date(2025, 2, 14))
    assert february.as_of == date(2025, 2, 9) and february.window[-1] == "2025-01"
    assert february.removals_fytd["value"] == 95_474  # FORMATS.md: the 02/14/2025 copy


def test_backtest_scores_adp_against_the_naive_baseline(backtested):
    observed = backtested["modes"]["observed_book_ins"]["adp"]
    assert [r["month"] for r in observed["per_horizon"]] == [f"2025-{m:02d}" for m in range(2, 9)]
    assert [r["horizon_months"] for r in observed["per_horizon"]] == list(range(1, 8))
    assert [round(r["actual"], 2) for r in observed["per_horizon"]] == ACTUAL_ADP_2025
    naive = np.mean([abs(39_154.48 - a) / a for a in ACTUAL_ADP_2025]) * 100
    assert observed["naive"]["mape"] == pytest.approx(naive, abs=0.01) == pytest.approx(24.36, abs=0.01)
    assert observed["naive"]["bias"] == pytest.approx(-24.36, abs=0.01)
    # Fed the book-ins ICE later reported, the calibrated stock-and-flow beats the naive baseline...
    assert observed["model"]["mape"] == pytest.approx(13.99, abs=0.05) and observed["beats_naive"]
    assert observed["model"]["bias"] == pytest.approx(-13.99, abs=0.05)
    # ...and tracks the ICE-arrested population within 5% at every horizon; CBP-arrested people stayed far
    # longer than before (the notes measure it), which is where the error comes from.
    for r in observed["per_horizon"]:
        ice = r["by_agency"]["ICE"]
        assert abs(ice["model_p50"] - ice["actual"]) / ice["actual"] < 0.06
        assert r["by_agency"]["CBP"]["model_p50"] < r["by_agency"]["CBP"]["actual"]
    # Holding admissions at their calibrated rate cannot beat it: ICE book-ins tripled.
    status_quo = backtested["modes"]["calibrated_book_ins"]["adp"]
    assert not status_quo["beats_naive"] and status_quo["model"]["mape"] == pytest.approx(26.62, abs=0.05)
    target = backtested["modes"]["announced_target"]
    assert target["target"]["arrests_per_day"] == 1200 and target["target"]["from"] == "2025-01-25"
    assert target["adp"]["model"]["mape"] == pytest.approx(19.83, abs=0.05)
    notes = " ".join(backtested["notes"])
    assert "259 a day in the calibration months, 780 a day" in notes
    assert "35.1% calibrated, 10.4% in the months scored" in notes
    assert "the ICE-arrested population's MAPE is 2.7%" in notes and "CBP-arrested population's MAPE is 43.2%" in notes
    json.dumps(backtested)


def test_backtest_scores_removals_to_date_on_every_later_edition(backtested):
    to_date = backtested["modes"]["observed_book_ins"]["removals_to_date"]
    rows = to_date["per_horizon"]
    assert [r["as_of"] for r in rows][:3] == ["2025-01-25", "2025-02-08", "2025-02-22"]  # removals' footnote dates
    # FORMATS.md: 283,295 in the edition whose Data Source line says 2025-08-18; removals run through 08-09
    assert rows[-1]["as_of"] == "2025-08-09" and rows[-1]["actual"] == 283_295
    # 13 dates, not 14: the 08/29/2025 edition's removals run through 08-09 like the 08/14 edition's (ICE did
    # not update that table), so they score one date.
    assert to_date["n"] == 13 and to_date["model"]["mape"] == pytest.approx(4.88, abs=0.05)


def test_backtest_matches_the_bundled_national_figures(backtested, tmp_path):
    # The bundled national table holds the same figures as the workbooks: the same back-test without them.
    with open_warehouse(tmp_path / "bundle.duckdb") as wh:
        bundled = backtest(wh.ibis(), runs=20)
    assert bundled["calibration"]["stay_days"] == backtested["calibration"]["stay_days"]
    assert bundled["modes"]["observed_book_ins"]["adp"]["naive"] == backtested["modes"]["observed_book_ins"]["adp"]["naive"]


# -- the command -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> Icetrack:
    return Icetrack(tmp_path_factory.mktemp("cli") / "wh.duckdb")


def test_project_command_reports_capacity_with_its_sources(cli):
    out = cli.json("project", "--arrests-per-day", "1200", "--beds", "41500", "--runs", "50")
    ss, cal = out["steady_state"], out["calibration"]
    assert ss["sustainable_admissions_per_day"] == pytest.approx(41_500 / ss["mean_stay_days"], rel=1e-12)
    stays, admissions = ss["inputs"]["stay_days"], ss["inputs"]["admissions_per_day"]
    assert stays["ICE"] == cal["stay_days"]["ICE"]["mean"] and stays["CBP"] == cal["stay_days"]["CBP"]["mean"]
    assert ss["beds_needed"] == pytest.approx(admissions["ICE"] * stays["ICE"] + admissions["CBP"] * stays["CBP"])
    assert admissions["ICE"] == pytest.approx(1200 * 90_615 / 113_431)
    # calibrated on Oct 2025 - Mar 2026 (the FY26 edition as of 2026-04-02)
    assert cal["window"][-1] == "2026-03" and cal["as_of"] == "2026-04-04"
    assert "FY26_detentionStats_04092026.xlsx" in {e["file_name"] for e in cal["editions"]}
    assert round(ss["beds_needed"]) == 59_638 and round(ss["sustainable_admissions_per_day"]) == 754
    assert round(ss["forced_releases_per_day"]) == 330 and round(ss["removals_per_year"]) == 313_376
    t = out["totals"]
    # the population above the beds on day one (March 2026 ADP 63,277) is released at once
    assert t["initial_excess"] == pytest.approx(cal["last_adp"]["ICE"] + cal["last_adp"]["CBP"] - 41_500, abs=0.1)
    assert t["forced_releases"]["p50"] > t["initial_excess"] and t["removals_per_year"]["p5"] > 0
    assert out["inputs"]["beds"] == 41_500 and len(out["daily"]) == 365


def test_project_command_goal_and_table(cli):
    goal = cli.json("project", "--goal-removals-per-year", "600000", "--solve-for", "beds", "--arrests-per-day", "3000")
    assert goal["reachable"] and goal["steady_state"]["removals_per_year"] == pytest.approx(600_000)
    out = cli("project", "--arrests-per-day", "1200", "--days", "60", "--runs", "20").stdout
    assert "Steady state (Little's law)" in out and "sustainable admissions per day" in out and "2026-05" in out


@pytest.mark.parametrize("args, message", [
    (["--arrests-per-day", "1200", "--beds", "-1"], "beds must be at least 0"),
    (["--arrests-per-day", "1200", "--share-detained", "2"], "share_detained must be between 0 and 1"),
    (["--arrests-per-day", "1200", "--days", "0"], "days must be between 1 and 731"),
    (["--arrests-per-day", "many"], "--arrests-per-day 'many' is not a number"),
    (["--goal-removals-per-year", "1e6", "--solve-for", "flights"], "solve_for must be one of"),
    ([], "give --arrests-per-day N"),
])
def test_project_command_bad_options_fail_in_one_line(cli, args, message):
    result = cli("project", *args, expect=2)
    assert result.stderr.startswith(f"icetrack: error: {message}") and result.stderr.count("\n") == 1
