"""Acceptance values of the targets ledger on the bundled ICE posts (issue 2), plus hand-computed checks."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from icetrack.metrics.targets import targets_ledger
from icetrack.warehouse import open_warehouse


def _series(ledger, measure="ice_posted_arrests"):
    return next(s for s in ledger["series"] if s["measure"] == measure and s["dims_key"] == "")


def _target(series, target_id):
    return next(t for t in series["targets"] if t["target_id"] == target_id)


def test_posted_arrests_acceptance_values(icetrack):
    ledger = icetrack.json("targets", "--daily-summary")
    s = _series(ledger)
    pub, shifted = s["variants"]["as_published"], s["variants"]["shifted_back_one_day"]
    assert pub["total"] == 7314
    assert pub["days_covered"] == 9 and pub["days_missing"] == 0
    assert (pub["max"], pub["max_dates"]) == (1179, ["2025-01-27"])
    assert (shifted["max"], shifted["max_dates"]) == (1179, ["2025-01-26"])
    assert (pub["min"], pub["min_dates"]) == (286, ["2025-01-25"])
    nbc = _target(s, "nbc_daily_quota_2025")
    assert (nbc["value_low"], nbc["value_high"]) == (1200, 1400)
    assert nbc["as_published"]["days_meeting_low"] == 0
    assert nbc["as_published"]["shortfall_low"] == 3486
    assert nbc["as_published"]["shortfall_high"] == 9 * 1400 - 7314
    wapo = _target(s, "wapo_daily_goal_2025")
    assert wapo["as_published"]["shortfall_high"] == 9 * 1500 - 7314
    # WaPo's goal was effective Jan 25: two posted days precede it, three once dates move back one day.
    assert wapo["as_published"]["days_before_effective"] == 2
    assert wapo["shifted_back_one_day"]["days_before_effective"] == 3
    assert wapo["as_published"]["shortfall_low_since_effective"] == 7 * 1200 - (7314 - 538 - 593)


def test_weekday_weekend_and_median_by_hand(icetrack):
    s = _series(icetrack.json("targets", "--daily-summary"))
    pub, shifted = s["variants"]["as_published"], s["variants"]["shifted_back_one_day"]
    # As published the weekend is Sat 25 (286) and Sun 26 (956); shifted it is the posts of 26 and 27.
    assert pub["weekend_days"] == 2 and pub["weekend_mean"] == (286 + 956) / 2
    assert pub["weekday_mean"] == round((7314 - 286 - 956) / 7, 2)
    assert shifted["weekend_mean"] == (956 + 1179) / 2
    assert pub["median"] == 913
    assert pub["mean"] == round(7314 / 9, 2)


def test_pace_needed_and_horizon(icetrack):
    s = _series(icetrack.json("targets", "--daily-summary"))
    nbc = _target(s, "nbc_daily_quota_2025")["as_published"]
    # Default horizon: end of the month after the series ends (Feb 28). Jan 23..Feb 28 = 37 days.
    assert nbc["pace_by"] == "2025-02-28"
    assert nbc["pace_needed_low"] == round((1200 * 37 - 7314) / 28, 1)
    s2 = _series(icetrack.json("targets", "--daily-summary", "--by", "2025-01-31"))
    assert _target(s2, "nbc_daily_quota_2025")["as_published"]["pace_needed_low"] is None


def test_detainers_are_not_scored_against_arrest_targets(icetrack):
    ledger = icetrack.json("targets", "--daily-summary")
    detainers = _series(ledger, "ice_posted_detainers_lodged")
    assert {t["target_id"] for t in detainers["targets"]} == {"derived_detainers_issued_fy2024"}
    assert detainers["variants"]["as_published"]["total"] == 5717


def test_derived_fy2024_baseline(icetrack):
    s = _series(icetrack.json("targets", "--daily-summary"))
    derived = _target(s, "derived_ero_administrative_arrests_fy2024")
    assert derived["value_low"] == pytest.approx(113431 / 366)
    assert round(derived["value_low"], 1) == 309.9
    # Every posted day but Saturday Jan 25 (286) is above the FY2024 pace.
    assert derived["as_published"]["days_meeting_low"] == 8


def test_bundled_posts_equal_the_shared_transcription(shared_data, warehouse_path):
    """The bundled figures are the nine posts as transcribed in ../shared/data, value for value."""
    rows = list(csv.DictReader(open(shared_data / "ice-social-media-daily-arrests-2025" /
                                    "ice_x_daily_enforcement_updates_jan2025.csv", encoding="utf-8")))
    with open_warehouse(warehouse_path) as wh:
        arrests = wh.series("ice_posted_arrests")
        detainers = wh.series("ice_posted_detainers_lodged")
    assert {r["date"]: int(r["arrests"]) for r in rows} == {
        d.isoformat(): int(v) for d, v in zip(arrests.period_start, arrests.value)}
    assert {r["date"]: int(r["detainers_lodged"]) for r in rows} == {
        d.isoformat(): int(v) for d, v in zip(detainers.period_start, detainers.value)}


def test_bundled_targets_equal_the_shared_statements(shared_data, warehouse_path):
    rows = list(csv.DictReader(open(shared_data / "ice-public-statements-2025" / "ice_arrest_targets_2025.csv",
                                    encoding="utf-8")))
    with open_warehouse(warehouse_path) as wh:
        targets = wh.targets()
    arrests = targets[targets.concept == "arrests"]
    # Every arrest target of the statements is bundled with its value and the statement's source among its URLs
    # (the 3,000-a-day goal also cites Axios, which dates it to the May 21, 2025 meeting).
    bundled = sorted((lo, hi, url.split()) for lo, hi, url in zip(arrests.value_low, arrests.value_high,
                                                                  arrests.source_url))
    stated = sorted((float(r["value_low"]), float(r["value_high"]), r["source_url"]) for r in rows)
    assert [(lo, hi) for lo, hi, _ in bundled] == [(lo, hi) for lo, hi, _ in stated]
    assert all(url in urls for (_, _, urls), (_, _, url) in zip(bundled, stated))


def test_ledger_python_api_matches_cli(icetrack, warehouse_path):
    cli_ledger = icetrack.json("targets", "--daily-summary")
    with open_warehouse(warehouse_path) as wh:
        api_ledger = targets_ledger(wh.ibis(), by=date(2025, 2, 28))
    assert _series(api_ledger)["variants"] == _series(cli_ledger)["variants"]
