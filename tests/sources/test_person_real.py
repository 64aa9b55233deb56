"""Person-level layer on the real public files: Seattle ERO-LESA exports and the joined DDP sample."""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from datetime import date, datetime

import pytest

from helpers import Icetrack, shared_data_dir
from icetrack.warehouse import engines
from icetrack.metrics import outcomes as oc
from icetrack.metrics.published import published_funnel, published_survival
from icetrack.warehouse import open_warehouse

SEATTLE = "uwchr-ice-enforce/aor-seattle-raw"
JOINED = "uwchr-deport-data-proj/joined_df_wa.csv"


def _data():
    d = shared_data_dir()
    if d is None:
        pytest.skip("real public source files not found (set $ICETRACK_SHARED_DATA to their folder)")
    return d


@pytest.fixture(scope="module")
def seattle(tmp_path_factory):
    data = _data()
    run = Icetrack(tmp_path_factory.mktemp("seattle") / "wh.duckdb")
    run("ingest", str(data / SEATTLE))
    return run, data


@pytest.fixture(scope="module")
def joined(tmp_path_factory):
    data = _data()
    run = Icetrack(tmp_path_factory.mktemp("joined") / "wh.duckdb")
    run("ingest", str(data / JOINED))
    return run, data


def test_seattle_quality_counts_per_production(seattle):
    run, _ = seattle
    q = {r["release_id"]: {t["table"]: t for t in r["tables"]} for r in run.json("quality")}
    assert set(q) == {"uwchr-seattle-uw-v-dhs", "uwchr-seattle-cap-fy2017", "uwchr-seattle-cap-fy2018"}
    uw = q["uwchr-seattle-uw-v-dhs"]
    assert uw["arrests"]["rows"] == 32549 and uw["detention_stints"]["rows"] == 36811
    assert uw["removals"]["rows"] == 6529 + 20384
    assert uw["arrests"]["date_range"] == ["2012-01-01", "2019-07-05"]
    assert q["uwchr-seattle-cap-fy2017"]["arrests"]["rows"] == 2656
    assert q["uwchr-seattle-cap-fy2018"]["encounters"]["rows"] == 7829
    # Date of Birth is redacted in every row of every file; Event Number in every file that has it
    assert uw["arrests"]["redacted_cells"] == {"Date of Birth": 32549, "Event Number": 32549}
    assert uw["detention_stints"]["redacted_cells"] == {"Date of Birth": 36811}
    # no identifiers: no duplicates can be recognised, nothing collapsed
    assert uw["arrests"]["rows_with_identifier"] == 0 and uw["detention_stints"]["duplicates_flagged"] == 0


def test_no_redaction_marker_survives_in_the_warehouse(seattle, joined):
    for run, _ in (seattle, joined):
        with open_warehouse(run.warehouse, read_only=True) as wh:
            for table in ("arrests", "encounters", "detention_stints", "removals", "detainers"):
                cols = [r[0] for r in wh.con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND data_type = 'VARCHAR'",
                    [table]).fetchall()]
                for c in cols:
                    n = wh.con.execute(f"SELECT count(*) FROM {table} WHERE {c} LIKE '%(b)(%'").fetchone()[0]
                    assert n == 0, (table, c)
                n = wh.con.execute(f"SELECT count(*) FROM {table}, unnest(map_values(extra)) AS v(x) "
                                   "WHERE x LIKE '%(b)(%'").fetchone()[0]
                assert n == 0, (table, "extra")


def test_seattle_daily_flows_equal_an_independent_count(seattle):
    run, data = seattle
    # The unsuppressed daily flows (what publication starts from) against a hand count from the gzip.
    with open_warehouse(run.warehouse, read_only=True) as wh:
        pt = engines.from_warehouse(wh.ibis())
        flows = oc.flows(pt, wh.ibis().table("detention_stints"), "day").to_pandas()
    uw = flows[flows.release_id == "uwchr-seattle-uw-v-dhs"]
    assert uw.arrests.sum() == 32549
    assert uw.book_ins.sum() == 36811
    assert uw.removals.sum() == 6529 + 20384
    # hand count straight from the gzip: arrests per day (M/D/YYYY in the first column after 7 lines)
    with gzip.open(data / SEATTLE / "arrests.csv.gz", "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()[7:]
    by_day = Counter(datetime.strptime(line.split("|")[0], "%m/%d/%Y").date().isoformat() for line in lines if line)
    got = {str(r.period_start)[:10]: int(r.arrests) for r in uw.itertuples() if r.arrests}
    assert got == dict(by_day)
    busiest = max(by_day, key=by_day.get)
    assert got[busiest] == by_day[busiest] > 20
    # What is published holds no count between 1 and 9: small days are suppressed (null), the busiest shown.
    rows = run.json("outcomes", "flows", "--period", "day")["rows"]
    counts = [r[k] for r in rows for k in ("arrests", "book_ins", "book_outs", "removals") if r.get(k) is not None]
    assert counts and not [c for c in counts if 0 < c < 10]
    published = {r["period_start"]: r["arrests"] for r in rows if r["release_id"] == "uwchr-seattle-uw-v-dhs"}
    assert published[busiest] == by_day[busiest]


def _joined_rows(data):
    return list(csv.DictReader(open(data / JOINED, encoding="utf-8")))


def test_joined_funnel_states_sum_to_cohorts_and_cif_closes(joined):
    run, _ = joined
    with open_warehouse(run.warehouse, read_only=True) as wh:
        pt = engines.from_warehouse(wh.ibis())
        counts = oc.funnel(pt).to_pandas()
        cohort = oc.cohort(pt).to_pandas()
        survival = published_survival(pt, threshold=1)
        published = published_funnel(pt, threshold=10)
    per_cohort = counts.groupby("cohort").n.sum()
    assert per_cohort.sum() == len(cohort) == 46  # 47 arrest rows, one duplicate_likely episode record
    assert set(counts.state) <= set(oc.STATES)
    # threshold 1 suppresses nothing: every row of every group shows the three incidences and the share still
    # open, and they close
    rows = [r for g in survival["groups"] for r in g["cumulative_incidence"]]
    assert rows
    for r in rows:
        total = sum(r[c]["cif"] for c in oc.CAUSES) + r["overall_survival"]
        assert total == pytest.approx(1.0, abs=4 * 5e-7)  # four values published to 6 decimals
    assert published["releases"][0]["audit"] == []


def test_joined_hand_count_for_the_january_2025_cohort(joined):
    """Independent of icetrack's code: from the raw CSV, January 2025 arrests, and which of them have a
    detention record whose book-in lies 10 days before to 5 days after... i.e. book-in minus arrest in
    [-5, 10] days."""
    run, data = joined
    rows = _joined_rows(data)
    arrests = {(r["unique_identifier"], r["apprehension_date.arrest"]) for r in rows
               if r["apprehension_date.arrest"].startswith("2025-01")}
    book_ins: dict[str, list[date]] = {}
    for r in rows:
        if r["book_in_date_time.detention"] not in ("", "NA"):
            book_ins.setdefault(r["unique_identifier"], []).append(
                date.fromisoformat(r["book_in_date_time.detention"][:10]))
    booked = {a for a in arrests
              if any(-5 <= (b - date.fromisoformat(a[1])).days <= 10 for b in book_ins.get(a[0], []))}
    with open_warehouse(run.warehouse, read_only=True) as wh:
        df = oc.funnel(engines.from_warehouse(wh.ibis())).to_pandas()
    jan = df[df.cohort.astype(str).str.startswith("2025-01")]
    states = dict(zip(jan.state, jan.n))
    assert sum(states.values()) == len(arrests) == 7
    assert states.get("not_booked_in", 0) + states.get("removed_without_detention", 0) == len(arrests - booked)
    assert sum(v for k, v in states.items() if k not in ("not_booked_in", "removed_without_detention")) == len(booked)
