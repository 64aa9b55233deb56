"""Targets over time: the ledger at any grain, the monthly picture the report and the dashboard open on, and
one sentence per target a reporter can quote.

The ledger itself is :func:`icetrack.metrics.ledger.ledger`; this module only adds provenance, the flat rows a
CSV download writes, the chart and the sentences.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import altair as alt
import pandas as pd

from icetrack.figures.charts import WIDTH, NothingToDraw, month_axis, title
from icetrack.figures.result import Result, provenance
from icetrack.metrics import ledger as metrics_ledger
from icetrack.warehouse.engines import duckdb_tables, has_person_tables
from icetrack.warehouse.vintage import Latest, Vintage

# The report and the dashboard open on this: the fiscal year before the January 2025 directive onwards.
PICTURE_SINCE = date(2023, 10, 1)
GOAL_TRACK = "daily_arrest_goal"  # the national daily arrest goal drawn as step bands
OTHER_SERIES = ("removals.between_editions", "detained.adp_midnight")  # scored beside the picture, in sentences
PICTURE_SERIES = ("book_ins.ice_arrested", "arrests.estimated", "arrests.person_level")
ROW_FIELDS = ("series_id", "label", "reading", "period_start", "period_end", "days_in_period", "days_covered",
              "partial", "missing", "total", "per_day", "per_day_low", "per_day_high", "track", "in_force",
              "target_low", "target_high", "attainment_low_pct", "attainment_high_pct", "gap_per_day_low",
              "shortfall_low", "cumulative_shortfall_low", "editions")
SERIES_COLOURS = alt.Scale(domain=["ICE-arrested book-ins", "Estimated ICE arrests", "ICE posted arrests",
                                   "ICE arrests in the person-level release"],
                           range=["#1f5a96", "#e07b39", "#222222", "#2e8b57"])


def ledger(wh, grain: str = "month", *, series: list[str] | None = None, targets: list[str] | None = None,
           by: date | None = None, since: date | None = None, vintage: Vintage = Latest(),
           threshold: int = 10) -> Result:
    """The targets ledger at ``grain`` (raises :class:`icetrack.metrics.ledger.LedgerError` on a bad request)."""
    pt = duckdb_tables(wh) if has_person_tables(wh) else None
    doc = metrics_ledger.ledger(wh.ibis(), grain, vintage=vintage, series=series, targets=targets, by=by,
                                since=since, person_tables=pt, threshold=threshold)
    editions = [e for s in doc["series"] for e in s["editions"]] + [t["edition_id"] for t in doc["targets"]]
    editions += [e for s in doc["series"] if s["bridge"] for y in s["bridge"]["shares"] for e in y["editions"]]
    person = [e for s in doc["series"] if s["series_id"] == "arrests.person_level" for e in s["editions"]]
    prov = provenance(wh, [e for e in editions if e not in person], doc["definitions"],
                      person_level_releases=sorted(set(person)))
    if any("SYNTHETIC" in n["note"] for s in doc["series"] for n in s["notes"]):
        prov["synthetic"] = True
    return Result(_rows(doc), prov, detail={"ledger": doc})


def document(result: Result) -> dict[str, Any]:
    """The ledger of a :func:`ledger` result as the one JSON document ``targets --json`` prints."""
    return {**result.detail["ledger"], "provenance": {k: v for k, v in result.provenance.items()
                                                      if k != "definitions"}}


def _rows(doc: dict) -> list[dict[str, Any]]:
    rows = []
    for s in doc["series"]:
        periods = {p["period_start"]: p for p in s["periods"]}
        base = {"series_id": s["series_id"], "label": s["label"], "reading": s["reading"]}
        if not s["targets"]:
            rows += [_row(base, p, None, None) for p in s["periods"]]
        for t in s["targets"]:
            rows += [_row(base, periods[tp["period_start"]], t["track"], tp) for tp in t["periods"]]
    return rows


def _row(base: dict, p: dict, track: str | None, tp: dict | None) -> dict[str, Any]:
    row = {**base, **{k: p[k] for k in ("period_start", "period_end", "days_in_period", "days_covered",
                                         "partial", "missing", "total", "per_day", "per_day_low", "per_day_high")}}
    row["track"] = track
    for k in ("target_low", "target_high", "attainment_low_pct", "attainment_high_pct", "gap_per_day_low",
              "shortfall_low", "cumulative_shortfall_low"):
        row[k] = tp.get(k) if tp else None
    row["in_force"] = " ".join(tp["in_force"]) if tp else ""
    row["editions"] = " ".join(p["editions"])
    return {k: row[k] for k in ROW_FIELDS}


# --- the monthly picture ---------------------------------------------------------------------------------------

def picture(wh, since: date = PICTURE_SINCE, *, vintage: Vintage = Latest()) -> Result:
    """Monthly ICE arrests per day since ``since``: book-ins, estimated arrests with their band, person-level
    counts where loaded, the posted days as points, the arrest targets in force, and one sentence per target."""
    # One month ledger for the arrests picture and the other series (one read of the targets and the series).
    month = ledger(wh, "month", series=[*PICTURE_SERIES, *OTHER_SERIES], since=since, vintage=vintage)
    posted = ledger(wh, "day", series=["arrests.ice_posted"], vintage=vintage)
    doc, others = (_only(month.detail["ledger"], ids) for ids in (PICTURE_SERIES, OTHER_SERIES))
    detail = {"ledger": doc, "posted": posted.detail["ledger"], "others": others,
              "sentences": sentences(doc) + sentences(others), "since": since.isoformat()}
    eds = [e["edition_id"] for r in (month, posted) for e in r.editions]
    rows = [r for r in month.rows if r["series_id"] in PICTURE_SERIES]
    return Result(rows, provenance(wh, eds, doc["definitions"]), detail=detail)


def _only(doc: dict, series_ids: tuple[str, ...]) -> dict:
    """A ledger document restricted to ``series_ids``."""
    return {**doc, "series": [s for s in doc["series"] if s["series_id"] in series_ids],
            "not_loaded": [s for s in doc["not_loaded"] if s["series_id"] in series_ids],
            "not_readable": [s for s in doc["not_readable"] if s["series_id"] in series_ids]}


def _month(iso: str) -> str:
    return f"{date.fromisoformat(iso):%B %Y}"


def _latest_full(periods: list[dict], partial: set[str]) -> dict | None:
    """The last period with a figure, preferring one covered in full (``partial``: the starts of the series'
    partly covered periods)."""
    full = [p for p in periods if p["per_day"] is not None and p["period_start"] not in partial]
    some = [p for p in periods if p["per_day"] is not None]
    return (full or some or [None])[-1]


def sentences(doc: dict) -> list[str]:
    """One sentence per (series, target track) a reporter can quote: the latest full month, against the target
    in force then, with the estimate's interval where the series is an estimate."""
    out = []
    series = {s["series_id"]: s for s in doc["series"]}
    estimate = series.get("arrests.estimated")
    for s in doc["series"]:
        if s["series_id"] == "arrests.estimated":
            continue
        partial = {p["period_start"] for p in s["periods"] if p["partial"]}
        for t in (t for t in s["targets"] if t["kind"] == "target"):
            p = _latest_full([tp for tp in t["periods"] if tp["days_in_force"]], partial)
            if p is None:
                continue
            goal = next(h for h in t["targets"] if h["target_id"] in p["in_force"])
            text = (f"{s['label']} {_verb(s)} {p['per_day']:,.0f} {_per(s)} in {_month(p['period_start'])}, "
                    f"{p['attainment_low_pct']:,.0f}% of the {goal['label']}")
            if s["series_id"] == "book_ins.ice_arrested" and estimate:
                e = next((tp for et in estimate["targets"] if et["track"] == t["track"] for tp in et["periods"]
                          if tp["period_start"] == p["period_start"]), None)
                if e and e["per_day"] is not None:
                    text += (f"; estimated ICE arrests {e['per_day']:,.0f} a day (interval {e['per_day_low']:,.0f}"
                             f"-{e['per_day_high']:,.0f}, bridge {estimate['bridge']['bridge']})")
            text += f" ({s['reading_text']}; first month at or above: {_first(t['first_period_at_or_above_low'])})."
            out.append(text)
    return out


def _verb(s: dict) -> str:
    return "was" if s["reading"] == "level" else "averaged"


def _per(s: dict) -> str:
    return "people on average" if s["reading"] == "level" else "a day"


def _first(value: str | None) -> str:
    return value if value in (None, "not reached") else _month(value)


def picture_spec(picture_result: Result) -> alt.LayerChart:
    """Monthly per-day lines (book-ins, estimate with its band, person-level), posted days as points, and the
    arrest targets in force as step bands."""
    doc, posted = picture_result.detail["ledger"], picture_result.detail["posted"]
    lines, bands = [], []
    for s in doc["series"]:
        for p in s["periods"]:
            if p["per_day"] is None:
                continue
            mid = pd.Timestamp(p["period_start"]) + (pd.Timestamp(p["period_end"]) - pd.Timestamp(p["period_start"])) / 2
            lines.append({"series": s["label"], "month": mid, "per_day": p["per_day"], "low": p["per_day_low"],
                          "high": p["per_day_high"], "days": p["days_covered"], "partial": p["partial"]})
    if not lines:
        raise NothingToDraw("no monthly arrest figures")
    data = pd.DataFrame(lines)
    first_day = min(pd.Timestamp(p["period_start"]) for s in doc["series"] for p in s["periods"])
    last_day = max(pd.Timestamp(p["period_end"]) for s in doc["series"] for p in s["periods"])
    # Step bands at the goals' own effective dates (not per month, which would blend a goal raised mid-month).
    for h in doc["targets"]:
        if h["track"] != GOAL_TRACK or not h["effective_from"]:
            continue
        start = max(pd.Timestamp(h["effective_from"]), first_day)
        end = min(pd.Timestamp(h["effective_to"]), last_day) if h["effective_to"] else last_day
        if start <= end:
            bands.append({"start": start, "end": end, "low": h["per_day_low"], "high": h["per_day_high"],
                          "target": h["label"]})
    x = alt.X("month:T", title=None, axis=month_axis())
    y = alt.Y("per_day:Q", title="Per day (monthly average)")
    layers = []
    if bands:
        b = pd.DataFrame(bands)
        layers.append(alt.Chart(b).mark_rect(opacity=0.15, color="#c0392b").encode(
            x="start:T", x2="end:T", y="low:Q", y2="high:Q", tooltip=["target:N", "low:Q", "high:Q"]))
        layers.append(alt.Chart(b).mark_rule(color="#c0392b", strokeDash=[4, 3]).encode(
            x="start:T", x2="end:T", y="low:Q"))
    band_data = data.dropna(subset=["low", "high"])
    if not band_data.empty:
        layers.append(alt.Chart(band_data).mark_area(opacity=0.2, color="#e07b39").encode(x=x, y="low:Q", y2="high:Q"))
    posted_rows = [{"series": "ICE posted arrests", "month": pd.Timestamp(p["period_start"]), "per_day": p["per_day"]}
                   for s in posted["series"] for p in s["periods"] if p["per_day"] is not None]
    # Only the series drawn enter the legend (no person-level entry when no release is loaded).
    shown = [name for name in SERIES_COLOURS.domain if name in set(data.series) or (posted_rows and name ==
                                                                                   "ICE posted arrests")]
    scale = alt.Scale(domain=shown, range=[SERIES_COLOURS.range[SERIES_COLOURS.domain.index(n)] for n in shown])
    color = alt.Color("series:N", scale=scale, title=None, legend=alt.Legend(orient="top"))
    layers.append(alt.Chart(data).mark_line(point=True).encode(
        x=x, y=y, color=color, tooltip=["series:N", alt.Tooltip("month:T", format="%b %Y"),
                                        alt.Tooltip("per_day:Q", format=",.0f"), "days:Q", "partial:N"]))
    if posted_rows:
        layers.append(alt.Chart(pd.DataFrame(posted_rows)).mark_point(shape="diamond", filled=True, size=40).encode(
            x="month:T", y="per_day:Q", color=color, tooltip=[alt.Tooltip("month:T", format="%a %b %d, %Y"),
                                                              alt.Tooltip("per_day:Q", format=",")]))
    first, last = data.month.min(), data.month.max()
    return alt.layer(*layers).properties(width=WIDTH, height=340, title=title(
        f"ICE arrests per day, {first:%B %Y} - {last:%B %Y}, against the daily arrest goal in force",
        "Blue: ICE-arrested book-ins (a lower bound). Orange: estimated arrests; band: the interval",
        "of the share of arrests booked in. Diamonds: ICE's posted days (January 2025).",
        "Red: the daily arrest goal in force (1,200-1,500 from Jan 25, 2025; 3,000 from May 21, 2025).",
        *_short_source(picture_result.provenance))).configure_view(stroke=None)


def _short_source(prov: dict) -> tuple[str, str]:
    """Two short lines under the title; every edition is listed in the figure's provenance and CSV."""
    eds = prov["editions"]
    workbooks = [e for e in eds if e["source"] == "ice_detention_workbook"]
    rng = prov.get("as_of_range") or ["?", "?"]
    return (f"Sources: {len(workbooks)} ICE detention-statistics workbooks (data as of {rng[0]} to {rng[1]}),",
            f"ICE annual reports and press reports of the targets ({len(eds)} editions in all)."
            + (" SYNTHETIC data included." if prov.get("synthetic") else ""))
