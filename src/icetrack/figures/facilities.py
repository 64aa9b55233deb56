"""Facility history: the facilities of every loaded edition (table), one facility's figures edition by edition
(a line chart), and the latest edition's ADP by state (a choropleth drawn offline from the Census state
boundaries that an installed package ships, :mod:`icetrack.sources.state_boundaries`)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from icetrack.figures.charts import WIDTH, NothingToDraw, title
from icetrack.figures.result import NotFound, Result, json_value, provenance
from icetrack.metrics import facilities as fm
from icetrack.sources.state_boundaries import SOURCE as BOUNDARY_SOURCE, state_features

NO_FACILITY_DATA = ("No workbook with a Facilities sheet is loaded: the bundled national figures hold no facility "
                    "rows. Load ICE's detention-statistics workbooks (https://www.ice.gov/detain/"
                    "detention-management) with `icetrack ingest <workbooks>`.")
DEFINITION = (
    "Facilities listed in ICE's detention-statistics workbooks (Facilities sheet; only facilities holding at "
    "least one person at the data pull, without hold rooms, hospitals and juvenile facilities in recent "
    "editions). ADP is the fiscal-year-to-date average daily population: the sum of the four security-level "
    "columns (Level A-D), which the criminality and threat-level columns also add up to. ALOS is the "
    "fiscal-year-to-date average length of stay in days. The guaranteed minimum is the contract's number of "
    "beds paid for whether used or not. A facility is its normalised name and state across editions; renames "
    "and merges come only from icetrack's curated list, each with its evidence.")
MAP_TERRITORIES_NOTE = ("Puerto Rico, Guam and the Northern Mariana Islands are not drawn (Albers USA projection); "
                        "their facilities are in the table.")


def _check_loaded(data: fm.FacilityHistory) -> None:
    if not data.records:
        raise NotFound(NO_FACILITY_DATA)


def _rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (", ".join(v) if isinstance(v, list) else json_value(v)) for k, v in r.items()} for r in rows]


def facilities(wh, state: str | None = None, data: fm.FacilityHistory | None = None) -> Result:
    """Every facility of the loaded editions (optionally of one state), its latest listing and figures, and
    the rename candidates no curated record confirms. NotFound when no facility row is loaded, or the state
    has none."""
    data = data or fm.load(wh)
    _check_loaded(data)
    known = fm.states(data)
    if state is not None and state.upper() not in known:
        raise NotFound(f"no facility listed in state '{state}' (states with facilities: {', '.join(known)})")
    rows = fm.table(data, state)
    latest = fm.latest_edition(data)
    edition_ids = {e for r in data.records.values() for e in r.editions}
    return Result(_rows(rows), provenance(wh, edition_ids, DEFINITION),
                  detail={"state": state.upper() if state else None, "states": known,
                          "n_facilities": len(rows), "latest_edition": _json(latest),
                          "has_listings": data.has_listings, "by_state": _json(fm.by_state(data)),
                          "renames": fm.renames(data), "candidates": fm.candidates(data)})


def facility(wh, facility_id: str, data: fm.FacilityHistory | None = None) -> Result:
    """One facility's figures in every edition listing it, oldest first, with what it is called now, the
    names it was printed under and the curated renames that join them."""
    data = data or fm.load(wh)
    _check_loaded(data)
    try:
        fid = data.resolve(facility_id)
    except fm.UnknownFacility as e:
        raise NotFound(str(e)) from None
    rows = fm.history(data, fid)
    summary = next(r for r in fm.table(data) if r["facility_id"] == fid)
    candidates = [c for c in fm.candidates(data) if fid in (c["old_id"], c["new_id"])]
    return Result(_rows(rows), provenance(wh, [r["edition_id"] for r in rows], DEFINITION),
                  detail={"facility_id": fid, "requested_id": facility_id, "facility": _rows([summary])[0],
                          "renames": fm.renames(data, fid), "candidates": candidates})


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return json_value(value)


def history_spec(result: Result) -> alt.TopLevelMixin:
    """A facility's ADP in each edition: one line per fiscal year (each point is that year's average so far,
    so the line restarts every October)."""
    frame = pd.DataFrame([r for r in result.rows if r.get("adp") is not None])
    if frame.empty:
        raise NothingToDraw("no ADP figure for this facility")
    name = result.detail["facility"]["name"]
    frame["fiscal_year"] = "FY" + frame["fiscal_year"].astype(str)
    base = alt.Chart(frame).encode(
        x=alt.X("as_of:T", title="Edition's data date", axis=alt.Axis(format="%b %Y", labelOverlap="greedy")),
        y=alt.Y("adp:Q", title="Average daily population, fiscal year to date"),
        color=alt.Color("fiscal_year:N", title="Fiscal year"),
        tooltip=[alt.Tooltip("as_of:T", title="as of"), alt.Tooltip("adp:Q", format=",.1f", title="ADP"),
                 alt.Tooltip("alos:Q", format=",.1f", title="ALOS (days)"),
                 alt.Tooltip("guaranteed_minimum:Q", format=",", title="guaranteed minimum"),
                 alt.Tooltip("name:N", title="printed as"), alt.Tooltip("file_name:N", title="edition")])
    chart = (base.mark_line() + base.mark_point(filled=True)).properties(
        width=WIDTH, height=280,
        title=title(f"{name}: average daily population in each edition",
                    "Each point is the fiscal year's average so far as of the edition's date; a new fiscal year "
                    "starts a new line."))
    return chart


def state_map_spec(result: Result) -> alt.TopLevelMixin:
    """The latest edition's ADP by state on a U.S. map (Albers USA), states without a listed facility grey."""
    by_state = [r for r in result.detail["by_state"] if r["adp"]]
    if not by_state:
        raise NothingToDraw("no facility ADP in the latest edition")
    latest = result.detail["latest_edition"]
    states = alt.Data(values=list(state_features()))
    values = [{"state": r["state"], "adp": round(r["adp"], 1), "facilities": r["facilities"]} for r in by_state]
    base = alt.Chart(states).mark_geoshape(stroke="white", strokeWidth=0.5, fill="#e5e7eb")
    filled = alt.Chart(states).mark_geoshape(stroke="white", strokeWidth=0.5).transform_lookup(
        lookup="properties.state", from_=alt.LookupData(alt.Data(values=values), "state", ["adp", "facilities"])
    ).transform_filter("isValid(datum.adp)").encode(
        color=alt.Color("adp:Q", title="ADP", scale=alt.Scale(scheme="blues", type="sqrt", zero=True)),
        tooltip=[alt.Tooltip("properties.name:N", title="state"), alt.Tooltip("adp:Q", format=",.1f", title="ADP"),
                 alt.Tooltip("facilities:Q", title="facilities listed")])
    chart = (base + filled).project(type="albersUsa").properties(
        width=WIDTH, height=400,
        title=title(f"Average daily population in listed facilities by state, as of {latest['as_of']}",
                    f"Fiscal year to date, edition {latest['file_name']}; grey: no facility listed.",
                    MAP_TERRITORIES_NOTE, f"Boundaries: {BOUNDARY_SOURCE}."))
    return chart


def load_data(wh) -> fm.FacilityHistory:
    """Every facility row of the warehouse grouped by facility (one load serves the table, the map and every
    facility's history)."""
    return fm.load(wh)


def chart_answer(result: Result, chart: str) -> dict[str, Any]:
    """A facility chart as the dashboard draws it: the Vega-Lite spec ('map' or 'history'), its source note and
    provenance; spec None with a message when there is nothing to draw."""
    from icetrack.figures.charts import spec as themed
    from icetrack.figures.result import source_note

    build = state_map_spec if chart == "map" else history_spec
    try:
        spec, message = themed(build(result)), None
    except NothingToDraw as e:
        spec, message = None, str(e)
    return {"chart": chart, "spec": spec, "message": message, "source_note": source_note(result.provenance),
            "provenance": result.provenance}
