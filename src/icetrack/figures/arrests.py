"""Daily arrests against the announced targets: the targets ledger, one daily series, and its chart."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd

from icetrack.figures.charts import WIDTH, NothingToDraw, title
from icetrack.figures.result import NotFound, Result, frame_rows, provenance
from icetrack.metrics.targets import daily_series, targets_ledger
from icetrack.warehouse.vintage import Latest, Vintage

WEEKDAY_COLOURS = alt.Scale(domain=["weekday", "weekend"], range=["#1f5a96", "#9cb9d9"])
SCORE_FIELDS = ("days_meeting_low", "days_meeting_high", "shortfall_low", "shortfall_high", "attainment_low",
                "pace_by", "pace_needed_low")
VARIANTS = ("as_published", "shifted_back_one_day")


def targets(wh, by: date | None = None, *, vintage: Vintage = Latest()) -> Result:
    """Every daily series scored against every target that counts the same thing, both date readings."""
    ledger = targets_ledger(wh.ibis(), by=by, vintage=vintage)
    rows, edition_ids = [], []
    for s in ledger["series"]:
        edition_ids += s["editions"]
        for t in s["targets"]:
            edition_ids.append(t["edition_id"])
            for variant in VARIANTS:
                v, score = s["variants"][variant], t[variant]
                rows.append({"measure": s["measure"], "dims_key": s["dims_key"], "series_label": s["label"],
                             "variant": variant, "target_id": t["target_id"], "kind": t["kind"],
                             "target_label": t["label"], "value_low": t["value_low"], "value_high": t["value_high"],
                             "days_covered": v["days_covered"], "total": v["total"],
                             **{k: score[k] for k in SCORE_FIELDS},
                             "series_editions": " ".join(s["editions"]), "target_edition_id": t["edition_id"],
                             "target_source_url": t["source_url"]})
    return Result(rows, provenance(wh, edition_ids, ledger["definitions"]),
                  detail={"by": ledger["by"], "ledger": ledger["series"]})


def ledger(targets_result: Result) -> dict:
    """The ledger of a :func:`targets` result as one document: definitions, horizon and every series."""
    return {"definitions": targets_result.definitions, "by": targets_result.detail["by"],
            "series": targets_result.detail["ledger"]}


def daily_measures(wh) -> list[str]:
    """Measures published per day (what the arrests chart can draw)."""
    df = wh.measures()
    return sorted(df[df.grain == "day"].measure)


def daily(wh, measure: str = "ice_posted_arrests", shift_days: int = 0, *, vintage: Vintage = Latest()) -> Result:
    """One national daily series with dates moved back ``shift_days``, and its ledger entry."""
    if measure not in daily_measures(wh):
        raise NotFound(f"no daily series of '{measure}'")
    con = wh.ibis()
    df = daily_series(con, shift_days, vintage=vintage).filter(
        lambda t: (t.measure == measure) & (t.dims_key == "")).to_pandas()
    ledger = targets_ledger(con, vintage=vintage)
    entry = next((s for s in ledger["series"] if s["measure"] == measure and s["dims_key"] == ""), None)
    if df.empty or entry is None:
        raise NotFound(f"no national daily series of '{measure}'")
    df = df.sort_values("day")
    rows = frame_rows(df, ["measure", "day", "value", "unit", "edition_id", "synthetic"])
    for r in rows:
        r["shift_days"] = shift_days
    return Result(rows, provenance(wh, list(df.edition_id) + [t["edition_id"] for t in entry["targets"]],
                                   ledger["definitions"]),
                  detail={"measure": measure, "shift_days": shift_days, "series": entry})


def spec(daily_result: Result) -> alt.LayerChart:
    """The daily series (bars, weekends lighter) against the announced targets and baselines of its concept."""
    if not daily_result.rows:
        raise NothingToDraw("no daily figures")
    data = pd.DataFrame(daily_result.rows)
    data["day"] = pd.to_datetime(data["day"])
    data["part_of_week"] = data["day"].dt.dayofweek.map(lambda d: "weekend" if d >= 5 else "weekday")
    entry, shift = daily_result.detail["series"], daily_result.detail["shift_days"]
    peak = float(data["value"].max())
    # A target far above the data (3,000/day, set months later) would flatten the bars: listed, not drawn.
    shown = [t for t in entry["targets"] if t["value_low"] <= 2 * peak]
    hidden = [t["label"] for t in entry["targets"] if t not in shown]
    when = "as published" if shift == 0 else f"moved back {shift} day{'s' if shift > 1 else ''}"
    bars = alt.Chart(data).mark_bar(width={"band": 0.8}).encode(
        x=alt.X("yearmonthdate(day):O", title=f"Reference date ({when}; a post may describe the previous day)",
                axis=alt.Axis(format="%a %b %d", labelAngle=0, labelOverlap="greedy")),
        y=alt.Y("value:Q", title=f"{entry['label']} per day"),
        color=alt.Color("part_of_week:N", scale=WEEKDAY_COLOURS, title=None),
        tooltip=[alt.Tooltip("day:T", format="%a %Y-%m-%d"), alt.Tooltip("value:Q", format=","), "edition_id:N"])
    layers = [bars, bars.mark_text(dy=-6, fontSize=11).encode(text=alt.Text("value:Q", format=","),
                                                              color=alt.value("#222"))]
    layers += _target_layers(shown)
    subtitle = ["Shaded: announced daily targets (low to high end). Grey dashed: baselines."]
    if hidden:
        subtitle.append("Not drawn (off scale): " + "; ".join(hidden))
    first, last = data["day"].min(), data["day"].max()
    return alt.layer(*layers).properties(width=WIDTH, height=320, title=title(
        f"{entry['label']} per day, {first:%b %d} - {last:%b %d, %Y}, against targets", *subtitle,
        f"Source edition(s): {', '.join(entry['editions'])}")).configure_view(stroke=None)


def _target_layers(shown: list[dict]) -> list[alt.Chart]:
    bands = pd.DataFrame([{"label": t["label"], "low": t["value_low"], "high": t["value_high"], "kind": t["kind"]}
                          for t in shown], columns=["label", "low", "high", "kind"])
    layers = []
    targets = bands[bands.kind == "target"]
    if not targets.empty:
        layers.append(alt.Chart(targets).mark_rect(opacity=0.12, color="#c0392b").encode(
            y="low:Q", y2="high:Q", tooltip=["label:N", "low:Q", "high:Q"]))
        layers.append(alt.Chart(targets).mark_rule(color="#c0392b", strokeDash=[4, 3]).encode(
            y="low:Q", tooltip=["label:N", "low:Q"]))
        # one label at the lowest target's low end (an aggregate of the same rows, not a new table)
        layers.append(alt.Chart(targets).transform_aggregate(low="min(low)").mark_text(
            align="left", dx=4, dy=-6, color="#c0392b", fontSize=11).encode(
            y="low:Q", x=alt.value(0), text=alt.value(f"target low end {int(targets.low.min()):,}/day")))
    baselines = bands[bands.kind == "baseline"]
    if not baselines.empty:
        layers.append(alt.Chart(baselines).mark_rule(color="#555", strokeDash=[2, 2]).encode(
            y="low:Q", tooltip=["label:N", alt.Tooltip("low:Q", format=",.1f")]))
    return layers
