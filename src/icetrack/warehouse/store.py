"""The embedded DuckDB warehouse: editions, vintaged observations, targets.

Every published figure is stored once per edition that published it, keyed by
(edition, measure, dimensions, reference period). Nothing is overwritten: a revised number is a new row
from a newer edition, so any past vintage can be reconstructed. Loads are all-or-nothing (one
transaction) and idempotent (an edition is its bytes: the same sha256 again is skipped and says so).
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import pyarrow as pa
from platformdirs import user_data_dir

from icetrack.domain.catalogue import PULL_DAY_SNAPSHOTS, SELF_DATED_MEASURES
from icetrack.domain.edition import EditionInfo, ParsedSource, SourceError
from icetrack.domain.json_text import strict_json
from icetrack.warehouse.facilities import LISTINGS_DDL, delete_listings, insert_listings
from icetrack.warehouse.vintage import (
    Latest,
    Vintage,
    latest_targets,
    observations,
    parse_vintage,
)

SCHEMA_VERSION = "6"
DATINGS = ("table", "data_source")  # how a snapshot or year-to-date figure is dated (see Warehouse.series_arrow)
# How long opening a locked warehouse waits for the lock (ICETRACK_LOCK_WAIT overrides; 0 = fail at once).
LOCK_WAIT_SECONDS = 10.0
# Upgrades from an older schema, applied when a warehouse is opened read-write (each one transaction).
_MIGRATIONS = {
    "2": ["ALTER TABLE editions ADD COLUMN overrides VARCHAR", "ALTER TABLE editions ADD COLUMN published_by DATE"],
    "3": ["ALTER TABLE editions ADD COLUMN structure VARCHAR", "ALTER TABLE editions ADD COLUMN data_source_date DATE"],
    # Targets in force over time: an end date, the precision of the start date, and the track of targets
    # that replace one another (domain.targets). Existing targets keep their meaning: open-ended, own track.
    "4": ["ALTER TABLE targets ADD COLUMN effective_to DATE",
          "ALTER TABLE targets ADD COLUMN date_precision VARCHAR DEFAULT 'day'",
          "ALTER TABLE targets ADD COLUMN track VARCHAR",
          "UPDATE targets SET date_precision = 'day' WHERE date_precision IS NULL",
          "UPDATE targets SET track = target_id WHERE track IS NULL"],
    # Each workbook edition's facility rows as printed (warehouse.facilities); editions loaded before hold
    # none until their workbook is ingested again under another name or from a fresh warehouse.
    "5": [LISTINGS_DDL],
}

# Why these keys: a figure is identified by what was counted (measure + dimensions), for which period,
# according to which edition. `dims_key` is the canonical text form of the dimensions map so it can be
# part of a primary key; `dims` keeps the map for filtering.
_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS editions (
    edition_id      VARCHAR PRIMARY KEY,
    source          VARCHAR NOT NULL,
    publisher       VARCHAR NOT NULL,
    title           VARCHAR,
    original_url    VARCHAR,
    file_name       VARCHAR NOT NULL,
    sha256          VARCHAR NOT NULL UNIQUE,
    size_bytes      BIGINT NOT NULL,
    published_on    DATE,
    as_of           DATE,
    ingested_at     TIMESTAMP NOT NULL,
    parser_version  VARCHAR NOT NULL,
    synthetic       BOOLEAN NOT NULL,
    completeness    VARCHAR NOT NULL,   -- 'full', or 'national' for a bundled subset of the file's figures
    note            VARCHAR,
    n_observations  BIGINT NOT NULL,
    n_targets       BIGINT NOT NULL,
    overrides       VARCHAR,            -- what --allow-implausible / --drop-identifiers let in; NULL for none
    published_by    DATE,               -- public no later than (first web-archive capture), when known
    structure       VARCHAR,            -- JSON: sheets used/skipped, tables missing/flagged, per-table dates
    data_source_date DATE               -- a workbook's IIDS "Data Source" date (Facilities sheet), when stated
);
CREATE TABLE IF NOT EXISTS observations (
    edition_id    VARCHAR NOT NULL,
    measure       VARCHAR NOT NULL,
    dims          MAP(VARCHAR, VARCHAR) NOT NULL,
    dims_key      VARCHAR NOT NULL,
    period_start  DATE NOT NULL,
    period_end    DATE NOT NULL,
    grain         VARCHAR NOT NULL,
    value         DOUBLE NOT NULL,
    unit          VARCHAR NOT NULL,
    source_url    VARCHAR,
    note          VARCHAR
    -- Unique on (edition_id, measure, dims_key, period_start, period_end): checked on the staged rows at
    -- load time (edition ids are new by construction), not by an index that would slow bulk loads ~10x.
);
CREATE TABLE IF NOT EXISTS targets (
    edition_id      VARCHAR NOT NULL,
    target_id       VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,   -- 'target' (a goal/quota) or 'baseline' (a reported past rate)
    label           VARCHAR NOT NULL,
    concept         VARCHAR NOT NULL,   -- what it counts, e.g. 'arrests' (see domain.catalogue)
    scope           VARCHAR NOT NULL,   -- 'national' or 'field_office'
    value_low       DOUBLE NOT NULL,
    value_high      DOUBLE NOT NULL,
    unit            VARCHAR NOT NULL,
    announced_on    DATE,
    effective_from  DATE,
    reported_by     VARCHAR,
    source_url      VARCHAR NOT NULL,
    note            VARCHAR,
    effective_to    DATE,               -- last day in force (inclusive); NULL = open-ended
    date_precision  VARCHAR DEFAULT 'day',  -- 'month' when the record gives only effective_from's month
    track           VARCHAR,            -- targets replacing one another share a track (never overlapping)
    PRIMARY KEY (edition_id, target_id)
);
CREATE TABLE IF NOT EXISTS measure_definitions (
    edition_id  VARCHAR NOT NULL,
    measure     VARCHAR NOT NULL,
    concept     VARCHAR,
    definition  VARCHAR,
    PRIMARY KEY (edition_id, measure)
);
""" + LISTINGS_DDL


def edition_structure(ed: EditionInfo) -> str | None:
    """How a workbook edition was read, as the JSON the ``structure`` column holds (None when nothing to say)."""
    structure = {"sheets_used": list(ed.sheets_used), "sheets_skipped": list(ed.sheets_skipped),
                 "missing_tables": list(ed.missing_tables), "flagged_tables": list(ed.flagged_tables),
                 "table_dates": dict(ed.table_dates), "layout": dict(ed.layout),
                 "layout_changes": list(ed.layout_changes)}
    return strict_json(structure) if any(structure.values()) else None


def insert_editions(con: duckdb.DuckDBPyConnection, editions: list[tuple[EditionInfo, int, int]]) -> None:
    """Record editions (each with its number of observations and targets), ingested now; the caller holds
    the transaction. The one place an edition row is written."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    con.executemany(
        "INSERT INTO editions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [[ed.edition_id, ed.source, ed.publisher, ed.title, ed.original_url, ed.file_name, ed.sha256, ed.size_bytes,
          ed.published_on, ed.as_of, now, ed.parser_version, ed.synthetic, ed.completeness, ed.note, n_obs, n_tgt,
          "\n".join(ed.overrides) or None, ed.published_by, edition_structure(ed), ed.data_source_date]
         for ed, n_obs, n_tgt in editions],
    )


class WarehouseError(RuntimeError):
    """A problem with the warehouse file itself (locked, wrong schema version, not a DuckDB file)."""


class WarehouseLocked(WarehouseError):
    """Another process holds the file (a writer, or readers while we want to write) beyond the wait allowed."""


def default_warehouse_path() -> Path:
    env = os.environ.get("ICETRACK_WAREHOUSE")
    if env:
        return Path(env).expanduser()
    return Path(user_data_dir("icetrack", appauthor=False)) / "warehouse.duckdb"


@dataclass(frozen=True)
class LoadResult:
    edition_id: str
    file_name: str
    loaded: bool  # False when the same bytes were already in the warehouse
    n_observations: int
    n_targets: int
    message: str


class Warehouse:
    """A connection to the warehouse. Use :func:`open_warehouse`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool):
        self.con = con
        self.path = path
        self.read_only = read_only
        self._ibis = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Warehouse":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- loading -----------------------------------------------------------------------------------
    def has_sha256(self, sha256: str) -> str | None:
        row = self.con.execute("SELECT edition_id FROM editions WHERE sha256 = ?", [sha256]).fetchone()
        return row[0] if row else None

    def _completeness(self, sha256: str) -> str | None:
        row = self.con.execute("SELECT completeness FROM editions WHERE sha256 = ?", [sha256]).fetchone()
        return row[0] if row else None

    def load(self, parsed: ParsedSource) -> LoadResult:
        """Load one parsed edition in a single transaction (see :meth:`load_many`)."""
        return self.load_many([parsed])[0]

    def load_many(self, parsed: list[ParsedSource]) -> list[LoadResult]:
        """Load editions in ONE transaction: all of them or, on any error, none.

        An edition whose bytes are already here is skipped and says so. The one exception: an edition held
        only as a bundled subset ('national') is replaced by the full parse of the file itself.
        """
        results, todo = self.plan_loads(parsed)
        if todo:
            with self.transaction():
                self.apply_loads(todo)
        return results

    @contextmanager
    def transaction(self):
        """One transaction: committed when the block ends, rolled back on any error (then re-raised)."""
        if self.read_only:
            raise WarehouseError(f"{self.path}: opened read-only; cannot write")
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def plan_loads(self, parsed: list[ParsedSource]) -> tuple[list[LoadResult], list[tuple[ParsedSource, str | None]]]:
        """What loading these editions would do: a result per edition, and the ones to insert (each with the
        bundled edition it replaces, if any). Reads only."""
        results: list[LoadResult] = []
        todo: list[tuple[ParsedSource, str | None]] = []
        seen: set[str] = set()
        versions = self.held_versions()
        for p in parsed:
            ed = p.edition
            held = self._completeness(ed.sha256)
            upgrade = held is not None and held != "full" and ed.completeness == "full"
            # The same bytes read by another parser version (a bundled subset an older icetrack extracted, or a
            # workbook ingested before the reader knew every table) give way to the current reading.
            refresh = (held is not None and held == ed.completeness
                       and versions[ed.sha256][1] != ed.parser_version)
            upgrade = upgrade or refresh
            if (held is not None and not upgrade) or ed.sha256 in seen:
                existing = self.has_sha256(ed.sha256) or ed.edition_id
                results.append(LoadResult(existing, ed.file_name, False, 0, 0,
                                          f"{ed.file_name}: already loaded as edition {existing} (same sha256); "
                                          "nothing changed"))
                continue
            seen.add(ed.sha256)
            todo.append((p, self.has_sha256(ed.sha256) if upgrade else None))
            n_obs, n_tgt = p.observations.num_rows, len(p.targets)
            what = (f"re-read with parser version {ed.parser_version} (was {versions[ed.sha256][1]}) as" if refresh
                    else "replaced the bundled national subset with the full" if upgrade else "loaded")
            results.append(LoadResult(ed.edition_id, ed.file_name, True, n_obs, n_tgt,
                                      f"{ed.file_name}: {what} edition {ed.edition_id} ({n_obs:,} observations, "
                                      f"{n_tgt} targets)"))
        if todo and self.read_only:
            raise WarehouseError(f"{self.path}: opened read-only; cannot load {todo[0][0].edition.file_name}")
        return results, todo

    def apply_loads(self, todo: list[tuple[ParsedSource, str | None]]) -> None:
        """Insert planned editions (see :meth:`plan_loads`); the caller holds the transaction."""
        if not todo:
            return
        for p, replaced in todo:
            if replaced:
                delete_listings(self.con, replaced)
                for table in ("observations", "targets", "measure_definitions", "editions"):
                    self.con.execute(f"DELETE FROM {table} WHERE edition_id = ?", [replaced])
        self._insert_all([p for p, _ in todo])

    def _insert_all(self, parsed: list[ParsedSource]) -> None:
        """Insert editions and their rows; the caller holds the transaction. One bulk INSERT for all rows."""
        con = self.con
        insert_editions(con, [(p.edition, p.observations.num_rows, len(p.targets)) for p in parsed])
        staged = pa.concat_tables([
            p.observations.append_column("edition_id", pa.array([p.edition.edition_id] * p.observations.num_rows,
                                                                pa.string()))
            for p in parsed])
        con.register("staged", staged)
        dup = con.execute(
            """SELECT edition_id, measure, dims_key, period_start, period_end
               FROM staged GROUP BY ALL HAVING count(*) > 1 LIMIT 1"""
        ).fetchone()
        if dup:
            file_name = next(p.edition.file_name for p in parsed if p.edition.edition_id == dup[0])
            raise SourceError(file_name, f"two values for {dup[1]} [{dup[2] or 'no dimensions'}] "
                                         f"{dup[3]}..{dup[4]}; a figure must be published once per edition")
        con.execute(
            """INSERT INTO observations
               SELECT edition_id, measure, dims, dims_key, period_start, period_end, grain, value, unit,
                      source_url, note
               FROM staged"""
        )
        con.unregister("staged")
        for p in parsed:
            for t in p.targets:
                con.execute(
                    "INSERT INTO targets VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [p.edition.edition_id, t["target_id"], t["kind"], t["label"], t["concept"], t["scope"],
                     t["value_low"], t["value_high"], t["unit"], t.get("announced_on"), t.get("effective_from"),
                     t.get("reported_by"), t["source_url"], t.get("note"), t.get("effective_to"),
                     t.get("date_precision") or "day", t.get("track") or t["target_id"]],
                )
            for m in p.measure_definitions:
                con.execute("INSERT INTO measure_definitions VALUES (?,?,?,?)",
                            [p.edition.edition_id, m["measure"], m.get("concept"), m.get("definition")])
        insert_listings(con, parsed)

    # -- reading -----------------------------------------------------------------------------------
    def editions(self) -> pd.DataFrame:
        return self.con.execute("SELECT * FROM editions ORDER BY coalesce(as_of, published_on), file_name").df()

    def edition_urls(self) -> dict[str, list[str]]:
        """Every distinct source URL cited by each edition's figures (a figure may cite several)."""
        rows = self.con.execute(
            """SELECT edition_id, list(DISTINCT u ORDER BY u) FROM (
                   SELECT edition_id, unnest(string_split(source_url, ' ')) AS u FROM observations
                   WHERE source_url IS NOT NULL
                   UNION SELECT edition_id, source_url FROM targets)
               GROUP BY edition_id"""
        ).fetchall()
        return {e: urls for e, urls in rows}

    def diff_editions(self, a: str, b: str, examples: int = 5) -> dict:
        """How edition ``b``'s figures differ from edition ``a``'s (same measure, dimensions and period)."""
        rows = self.con.execute(
            """WITH x AS (SELECT * FROM observations WHERE edition_id = ?),
                    y AS (SELECT * FROM observations WHERE edition_id = ?)
               SELECT coalesce(x.measure, y.measure) AS measure, coalesce(x.dims_key, y.dims_key) AS dims_key,
                      coalesce(x.period_start, y.period_start) AS period_start,
                      coalesce(x.period_end, y.period_end) AS period_end, x.value AS value_a, y.value AS value_b
               FROM x FULL OUTER JOIN y USING (measure, dims_key, period_start, period_end)
               WHERE x.value IS DISTINCT FROM y.value
               ORDER BY measure, dims_key, period_start""",
            [a, b],
        ).fetchall()
        changed = [r for r in rows if r[4] is not None and r[5] is not None]
        return {
            "edition_a": a, "edition_b": b,
            "n_changed": len(changed),
            "n_only_in_a": sum(1 for r in rows if r[5] is None),
            "n_only_in_b": sum(1 for r in rows if r[4] is None),
            "examples": [{"measure": r[0], "dims_key": r[1], "period_start": str(r[2]), "period_end": str(r[3]),
                          "value_a": r[4], "value_b": r[5]} for r in changed[:examples]],
        }

    def same_data_date_editions(self, edition_id: str) -> list[str]:
        """Other editions of the same source with the same as-of date (re-saved copies, re-issues)."""
        rows = self.con.execute(
            """SELECT o.edition_id FROM editions o JOIN editions e ON o.source = e.source AND o.as_of = e.as_of
               WHERE e.edition_id = ? AND o.edition_id <> e.edition_id ORDER BY o.ingested_at""",
            [edition_id],
        ).fetchall()
        return [r[0] for r in rows]

    def edition_file_name(self, edition_id: str) -> str:
        row = self.con.execute("SELECT file_name FROM editions WHERE edition_id = ?", [edition_id]).fetchone()
        if row is None:
            raise WarehouseError(f"{self.path}: no edition {edition_id!r}")
        return row[0]

    def same_data_date_pairs(self) -> list[tuple[str, str, object]]:
        """Every pair (a, b, as_of) of editions of one source sharing an as-of date, a < b."""
        return self.con.execute(
            """SELECT a.edition_id, b.edition_id, a.as_of FROM editions a JOIN editions b
               ON a.source = b.source AND a.as_of = b.as_of AND a.edition_id < b.edition_id ORDER BY a.as_of"""
        ).fetchall()

    def held_sha256s(self) -> set[str]:
        return {r[0] for r in self.con.execute("SELECT sha256 FROM editions").fetchall()}

    def held_subset_versions(self) -> dict[str, str]:
        """{sha256: parser version} of the editions held only as a bundled national subset."""
        return {sha: version for sha, (completeness, version) in self.held_versions().items()
                if completeness == "national"}

    def held_versions(self) -> dict[str, tuple[str, str]]:
        """{sha256: (completeness, parser version)} of every held edition."""
        return {sha: (completeness, version) for sha, completeness, version in self.con.execute(
            "SELECT sha256, completeness, parser_version FROM editions").fetchall()}

    def person_edition_ids(self) -> list[str]:
        """Editions of the loaded person-level files (none when no person-level release is loaded)."""
        if not _has_table(self.con, "person_files"):
            return []
        return [r[0] for r in self.con.execute("SELECT edition_id FROM person_files ORDER BY edition_id").fetchall()]

    def release_edition_ids(self, release_id: str) -> list[str]:
        """Editions (files) of one loaded person-level release."""
        rows = self.con.execute("SELECT DISTINCT edition_id FROM person_files WHERE release_id = ? ORDER BY 1",
                                [release_id]).fetchall()
        return [r[0] for r in rows]

    def cursor(self) -> "Warehouse":
        """Another handle on the same open database (its own DuckDB cursor), e.g. one per server thread."""
        return Warehouse(self.con.cursor(), self.path, self.read_only)

    def targets(self) -> pd.DataFrame:
        t = latest_targets(self.ibis())
        t = t.order_by([ibis.desc(t.kind), t.value_low, t.value_high, t.target_id])
        return self.con.sql(self.ibis().compile(t)).df()

    def measures(self) -> pd.DataFrame:
        return self.con.execute(
            """SELECT measure, any_value(unit) AS unit, any_value(grain) AS grain, count(*) AS n_observations,
                      count(DISTINCT edition_id) AS n_editions, min(period_start) AS first_period,
                      max(period_end) AS last_period
               FROM observations GROUP BY measure ORDER BY measure"""
        ).df()

    def series_arrow(self, measure: str | None, *, vintage: Vintage | str = Latest(),
                     dims: dict[str, str] | None = None, grain: str | None = None, dating: str = "table") -> pa.Table:
        """One measure as a long table. ``vintage``: a :data:`~icetrack.warehouse.vintage.Vintage`, or the text
        'latest', 'all' or an edition id.

        ``dating``: 'table' dates a snapshot or fiscal-year-to-date figure as its table states (an ICE workbook's
        Footnotes sheet); 'data_source' by its edition's IIDS "Data Source" line instead, as some publishers
        do (months are months either way; a figure whose edition states no such line keeps its date).

        ``measure`` None: every measure at once (ordered by measure first), for a caller reading them all."""
        if dating not in DATINGS:
            raise ValueError(f"dating '{dating}' is not one of {', '.join(DATINGS)}")
        con = self.ibis()
        t = observations(con, parse_vintage(vintage))
        if measure is not None:
            t = t.filter(t.measure == measure)
        if dating == "data_source":
            # Year-to-date figures and the pull-day snapshots; not the days a table lists (ICLOS, ATD report)
            # nor the semiannual tables' own refresh date.
            pull_day = (t.grain == "snapshot") & t.measure.isin(sorted(PULL_DAY_SNAPSHOTS))
            edition_ytd = (t.grain == "fytd") & ~t.measure.isin(sorted(SELF_DATED_MEASURES))
            moved = (edition_ytd | pull_day) & t.data_source_date.notnull()
            t = t.mutate(period_end=ibis.ifelse(moved, t.data_source_date, t.period_end),
                         period_start=ibis.ifelse(moved & (t.grain == "snapshot"), t.data_source_date,
                                                  t.period_start))
        for k, v in (dims or {}).items():
            t = t.filter(t.dims.get(k) == v)
        if grain:
            t = t.filter(t.grain == grain)
        t = t.select("edition_id", "measure", "dims", "dims_key", "period_start", "period_end", "grain", "value",
                     "unit", "as_of", "published_on", "source_url", "note", "synthetic")
        t = t.order_by(["measure", "dims_key", "period_start", "period_end", ibis.coalesce(t.as_of, t.published_on)])
        return self.con.sql(con.compile(t)).to_arrow_table()

    def series(self, measure: str | None, **kw) -> pd.DataFrame:
        return self.series_arrow(measure, **kw).to_pandas()

    def ibis(self):
        """The Ibis backend over this warehouse's DuckDB connection (for metrics); made once per handle, since
        making one takes about a fifth of a second."""
        if self._ibis is None:
            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis


def _lock_wait_seconds(lock_wait: float | None) -> float:
    if lock_wait is not None:
        return max(0.0, lock_wait)
    try:
        return max(0.0, float(os.environ.get("ICETRACK_LOCK_WAIT", LOCK_WAIT_SECONDS)))
    except ValueError:
        return LOCK_WAIT_SECONDS


def _connect(path: Path, read_only: bool, lock_wait: float | None = None) -> duckdb.DuckDBPyConnection:
    # DuckDB lets one process write or many read. The dashboard holds its read-only connection only while
    # it answers requests (and lets go for at least half a second under steady load), so an open that finds
    # the file locked polls every 0.1 s until the wait allowed is over.
    deadline = time.monotonic() + _lock_wait_seconds(lock_wait)
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as e:
            text = " ".join(str(e).split())
            if "lock" not in text.lower():
                raise WarehouseError(f"{path}: cannot open warehouse ({text[:200]})") from None
            if time.monotonic() >= deadline:
                raise WarehouseLocked(f"{path}: cannot open warehouse: another icetrack process has it open "
                                      f"({text[:160]})") from None
            time.sleep(0.1)
        except duckdb.Error as e:
            raise WarehouseError(f"{path}: not a usable DuckDB warehouse ({' '.join(str(e).split())[:200]})") from None


def open_warehouse(path: str | Path | None = None, *, read_only: bool = False,
                   load_reference: bool = True, lock_wait: float | None = None) -> Warehouse:
    """Open (creating if needed) the warehouse. The bundled reference facts load on first use.

    ``lock_wait``: seconds to wait while another process holds the file (default ``ICETRACK_LOCK_WAIT``, else
    :data:`LOCK_WAIT_SECONDS`); then :class:`WarehouseLocked`."""
    path = Path(path).expanduser() if path else default_warehouse_path()
    if read_only:
        if not path.exists():
            raise WarehouseError(f"{path}: no warehouse here (run `icetrack ingest` or `icetrack report` first)")
        wh = Warehouse(_connect(path, True, lock_wait), path, True)
        _check_schema(wh)
        return wh
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = not path.exists()
    con = _connect(path, False, lock_wait)
    wh = Warehouse(con, path, False)
    if fresh or not _has_table(con, "meta"):
        con.execute("BEGIN TRANSACTION")
        con.execute(_SCHEMA_SQL)
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
        con.execute("COMMIT")
    _migrate(wh)
    _check_schema(wh)
    if load_reference:
        from icetrack.warehouse.reference import ensure_reference_loaded

        ensure_reference_loaded(wh)
    return wh


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0])


def _migrate(wh: Warehouse) -> None:
    """Bring an older warehouse to this schema, one transaction per step, so its editions stay."""
    if not _has_table(wh.con, "meta"):
        return
    while True:
        row = wh.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        steps = _MIGRATIONS.get(row[0]) if row else None
        if not steps:
            return
        with wh.transaction():
            for sql in steps:
                wh.con.execute(sql)
            wh.con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(int(row[0]) + 1)])


def _check_schema(wh: Warehouse) -> None:
    if not _has_table(wh.con, "meta"):
        raise WarehouseError(f"{wh.path}: not an icetrack warehouse (no meta table)")
    row = wh.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if not row or row[0] != SCHEMA_VERSION:
        hint = ("open it once read-write (e.g. `icetrack ingest` of any file) to upgrade it"
                if row and row[0] in _MIGRATIONS else "rebuild it with a fresh --warehouse path")
        raise WarehouseError(f"{wh.path}: warehouse schema {row[0] if row else '?'} is not {SCHEMA_VERSION}; "
                             + hint)


