"""Outcome metrics through the whole pipeline (load -> cleaning -> Ibis metrics -> estimators -> suppression),
on fixtures with hand-computed answers."""

from __future__ import annotations

import gc
from datetime import datetime, timedelta

import pandas as pd
import pytest

from icetrack.warehouse import engines
from icetrack.metrics import outcomes as oc
from icetrack.metrics.published import published_funnel, published_survival
from icetrack.warehouse.person import load_person_release
from icetrack.warehouse import open_warehouse

from helpers import person_release as release

T = datetime(2025, 1, 10)


def stint(person, book_in, book_out=None, reason=None):
    return {"unique_identifier": person * 40, "book_in_date_time": book_in, "stay_book_in_date_time": book_in,
            "detention_book_out_date_time": book_out, "stay_book_out_date_time": book_out,
            "stay_release_reason": reason, "detention_facility_code": "F"}


@pytest.fixture
def six(tmp_path):
    """Six people arrested on Jan 10 2025; cut-off Mar 31 2025.
    a: booked in Jan 11, removed Jan 30 (t = 20 days from arrest)
    b: booked in Jan 11, bonded out Jan 15 (t = 5)
    c: booked in Jan 11, still detained at the cut-off (censored at t = 80)
    d: booked in Jan 12, transferred to the Marshals Jan 19 (t = 9)
    e: never booked in, departed Jan 13 (removed without detention)
    f: never booked in, nothing else (not booked in)
    plus g: a second arrest of a 20 hours later (duplicate_likely, not a new cohort member)."""
    with open_warehouse(tmp_path / "wh.duckdb", load_reference=False) as wh:
        arrests = [{"unique_identifier": c * 40, "apprehension_date": T, "apprehension_aor": "SEA" if c in "abc" else "POO"}
                   for c in "abcdef"]
        arrests.append({"unique_identifier": "a" * 40, "apprehension_date": T + timedelta(hours=20),
                        "apprehension_aor": "SEA"})
        load_person_release(wh, release({
            "arrests": arrests,
            "detention_stints": [stint("a", T + timedelta(days=1), T + timedelta(days=20), "Removed"),
                                 stint("b", T + timedelta(days=1), T + timedelta(days=5), "Bonded Out"),
                                 stint("c", T + timedelta(days=1)),
                                 stint("d", T + timedelta(days=2), T + timedelta(days=9),
                                       "Transfer to U.S. Marshals or other agency")],
            "removals": [{"unique_identifier": "e" * 40, "departed_date": T + timedelta(days=3)}],
        }))
        yield wh


def test_funnel_states_by_hand(six):
    pt = engines.from_warehouse(six.ibis())
    df = oc.funnel(pt).to_pandas()
    assert dict(zip(df.state, df.n)) == {"removed": 1, "released": 1, "transferred": 1, "detained": 1,
                                         "removed_without_detention": 1, "not_booked_in": 1}
    by_aor = oc.funnel(pt, breakdown="aor").to_pandas()
    assert sorted(zip(by_aor.group, by_aor.state, by_aor.n)) == [
        ("POO", "not_booked_in", 1), ("POO", "removed_without_detention", 1), ("POO", "transferred", 1),
        ("SEA", "detained", 1), ("SEA", "released", 1), ("SEA", "removed", 1)]
    reasons = oc.release_reasons(pt).to_pandas()
    assert list(zip(reasons.release_reason, reasons.n)) == [("Bonded Out", 1)]


def test_event_table_days_from_arrest_and_from_book_in(six):
    pt = engines.from_warehouse(six.ibis())
    et = oc.event_table(pt).to_pandas()
    assert [tuple(r) for r in et[["t", "n_censored", "removal", "release", "transfer"]].itertuples(index=False)] == [
        (5, 0, 0, 1, 0), (9, 0, 0, 0, 1), (20, 0, 1, 0, 0), (80, 1, 0, 0, 0)]
    bi = oc.event_table(pt, origin="book_in").to_pandas()
    assert list(bi.t) == [4, 7, 19, 79]  # the cut-off is Mar 31 23:59:59; stays start a day or two later


def test_km_and_cif_by_hand(six):
    result = published_survival(engines.from_warehouse(six.ibis()), threshold=1)
    (g,) = result["groups"]
    km = {r["time"]: r["survival"] for r in g["kaplan_meier"]}
    # removal-only KM: at risk 4,3,2,1 at t = 5, 9, 20, 80; the only removal is at t = 20 with 2 at risk.
    # Threshold 1 suppresses nothing: the curve is shown at day 0 (start) and at every time, the last one too
    # (after day 80 nobody is followed: at_risk 0, shown like any count)
    assert km == {0: 1.0, 5: 1.0, 9: 1.0, 20: 0.5, 80: 0.5}
    assert [r["at_risk"] for r in g["kaplan_meier"]] == [4, 3, 2, 1, 0]
    assert g["median_days_to_removal_km"] == 20
    cif = {r["time"]: r for r in g["cumulative_incidence"]}
    # all-cause survival: 3/4 after t=5, 1/2 after t=9, 1/4 after t=20; CIF jumps = S(t-) * d/n
    assert cif[5]["release"]["cif"] == 0.25
    assert cif[9]["transfer"]["cif"] == pytest.approx(0.75 * 1 / 3)
    assert cif[20]["removal"]["cif"] == pytest.approx(0.5 * 1 / 2)
    last = cif[80]
    assert last["removal"]["cif"] + last["release"]["cif"] + last["transfer"]["cif"] + last["overall_survival"] \
        == pytest.approx(1.0)
    # 1 - KM (0.5) overstates the share removed (0.25) under competing outcomes
    assert 1 - km[80] > last["removal"]["cif"]


def test_published_funnel_suppresses_small_cells(six):
    result = published_funnel(engines.from_warehouse(six.ibis()), threshold=10)
    (rel,) = result["releases"]
    assert rel["audit"] == []
    for row in rel["rows"]:
        for state, cell in row.items():
            if isinstance(cell, dict):
                assert cell["count"] is None or cell["count"] >= 10
    # everything here is below 10: every count, share and total is suppressed
    assert all(c["count"] is None for row in rel["rows"] for c in row.values() if isinstance(c, dict))


def test_survival_groups_below_threshold_are_suppressed(six):
    result = published_survival(engines.from_warehouse(six.ibis()), threshold=10)
    assert result["groups"] == [{"group": "all", "n": None, "suppressed": True}]


def test_outcomes_cli_json_and_csv(six, tmp_path):
    from helpers import Icetrack

    path = six.path
    six.close()
    run = Icetrack(path)
    funnel = run.json("outcomes", "funnel", "--threshold", "1")
    assert funnel["metric"] == "cohort_funnel" and funnel["synthetic"] is False
    row = next(r for r in funnel["releases"][0]["rows"] if r["cohort"] == "2025-01-01")
    assert row["cohort_size"]["count"] == 6 and row["removed"]["share"] == pytest.approx(1 / 6, abs=1e-6)
    csv_out = run("outcomes", "cif", "--threshold", "1", "--csv").stdout.splitlines()
    assert csv_out[0].startswith("group,time,at_risk,overall_survival,removal_cif")
    assert len(csv_out) == 1 + 5  # the start (day 0) plus the four event times (threshold 1 shows every one)


def _results(pt):
    return (oc.funnel(pt).to_pandas(), oc.funnel(pt, "day", "aor").to_pandas(), oc.event_table(pt).to_pandas(),
            oc.event_table(pt, "book_in").to_pandas(), oc.release_reasons(pt).to_pandas())


def _assert_same(got, expected):
    for g, e in zip(got, expected, strict=True):
        pd.testing.assert_frame_equal(g, e)


def test_materialized_arrest_outcomes_give_the_same_results(six):
    from icetrack.warehouse.engines import duckdb_tables

    pt = duckdb_tables(six)
    _assert_same(_results(pt), _results(engines.from_warehouse(six.ibis())))
    temporary = "SELECT count(*) FROM duckdb_tables() WHERE temporary"
    assert six.con.execute(temporary).fetchone()[0] == 1  # built once, read by every metric
    del pt
    gc.collect()
    assert six.con.execute(temporary).fetchone()[0] == 0  # dropped with the last expression using it


