"""Every outcome metric gives identical results on DuckDB and on Spark for the same synthetic release.

On Spark the derived tables (episodes, stays, links) are rebuilt from the exported canonical tables with
the same cleaning expressions, so this checks the whole pipeline, not only the final aggregation."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from icetrack.metrics import outcomes as oc
from icetrack.metrics.published import published_funnel, published_survival

pyspark = pytest.importorskip("pyspark", reason="the 'spark' extra is not installed")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java 17 (no `java` on PATH)", allow_module_level=True)


@pytest.fixture(scope="module")
def engines(synthetic_warehouse):
    """The shared synthetic warehouse's person tables on DuckDB and, rebuilt from its canonical tables, on Spark."""
    from icetrack.warehouse import open_warehouse
    from icetrack.warehouse.engines import duckdb_tables, spark_tables

    wh = open_warehouse(synthetic_warehouse, read_only=True)
    spark_pt, spark_con = spark_tables(wh)
    yield duckdb_tables(wh), spark_pt
    spark_con.disconnect()  # stops the Spark session
    wh.close()


def _frame(expr_or_df) -> pd.DataFrame:
    df = expr_or_df.to_pandas() if hasattr(expr_or_df, "to_pandas") else expr_or_df
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].astype(str)
        elif str(df[c].dtype).startswith("datetime"):
            df[c] = pd.to_datetime(df[c]).dt.strftime("%Y-%m-%d")
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def test_derived_tables_agree(engines):
    duck, spark = engines
    cols = ["release_id", "unique_identifier", "stay_book_in", "stay_book_out", "censored", "release_reason",
            "n_stints"]
    d = _frame(duck.stays.select(*cols))
    s = _frame(spark.stays.select(*cols))
    assert len(d) > 1000
    pd.testing.assert_frame_equal(d, s, check_dtype=False)
    assert _frame(duck.arrest_links.select("stay_key", "arrest_key")).equals(
        _frame(spark.arrest_links.select("stay_key", "arrest_key")))
    assert _frame(duck.removal_links.select("stay_key", "removal_key")).equals(
        _frame(spark.removal_links.select("stay_key", "removal_key")))


@pytest.mark.parametrize("period,breakdown", [("month", None), ("week", "criminality"), ("day", "aor")])
def test_funnel_identical(engines, period, breakdown):
    duck, spark = engines
    d = _frame(oc.funnel(duck, period, breakdown))
    s = _frame(oc.funnel(spark, period, breakdown))
    assert d["n"].sum() > 1000
    pd.testing.assert_frame_equal(d, s, check_dtype=False)
    assert published_funnel(duck, period, breakdown) == published_funnel(spark, period, breakdown)


@pytest.mark.parametrize("origin,breakdown", [("arrest", None), ("book_in", "criminality")])
def test_event_tables_and_estimators_identical(engines, origin, breakdown):
    duck, spark = engines
    pd.testing.assert_frame_equal(_frame(oc.event_table(duck, origin, breakdown)),
                                  _frame(oc.event_table(spark, origin, breakdown)), check_dtype=False)
    assert published_survival(duck, origin, breakdown) == published_survival(spark, origin, breakdown)


def test_flow_and_release_reasons_identical(engines):
    duck, spark = engines
    pd.testing.assert_frame_equal(_frame(oc.release_reasons(duck)), _frame(oc.release_reasons(spark)),
                                  check_dtype=False)
