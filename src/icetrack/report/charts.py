"""Charts as Vega-Lite specs (Altair), rendered offline by vl-convert (no browser, no network)."""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd
import vl_convert as vlc

from icetrack.metrics.targets import daily_series

WEEKDAY_COLOURS = alt.Scale(domain=["weekday", "weekend"], range=["#1f5a96", "#9cb9d9"])


def daily_vs_target_chart(con, ledger: dict, measure: str = "ice_posted_arrests") -> alt.LayerChart:
    """Daily series (bars, weekends lighter) against the target bands and baselines that apply to it."""
    daily = daily_series(con, 0).filter(lambda t: (t.measure == measure) & (t.dims_key == "")).to_pandas()
    if daily.empty:
        raise ValueError(f"no daily observations of {measure} in the warehouse")
    daily["day"] = pd.to_datetime(daily["day"])
    daily["part_of_week"] = daily["day"].dt.dayofweek.map(lambda d: "weekend" if d >= 5 else "weekday")
    daily["weekday"] = daily["day"].dt.strftime("%a")
    entry = next(s for s in ledger["series"] if s["measure"] == measure and s["dims_key"] == "")
    peak = float(daily["value"].max())
    # Targets far above the data (e.g. 3,000/day, set months later) would flatten the bars; they stay in
    # the table and are named in the caption instead.
    shown = [t for t in entry["targets"] if t["value_low"] <= 2 * peak]
    bands = pd.DataFrame([{"label": t["label"], "low": t["value_low"], "high": t["value_high"], "kind": t["kind"]}
                          for t in shown])
    x = alt.X("yearmonthdate(day):O", title="Reference date as published (a post may describe the previous day)", axis=alt.Axis(format="%a %b %d", labelAngle=0))
    bars = alt.Chart(daily).mark_bar(width={"band": 0.8}).encode(
        x=x,
        y=alt.Y("value:Q", title=f"{entry['label']} per day"),
        color=alt.Color("part_of_week:N", scale=WEEKDAY_COLOURS, title=None),
        tooltip=[alt.Tooltip("day:T", format="%Y-%m-%d"), "weekday:N", alt.Tooltip("value:Q", format=",")],
    )
    labels = bars.mark_text(dy=-6, fontSize=11).encode(text=alt.Text("value:Q", format=","), color=alt.value("#222"))
    layers = [bars, labels]
    targets = bands[bands.kind == "target"] if not bands.empty else bands
    if not targets.empty:
        layers.append(alt.Chart(targets).mark_rect(opacity=0.12, color="#c0392b").encode(
            y="low:Q", y2="high:Q", tooltip=["label:N", "low:Q", "high:Q"]))
        layers.append(alt.Chart(targets).mark_rule(color="#c0392b", strokeDash=[4, 3]).encode(
            y="low:Q", tooltip=["label:N", "low:Q"]))
        layers.append(alt.Chart(targets.drop_duplicates("low")).mark_text(
            align="left", dx=4, dy=-6, color="#c0392b", fontSize=11).encode(
            y="low:Q", x=alt.value(0), text=alt.value(f"target low end {int(targets.low.min()):,}/day")))
    baselines = bands[bands.kind == "baseline"] if not bands.empty else bands
    if not baselines.empty:
        layers.append(alt.Chart(baselines).mark_rule(color="#555", strokeDash=[2, 2]).encode(
            y="low:Q", tooltip=["label:N", alt.Tooltip("low:Q", format=",.1f")]))
    hidden = [t["label"] for t in entry["targets"] if t not in shown]
    subtitle = ["Shaded: announced daily targets (low to high end). Grey dashed: FY2024 baselines."]
    if hidden:
        subtitle.append("Not drawn (off scale): " + "; ".join(hidden))
    editions = ", ".join(entry["editions"])
    return alt.layer(*layers).properties(
        width=640, height=320,
        title=alt.Title(f"{entry['label']}, {daily.day.min():%b %d} - {daily.day.max():%b %d, %Y}, against targets",
                        subtitle=subtitle + [f"Source edition(s): {editions}"], anchor="start"),
    ).configure_view(stroke=None)


def render(chart: alt.TopLevelMixin, fmt: str) -> bytes | str:
    spec = chart.to_dict()
    if fmt == "svg":
        return vlc.vegalite_to_svg(spec)
    if fmt == "png":
        return vlc.vegalite_to_png(spec, scale=2)
    raise ValueError(f"unknown chart format '{fmt}' (use .png or .svg)")


def save(chart: alt.TopLevelMixin, out: Path) -> Path:
    fmt = out.suffix.lower().lstrip(".")
    data = render(chart, fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        out.write_text(data, encoding="utf-8")
    else:
        out.write_bytes(data)
    return out
