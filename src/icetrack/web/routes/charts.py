"""Charts: a figure's Vega-Lite spec with its source note (json), or rendered offline (png, svg)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from icetrack.figures.charts import render
from icetrack.web.charts import chart_answer
from icetrack.web.params import (ARRESTS_PER_DAY, BEDS, beds_value, DAYS, FISCAL_YEAR, SHIFT, STAY_DAYS, THRESHOLD, Agency,
                                 Breakdown, ChartFormat, ChartName, Origin, Period, Threshold, Verdict)
from icetrack.web.serialize import json_bytes
from icetrack.web.service import Service, service

router = APIRouter()


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


def _image(answer: dict[str, Any], fmt: str) -> bytes:
    if answer["spec"] is None:
        raise HTTPException(404, answer["message"])
    image = render(answer["spec"], fmt)
    return image.encode() if isinstance(image, str) else image


@router.get("/api/charts/{chart}", tags=["charts"],
            summary="A chart: Vega-Lite spec with its source note (json), or rendered (png, svg)")
async def api_chart(chart: ChartName, measure: str = Query("ice_posted_arrests", min_length=1, max_length=80),
                    shift: int = SHIFT, fiscal_year: int | None = FISCAL_YEAR, agency: Agency | None = None,
                    period: Period = "month", breakdown: Breakdown | None = None, origin: Origin = "arrest",
                    threshold: Threshold = THRESHOLD, verdict: Verdict | None = None,
                    arrests_per_day: int = ARRESTS_PER_DAY, beds: str | None = BEDS,
                    stay_days: float | None = STAY_DAYS, days: int = DAYS,
                    format: ChartFormat = "json", svc: Service = Depends(service)) -> Response:
    query = dict(locals())
    query["threshold"] = int(threshold)
    query["beds"] = beds_value(beds)
    filters = _filters(chart, query)
    compute = lambda: chart_answer(svc, chart, filters)  # noqa: E731
    params = {"chart": chart, **filters}
    if format == "json":
        return Response(await svc.body("chart", params, compute, format, json_bytes), media_type="application/json")
    body = await svc.body("chart", params, compute, format, lambda answer: _image(answer, format))
    return Response(body, media_type="image/png" if format == "png" else "image/svg+xml",
                    headers={"Content-Disposition": f'attachment; filename="icetrack-{chart}.{format}"'})
