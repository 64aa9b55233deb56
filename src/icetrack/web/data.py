"""What the API returns: metrics over the warehouse, as JSON-ready tables with their provenance.

A thin layer over :mod:`icetrack.metrics`: every function takes already-validated parameters, calls the
metric functions and returns ``{"rows": [...], "provenance": {...}, ...}``. ``rows`` is the flat table
that the CSV download of the same endpoint writes, value for value. Only aggregate statistics leave this
module; person-level data is reached only through the published (suppressed) outcome tables.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

import pandas as pd

from icetrack.metrics import detention as det
from icetrack.domain.catalogue import CATALOGUE
from icetrack.warehouse.engines import EngineError, duckdb_tables, has_person_tables
from icetrack.metrics.publish import funnel_rows, published_funnel, published_survival, survival_rows
from icetrack.metrics import revisions as rv
from icetrack.metrics.targets import daily_series, targets_ledger
from icetrack.web.store import ReadOnlyStore

DETENTION_TABLES = ("book_ins", "book_outs", "removal_share", "detained", "adp", "funded_beds", "removals_to_date")
EDITION_FIELDS = ("edition_id", "source", "publisher", "title", "file_name", "original_url", "published_on", "as_of",
                  "synthetic", "completeness")


class NotFound(LookupError):
    """A parameter names something the warehouse does not hold (-> 404)."""


class InvalidParameters(ValueError):
    """Parameters that are each valid but do not go together (-> 422)."""


def json_value(v: Any) -> Any:
    """A value as JSON: dates ISO, NaN/NaT null, numpy scalars as Python, whole floats as ints."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, (pd.Timestamp, datetime)):
        return v.date().isoformat() if (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if hasattr(v, "item") and not isinstance(v, (list, dict, str)):
        return json_value(v.item())
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return int(v) if v.is_integer() else v
    return v


def frame_rows(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    frame = frame[columns] if columns else frame
    return [{k: json_value(v) for k, v in r.items()} for r in frame.to_dict("records")]


# -- provenance -------------------------------------------------------------------------------------------
def editions_by_id(store: ReadOnlyStore) -> dict[str, dict[str, Any]]:
    df = store.warehouse().editions()
    return {r["edition_id"]: r for r in frame_rows(df, list(EDITION_FIELDS))}


def provenance(store: ReadOnlyStore, edition_ids, definitions: str | None = None, **extra) -> dict[str, Any]:
    """The editions a result draws on (with publication and as-of dates) and whether any is synthetic."""
    known = editions_by_id(store)
    editions = [known[e] for e in sorted(set(edition_ids)) if e in known]
    as_of = [e["as_of"] for e in editions if e["as_of"]]
    return {"editions": editions, "as_of_range": [min(as_of), max(as_of)] if as_of else None,
            "synthetic": any(e["synthetic"] for e in editions), "definitions": definitions, **extra}


def source_note(prov: dict[str, Any]) -> str:
    """One line for under a chart: which editions, which data dates, synthetic or not."""
    eds = prov["editions"]
    if not eds:
        return "No source editions."
    names = "; ".join(f"{e['edition_id']} ({e['file_name']}"
                      + (f", as of {e['as_of']}" if e["as_of"] else "")
                      + (f", published {e['published_on']}" if e["published_on"] else "") + ")" for e in eds[:6])
    more = f"; and {len(eds) - 6} more editions" if len(eds) > 6 else ""
    dates = (f" Data as of {prov['as_of_range'][0]} to {prov['as_of_range'][1]}."
             if prov.get("as_of_range") else "")
    synthetic = " SYNTHETIC DATA: generated, not from ICE." if prov["synthetic"] else ""
    return f"Source: {names}{more}.{dates}{synthetic}"


# -- sources and measures ---------------------------------------------------------------------------------
def sources(store: ReadOnlyStore) -> dict[str, Any]:
    wh = store.warehouse()
    df = wh.editions()
    rows = frame_rows(df, [c for c in df.columns if c != "ingested_at"])
    return {"rows": rows, "provenance": {"editions": [], "synthetic": any(r["synthetic"] for r in rows),
                                         "definitions": "Each edition is one published file, identified by its "
                                                        "sha256; as_of is when the source system was queried."}}


def measures(store: ReadOnlyStore) -> dict[str, Any]:
    df = store.warehouse().measures()
    rows = frame_rows(df)
    for r in rows:
        m = CATALOGUE.get(r["measure"])
        r["label"], r["concept"], r["definition"] = ((m.label, m.concept, m.definition) if m
                                                     else (r["measure"], None, None))
    return {"rows": rows, "provenance": {"editions": [], "synthetic": False, "definitions": None}}


def measure_names(store: ReadOnlyStore) -> list[str]:
    return list(store.warehouse().measures().measure)


def check_measure(store: ReadOnlyStore, measure: str) -> None:
    if measure not in measure_names(store):
        raise NotFound(f"unknown measure '{measure}'")


def check_edition(store: ReadOnlyStore, edition_id: str) -> None:
    if edition_id not in editions_by_id(store):
        raise NotFound(f"unknown edition '{edition_id}'")


# -- series and revisions ---------------------------------------------------------------------------------
SERIES_COLUMNS = ["measure", "dims_key", "period_start", "period_end", "grain", "value", "unit", "edition_id",
                  "as_of", "published_on", "source_url", "note", "synthetic"]


def series(store: ReadOnlyStore, measure: str, vintage: str, dims: dict[str, str], grain: str | None,
           start: date | None, end: date | None) -> dict[str, Any]:
    check_measure(store, measure)
    if vintage not in ("latest", "all"):
        check_edition(store, vintage)
    df = store.warehouse().series(measure, vintage=vintage, dims=dims, grain=grain)
    if start:
        df = df[pd.to_datetime(df.period_end) >= pd.Timestamp(start)]
    if end:
        df = df[pd.to_datetime(df.period_start) <= pd.Timestamp(end)]
    m = CATALOGUE.get(measure)
    return {"measure": measure, "vintage": vintage, "filters": dims, "rows": frame_rows(df, SERIES_COLUMNS),
            "provenance": provenance(store, df.edition_id, m.definition if m else None)}


def revisions(store: ReadOnlyStore, measure: str, period: str, dims: dict[str, str]) -> dict[str, Any]:
    check_measure(store, measure)
    result = rv.revisions(store.ibis(), measure, period, dims)
    rows = [{"measure": measure, "dims_key": s["dims_key"], "period_start": result["period_start"],
             "period_end": result["period_end"], "unit": s["unit"], **{k: e[k] for k in
             ("edition_id", "file_name", "published_on", "as_of", "value", "change")}, "flags": " ".join(e["flags"])}
            for s in result["series"] for e in s["editions"]]
    return {**result, "rows": rows,
            "provenance": provenance(store, [r["edition_id"] for r in rows], rv.__doc__.strip())}


# -- targets ----------------------------------------------------------------------------------------------
TARGET_COLUMNS = ["measure", "dims_key", "series_label", "variant", "target_id", "kind", "target_label", "value_low",
                  "value_high", "days_covered", "total", "days_meeting_low", "days_meeting_high", "shortfall_low",
                  "shortfall_high", "attainment_low", "pace_by", "pace_needed_low", "series_editions",
                  "target_edition_id", "target_source_url"]


def targets(store: ReadOnlyStore, by: date | None) -> dict[str, Any]:
    ledger = targets_ledger(store.ibis(), by=by)
    rows, edition_ids = [], []
    for s in ledger["series"]:
        edition_ids += s["editions"]
        for t in s["targets"]:
            edition_ids.append(t["edition_id"])
            for variant in ("as_published", "shifted_back_one_day"):
                v, score = s["variants"][variant], t[variant]
                rows.append({"measure": s["measure"], "dims_key": s["dims_key"], "series_label": s["label"],
                             "variant": variant, "target_id": t["target_id"], "kind": t["kind"],
                             "target_label": t["label"], "value_low": t["value_low"], "value_high": t["value_high"],
                             "days_covered": v["days_covered"], "total": v["total"],
                             **{k: score[k] for k in ("days_meeting_low", "days_meeting_high", "shortfall_low",
                                                      "shortfall_high", "attainment_low", "pace_by",
                                                      "pace_needed_low")},
                             "series_editions": " ".join(s["editions"]), "target_edition_id": t["edition_id"],
                             "target_source_url": t["source_url"]})
    return {"by": ledger["by"], "ledger": ledger["series"], "rows": rows,
            "provenance": provenance(store, edition_ids, ledger["definitions"])}


def daily_measures(store: ReadOnlyStore) -> list[str]:
    """Measures published per day at national scope (what the arrests chart can draw)."""
    df = store.warehouse().measures()
    return sorted(df[df.grain == "day"].measure)


def daily(store: ReadOnlyStore, measure: str, shift_days: int) -> dict[str, Any]:
    """One national daily series with dates moved back ``shift_days``, and its ledger entry."""
    if measure not in daily_measures(store):
        raise NotFound(f"no daily series of '{measure}'")
    con = store.ibis()
    df = daily_series(con, shift_days).filter(lambda t: (t.measure == measure) & (t.dims_key == "")).to_pandas()
    ledger = targets_ledger(con)
    entry = next((s for s in ledger["series"] if s["measure"] == measure and s["dims_key"] == ""), None)
    if df.empty or entry is None:
        raise NotFound(f"no national daily series of '{measure}'")
    df = df.sort_values("day")
    rows = frame_rows(df, ["measure", "day", "value", "unit", "edition_id", "synthetic"])
    for r in rows:
        r["shift_days"] = shift_days
    return {"measure": measure, "shift_days": shift_days, "series": entry, "rows": rows,
            "provenance": provenance(store, list(df.edition_id) + [t["edition_id"] for t in entry["targets"]],
                                     ledger["definitions"])}


# -- detention workbooks ----------------------------------------------------------------------------------
def _fiscal_year(dates: pd.Series) -> pd.Series:
    d = pd.to_datetime(dates)
    return d.dt.year + (d.dt.month >= 10).astype(int)


def detention(store: ReadOnlyStore, table: str, fiscal_year: int | None, agency: str | None) -> dict[str, Any]:
    """One workbook table (latest vintage unless the table is per edition), optionally one fiscal year."""
    con = store.ibis()
    if table == "book_ins":
        df, date_col = det.book_ins_by_agency(con).to_pandas(), "month"
        if agency:
            df = df[df.agency == agency]
        df = df.drop(columns=["dims_key"])
    elif table == "book_outs":
        df, date_col = det.book_outs_by_reason(con).to_pandas(), "month"
    elif table == "removal_share":
        df, date_col = det.removal_share(con).to_pandas(), "month"
    elif table == "detained":
        df, date_col = det.detained_snapshots(con).to_pandas(), "as_of_date"
    elif table == "adp":
        df = det.latest_monthly(con, "adp", {"agency": agency or "Total", "criminality": "Total"}).to_pandas()
        df, date_col = df.drop(columns=["dims"]), "month"
    elif table == "funded_beds":
        df, date_col = det.funded_beds(con).to_pandas(), "period_end"
    else:
        df, date_col = det.removals_to_date(con).to_pandas(), "as_of_date"
    if fiscal_year is not None and not df.empty:
        df = df[_fiscal_year(df[date_col]) == fiscal_year]
    return {"table": table, "fiscal_year": fiscal_year, "agency": agency, "rows": frame_rows(df),
            "provenance": provenance(store, df.edition_id, det.__doc__.strip())}


def fiscal_years(store: ReadOnlyStore) -> list[int]:
    df = det.book_ins_by_agency(store.ibis()).to_pandas()
    return sorted(set(int(y) for y in _fiscal_year(df.month)))


# -- outcomes (person-level releases, published with suppression) ----------------------------------------
NO_PERSON_DATA = ("No person-level records are loaded in this warehouse, so there are no outcome tables. "
                  "Load a release with `icetrack ingest FILE` (or a synthetic one: `icetrack synth` then "
                  "`icetrack ingest`).")


def _person_tables(store: ReadOnlyStore):
    try:
        return duckdb_tables(store.warehouse())
    except EngineError:
        return None


def has_person_data(store: ReadOnlyStore) -> bool:
    return has_person_tables(store.warehouse())


def _person_editions(store: ReadOnlyStore) -> list[str]:
    return [r[0] for r in store.warehouse().con.execute("SELECT edition_id FROM person_files").fetchall()]


def funnel(store: ReadOnlyStore, period: str, breakdown: str | None, threshold: int) -> dict[str, Any]:
    pt = _person_tables(store)
    if pt is None:
        return {"rows": [], "message": NO_PERSON_DATA, "result": None,
                "provenance": provenance(store, [], None, threshold=threshold)}
    if breakdown is not None and period != "month":
        # Day or week cohorts split by group are mostly small cells, and suppressing tables of that size
        # takes minutes: breakdowns are published for month cohorts.
        raise InvalidParameters(f"a breakdown by {breakdown} is published for month cohorts only (period=month)")
    result = published_funnel(pt, period, breakdown, threshold)
    return {"result": result, "rows": funnel_rows(result), "message": None,
            "provenance": provenance(store, _person_editions(store), result["definitions"],
                                     threshold=threshold, releases=[{k: r.get(k) for k in ("release_id", "cutoff",
                                                                                          "synthetic")}
                                                                    for r in result["releases"]])}


def survival(store: ReadOnlyStore, origin: str, breakdown: str | None, threshold: int) -> dict[str, Any]:
    """Published survival (both curves: the estimators run once); :func:`survival_curve` flattens one."""
    pt = _person_tables(store)
    if pt is None:
        return {"rows": [], "message": NO_PERSON_DATA, "result": None,
                "provenance": provenance(store, [], None, threshold=threshold)}
    try:
        result = published_survival(pt, origin, breakdown, threshold)
    except ValueError as e:  # a breakdown the origin does not support
        raise InvalidParameters(str(e)) from None
    return {"result": result, "message": None,
            "provenance": provenance(store, _person_editions(store), result["definitions"], threshold=threshold,
                                     releases=[{"release_id": k, **v} for k, v in result["releases"].items()])}


def survival_curve(survival_result: dict[str, Any], curve: str) -> dict[str, Any]:
    rows = [] if survival_result["result"] is None else survival_rows(survival_result["result"], curve)
    return {**survival_result, "curve": curve, "rows": rows}


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by null at any depth (they are not JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def json_bytes(result: dict[str, Any]) -> bytes:
    return json.dumps(finite(result), default=str, allow_nan=False).encode()


def as_csv_cell(v: Any) -> Any:
    return json.dumps(v) if isinstance(v, (dict, list)) else v
