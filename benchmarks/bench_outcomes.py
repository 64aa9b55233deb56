"""Benchmark: a synthetic release at scale - ingest (time, peak RSS), then funnel + KM + CIF on DuckDB vs a
straightforward pandas implementation (and, with --spark, the same metrics on Spark).

    uv run --locked python benchmarks/bench_outcomes.py --people 10000000 [--spark] [--reuse DIR] [--repeat 3]
        [--matching-rounds]

Each phase runs in a fresh subprocess so its peak RSS is its own. The DuckDB and pandas phases alternate
``--repeat`` times (the machine is shared, so single timings are noisy): the ratio is taken between the
fastest run of each, and the spread is printed. The pandas baseline reads the same derived tables from the
warehouse and computes the same funnel (removals without detention included) and event table with merges
and groupbys, then the same estimators; the run fails unless its funnel counts, event table and curves equal
icetrack's. With --spark, the Spark time includes rebuilding the cleaning and linkage on Spark (the peak RSS
printed is the Python driver's, not the JVM's). --matching-rounds times the arrest -> stay matching with 1,
2 and 3 rounds (CleaningParams.max_matching_rounds) and counts the links each finds.

``--reuse DIR`` keeps the synthetic release and warehouse in DIR: built there on the first run, reused
(synth and ingest skipped) when DIR already holds a warehouse for the same number of people.
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

PHASES = ("synth", "ingest", "duckdb", "pandas", "spark", "rounds")
CAUSES = ["removal", "release", "transfer"]
THRESHOLD = 10  # at-risk cut of the published curves (publish.DEFAULT_THRESHOLD)


def phase(name: str, folder: Path, people: int) -> dict:
    t0 = time.perf_counter()
    out: dict = {}
    if name == "synth":
        from icetrack.synth.generator import generate_release

        out["rows"] = generate_release(folder / "release", people=people, seed=1)["rows"]
    elif name == "ingest":
        from icetrack.warehouse.person import load_person_releases
        from icetrack.sources.ddp import read_ddp
        from icetrack.warehouse import open_warehouse

        with open_warehouse(folder / "wh.duckdb", load_reference=False) as wh:
            releases = [read_ddp(p) for p in sorted((folder / "release").glob("*.parquet"))]
            results = load_person_releases(wh, releases)
            out["rows"] = sum(r.n_observations for r in results)
    elif name in ("duckdb", "spark"):
        from icetrack.warehouse import engines as engine
        from icetrack.metrics import outcomes as oc
        from icetrack.metrics.published import published_funnel, published_survival
        from icetrack.warehouse import open_warehouse

        with open_warehouse(folder / "wh.duckdb", read_only=name == "duckdb", load_reference=False) as wh:
            t_tables = time.perf_counter()
            pt = engine.duckdb_tables(wh) if name == "duckdb" else engine.spark_tables(wh)[0]
            t1 = time.perf_counter()
            out["tables_seconds"] = t1 - t_tables
            funnel = published_funnel(pt)
            survival = published_survival(pt)
            out["metrics_seconds"] = time.perf_counter() - t1
            # Not timed: the unsuppressed counts, for the comparison with the pandas baseline.
            counts = oc.funnel(pt).to_pandas()
            events = oc.event_table(pt).to_pandas().drop(columns="group").rename(columns={"t": "time"})
        (group,) = survival["groups"]
        out["check"] = {
            "funnel": {f"{str(r.cohort)[:7]}|{r.state}": int(r.n) for r in counts.itertuples()},
            "events": events[["time", "n_censored", *CAUSES]].astype("int64").to_numpy().tolist(),
            "km": [[r["time"], r["survival"]] for r in group["kaplan_meier"]],
            "cif": [[r["time"], *(r[c]["cif"] for c in CAUSES)] for r in group["cumulative_incidence"]],
        }
        out["cohort_arrests"] = sum(r["cohort_size"]["count"] or 0 for rel in funnel["releases"]
                                    for r in rel["rows"] if r["cohort"] == "all")
    elif name == "pandas":
        out.update(pandas_baseline(folder / "wh.duckdb"))
    elif name == "rounds":
        out["rounds"] = matching_rounds(folder / "wh.duckdb")
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def matching_rounds(wh_path: Path) -> list[dict]:
    """Arrest -> stay links found, and the time the matching takes on DuckDB, for 1, 2 and 3 rounds of
    mutual-best matching (CleaningParams.max_matching_rounds) on the warehouse's arrests and stays."""
    from icetrack.warehouse import cleaning as clean
    from icetrack.warehouse import open_warehouse

    out = []
    with open_warehouse(wh_path, read_only=True, load_reference=False) as wh:
        t = wh.ibis().table
        for rounds in (1, 2, 3):
            links = clean.link_arrests_to_stays(t("arrests"), t("arrest_episodes"), t("detention_stays"),
                                                clean.CleaningParams(max_matching_rounds=rounds))
            t0 = time.perf_counter()
            n = int(links.count().execute())
            out.append({"rounds": rounds, "links": n, "seconds": round(time.perf_counter() - t0, 2)})
    return out


def pandas_baseline(wh_path: Path) -> dict:
    """Funnel + event table the way an analyst would in pandas, then the same estimators."""
    import duckdb
    import numpy as np
    import pandas as pd

    from icetrack.metrics.survival import aalen_johansen, kaplan_meier

    con = duckdb.connect(str(wh_path), read_only=True)
    arrests = con.execute("SELECT release_id, edition_id, source_row, unique_identifier, apprehension_date "
                          "FROM arrests").df()
    episodes = con.execute("SELECT edition_id, source_row, duplicate_likely FROM arrest_episodes").df()
    stays = con.execute("SELECT release_id, unique_identifier, stay_book_in, censored, release_reason, "
                        "observed_until FROM detention_stays").df()
    links = con.execute("SELECT stay_key, arrest_key FROM stay_arrest_links").df()
    rlinks = con.execute("SELECT DISTINCT stay_key FROM stay_removal_links").df()
    removals = con.execute("SELECT release_id, unique_identifier, departed_date FROM removals").df()
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
    # arrests without a stay whose person departed within 30 days: removed without detention
    unlinked = j.loc[j.stay_key.isna(), ["arrest_key", "release_id", "unique_identifier", "apprehension_date"]]
    d = unlinked.merge(removals.dropna(subset=["unique_identifier"]), on=["release_id", "unique_identifier"])
    gap = (d.departed_date - d.apprehension_date).dt.total_seconds() / 86400
    direct = j.arrest_key.isin(d.arrest_key[(gap >= 0) & (gap <= 30)])
    j["state"] = np.where(j.stay_key.notna(), j.outcome,
                          np.where(direct, "removed_without_detention", "not_booked_in"))
    funnel = j.groupby(["cohort", "state"]).size()
    b = j[j.stay_key.notna()].copy()
    b["t"] = np.maximum(((b.observed_until - b.apprehension_date).dt.total_seconds() // 86400).astype("int64"), 0)
    table = pd.crosstab(b.t, b.outcome).reindex(columns=["detained", "removed", "released", "transferred"],
                                                fill_value=0)
    table = table.rename(columns={"detained": "n_censored", "removed": "removal", "released": "release",
                                  "transferred": "transfer"}).reset_index().rename(columns={"t": "time"})
    km = kaplan_meier(table, event="removal", causes=CAUSES)
    aj = aalen_johansen(table, causes=CAUSES)
    seconds = (pd.Timestamp.now() - t1).total_seconds()
    km, aj = km[km.at_risk >= THRESHOLD], aj[aj.at_risk >= THRESHOLD]
    check = {
        "funnel": {f"{c}|{s}": int(n) for (c, s), n in funnel.items()},
        "events": table[["time", "n_censored", *CAUSES]].astype("int64").to_numpy().tolist(),
        "km": [[int(t), round(float(v), 6)] for t, v in zip(km.time, km.survival)],
        "cif": [[int(r.time), *(round(float(getattr(r, f"cif_{c}")), 6) for c in CAUSES)] for r in aj.itertuples()],
    }
    return {"metrics_seconds": seconds, "cohort_arrests": int(funnel.sum()), "check": check}


def run_phase(name: str, folder: Path, people: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--phase", name, "--folder", str(folder),
                          "--people", str(people)], capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{name} failed: {out.stderr[-2000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{name:7s} {r['seconds']:8.1f} s  peak RSS {r['peak_rss_mib']:7.0f} MiB  "
          + (f"funnel + KM + CIF {r['metrics_seconds']:.2f} s  cohort {r['cohort_arrests']:,}"
             if "metrics_seconds" in r else f"rows {r['rows']}" if "rows" in r else ""), flush=True)
    return r


def spread(runs: list[dict]) -> str:
    t = sorted(r["metrics_seconds"] for r in runs)
    return f"min {t[0]:.2f} s, max {t[-1]:.2f} s over {len(t)} runs"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--spark", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the DuckDB and of the pandas phase")
    ap.add_argument("--reuse", type=Path, help="folder keeping the release and warehouse between runs")
    ap.add_argument("--matching-rounds", action="store_true",
                    help="also time the arrest -> stay matching with 1, 2 and 3 rounds")
    ap.add_argument("--phase", choices=PHASES)
    ap.add_argument("--folder", type=Path)
    args = ap.parse_args()
    if args.phase:  # child process
        print(json.dumps(phase(args.phase, args.folder, args.people)))
        return
    folder = args.reuse or Path(tempfile.mkdtemp(prefix="icetrack-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    built_for = folder / "people.txt"  # written once the warehouse is complete
    if built_for.exists() and int(built_for.read_text()) == args.people:
        print(f"reusing the release and warehouse in {folder}")
    else:
        if built_for.exists():
            sys.exit(f"{folder} holds a warehouse for {built_for.read_text()} people, not {args.people}")
        for name in ("synth", "ingest"):
            run_phase(name, folder, args.people)
        built_for.write_text(str(args.people))
    runs: dict[str, list[dict]] = {"duckdb": [], "pandas": []}
    for _ in range(args.repeat):
        for name in runs:
            runs[name].append(run_phase(name, folder, args.people))
    reference = runs["duckdb"][0]["check"]
    check_agrees(runs["duckdb"] + runs["pandas"], reference)
    d = min(r["metrics_seconds"] for r in runs["duckdb"])
    p = min(r["metrics_seconds"] for r in runs["pandas"])
    print(f"funnel + KM + CIF, {args.people:,} synthetic people: DuckDB {d:.2f} s ({spread(runs['duckdb'])}) vs "
          f"pandas {p:.2f} s ({spread(runs['pandas'])}; pandas excluding its table reads) -> {p / d:.1f}x "
          f"(fastest vs fastest; per repetition: "
          + ", ".join(f"{b['metrics_seconds'] / a['metrics_seconds']:.1f}x" for a, b in zip(runs["duckdb"], runs["pandas"]))
          + ")", flush=True)
    if args.spark:
        spark = run_phase("spark", folder, args.people)
        check_agrees([spark], reference)
        print(f"Spark (local[2]): funnel + KM + CIF {spark['metrics_seconds']:.1f} s, including the cleaning and "
              f"linkage rebuilt on Spark from the exported tables (Spark evaluates lazily); export + session "
              f"{spark['tables_seconds']:.1f} s; process {spark['seconds']:.1f} s -> DuckDB is "
              f"{spark['metrics_seconds'] / d:.0f}x faster on the metrics")
    if args.matching_rounds:
        for r in run_phase("rounds", folder, args.people)["rounds"]:
            print(f"arrest -> stay matching, {r['rounds']} round(s): {r['links']:,} links, {r['seconds']:.1f} s")


def check_agrees(results: list[dict], reference: dict) -> None:
    """Exit unless every run's funnel counts, event table and curves equal the reference's."""
    for r in results:
        for part, value in r["check"].items():
            if value != reference[part]:
                sys.exit(f"a run differs from the first DuckDB run in the {part}")
    print(f"{len(results)} run(s) agree with DuckDB: funnel counts, event table, Kaplan-Meier and cumulative "
          "incidence curves", flush=True)


if __name__ == "__main__":
    main()
