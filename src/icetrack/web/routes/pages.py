"""The dashboard pages (server-rendered, cached like the API) and the bundled vega-embed script."""

from __future__ import annotations

import threading
from typing import Any, Callable

import jinja2
from fastapi import APIRouter, Depends, Path as PathParam, Query
from fastapi.responses import HTMLResponse, Response

from icetrack import __version__
from icetrack.figures import evaluation as model_evaluation, ledger_tables
from icetrack.figures.outcomes import NO_PERSON_DATA
from icetrack.domain.json_text import strict_json
from icetrack.figures.result import NotFound, http_url, source_note
from icetrack.metrics.outcomes import BREAKDOWNS, PERIODS
from icetrack.web.params import (ARRESTS_PER_DAY, BEDS, DAILY_MEASURE, DAYS, FISCAL_YEAR, SHIFT, STAY_DAYS, THRESHOLD,
                                 Agency, Breakdown, Origin, Period, Threshold, Verdict, beds_value)
from icetrack.web.service import Service, service

PAGES = [("/", "Arrests by month"), ("/arrests", "January 2025 posts"), ("/detention", "Detention"),
         ("/outcomes", "Outcomes"), ("/claims", "Claims"), ("/capacity", "Capacity"), ("/facilities", "Facilities"),
         ("/sources", "Sources")]
TARGET_TABLE_COLUMNS = ["target_label", "kind", "value_low", "value_high", "days_meeting_low", "shortfall_low",
                        "attainment_low", "pace_needed_low"]
# Every template here is HTML (names end in .html.j2, which select_autoescape(["html"]) would not match).
TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("icetrack.web", "templates"), autoescape=True,
                               trim_blocks=True, lstrip_blocks=True)
TEMPLATES.filters["num"] = lambda v, d=0: "–" if v is None else f"{v:,.{d}f}"
TEMPLATES.filters["link"] = lambda url: http_url(url) or ""  # a javascript: URL would run when clicked
TEMPLATES.policies["json.dumps_function"] = strict_json  # |tojson writes standard JSON (no NaN)
_vega_bundle: list[bytes] = []
_vega_bundle_lock = threading.Lock()

router = APIRouter()


async def _page(svc: Service, path: str, params: dict[str, Any], template: str,
                context: Callable[[], dict[str, Any]]) -> HTMLResponse:
    """A rendered page, cached like the API's results (by path, validated parameters, warehouse version)."""
    def render() -> str:
        return TEMPLATES.get_template(template).render(pages=PAGES, path=path, version=__version__, **context())

    return HTMLResponse(await svc.body("page", {"path": path, **params}, render, "html", str.encode))


def _box(chart: str, title: str, filters: dict[str, Any]) -> dict[str, Any]:
    return {"name": chart, "title": title, "filters": filters}


def _select(name: str, label: str, options: list, value: Any, labels: list | None = None) -> dict[str, Any]:
    field = {"name": name, "label": label, "options": options, "value": value}
    return field if labels is None else {**field, "option_labels": labels}


def _number(name: str, label: str, low: int, high: int, value: Any) -> dict[str, Any]:
    return {"name": name, "label": label, "type": "number", "min": low, "max": high, "value": value}


@router.get("/", response_class=HTMLResponse, tags=["pages"], summary="ICE arrests by month against the goal in force")
async def page_index(svc: Service = Depends(service)) -> HTMLResponse:
    def context() -> dict[str, Any]:
        editions = svc.sources().rows
        picture = svc.picture()
        return {"n_editions": len(editions), "synthetic": any(e["synthetic"] for e in editions),
                "measures": svc.measures().rows,
                "charts": [_box("picture", "ICE arrests per day, month by month, against the goal in force", {})],
                "sentences": ledger_tables.arrest_sentences(picture), "months": ledger_tables.recent_months(picture),
                "others": ledger_tables.other_targets(picture)}

    return await _page(svc, "/", {}, "index.html.j2", context)


@router.get("/arrests", response_class=HTMLResponse, tags=["pages"],
            summary="January 2025: daily arrests ICE posted, against the targets")
async def page_arrests(measure: str = DAILY_MEASURE, shift: int = SHIFT,
                       svc: Service = Depends(service)) -> HTMLResponse:
    def context() -> dict[str, Any]:
        options = svc.daily_measures()
        if measure not in options:
            raise NotFound(f"no daily series of '{measure}'")
        variant = "as_published" if shift == 0 else "shifted_back_one_day"
        rows = [r for r in svc.targets(None).rows
                if r["measure"] == measure and r["dims_key"] == "" and r["variant"] == variant]
        return {"title": "January 2025: the daily arrests ICE posted, against the announced targets",
                "intro": "Each bar is one day's figure as ICE posted it (or moved back a day, since a post may "
                         "describe the day before); shaded bands are the announced daily targets.",
                "back": {"href": "/", "text": "Back to the monthly picture: ICE arrests per day since October 2023"},
                "fields": [_select("measure", "Series", options, measure),
                           _select("shift", "Dates", [0, 1], shift, ["as published", "moved back one day"])],
                "charts": [_box("arrests", "Daily series against targets", {"measure": measure, "shift": shift})],
                "table": {"columns": TARGET_TABLE_COLUMNS, "rows": rows, "csv": "/api/targets/daily?format=csv"}}

    return await _page(svc, "/arrests", {"measure": measure, "shift": shift}, "chart_page.html.j2", context)


@router.get("/detention", response_class=HTMLResponse, tags=["pages"], summary="Detention and book-outs")
async def page_detention(fiscal_year: int | None = FISCAL_YEAR, agency: Agency | None = None,
                         svc: Service = Depends(service)) -> HTMLResponse:
    def context() -> dict[str, Any]:
        years = svc.fiscal_years()
        if fiscal_year is not None and fiscal_year not in years:
            raise NotFound(f"no workbook figures for FY{fiscal_year}")
        fields = [_select("fiscal_year", "Fiscal year", [""] + years, fiscal_year or "",
                          ["all"] + [f"FY{y}" for y in years]),
                  _select("agency", "Arresting agency (book-ins)", ["", "ICE", "CBP"], agency or "",
                          ["both", "ICE", "CBP"])]
        return {"title": "Detention: book-ins, book-outs, population",
                "intro": "From ICE's biweekly detention-statistics workbooks, latest vintage of each month.",
                "fields": fields, "charts": [
                    _box("book_ins", "Initial book-ins by arresting agency", {"fiscal_year": fiscal_year,
                                                                               "agency": agency}),
                    _box("book_outs", "Final book-outs by reason, and the removal share", {"fiscal_year": fiscal_year}),
                    _box("detained", "Detained population against funded beds", {"fiscal_year": fiscal_year})]}

    return await _page(svc, "/detention", {"fiscal_year": fiscal_year, "agency": agency}, "chart_page.html.j2",
                       context)


@router.get("/outcomes", response_class=HTMLResponse, tags=["pages"], summary="Outcomes of arrests")
async def page_outcomes(period: Period = "month", breakdown: Breakdown | None = None, origin: Origin = "arrest",
                        threshold: Threshold = THRESHOLD, svc: Service = Depends(service)) -> HTMLResponse:
    params = {"period": period, "breakdown": breakdown, "origin": origin, "threshold": int(threshold)}

    def context() -> dict[str, Any]:
        if not svc.has_person_data():
            return {"title": "Outcomes of arrests", "intro": NO_PERSON_DATA, "fields": [], "charts": []}
        fields = [_select("period", "Cohort period", list(PERIODS), period),
                  _select("breakdown", "Breakdown (month cohorts)", [""] + list(BREAKDOWNS), breakdown or "",
                          ["none"] + list(BREAKDOWNS)),
                  _select("origin", "Time from", ["arrest", "book_in"], origin, ["arrest", "book-in"]),
                  _select("threshold", "Suppress cells below", [int(t) for t in Threshold], int(threshold))]
        survival = {"origin": origin, "breakdown": breakdown, "threshold": int(threshold)}
        return {"title": "Outcomes of arrests",
                "intro": "What happened to the people arrested, from person-level records. Cells below the "
                         "threshold, and the cells that would reveal them, are suppressed on the server.",
                "fields": fields, "charts": [
                    _box("funnel", "Arrest cohorts by state at the cut-off",
                         {"period": period, "breakdown": breakdown, "threshold": int(threshold)}),
                    _box("cif", "Cumulative incidence of removal, release, transfer", survival),
                    _box("km", "Time to removal (Kaplan-Meier)", survival)]}

    return await _page(svc, "/outcomes", params, "chart_page.html.j2", context)


@router.get("/claims", response_class=HTMLResponse, tags=["pages"], summary="Claims and verdicts")
async def page_claims(verdict: Verdict | None = None, svc: Service = Depends(service)) -> HTMLResponse:
    def context() -> dict[str, Any]:
        verdicts = list(Verdict.__args__)
        return {"title": "Claims checked against the record",
                "intro": "Public statements about enforcement numbers, each compared with the figures of the "
                         "editions cited as evidence.",
                "fields": [_select("verdict", "Verdict", [""] + verdicts, verdict or "", ["all"] + verdicts)],
                "charts": [_box("claims", "Verdicts", {"verdict": verdict})],
                "claims": svc.claims(verdict).detail["claims"]}

    return await _page(svc, "/claims", {"verdict": verdict}, "chart_page.html.j2", context)


@router.get("/capacity", response_class=HTMLResponse, tags=["pages"], summary="Capacity scenario")
async def page_capacity(arrests_per_day: int = ARRESTS_PER_DAY, beds: str | None = BEDS,
                        stay_days: float | None = STAY_DAYS, days: int = DAYS,
                        svc: Service = Depends(service)) -> HTMLResponse:
    params = {"arrests_per_day": arrests_per_day, "beds": beds_value(beds), "stay_days": stay_days, "days": days}

    def context() -> dict[str, Any]:
        fields = [_number("arrests_per_day", "ICE arrests per day", 1, 20000, arrests_per_day),
                  {"name": "beds", "label": "Beds (empty = the capacity in force; none = no limit)",
                   "type": "text", "value": beds or ""},
                  _number("stay_days", "Mean stay (days; empty = calibrated)", 1, 365,
                          "" if stay_days is None else stay_days),
                  _number("days", "Days projected", 30, 731, days)]
        try:
            evaluated = {**model_evaluation.summary(svc.evaluation()), "csv": "/api/capacity/evaluation?format=csv"}
        except NotFound as e:  # too little published history to evaluate
            evaluated = {"missing": str(e)}
        return {"title": "Capacity scenario",
                "intro": "How many people would be detained under chosen ICE arrests per day, beds and length "
                         "of stay, from the workbooks' latest months; the band is the 5th-95th percentile of "
                         "simulated runs.",
                "fields": fields, "charts": [_box("capacity", "Projected detained population", params)],
                "evaluation": evaluated,
                "evaluation_charts": [] if "missing" in evaluated else [
                    _box("evaluation_coverage", "Prediction bands: nominal against achieved coverage", {}),
                    _box("evaluation_errors", "Forecast error by horizon: the model against the baselines", {})]}

    return await _page(svc, "/capacity", params, "chart_page.html.j2", context)


@router.get("/facilities", response_class=HTMLResponse, tags=["pages"],
            summary="Facilities: every facility of every loaded edition, a state map, each facility's history")
async def page_facilities(state: str | None = Query(None, min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$"),
                          svc: Service = Depends(service)) -> HTMLResponse:
    state = state.upper() if state else None

    def context() -> dict[str, Any]:
        try:
            result = svc.facilities(state)
        except NotFound as e:
            if state is None:  # nothing loaded: say how to load it rather than show an empty table
                return {"missing": str(e)}
            raise
        return {"result": result.as_json(), "state": state, "source_note": source_note(result.provenance),
                "csv": "/api/facilities?format=csv" + (f"&state={state}" if state else "")}

    return await _page(svc, "/facilities", {"state": state}, "facilities.html.j2", context)


@router.get("/facilities/{facility_id}", response_class=HTMLResponse, tags=["pages"],
            summary="One facility: its figures in every edition, its renames and their evidence")
async def page_facility(facility_id: str = PathParam(..., min_length=3, max_length=160, pattern=r"^[a-z0-9][a-z0-9-]*$"),
                        svc: Service = Depends(service)) -> HTMLResponse:
    def context() -> dict[str, Any]:
        result = svc.facility(facility_id)
        return {"result": result.as_json(), "source_note": source_note(result.provenance),
                "csv": f"/api/facilities/{result.detail['facility_id']}?format=csv"}

    return await _page(svc, "/facilities", {"facility_id": facility_id}, "facility.html.j2", context)


@router.get("/sources", response_class=HTMLResponse, tags=["pages"], summary="Sources and editions")
async def page_sources(svc: Service = Depends(service)) -> HTMLResponse:
    return await _page(svc, "/sources", {}, "sources.html.j2", lambda: {"editions": svc.sources().rows})


@router.get("/vendor/vega-embed.js", include_in_schema=False)
def vega_bundle() -> Response:
    with _vega_bundle_lock:
        if not _vega_bundle:
            import vl_convert

            _vega_bundle.append(vl_convert.javascript_bundle().encode())
    return Response(_vega_bundle[0], media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})
