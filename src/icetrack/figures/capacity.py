"""The capacity model: its calibration, a scenario projection, a goal seek, the back-test and the scenarios of
the announced arrest targets, with the projection and back-test charts."""

from __future__ import annotations

from datetime import date
from typing import Any

import altair as alt
import pandas as pd

from icetrack import model
from icetrack.domain import definitions
from icetrack.figures import detention
from icetrack.figures.charts import NothingToDraw, WIDTH, gap_runs, month_axis, title
from icetrack.figures.result import InvalidParameters, Result, provenance

REPORTED_ADP_YEARS = 2  # the reported monthly ADP drawn before a projection starts
NO_TARGET = "no national arrest target is loaded"
BACKTEST_LABELS = {"observed_book_ins": "model: observed book-ins", "calibrated_book_ins": "model: calibrated book-ins",
                   "announced_target": "model: announced target"}
REPORTED = "reported by ICE (latest vintage)"
CAPACITY_COLOURS = alt.Scale(domain=[REPORTED, *BACKTEST_LABELS.values(), "naive: last value carried forward"],
                             range=["#1d1d1f", "#1f5a96", "#7f8c8d", "#c0392b", "#b9770e"])


def _definition() -> str:
    return definitions.CAPACITY.strip()


def calibrate(wh) -> model.Calibration:
    """The capacity model calibrated on every loaded edition."""
    return model.calibrate(wh.ibis())


def calibration(wh, calibrated: model.Calibration | None = None) -> Result:
    """The model's inputs estimated from the workbooks (``calibrated`` when already computed)."""
    cal = (calibrated or calibrate(wh)).to_dict()
    rows = [{"month": m["month"], "days": m["days"],
             **{f"{measure}_{agency}": v for measure in ("book_ins", "adp", "alos", "stay_days")
                for agency, v in m[measure].items()},
             **{f"book_outs_{c}": v for c, v in m["book_outs"].items()}} for m in cal["monthly"]]
    return Result(rows, provenance(wh, [e["edition_id"] for e in cal["editions"]], _definition()),
                  detail={"calibration": cal})


def projection(wh, arrests_per_day: float, beds: float | None, stay_days: float | None = None, days: int = 365, *,
               calibrated: model.Calibration | None = None) -> Result:
    """The detained population day by day under the inputs, with the reported monthly ADP before it."""
    cal = calibrated or calibrate(wh)
    try:
        projected = model.project(cal, arrests_per_day=arrests_per_day, beds=beds, stay_days=stay_days, days=days)
    except ValueError as e:
        raise InvalidParameters(str(e)) from None
    rows = [{"date": d["date"], **{f"{k}_{band}": v[band] for k, v in d.items() if isinstance(v, dict)
                                   for band in ("p5", "p50", "p95")}} for d in projected["daily"]]
    start = date.fromisoformat(projected["inputs"]["start"])
    first = start.replace(year=start.year - REPORTED_ADP_YEARS)
    reported = [r for r in detention.table(wh, "adp").rows if first <= date.fromisoformat(str(r["month"])[:10]) < start]
    edition_ids = [e["edition_id"] for e in cal.editions] + [r["edition_id"] for r in reported]
    return Result(rows, provenance(wh, edition_ids, projected["definitions"]),
                  detail={**projected, "reported_adp": reported})


def goal_seek(wh, *, calibrated: model.Calibration | None = None, **inputs: Any) -> Result:
    """The arrests per day, beds or mean stay that reach a yearly removals goal in steady state."""
    cal = calibrated or calibrate(wh)
    try:
        result = model.goal_seek(cal, **inputs)
    except ValueError as e:
        raise InvalidParameters(str(e)) from None
    row = {k: v for k, v in result.items() if not isinstance(v, (dict, list))}
    return Result([row], provenance(wh, result["editions"], _definition()), detail=result)


def target_scenarios(wh) -> Result:
    """Little's law for each announced national arrest target, a projection of the lowest, and the back-test.

    The message says which input is missing when the model cannot run; no result when no target is loaded.
    """
    targets = wh.targets()
    rates = sorted({t.value_low for t in targets.itertuples()
                    if t.kind == "target" and t.concept == "arrests" and t.scope == "national"})
    if not rates:
        return Result([], provenance(wh, []), message=NO_TARGET)
    con = wh.ibis()
    try:
        cal = model.calibrate(con)
        backtest = model.backtest(con)
        projected = projection(wh, rates[0], None, calibrated=cal)
        scenarios = [model.steady_state(cal, arrests_per_day=r, beds=None) for r in rates]
    except (ValueError, InvalidParameters) as e:  # an input the model needs is not loaded: say which
        return Result([], provenance(wh, []), message=str(e))
    used = {e["edition_id"] for e in backtest["calibration"]["editions"]} | {r["edition_id"] for r in
                                                                             backtest["actual_adp"]}
    for mode in backtest["modes"].values():
        used |= set(mode["admissions_editions"]) | ({mode["target"]["edition_id"]} if "target" in mode else set())
        # every scored series (ADP, book-outs, removals from detention, removals to date) cites its actuals
        used |= {r["actual_edition"] for v in mode.values() if isinstance(v, dict) and "per_horizon" in v
                 for r in v["per_horizon"]}
    rows = [{"arrests_per_day": s["inputs"]["arrests_per_day"], "beds_needed": s["beds_needed"]} for s in scenarios]
    return Result(rows, provenance(wh, used, _definition()),
                  detail={"calibration": cal.to_dict(), "calibration_editions": [e["edition_id"] for e in cal.editions],
                          "scenarios": scenarios, "backtest": backtest, "backtest_editions": sorted(used),
                          "projection": projected})


# -- charts ---------------------------------------------------------------------------------------------------
def projection_spec(projection_result: Result) -> alt.LayerChart:
    """Projected detained population (midnight) with its 5th-95th percentile band against the bed count."""
    data = pd.DataFrame(projection_result.rows)
    if data.empty:
        raise NothingToDraw("the projection has no days")
    data["date"] = pd.to_datetime(data["date"])
    inputs, totals = projection_result.detail["inputs"], projection_result.detail["totals"]
    x = alt.X("date:T", title=None, axis=month_axis())
    band = alt.Chart(data).mark_area(opacity=0.25, color="#1f5a96").encode(
        x=x, y=alt.Y("population_p5:Q", title="people detained (midnight)"), y2="population_p95:Q")
    line = alt.Chart(data).mark_line(color="#1f5a96").encode(
        x=x, y="population_p50:Q", tooltip=[alt.Tooltip("date:T", format="%Y-%m-%d"),
                                            alt.Tooltip("population_p50:Q", format=",.0f", title="median"),
                                            alt.Tooltip("population_p5:Q", format=",.0f", title="5th percentile"),
                                            alt.Tooltip("population_p95:Q", format=",.0f", title="95th percentile")])
    layers = [band, line]
    reported = pd.DataFrame(projection_result.detail.get("reported_adp") or [])
    if not reported.empty:
        # monthly ADP drawn at mid-month, as reported (latest vintage)
        reported["date"] = pd.to_datetime(reported["month"]) + pd.Timedelta(days=14)
        layers.append(alt.Chart(gap_runs(reported, "date")).mark_line(color="#444", point=True, strokeDash=[2, 2]).encode(
            x=x, y="value:Q", detail="run:N", tooltip=[alt.Tooltip("month:T", format="%Y-%m", title="month"),
                                       alt.Tooltip("value:Q", format=",.0f", title="reported ADP"),
                                       "edition_id:N"]))
    if inputs.get("beds") is not None:
        layers.append(alt.Chart(pd.DataFrame([{"beds": inputs["beds"]}])).mark_rule(
            color="#c0392b", strokeDash=[5, 3]).encode(y="beds:Q", tooltip=[alt.Tooltip("beds:Q", format=",")]))
    stay = f", mean stay {inputs['stay_days']:g} days" if inputs.get("stay_days") else ", calibrated stays"
    beds = "no bed limit" if inputs.get("beds") is None else f"{inputs['beds']:,.0f} beds"

    def per_year(name: str) -> str:
        b = totals[name]
        return f"{b['p50']:,.0f} (5th-95th percentile {b['p5']:,.0f}-{b['p95']:,.0f})"

    return alt.layer(*layers).properties(width=WIDTH, height=300, title=title(
        "Reported ADP (dotted, monthly) and projected detained population (median, 5th-95th percentile band) "
        "against beds",
        f"{inputs['arrests_per_day']:,.0f} ICE arrests/day, {beds}{stay}, "
        f"{inputs['runs']} runs from {inputs['start']}. A model under stated assumptions, not a forecast.",
        f"Removals per year: {per_year('removals_per_year')}; "
        f"released for lack of beds per year: {per_year('forced_releases_per_year')}. Red dashed: beds."))


def _mid_month(months) -> pd.Series:
    return pd.to_datetime(pd.Series(list(months)) + "-01") + pd.Timedelta(days=14)


def backtest_spec(backtest: dict[str, Any]) -> alt.LayerChart:
    """Each back-test projection's median and 5-95% band of monthly ADP against the ADP ICE later reported
    and the naive baseline."""
    actual = pd.DataFrame(backtest["actual_adp"])
    actual = actual.assign(date=_mid_month(actual["month"]), series=REPORTED,
                           p50=actual["value"], p5=actual["value"], p95=actual["value"])
    modes = pd.concat([pd.DataFrame([{"month": r["month"], **r["adp"]} for r in mode["monthly"]]).assign(
        series=BACKTEST_LABELS[name]) for name, mode in backtest["modes"].items()])
    modes = modes.assign(date=lambda d: _mid_month(d["month"]).to_numpy())
    cut = pd.to_datetime(backtest["through"])
    naive = pd.DataFrame({"date": [cut, pd.to_datetime(backtest["until"])], "p50": backtest["naive"]["adp"],
                          "series": "naive: last value carried forward"})
    x = alt.X("date:T", title=None, axis=month_axis())
    y = alt.Y("p50:Q", title="average daily population (midnight)", scale=alt.Scale(zero=False))
    colour = alt.Color("series:N", scale=CAPACITY_COLOURS, title=None, legend=alt.Legend(orient="bottom", columns=2))
    tooltip = [alt.Tooltip("date:T", format="%Y-%m"), "series:N", alt.Tooltip("p50:Q", format=",.0f"),
               alt.Tooltip("p5:Q", format=",.0f"), alt.Tooltip("p95:Q", format=",.0f")]
    bands = alt.Chart(modes).mark_area(opacity=0.15).encode(x=x, y="p5:Q", y2="p95:Q", color=colour)
    lines = alt.Chart(pd.concat([modes, actual])).mark_line(point=alt.OverlayMarkDef(size=16)).encode(
        x=x, y=y, color=colour, tooltip=tooltip)
    naive_line = alt.Chart(naive).mark_line(strokeDash=[5, 3]).encode(x=x, y="p50:Q", color=colour)
    cutoff = alt.Chart(pd.DataFrame({"date": [cut]})).mark_rule(color="#555", strokeDash=[2, 2]).encode(x=x)
    observed = backtest["modes"].get("observed_book_ins", {}).get("adp", {})
    score = (f"Observed book-ins: MAPE {observed['model']['mape']:.1f}% (bias {observed['model']['bias']:+.1f}%) vs "
             f"naive {observed['naive']['mape']:.1f}% over {observed['n']} months." if observed.get("n") else "")
    return alt.layer(lines, bands, naive_line, cutoff).properties(width=WIDTH, height=260, title=title(
        f"Back-test: calibrated on editions published by {backtest['through']}, projected to {backtest['until']}",
        "Bands: 5-95% of the Monte Carlo runs (calibration uncertainty only). Dashed: naive baseline; dotted: cut-off.",
        score))
