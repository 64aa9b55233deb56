"""Rolling-origin evaluation of the capacity model (issue 16): every forecast and error by hand on a steady-state
fixture, the baselines on exact series, interval coverage on known distributions, the bundled workbooks, and
one-line errors on bad input."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from icetrack.domain.rules import TOTAL
from icetrack.metrics import detention as det
from icetrack.model import baselines, intervals
from icetrack.model.calibration import calibrate
from icetrack.model.evaluation import evaluate
from icetrack.model.known_data import calibrate_known, monthly, read_history
from icetrack.sources.user_csv import parse_csv
from icetrack.warehouse import open_warehouse
from icetrack.warehouse.vintage import KnownBy

ADP_UNIT = "persons (average daily population, midnight)"
UNITS = {"adp": ADP_UNIT, "alos": "days", "book_ins": "book-ins", "book_outs": "book-outs", "removals_fytd": "removals"}
COLUMNS = ["date", "period_end", "measure", "value", "unit", "source_url", "dim_agency", "dim_criminality",
           "dim_release_reason", "published_on", "as_of"]


def _month(year: int, month: int) -> tuple[date, date, int]:
    start = date(year, month, 1)
    end = (pd.Timestamp(start) + pd.offsets.MonthEnd(0)).date()
    return start, end, end.day


def _write(path: Path, rows: list[tuple], published_on: str, as_of: str) -> None:
    """rows: (start, end, measure, value, agency, criminality, release_reason)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for start, end, measure, value, agency, criminality, reason in rows:
            w.writerow([start, end, measure, value, UNITS[measure], f"https://example.org/{path.stem}", agency or "",
                        criminality or "", reason or "", published_on, as_of])


def _steady_months(months, ice, cbp, per_day_removed, per_day_bonded) -> list[tuple]:
    """ADP per agency at a steady state: ICE-arrested book-ins 100 a day held 30 days (3,000), CBP 50 a day
    held 20 days (1,000); book-outs by reason per day."""
    rows = []
    for year, month in months:
        start, end, days = _month(year, month)
        rows += [(start, end, "adp", ice, "ICE", TOTAL, None), (start, end, "adp", cbp, "CBP", TOTAL, None),
                 (start, end, "adp", ice + cbp, TOTAL, TOTAL, None),
                 (start, end, "alos", 30, "ICE", TOTAL, None), (start, end, "alos", 20, "CBP", TOTAL, None),
                 (start, end, "alos", 26, TOTAL, TOTAL, None),
                 (start, end, "book_ins", 100 * days, "ICE", None, None),
                 (start, end, "book_ins", 50 * days, "CBP", None, None),
                 (start, end, "book_outs", per_day_removed * days, None, TOTAL, "Release to Remove"),
                 (start, end, "book_outs", per_day_bonded * days, None, TOTAL, "Bonded Out"),
                 (start, end, "book_outs", (per_day_removed + per_day_bonded) * days, None, TOTAL, TOTAL)]
    return rows


@pytest.fixture
def steady_warehouse(tmp_path) -> Path:
    """Edition 1 (published 2025-01-06, as of 2025-01-04): Oct-Dec 2024 at a steady state (ADP 4,000; 150
    book-outs a day, 90 of them 'Release to Remove'); total ADP Feb-Sep 2024 rising 100 a month from 3,000;
    4 days of January's removals; removals to date 9,600 on 2025-01-04 (100 a day for 96 days).
    Edition 2 (published 2025-07-03, as of 2025-06-30): Jan-Jun 2025 10% higher (ADP 4,400; 165 book-outs a
    day) and removals to date 30,000 on 2025-06-30."""
    first = _steady_months([(2024, 10), (2024, 11), (2024, 12)], 3000, 1000, 90, 60)
    first += [(*_month(2024, m)[:2], "adp", 3000 + 100 * (m - 2), TOTAL, TOTAL, None) for m in range(2, 10)]
    first += [(date(2025, 1, 1), date(2025, 1, 31), "book_outs", 360, None, TOTAL, "Release to Remove"),
              (date(2024, 10, 1), date(2025, 1, 4), "removals_fytd", 9600, None, None, None)]
    second = _steady_months([(2025, m) for m in range(1, 7)], 3300, 1100, 99, 66)
    second += [(date(2024, 10, 1), date(2025, 6, 30), "removals_fytd", 30000, None, None, None)]
    _write(tmp_path / "edition1.csv", first, "2025-01-06", "2025-01-04")
    _write(tmp_path / "edition2.csv", second, "2025-07-03", "2025-06-30")
    path = tmp_path / "steady.duckdb"
    with open_warehouse(path, load_reference=False) as wh:
        wh.load_many([parse_csv(tmp_path / "edition1.csv"), parse_csv(tmp_path / "edition2.csv")])
    return path


@pytest.fixture
def steady(steady_warehouse) -> dict:
    with open_warehouse(steady_warehouse, read_only=True) as wh:
        return evaluate(wh, runs=20, first_origin=date(2025, 1, 31))


# -- the model and every baseline, by hand -----------------------------------------------------------------
def test_origins_that_saw_the_same_figures_make_one_forecast(steady):
    o = steady["origins"]
    # Month ends Jan-Jun 2025 (July's origin knows June: nothing after it is published); edition 2 (Jul 3) is
    # after the last of them, edition 1 (Jan 6) before the first.
    assert [x["origin"] for x in o["list"]] == ["2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30",
                                                "2025-05-31", "2025-06-30"]
    assert o["count"] == 6 and o["distinct_known_data"] == 1
    assert {x["forecast_of"] for x in o["list"]} == {"2025-01-31"}
    assert {x["known_month"] for x in o["list"]} == {"2024-12"}
    assert o["list"][0]["model"] == "calibrated on 2024-10..2024-12"


def _rows(result, target):
    return {r["horizon"]: r for r in result["per_origin"] if r["target"] == target}


def test_adp_forecasts_and_errors_by_hand(steady):
    adp = _rows(steady, "adp")
    assert sorted(adp) == [1, 2, 3, 4, 5, 6]
    for h, r in adp.items():
        assert r["actual"] == 4400
        assert r["model"] == 4000  # the steady state holds: 100 x 30 + 50 x 20
        assert r["monte_carlo_80"] == [4000, 4000]  # no month-to-month spread: every run is the same
        assert r["last_value"] == 4000
        assert r["drift"] == 4000 + 100 * h  # through Feb 2024 (3,000) and Dec 2024 (4,000): 100 a month
        assert r["seasonal_naive"] == (None if h == 1 else 3000 + 100 * (h - 2))  # Jan 2024 is not published
        assert r["ets"] is None  # 11 known months: fewer than 12
        assert r["band_80"] is None and r["band_95"] is None  # no earlier origin
    cells = {c["horizon"]: c for c in steady["per_horizon"] if c["target"] == "adp"}
    for h, c in cells.items():
        assert c["n"] == 1
        assert c["model"] == {"n": 1, "mape": 9.09, "bias": -9.09}  # 400 / 4,400 too low
        assert c["last_value"] == {"n": 1, "mape": 9.09, "bias": -9.09}
        drift = round(100 * (100 * h - 400) / 4400, 2)
        assert c["drift"] == {"n": 1, "mape": abs(drift), "bias": drift}
        assert c["ets"] == {"n": 0, "mape": None, "bias": None}
        assert c["model_vs"]["drift"]["model_beats"] is (9.09 < abs(drift))
        assert c["model_vs"]["last_value"]["model_beats"] is False  # equal is not better
        assert c["model_vs"]["ets"] == {"n": 0, "model_mape": None, "baseline_mape": None, "model_beats": None}
    assert cells[1]["drift"]["bias"] == -6.82 and cells[4]["drift"]["mape"] == 0.0
    assert cells[2]["seasonal_naive"] == {"n": 1, "mape": 31.82, "bias": -31.82}  # 3,000 for 4,400
    assert cells[6]["seasonal_naive"]["bias"] == -22.73  # 3,400 for 4,400
    assert cells[2]["model_vs"]["seasonal_naive"]["model_beats"] is True


def test_book_outs_and_removals_to_date_by_hand(steady):
    days = {1: 31, 2: 28, 3: 31, 4: 30, 5: 31, 6: 30}
    for h, r in _rows(steady, "book_outs").items():
        assert r["actual"] == 165 * days[h]
        assert r["model"] == r["last_value"] == r["drift"] == 150 * days[h]  # 4,000 leave at 1/30 and 1/20 a day
        assert r["seasonal_naive"] is None and r["ets"] is None
    (removals,) = _rows(steady, "removals_to_date").values()  # only June has a table after Jan 4
    assert removals["horizon"] == 6 and removals["table_date"] == "2025-06-30" and removals["actual"] == 30000
    # 9,600 + 177 days (Jan 5 - Jun 30) x (150 book-outs x 0.6 removed + 10 other removals) a day
    assert removals["model"] == 9600 + 177 * 100
    # last value: 9,600 / 96 days = 100 a day, x 273 days since Oct 1; drift: one known table, a flat line
    assert removals["last_value"] == removals["drift"] == 27300
    assert removals["seasonal_naive"] is None and removals["ets"] is None
    cell = next(c for c in steady["per_horizon"] if c["target"] == "removals_to_date" and c["horizon"] == 6)
    assert cell["model"] == {"n": 1, "mape": 9.0, "bias": -9.0}
    total = next(c for c in steady["per_target"] if c["target"] == "book_outs")
    assert total["model"] == {"n": 6, "mape": 9.09, "bias": -9.09}


def test_without_earlier_errors_there_is_no_band_and_nothing_counted(steady):
    cov = steady["coverage"]["empirical"]["all_targets"]
    assert cov["overall"]["80"] == {"n": 0, "inside": 0, "achieved": None}
    assert cov["nominal"] == {"80": 0.8, "95": 0.95}
    json.dumps(steady)  # JSON-ready as it is


# -- the baselines on exact series ---------------------------------------------------------------------------
def _series(values, first=date(2023, 1, 1)):
    return pd.Series(values, index=[baselines.add_months(first, k) for k in range(len(values))], dtype=float)


def test_baselines_on_a_linear_series():
    s = _series([100 + 10 * k for k in range(24)])  # Jan 2023 .. Dec 2024: 100 .. 330
    f = baselines.forecasts(s, [date(2025, 1, 1), date(2025, 3, 1)])
    assert f["last_value"] == {date(2025, 1, 1): 330, date(2025, 3, 1): 330}
    assert f["seasonal_naive"] == {date(2025, 1, 1): 220, date(2025, 3, 1): 240}
    assert f["drift"] == {date(2025, 1, 1): 340, date(2025, 3, 1): 360}  # exact on a straight line
    # A damped trend bends below the line; on an exact line the fit keeps within 0.1% of it 3 months out.
    assert f["ets"][date(2025, 3, 1)] == pytest.approx(360, rel=1e-3)
    assert f["ets"][date(2025, 1, 1)] == pytest.approx(340, rel=1e-3)


def test_baselines_on_a_seasonal_series_with_a_missing_month():
    # 100 a month, 160 in July and August; September 2024 never published.
    s = _series([160 if m.month in (7, 8) else 100 for m in _series([0] * 24).index])
    s = s.drop(date(2024, 9, 1))
    f = baselines.forecasts(s, [date(2025, 7, 1), date(2025, 8, 1)])
    assert f["seasonal_naive"] == {date(2025, 7, 1): 160, date(2025, 8, 1): 160}  # exact
    assert f["last_value"][date(2025, 7, 1)] == 100
    assert f["drift"][date(2025, 7, 1)] == 100  # Jan and Dec 2024 are both 100
    filled = baselines.filled_months(s)
    assert len(filled) == 24 and filled[date(2024, 9, 1)] == 130  # halfway from August (160) to October (100)
    assert baselines.filled_months(s.drop([date(2024, m, 1) for m in (5, 6, 7)])).index[0] == date(2024, 8, 1)


def test_drift_uses_the_last_twelve_calendar_months():
    s = _series([50.0, 1000.0] + [10.0 * k for k in range(2, 14)])  # Jan 2023 .. Feb 2024
    # The window is the 12 months Mar 2023 (20) .. Feb 2024 (130): 10 a month; Jan and Feb 2023 are older.
    assert baselines.drift(s, date(2024, 4, 1)) == 150


# -- intervals and their coverage --------------------------------------------------------------------------
def test_centred_conformal_band_by_hand():
    errors = [k / 20 for k in range(-4, 4)]  # 8 errors: -0.20 .. 0.15; median -0.025
    # |e - m| sorted: .025 .025 .075 .075 .125 .125 .175 .175; level 0.8 -> rank ceil(9 x 0.8) = 8 -> 0.175
    assert intervals.centred_band(errors, 0.80) == pytest.approx((-0.20, 0.15))
    assert intervals.centred_band(errors, 0.50) == pytest.approx((-0.15, 0.10))  # rank ceil(4.5) = 5 -> 0.125
    assert intervals.centred_band(errors[:7], 0.80) is None  # fewer than 8
    # a level above 1 (after misses): the largest deviation widened by the level, 0.175 x 1.2 = 0.21
    assert intervals.centred_band(errors, 1.2) == pytest.approx((-0.235, 0.185))


def test_rolling_bands_use_only_earlier_published_errors_and_adapt_to_misses():
    errors = [-0.1, 0.05, 0.2, -0.05, 0.0, 0.1, -0.2, 0.15, 0.25, -0.1]
    forecasts = [intervals.Forecast(i, "adp", 1, i, 100.0) for i in range(10)]
    actual = {i: 100 * (1 + e) for i, e in enumerate(errors)}
    bands = intervals.rolling_bands(forecasts, lambda order, target, key: actual[key])
    assert [b["errors"] for b in bands] == list(range(10))
    assert [b["80"] is None for b in bands] == [True] * 8 + [False] * 2
    # 8 errors, median 0.025, largest deviation 0.225 (rank 8 of 8): 100 x (1.025 -/+ 0.225)
    assert bands[8]["80"] == pytest.approx((80.0, 125.0)) and bands[8]["level_80"] == 0.8
    # origin 9: forecast 8's actual (125) was inside its 80% band, so the level moves by 0.05 x (0.2 - 0) to
    # 0.79; 9 errors, median 0.05, rank ceil(10 x 0.79) = 8 of the deviations -> 0.20
    assert bands[9]["level_80"] == 0.79 and bands[9]["80"] == pytest.approx((85.0, 125.0))
    assert bands[9]["95"] == pytest.approx((80.0, 130.0))  # level 0.9475: rank 10 -> the largest, 0.25
    rows = [{"horizon": 1, "actual": actual[i], "band": {k: v for k, v in bands[i].items() if k in ("80", "95") and v}}
            for i in range(10)]
    cov = intervals.coverage(rows, "band")
    assert cov["overall"]["80"] == {"n": 2, "inside": 2, "achieved": 1.0}  # 125 in (80, 125]; 90 in (85, 125)

    # A value published two origins later: origin 9 sees the errors of origins 0-7 only, origin 8 too few.
    lagged = intervals.rolling_bands(forecasts, lambda order, target, key: actual[key] if key <= order - 2 else None)
    assert [b["errors"] for b in lagged][8:] == [7, 8]
    assert lagged[8]["80"] is None and lagged[9]["80"] == pytest.approx((80.0, 125.0))  # the same 8 errors as origin 8 above
    # Another horizon never lends its errors; another target at the same horizon does (pooled).
    other = intervals.rolling_bands(forecasts[:9] + [intervals.Forecast(9, "adp", 2, 9, 100.0)],
                                    lambda order, target, key: actual[key])
    assert other[9]["errors"] == 0
    pooled = intervals.rolling_bands(forecasts[:9] + [intervals.Forecast(9, "book_outs", 1, 9, 100.0)],
                                     lambda order, target, key: actual[key])
    assert pooled[9]["errors"] == 9


def test_coverage_on_a_known_distribution():
    """Relative errors drawn from N(0, 0.1), seed 0, 500 origins: with the errors exchangeable the bands cover
    close to nominal. 492 origins have a band; 3 binomial standard errors are 5.4 points at 80%, 3 at 95%."""
    rng = np.random.default_rng(0)
    errors = rng.normal(0.0, 0.1, 500)
    forecasts = [intervals.Forecast(i, "adp", 1, i, 100.0) for i in range(500)]
    bands = intervals.rolling_bands(forecasts, lambda order, target, key: 100 * (1 + errors[key]))
    rows = [{"horizon": 1, "actual": 100 * (1 + errors[i]), "band": {k: v for k, v in b.items() if k in ("80", "95")
                                                                      and v}} for i, b in enumerate(bands)]
    cov = intervals.coverage(rows, "band")["overall"]
    assert cov["80"]["n"] == cov["95"]["n"] == 492
    assert abs(cov["80"]["achieved"] - 0.80) <= 0.054
    assert abs(cov["95"]["achieved"] - 0.95) <= 0.03
    assert (cov["80"]["inside"], cov["95"]["inside"]) == (393, 467)  # 79.9% and 94.9%, seed 0


# -- the bundled workbooks -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bundled(bundled_warehouse) -> dict:
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        return evaluate(wh)


def test_bundled_origins_and_what_was_scored(bundled):
    o = bundled["origins"]
    assert o["count"] == 104 and o["distinct_known_data"] == 29
    assert o["first"] == "2019-10-31" and o["last"] == "2026-03-31"
    # The FY2024 year-end workbook (as of 2024-10-03) is the first with 'Release to Remove' book-outs.
    calibrated = [x for x in o["list"] if x["model"].startswith("calibrated")]
    assert calibrated[0]["forecast_of"] == "2024-10-03"
    n = {(c["target"], c["horizon"]): (c["n"], c["model"]["n"]) for c in bundled["per_horizon"]}
    assert [n[("adp", h)] for h in range(1, 7)] == [(26, 22), (27, 21), (27, 21), (24, 18), (25, 19), (26, 20)]
    assert [n[("book_outs", h)] for h in range(1, 7)] == [(22, 22), (21, 21), (21, 21), (18, 18), (19, 19),
                                                          (20, 20)]
    assert [n[("removals_to_date", h)] for h in range(1, 7)] == [(10, 10), (21, 21), (19, 19), (19, 18),
                                                                 (15, 15), (15, 15)]
    assert len(bundled["per_origin"]) == sum(v[0] for v in n.values())
    assert bundled["elapsed_s"] < 60
    json.dumps(bundled)


def test_bundled_coverage_is_measured(bundled):
    cov = bundled["coverage"]
    for block in (cov["empirical"], cov["monte_carlo_same_pairs"]):
        for table in block.values():
            shares = [x["achieved"] for x in table["overall"].values()]
            shares += [row[k]["achieved"] for row in table["per_horizon"] for k in ("80", "95")]
            assert all(s is None or 0 <= s <= 1 for s in shares)
    overall = cov["empirical"]["all_targets"]["overall"]
    assert overall["80"]["n"] == overall["95"]["n"] == 184
    for r in bundled["per_origin"]:
        if r["band_80"]:
            assert r["band_95"][0] <= r["band_80"][0] <= r["band_80"][1] <= r["band_95"][1]


def test_known_data_calibration_equals_the_warehouse_calibration(bundled_warehouse):
    fields = ["start", "window", "stay_days", "alos_days", "admissions_per_day", "book_out_shares", "last_adp",
              "other_removals_per_day", "removals_fytd", "monthly"]
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        history = read_history(wh.ibis())
        for day in (date(2025, 1, 16), date(2026, 3, 31)):
            fast, slow = calibrate_known(history, day).to_dict(), calibrate(wh.ibis(), day).to_dict()
            assert {f: fast[f] for f in fields} == {f: slow[f] for f in fields}
        known = monthly(history.view(date(2025, 6, 30)), "adp", agency=TOTAL, criminality=TOTAL)
        ref = det.latest_monthly(wh.ibis(), "adp", {"agency": TOTAL, "criminality": TOTAL},
                                 vintage=KnownBy(date(2025, 6, 30), undated="from_as_of")).to_pandas()
        ref = ref[~ref.partial]
        assert list(known.value) == list(ref.value) and list(known.edition_id) == list(ref.edition_id)


# -- bad input -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("horizons", "message"), [(25, "over 24 months"), (0, "at least 1 month"),
                                                   (2.5, "whole number")])
def test_bad_horizons_are_one_line_errors(steady_warehouse, horizons, message):
    with open_warehouse(steady_warehouse, read_only=True) as wh, pytest.raises(ValueError, match=message) as e:
        evaluate(wh, horizons=horizons)
    assert "\n" not in str(e.value)


def test_no_edition_before_the_first_origin_is_a_one_line_error(steady_warehouse):
    with open_warehouse(steady_warehouse, read_only=True) as wh, pytest.raises(ValueError) as e:
        evaluate(wh, first_origin=date(2024, 12, 31))
    assert str(e.value) == ("no edition with monthly ADP was published on or before 2024-12-31, the first origin: "
                            "nothing to evaluate")
