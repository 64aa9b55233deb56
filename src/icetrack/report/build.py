"""The offline HTML report: one self-contained page (inline SVG charts, no scripts, no CDN), rendering the
Results of :mod:`icetrack.figures`. Each chart carries its figures as a Datawrapper-ready CSV
(:mod:`icetrack.figures.datawrapper`) in a ``data:`` link, downloaded without a request.

Labels, notes, file names and URLs come from files anyone can write (a targets CSV, a claims file), so every
value is HTML-escaped, links are written only for http(s) URLs, and the page's own Content-Security-Policy
(a meta tag) forbids scripts, so even markup that slipped through could not run.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from icetrack import __version__
from icetrack.domain.catalogue import CATALOGUE
from icetrack.figures import (arrests, capacity, charts, claims, datawrapper, detention, evaluation, ledger_tables,
                              outcomes)
from icetrack.figures import ledger as targets_ledger
from icetrack.domain.json_text import strict_json
from icetrack.figures.result import NotFound, http_url

# autoescape=True, not select_autoescape(["html"]): that matches names ending in ".html" only, and the
# template is report.html.j2, so it had switched escaping off. Every template here is HTML.
_env = jinja2.Environment(
    loader=jinja2.PackageLoader("icetrack.report", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["num"] = lambda v, d=0: "–" if v is None else f"{v:,.{d}f}"
_env.filters["link"] = lambda url: http_url(url) or ""  # a javascript: URL would run when clicked
_env.policies["json.dumps_function"] = strict_json  # |tojson writes standard JSON (no NaN)
# Titles of the charts the report shows without a heading of their own (they name the Datawrapper CSVs).
PICTURE_TITLE = "ICE arrests per day, month by month, against the goal in force"
PROJECTION_TITLE = "Projected detained population against beds"
BACKTEST_TITLE = "Back-test of the capacity model"


class SourceNotes:
    """Numbered source notes: each edition and each URL gets one number, in order of first citation."""

    def __init__(self, editions: list[dict[str, Any]]):
        self.by_edition = {e["edition_id"]: e for e in editions}
        self.order: list[str] = []

    def cite(self, edition_id: str) -> int:
        if edition_id not in self.order:
            self.order.append(edition_id)
        return self.order.index(edition_id) + 1

    def notes(self) -> list[dict[str, Any]]:
        return [{"n": i + 1, **self.by_edition[e]} for i, e in enumerate(self.order)]

    def editions(self, numbers: list[int]) -> list[dict[str, Any]]:
        """The editions behind note ``numbers`` (what a chart's Datawrapper CSV names as its source)."""
        return [self.by_edition[self.order[n - 1]] for n in numbers]


def _editions(wh) -> list[dict[str, Any]]:
    editions = wh.editions().to_dict("records")
    urls = wh.edition_urls()
    for e in editions:
        for k in ("published_on", "as_of", "ingested_at"):
            e[k] = None if e[k] is None or str(e[k]) in ("NaT", "None") else str(e[k])[:10]
        e["urls"] = [u for u in urls.get(e["edition_id"], []) if u != e["original_url"]][:12]
    return editions


def _datawrapper(chart_spec: dict[str, Any], title: str, editions: list[dict[str, Any]],
                 synthetic: bool = False) -> dict[str, str]:
    """The chart's Datawrapper CSV as a download link that works offline: a data: URL, percent-encoded (no
    script, no request; the page's CSP governs fetches, not a download the reader clicks)."""
    text = datawrapper.csv_text(chart_spec, editions, title, synthetic)
    return {"name": datawrapper.file_name(title), "href": "data:text/csv;charset=utf-8," + quote(text, safe="")}


def _chart(title: str, chart, notes: list[int], editions: list[dict[str, Any]],
           synthetic: bool = False) -> dict[str, Any]:
    chart_spec = charts.spec(chart)
    return {"title": title, "svg": charts.render(chart_spec, "svg"), "notes": notes,
            "csv": _datawrapper(chart_spec, title, editions, synthetic)}


def build_report(wh, by=None) -> str:
    targets = arrests.targets(wh, by=by)
    ledger = {"by": targets.detail["by"], "series": targets.detail["ledger"], "definitions": targets.definitions}
    notes = SourceNotes(_editions(wh))
    picture = _picture_section(wh, notes)  # the first section: its editions get the first note numbers
    target_urls: dict[str, dict[str, Any]] = {}
    rows = []
    for s in ledger["series"]:
        series_notes = [notes.cite(e) for e in s["editions"]]
        for t in s["targets"]:
            target_notes = [notes.cite(t["edition_id"])]
            target_urls.setdefault(t["target_id"], t)
            rows.append({"series": s, "target": t, "series_notes": series_notes, "target_notes": target_notes})
    headline = next((s for s in ledger["series"] if s["measure"] == "ice_posted_arrests"), None)
    headline_charts = []
    if headline:
        daily = arrests.daily(wh, "ice_posted_arrests")
        headline_charts.append(_chart("Daily arrests posted by ICE against the announced targets", arrests.spec(daily),
                                      [notes.cite(e) for e in headline["editions"]], daily.editions, daily.synthetic))
    loaded = set(wh.measures().measure)
    measures = sorted({s["measure"] for s in ledger["series"]} | set(CATALOGUE) & loaded)
    return _env.get_template("report.html.j2").render(
        version=__version__,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        warehouse=str(wh.path),
        ledger=ledger,
        picture=picture,
        headline=headline,
        rows=rows,
        charts=headline_charts,
        detention=_detention_section(wh, notes) if "book_ins" in loaded else None,
        claims=_claims_section(wh, notes),
        capacity=_capacity_section(wh, notes) if "adp" in loaded else None,
        outcomes=_outcomes_section(wh, notes),
        definitions=[CATALOGUE[m] for m in measures if m in CATALOGUE],
        ledger_definitions=ledger["definitions"].split("\n- "),
        targets=list(target_urls.values()),
        notes=notes.notes(),
    )


def _picture_section(wh, notes: SourceNotes) -> dict[str, Any]:
    """The monthly picture the report opens on: ICE arrests per day since October 2023 against the daily arrest
    goal in force, the sentences a reporter can quote, the latest twelve months and the other targets."""
    result = targets_ledger.picture(wh)
    try:
        chart_spec = charts.spec(targets_ledger.picture_spec(result))
    except charts.NothingToDraw as e:
        svg, csv, message = None, None, str(e)
    else:
        svg, message = charts.render(chart_spec, "svg"), None
        csv = _datawrapper(chart_spec, PICTURE_TITLE, result.editions, result.synthetic)
    return {"svg": svg, "csv": csv, "message": message, "notes": [notes.cite(e["edition_id"]) for e in result.editions],
            "sentences": ledger_tables.arrest_sentences(result), "months": ledger_tables.recent_months(result),
            "others": ledger_tables.other_targets(result), "synthetic": result.synthetic,
            "definitions": ledger_tables.definition_items(result.detail["ledger"]["definitions"])}


def _claims_section(wh, notes: SourceNotes) -> list[dict[str, Any]]:
    """The bundled claims with their verdicts; every piece of evidence cites the editions it rests on."""
    verdicts = claims.claims(wh).detail["claims"]
    for v in verdicts:
        for ev in v["evidence"]:
            ev["notes"] = [notes.cite(e) for e in ev["editions"]]
    return verdicts


def _detention_section(wh, notes: SourceNotes) -> dict[str, Any]:
    """Charts and key figures from ICE's detention workbooks, each citing the editions it draws on."""
    t = {name: detention.table(wh, name) for name in ("detained", "adp", "funded_beds", "book_ins", "book_outs",
                                                       "removal_share", "removals_to_date")}
    alos = detention.alos(wh)

    def cite(*results) -> list[int]:
        return [notes.cite(e) for e in sorted({r["edition_id"] for res in results for r in res.rows})]

    sections = [
        ("Detained population against funded beds", detention.detained_spec(t["detained"], t["adp"], t["funded_beds"]),
         cite(t["detained"], t["adp"], t["funded_beds"])),
        ("Monthly book-ins, ICE vs CBP arrests", detention.book_ins_spec(t["book_ins"]), cite(t["book_ins"])),
        ("Book-outs by reason and the removal share", detention.book_outs_spec(t["book_outs"], t["removal_share"]),
         cite(t["removal_share"])),
        ("Average length of stay", detention.alos_spec(alos), cite(alos)),
        ("Removals to date", detention.removals_to_date_spec(t["removals_to_date"]), cite(t["removals_to_date"])),
    ]
    figures = [{**f, "note": notes.cite(f["edition_id"])} for f in detention.key_figures(wh).rows]
    copies = [{**c, "a": notes.cite(c["a"]), "b": notes.cite(c["b"])} for c in detention.same_date_copies(wh).rows]
    drawn = [_chart(title, chart, cited, notes.editions(cited)) for title, chart, cited in sections]
    return {"charts": drawn, "figures": figures, "copies": copies}


def _outcomes_section(wh, notes: SourceNotes) -> dict[str, Any] | None:
    """Cohort funnel and cumulative incidence, when person-level records are loaded (suppressed cells)."""
    funnel = outcomes.funnel(wh)
    if funnel.message:
        return None
    cif = outcomes.survival_curve(outcomes.survival(wh), "cif")
    cited = [notes.cite(e["edition_id"]) for e in funnel.editions]
    drawn = []
    for title, make, result in (("Arrest cohorts by state at the cut-off", outcomes.funnel_spec, funnel),
                                ("Time to outcome", outcomes.survival_spec, cif)):
        try:
            drawn.append(_chart(title, make(result), cited, funnel.editions, funnel.synthetic or cif.synthetic))
        except charts.NothingToDraw:
            continue  # everything suppressed: nothing publishable to draw
    published = funnel.detail["result"]
    return {"charts": drawn, "synthetic": funnel.synthetic or cif.synthetic,
            "releases": published["releases"], "threshold": published["threshold"]}


def _capacity_section(wh, notes: SourceNotes) -> dict[str, Any] | None:
    """Little's law for each announced national arrest target, a projection of the first, and the back-test."""
    result = capacity.target_scenarios(wh)
    if result.message == capacity.NO_TARGET:
        return None
    if result.message:
        return {"missing": result.message}
    d = result.detail
    calibration_notes = [notes.cite(e) for e in d["calibration_editions"]]  # cited first: the notes' order
    backtest_notes = [notes.cite(e) for e in d["backtest_editions"]]
    projection = _chart(PROJECTION_TITLE, capacity.projection_spec(d["projection"]), [], d["projection"].editions)
    backtest = _chart(BACKTEST_TITLE, capacity.backtest_spec(d["backtest"]), backtest_notes,
                      notes.editions(backtest_notes))
    return {"calibration": d["calibration"], "scenarios": d["scenarios"], "calibration_notes": calibration_notes,
            "backtest": d["backtest"], "backtest_notes": backtest_notes, "backtest_chart": backtest,
            "projection_chart": projection, "evaluation": _evaluation_section(wh, notes)}


def _evaluation_section(wh, notes: SourceNotes) -> dict[str, Any]:
    """How far the projections can be trusted: the rolling-origin evaluation (computed once per report, seconds)
    with its verdicts, table per target and horizon, coverage and error charts, and method."""
    try:
        result = evaluation.evaluation(wh)
    except NotFound as e:  # too little published history to evaluate: say why
        return {"missing": str(e)}
    drawn = []
    for name, make in (("Prediction bands: nominal against achieved coverage", evaluation.calibration_spec),
                       ("Forecast error by horizon", evaluation.error_spec)):
        try:
            drawn.append(_chart(name, make(result), [], result.editions, result.synthetic))
        except charts.NothingToDraw:
            continue
    return {**evaluation.summary(result), "charts": drawn,
            "notes": [notes.cite(e["edition_id"]) for e in result.editions]}


def write_report(wh, out: Path, by=None) -> Path:
    html = build_report(wh, by=by)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)  # never leave a half-written report behind
    return out
