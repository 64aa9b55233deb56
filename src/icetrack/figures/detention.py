"""ICE's detention-statistics workbooks: book-ins, book-outs and the removal share, the detained population,
length of stay and removals to date - tables, key figures and charts."""

from __future__ import annotations

import altair as alt
import pandas as pd

from icetrack.domain import definitions, rules
from icetrack.figures.charts import SNAPSHOT_GAP_DAYS, WIDTH, NothingToDraw, gap_runs, month_axis, title
from icetrack.figures.result import Result, frame_rows, provenance
from icetrack.metrics import detention as det
from icetrack.warehouse.vintage import Latest, Vintage

TABLES = ("book_ins", "book_outs", "removal_share", "detained", "adp", "funded_beds", "removals_to_date")
KEY_MONTHS = ("2025-01", "2025-02")  # ICE-arrested book-ins named in the report's key figures
OUTCOME_COLOURS = alt.Scale(domain=["removal", "release", "transfer", "other"],
                            range=["#1f5a96", "#e67e22", "#95a5a6", "#d5d8dc"])


def _fiscal_year(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.date.map(rules.fiscal_year)


def _frame(con, table: str, agency: str | None, vintage: Vintage) -> tuple[pd.DataFrame, str]:
    """One workbook table as a frame, and its date column."""
    if table == "book_ins":
        df = det.book_ins_by_agency(con, vintage=vintage).to_pandas()
        return (df[df.agency == agency] if agency else df).drop(columns=["dims_key"]), "month"
    if table == "book_outs":
        return det.book_outs_by_reason(con, vintage=vintage).to_pandas(), "month"
    if table == "removal_share":
        return det.removal_share(con, vintage=vintage).to_pandas(), "month"
    if table == "detained":
        return det.detained_snapshots(con).to_pandas(), "as_of_date"
    if table == "adp":
        df = det.latest_monthly(con, "adp", {"agency": agency or "Total", "criminality": "Total"},
                                vintage=vintage).to_pandas()
        return df.drop(columns=["dims"]), "month"
    if table == "funded_beds":
        return det.funded_beds(con, vintage=vintage).to_pandas(), "period_end"
    return det.removals_to_date(con).to_pandas(), "as_of_date"


def table(wh, table: str, fiscal_year: int | None = None, agency: str | None = None, *,
          vintage: Vintage = Latest()) -> Result:
    """One workbook table (``vintage``, unless the table is per edition), optionally one fiscal year."""
    df, date_col = _frame(wh.ibis(), table, agency, vintage)
    if fiscal_year is not None and not df.empty:
        df = df[_fiscal_year(df[date_col]) == fiscal_year]
    return Result(frame_rows(df), provenance(wh, df.edition_id, definitions.DETENTION.strip()),
                  detail={"table": table, "fiscal_year": fiscal_year, "agency": agency})


def workbook_funnel(wh, *, vintage: Vintage = Latest()) -> Result:
    """The aggregate funnel from ICE's workbooks: final book-outs by outcome and the removal share per month;
    removals per book-in and per arrest by complete fiscal year (no person-level data needed)."""
    con = wh.ibis()
    monthly = det.removal_share(con, vintage=vintage).to_pandas()
    by_fy = det.removals_per_book_in_by_fy(con, vintage=vintage).to_pandas()
    rows = [{"month": str(r.month)[:7], "book_outs": int(r.book_outs), "removals": int(r.removals),
             "releases": int(r.releases), "transfers": 0 if pd.isna(r.transfers) else int(r.transfers),
             "removal_share": round(r.removal_share, 4), "partial_month": bool(r.partial),
             "edition_id": r.edition_id} for r in monthly.itertuples()]
    fiscal = [{k: _ratio_value(k, v) for k, v in r._asdict().items() if k != "Index"} for r in by_fy.itertuples()]
    return Result(rows, provenance(wh, monthly.edition_id, definitions.DETENTION),
                  detail={"metric": "workbook_funnel", "definitions": definitions.DETENTION, "monthly": rows,
                          "fiscal_years": fiscal})


def _ratio_value(key: str, v):
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return round(v, 4) if isinstance(v, float) and key.startswith("removals_per") else v


def fiscal_years(wh) -> list[int]:
    df = det.book_ins_by_agency(wh.ibis()).to_pandas()
    return sorted(set(int(y) for y in _fiscal_year(df.month)))


def alos(wh, *, vintage: Vintage = Latest()) -> Result:
    """Average length of stay of the people booked out, by month and arresting agency."""
    df = det.latest_monthly(wh.ibis(), "alos", {"criminality": "Total"}, vintage=vintage).to_pandas()
    df = df.assign(agency=df.dims.map(lambda d: dict(d)["agency"])).drop(columns=["dims"])
    return Result(frame_rows(df), provenance(wh, df.edition_id, definitions.DETENTION.strip()))


def key_figures(wh) -> Result:
    """Currently detained (latest workbook), ICE-arrested book-ins of the key months, removals to date."""
    snapshots, book_ins = table(wh, "detained"), table(wh, "book_ins", agency="ICE")
    removals = table(wh, "removals_to_date")
    latest = snapshots.rows[-1]
    rows = [{"label": "Currently detained (latest workbook)", "value": latest["value"],
             "detail": f"as of {str(latest['as_of_date'])[:10]}, {latest['file_name']}",
             "edition_id": latest["edition_id"]}]
    for month in KEY_MONTHS:
        r = next((r for r in book_ins.rows if not r["partial"] and str(r["month"]).startswith(month)), None)
        if r:
            days = pd.Timestamp(r["month"]).days_in_month
            rows.append({"label": f"ICE-arrested initial book-ins, {pd.Timestamp(r['month']):%B %Y}",
                         "value": r["value"], "edition_id": r["edition_id"],
                         "detail": f"{r['value'] / days:,.0f} a day; edition as of {str(r['as_of'])[:10]}"})
    last = removals.rows[-1]
    rows.append({"label": f"ICE removals FY{last['fiscal_year']} to date", "value": last["value"],
                 "detail": f"as of {str(last['as_of_date'])[:10]}", "edition_id": last["edition_id"]})
    return Result(rows, provenance(wh, [r["edition_id"] for r in rows], definitions.DETENTION.strip()))


def same_date_copies(wh) -> Result:
    """Editions sharing an as-of date (re-saved or marked-up copies, re-issues) and how their figures differ."""
    rows = [{"as_of": str(as_of), "a": a, "b": b, **wh.diff_editions(a, b)}
            for a, b, as_of in wh.same_data_date_pairs()]
    return Result(rows, provenance(wh, [r[k] for r in rows for k in ("a", "b")]))


# -- charts ---------------------------------------------------------------------------------------------------
def _editions_note(frame: pd.DataFrame) -> str:
    """'N editions, data as of FIRST to LAST' for a chart's subtitle."""
    as_of = pd.to_datetime(frame["as_of"]).dropna()
    n = frame["edition_id"].nunique()
    return f"{n} edition{'s' if n != 1 else ''}, data as of {as_of.min():%Y-%m-%d} to {as_of.max():%Y-%m-%d}"


def _complete_months_by_agency(result: Result, nothing: str) -> pd.DataFrame:
    """The complete months of a monthly figure by agency, numbered into unbroken runs (a gap breaks the line)."""
    frame = pd.DataFrame(result.rows)
    if frame.empty:
        raise NothingToDraw(nothing)
    return gap_runs(frame[~frame["partial"]].assign(month=lambda d: pd.to_datetime(d["month"])), "month", ["agency"])


def book_ins_spec(book_ins: Result) -> alt.Chart:
    """Initial book-ins by arresting agency, complete months."""
    data = _complete_months_by_agency(book_ins, "no book-ins for these filters")
    return alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=14)).encode(
        x=alt.X("month:T", title=None, axis=month_axis()), y=alt.Y("value:Q", title="initial book-ins per month"),
        detail="run:N",
        color=alt.Color("agency:N", title="arresting agency", scale=alt.Scale(domain=["ICE", "CBP"],
                                                                               range=["#1f5a96", "#7f8c8d"])),
        tooltip=[alt.Tooltip("month:T", format="%Y-%m"), "agency:N", alt.Tooltip("value:Q", format=","),
                 "edition_id:N", alt.Tooltip("as_of:T", format="%Y-%m-%d")],
    ).properties(width=WIDTH, height=260, title=title(
        "Initial book-ins into ICE detention by arresting agency",
        "A book-in is not an arrest: ICE arrests released without detention are not here; CBP transfers are.",
        f"Latest vintage per complete month: {_editions_note(data)}"))


def book_outs_spec(book_outs: Result, removal_share: Result) -> alt.VConcatChart:
    """Final book-outs by outcome (stacked bars) and the removal share, complete months with a share."""
    by_reason, share = pd.DataFrame(book_outs.rows), pd.DataFrame(removal_share.rows)
    if by_reason.empty or share.empty:
        raise NothingToDraw("no book-outs with a removal share for these filters (the workbooks list removals "
                            "from FY2024 on)")
    share = share[~share["partial"]]
    reasons = by_reason[by_reason["month"].isin(share["month"])].assign(month=lambda d: pd.to_datetime(d["month"]))
    # a label every few months: a label per bar would overlap
    x = alt.X("yearmonth(month):T", title=None, axis=month_axis(tickCount=8))
    bars = alt.Chart(reasons).mark_bar().encode(
        x=x, y=alt.Y("sum(value):Q", title="final book-outs"),
        color=alt.Color("outcome:N", title="outcome", scale=OUTCOME_COLOURS),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), "release_reason:N", "outcome:N",
                 alt.Tooltip("sum(value):Q", format=",", title="book-outs")],
    ).properties(width=WIDTH, height=220)
    sh = share.assign(month=pd.to_datetime(share["month"])).melt(
        id_vars=["month", "partial"], value_vars=["removal_share", "removal_share_excluding_transfers"],
        var_name="share", value_name="value")
    line = alt.Chart(gap_runs(sh, "month", ["share"])).mark_line(point=True).encode(
        x=x, detail="run:N", y=alt.Y("value:Q", title="removal share", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("share:N", title=None, scale=alt.Scale(range=["#1f5a96", "#8e44ad"])),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), "share:N", alt.Tooltip("value:Q", format=".1%")],
    ).properties(width=WIDTH, height=140)
    return alt.vconcat(bars, line).resolve_scale(color="independent").properties(title=title(
        "Final book-outs by outcome, and the removal share",
        "'Release to Remove' is a removal; bond, recognizance, supervision, parole, terminated proceedings and relief"
        " are releases.",
        f"Latest vintage per complete month: {_editions_note(reasons)}; months before FY2024 list releases only"))


def detained_spec(snapshots: Result, monthly_adp: Result, beds: Result) -> alt.LayerChart:
    """Currently detained (each edition's snapshot) and monthly ADP against funded beds."""
    snap, adp = pd.DataFrame(snapshots.rows), pd.DataFrame(monthly_adp.rows)
    if snap.empty or adp.empty:
        raise NothingToDraw("no detained population for these filters")
    snap = snap.assign(date=pd.to_datetime(snap["as_of_date"]), series="currently detained (snapshot)")
    adp_month = adp[~adp["partial"]].assign(date=pd.to_datetime(adp["month"]) + pd.Timedelta(days=14),
                                            series="average daily population (month)")
    lines = pd.concat([gap_runs(snap[["date", "value", "series"]], "date", max_gap_days=SNAPSHOT_GAP_DAYS),
                       gap_runs(adp_month[["date", "value", "series"]], "date")])
    base = alt.Chart(lines).encode(
        x=alt.X("date:T", title=None, axis=month_axis()), y=alt.Y("value:Q", title="people in ICE detention"),
        detail="run:N",
        color=alt.Color("series:N", title=None, scale=alt.Scale(range=["#1f5a96", "#e67e22"])),
        tooltip=[alt.Tooltip("date:T"), "series:N", alt.Tooltip("value:Q", format=",.0f")])
    layers = [base.mark_line(strokeWidth=1.5), base.mark_point(size=18, filled=True)]
    funded = pd.DataFrame(beds.rows)
    if not funded.empty:
        b = funded.assign(start=pd.to_datetime(funded["period_start"]), end=pd.to_datetime(funded["period_end"]))
        layers.append(alt.Chart(b).mark_rule(color="#c0392b", strokeDash=[5, 3], strokeWidth=2).encode(
            x=alt.X("start:T", axis=month_axis()), x2="end:T", y="value:Q",
            tooltip=[alt.Tooltip("value:Q", format=",")]))
        layers.append(alt.Chart(b).mark_text(align="left", dy=-7, color="#c0392b").encode(
            x=alt.X("start:T", axis=month_axis()), y="value:Q",
            text=alt.value(f"funded beds {int(b.value.iloc[0]):,}")))
    return alt.layer(*layers).properties(width=WIDTH, height=280, title=title(
        "Detained population against funded beds",
        "Snapshots: each workbook's 'currently detained' on its as-of date; ADP: latest vintage, complete months.",
        f"Snapshots from {snap.edition_id.nunique()} editions; ADP: {_editions_note(adp)}"))


def alos_spec(alos_result: Result) -> alt.Chart:
    data = _complete_months_by_agency(alos_result, "no average length of stay")
    return alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=14)).encode(
        x=alt.X("month:T", title=None, axis=month_axis()), y=alt.Y("value:Q", title="average length of stay (days)"),
        detail="run:N",
        color=alt.Color("agency:N", title="arresting agency"),
        tooltip=[alt.Tooltip("month:T", format="%Y-%m"), "agency:N", alt.Tooltip("value:Q", format=".1f"),
                 "edition_id:N"],
    ).properties(width=WIDTH, height=240, title=title(
        "Average length of stay of people booked out, by month",
        f"Latest vintage, complete months: {_editions_note(data)}"))


def removals_to_date_spec(removals: Result) -> alt.Chart:
    frame = pd.DataFrame(removals.rows)
    if frame.empty:
        raise NothingToDraw("no removals to date")
    data = frame.assign(as_of_date=pd.to_datetime(frame["as_of_date"]),
                        fiscal_year="FY" + frame["fiscal_year"].astype(str))
    data = gap_runs(data, "as_of_date", ["fiscal_year"], max_gap_days=SNAPSHOT_GAP_DAYS)
    return alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("as_of_date:T", title="data as of", axis=month_axis()), detail="run:N",
        y=alt.Y("value:Q", title="removals, fiscal year to date"),
        color=alt.Color("fiscal_year:N", title=None),
        tooltip=[alt.Tooltip("as_of_date:T", format="%Y-%m-%d"), alt.Tooltip("value:Q", format=","),
                 "file_name:N"],
    ).properties(width=WIDTH, height=240, title=title(
        "ICE removals, fiscal year to date, in each workbook edition",
        "Counting rule changes: FY2025 adds expedited removals/voluntary returns not detained; from March 2025 "
        "Title 50 expulsions.", f"{data.edition_id.nunique()} editions"))

