"""Charts: a figure's Vega-Lite spec with its source note (json), rendered offline (png, svg), or its data as a
Datawrapper-ready CSV (``/api/charts/{chart}.csv``)."""

from __future__ import annotations

from typing import Any, get_args

from fastapi import APIRouter, Depends, HTTPException, Path as PathParam, Query
from fastapi.responses import Response

from icetrack.web.charts import chart_answer, datawrapper_response, image, named_csv
from icetrack.web.params import (ARRESTS_PER_DAY, BEDS, beds_value, DAYS, FISCAL_YEAR, SHIFT, STAY_DAYS, THRESHOLD, Agency,
                                 Breakdown, ChartFormat, ChartName, Origin, Period, Threshold, Verdict)
from icetrack.web.serialize import json_bytes
from icetrack.web.service import Service, service

router = APIRouter()
CHART_NAMES = get_args(ChartName)


def _filters(chart: str, q: dict[str, Any]) -> dict[str, Any]:
    """The parameters that chart ``chart`` uses (the others are ignored, so they do not split the cache)."""
    survival = {"origin": q["origin"], "breakdown": q["breakdown"], "threshold": q["threshold"]}
    return {"picture": {},
            "arrests": {"measure": q["measure"], "shift": q["shift"]},
            "book_ins": {"fiscal_year": q["fiscal_year"], "agency": q["agency"]},
            "book_outs": {"fiscal_year": q["fiscal_year"]},
            "detained": {"fiscal_year": q["fiscal_year"]},
            "funnel": {"period": q["period"], "breakdown": q["breakdown"], "threshold": q["threshold"]},
            "km": survival, "cif": survival,
            "claims": {"verdict": q["verdict"]},
            "capacity": {k: q[k] for k in ("arrests_per_day", "beds", "stay_days", "days")},
            "evaluation_coverage": {}, "evaluation_errors": {}}[chart]


def chart_query(measure: str = Query("ice_posted_arrests", min_length=1, max_length=80), shift: int = SHIFT,
                fiscal_year: int | None = FISCAL_YEAR, agency: Agency | None = None, period: Period = "month",
                breakdown: Breakdown | None = None, origin: Origin = "arrest", threshold: Threshold = THRESHOLD,
                verdict: Verdict | None = None, arrests_per_day: int = ARRESTS_PER_DAY, beds: str | None = BEDS,
                stay_days: float | None = STAY_DAYS, days: int = DAYS) -> dict[str, Any]:
    """The filters any chart may take (each chart uses its own: :func:`_filters`)."""
    return {"measure": measure, "shift": shift, "fiscal_year": fiscal_year, "agency": agency, "period": period,
            "breakdown": breakdown, "origin": origin, "threshold": int(threshold), "verdict": verdict,
            "arrests_per_day": arrests_per_day, "beds": beds_value(beds), "stay_days": stay_days, "days": days}


# Registered before /api/charts/{chart}, whose path would otherwise take "book_ins.csv" as a chart name.
@router.get("/api/charts/{chart}.csv", tags=["charts"],
            summary="A chart's data as a Datawrapper-ready CSV: the x values, then one column per series, and the "
                    "chart's title, source and notes in a last 'Source' column")
async def api_chart_csv(chart: str = PathParam(..., min_length=1, max_length=40,
                                               description="a chart name, as /api/charts/{chart} takes"),
                        query: dict[str, Any] = Depends(chart_query), svc: Service = Depends(service)) -> Response:
    if chart not in CHART_NAMES:
        raise HTTPException(404, f"no chart '{chart[:40]}' (charts: {', '.join(CHART_NAMES)})")
    filters = _filters(chart, query)
    compute = lambda: chart_answer(svc, chart, filters)  # noqa: E731
    return datawrapper_response(await svc.body("chart", {"chart": chart, **filters}, compute, "datawrapper-csv",
                                               named_csv))


@router.get("/api/charts/{chart}", tags=["charts"],
            summary="A chart: Vega-Lite spec with its source note (json), or rendered (png, svg)")
async def api_chart(chart: ChartName, query: dict[str, Any] = Depends(chart_query), format: ChartFormat = "json",
                    svc: Service = Depends(service)) -> Response:
    filters = _filters(chart, query)
    compute = lambda: chart_answer(svc, chart, filters)  # noqa: E731
    params = {"chart": chart, **filters}
    if format == "json":
        return Response(await svc.body("chart", params, compute, format, json_bytes), media_type="application/json")
    body = await svc.body("chart", params, compute, format, lambda answer: image(answer, format))
    return Response(body, media_type="image/png" if format == "png" else "image/svg+xml",
                    headers={"Content-Disposition": f'attachment; filename="icetrack-{chart}.{format}"'})
