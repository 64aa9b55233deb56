"""Where metrics run: the embedded DuckDB warehouse (default) or Apache Spark (``--engine spark``).

The metrics are Ibis expressions; an engine only supplies the tables. On Spark, the canonical person-level
tables are exported from the warehouse as Parquet (or read from a Parquet folder written elsewhere) and the
derived tables (episodes, stays, links) are rebuilt on Spark with the same cleaning expressions
(:mod:`icetrack.warehouse.cleaning`), so the whole pipeline - not only the last aggregation - is the same code.
"""

from __future__ import annotations

import os
import tempfile
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import ibis

from icetrack.warehouse import cleaning as clean

CANONICAL = ("arrests", "detention_stints", "removals", "person_files")


@dataclass
class PersonTables:
    """The canonical and derived person-level tables as Ibis tables on one engine.

    ``materialize`` (set by :mod:`icetrack.warehouse.engines`: a temporary table on DuckDB, a cached DataFrame
    on Spark) stores the per-arrest outcome table that the funnel, the release reasons and the event table
    all read (:func:`icetrack.metrics.outcomes.arrest_outcomes`) on first use, for the life of this object - which is then a snapshot
    of the warehouse: make a new one after a load. Without it that table is recomputed by every metric.
    """

    arrests: ibis.Table
    episodes: ibis.Table
    stays: ibis.Table
    arrest_links: ibis.Table
    removal_links: ibis.Table
    removals: ibis.Table
    cutoffs: ibis.Table  # release_id, cutoff, synthetic
    materialize: Callable[[ibis.Table], ibis.Table] | None = field(default=None, repr=False, compare=False)
    _arrest_outcomes: ibis.Table | None = field(default=None, init=False, repr=False, compare=False)


def from_warehouse(con, materialize: Callable[[ibis.Table], ibis.Table] | None = None) -> PersonTables:
    """Materialized tables of the DuckDB warehouse."""
    t = con.table
    return PersonTables(t("arrests"), t("arrest_episodes"), t("detention_stays"), t("stay_arrest_links"),
                        t("stay_removal_links"), t("removals"), clean.release_cutoffs(t("person_files")),
                        materialize)


class EngineError(RuntimeError):
    """One-line, user-facing."""


def has_person_tables(wh) -> bool:
    """Whether a person-level release has been loaded (its derived tables exist)."""
    return bool(wh.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'detention_stays'").fetchone()[0])


def duckdb_tables(wh) -> PersonTables:
    if not has_person_tables(wh):
        raise EngineError(f"{wh.path}: no person-level records loaded (icetrack ingest FILE, or icetrack synth)")
    backend = wh.ibis()
    return from_warehouse(backend, materialize=lambda expr: _temporary_table(backend, expr))


def _temporary_table(backend, expr):
    """``expr`` stored as a DuckDB temporary table (allowed on read-only connections too), dropped when
    the last expression using it is garbage-collected."""
    name = f"icetrack_tmp_{uuid.uuid4().hex}"
    backend.con.execute(f'CREATE TEMPORARY TABLE "{name}" AS {backend.compile(expr)}')
    table = backend.table(name, database=("temp", "main"))
    weakref.finalize(table.op(), _drop_temporary_table, backend.con, name)
    return table


def _drop_temporary_table(con, name: str) -> None:
    try:
        con.execute(f'DROP TABLE IF EXISTS temp.main."{name}"')
    except duckdb.ConnectionException:  # the connection was closed first, and its temporary tables with it
        pass


def export_canonical(wh, folder: Path) -> Path:
    """Write the canonical person-level tables as Parquet files (one per table) for another engine."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in CANONICAL:
        # `extra` (a map of unmapped source columns) is not needed by any metric.
        wh.con.execute(f"COPY (SELECT * EXCLUDE (extra) FROM {name}) TO '{folder / name}.parquet' "
                       f"(FORMAT parquet)" if name != "person_files" else
                       f"COPY (SELECT * FROM {name}) TO '{folder / name}.parquet' (FORMAT parquet)")
    return folder


def spark_session(master: str | None = None):
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("the Spark engine needs the 'spark' extra: pip install 'icetrack[spark]' "
                          "(and Java 17)") from None
    builder = (SparkSession.builder.appName("icetrack").master(master or "local[2]")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", "8")
               .config("spark.driver.memory", "4g"))
    try:
        return builder.getOrCreate()
    except Exception as e:  # JVM missing, master unreachable ...
        raise EngineError(f"cannot start Spark ({master or 'local[2]'}): {' '.join(str(e).split())[:200]}") from None


def spark_tables(wh, master: str | None = None, params: clean.CleaningParams | None = None,
                 folder: Path | None = None) -> tuple[PersonTables, object]:
    """Person tables on Spark: canonical tables from Parquet, derived tables rebuilt with the same rules."""
    import ibis

    params = params or clean.CleaningParams()
    folder = folder or export_canonical(wh, Path(tempfile.mkdtemp(prefix="icetrack-spark-")))
    spark = spark_session(master)
    con = ibis.pyspark.connect(spark)
    t = {name: con.read_parquet(str(folder / f"{name}.parquet"), table_name=f"icetrack_{name}") for name in CANONICAL}
    cache = lambda e: e.cache()  # noqa: E731
    # cached: several metrics reuse episodes and stays, and the matching rounds would otherwise be recomputed
    derived = clean.derived_tables(
        t.__getitem__, params, lambda name, e: e.cache() if name in ("arrest_episodes", "detention_stays") else e,
        materialize_rounds=cache)
    return PersonTables(t["arrests"], derived["arrest_episodes"], derived["detention_stays"],
                        derived["stay_arrest_links"], derived["stay_removal_links"], t["removals"],
                        clean.release_cutoffs(t["person_files"]), materialize=cache), con
