"""The targets ledger over time (issue 15): hand-computed fixtures, then the bundled ICE figures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from icetrack.metrics import ledger_series
from icetrack.metrics.ledger import LedgerError, ledger
from icetrack.sources.user_csv import parse_csv
from icetrack.warehouse import open_warehouse

# One edition (as of 2025-03-10) of monthly ICE-arrested book-ins: 100 a day in January, February and the ten
# days of March it covers; a second edition adds May (April is missing: no edition holds it).
BOOK_INS_MARCH = """date,period_end,grain,measure,value,unit,source_url,dim_agency,as_of
2025-01-01,2025-01-31,month,book_ins,3100,book-ins,https://example.org/wb1,ICE,2025-03-10
2025-02-01,2025-02-28,month,book_ins,2800,book-ins,https://example.org/wb1,ICE,2025-03-10
2025-03-01,2025-03-31,month,book_ins,1000,book-ins,https://example.org/wb1,ICE,2025-03-10
"""
BOOK_INS_MAY = """date,period_end,grain,measure,value,unit,source_url,dim_agency,as_of
2025-05-01,2025-05-31,month,book_ins,3100,book-ins,https://example.org/wb2,ICE,2025-06-30
"""
# A goal of 200 a day from Jan 15, raised to 300 a day from Feb 15 (one track), and 36,500 removals a year.
TARGETS = """target_id,kind,label,concept,scope,value_low,value_high,unit,effective_from,effective_to,track,source_url
goal_a,target,200 a day,arrests,national,200,250,arrests per day,2025-01-15,2025-02-14,goal,https://example.org/a
goal_b,target,300 a day,arrests,national,300,300,arrests per day,2025-02-15,,goal,https://example.org/b
removals_goal,target,36500 a year,removals,national,36500,36500,removals per year,2024-10-01,,removals,https://example.org/r
beds,target,50 beds,detained_population,national,50,50,beds,2024-10-01,,beds,https://example.org/beds
"""
# Removals to date of three editions: two in FY2025, one in FY2026 (the count restarts on October 1).
REMOVALS = ["""date,period_end,measure,value,unit,source_url,as_of
2024-10-01,2024-11-30,removals_fytd,6100,removals,https://example.org/r1,2024-11-30
""", """date,period_end,measure,value,unit,source_url,as_of
2024-10-01,2024-12-31,removals_fytd,9200,removals,https://example.org/r2,2024-12-31
""", """date,period_end,measure,value,unit,source_url,as_of
2025-10-01,2025-10-10,removals_fytd,1000,removals,https://example.org/r3,2025-10-10
"""]


def _load(path: Path, tmp_path: Path, files: dict[str, str]):
    parsed = []
    for name, text in files.items():
        f = tmp_path / name
        f.write_text(text, encoding="utf-8")
        parsed.append(parse_csv(f))
    with open_warehouse(path, load_reference=False) as wh:
        wh.load_many(parsed)


@pytest.fixture
def fixture_warehouse(tmp_path):
    path = tmp_path / "ledger.duckdb"
    files = {"b1.csv": BOOK_INS_MARCH, "b2.csv": BOOK_INS_MAY, "targets.csv": TARGETS}
    files.update({f"r{i}.csv": text for i, text in enumerate(REMOVALS)})
    _load(path, tmp_path, files)
    return path


def _series(doc, series_id):
    return next(s for s in doc["series"] if s["series_id"] == series_id)


def _track(series, track):
    return next(t for t in series["targets"] if t["track"] == track)


def _by_start(periods):
    return {p["period_start"]: p for p in periods}


def test_partial_month_target_change_and_missing_month(fixture_warehouse):
    with open_warehouse(fixture_warehouse, read_only=True) as wh:
        doc = ledger(wh.ibis(), "month", series=["book_ins.ice_arrested"])
    s = _series(doc, "book_ins.ice_arrested")
    p = _by_start(s["periods"])
    # The as-of month counts only up to the as-of date: 1,000 book-ins over March 1-10 = 100 a day.
    assert (p["2025-03-01"]["days_covered"], p["2025-03-01"]["per_day"], p["2025-03-01"]["partial"]) == (10, 100.0, True)
    assert (p["2025-01-01"]["days_covered"], p["2025-01-01"]["per_day"]) == (31, 100.0)
    # April: no edition holds it - listed as missing, never a zero.
    assert p["2025-04-01"]["missing"] and p["2025-04-01"]["per_day"] is None and p["2025-04-01"]["total"] is None
    assert s["missing_periods"] == ["2025-04-01"]
    t = _by_start(_track(s, "goal")["periods"])
    # January: goal_a in force Jan 15-31 (17 days): 100 against 200 -> 50%, shortfall 17 x 100.
    assert (t["2025-01-01"]["days_in_force"], t["2025-01-01"]["target_low"]) == (17, 200.0)
    assert (t["2025-01-01"]["attainment_low_pct"], t["2025-01-01"]["shortfall_low"]) == (50.0, 1700.0)
    # February: 200 a day for 14 days then 300 for 14 -> the day-weighted mean 250; shortfall 14x100 + 14x200.
    feb = t["2025-02-01"]
    assert feb["in_force"] == ["goal_a", "goal_b"] and feb["target_low"] == 250.0 and feb["target_high"] == 275.0
    assert (feb["attainment_low_pct"], feb["gap_per_day_low"], feb["shortfall_low"]) == (40.0, 150.0, 4200.0)
    assert t["2025-03-01"]["days_in_force"] == 10 and t["2025-03-01"]["shortfall_low"] == 2000.0
    assert t["2025-04-01"]["days_in_force"] == 0 and t["2025-04-01"]["per_day"] is None
    assert t["2025-05-01"]["cumulative_shortfall_low"] == 1700 + 4200 + 2000 + 31 * 200
    track = _track(s, "goal")
    assert track["cumulative_shortfall_low"] == 14100.0
    # In force Jan 15 - May 31 = 137 days; covered 17 + 28 + 10 + 31 = 86; missing Mar 11 - Apr 30 = 51.
    assert (track["days_in_force_covered"], track["days_in_force_missing"]) == (86, 51)
    assert track["first_period_at_or_above_low"] == "not reached"
    # Pace: to average 300 from Feb 15 to Sep 30 (228 days) given 100 x (14 + 10 + 31) seen by May 31.
    pace = track["pace"]
    assert (pace["target_id"], pace["from"], pace["through"], pace["actual"]) == ("goal_b", "2025-02-15", "2025-05-31", 5500)
    assert pace["days_missing"] == 51 and pace["pace_by"] == "2025-09-30"
    assert pace["pace_needed_low"] == round((300 * 228 - 5500) / 122, 1)


def test_fytd_grain_sums_months_from_october(fixture_warehouse):
    with open_warehouse(fixture_warehouse, read_only=True) as wh:
        doc = ledger(wh.ibis(), "fytd", series=["book_ins.ice_arrested"])
    p = _by_start(_series(doc, "book_ins.ice_arrested")["periods"])
    # Every period starts on October 1 2024; through May the FY holds 31 + 28 + 10 + 31 covered days.
    may = next(x for x in p.values() if x["period_end"] == "2025-05-31")
    assert may["period_start"] == "2024-10-01" and may["days_covered"] == 100 and may["total"] == 10000
    assert may["per_day"] == 100.0


def test_removals_rate_between_editions_restarts_each_fiscal_year(fixture_warehouse):
    with open_warehouse(fixture_warehouse, read_only=True) as wh:
        spans = ledger_series.removal_spans(wh.ibis())
        doc = ledger(wh.ibis(), "month", series=["removals.between_editions"])
    assert [(s.start.isoformat(), s.end.isoformat(), s.removals) for s in spans.itertuples()] == [
        ("2024-10-01", "2024-11-30", 6100.0), ("2024-12-01", "2024-12-31", 3100.0),
        # FY2026 restarts from zero: 1,000 over Oct 1-10, not 1,000 - 9,200.
        ("2025-10-01", "2025-10-10", 1000.0)]
    s = _series(doc, "removals.between_editions")
    p = _by_start(s["periods"])
    assert (p["2024-10-01"]["per_day"], p["2024-12-01"]["per_day"]) == (100.0, 100.0)
    assert (p["2025-10-01"]["days_covered"], p["2025-10-01"]["per_day"]) == (10, 100.0)
    assert p["2025-01-01"]["missing"] and "2025-09-01" in s["missing_periods"]
    goal = _track(s, "removals")
    # 36,500 a year is compared as 100 a day: December reaches it (6,100 over 61 days did: 100 a day too).
    assert _by_start(goal["periods"])["2024-12-01"]["attainment_low_pct"] == 100.0
    assert goal["first_period_at_or_above_low"] == "2024-10-01"
    # 'Pace needed' for a yearly goal counts from the start of the fiscal year of the last figure.
    assert (goal["pace"]["from"], goal["pace"]["pace_by"]) == ("2025-10-01", "2026-09-30")
    assert goal["pace"]["goal_by_horizon"] == 36500


def test_downward_revision_span_is_left_out_and_listed(tmp_path):
    path = tmp_path / "w.duckdb"
    _load(path, tmp_path, {"a.csv": REMOVALS[1], "b.csv": REMOVALS[0].replace("6100", "9500")})
    with open_warehouse(path, read_only=True) as wh:
        doc = ledger(wh.ibis(), "month", series=["removals.between_editions"])
    s = _series(doc, "removals.between_editions")
    assert any("downward revision" in n["note"] for n in s["notes"])


def test_bridge_interval_hand_computed():
    days = pd.DataFrame({"day": [date(2025, 1, 1), date(2025, 2, 1)], "value": [80.0, 80.0],
                         "edition_id": ["wb", "wb"]})
    shares = pd.DataFrame({"fiscal_year": [2019, 2023, 2024], "book_ins": [95.0, 50.0, 80.0],
                           "arrests": [100.0, 100.0, 100.0], "share": [0.95, 0.5, 0.8],
                           "editions": [["a"], ["b"], ["c"]]})
    est, info = ledger_series.estimated_days(days, shares, None)
    # 80 book-ins a day / 0.8 = 100 arrests a day; the interval divides by the largest and smallest shares.
    assert list(est.value) == [100.0, 100.0]
    assert est["low"].round(2).tolist() == [84.21, 84.21] and list(est["high"]) == [160.0, 160.0]
    assert info["central_share"] == 0.8 and info["share_interval"] == [0.5, 0.95]
    # A month a national person-level release covers uses its own share and Wilson interval.
    monthly = pd.DataFrame([{"month": date(2025, 2, 1), "share": 0.4, "share_low": 0.32, "share_high": 0.5,
                             "arrests": 100, "linked": 40, "release_id": "r1"}])
    est, _ = ledger_series.estimated_days(days, shares, monthly)
    assert est.value.tolist() == [100.0, 200.0] and est["high"].tolist()[1] == 250.0
    assert est.share_source.tolist()[1] == "person-level release (r1)"


def test_wilson_interval_known_value():
    lo, hi = ledger_series.wilson(40, 100)
    assert (round(lo, 4), round(hi, 4)) == (0.3094, 0.4980)


def test_levels_are_occupancy_never_summed(tmp_path):
    path = tmp_path / "w.duckdb"
    adp = """date,period_end,grain,measure,value,unit,source_url,dim_agency,dim_criminality,as_of
2025-01-01,2025-01-31,month,adp,40,"persons (average daily population, midnight)",https://example.org/adp,Total,Total,2025-02-28
2025-02-01,2025-02-28,month,adp,60,"persons (average daily population, midnight)",https://example.org/adp,Total,Total,2025-02-28
"""
    _load(path, tmp_path, {"adp.csv": adp, "targets.csv": TARGETS})
    with open_warehouse(path, read_only=True) as wh:
        month = ledger(wh.ibis(), "month", series=["detained.adp_midnight"])
        fytd = ledger(wh.ibis(), "fytd", series=["detained.adp_midnight"])
    s = _series(month, "detained.adp_midnight")
    beds = _by_start(_track(s, "beds")["periods"])
    assert (beds["2025-01-01"]["attainment_low_pct"], beds["2025-02-01"]["attainment_low_pct"]) == (80.0, 120.0)
    assert _track(s, "beds")["first_period_at_or_above_low"] == "2025-02-01"
    assert _track(s, "beds")["cumulative_shortfall_low"] is None and _track(s, "beds")["pace"] is None
    # Fiscal year to date: the day-weighted mean (31 x 40 + 28 x 60) / 59, not a sum.
    feb = next(p for p in _series(fytd, "detained.adp_midnight")["periods"] if p["period_end"] == "2025-02-28")
    assert feb["per_day"] == round((31 * 40 + 28 * 60) / 59, 1) and feb["total"] is None


def test_grain_a_series_cannot_be_read_at_is_one_line(fixture_warehouse):
    with open_warehouse(fixture_warehouse, read_only=True) as wh:
        with pytest.raises(LedgerError, match="published per month; it cannot be read per week"):
            ledger(wh.ibis(), "week", series=["book_ins.ice_arrested"])
        with pytest.raises(LedgerError, match="grain 'quarter'"):
            ledger(wh.ibis(), "quarter")
        with pytest.raises(LedgerError, match="target 'nope' is not loaded"):
            ledger(wh.ibis(), "month", targets=["nope"])
        doc = ledger(wh.ibis(), "week")
    assert {s["series_id"] for s in doc["not_readable"]} >= {"book_ins.ice_arrested", "arrests.estimated"}


# --- the bundled ICE figures ----------------------------------------------------------------------------------

def test_bundled_january_2025_book_ins_and_every_month_scored(bundled_warehouse):
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        doc = ledger(wh.ibis(), "month", since=date(2023, 10, 1))
    s = _series(doc, "book_ins.ice_arrested")
    p = _by_start(s["periods"])
    # As read from the latest edition holding January 2025 (the 09/11/2025 workbook): 11,753 / 31 days.
    jan = p["2025-01-01"]
    assert (jan["total"], jan["days_covered"], jan["per_day"]) == (11753, 31, 379.1)
    assert jan["editions"] == ["ice_detention_workbook:7ae59976379855ed"]
    # Every month from October 2023 to the latest edition's as-of month, none missing.
    months = [x["period_start"] for x in s["periods"]]
    assert months[0] == "2023-10-01" and months[-1] == "2026-04-01" and len(months) == 31
    assert s["missing_periods"] == []
    # The as-of month of the latest edition counts up to its book-ins table date (April 4, 2026).
    assert (p["2026-04-01"]["days_covered"], p["2026-04-01"]["total"]) == (4, 3721)
    goal = _by_start(_track(s, "daily_arrest_goal")["periods"])
    assert goal["2025-01-01"]["in_force"] == ["wapo_daily_goal_2025"] and goal["2025-01-01"]["days_in_force"] == 7
    assert goal["2025-05-01"]["in_force"] == ["wapo_daily_goal_2025", "white_house_goal_3000_2025"]
    assert goal["2025-06-01"]["target_low"] == 3000 and goal["2025-06-01"]["attainment_low_pct"] == round(
        100 * 31589 / 30 / 3000, 1)
    assert goal["2024-06-01"]["in_force"] == []  # no goal before the January 2025 directive
    assert _track(s, "daily_arrest_goal")["first_period_at_or_above_low"] == "not reached"


def test_bundled_estimate_carries_the_annual_report_interval(bundled_warehouse):
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        doc = ledger(wh.ibis(), "month", series=["arrests.estimated"], since=date(2025, 1, 1))
    s = _series(doc, "arrests.estimated")
    shares = {y["fiscal_year"]: y for y in s["bridge"]["shares"]}
    assert (shares[2024]["book_ins"], shares[2024]["arrests"], shares[2024]["share"]) == (90615, 113431, 0.7989)
    assert shares[2019]["share"] == round(137084 / 143099, 4) and shares[2023]["share"] == round(84799 / 170590, 4)
    jan = _by_start(s["periods"])["2025-01-01"]
    assert jan["per_day"] == round(11753 / 31 / (90615 / 113431), 1)
    assert jan["per_day_low"] == round(11753 / 31 / (137084 / 143099), 1)
    assert jan["per_day_high"] == round(11753 / 31 / (84799 / 170590), 1)


def test_bundled_removals_stale_footnote_is_redated(bundled_warehouse):
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        spans = ledger_series.removal_spans(wh.ibis())
    # The 08/29/2025 workbook repeats the 08/14 edition's removals date (Aug 9) with a larger count: it is dated
    # by its own book-ins table (Aug 23) instead, so the span Aug 10-23 holds 283,295 - 266,377 removals.
    aug = spans[spans.start == date(2025, 8, 10)].iloc[0]
    assert (aug.end, aug.removals) == (date(2025, 8, 23), 283295 - 266377)
    assert "dated by its book-ins table" in aug.note


def test_shared_workbooks_january_2025(shared_data, tmp_path):
    """On ICE's own workbooks (not the bundle): January 2025 from the latest edition holding it."""
    from icetrack.sources import parse_files

    files = sorted((shared_data / "ice-detention-stats").glob("FY25_detentionStats0[89]*.xlsx"))
    assert files, "the shared folder holds the August 2025 workbooks"
    path = tmp_path / "w.duckdb"
    with open_warehouse(path, load_reference=False) as wh:
        wh.load_many(parse_files(files))
        doc = ledger(wh.ibis(), "month", series=["book_ins.ice_arrested"])
    jan = _by_start(_series(doc, "book_ins.ice_arrested")["periods"])["2025-01-01"]
    assert (jan["total"], jan["per_day"]) == (11753, 379.1)


# --- person-level releases ------------------------------------------------------------------------------------

def test_person_level_daily_arrests_suppressed_and_synthetic(synthetic_warehouse):
    from icetrack.figures import ledger as figure

    with open_warehouse(synthetic_warehouse, read_only=True) as wh:
        shown = figure.ledger(wh, "month", series=["arrests.person_level"], threshold=1)
        default = figure.ledger(wh, "month", series=["arrests.person_level"])
        pt = __import__("icetrack.warehouse.engines", fromlist=["x"]).duckdb_tables(wh)
        episodes = pt.episodes.filter(~pt.episodes.duplicate_likely).to_pandas()
        shares = ledger_series.person_monthly_share(pt, ledger_series.national_releases(pt)[0], 10)
    s = _series(shown.detail["ledger"], "arrests.person_level")
    # One arrest per 24-hour episode: the months add up to the episodes of the release within its cut-off.
    assert sum(p["total"] for p in s["periods"]) == len(episodes[episodes.apprehension_date <= "2025-03-31 23:59:59"])
    assert shown.synthetic and any("SYNTHETIC" in n["note"] for n in s["notes"])
    # At the default threshold (10) a month holding any day below it is suppressed whole: no published month
    # total lets a reader recompute a small day.
    d = _series(default.detail["ledger"], "arrests.person_level")
    assert all(p["suppressed"] == (p["total"] is None) for p in d["periods"])
    assert any(p["suppressed"] for p in d["periods"])
    assert ((shares.share_low <= shares.share) & (shares.share <= shares.share_high)).all() and len(shares) == 6


def test_a_synthetic_release_never_moves_the_estimate(synthetic_warehouse, bundled_warehouse):
    docs = []
    for path in (synthetic_warehouse, bundled_warehouse):
        with open_warehouse(path, read_only=True) as wh:
            docs.append(ledger(wh.ibis(), "month", series=["arrests.estimated"], since=date(2024, 10, 1)))
    assert _series(docs[0], "arrests.estimated")["periods"] == _series(docs[1], "arrests.estimated")["periods"]
