"""The JSON API: every endpoint answers one figure's Result as JSON or, with ``format=csv``, its rows."""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

from fastapi import APIRouter, Depends, HTTPException, Path as PathParam, Query
from fastapi.responses import Response

from icetrack.figures.ledger import document
from icetrack.metrics.revisions import parse_period
from icetrack.web.params import (AGENCY_DIM, ARRESTS_PER_DAY, BEDS, BY, DAYS, DIMS, FISCAL_YEAR, FORMAT, LEDGER_BY,
                                 LEDGER_GRAIN, LEDGER_SERIES, LEDGER_TARGET, MEASURE, SHIFT, SINCE, STAY_DAYS,
                                 THRESHOLD, Agency, Breakdown, DetentionTable, Format, Grain, Origin, Period, SolveFor,
                                 Threshold, Verdict, beds_value, parse_dims, parse_ids)
from icetrack.web.charts import datawrapper_response, image, named_csv
from icetrack.web.serialize import json_bytes
from icetrack.web.service import Service, service

router = APIRouter(prefix="/api")


@router.get("/sources", tags=["sources"], summary="Every loaded edition with its provenance")
async def api_sources(format: Format = FORMAT, svc: Service = Depends(service)) -> Response:
    return await svc.table("sources", {}, format)


@router.get("/measures", tags=["sources"], summary="Measures in the warehouse with their definitions")
async def api_measures(format: Format = FORMAT, svc: Service = Depends(service)) -> Response:
    return await svc.table("measures", {}, format)


@router.get("/series/{measure}", tags=["series"], summary="One measure's figures, any vintage")
async def api_series(measure: str = MEASURE,
                     vintage: str = Query("latest", min_length=1, max_length=80,
                                          description="latest, all, or an edition id"),
                     dim: list[str] = DIMS, agency: str | None = AGENCY_DIM, grain: Grain | None = None,
                     start: date | None = None, end: date | None = None, format: Format = FORMAT,
                     svc: Service = Depends(service)) -> Response:
    params = {"measure": measure, "vintage": vintage, "dims": parse_dims(dim, agency), "grain": grain,
              "start": start, "end": end}
    return await svc.table("series", params, format)


@router.get("/revisions/{measure}", tags=["series"], summary="How one figure changed from edition to edition")
async def api_revisions(measure: str = MEASURE,
                        period: str = Query(..., min_length=4, max_length=10,
                                            description="YYYY-MM, YYYY-MM-DD or FYyyyy"),
                        dim: list[str] = DIMS, agency: str | None = AGENCY_DIM, format: Format = FORMAT,
                        svc: Service = Depends(service)) -> Response:
    dims = parse_dims(dim, agency)
    try:
        parse_period(period)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None
    return await svc.table("revisions", {"measure": measure, "period": period, "dims": dims}, format)


@router.get("/targets", tags=["targets"],
            summary="The targets ledger: each series, period by period, against the target in force")
async def api_targets(grain: str = LEDGER_GRAIN, series: list[str] = LEDGER_SERIES, target: list[str] = LEDGER_TARGET,
                      since: date | None = SINCE, by: date | None = LEDGER_BY, format: Format = FORMAT,
                      svc: Service = Depends(service)) -> Response:
    # JSON: the document `icetrack targets --json` prints; CSV: one row per series, target track and period
    params = {"grain": grain, "series": parse_ids(series, "series"), "targets": parse_ids(target, "target"),
              "since": since, "by": by}
    return await svc.table("ledger", params, format, as_json=document, cache=since is None and by is None)


@router.get("/targets/daily", tags=["targets"], summary="Every daily series scored against every target (January 2025)")
async def api_targets_daily(by: date | None = BY, format: Format = FORMAT, svc: Service = Depends(service)) -> Response:
    # an answer for a given horizon is derived from the cached ledger in milliseconds: caching one per date would
    # let a client push the costly entries out of the cache
    return await svc.table("targets", {"by": by}, format, cache=by is None)


@router.get("/picture", tags=["targets"],
            summary="The monthly picture: ICE arrests per day since October 2023 against the goal in force")
async def api_picture(format: Format = FORMAT, svc: Service = Depends(service)) -> Response:
    return await svc.table("picture", {}, format)


@router.get("/daily/{measure}", tags=["targets"], summary="A national daily series with its targets")
async def api_daily(measure: str = MEASURE, shift: int = SHIFT, format: Format = FORMAT,
                    svc: Service = Depends(service)) -> Response:
    return await svc.table("daily", {"measure": measure, "shift": shift}, format)


@router.get("/detention/{table}", tags=["detention"], summary="ICE detention workbook tables (latest vintage)")
async def api_detention(table: DetentionTable, fiscal_year: int | None = FISCAL_YEAR, agency: Agency | None = None,
                        format: Format = FORMAT, svc: Service = Depends(service)) -> Response:
    return await svc.table("detention", {"table": table, "fiscal_year": fiscal_year, "agency": agency}, format)


@router.get("/outcomes/funnel", tags=["outcomes"], summary="State of each arrest cohort at the cut-off")
async def api_funnel(period: Period = "month", breakdown: Breakdown | None = None, threshold: Threshold = THRESHOLD,
                     format: Format = FORMAT, svc: Service = Depends(service)) -> Response:
    return await svc.table("funnel", {"period": period, "breakdown": breakdown, "threshold": int(threshold)}, format)


@router.get("/outcomes/survival", tags=["outcomes"], summary="Time to removal (KM) or to each outcome (CIF)")
async def api_survival(curve: Literal["km", "cif"] = "cif", origin: Origin = "arrest",
                       breakdown: Breakdown | None = None, threshold: Threshold = THRESHOLD,
                       format: Format = FORMAT, svc: Service = Depends(service)) -> Response:
    params = {"curve": curve, "origin": origin, "breakdown": breakdown, "threshold": int(threshold)}
    return await svc.table("survival", params, format)


@router.get("/claims", tags=["claims"], summary="Public claims checked against the figures")
async def api_claims(verdict: Verdict | None = None, format: Format = FORMAT,
                     svc: Service = Depends(service)) -> Response:
    return await svc.table("claims", {"verdict": verdict}, format)


@router.get("/capacity/calibration", tags=["capacity"], summary="Capacity model calibrated to the workbooks")
async def api_calibration(format: Format = FORMAT, svc: Service = Depends(service)) -> Response:
    return await svc.table("calibration", {}, format)


@router.get("/capacity/projection", tags=["capacity"], summary="Detained population under chosen inputs")
async def api_projection(arrests_per_day: int = ARRESTS_PER_DAY, beds: str | None = BEDS,
                         stay_days: float | None = STAY_DAYS, days: int = DAYS, format: Format = FORMAT,
                         svc: Service = Depends(service)) -> Response:
    params = {"arrests_per_day": arrests_per_day, "beds": beds_value(beds), "stay_days": stay_days, "days": days}
    return await svc.table("projection", params, format)


@router.get("/capacity/evaluation", tags=["capacity"],
            summary="How far the capacity model's projections can be trusted: its rolling-origin evaluation")
async def api_evaluation(format: Format = FORMAT, svc: Service = Depends(service)) -> Response:
    # JSON: the whole evaluation (origins, scores per horizon and target, verdicts, coverage, every scored
    # forecast); CSV: one row per target and horizon
    return await svc.table("evaluation", {}, format)


@router.get("/capacity/goal-seek", tags=["capacity"],
            summary="The arrests per day, beds or mean stay that reach a yearly removals goal in steady state")
async def api_goal_seek(removals_per_year: int = Query(..., ge=0, le=10_000_000),
                        solve_for: SolveFor = "arrests_per_day",
                        arrests_per_day: int | None = Query(None, ge=1, le=20_000,
                                                            description="held fixed (default: today's rate)"),
                        beds: int | None = Query(None, ge=1, le=500_000,
                                                 description="held fixed (default: funded beds)"),
                        stay_days: float | None = STAY_DAYS, format: Format = FORMAT,
                        svc: Service = Depends(service)) -> Response:
    params = {"removals_per_year": removals_per_year, "solve_for": solve_for, "arrests_per_day": arrests_per_day,
              "beds": beds, "stay_days": stay_days}
    return await svc.table("goal-seek", params, format)


FACILITY_ID = PathParam(..., min_length=3, max_length=160, pattern=r"^[a-z0-9][a-z0-9-]*$",
                        description="a facility id from /api/facilities (a former id of a renamed facility works too)")
STATE = Query(None, min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$", description="two-letter state code")
FacilityChart = Literal["map", "history"]
FACILITY_CHARTS = get_args(FacilityChart)


@router.get("/facilities", tags=["facilities"],
            summary="Every facility of the loaded workbook editions, one row per facility across editions")
async def api_facilities(state: str | None = STATE, format: Format = FORMAT,
                         svc: Service = Depends(service)) -> Response:
    # JSON: rows (one per facility: latest listing, ADP as of it), states, by_state (the latest edition's ADP per
    # state), the curated renames applied and the rename candidates left unconfirmed
    return await svc.table("facilities", {"state": state.upper() if state else None}, format)


@router.get("/facilities/{facility_id}", tags=["facilities"],
            summary="One facility's figures in every edition listing it, with its renames and their evidence")
async def api_facility(facility_id: str = FACILITY_ID, format: Format = FORMAT,
                       svc: Service = Depends(service)) -> Response:
    return await svc.table("facility", {"facility_id": facility_id}, format)


# Registered before /facility-charts/{chart}, whose path would otherwise take "map.csv" as a chart name.
@router.get("/facility-charts/{chart}.csv", tags=["facilities"],
            summary="The facility state map's or one facility's history's data as a Datawrapper-ready CSV")
async def api_facility_chart_csv(chart: str = PathParam(..., min_length=1, max_length=40,
                                                        description="map or history"),
                                 facility: str | None = Query(None, min_length=3, max_length=160,
                                                              pattern=r"^[a-z0-9][a-z0-9-]*$"),
                                 svc: Service = Depends(service)) -> Response:
    if chart not in FACILITY_CHARTS:
        raise HTTPException(404, f"no facility chart '{chart[:40]}' (charts: {', '.join(FACILITY_CHARTS)})")
    if chart == "history" and facility is None:
        raise HTTPException(422, "the history chart needs facility=ID")
    facility_id = facility if chart == "history" else None
    compute = lambda: svc.facility_chart(chart, facility_id)  # noqa: E731
    return datawrapper_response(await svc.body("facility-chart-body", {"chart": chart, "facility_id": facility_id},
                                               compute, "datawrapper-csv", named_csv))


@router.get("/facility-charts/{chart}", tags=["facilities"],
            summary="The facility state map or one facility's ADP history: Vega-Lite spec (json) or png/svg")
async def api_facility_chart(chart: FacilityChart,
                             facility: str | None = Query(None, min_length=3, max_length=160,
                                                          pattern=r"^[a-z0-9][a-z0-9-]*$"),
                             format: Literal["json", "png", "svg"] = "json",
                             svc: Service = Depends(service)) -> Response:
    if chart == "history" and facility is None:
        raise HTTPException(422, "the history chart needs facility=ID")
    facility_id = facility if chart == "history" else None
    compute = lambda: svc.facility_chart(chart, facility_id)  # noqa: E731
    params = {"chart": chart, "facility_id": facility_id}
    if format == "json":
        body = await svc.body("facility-chart-body", params, compute, format, json_bytes)
        return Response(body, media_type="application/json")
    body = await svc.body("facility-chart-body", params, compute, format, lambda answer: image(answer, format))
    return Response(body, media_type="image/png" if format == "png" else "image/svg+xml",
                    headers={"Content-Disposition": f'attachment; filename="icetrack-facility-{chart}.{format}"'})
