"""The loaded editions, the measures, one measure's series in any vintage, and one figure's revisions."""

from __future__ import annotations

from datetime import date

import pandas as pd

from icetrack.domain import definitions
from icetrack.domain.catalogue import CATALOGUE
from icetrack.figures.result import NotFound, Result, editions_by_id, frame_rows, provenance
from icetrack.metrics import revisions as rv
from icetrack.warehouse.coverage import measure_fiscal_years

SERIES_COLUMNS = ["measure", "dims_key", "period_start", "period_end", "grain", "value", "unit", "edition_id",
                  "as_of", "published_on", "source_url", "note", "synthetic"]
EDITIONS_DEFINITION = ("Each edition is one published file, identified by its sha256; as_of is when the source "
                       "system was queried.")


def sources(wh) -> Result:
    """Every loaded edition with its provenance."""
    df = wh.editions()
    rows = frame_rows(df, [c for c in df.columns if c != "ingested_at"])
    return Result(rows, {"editions": [], "synthetic": any(r["synthetic"] for r in rows),
                         "definitions": EDITIONS_DEFINITION})


def measures(wh) -> Result:
    """The measures in the warehouse with their catalogue label, concept and definition, and the fiscal years
    their figures cover (synthetic editions left out)."""
    rows = frame_rows(wh.measures())
    years = measure_fiscal_years(wh)
    for r in rows:
        m = CATALOGUE.get(r["measure"])
        r["label"], r["concept"], r["definition"] = ((m.label, m.concept, m.definition) if m
                                                     else (r["measure"], None, None))
        r["fiscal_years"] = years.get(r["measure"], [])
    return Result(rows, {"editions": [], "synthetic": False, "definitions": None})


def check_measure(wh, measure: str) -> None:
    loaded = list(wh.measures().measure)
    if measure not in loaded:
        raise NotFound(f"unknown measure '{measure}' (loaded: {', '.join(loaded)})")


def series(wh, measure: str, vintage: str = "latest", dims: dict[str, str] | None = None, grain: str | None = None,
           start: date | None = None, end: date | None = None) -> Result:
    """One measure's figures in ``vintage`` ('latest', 'all' or an edition id), optionally one date range."""
    check_measure(wh, measure)
    if vintage not in ("latest", "all") and vintage not in editions_by_id(wh):
        raise NotFound(f"unknown edition '{vintage}'")
    dims = dims or {}
    df = wh.series(measure, vintage=vintage, dims=dims, grain=grain)
    if start:
        df = df[pd.to_datetime(df.period_end) >= pd.Timestamp(start)]
    if end:
        df = df[pd.to_datetime(df.period_start) <= pd.Timestamp(end)]
    m = CATALOGUE.get(measure)
    return Result(frame_rows(df, SERIES_COLUMNS), provenance(wh, df.edition_id, m.definition if m else None),
                  detail={"measure": measure, "vintage": vintage, "filters": dims})


def revisions(wh, measure: str, period: str, dims: dict[str, str] | None = None) -> Result:
    """How one figure (measure, dimensions, period) changed from edition to edition."""
    check_measure(wh, measure)
    result = rv.revisions(wh.ibis(), measure, period, dims or {})
    rows = [{"measure": measure, "dims_key": s["dims_key"], "period_start": result["period_start"],
             "period_end": result["period_end"], "unit": s["unit"], **{k: e[k] for k in
             ("edition_id", "file_name", "published_on", "as_of", "value", "change")}, "flags": " ".join(e["flags"])}
            for s in result["series"] for e in s["editions"]]
    return Result(rows, provenance(wh, [r["edition_id"] for r in rows], definitions.REVISIONS.strip()),
                  detail=result)


REVISION_SUMMARY_COLUMNS = ["dims_key", "dims", "period_start", "period_end", "grain", "unit", "n_editions",
                            "first_value", "first_edition_id", "latest_value", "latest_edition_id", "min_value",
                            "max_value"]


def revision_summary(wh, measure: str, *, all_rows: pd.DataFrame | None = None,
                     latest_rows: pd.DataFrame | None = None, editions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per figure (dimensions, period) of ``measure``: the number of editions that published it, the first
    value (publication order, as ``icetrack revisions``: publication date, else as-of date, then as-of date,
    then ingestion), the latest value (the one the latest vintage picks, as ``icetrack series``), and the
    minimum and maximum. ``all_rows``/``latest_rows``/``editions``: the measure's series in the 'all' and
    'latest' vintages and ``wh.editions()``, when the caller already has them."""
    if all_rows is None or latest_rows is None:
        check_measure(wh, measure)
    rows = wh.series(measure, vintage="all") if all_rows is None else all_rows
    latest = wh.series(measure, vintage="latest") if latest_rows is None else latest_rows
    key = ["dims_key", "period_start", "period_end"]
    if rows.empty:
        return pd.DataFrame(columns=REVISION_SUMMARY_COLUMNS)
    ingested = (wh.editions() if editions is None else editions).set_index("edition_id").ingested_at
    ordered = rows.assign(_order=rows.published_on.fillna(rows.as_of), _ingested=rows.edition_id.map(ingested))
    ordered = ordered.sort_values([*key, "_order", "as_of", "_ingested"], na_position="last", kind="stable")
    g = ordered.groupby(key, sort=True, dropna=False)
    out = g.agg(dims=("dims", "first"), grain=("grain", "first"), unit=("unit", "first"),
                n_editions=("edition_id", "nunique"), first_value=("value", "first"),
                first_edition_id=("edition_id", "first"), min_value=("value", "min"),
                max_value=("value", "max")).reset_index()
    last = latest[[*key, "value", "edition_id"]].rename(columns={"value": "latest_value",
                                                                 "edition_id": "latest_edition_id"})
    out = out.merge(last, on=key, how="left", validate="one_to_one")
    return out[REVISION_SUMMARY_COLUMNS]
