"""The dashboard and JSON API: a FastAPI app over a read-only connection to the warehouse.

Every parameter is validated (enums, dates, bounded integers, names checked against the warehouse) and
used only as a value: no endpoint takes SQL or an expression. Every table endpoint answers JSON or, with
``format=csv``, the same rows as CSV. Results are cached per (endpoint, parameters, warehouse file version).
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from datetime import date
from enum import IntEnum
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Literal
from urllib.parse import urlencode

import jinja2
import pandas as pd
from fastapi import FastAPI, HTTPException, Path as PathParam, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from icetrack import __version__, claims
from icetrack.metrics.outcomes import BREAKDOWNS, PERIODS
from icetrack.metrics.publish import DEFAULT_THRESHOLD
from icetrack.metrics.revisions import parse_period
from icetrack.model import capacity
from icetrack.warehouse import default_warehouse_path
from icetrack.web import charts, data
from icetrack.web.store import ReadOnlyStore, ResponseCache

Format = Literal["json", "csv"]
ChartFormat = Literal["json", "png", "svg"]
Breakdown = Literal[tuple(BREAKDOWNS)]  # type: ignore[valid-type]
Period = Literal[tuple(PERIODS)]  # type: ignore[valid-type]
Origin = Literal["arrest", "book_in"]
Agency = Literal["ICE", "CBP"]
DetentionTable = Literal[data.DETENTION_TABLES]  # type: ignore[valid-type]
Verdict = Literal["supported", "contradicted", "not checkable", "depends on definition"]
ChartName = Literal["arrests", "book_ins", "book_outs", "detained", "funnel", "km", "cif", "claims", "capacity"]
Grain = Literal["day", "week", "month", "fiscal_year", "fytd", "snapshot", "period"]

FORMAT = Query("json", description="json, or csv for the same rows as a download")
MEASURE = PathParam(..., min_length=1, max_length=80,
                    description="a measure loaded in the warehouse (see /api/measures)")
DIMS = Query([], description="dimension filter NAME=VALUE (repeatable, at most 8); values are matched as text")
AGENCY_DIM = Query(None, max_length=80, description="shorthand for dim=agency=VALUE")


class Threshold(IntEnum):
    """Small-cell suppression thresholds the public API offers.

    Never below the project's default (a user may only suppress more), and a short list rather than any
    integer: each threshold is a separate suppression run (seconds on large tables) and a separate cache
    entry, so an open range would let a client keep the server busy recomputing.
    """

    AT_LEAST_10 = DEFAULT_THRESHOLD
    AT_LEAST_20 = 20
    AT_LEAST_50 = 50
    AT_LEAST_100 = 100


THRESHOLD = Query(Threshold.AT_LEAST_10, description="small-cell suppression threshold: 10 (the default), 20, 50 "
                                                     "or 100; cells below it are suppressed")
FISCAL_YEAR = Query(None, ge=2000, le=2100, description="fiscal year (Oct 1 - Sep 30, named by its end year)")
SHIFT = Query(0, ge=0, le=1, description="move every date back this many days (a post may describe the day before)")
BY = Query(None, description="horizon for 'pace needed' (YYYY-MM-DD)")
ARRESTS_PER_DAY = Query(1200, ge=1, le=20_000, description="ICE arrests per day in the scenario")
BEDS = Query(41_500, ge=1, le=500_000, description="detention beds")
STAY_DAYS = Query(None, ge=1, le=365, description="mean stay in days (default: calibrated from the workbooks)")
DAYS = Query(365, ge=30, le=1095, description="days projected")
DIM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
MAX_DIMS = 8

PAGES = [("/", "Overview"), ("/arrests", "Arrests vs targets"), ("/detention", "Detention"),
         ("/outcomes", "Outcomes"), ("/claims", "Claims"), ("/capacity", "Capacity"), ("/sources", "Sources")]


def _parse_dims(pairs: list[str], agency: str | None) -> dict[str, str]:
    if len(pairs) > MAX_DIMS:
        raise HTTPException(422, f"at most {MAX_DIMS} dim filters")
    dims = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not DIM_NAME.match(name) or len(value) > 200:
            raise HTTPException(422, f"dim '{pair[:60]}' must look like name=value (name: letters, digits, _; "
                                     "value: at most 200 characters)")
        dims[name] = value
    if agency is not None:
        dims["agency"] = agency
    return dims


def _csv(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or ["empty"], lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: data.as_csv_cell(v) for k, v in r.items()} for r in rows)
    return out.getvalue()


def create_app(warehouse_path: str | Path) -> FastAPI:
    """The app over ``warehouse_path``, opened read-only (WarehouseError if it is missing or not loaded)."""
    store = ReadOnlyStore(warehouse_path)
    cache = ResponseCache()
    # no /docs or /redoc: FastAPI's interactive pages load their scripts from a CDN; /openapi.json is served
    app = FastAPI(title="icetrack", version=__version__, docs_url=None, redoc_url=None,
                  description="U.S. immigration enforcement against its announced targets, from the public record. "
                              "Aggregate statistics only; every value carries the edition that published it. "
                              "Add format=csv to any table endpoint for a CSV download.")
    app.state.store, app.state.cache = store, cache
    templates = jinja2.Environment(loader=jinja2.PackageLoader("icetrack.web", "templates"),
                                   autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                                   lstrip_blocks=True)
    app.mount("/static", StaticFiles(directory=str(resources.files("icetrack.web") / "static")), name="static")

    @app.exception_handler(data.NotFound)
    def _not_found(request: Request, exc: data.NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(data.InvalidParameters)
    def _invalid(request: Request, exc: data.InvalidParameters) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(charts.NothingToDraw)
    def _nothing(request: Request, exc: charts.NothingToDraw) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    def cache_key(name: str, params: dict[str, Any]) -> tuple:
        return (name, tuple(sorted((k, json.dumps(v, default=str, sort_keys=True)) for k, v in params.items())),
                store.version())

    def cached(name: str, params: dict[str, Any], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return cache.get_or_compute(cache_key(name, params), compute)

    def cached_body(name: str, params: dict[str, Any], compute: Callable[[], dict[str, Any]], fmt: str,
                    serialize: Callable[[dict[str, Any]], bytes]) -> bytes:
        """The serialized response, cached beside the result it serializes (same key plus the format)."""
        return cache.get_or_compute(cache_key(name, params) + (fmt,),
                                    lambda: serialize(cached(name, params, compute)))

    async def response_body(name: str, params: dict[str, Any], compute: Callable[[], dict[str, Any]], fmt: str,
                            serialize: Callable[[dict[str, Any]], bytes]) -> bytes:
        """Cache hits are answered on the event loop; misses compute in the thread pool (DuckDB, pandas and
        vl-convert block), each thread with its own cursor."""
        found, body = cache.lookup(cache_key(name, params) + (fmt,))
        if found:
            return body
        return await run_in_threadpool(cached_body, name, params, compute, fmt, serialize)

    async def table_response(name: str, params: dict[str, Any], compute: Callable[[], dict[str, Any]],
                             fmt: str) -> Response:
        if fmt == "csv":
            body = await response_body(name, params, compute, fmt, lambda r: _csv(r["rows"]).encode())
            return Response(body, media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="icetrack-{name}.csv"'})
        body = await response_body(name, params, compute, fmt, data.json_bytes)
        return Response(body, media_type="application/json")

    # -- JSON API ---------------------------------------------------------------------------------------
    @app.get("/api/sources", tags=["sources"], summary="Every loaded edition with its provenance")
    async def api_sources(format: Format = FORMAT) -> Response:
        return await table_response("sources", {}, lambda: data.sources(store), format)

    @app.get("/api/measures", tags=["sources"], summary="Measures in the warehouse with their definitions")
    async def api_measures(format: Format = FORMAT) -> Response:
        return await table_response("measures", {}, lambda: data.measures(store), format)

    @app.get("/api/series/{measure}", tags=["series"], summary="One measure's figures, any vintage")
    async def api_series(measure: str = MEASURE,
                         vintage: str = Query("latest", min_length=1, max_length=80,
                                              description="latest, all, or an edition id"),
                         dim: list[str] = DIMS, agency: str | None = AGENCY_DIM, grain: Grain | None = None,
                         start: date | None = None, end: date | None = None, format: Format = FORMAT) -> Response:
        dims = _parse_dims(dim, agency)
        params = {"measure": measure, "vintage": vintage, "dims": dims, "grain": grain, "start": start, "end": end}
        return await table_response("series", params,
                                    lambda: data.series(store, measure, vintage, dims, grain, start, end), format)

    @app.get("/api/revisions/{measure}", tags=["series"], summary="How one figure changed from edition to edition")
    async def api_revisions(measure: str = MEASURE,
                            period: str = Query(..., min_length=4, max_length=10,
                                                description="YYYY-MM, YYYY-MM-DD or FYyyyy"),
                            dim: list[str] = DIMS, agency: str | None = AGENCY_DIM,
                            format: Format = FORMAT) -> Response:
        dims = _parse_dims(dim, agency)
        try:
            parse_period(period)
        except ValueError as e:
            raise HTTPException(422, str(e)) from None
        return await table_response("revisions", {"measure": measure, "period": period, "dims": dims},
                                    lambda: data.revisions(store, measure, period, dims), format)

    @app.get("/api/targets", tags=["targets"], summary="Every daily series scored against every target")
    async def api_targets(by: date | None = BY, format: Format = FORMAT) -> Response:
        return await table_response("targets", {"by": by}, lambda: data.targets(store, by), format)

    @app.get("/api/daily/{measure}", tags=["targets"], summary="A national daily series with its targets")
    async def api_daily(measure: str = MEASURE, shift: int = SHIFT, format: Format = FORMAT) -> Response:
        return await table_response("daily", {"measure": measure, "shift": shift},
                                    lambda: data.daily(store, measure, shift), format)

    @app.get("/api/detention/{table}", tags=["detention"], summary="ICE detention workbook tables (latest vintage)")
    async def api_detention(table: DetentionTable, fiscal_year: int | None = FISCAL_YEAR,
                            agency: Agency | None = None, format: Format = FORMAT) -> Response:
        return await table_response("detention", {"table": table, "fiscal_year": fiscal_year, "agency": agency},
                                    lambda: data.detention(store, table, fiscal_year, agency), format)

    @app.get("/api/outcomes/funnel", tags=["outcomes"], summary="State of each arrest cohort at the cut-off")
    async def api_funnel(period: Period = "month", breakdown: Breakdown | None = None,
                         threshold: Threshold = THRESHOLD, format: Format = FORMAT) -> Response:
        threshold = int(threshold)
        return await table_response("funnel", {"period": period, "breakdown": breakdown, "threshold": threshold},
                                    lambda: data.funnel(store, period, breakdown, threshold), format)

    @app.get("/api/outcomes/survival", tags=["outcomes"], summary="Time to removal (KM) or to each outcome (CIF)")
    async def api_survival(curve: Literal["km", "cif"] = "cif", origin: Origin = "arrest",
                           breakdown: Breakdown | None = None, threshold: Threshold = THRESHOLD,
                           format: Format = FORMAT) -> Response:
        base = {"origin": origin, "breakdown": breakdown, "threshold": int(threshold)}
        return await table_response("survival", {"curve": curve, **base}, lambda: survival_result(base, curve), format)

    @app.get("/api/claims", tags=["claims"], summary="Public claims checked against the figures")
    async def api_claims(verdict: Verdict | None = None, format: Format = FORMAT) -> Response:
        return await table_response("claims", {"verdict": verdict}, lambda: claims_result(verdict), format)

    @app.get("/api/capacity/calibration", tags=["capacity"], summary="Capacity model calibrated to the workbooks")
    async def api_calibration(format: Format = FORMAT) -> Response:
        return await table_response("calibration", {}, calibration_result, format)

    @app.get("/api/capacity/projection", tags=["capacity"], summary="Detained population under chosen inputs")
    async def api_projection(arrests_per_day: int = ARRESTS_PER_DAY, beds: int = BEDS,
                             stay_days: float | None = STAY_DAYS, days: int = DAYS,
                             format: Format = FORMAT) -> Response:
        params = {"arrests_per_day": arrests_per_day, "beds": beds, "stay_days": stay_days, "days": days}
        return await table_response("projection", params, lambda: projection_result(**params), format)

    @app.get("/api/capacity/goal-seek", tags=["capacity"],
             summary="The arrests per day, beds or mean stay that reach a yearly removals goal in steady state")
    async def api_goal_seek(removals_per_year: int = Query(..., ge=0, le=10_000_000),
                            solve_for: Literal["arrests_per_day", "beds", "stay_days"] = "arrests_per_day",
                            arrests_per_day: int | None = Query(None, ge=1, le=20_000,
                                                                description="held fixed (default: today's rate)"),
                            beds: int | None = Query(None, ge=1, le=500_000,
                                                     description="held fixed (default: funded beds)"),
                            stay_days: float | None = STAY_DAYS, format: Format = FORMAT) -> Response:
        params = {"removals_per_year": removals_per_year, "solve_for": solve_for, "arrests_per_day": arrests_per_day,
                  "beds": beds, "stay_days": stay_days}
        return await table_response("goal-seek", params, lambda: goal_seek_result(**params), format)

    @app.get("/api/charts/{chart}", tags=["charts"],
             summary="A chart: Vega-Lite spec with its source note (json), or rendered (png, svg)")
    async def api_chart(chart: ChartName, measure: str = Query("ice_posted_arrests", min_length=1, max_length=80),
                        shift: int = SHIFT, fiscal_year: int | None = FISCAL_YEAR, agency: Agency | None = None,
                        period: Period = "month", breakdown: Breakdown | None = None, origin: Origin = "arrest",
                        threshold: Threshold = THRESHOLD, verdict: Verdict | None = None,
                        arrests_per_day: int = ARRESTS_PER_DAY, beds: int = BEDS,
                        stay_days: float | None = STAY_DAYS, days: int = DAYS,
                        format: ChartFormat = "json") -> Response:
        threshold = int(threshold)
        filters = {"arrests": {"measure": measure, "shift": shift},
                   "book_ins": {"fiscal_year": fiscal_year, "agency": agency},
                   "book_outs": {"fiscal_year": fiscal_year},
                   "detained": {"fiscal_year": fiscal_year},
                   "funnel": {"period": period, "breakdown": breakdown, "threshold": threshold},
                   "km": {"origin": origin, "breakdown": breakdown, "threshold": threshold},
                   "cif": {"origin": origin, "breakdown": breakdown, "threshold": threshold},
                   "claims": {"verdict": verdict},
                   "capacity": {"arrests_per_day": arrests_per_day, "beds": beds, "stay_days": stay_days,
                                "days": days}}[chart]
        params = {"chart": chart, **filters}
        compute = lambda: chart_result(chart, filters)  # noqa: E731
        if format == "json":
            return Response(await response_body("chart", params, compute, format, data.json_bytes),
                            media_type="application/json")

        def render(result: dict[str, Any]) -> bytes:
            if result["spec"] is None:
                raise HTTPException(404, result["message"])
            return render_chart(result["spec"], format)

        body = await response_body("chart", params, compute, format, render)
        return Response(body, media_type="image/png" if format == "png" else "image/svg+xml",
                        headers={"Content-Disposition": f'attachment; filename="icetrack-{chart}.{format}"'})

    def survival_result(base: dict[str, Any], curve: str) -> dict[str, Any]:
        """One curve's rows from the published survival of ``base``, which is computed once for both curves."""
        published = cached("survival-both-curves", base, lambda: data.survival(
            store, base["origin"], base["breakdown"], base["threshold"]))
        return data.survival_curve(published, curve)

    def detention_table(table: str, fiscal_year: int | None, agency: str | None) -> dict[str, Any]:
        """The same cache entry as ``/api/detention/{table}`` with these filters."""
        params = {"table": table, "fiscal_year": fiscal_year, "agency": agency}
        return cached("detention", params, lambda: data.detention(store, table, fiscal_year, agency))

    def chart_result(chart: str, filters: dict[str, Any]) -> dict[str, Any]:
        """Spec, source note and data link of one chart; spec None (with a message) when nothing is published.

        The data come from the same cache entries as the API endpoint the chart's CSV link points to.
        """
        if chart == "arrests":
            data_url, data_params = f"/api/daily/{filters['measure']}", {"shift": filters["shift"]}
            source = cached("daily", filters, lambda: data.daily(store, filters["measure"], filters["shift"]))
            make = lambda: charts.arrests_chart(source)  # noqa: E731
        elif chart in ("book_ins", "book_outs", "detained"):
            tables = {"book_ins": ["book_ins"], "book_outs": ["book_outs", "removal_share"],
                      "detained": ["detained", "adp", "funded_beds"]}[chart]
            # the funded-beds line is drawn whatever fiscal year is chosen
            frames = {t: pd.DataFrame(detention_table(t, None if t == "funded_beds" else filters["fiscal_year"],
                                                      filters.get("agency"))["rows"]) for t in tables}
            ids = [e for t in tables if not frames[t].empty for e in frames[t].edition_id]
            source = {"provenance": data.provenance(store, ids)}
            make = {"book_ins": lambda: charts.book_ins_chart(frames),
                    "book_outs": lambda: charts.book_outs_chart(frames),
                    "detained": lambda: charts.detained_chart(frames)}[chart]
            data_url, data_params = f"/api/detention/{tables[0]}", filters
        elif chart == "funnel":
            data_url, data_params = "/api/outcomes/funnel", filters
            source = cached("funnel", filters, lambda: data.funnel(store, filters["period"], filters["breakdown"],
                                                                   filters["threshold"]))
            make = lambda: charts.funnel_chart(source)  # noqa: E731
        elif chart in ("km", "cif"):
            data_url, data_params = "/api/outcomes/survival", {"curve": chart, **filters}
            source = cached("survival", data_params, lambda: survival_result(filters, chart))
            make = lambda: charts.survival_chart(source)  # noqa: E731
        elif chart == "claims":
            data_url, data_params = "/api/claims", filters
            source = cached("claims", filters, lambda: claims_result(filters["verdict"]))
            make = lambda: charts.claims_chart(source)  # noqa: E731
        else:
            data_url, data_params = "/api/capacity/projection", filters
            source = cached("projection", filters, lambda: projection_result(**filters))
            make = lambda: charts.capacity_chart(source)  # noqa: E731
        message = source.get("message")
        spec = None
        if not message:
            try:
                spec = charts.spec(make())
            except charts.NothingToDraw as e:
                message = str(e)
        query = urlencode({**{k: v for k, v in data_params.items() if v is not None}, "format": "csv"})
        prov = source["provenance"]
        return {"chart": chart, "filters": filters, "spec": spec, "message": message,
                "source_note": data.source_note(prov) if prov["editions"] else (message or "No source editions."),
                "provenance": prov, "csv_url": f"{data_url}?{query}"}

    def claims_result(verdict: str | None) -> dict[str, Any]:

        def check() -> list[dict[str, Any]]:
            return claims.check_claims(store.warehouse(), claims.load_claims())

        verdicts = cached("claims-all", {}, lambda: {"verdicts": check()})["verdicts"]
        chosen = [v for v in verdicts if verdict is None or v["verdict"] == verdict]
        rows = [{"id": v["id"], "verdict": v["verdict"], "text": v["text"], "speaker": v["speaker"],
                 "outlet": v["outlet"], "published_on": v["published_on"], "url": v["url"], "metric": v["metric"],
                 "window_start": (v.get("window") or {}).get("start"), "window_end": (v.get("window") or {}).get("end"),
                 "comparison": v.get("comparison"), "difference": v.get("difference"),
                 "explanation": v.get("explanation")} for v in chosen]
        edition_ids = [e["edition_id"] for v in chosen for e in v.get("evidence", []) if e.get("edition_id")]
        return {"verdict": verdict, "claims": chosen, "rows": rows,
                "provenance": data.provenance(store, edition_ids, "Verdicts compare each claim with the figures "
                                                                  "of the editions cited in its evidence.")}

    def _calibration():
        return cached("calibration-object", {}, lambda: {"calibration": capacity.calibrate(store.ibis())}
                      )["calibration"]

    def calibration_result() -> dict[str, Any]:
        calibration = _calibration().to_dict()
        rows = [{"month": m["month"], "days": m["days"],
                 **{f"{measure}_{agency}": v for measure in ("book_ins", "adp", "alos", "stay_days")
                    for agency, v in m[measure].items()},
                 **{f"book_outs_{c}": v for c, v in m["book_outs"].items()}} for m in calibration["monthly"]]
        return {"calibration": calibration, "rows": rows,
                "provenance": data.provenance(store, [e["edition_id"] for e in calibration["editions"]],
                                              capacity.__doc__.strip())}

    def projection_result(arrests_per_day: int, beds: int, stay_days: float | None, days: int) -> dict[str, Any]:
        calibration = _calibration()
        try:
            projection = capacity.project(calibration, arrests_per_day=arrests_per_day, beds=beds,
                                          stay_days=stay_days, days=days)
        except ValueError as e:
            raise data.InvalidParameters(str(e)) from None
        rows = [{"date": d["date"], **{f"{k}_{band}": v[band] for k, v in d.items() if isinstance(v, dict)
                                       for band in ("p5", "p50", "p95")}} for d in projection["daily"]]
        # The reported monthly ADP of the two years before the projection, so the chart shows where it starts.
        reported = detention_table("adp", None, None)["rows"]
        start = date.fromisoformat(projection["inputs"]["start"])
        reported = [r for r in reported if start.replace(year=start.year - 2) <= date.fromisoformat(str(r["month"])[:10])
                    < start]
        return {**projection, "rows": rows, "reported_adp": reported,
                "provenance": data.provenance(store, [e["edition_id"] for e in calibration.editions]
                                              + [r["edition_id"] for r in reported], projection["definitions"])}

    def goal_seek_result(**inputs) -> dict[str, Any]:
        calibration = _calibration()
        try:
            result = capacity.goal_seek(calibration, **inputs)
        except ValueError as e:
            raise data.InvalidParameters(str(e)) from None
        row = {k: v for k, v in result.items() if not isinstance(v, (dict, list))}
        return {**result, "rows": [row],
                "provenance": data.provenance(store, result["editions"], capacity.__doc__.strip())}

    # -- static assets --------------------------------------------------------------------------------
    vega_bundle_lock = threading.Lock()

    @app.get("/vendor/vega-embed.js", include_in_schema=False)
    def vega_bundle() -> Response:
        with vega_bundle_lock:
            if not hasattr(app.state, "vega_bundle"):
                import vl_convert

                app.state.vega_bundle = vl_convert.javascript_bundle().encode()
        return Response(app.state.vega_bundle, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    # -- pages ----------------------------------------------------------------------------------------
    async def page(path: str, params: dict[str, Any], template: str,
                   context: Callable[[], dict[str, Any]]) -> HTMLResponse:
        """A rendered page, cached like the API's results (by path, validated parameters, warehouse version)."""
        def render() -> dict[str, Any]:
            return {"html": templates.get_template(template).render(pages=PAGES, path=path, version=__version__,
                                                                    **context())}

        return HTMLResponse(await response_body("page", {"path": path, **params}, render, "html",
                                                lambda r: r["html"].encode()))

    def chart_box(chart: str, title: str, filters: dict[str, Any]) -> dict[str, Any]:
        return {"name": chart, "title": title, "filters": filters}

    @app.get("/", response_class=HTMLResponse, tags=["pages"], summary="Overview")
    async def page_index() -> HTMLResponse:
        def context() -> dict[str, Any]:
            editions = data.sources(store)["rows"]
            return {"n_editions": len(editions), "synthetic": any(e["synthetic"] for e in editions),
                    "measures": data.measures(store)["rows"]}

        return await page("/", {}, "index.html.j2", context)

    @app.get("/arrests", response_class=HTMLResponse, tags=["pages"], summary="Daily arrests against targets")
    async def page_arrests(measure: str = Query("ice_posted_arrests", min_length=1, max_length=80),
                           shift: int = SHIFT) -> HTMLResponse:
        def context() -> dict[str, Any]:
            options = data.daily_measures(store)
            if measure not in options:
                raise data.NotFound(f"no daily series of '{measure}'")
            fields = [{"name": "measure", "label": "Series", "options": options, "value": measure},
                      {"name": "shift", "label": "Dates", "options": [0, 1], "value": shift,
                       "option_labels": ["as published", "moved back one day"]}]
            ledger = cached("targets", {"by": None}, lambda: data.targets(store, None))
            rows = [r for r in ledger["rows"] if r["measure"] == measure and r["dims_key"] == ""
                    and r["variant"] == ("as_published" if shift == 0 else "shifted_back_one_day")]
            return {"title": "Daily arrests against the announced targets",
                    "intro": "Each bar is one day's figure as ICE posted it (or moved back a day, since a post may "
                             "describe the day before); shaded bands are the announced daily targets.",
                    "fields": fields,
                    "charts": [chart_box("arrests", "Daily series against targets",
                                         {"measure": measure, "shift": shift})],
                    "table": {"columns": ["target_label", "kind", "value_low", "value_high", "days_meeting_low",
                                          "shortfall_low", "attainment_low", "pace_needed_low"], "rows": rows,
                              "csv": "/api/targets?format=csv"}}

        return await page("/arrests", {"measure": measure, "shift": shift}, "chart_page.html.j2", context)

    @app.get("/detention", response_class=HTMLResponse, tags=["pages"], summary="Detention and book-outs")
    async def page_detention(fiscal_year: int | None = FISCAL_YEAR, agency: Agency | None = None) -> HTMLResponse:
        def context() -> dict[str, Any]:
            years = data.fiscal_years(store)
            if fiscal_year is not None and fiscal_year not in years:
                raise data.NotFound(f"no workbook figures for FY{fiscal_year}")
            fields = [{"name": "fiscal_year", "label": "Fiscal year", "options": [""] + years,
                       "value": fiscal_year or "", "option_labels": ["all"] + [f"FY{y}" for y in years]},
                      {"name": "agency", "label": "Arresting agency (book-ins)", "options": ["", "ICE", "CBP"],
                       "value": agency or "", "option_labels": ["both", "ICE", "CBP"]}]
            return {"title": "Detention: book-ins, book-outs, population",
                    "intro": "From ICE's biweekly detention-statistics workbooks, latest vintage of each month.",
                    "fields": fields, "charts": [
                        chart_box("book_ins", "Initial book-ins by arresting agency",
                                  {"fiscal_year": fiscal_year, "agency": agency}),
                        chart_box("book_outs", "Final book-outs by reason, and the removal share",
                                  {"fiscal_year": fiscal_year}),
                        chart_box("detained", "Detained population against funded beds", {"fiscal_year": fiscal_year})]}

        return await page("/detention", {"fiscal_year": fiscal_year, "agency": agency}, "chart_page.html.j2", context)

    @app.get("/outcomes", response_class=HTMLResponse, tags=["pages"], summary="Outcomes of arrests")
    async def page_outcomes(period: Period = "month", breakdown: Breakdown | None = None, origin: Origin = "arrest",
                            threshold: Threshold = THRESHOLD) -> HTMLResponse:
        threshold = int(threshold)

        def context() -> dict[str, Any]:
            if not data.has_person_data(store):
                return {"title": "Outcomes of arrests", "intro": data.NO_PERSON_DATA, "fields": [], "charts": []}
            fields = [{"name": "period", "label": "Cohort period", "options": list(PERIODS), "value": period},
                      {"name": "breakdown", "label": "Breakdown (month cohorts)", "options": [""] + list(BREAKDOWNS),
                       "value": breakdown or "", "option_labels": ["none"] + list(BREAKDOWNS)},
                      {"name": "origin", "label": "Time from", "options": ["arrest", "book_in"], "value": origin,
                       "option_labels": ["arrest", "book-in"]},
                      {"name": "threshold", "label": "Suppress cells below", "options": [int(t) for t in Threshold],
                       "value": threshold}]
            survival_filters = {"origin": origin, "breakdown": breakdown, "threshold": threshold}
            return {"title": "Outcomes of arrests",
                    "intro": "What happened to the people arrested, from person-level records. Cells below the "
                             "threshold, and the cells that would reveal them, are suppressed on the server.",
                    "fields": fields, "charts": [
                        chart_box("funnel", "Arrest cohorts by state at the cut-off",
                                  {"period": period, "breakdown": breakdown, "threshold": threshold}),
                        chart_box("cif", "Cumulative incidence of removal, release, transfer", survival_filters),
                        chart_box("km", "Time to removal (Kaplan-Meier)", survival_filters)]}

        params = {"period": period, "breakdown": breakdown, "origin": origin, "threshold": threshold}
        return await page("/outcomes", params, "chart_page.html.j2", context)

    @app.get("/claims", response_class=HTMLResponse, tags=["pages"], summary="Claims and verdicts")
    async def page_claims(verdict: Verdict | None = None) -> HTMLResponse:
        def context() -> dict[str, Any]:
            fields = [{"name": "verdict", "label": "Verdict", "options": [""] + list(Verdict.__args__),
                       "value": verdict or "", "option_labels": ["all"] + list(Verdict.__args__)}]
            return {"title": "Claims checked against the record",
                    "intro": "Public statements about enforcement numbers, each compared with the figures of the "
                             "editions cited as evidence.",
                    "fields": fields, "charts": [chart_box("claims", "Verdicts", {"verdict": verdict})],
                    "claims": claims_result(verdict)["claims"]}

        return await page("/claims", {"verdict": verdict}, "chart_page.html.j2", context)

    @app.get("/capacity", response_class=HTMLResponse, tags=["pages"], summary="Capacity scenario")
    async def page_capacity(arrests_per_day: int = ARRESTS_PER_DAY, beds: int = BEDS,
                            stay_days: float | None = STAY_DAYS, days: int = DAYS) -> HTMLResponse:
        params = {"arrests_per_day": arrests_per_day, "beds": beds, "stay_days": stay_days, "days": days}

        def context() -> dict[str, Any]:
            fields = [{"name": "arrests_per_day", "label": "ICE arrests per day", "type": "number", "min": 1,
                       "max": 20000, "value": arrests_per_day},
                      {"name": "beds", "label": "Beds", "type": "number", "min": 1, "max": 500000, "value": beds},
                      {"name": "stay_days", "label": "Mean stay (days; empty = calibrated)", "type": "number",
                       "min": 1, "max": 365, "value": "" if stay_days is None else stay_days},
                      {"name": "days", "label": "Days projected", "type": "number", "min": 30, "max": 1095,
                       "value": days}]
            return {"title": "Capacity scenario",
                    "intro": "How many people would be detained under chosen ICE arrests per day, beds and length "
                             "of stay, from the workbooks' latest months; the band is the 5th-95th percentile of "
                             "simulated runs.",
                    "fields": fields, "charts": [chart_box("capacity", "Projected detained population", params)]}

        return await page("/capacity", params, "chart_page.html.j2", context)

    @app.get("/sources", response_class=HTMLResponse, tags=["pages"], summary="Sources and editions")
    async def page_sources() -> HTMLResponse:
        return await page("/sources", {}, "sources.html.j2", lambda: {"editions": data.sources(store)["rows"]})

    return app


def app_from_environment() -> FastAPI:
    """The app for ``uvicorn --factory icetrack.web.app:app_from_environment`` (e.g. with several worker
    processes): the warehouse named by ICETRACK_WAREHOUSE, else the default one."""
    return create_app(default_warehouse_path())


def render_chart(spec: dict[str, Any], fmt: str) -> bytes:
    """A Vega-Lite spec as PNG or SVG bytes, rendered offline by vl-convert."""
    import vl_convert

    if fmt == "png":
        return vl_convert.vegalite_to_png(spec, scale=2)
    return vl_convert.vegalite_to_svg(spec).encode()
