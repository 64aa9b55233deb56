"""The offline HTML report: one self-contained page (inline SVG charts, no scripts, no CDN)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from typing import Any

import jinja2

from icetrack import __version__
from icetrack.domain.catalogue import CATALOGUE
from icetrack.metrics.targets import targets_ledger
from icetrack.metrics import detention as det
from icetrack.figures import charts as ch
from icetrack.claims import check_claims, load_claims
from icetrack.figures.charts import daily_vs_target_chart, render

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("icetrack.report", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["num"] = lambda v, d=0: "–" if v is None else f"{v:,.{d}f}"


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


def build_report(wh, by=None) -> str:
    con = wh.ibis()
    ledger = targets_ledger(con, by=by)
    editions = wh.editions().to_dict("records")
    for e in editions:
        for k in ("published_on", "as_of", "ingested_at"):
            e[k] = None if e[k] is None or str(e[k]) in ("NaT", "None") else str(e[k])[:10]
    urls = wh.edition_urls()
    for e in editions:
        e["urls"] = [u for u in urls.get(e["edition_id"], []) if u != e["original_url"]][:12]
    notes = SourceNotes(editions)
    target_urls: dict[str, dict[str, Any]] = {}
    rows = []
    for s in ledger["series"]:
        series_notes = [notes.cite(e) for e in s["editions"]]
        for t in s["targets"]:
            target_notes = [notes.cite(t["edition_id"])]
            target_urls.setdefault(t["target_id"], t)
            rows.append({"series": s, "target": t, "series_notes": series_notes, "target_notes": target_notes})
    headline = next((s for s in ledger["series"] if s["measure"] == "ice_posted_arrests"), None)
    charts = []
    if headline:
        charts.append({"title": "Daily arrests posted by ICE against the announced targets",
                       "svg": render(daily_vs_target_chart(con, ledger), "svg"),
                       "notes": [notes.cite(e) for e in headline["editions"]]})
    loaded = set(wh.measures().measure)
    detention = _detention_section(wh, con, notes) if "book_ins" in loaded else None
    claims = _claims_section(wh, notes)
    capacity = _capacity_section(wh, con, notes) if "adp" in loaded else None
    outcomes = _outcomes_section(wh, notes)
    measures = sorted({s["measure"] for s in ledger["series"]} | set(CATALOGUE) & loaded)
    definitions = [CATALOGUE[m] for m in measures if m in CATALOGUE]
    return _env.get_template("report.html.j2").render(
        version=__version__,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        warehouse=str(wh.path),
        ledger=ledger,
        headline=headline,
        rows=rows,
        charts=charts,
        detention=detention,
        claims=claims,
        capacity=capacity,
        outcomes=outcomes,
        definitions=definitions,
        ledger_definitions=ledger["definitions"].split("\n- "),
        targets=list(target_urls.values()),
        notes=notes.notes(),
    )


def _claims_section(wh, notes: SourceNotes) -> list[dict[str, Any]]:
    """The bundled claims with their verdicts; every piece of evidence cites the editions it rests on."""
    verdicts = check_claims(wh, load_claims())
    for v in verdicts:
        for ev in v["evidence"]:
            ev["notes"] = [notes.cite(e) for e in ev["editions"]]
    return verdicts


def _detention_section(wh, con, notes: SourceNotes) -> dict[str, Any]:
    """Charts and key figures from ICE's detention workbooks, each citing the editions it draws on."""
    snapshots = det.detained_snapshots(con).to_pandas()
    adp = det.latest_monthly(con, "adp", {"agency": "Total", "criminality": "Total"}).to_pandas()
    beds = det.funded_beds(con).to_pandas()
    book_ins = det.book_ins_by_agency(con).to_pandas()
    by_reason = det.book_outs_by_reason(con).to_pandas()
    share = det.removal_share(con).to_pandas()
    alos = det.latest_monthly(con, "alos", {"criminality": "Total"}).to_pandas()
    alos = alos.assign(agency=alos.dims.map(lambda d: dict(d)["agency"]))
    removals = det.removals_to_date(con).to_pandas()

    def cite(*frames) -> list[int]:
        ids = sorted(set().union(*[set(f["edition_id"]) for f in frames]))
        return [notes.cite(e) for e in ids]

    charts = [
        {"title": "Detained population against funded beds",
         "svg": render(ch.detained_vs_beds_chart(snapshots, adp, beds), "svg"), "notes": cite(snapshots, adp, beds)},
        {"title": "Monthly book-ins, ICE vs CBP arrests", "svg": render(ch.book_ins_chart(book_ins), "svg"),
         "notes": cite(book_ins)},
        {"title": "Book-outs by reason and the removal share",
         "svg": render(ch.book_outs_chart(by_reason, share), "svg"), "notes": cite(share)},
        {"title": "Average length of stay", "svg": render(ch.alos_chart(alos), "svg"), "notes": cite(alos)},
        {"title": "Removals to date", "svg": render(ch.removals_to_date_chart(removals), "svg"),
         "notes": cite(removals)},
    ]
    latest = snapshots.iloc[-1]
    ice = book_ins[(book_ins.agency == "ICE") & ~book_ins.partial]
    figures = [{"label": "Currently detained (latest workbook)", "value": latest.value,
                "detail": f"as of {str(latest.as_of_date)[:10]}, {latest.file_name}",
                "note": notes.cite(latest.edition_id)}]
    for month in ("2025-01-01", "2025-02-01"):
        row = ice[ice.month.astype(str).str.startswith(month[:7])]
        if len(row):
            r = row.iloc[0]
            days = pd.Timestamp(r.month).days_in_month
            figures.append({"label": f"ICE-arrested initial book-ins, {pd.Timestamp(r.month):%B %Y}",
                            "value": r.value, "detail": f"{r.value / days:,.0f} a day; edition as of {str(r.as_of)[:10]}",
                            "note": notes.cite(r.edition_id)})
    last_removals = removals.iloc[-1]
    figures.append({"label": f"ICE removals FY{last_removals.fiscal_year} to date", "value": last_removals.value,
                    "detail": f"as of {str(last_removals.as_of_date)[:10]}", "note": notes.cite(last_removals.edition_id)})
    return {"charts": charts, "figures": figures, "copies": _same_date_copies(wh, notes)}


def _outcomes_section(wh, notes: SourceNotes) -> dict[str, Any] | None:
    """Cohort funnel and cumulative incidence, when person-level records are loaded (suppressed cells)."""
    from icetrack.warehouse.engines import EngineError, duckdb_tables
    from icetrack.metrics.publish import published_funnel, published_survival

    try:
        pt = duckdb_tables(wh)
    except EngineError:
        return None
    funnel = published_funnel(pt)
    survival = published_survival(pt)
    charts = []
    for title, make, data in (("Arrest cohorts by state at the cut-off", ch.cohort_chart, funnel),
                              ("Time to outcome", ch.cif_chart, survival)):
        try:
            charts.append({"title": title, "svg": render(make(data), "svg"), "notes": []})
        except ValueError:
            continue  # everything suppressed: nothing publishable to draw
    editions = [r[0] for r in wh.con.execute("SELECT edition_id FROM person_files ORDER BY edition_id").fetchall()]
    for c in charts:
        c["notes"] = [notes.cite(e) for e in editions]
    return {"charts": charts, "synthetic": funnel["synthetic"] or survival["synthetic"],
            "releases": funnel["releases"], "threshold": funnel["threshold"]}


def _same_date_copies(wh, notes: SourceNotes) -> list[dict[str, Any]]:
    """Editions sharing an as-of date (re-saved or marked-up copies, re-issues) and how their figures differ."""
    pairs = wh.con.execute(
        """SELECT a.edition_id, b.edition_id, a.as_of FROM editions a JOIN editions b
           ON a.source = b.source AND a.as_of = b.as_of AND a.edition_id < b.edition_id ORDER BY a.as_of"""
    ).fetchall()
    out = []
    for a, b, as_of in pairs:
        d = wh.diff_editions(a, b)
        out.append({"as_of": str(as_of), "a": notes.cite(a), "b": notes.cite(b), **d})
    return out


def _capacity_section(wh, con, notes: SourceNotes) -> dict[str, Any] | None:
    """Little's law for each announced national arrest target, a projection of the first, and the back-test."""
    from icetrack.model import capacity as cap

    targets = wh.targets()
    rates = sorted({t.value_low for t in targets.itertuples()
                    if t.kind == "target" and t.concept == "arrests" and t.scope == "national"})
    if not rates:
        return None
    try:
        cal = cap.calibrate(con)
        backtest = cap.backtest(con)
        projection = cap.project(cal, arrests_per_day=rates[0], beds=None)
        scenarios = [cap.steady_state(cal, arrests_per_day=r, beds=None) for r in rates]
    except ValueError as e:  # an input the model needs is not loaded (a series, the funded beds ...): say which
        return {"missing": str(e)}
    used = {e["edition_id"] for e in backtest["calibration"]["editions"]} | {r["edition_id"] for r in backtest["actual_adp"]}
    for mode in backtest["modes"].values():
        used |= set(mode["admissions_editions"]) | ({mode["target"]["edition_id"]} if "target" in mode else set())
        # every scored series (ADP, book-outs, removals from detention, removals to date) cites its actuals
        used |= {r["actual_edition"] for v in mode.values() if isinstance(v, dict) and "per_horizon" in v
                 for r in v["per_horizon"]}
    return {"calibration": cal.to_dict(), "scenarios": scenarios,
            "calibration_notes": [notes.cite(e["edition_id"]) for e in cal.editions],
            "backtest": backtest, "backtest_notes": [notes.cite(e) for e in sorted(used)],
            "svg": render(ch.capacity_chart(backtest, projection), "svg")}


def write_report(wh, out: Path, by=None) -> Path:
    html = build_report(wh, by=by)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)  # never leave a half-written report behind
    return out
