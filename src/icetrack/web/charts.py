"""The dashboard's charts: which figure each draws, with which spec builder, and where its CSV is.

A chart answer is the Vega-Lite spec (the figure's own builder, shared with the report), the figure's source
note and provenance, and a link to the same rows as CSV; spec None with a message when nothing is published.
Its Datawrapper CSV (:func:`datawrapper_csv`) is read off the same spec, so it holds what the chart draws.
"""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlencode

from fastapi import HTTPException
from fastapi.responses import Response

from icetrack.figures import arrests, capacity, charts, claims, datawrapper, detention, evaluation, outcomes
from icetrack.figures import ledger as targets_ledger
from icetrack.figures.result import Result, provenance, source_note
from icetrack.web.service import Service

EVALUATION_CHARTS = {"evaluation_coverage": evaluation.calibration_spec, "evaluation_errors": evaluation.error_spec}
DETENTION_CHARTS = {"book_ins": (["book_ins"], detention.book_ins_spec),
                    "book_outs": (["book_outs", "removal_share"], detention.book_outs_spec),
                    "detained": (["detained", "adp", "funded_beds"], detention.detained_spec)}


def _detention(svc: Service, chart: str, filters: dict[str, Any]) -> tuple[list[Result], Callable, str, dict]:
    tables, build = DETENTION_CHARTS[chart]
    # the funded-beds line is drawn whatever fiscal year is chosen
    results = [svc.detention(t, None if t == "funded_beds" else filters["fiscal_year"], filters.get("agency"))
               for t in tables]
    return results, build, f"/api/detention/{tables[0]}", filters


def _sources(svc: Service, chart: str, f: dict[str, Any]) -> tuple[list[Result], Callable, str, dict]:
    """The figure results a chart draws, its spec builder, and the API endpoint and parameters of its CSV."""
    if chart == "picture":
        return [svc.picture()], targets_ledger.picture_spec, "/api/picture", {}
    if chart == "arrests":
        return [svc.daily(f["measure"], f["shift"])], arrests.spec, f"/api/daily/{f['measure']}", {"shift": f["shift"]}
    if chart in DETENTION_CHARTS:
        return _detention(svc, chart, f)
    if chart == "funnel":
        return [svc.funnel(**f)], outcomes.funnel_spec, "/api/outcomes/funnel", f
    if chart in ("km", "cif"):
        params = {"curve": chart, **f}
        return [svc.survival(**params)], outcomes.survival_spec, "/api/outcomes/survival", params
    if chart == "claims":
        return [svc.claims(f["verdict"])], claims.spec, "/api/claims", f
    if chart in EVALUATION_CHARTS:
        return [svc.evaluation()], EVALUATION_CHARTS[chart], "/api/capacity/evaluation", {}
    return [svc.projection(**f)], capacity.projection_spec, "/api/capacity/projection", f


def chart_answer(svc: Service, chart: str, filters: dict[str, Any]) -> dict[str, Any]:
    """Spec, source note and data link of one chart (from the same cache entries as its API endpoint)."""
    results, build, data_url, data_params = _sources(svc, chart, filters)
    message = next((r.message for r in results if r.message), None)
    if len(results) == 1:
        prov = results[0].provenance
    else:
        prov = provenance(svc.wh(), [r["edition_id"] for r in (row for res in results for row in res.rows)])
    spec = None
    if not message:
        try:
            spec = charts.spec(build(*results))
        except charts.NothingToDraw as e:
            message = str(e)
    query = urlencode({**{k: v for k, v in data_params.items() if v is not None}, "format": "csv"})
    return {"chart": chart, "filters": filters, "spec": spec, "message": message,
            "source_note": source_note(prov) if prov["editions"] else (message or "No source editions."),
            "provenance": prov, "csv_url": f"{data_url}?{query}"}


def datawrapper_csv(answer: dict[str, Any]) -> tuple[str, str]:
    """The file name and text of a chart answer's Datawrapper-ready CSV (the answer must have a spec), titled
    and sourced as the chart is: its own title, the editions of its provenance."""
    title = datawrapper.chart_title(answer["spec"])
    prov = answer["provenance"]
    text = datawrapper.csv_text(answer["spec"], prov["editions"], title, bool(prov.get("synthetic")))
    return datawrapper.file_name(title), text


def image(answer: dict[str, Any], fmt: str) -> bytes:
    """A chart answer drawn as PNG or SVG bytes; HTTPException 404 with the chart's message when it draws
    nothing."""
    if answer["spec"] is None:
        raise HTTPException(404, answer["message"])
    drawn = charts.render(answer["spec"], fmt)
    return drawn.encode() if isinstance(drawn, str) else drawn


def datawrapper_response(body: bytes) -> Response:
    """The download of a cached :func:`named_csv` body."""
    name, _, text = body.partition(b"\n")
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name.decode()}"'})


def named_csv(answer: dict[str, Any]) -> bytes:
    """A chart answer's Datawrapper CSV as one response body to cache: the file name, a newline, then the CSV (a
    slug holds no newline). HTTPException 404 with the chart's message when it draws nothing."""
    if answer["spec"] is None:
        raise HTTPException(404, answer["message"])
    name, text = datawrapper_csv(answer)
    return f"{name}\n{text}".encode()
