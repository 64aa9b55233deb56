"""Outcomes of arrests from person-level records, published with small-cell suppression: the cohort funnel,
time to removal (Kaplan-Meier) and the cumulative incidence of each outcome, and their charts."""

from __future__ import annotations

import altair as alt
import pandas as pd

from icetrack.figures.charts import MAX_GROUPS, WIDTH, NothingToDraw, month_axis, title
from icetrack.figures.result import InvalidParameters, Result, provenance
from icetrack.metrics.publication_audit import audit_publications
from icetrack.metrics.published import (DEFAULT_THRESHOLD, funnel_rows, published_flow_grains, published_flows,
                                        published_funnel, published_survival, survival_rows)
from icetrack.warehouse.engines import EngineError, PersonTables, duckdb_tables, has_person_tables

NO_PERSON_DATA = ("No person-level records are loaded in this warehouse, so there are no outcome tables. "
                  "Load a release with `icetrack ingest FILE` (or a synthetic one: `icetrack synth` then "
                  "`icetrack ingest`).")
STATE_COLOURS = alt.Scale(
    domain=["removed", "removed_without_detention", "released", "transferred", "detained", "not_booked_in"],
    range=["#1f5a96", "#6c8ebf", "#e67e22", "#95a5a6", "#8e44ad", "#d5d8dc"])
CAUSE_COLOURS = alt.Scale(domain=["removal", "release", "transfer"], range=["#1f5a96", "#e67e22", "#95a5a6"])
COHORT_TIME_UNITS = {"month": "yearmonth", "week": "yearweek", "day": "yearmonthdate"}


def has_person_data(wh) -> bool:
    return has_person_tables(wh)


def _person_tables(wh):
    try:
        return duckdb_tables(wh)
    except EngineError:
        return None


def _not_loaded(wh, threshold: int) -> Result:
    return Result([], provenance(wh, [], None, threshold=threshold), detail={"result": None},
                  message=NO_PERSON_DATA, person_level=True)


def funnel(wh, period: str = "month", breakdown: str | None = None, threshold: int = DEFAULT_THRESHOLD, *,
           person_tables: PersonTables | None = None) -> Result:
    """The state of each arrest cohort at the cut-off, suppressed. ``person_tables``: the tables on another
    engine (default: the warehouse's own, when a release is loaded)."""
    pt = person_tables or _person_tables(wh)
    if pt is None:
        return _not_loaded(wh, threshold)
    result = published_funnel(pt, period, breakdown, threshold)
    releases = [{k: r.get(k) for k in ("release_id", "cutoff", "synthetic")} for r in result["releases"]]
    return Result(funnel_rows(result), provenance(wh, wh.person_edition_ids(), result["definitions"],
                                                  threshold=threshold, releases=releases),
                  detail={"result": result}, person_level=True)


def survival(wh, origin: str = "arrest", breakdown: str | None = None, threshold: int = DEFAULT_THRESHOLD, *,
             person_tables: PersonTables | None = None) -> Result:
    """Published survival, both curves (the estimators run once); :func:`survival_curve` flattens one."""
    pt = person_tables or _person_tables(wh)
    if pt is None:
        return _not_loaded(wh, threshold)
    try:
        result = published_survival(pt, origin, breakdown, threshold)
    except ValueError as e:  # a breakdown the origin does not support
        raise InvalidParameters(str(e)) from None
    releases = [{"release_id": k, **v} for k, v in result["releases"].items()]
    return Result([], provenance(wh, wh.person_edition_ids(), result["definitions"], threshold=threshold,
                                 releases=releases), detail={"result": result}, person_level=True)


def survival_curve(published: Result, curve: str) -> Result:
    """One curve ('km' or 'cif') of a published survival as flat rows."""
    result = published.detail["result"]
    rows = [] if result is None else survival_rows(result, curve)
    return Result(rows, published.provenance, detail={"result": result, "curve": curve},
                  message=published.message, person_level=True)


def flows(wh, period: str = "month", threshold: int = DEFAULT_THRESHOLD, *,
          person_tables: PersonTables | None = None) -> Result:
    """Arrests, book-ins and removals per period and release (counts of events: no identifiers needed), small
    counts suppressed consistently across days, weeks and months."""
    pt = person_tables or duckdb_tables(wh)
    result = published_flows(pt, wh.ibis().table("detention_stints"), period, threshold)
    return Result(result["rows"], provenance(wh, wh.person_edition_ids(), threshold=threshold),
                  detail={"metric": "flows", "period": period, "threshold": threshold, "audit": result["audit"]})


def audit(wh, threshold: int = DEFAULT_THRESHOLD, breakdowns: tuple[str, ...] = ("criminality", "program"), *,
          person_tables: PersonTables | None = None) -> Result:
    """Every outcome table the CLI and the API publish for this warehouse - funnels by month and week, with and
    without each breakdown (month), survival from arrest and from book-in with and without each breakdown,
    flows by day, week and month - audited together (:func:`~icetrack.metrics.publication_audit.
    audit_publications`): the suppressed cells a reader could work out by combining them (none expected)."""
    pt = person_tables or _person_tables(wh)
    if pt is None:
        return _not_loaded(wh, threshold)
    stints = wh.ibis().table("detention_stints")
    funnels = [published_funnel(pt, p, None, threshold) for p in ("month", "week")]
    funnels += [published_funnel(pt, "month", b, threshold) for b in breakdowns]
    survivals = [published_survival(pt, o, b, threshold) for o in ("arrest", "book_in")
                 for b in (None, *(b for b in breakdowns if o == "arrest" or b in ("criminality", "method")))]
    flows_ = list(published_flow_grains(pt, stints, threshold).values())
    findings = audit_publications(funnels, survivals, flows_, threshold)
    rows = [{"kind": f.kind, "where": repr(f.key), "value": f.value} for f in findings]
    counts = {k: sum(f.kind == k for f in findings) for k in ("shown", "recoverable", "share", "curve")}
    return Result(rows, provenance(wh, wh.person_edition_ids(), threshold=threshold),
                  detail={"metric": "suppression_audit", "threshold": threshold, "breakdowns": list(breakdowns),
                          "counts": counts}, person_level=True)


# -- charts ---------------------------------------------------------------------------------------------------
def _largest_groups(data: pd.DataFrame, size_column: str) -> list[str]:
    sizes = data.groupby("group")[size_column].max().sort_values(ascending=False)
    return [str(g) for g in sizes.index[:MAX_GROUPS]]


def _more_groups_note(result: Result, shown: list[str]) -> str:
    groups = {str(r["group"]) for r in result.rows} - {"all"}
    extra = len(groups - set(shown))
    return f"{len(shown)} largest groups drawn; {extra} more in the CSV." if extra > 0 else ""


def funnel_spec(funnel_result: Result) -> alt.TopLevelMixin:
    """Share of each arrest cohort in each state at the cut-off, one bar per cohort (published cells only:
    a suppressed cell is left out, never drawn as zero), per group."""
    result = funnel_result.detail["result"]
    rows = [{"cohort": r["cohort"], "group": r["group"], "state": state, "share": r[state]["share"],
             "count": r[state]["count"]}
            for rel in result["releases"] for r in rel["rows"] if r["cohort"] != "all"
            for state in result["states"] if r[state]["share"] is not None]
    data = pd.DataFrame(rows)
    if data.empty:
        raise NothingToDraw("every cell of this breakdown is suppressed")
    groups = _largest_groups(data, "count")
    data = data[data.group.isin(groups)]
    data["cohort"] = pd.to_datetime(data["cohort"])
    # a time unit as long as the cohort period gives each bar the period's width
    time_unit = COHORT_TIME_UNITS[result["period"]]
    axis = month_axis() if result["period"] == "month" else alt.Axis(format="%b %d, %Y", labelOverlap="greedy")
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X(f"{time_unit}(cohort):T", title=f"arrest {result['period']} (cohort)", axis=axis),
        y=alt.Y("share:Q", stack="normalize", title="share of the cohort", axis=alt.Axis(format="%")),
        color=alt.Color("state:N", scale=STATE_COLOURS, title="state at the cut-off"),
        tooltip=["group:N", alt.Tooltip("cohort:T", format="%Y-%m-%d"), "state:N",
                 alt.Tooltip("share:Q", format=".1%"), alt.Tooltip("count:Q", format=",")],
    ).properties(width=WIDTH, height=220 if result["breakdown"] is None else 90)
    if result["breakdown"]:
        chart = chart.facet(row=alt.Row("group:N", title=result["breakdown"], sort=groups))
    rel = result["releases"][0]
    return chart.properties(title=title(
        "What happened to the people arrested, by arrest cohort",
        f"Release {rel['release_id']}, cut-off {rel.get('cutoff')}; cells below {result['threshold']} and their "
        "complements suppressed. 'detained' is open, not an outcome: recent cohorts have had less time.",
        _more_groups_note(funnel_result, groups), "SYNTHETIC DATA." if result["synthetic"] else ""))


def survival_spec(curve_result: Result) -> alt.TopLevelMixin:
    """Kaplan-Meier time to removal (one line per group) or cumulative incidence of each outcome."""
    result, curve = curve_result.detail["result"], curve_result.detail["curve"]
    data = pd.DataFrame(curve_result.rows)
    if data.empty:
        raise NothingToDraw("nothing to draw: every group is suppressed (or, for Kaplan-Meier, its removal count)")
    groups = _largest_groups(data, "at_risk")
    data = data[data.group.isin(groups)]
    origin = result["origin"].replace("_", "-")
    notes = (f"Open cases censored at the cut-off. Shown in steps: between two points each outcome counts 0 or at "
             f"least {result['threshold']} people, and at least {result['threshold']} remain at risk; an outcome "
             "whose count is suppressed (or too rare to draw) is left out.",
             _more_groups_note(curve_result, groups), "SYNTHETIC DATA." if result["synthetic"] else "")
    if curve == "km":
        if "survival" not in data:
            raise NothingToDraw("the removal count is suppressed: no Kaplan-Meier curve is shown")
        return _km_chart(data, origin, result["breakdown"]).properties(title=title(
            "Time to removal (Kaplan-Meier, release and transfer censored, 95% bands)", *notes))
    # An outcome not shown is left out, never drawn as zero (and not concatenated as an all-null block).
    parts = [data[["group", "time"]].assign(outcome=c, cif=data[f"{c}_cif"], lower=data[f"{c}_ci_lower"],
                                            upper=data[f"{c}_ci_upper"]) for c in ("removal", "release", "transfer")]
    parts = [p[p.cif.notna()] for p in parts]
    long = pd.concat([p for p in parts if not p.empty]) if any(not p.empty for p in parts) else parts[0]
    if long.empty:
        raise NothingToDraw("no outcome's incidence is shown (their counts are suppressed)")
    base = alt.Chart().encode(x=alt.X("time:Q", title=f"days since {origin}"),
                              color=alt.Color("outcome:N", scale=CAUSE_COLOURS))
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("lower:Q", title="cumulative incidence",
                                                      axis=alt.Axis(format="%")), y2="upper:Q")
    line = base.mark_line(interpolate="step-after").encode(
        y="cif:Q", tooltip=["group:N", "time:Q", "outcome:N", alt.Tooltip("cif:Q", format=".1%")])
    layered = alt.layer(band, line, data=long).properties(width=WIDTH, height=220 if not result["breakdown"] else 110)
    if result["breakdown"]:
        layered = layered.facet(row=alt.Row("group:N", title=result["breakdown"], sort=groups))
    return layered.properties(title=title(
        "Time to removal, release or transfer (Aalen-Johansen cumulative incidence, 95% bands)", *notes))


def _km_chart(data: pd.DataFrame, origin: str, breakdown: str | None) -> alt.LayerChart:
    base = alt.Chart(data).encode(x=alt.X("time:Q", title=f"days since {origin}"),
                                  color=alt.Color("group:N", title=breakdown or "group"))
    band = base.mark_area(opacity=0.15, interpolate="step-after").encode(
        y=alt.Y("ci_lower:Q", title="share not yet removed", axis=alt.Axis(format="%")), y2="ci_upper:Q")
    line = base.mark_line(interpolate="step-after").encode(
        y="survival:Q", tooltip=["group:N", "time:Q", "at_risk:Q", alt.Tooltip("survival:Q", format=".1%")])
    return alt.layer(band, line).properties(width=WIDTH, height=280)
