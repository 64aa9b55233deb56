"""Benchmark: person-level ingest against a plain DuckDB load of the same files with the cleaning rules in SQL.

    uv run python benchmarks/bench_person_load.py --people 1000000 [--repeats 3] [--cache DIR] [--profile]

A SYNTHETIC release of ``--people`` people (``icetrack synth``, seed 1) is generated once into a cache folder
outside the repository (default ``$TMPDIR/icetrack-bench-person/people<N>-seed1``; reused when its manifest is
there). Then, alternating ``--repeats`` times, each side runs in a fresh subprocess (so its peak RSS, the
child's own ``ru_maxrss``, is its own) and writes a fresh database file:

(a) **icetrack**: ``ingest_files`` (what ``icetrack ingest`` calls) on the five parquet files, into a new
    warehouse opened without the bundled reference figures (their load is a fixed cost of a new warehouse,
    not of the person-level load; it is timed and printed apart as ``open``). The time runs from opening the
    warehouse to closing it (the close checkpoints). Phases are timed by wrapping icetrack's own functions:
    ``read`` (pulling parquet batches), ``convert`` (``Plan.convert``: cleaning, typing, checks, provenance),
    ``stage write`` (the rest of ``_stage``: writing the batches to the staging Parquet files), ``move``
    (``_move_staged``: staged Parquet -> person tables, after the derived tables are built), one line per
    derived table (``_replace``: compile + run its SQL; the links include their matching rounds), ``log``
    (``_log_rules``), ``ibis setup`` (the rest of ``rebuild_derived``: connection, table lookups, views of the
    staged files), ``open files`` (``read_person_file``: header, sha256), ``drop staging``, ``close``
    (checkpoint) and ``COMMIT + rest`` (the rest: the transaction's COMMIT, ensure_person_schema, recording
    the editions, planning).
    Each phase shows wall and process CPU seconds: CPU close to wall on 2 cores means one thread (Python, or
    a single-threaded DuckDB step); CPU near 2x wall means DuckDB running in parallel.
(b) **plain DuckDB**: ``CREATE TABLE ... AS SELECT * FROM read_parquet(...)`` per file (``file_row_number``
    + 1 as ``source_row``), then the cleaning rules of ``icetrack.warehouse.cleaning`` written here as plain
    set-based SQL: 24-hour arrest episodes, bond-only stint duplicates, stays censored at the cut-off, and
    the one-to-one arrest -> stay and stay -> removal links (mutual-best rounds, as many as
    ``CleaningParams.max_matching_rounds``). Same session settings as icetrack's load
    (``memory_limit`` = ``ICETRACK_MEMORY_LIMIT`` or 2GB, ``preserve_insertion_order = false``).

After the timed part (peak RSS already read), each child computes per derived table the row count, what the
rule touched, and an order-independent hash (sum of DuckDB ``hash()``) of the key columns - identifiers,
times, flags, episode numbers, bond minima, stay outcome columns, link endpoints and gaps in whole seconds;
not release or edition ids, which only icetrack has. A ``MISMATCH`` line names every figure that differs
between the two sides (or between runs of one side); the run exits 1 then.

``--profile`` adds one more icetrack run under cProfile and prints the functions with the most own time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TABLES = ("arrests", "detention_stints", "removals", "encounters", "detainers")
PHASE_ORDER = ("open files", "read", "convert", "stage write", "move", "ibis setup", "arrest_episodes",
               "detention_stints_dedup", "detention_stays", "stay_arrest_links", "stay_removal_links", "log",
               "drop staging", "close", "COMMIT + rest")
DERIVED = PHASE_ORDER[6:11]


# -- the release --------------------------------------------------------------------------------------------

def release_folder(args) -> Path:
    base = args.cache or Path(tempfile.gettempdir()) / "icetrack-bench-person"
    return base / f"people{args.people}-seed1"


def ensure_release(folder: Path, people: int) -> dict:
    manifest = folder / "synthetic_release.json"
    if not manifest.exists():
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        code = ("import sys; from icetrack.synth.generator import generate_release; "
                "generate_release(sys.argv[1], people=int(sys.argv[2]), seed=1)")
        subprocess.run([sys.executable, "-c", code, str(folder), str(people)], check=True)
        print(f"generated {people:,} synthetic people in {time.perf_counter() - t0:.1f} s: {folder}", flush=True)
    else:
        print(f"reusing the synthetic release in {folder}", flush=True)
    m = json.loads(manifest.read_text())
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in m["rows"].items())
          + f" (total {sum(m['rows'].values()):,})", flush=True)
    return m


# -- side (a): icetrack ---------------------------------------------------------------------------------------

class Phases:
    """Wall and process-CPU seconds per phase, accumulated by wrapping icetrack's functions."""

    def __init__(self):
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def add(self, name: str, wall: float, cpu: float) -> None:
        self.wall[name] = self.wall.get(name, 0.0) + wall
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu

    def timed(self, name, fn):
        def wrapper(*a, **k):
            w, c = time.perf_counter(), time.process_time()
            try:
                return fn(*a, **k)
            finally:
                self.add(name(*a, **k) if callable(name) else name, time.perf_counter() - w, time.process_time() - c)
        return wrapper


def instrument(ph: Phases) -> None:
    from icetrack.sources.canonical import plan as plan_mod
    from icetrack.sources.ddp import processed
    from icetrack.warehouse import cleaning, ingest, person

    open_arrow = processed._open_arrow

    def timed_open(*a, **k):
        source, schema = open_arrow(*a, **k)

        def timed_source():
            it = iter(source())
            while True:
                w, c = time.perf_counter(), time.process_time()
                try:
                    rb = next(it)
                except StopIteration:
                    return
                finally:
                    ph.add("read", time.perf_counter() - w, time.process_time() - c)
                yield rb
        return timed_source, schema

    processed._open_arrow = timed_open
    plan_mod.Plan.convert = ph.timed("convert", plan_mod.Plan.convert)
    person._stage = ph.timed("stage", person._stage)
    person._move_staged = ph.timed("move", person._move_staged)
    person._replace = ph.timed(lambda con, ib, name, *rest: name, person._replace)
    person._log_rules = ph.timed("log", person._log_rules)
    # The matching rounds run (as temporary tables) while the link expression is built, before _replace.
    cleaning.link_arrests_to_stays = ph.timed("stay_arrest_links", cleaning.link_arrests_to_stays)
    cleaning.link_stays_to_removals = ph.timed("stay_removal_links", cleaning.link_stays_to_removals)
    person.rebuild_derived = ph.timed("rebuild", person.rebuild_derived)
    ingest._person_release = ph.timed("open files", ingest._person_release)
    ingest.drop_staging = ph.timed("drop staging", ingest.drop_staging)


def side_icetrack(release: Path, work: Path, profile: bool) -> dict:
    import_t0 = time.perf_counter()
    from icetrack.warehouse import open_warehouse
    from icetrack.warehouse.ingest import ingest_files
    import_s = time.perf_counter() - import_t0
    ph = Phases()
    instrument(ph)
    paths = [release / f"{t}.parquet" for t in TABLES]
    db = work / "icetrack.duckdb"
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    w0 = time.perf_counter()
    wh = open_warehouse(db, load_reference=False)
    open_s = time.perf_counter() - w0
    w1, c1 = time.perf_counter(), time.process_time()
    reports = ingest_files(wh, paths)
    w2, c2 = time.perf_counter(), time.process_time()
    wh.close()
    ph.add("close", time.perf_counter() - w2, time.process_time() - c2)
    wall, cpu = time.perf_counter() - w1, time.process_time() - c1
    if prof:
        prof.disable()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = sum(r.result.n_observations for r in reports)
    stage = ph.wall.pop("stage", 0.0), ph.cpu.pop("stage", 0.0)
    ph.wall["stage write"] = stage[0] - ph.wall.get("read", 0) - ph.wall.get("convert", 0)
    ph.cpu["stage write"] = stage[1] - ph.cpu.get("read", 0) - ph.cpu.get("convert", 0)
    rebuild = ph.wall.pop("rebuild", 0.0), ph.cpu.pop("rebuild", 0.0)
    ph.wall["ibis setup"] = rebuild[0] - sum(ph.wall.get(k, 0) for k in DERIVED)
    ph.cpu["ibis setup"] = rebuild[1] - sum(ph.cpu.get(k, 0) for k in DERIVED)
    ph.wall["COMMIT + rest"] = wall - sum(ph.wall.values())
    ph.cpu["COMMIT + rest"] = cpu - sum(ph.cpu.values())
    out = {"seconds": wall, "cpu_seconds": cpu, "open_seconds": open_s, "import_seconds": import_s,
           "peak_rss_mib": peak, "rows": rows, "phases": {k: [ph.wall[k], ph.cpu[k]] for k in ph.wall}}
    if prof:
        import io
        import pstats

        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(30)
        out["profile"] = s.getvalue()
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    out["check"] = checks(con, icetrack=True)
    con.close()
    return out


# -- side (b): plain DuckDB with the rules in SQL --------------------------------------------------------------

def side_duckdb(release: Path, work: Path, rounds: int) -> dict:
    import duckdb

    from_json = json.loads((release / "synthetic_release.json").read_text())
    cutoff = f"{from_json['cutoff']} 23:59:59"  # icetrack: the release's cut-off date, end of day
    db = work / "plain.duckdb"
    w0, c0 = time.perf_counter(), time.process_time()
    con = duckdb.connect(str(db))
    con.execute(f"SET memory_limit = '{os.environ.get('ICETRACK_MEMORY_LIMIT', '2GB')}'")
    con.execute("SET preserve_insertion_order = false")
    phases: dict[str, list[float]] = {}

    def run(name: str, sql: str, params=None) -> None:
        w, c = time.perf_counter(), time.process_time()
        con.execute(sql, params)
        was = phases.setdefault(name, [0.0, 0.0])
        was[0] += time.perf_counter() - w
        was[1] += time.process_time() - c

    for t in TABLES:
        run("load", f"CREATE TABLE {t} AS SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS source_row "
                    f"FROM read_parquet(?, file_row_number = true)", [str(release / f"{t}.parquet")])
    for name, sql in cleaning_sql(cutoff, rounds):
        run(name, sql)
    w, c = time.perf_counter(), time.process_time()
    con.close()
    phases["close"] = [time.perf_counter() - w, time.process_time() - c]
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    con = duckdb.connect(str(db), read_only=True)
    rows = sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)
    out = {"seconds": wall, "cpu_seconds": cpu, "peak_rss_mib": peak, "rows": rows, "phases": phases,
           "check": checks(con, icetrack=False)}
    con.close()
    return out


def cleaning_sql(cutoff: str, rounds: int, gap_hours: float = 24, arrest_before: float = 10,
                 arrest_after: float = 5, removal_before: float = 5,
                 removal_after: float = 10) -> list[tuple[str, str]]:
    """The rules of icetrack.warehouse.cleaning (defaults = CleaningParams) as plain SQL over one release:
    (derived table it builds, statement) in order."""
    stint_key = ("unique_identifier, book_in_date_time, detention_book_out_date_time, stay_book_in_date_time, "
                 "stay_book_out_date_time, detention_facility_code, detention_facility, detention_release_reason, "
                 "stay_release_reason, book_in_criminality, apprehension_method, case_category, "
                 "most_serious_conviction, citizenship_country, gender, birth_year")
    sql = list(zip(("arrest_episodes", "detention_stints_dedup", "detention_stays", "stay_arrest_links",
                    "stay_removal_links"), [
        # Arrest episodes: a gap over 24 h (or no identifier) starts an episode; the rest are duplicate_likely.
        f"""CREATE TABLE arrest_episodes AS
        WITH s AS (
            SELECT source_row, unique_identifier, apprehension_date,
                   lag(apprehension_date) OVER (PARTITION BY unique_identifier
                                                ORDER BY apprehension_date, source_row) AS previous
            FROM arrests),
        f AS (
            SELECT *, previous IS NULL OR epoch(apprehension_date) - epoch(previous) > {gap_hours * 3600}
                      OR unique_identifier IS NULL AS starts
            FROM s)
        SELECT source_row, unique_identifier, apprehension_date,
               CASE WHEN unique_identifier IS NOT NULL THEN
                   sum(starts::BIGINT) OVER (PARTITION BY unique_identifier ORDER BY apprehension_date, source_row
                                             ROWS UNBOUNDED PRECEDING) END AS episode_no,
               NOT starts AS duplicate_likely
        FROM f""",
        # Stints identical but for the bond fields: one row, lowest bond amounts (no identifier: its own row).
        f"""CREATE TABLE detention_stints_dedup AS
        SELECT {stint_key},
               min(source_row) AS source_row, count(*) AS copies,
               min(initial_bond_set_amount) AS initial_bond_set_amount, min(bond_posted_amount) AS bond_posted_amount,
               min(bond_posted_date) AS bond_posted_date
        FROM detention_stints
        GROUP BY {stint_key}, CASE WHEN unique_identifier IS NULL THEN source_row END""",
        # Stays: the stints of one identifier and stay book-in; open stays censored at the cut-off.
        f"""CREATE TABLE detention_stays AS
        WITH s AS (
            SELECT *, coalesce(stay_book_in_date_time, book_in_date_time) AS stay_start
            FROM detention_stints_dedup
            WHERE unique_identifier IS NOT NULL AND book_in_date_time IS NOT NULL),
        n AS (
            SELECT *, row_number() OVER (PARTITION BY unique_identifier, stay_start
                                         ORDER BY book_in_date_time, source_row) AS stint_no,
                      count(*) OVER (PARTITION BY unique_identifier, stay_start) AS n_stints
            FROM s),
        g AS (
            SELECT unique_identifier, stay_start, max(n_stints) AS n_stints,
                   count(*) FILTER (detention_book_out_date_time IS NULL) AS open_stints,
                   max(stay_book_out_date_time) AS published_stay_book_out,
                   max(detention_book_out_date_time) AS last_stint_book_out,
                   max(stay_release_reason) AS stay_release_reason,
                   any_value(detention_release_reason) FILTER (stint_no = n_stints) AS last_release_reason,
                   any_value(detention_facility_code) FILTER (stint_no = 1) AS first_facility,
                   any_value(detention_facility_code) FILTER (stint_no = n_stints) AS last_facility,
                   any_value(book_in_criminality) FILTER (stint_no = 1) AS book_in_criminality,
                   any_value(apprehension_method) FILTER (stint_no = 1) AS apprehension_method,
                   any_value(citizenship_country) AS citizenship_country, any_value(gender) AS gender,
                   min(book_in_date_time) AS first_book_in
            FROM n GROUP BY unique_identifier, stay_start),
        o AS (
            SELECT *, CASE WHEN open_stints > 0 AND published_stay_book_out IS NULL THEN NULL
                           ELSE coalesce(published_stay_book_out, last_stint_book_out) END AS book_out
            FROM g),
        c AS (
            SELECT *, CASE WHEN book_out > TIMESTAMP '{cutoff}' THEN NULL ELSE book_out END AS stay_book_out
            FROM o)
        SELECT unique_identifier, n_stints, first_facility, last_facility, book_in_criminality, apprehension_method,
               citizenship_country, gender, first_book_in AS stay_book_in,
               stay_start <> first_book_in AS published_stay_book_in_differs,
               stay_book_out, stay_book_out IS NULL AS censored,
               CASE WHEN stay_book_out IS NOT NULL THEN coalesce(stay_release_reason, last_release_reason) END
                   AS release_reason,
               coalesce(stay_book_out, TIMESTAMP '{cutoff}') AS observed_until,
               (epoch(coalesce(stay_book_out, TIMESTAMP '{cutoff}')) - epoch(first_book_in)) / 86400 AS duration_days
        FROM c""",
        # Candidate pairs: arrest (episode starts only) within [-after, +before] days of the stay's book-in.
        f"""CREATE TEMP TABLE cand_arrest AS
        SELECT s.unique_identifier, s.stay_book_in, a.source_row AS arrest_source_row,
               (epoch(s.stay_book_in) - epoch(a.apprehension_date)) / 86400 AS days_arrest_to_book_in,
               abs(days_arrest_to_book_in) AS absdiff, a.source_row::VARCHAR AS tiebreak
        FROM detention_stays s JOIN arrest_episodes a USING (unique_identifier)
        WHERE NOT a.duplicate_likely
          AND days_arrest_to_book_in <= {arrest_before} AND days_arrest_to_book_in >= {-arrest_after}""",
        f"""CREATE TEMP TABLE cand_removal AS
        SELECT s.unique_identifier, s.stay_book_in, r.source_row AS removal_source_row,
               (epoch(r.departed_date) - epoch(s.stay_book_out)) / 86400 AS days_book_out_to_departure,
               abs(days_book_out_to_departure) AS absdiff, r.source_row::VARCHAR AS tiebreak
        FROM detention_stays s JOIN removals r USING (unique_identifier)
        WHERE s.stay_book_out IS NOT NULL AND r.departed_date IS NOT NULL
          AND days_book_out_to_departure >= {-removal_before} AND days_book_out_to_departure <= {removal_after}""",
    ]))
    for link, cand, right in (("stay_arrest_links", "cand_arrest", "arrest_source_row"),
                              ("stay_removal_links", "cand_removal", "removal_source_row")):
        # Greedy closest-first one-to-one: each round keeps the pairs best for both ends, then drops their ends.
        sql.append((link, f"CREATE TABLE {link} AS SELECT * EXCLUDE (absdiff, tiebreak) FROM {cand} LIMIT 0"))
        for r in range(rounds):
            sql.append((link, f"""CREATE OR REPLACE TEMP TABLE best AS
            SELECT * FROM {cand}
            QUALIFY row_number() OVER (PARTITION BY unique_identifier, stay_book_in ORDER BY absdiff, tiebreak) = 1
                AND row_number() OVER (PARTITION BY {right} ORDER BY absdiff, tiebreak) = 1"""))
            sql.append((link, f"INSERT INTO {link} SELECT * EXCLUDE (absdiff, tiebreak) FROM best"))
            if r < rounds - 1:
                sql.append((link, f"""CREATE OR REPLACE TEMP TABLE {cand} AS
                SELECT * FROM {cand} c
                WHERE NOT EXISTS (SELECT 1 FROM best b WHERE b.unique_identifier = c.unique_identifier
                                                         AND b.stay_book_in = c.stay_book_in)
                  AND {right} NOT IN (SELECT {right} FROM best)"""))
    return sql


# -- the results, compared ------------------------------------------------------------------------------------

def checks(con, icetrack: bool) -> dict:
    """Per derived table: rows, what the rule touched, and an order-independent hash of the key columns."""
    def one(sql: str) -> list:
        return [str(v) for v in con.execute(sql).fetchone()]

    secs = "CAST(round({} * 86400) AS BIGINT)"
    removal_row = ("CAST(regexp_extract(removal_key, '([0-9]+)$', 1) AS BIGINT)" if icetrack
                   else "removal_source_row")
    return {
        "arrest_episodes": one("""SELECT count(*), count(*) FILTER (duplicate_likely), max(episode_no),
            sum(hash(source_row::BIGINT, unique_identifier, apprehension_date, episode_no::BIGINT, duplicate_likely))
            FROM arrest_episodes"""),
        "detention_stints_dedup": one("""SELECT count(*), sum(copies - 1), sum(hash(source_row::BIGINT,
            copies::BIGINT, initial_bond_set_amount, bond_posted_amount, bond_posted_date)) FROM detention_stints_dedup"""),
        "detention_stays": one(f"""SELECT count(*), count(*) FILTER (censored),
            count(*) FILTER (published_stay_book_in_differs),
            sum(hash(unique_identifier, stay_book_in, stay_book_out, censored, release_reason, observed_until,
                     {secs.format('duration_days')}, n_stints::BIGINT, first_facility, last_facility,
                     book_in_criminality, apprehension_method, citizenship_country, gender,
                     published_stay_book_in_differs)) FROM detention_stays"""),
        "stay_arrest_links": one(f"""SELECT count(*), sum(hash(unique_identifier, stay_book_in,
            arrest_source_row::BIGINT, {secs.format('days_arrest_to_book_in')})) FROM stay_arrest_links"""),
        "stay_removal_links": one(f"""SELECT count(*), sum(hash(unique_identifier, stay_book_in, {removal_row},
            {secs.format('days_book_out_to_departure')})) FROM stay_removal_links"""),
    }


def mismatches(reference: dict, other: dict) -> list[str]:
    return [f"{t}: {reference[t]} vs {other.get(t)}" for t in reference if reference[t] != other.get(t)]


# -- driver ---------------------------------------------------------------------------------------------------

def run_side(side: str, release: Path, scratch: Path, profile: bool = False) -> dict:
    work = scratch / side
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cmd = [sys.executable, __file__, "--side", side, "--release", str(release), "--work", str(work)]
    if profile:
        cmd.append("--profile")
    out = subprocess.run(cmd, capture_output=True, text=True)
    shutil.rmtree(work, ignore_errors=True)
    if out.returncode:
        sys.exit(f"{side} failed: {out.stderr[-3000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    extra = (f"  (open {r['open_seconds']:.2f} s, imports {r['import_seconds']:.1f} s, not included)"
             if side == "icetrack" else "")
    print(f"{side:9s} {r['seconds']:7.1f} s  cpu {r['cpu_seconds']:7.1f} s  peak RSS {r['peak_rss_mib']:6.0f} MiB"
          f"  rows {r['rows']:,}{extra}", flush=True)
    return r


def spread(values: list[float]) -> str:
    v = sorted(values)
    med = statistics.median(v)
    return (f"best {v[0]:.1f} / median {med:.1f} / worst {v[-1]:.1f} s"
            + (f", spread {100 * (v[-1] - v[0]) / v[0]:.0f}%" if len(v) > 1 else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3, help="runs of each side, alternating")
    ap.add_argument("--cache", type=Path, help="folder for the synthetic releases (outside the repository)")
    ap.add_argument("--profile", action="store_true", help="one more icetrack run under cProfile")
    ap.add_argument("--side", choices=("icetrack", "duckdb"))  # child process
    ap.add_argument("--release", type=Path)
    ap.add_argument("--work", type=Path)
    args = ap.parse_args()
    if args.side:
        if args.side == "icetrack":
            r = side_icetrack(args.release, args.work, args.profile)
        else:
            from icetrack.warehouse.cleaning import CleaningParams

            r = side_duckdb(args.release, args.work, CleaningParams().max_matching_rounds)
        print(json.dumps(r))
        return
    release = release_folder(args)
    ensure_release(release, args.people)
    scratch = Path(tempfile.mkdtemp(prefix="icetrack-bench-person-db-"))
    runs: dict[str, list[dict]] = {"icetrack": [], "duckdb": []}
    try:
        for _ in range(args.repeats):
            for side in runs:
                runs[side].append(run_side(side, release, scratch))
        prof = run_side("icetrack", release, scratch, profile=True) if args.profile else None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ok = True
    reference = runs["icetrack"][0]["check"]
    for side, rs in runs.items():
        for i, r in enumerate(rs):
            for line in mismatches(reference, r["check"]):
                ok = False
                print(f"MISMATCH {side} run {i + 1} vs icetrack run 1: {line}")
    if ok:
        print("same results on both sides in every run: " + "; ".join(
            f"{t} {int(v[0]):,}" for t, v in reference.items())
            + f" (arrests flagged duplicate_likely {int(reference['arrest_episodes'][1]):,}, "
              f"stint copies collapsed {int(reference['detention_stints_dedup'][1]):,}, "
              f"stays censored {int(reference['detention_stays'][1]):,}; hashes of the key columns equal)")
    a = [r["seconds"] for r in runs["icetrack"]]
    b = [r["seconds"] for r in runs["duckdb"]]
    print(f"\n{args.people:,} synthetic people, {runs['duckdb'][0]['rows']:,} rows:")
    print(f"  icetrack ingest  {spread(a)}; peak RSS "
          + ", ".join(f"{r['peak_rss_mib'] / 1024:.2f}" for r in runs["icetrack"]) + " GiB")
    print(f"  plain DuckDB     {spread(b)}; peak RSS "
          + ", ".join(f"{r['peak_rss_mib'] / 1024:.2f}" for r in runs["duckdb"]) + " GiB")
    print(f"  ratio {min(a) / min(b):.2f}x best vs best, {statistics.median(a) / statistics.median(b):.2f}x median "
          f"vs median (per repetition: " + ", ".join(f"{x / y:.2f}x" for x, y in zip(a, b))
          + "); goal: at most 2x")
    print("\nicetrack phases (median over runs; wall s / process CPU s / share of the wall time):")
    total = statistics.median(a)
    for name in PHASE_ORDER:
        vals = [r["phases"].get(name, [0.0, 0.0]) for r in runs["icetrack"]]
        w = statistics.median(v[0] for v in vals)
        c = statistics.median(v[1] for v in vals)
        print(f"  {name:24s} {w:7.2f} s  cpu {c:7.2f} s  {100 * w / total:5.1f}%")
    print("plain DuckDB phases (median; 'stay_*_links' include building their candidate pairs):")
    total_b = statistics.median(b)
    for name in ("load", *DERIVED, "close"):
        vals = [r["phases"].get(name, [0.0, 0.0]) for r in runs["duckdb"]]
        w = statistics.median(v[0] for v in vals)
        c = statistics.median(v[1] for v in vals)
        print(f"  {name:24s} {w:7.2f} s  cpu {c:7.2f} s  {100 * w / total_b:5.1f}%")
    if prof:
        print("\ncProfile of one more icetrack run (own time, top 30):")
        print(prof["profile"])
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
