"""Vega-Lite specs for the dashboard, built server side with Altair from the API's results.

The workbook charts are the report's own (:mod:`icetrack.figures.charts`); the charts here add what the
dashboard's filters need (the one-day shift of the daily series, outcome breakdowns, capacity bands).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from icetrack.figures import charts as report_charts

WIDTH = 640
MAX_GROUPS = 12  # small multiples beyond this are unreadable; the CSV holds every group


class NothingToDraw(ValueError):
    """The filters leave no published data to draw (-> 404 with the reason)."""


def _title(text: str, *subtitle: str) -> alt.Title:
    return alt.Title(text, subtitle=[s for s in subtitle if s], anchor="start")


def arrests_chart(daily: dict[str, Any]) -> alt.LayerChart:
    """A daily series (bars, weekends lighter) against the announced targets and baselines of its concept."""
    data = pd.DataFrame(daily["rows"])
    data["day"] = pd.to_datetime(data["day"])
    data["part_of_week"] = data["day"].dt.dayofweek.map(lambda d: "weekend" if d >= 5 else "weekday")
    entry, shift = daily["series"], daily["shift_days"]
    peak = float(data["value"].max())
    # A target far above the data (3,000/day, set months later) would flatten the bars: listed, not drawn.
    shown = [t for t in entry["targets"] if t["value_low"] <= 2 * peak]
    hidden = [t["label"] for t in entry["targets"] if t not in shown]
    when = "as published" if shift == 0 else f"moved back {shift} day{'s' if shift > 1 else ''}"
    bars = alt.Chart(data).mark_bar(width={"band": 0.8}).encode(
        x=alt.X("yearmonthdate(day):O", title=f"Reference date ({when})",
                axis=alt.Axis(format="%a %b %d", labelAngle=0)),
        y=alt.Y("value:Q", title=f"{entry['label']} per day"),
        color=alt.Color("part_of_week:N", scale=report_charts.WEEKDAY_COLOURS, title=None),
        tooltip=[alt.Tooltip("day:T", format="%Y-%m-%d"), alt.Tooltip("value:Q", format=","), "edition_id:N"])
    layers = [bars, bars.mark_text(dy=-6, fontSize=11).encode(text=alt.Text("value:Q", format=","),
                                                              color=alt.value("#222"))]
    bands = pd.DataFrame([{"label": t["label"], "low": t["value_low"], "high": t["value_high"], "kind": t["kind"]}
                          for t in shown], columns=["label", "low", "high", "kind"])
    targets = bands[bands.kind == "target"]
    if not targets.empty:
        layers.append(alt.Chart(targets).mark_rect(opacity=0.12, color="#c0392b").encode(
            y="low:Q", y2="high:Q", tooltip=["label:N", "low:Q", "high:Q"]))
        layers.append(alt.Chart(targets).mark_rule(color="#c0392b", strokeDash=[4, 3]).encode(
            y="low:Q", tooltip=["label:N", "low:Q"]))
    baselines = bands[bands.kind == "baseline"]
    if not baselines.empty:
        layers.append(alt.Chart(baselines).mark_rule(color="#555", strokeDash=[2, 2]).encode(
            y="low:Q", tooltip=["label:N", alt.Tooltip("low:Q", format=",.1f")]))
    subtitle = ["Shaded: announced daily targets (low to high end). Grey dashed: baselines."]
    if hidden:
        subtitle.append("Not drawn (off scale): " + "; ".join(hidden))
    return alt.layer(*layers).properties(width=WIDTH, height=320, title=_title(
        f"{entry['label']} per day against targets", *subtitle)).configure_view(stroke=None)


def book_ins_chart(frames: dict[str, pd.DataFrame]) -> alt.Chart:
    if frames["book_ins"].empty:
        raise NothingToDraw("no book-ins for these filters")
    return report_charts.book_ins_chart(frames["book_ins"])


def book_outs_chart(frames: dict[str, pd.DataFrame]) -> alt.VConcatChart:
    if frames["book_outs"].empty or frames["removal_share"].empty:
        raise NothingToDraw("no book-outs with a removal share for these filters (the workbooks list removals "
                            "from FY2024 on)")
    return report_charts.book_outs_chart(frames["book_outs"], frames["removal_share"])


def detained_chart(frames: dict[str, pd.DataFrame]) -> alt.LayerChart:
    if frames["detained"].empty or frames["adp"].empty:
        raise NothingToDraw("no detained population for these filters")
    return report_charts.detained_vs_beds_chart(frames["detained"], frames["adp"], frames["funded_beds"])


def funnel_chart(funnel: dict[str, Any]) -> alt.Chart:
    """Share of each arrest cohort in each state at the cut-off (published cells only), per group."""
    result = funnel["result"]
    rows = []
    for rel in result["releases"]:
        for r in rel["rows"]:
            if r["cohort"] == "all":
                continue
            for state in result["states"]:
                if r[state]["share"] is not None:
                    rows.append({"cohort": r["cohort"], "group": r["group"], "state": state,
                                 "share": r[state]["share"], "count": r[state]["count"]})
    data = pd.DataFrame(rows)
    if data.empty:
        raise NothingToDraw("every cell of this breakdown is suppressed")
    groups = _largest_groups(data, "count")
    data = data[data.group.isin(groups)]
    data["cohort"] = pd.to_datetime(data["cohort"])
    # a time unit as long as the cohort period gives each bar the period's width
    time_unit = {"month": "yearmonth", "week": "yearweek", "day": "yearmonthdate"}[result["period"]]
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X(f"{time_unit}(cohort):T", title=f"arrest {result['period']} (cohort)"),
        y=alt.Y("share:Q", stack="normalize", title="share of the cohort", axis=alt.Axis(format="%")),
        color=alt.Color("state:N", scale=report_charts.STATE_COLOURS, title="state at the cut-off"),
        tooltip=["group:N", alt.Tooltip("cohort:T", format="%Y-%m-%d"), "state:N",
                 alt.Tooltip("share:Q", format=".1%"), alt.Tooltip("count:Q", format=",")],
    ).properties(width=WIDTH, height=220 if result["breakdown"] is None else 90)
    if result["breakdown"]:
        chart = chart.facet(row=alt.Row("group:N", title=result["breakdown"], sort=groups))
    rel = result["releases"][0]
    return chart.properties(title=_title(
        "What happened to the people arrested, by arrest cohort",
        f"Release {rel['release_id']}, cut-off {rel.get('cutoff')}; cells below {result['threshold']} and their "
        "complements suppressed. 'detained' is open, not an outcome.",
        _more_groups_note(funnel, groups), "SYNTHETIC DATA." if result["synthetic"] else ""))


def survival_chart(survival: dict[str, Any]) -> alt.TopLevelMixin:
    """Kaplan-Meier time to removal (one line per group) or cumulative incidence of each outcome."""
    result, curve = survival["result"], survival["curve"]
    data = pd.DataFrame(survival["rows"])
    if data.empty:
        raise NothingToDraw("every group is below the suppression threshold")
    groups = _largest_groups(data, "at_risk")
    data = data[data.group.isin(groups)]
    origin = result["origin"].replace("_", "-")
    synthetic = "SYNTHETIC DATA." if result["synthetic"] else ""
    cut = f"Curves end where fewer than {result['threshold']} remain at risk."
    if curve == "km":
        base = alt.Chart(data).encode(x=alt.X("time:Q", title=f"days since {origin}"),
                                      color=alt.Color("group:N", title=result["breakdown"] or "group"))
        band = base.mark_area(opacity=0.15, interpolate="step-after").encode(
            y=alt.Y("ci_lower:Q", title="share not yet removed", axis=alt.Axis(format="%")), y2="ci_upper:Q")
        line = base.mark_line(interpolate="step-after").encode(
            y="survival:Q", tooltip=["group:N", "time:Q", "at_risk:Q", alt.Tooltip("survival:Q", format=".1%")])
        return alt.layer(band, line).properties(width=WIDTH, height=280, title=_title(
            "Time to removal (Kaplan-Meier, release and transfer censored, 95% bands)", cut,
            _more_groups_note(survival, groups), synthetic))
    long = pd.concat([data[["group", "time"]].assign(outcome=c, cif=data[f"{c}_cif"], lower=data[f"{c}_ci_lower"],
                                                     upper=data[f"{c}_ci_upper"])
                      for c in ("removal", "release", "transfer")])
    colours = alt.Scale(domain=["removal", "release", "transfer"], range=["#1f5a96", "#e67e22", "#95a5a6"])
    base = alt.Chart().encode(x=alt.X("time:Q", title=f"days since {origin}"),
                              color=alt.Color("outcome:N", scale=colours))
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("lower:Q", title="cumulative incidence",
                                                      axis=alt.Axis(format="%")), y2="upper:Q")
    line = base.mark_line(interpolate="step-after").encode(
        y="cif:Q", tooltip=["group:N", "time:Q", "outcome:N", alt.Tooltip("cif:Q", format=".1%")])
    layered = alt.layer(band, line, data=long).properties(width=WIDTH, height=220 if not result["breakdown"] else 110)
    if result["breakdown"]:
        layered = layered.facet(row=alt.Row("group:N", title=result["breakdown"], sort=groups))
    return layered.properties(title=_title(
        "Time to removal, release or transfer (Aalen-Johansen cumulative incidence, 95% bands)", cut,
        _more_groups_note(survival, groups), synthetic))


def capacity_chart(projection: dict[str, Any]) -> alt.LayerChart:
    """Projected detained population (midnight) with its p5-p95 band against the bed count."""
    data = pd.DataFrame(projection["rows"])
    if data.empty:
        raise NothingToDraw("the projection has no days")
    data["date"] = pd.to_datetime(data["date"])
    inputs = projection["inputs"]
    x = alt.X("date:T", title=None)
    band = alt.Chart(data).mark_area(opacity=0.25, color="#1f5a96").encode(
        x=x, y=alt.Y("population_p5:Q", title="people detained (midnight)"), y2="population_p95:Q")
    line = alt.Chart(data).mark_line(color="#1f5a96").encode(
        x=x, y="population_p50:Q", tooltip=[alt.Tooltip("date:T", format="%Y-%m-%d"),
                                            alt.Tooltip("population_p50:Q", format=",.0f", title="median"),
                                            alt.Tooltip("population_p5:Q", format=",.0f", title="5th percentile"),
                                            alt.Tooltip("population_p95:Q", format=",.0f", title="95th percentile")])
    layers = [band, line]
    reported = pd.DataFrame(projection.get("reported_adp") or [])
    if not reported.empty:
        # monthly ADP drawn at mid-month, as reported (latest vintage)
        reported["date"] = pd.to_datetime(reported["month"]) + pd.Timedelta(days=14)
        layers.append(alt.Chart(reported).mark_line(color="#444", point=True, strokeDash=[2, 2]).encode(
            x=x, y="value:Q", tooltip=[alt.Tooltip("month:T", format="%Y-%m", title="month"),
                                       alt.Tooltip("value:Q", format=",.0f", title="reported ADP"),
                                       "edition_id:N"]))
    if inputs.get("beds") is not None:
        layers.append(alt.Chart(pd.DataFrame([{"beds": inputs["beds"]}])).mark_rule(
            color="#c0392b", strokeDash=[5, 3]).encode(y="beds:Q", tooltip=[alt.Tooltip("beds:Q", format=",")]))
    stay = f", mean stay {inputs['stay_days']:g} days" if inputs.get("stay_days") else ", calibrated stays"
    totals = projection["totals"]

    def per_year(name: str) -> str:
        b = totals[name]
        return f"{b['p50']:,.0f} (5th-95th percentile {b['p5']:,.0f}-{b['p95']:,.0f})"

    return alt.layer(*layers).properties(width=WIDTH, height=300, title=_title(
        "Reported ADP (dotted, monthly) and projected detained population (median, 5th-95th percentile band) "
        "against beds",
        f"{inputs['arrests_per_day']:,.0f} ICE arrests/day, {inputs['beds']:,.0f} beds{stay}, "
        f"{inputs['runs']} runs from {inputs['start']}. A model under stated assumptions, not a forecast.",
        f"Removals per year: {per_year('removals_per_year')}; "
        f"released for lack of beds per year: {per_year('forced_releases_per_year')}."))


def _largest_groups(data: pd.DataFrame, size_column: str) -> list[str]:
    sizes = data.groupby("group")[size_column].max().sort_values(ascending=False)
    return [str(g) for g in sizes.index[:MAX_GROUPS]]


def _more_groups_note(result: dict[str, Any], shown: list[str]) -> str:
    groups = {str(r["group"]) for r in result["rows"]} - {"all"}
    extra = len(groups - set(shown))
    return f"{len(shown)} largest groups drawn; {extra} more in the CSV." if extra > 0 else ""


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    return chart.to_dict()


def claims_chart(claims: dict[str, Any]) -> alt.Chart:
    """How many claims got each verdict."""
    data = pd.DataFrame(claims["rows"])
    if data.empty:
        raise NothingToDraw("no claims with this verdict")
    colours = alt.Scale(domain=["supported", "contradicted", "depends on definition", "not checkable"],
                        range=["#27ae60", "#c0392b", "#e67e22", "#95a5a6"])
    return alt.Chart(data).mark_bar().encode(
        y=alt.Y("verdict:N", title=None, sort="-x"), x=alt.X("count():Q", title="claims"),
        color=alt.Color("verdict:N", scale=colours, legend=None),
        tooltip=["verdict:N", alt.Tooltip("count():Q", title="claims")],
    ).properties(width=WIDTH, height=160, title=_title("Verdicts on the claims checked",
                                                         "Each claim compared with the cited editions' figures."))
