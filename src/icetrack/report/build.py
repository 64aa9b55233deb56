"""The offline HTML report: one self-contained page (inline SVG charts, no scripts, no CDN)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2

from icetrack import __version__
from icetrack.metrics.catalogue import CATALOGUE
from icetrack.metrics.targets import targets_ledger
from icetrack.report.charts import daily_vs_target_chart, render

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
    measures = sorted({s["measure"] for s in ledger["series"]} | set(CATALOGUE) & set(wh.measures().measure))
    definitions = [CATALOGUE[m] for m in measures if m in CATALOGUE]
    return _env.get_template("report.html.j2").render(
        version=__version__,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        warehouse=str(wh.path),
        ledger=ledger,
        headline=headline,
        rows=rows,
        charts=charts,
        definitions=definitions,
        ledger_definitions=ledger["definitions"].split("\n- "),
        targets=list(target_urls.values()),
        notes=notes.notes(),
    )


def write_report(wh, out: Path, by=None) -> Path:
    html = build_report(wh, by=by)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)  # never leave a half-written report behind
    return out
