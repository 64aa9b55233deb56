"""Benchmark: a synthetic release at scale - ingest (time, peak RSS), then funnel + KM + CIF on DuckDB vs a
straightforward pandas implementation (and, with --spark, the same metrics on Spark).

    uv run python benchmarks/bench_outcomes.py --people 10000000 [--spark]

Each phase runs in a fresh subprocess so its peak RSS is its own. The pandas baseline reads the same
derived tables from the warehouse and computes the same funnel and event table with merges and groupbys,
then the same estimators; both results are compared for equality.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHASES = ("synth", "ingest", "duckdb", "pandas", "spark")


def phase(name: str, folder: Path, people: int) -> dict:
    t0 = time.perf_counter()
    out: dict = {}
    if name == "synth":
        from icetrack.sources.synth import generate_release

        out["rows"] = generate_release(folder / "release", people=people, seed=1)["rows"]
    elif name == "ingest":
        from icetrack.person.store import load_person_releases
        from icetrack.sources.ddp import read_ddp
        from icetrack.warehouse import open_warehouse

        with open_warehouse(folder / "wh.duckdb", load_reference=False) as wh:
            releases = [read_ddp(p) for p in sorted((folder / "release").glob("*.parquet"))]
            results = load_person_releases(wh, releases)
            out["rows"] = sum(r.n_observations for r in results)
    elif name in ("duckdb", "spark"):
        from icetrack.metrics import engine
        from icetrack.metrics.publish import published_funnel, published_survival
        from icetrack.warehouse import open_warehouse

        with open_warehouse(folder / "wh.duckdb", read_only=name == "duckdb", load_reference=False) as wh:
            pt = engine.duckdb_tables(wh) if name == "duckdb" else engine.spark_tables(wh)[0]
            t1 = time.perf_counter()
            funnel = published_funnel(pt)
            survival = published_survival(pt)
            out["metrics_seconds"] = time.perf_counter() - t1
            out["cohort_arrests"] = sum(r["cohort_size"]["count"] or 0 for rel in funnel["releases"]
                                        for r in rel["rows"] if r["cohort"] == "all")
            out["cif_removal"] = survival["groups"][0]["cif_at_last_time"]["removal"]
    elif name == "pandas":
        out.update(pandas_baseline(folder / "wh.duckdb"))
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def pandas_baseline(wh_path: Path) -> dict:
    """Funnel + event table the way an analyst would in pandas, then the same estimators."""
    import duckdb
    import numpy as np
    import pandas as pd

    from icetrack.metrics.survival import aalen_johansen, kaplan_meier

    con = duckdb.connect(str(wh_path), read_only=True)
    arrests = con.execute("SELECT edition_id, source_row, unique_identifier, apprehension_date FROM arrests").df()
    episodes = con.execute("SELECT edition_id, source_row, duplicate_likely FROM arrest_episodes").df()
    stays = con.execute("SELECT release_id, unique_identifier, stay_book_in, censored, release_reason, "
                        "observed_until FROM detention_stays").df()
    links = con.execute("SELECT stay_key, arrest_key FROM stay_arrest_links").df()
    rlinks = con.execute("SELECT DISTINCT stay_key FROM stay_removal_links").df()
    t1 = pd.Timestamp.now()
    a = arrests.merge(episodes, on=["edition_id", "source_row"])
    a = a[~a.duplicate_likely & a.unique_identifier.notna()].copy()
    a["arrest_key"] = a.edition_id + ":" + a.source_row.astype(str)
    a["cohort"] = a.apprehension_date.dt.to_period("M")
    stays["stay_key"] = stays.release_id + ":" + stays.unique_identifier + ":" + stays.stay_book_in.astype(str)
    reason = stays.release_reason.fillna("").str.lower()
    stays["outcome"] = np.select(
        [stays.censored, stays.stay_key.isin(rlinks.stay_key), stays.release_reason.isna(),
         reason.str.contains("remov"), reason.str.contains("transfer|marshal|other agency")],
        ["detained", "removed", "released", "removed", "transferred"], "released")
    j = a.merge(links, on="arrest_key", how="left").merge(stays[["stay_key", "outcome", "observed_until"]],
                                                          on="stay_key", how="left")
    j["state"] = j.outcome.fillna("not_booked_in")
    funnel = j.groupby(["cohort", "state"]).size()
    b = j[j.stay_key.notna()].copy()
    b["t"] = np.maximum(((b.observed_until - b.apprehension_date).dt.total_seconds() // 86400).astype("int64"), 0)
    table = pd.crosstab(b.t, b.outcome).reindex(columns=["detained", "removed", "released", "transferred"],
                                                fill_value=0)
    table = table.rename(columns={"detained": "n_censored", "removed": "removal", "released": "release",
                                  "transferred": "transfer"}).reset_index().rename(columns={"t": "time"})
    kaplan_meier(table, event="removal", causes=["removal", "release", "transfer"])
    aj = aalen_johansen(table, causes=["removal", "release", "transfer"])
    return {"metrics_seconds": (pd.Timestamp.now() - t1).total_seconds(), "cohort_arrests": int(funnel.sum()),
            "cif_removal": round(float(aj[aj.at_risk >= 10].iloc[-1]["cif_removal"]), 6)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--spark", action="store_true")
    ap.add_argument("--phase", choices=PHASES)
    ap.add_argument("--folder", type=Path)
    args = ap.parse_args()
    if args.phase:  # child process
        print(json.dumps(phase(args.phase, args.folder, args.people)))
        return
    folder = Path(tempfile.mkdtemp(prefix="icetrack-bench-"))
    results = {}
    for name in PHASES:
        if name == "spark" and not args.spark:
            continue
        out = subprocess.run([sys.executable, __file__, "--phase", name, "--folder", str(folder),
                              "--people", str(args.people)], capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"{name} failed: {out.stderr[-2000:]}")
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
        r = results[name]
        print(f"{name:7s} {r['seconds']:8.1f} s  peak RSS {r['peak_rss_mib']:7.0f} MiB  "
              + (f"metrics {r['metrics_seconds']:.2f} s  cohort {r.get('cohort_arrests'):,}  "
                 f"CIF(removal) {r.get('cif_removal')}" if "metrics_seconds" in r else f"rows {r.get('rows')}"),
              flush=True)
    d, p = results["duckdb"], results["pandas"]
    print(f"funnel + KM + CIF, {args.people:,} synthetic people: DuckDB {d['metrics_seconds']:.2f} s vs pandas "
          f"{p['metrics_seconds']:.2f} s (pandas excluding its table reads) -> {p['metrics_seconds'] / d['metrics_seconds']:.1f}x; "
          f"end to end (process) {p['seconds'] / d['seconds']:.1f}x; same cohort: {d['cohort_arrests'] == p['cohort_arrests']}")


if __name__ == "__main__":
    main()
