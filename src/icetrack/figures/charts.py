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


# -- ICE detention workbooks ----------------------------------------------------------------------------
def _editions_note(frame: pd.DataFrame) -> str:
    """'editions: N (as of FIRST .. LAST)' for a chart's subtitle."""
    as_of = pd.to_datetime(frame["as_of"]).dropna()
    n = frame["edition_id"].nunique()
    return f"{n} edition{'s' if n != 1 else ''}, data as of {as_of.min():%Y-%m-%d} to {as_of.max():%Y-%m-%d}"


def _title(text: str, *subtitle: str) -> alt.Title:
    return alt.Title(text, subtitle=[s for s in subtitle if s], anchor="start")


def detained_vs_beds_chart(snapshots: pd.DataFrame, monthly_adp: pd.DataFrame, beds: pd.DataFrame) -> alt.LayerChart:
    """Currently detained (each edition's snapshot) and monthly ADP against funded beds."""
    snap = snapshots.assign(date=pd.to_datetime(snapshots["as_of_date"]), series="currently detained (snapshot)")
    adp = monthly_adp[~monthly_adp["partial"]].assign(date=pd.to_datetime(monthly_adp["month"]) + pd.Timedelta(days=14),
                                                      series="average daily population (month)")
    lines = pd.concat([snap[["date", "value", "series"]], adp[["date", "value", "series"]]])
    base = alt.Chart(lines).encode(
        x=alt.X("date:T", title=None), y=alt.Y("value:Q", title="people in ICE detention"),
        color=alt.Color("series:N", title=None, scale=alt.Scale(range=["#1f5a96", "#e67e22"])),
        tooltip=[alt.Tooltip("date:T"), "series:N", alt.Tooltip("value:Q", format=",.0f")])
    layers = [base.mark_line(strokeWidth=1.5), base.mark_point(size=18, filled=True)]
    if not beds.empty:
        b = beds.assign(start=pd.to_datetime(beds["period_start"]), end=pd.to_datetime(beds["period_end"]))
        layers.append(alt.Chart(b).mark_rule(color="#c0392b", strokeDash=[5, 3], strokeWidth=2).encode(
            x="start:T", x2="end:T", y="value:Q", tooltip=[alt.Tooltip("value:Q", format=",")]))
        layers.append(alt.Chart(b).mark_text(align="left", dy=-7, color="#c0392b").encode(
            x="start:T", y="value:Q", text=alt.value(f"funded beds {int(b.value.iloc[0]):,}")))
    return alt.layer(*layers).properties(width=640, height=280, title=_title(
        "Detained population against funded beds",
        "Snapshots: each workbook's 'currently detained' on its as-of date; ADP: latest vintage, complete months.",
        f"Snapshots from {snapshots.edition_id.nunique()} editions; ADP: {_editions_note(monthly_adp)}"))


def book_ins_chart(book_ins: pd.DataFrame) -> alt.Chart:
    data = book_ins[~book_ins["partial"]].assign(month=lambda d: pd.to_datetime(d["month"]))
    return alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=14)).encode(
        x=alt.X("month:T", title=None), y=alt.Y("value:Q", title="initial book-ins per month"),
        color=alt.Color("agency:N", title="arresting agency", scale=alt.Scale(domain=["ICE", "CBP"],
                                                                               range=["#1f5a96", "#7f8c8d"])),
        tooltip=[alt.Tooltip("month:T", format="%Y-%m"), "agency:N", alt.Tooltip("value:Q", format=","),
                 "edition_id:N", alt.Tooltip("as_of:T", format="%Y-%m-%d")],
    ).properties(width=640, height=260, title=_title(
        "Initial book-ins into ICE detention by arresting agency",
        "A book-in is not an arrest: ICE arrests released without detention are not here; CBP transfers are.",
        f"Latest vintage per complete month: {_editions_note(data)}"))


def book_outs_chart(by_reason: pd.DataFrame, share: pd.DataFrame) -> alt.VConcatChart:
    share = share[~share["partial"]]
    reasons = by_reason[by_reason["month"].isin(share["month"])].assign(month=lambda d: pd.to_datetime(d["month"]))
    bars = alt.Chart(reasons).mark_bar().encode(
        x=alt.X("yearmonth(month):T", title=None), y=alt.Y("sum(value):Q", title="final book-outs"),
        color=alt.Color("outcome:N", title="outcome", scale=alt.Scale(
            domain=["removal", "release", "transfer", "other"], range=["#1f5a96", "#e67e22", "#95a5a6", "#d5d8dc"])),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), "release_reason:N", "outcome:N",
                 alt.Tooltip("sum(value):Q", format=",", title="book-outs")],
    ).properties(width=640, height=220)
    sh = share.assign(month=pd.to_datetime(share["month"])).melt(
        id_vars=["month", "partial"], value_vars=["removal_share", "removal_share_excluding_transfers"],
        var_name="share", value_name="value")
    line = alt.Chart(sh).mark_line(point=True).encode(
        x=alt.X("yearmonth(month):T", title=None),
        y=alt.Y("value:Q", title="removal share", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("share:N", title=None, scale=alt.Scale(range=["#1f5a96", "#8e44ad"])),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), "share:N", alt.Tooltip("value:Q", format=".1%")],
    ).properties(width=640, height=140)
    return alt.vconcat(bars, line).resolve_scale(color="independent").properties(title=_title(
        "Final book-outs by outcome, and the removal share",
        "'Release to Remove' is a removal; bond, recognizance, supervision, parole, terminated proceedings and relief"
        " are releases.",
        f"Latest vintage per complete month: {_editions_note(reasons)}; months before FY2024 list releases only"))


def alos_chart(alos: pd.DataFrame) -> alt.Chart:
    data = alos[~alos["partial"]].assign(month=lambda d: pd.to_datetime(d["month"]))
    return alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=14)).encode(
        x=alt.X("month:T", title=None), y=alt.Y("value:Q", title="average length of stay (days)"),
        color=alt.Color("agency:N", title="arresting agency"),
        tooltip=[alt.Tooltip("month:T", format="%Y-%m"), "agency:N", alt.Tooltip("value:Q", format=".1f"),
                 "edition_id:N"],
    ).properties(width=640, height=240, title=_title(
        "Average length of stay of people booked out, by month",
        f"Latest vintage, complete months: {_editions_note(data)}"))


def removals_to_date_chart(removals: pd.DataFrame) -> alt.Chart:
    data = removals.assign(as_of_date=pd.to_datetime(removals["as_of_date"]),
                           fiscal_year="FY" + removals["fiscal_year"].astype(str))
    return alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("as_of_date:T", title="data as of"), y=alt.Y("value:Q", title="removals, fiscal year to date"),
        color=alt.Color("fiscal_year:N", title=None),
        tooltip=[alt.Tooltip("as_of_date:T", format="%Y-%m-%d"), alt.Tooltip("value:Q", format=","),
                 "file_name:N"],
    ).properties(width=640, height=240, title=_title(
        "ICE removals, fiscal year to date, in each workbook edition",
        "Counting rule changes: FY2025 adds expedited removals/voluntary returns not detained; from March 2025 "
        "Title 50 expulsions.", f"{data.edition_id.nunique()} editions"))


# -- outcomes of arrests (person-level releases) ---------------------------------------------------------
STATE_COLOURS = alt.Scale(
    domain=["removed", "removed_without_detention", "released", "transferred", "detained", "not_booked_in"],
    range=["#1f5a96", "#6c8ebf", "#e67e22", "#95a5a6", "#8e44ad", "#d5d8dc"])


def cohort_chart(funnel: dict) -> alt.Chart:
    """Stacked areas: the state of each monthly arrest cohort as of the cut-off (published cells only)."""
    rows = []
    for rel in funnel["releases"]:
        for r in rel["rows"]:
            if r["cohort"] == "all" or r["group"] != "all":
                continue
            for state in funnel["states"]:
                share = r[state]["share"]
                if share is not None:
                    rows.append({"cohort": r["cohort"], "state": state, "share": share, "count": r[state]["count"]})
    data = pd.DataFrame(rows)
    if data.empty:
        raise ValueError("no published cohort cells")
    data["cohort"] = pd.to_datetime(data["cohort"])
    rel = funnel["releases"][0]
    synthetic = " SYNTHETIC DATA." if funnel.get("synthetic") else ""
    return alt.Chart(data).mark_area().encode(
        x=alt.X("cohort:T", title="arrest month (cohort)"),
        y=alt.Y("share:Q", stack="normalize", title="share of the cohort", axis=alt.Axis(format="%")),
        color=alt.Color("state:N", scale=STATE_COLOURS, title="state at the cut-off"),
        order=alt.Order("state:N"),
        tooltip=[alt.Tooltip("cohort:T", format="%Y-%m"), "state:N", alt.Tooltip("share:Q", format=".1%"),
                 alt.Tooltip("count:Q", format=",")],
    ).properties(width=640, height=260, title=_title(
        "What happened to the people arrested, by arrest month",
        f"Release {rel['release_id']}, cut-off {rel.get('cutoff')}; cells below {funnel['threshold']} suppressed."
        + synthetic, "Recent cohorts have had less time: 'detained' is open, not an outcome."))


def cif_chart(survival: dict) -> alt.LayerChart:
    """Cumulative incidence of removal, release and transfer with confidence bands."""
    rows = []
    for g in survival["groups"]:
        if g["suppressed"]:
            continue
        for r in g["cumulative_incidence"]:
            for cause in ("removal", "release", "transfer"):
                c = r[cause]
                rows.append({"group": g["group"], "days": r["time"], "outcome": cause, "cif": c["cif"],
                             "lower": c["ci_lower"], "upper": c["ci_upper"]})
    data = pd.DataFrame(rows)
    if data.empty:
        raise ValueError("no published survival groups")
    colours = alt.Scale(domain=["removal", "release", "transfer"], range=["#1f5a96", "#e67e22", "#95a5a6"])
    base = alt.Chart(data).encode(x=alt.X("days:Q", title=f"days since {survival['origin'].replace('_', '-')}"),
                                  color=alt.Color("outcome:N", scale=colours))
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("lower:Q", title="cumulative incidence", axis=alt.Axis(format="%")),
                                              y2="upper:Q")
    line = base.mark_line(interpolate="step-after").encode(
        y="cif:Q", tooltip=["days:Q", "outcome:N", alt.Tooltip("cif:Q", format=".1%")])
    synthetic = " SYNTHETIC DATA." if survival.get("synthetic") else ""
    return alt.layer(band, line).properties(width=640, height=260, title=_title(
        "Time to removal, release or transfer (Aalen-Johansen, 95% bands)",
        "Open cases censored at the cut-off; curves end where fewer than "
        f"{survival['threshold']} remain at risk.{synthetic}"))


# -- capacity model --------------------------------------------------------------------------------------------
BACKTEST_LABELS = {"observed_book_ins": "model: observed book-ins", "calibrated_book_ins": "model: calibrated book-ins",
                   "announced_target": "model: announced target"}
CAPACITY_COLOURS = alt.Scale(
    domain=["reported by ICE (latest vintage)", *BACKTEST_LABELS.values(), "naive: last value carried forward",
            "scenario projection"],
    range=["#1d1d1f", "#1f5a96", "#7f8c8d", "#c0392b", "#b9770e", "#8e44ad"])


def _mid_month(months) -> pd.Series:
    return pd.to_datetime(pd.Series(list(months)) + "-01") + pd.Timedelta(days=14)


def capacity_chart(backtest: dict, projection: dict) -> alt.VConcatChart:
    """Top: the back-test - each projection's median and 5-95% band of monthly ADP against the ADP ICE later
    reported and the naive baseline. Bottom: a scenario projection with its band, from the months it was
    calibrated on."""
    actual = pd.DataFrame(backtest["actual_adp"])
    actual = actual.assign(date=_mid_month(actual["month"]), series="reported by ICE (latest vintage)",
                           p50=actual["value"], p5=actual["value"], p95=actual["value"])
    modes = []
    for name, mode in backtest["modes"].items():
        m = pd.DataFrame([{"month": r["month"], **r["adp"]} for r in mode["monthly"]])
        modes.append(m.assign(series=BACKTEST_LABELS[name]))
    modes = pd.concat(modes).assign(date=lambda d: _mid_month(d["month"]).to_numpy())
    cut = pd.to_datetime(backtest["through"])
    naive = pd.DataFrame({"date": [cut, pd.to_datetime(backtest["until"])], "p50": backtest["naive"]["adp"],
                          "series": "naive: last value carried forward"})
    y = alt.Y("p50:Q", title="average daily population (midnight)", scale=alt.Scale(zero=False))
    colour = alt.Color("series:N", scale=CAPACITY_COLOURS, title=None, legend=alt.Legend(orient="bottom", columns=3))
    tooltip = [alt.Tooltip("date:T", format="%Y-%m"), "series:N", alt.Tooltip("p50:Q", format=",.0f"),
               alt.Tooltip("p5:Q", format=",.0f"), alt.Tooltip("p95:Q", format=",.0f")]
    bands = alt.Chart(modes).mark_area(opacity=0.15).encode(x="date:T", y="p5:Q", y2="p95:Q", color=colour)
    lines = alt.Chart(pd.concat([modes, actual])).mark_line(point=alt.OverlayMarkDef(size=16)).encode(
        x=alt.X("date:T", title=None), y=y, color=colour, tooltip=tooltip)
    naive_line = alt.Chart(naive).mark_line(strokeDash=[5, 3]).encode(x="date:T", y="p50:Q", color=colour)
    cutoff = alt.Chart(pd.DataFrame({"date": [cut]})).mark_rule(color="#555", strokeDash=[2, 2]).encode(x="date:T")
    observed = backtest["modes"].get("observed_book_ins", {}).get("adp", {})
    score = (f"Observed book-ins: MAPE {observed['model']['mape']:.1f}% (bias {observed['model']['bias']:+.1f}%) vs "
             f"naive {observed['naive']['mape']:.1f}% over {observed['n']} months." if observed.get("n") else "")
    top = alt.layer(bands, lines, naive_line, cutoff).properties(width=640, height=260, title=_title(
        f"Back-test: calibrated on editions published by {backtest['through']}, projected to {backtest['until']}",
        "Bands: 5-95% of the Monte Carlo runs (calibration uncertainty only). Dashed: naive baseline; dotted: cut-off.",
        score))

    steady = projection["steady_state"]
    proj = pd.DataFrame([{"month": m["month"], **m["population"]} for m in projection["monthly"]])
    proj = proj.assign(date=_mid_month(proj["month"]).to_numpy(), series="scenario projection")
    history = pd.DataFrame([{"month": m["month"], "p50": m["adp"]["Total"]} for m in projection["calibration"]["monthly"]])
    history = history.assign(date=_mid_month(history["month"]).to_numpy(), series="reported by ICE (latest vintage)",
                             p5=history["p50"], p95=history["p50"])
    layers = [alt.Chart(proj).mark_area(opacity=0.2).encode(x="date:T", y="p5:Q", y2="p95:Q", color=colour),
              alt.Chart(pd.concat([history, proj])).mark_line(point=alt.OverlayMarkDef(size=16)).encode(
                  x=alt.X("date:T", title=None), y=y, color=colour, tooltip=tooltip)]
    beds = projection["inputs"]["beds"]
    if beds is not None:
        layers.append(alt.Chart(pd.DataFrame({"beds": [beds]})).mark_rule(color="#c0392b", strokeDash=[5, 3]).encode(
            y="beds:Q"))
    i = projection["inputs"]
    bottom = alt.layer(*layers).properties(width=640, height=220, title=_title(
        f"Scenario: {i['arrests_per_day']:,.0f} ICE arrests a day, {'no bed limit' if beds is None else f'{beds:,.0f} beds'}",
        f"Needs {steady['beds_needed']:,.0f} beds at the calibrated stays; "
        + ("" if beds is None else f"the beds sustain {steady['sustainable_admissions_per_day']:,.0f} admissions a day; ")
        + f"forced releases "
        f"{steady['forced_releases_per_day']:,.0f} a day; removals {steady['removals_per_year']:,.0f} a year "
        "(steady state).", "Red dashed: beds."))
    return alt.vconcat(top, bottom).resolve_scale(color="shared")
