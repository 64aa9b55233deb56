"""Datawrapper-ready CSVs (issue 18): each chart as one wide table read off its own spec - the x values first,
one column per series, the cells the values the chart draws (blank where it draws nothing, never 0) - with
the chart's title, source and notes in a last Source column (Datawrapper takes the first line as the header)."""

from __future__ import annotations

import csv
import io
from datetime import date

import altair as alt
import pandas as pd
import pytest

from icetrack.figures import arrests, charts, datawrapper, detention, outcomes
from icetrack.figures import ledger as targets_ledger
from icetrack.warehouse import open_warehouse


@pytest.fixture(scope="module")
def wh(bundled_warehouse):
    with open_warehouse(bundled_warehouse, read_only=True) as w:
        yield w


@pytest.fixture(scope="module")
def picture(wh):
    result = targets_ledger.picture(wh)
    return result, datawrapper.wide_table(charts.spec(targets_ledger.picture_spec(result))).set_index("month")


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_monthly_picture_holds_the_ledger_month_by_month(picture):
    result, table = picture
    # January 2025, hand-checked in tests/metrics/test_ledger.py: 11,753 ICE-arrested book-ins over 31 days,
    # the estimate divided by the FY2024 share booked in (90,615 of 113,431), its interval by FY2019 and FY2023.
    jan = table.loc[date(2025, 1, 16)]  # the chart draws each month at its middle
    assert jan["ICE-arrested book-ins"] == 379.1
    assert jan["Estimated ICE arrests"] == round(11753 / 31 / (90615 / 113431), 1)
    assert jan["Estimated ICE arrests (low)"] == round(11753 / 31 / (137084 / 143099), 1)
    assert jan["Estimated ICE arrests (high)"] == round(11753 / 31 / (84799 / 170590), 1)
    # March 2026 as the report's table prints it: 955 a day, estimate 1,196 (997-1,921)
    march = table.loc[date(2026, 3, 16)]
    assert [round(march[c]) for c in ("ICE-arrested book-ins", "Estimated ICE arrests", "Estimated ICE arrests (low)",
                                      "Estimated ICE arrests (high)")] == [955, 1196, 997, 1921]
    # every month of every series drawn, value for value
    for s in result.detail["ledger"]["series"]:
        drawn = {p["period_start"]: p["per_day"] for p in s["periods"] if p["per_day"] is not None}
        column = table[s["label"]].dropna()
        assert len(column) == len(drawn) == 31
        assert sorted(column.tolist()) == sorted(drawn.values())
    # ICE's posted days: their own rows (the peak, 1,179 on January 27), blank in the monthly columns
    posted = table["ICE posted arrests"].dropna()
    assert len(posted) == 9 and posted[date(2025, 1, 27)] == 1179 and posted.sum() == 7314
    assert pd.isna(table.loc[date(2025, 1, 27), "ICE-arrested book-ins"])


def test_goal_in_force_fills_the_dates_it_covers(picture):
    _, table = picture
    wapo = "Daily arrest goal, 1,200-1,500 (Washington Post)"
    white_house = "3,000 arrests a day (White House goal, May 2025)"
    assert pd.isna(table.loc[date(2025, 1, 16), f"{wapo} (low)"])  # before the directive of January 25
    assert table.loc[date(2025, 1, 25), [f"{wapo} (low)", f"{wapo} (high)"]].tolist() == [1200, 1500]
    assert table.loc[date(2025, 2, 14), f"{wapo} (high)"] == 1500
    assert table.loc[date(2025, 5, 20), f"{wapo} (low)"] == 1200 and pd.isna(table.loc[date(2025, 5, 20),
                                                                                      f"{white_house} (low)"])
    assert table.loc[date(2025, 5, 21), f"{white_house} (low)"] == 3000
    assert table[f"{wapo} (low)"].dropna().index.min() == date(2025, 1, 25)
    assert table[f"{white_house} (low)"].dropna().index.max() == date(2026, 4, 30)  # the chart's last day


def test_book_ins_one_column_per_agency_equal_to_the_complete_months(wh):
    result = detention.table(wh, "book_ins")
    text = datawrapper.csv_text(charts.spec(detention.book_ins_spec(result)), result.editions)
    table = pd.read_csv(io.StringIO(text))
    assert list(table.columns) == ["month", "ICE", "CBP", "Source"]  # the legend's order
    complete = [r for r in result.rows if not r["partial"]]
    assert table[["ICE", "CBP"]].notna().sum().sum() == len(complete)
    by_cell = {(str(r["month"])[:10], r["agency"]): r["value"] for r in complete}
    for row in table.itertuples():
        for agency in ("ICE", "CBP"):
            assert getattr(row, agency) == by_cell[row.month, agency]
    assert by_cell["2025-01-01", "ICE"] == table.set_index("month").loc["2025-01-01", "ICE"] == 11753


def test_stacked_book_outs_are_summed_as_the_bars_are(wh):
    book_outs, share = detention.table(wh, "book_outs"), detention.table(wh, "removal_share")
    table = datawrapper.wide_table(charts.spec(detention.book_outs_spec(book_outs, share))).set_index("month")
    assert list(table.columns) == ["removal", "release", "transfer", "other", "removal_share",
                                   "removal_share_excluding_transfers"]
    sums: dict[tuple, int] = {}
    for r in book_outs.rows:
        key = (date.fromisoformat(str(r["month"])[:10]), r["outcome"])
        sums[key] = sums.get(key, 0) + r["value"]
    for (month, outcome), total in sums.items():
        if month in table.index:
            assert table.loc[month, outcome] == total
    shares = {date.fromisoformat(str(r["month"])[:10]): r["removal_share"] for r in share.rows if not r["partial"]}
    assert table["removal_share"].dropna().to_dict() == shares


def test_daily_bars_one_series_and_targets_on_every_day(wh):
    daily = arrests.daily(wh, "ice_posted_arrests")
    table = datawrapper.wide_table(charts.spec(arrests.spec(daily)))
    key, bars = table.columns[:2]
    assert key.startswith("Reference date (as published") and bars == "Arrests posted by ICE per day"
    # weekday and weekend bars are shaded apart but are one series: one column
    assert table[bars].tolist() == [r["value"] for r in daily.rows] and table[bars].sum() == 7314
    assert table[key].tolist() == [date.fromisoformat(r["day"][:10]) for r in daily.rows]
    targets = daily.detail["series"]["targets"]
    wapo = next(t for t in targets if "Washington Post" in t["label"])
    assert set(table[f"{wapo['label']} (low)"]) == {wapo["value_low"]}
    assert set(table[f"{wapo['label']} (high)"]) == {wapo["value_high"]}
    baseline = next(t for t in targets if t["kind"] == "baseline")
    assert set(table[baseline["label"]]) == {baseline["value_low"]}


def test_funded_beds_only_over_the_period_they_were_funded(wh):
    t = {n: detention.table(wh, n) for n in ("detained", "adp", "funded_beds")}
    table = datawrapper.wide_table(charts.spec(detention.detained_spec(t["detained"], t["adp"], t["funded_beds"])))
    (beds,) = t["funded_beds"].rows
    column = next(c for c in table.columns if c.startswith("funded beds"))
    start, end = (date.fromisoformat(str(beds[k])[:10]) for k in ("period_start", "period_end"))
    inside = table[(table.date >= start) & (table.date <= end)]
    assert set(inside[column]) == {beds["value"]} and {start, end} <= set(inside.date)
    assert table.loc[(table.date < start) | (table.date > end), column].isna().all()
    snapshots = table["currently detained (snapshot)"].dropna()
    assert sorted(snapshots) == sorted(r["value"] for r in t["detained"].rows)


def test_suppressed_outcome_cells_are_blank_not_zero(synthetic_warehouse):
    with open_warehouse(synthetic_warehouse, read_only=True) as w:
        funnel = outcomes.funnel(w)
        text = datawrapper.csv_text(charts.spec(outcomes.funnel_spec(funnel)), funnel.editions,
                                    synthetic=funnel.synthetic)
    published = funnel.detail["result"]
    rows = _rows(text)
    header = rows[0]
    cells = {r[0]: dict(zip(header, r)) for r in rows[1:]}
    checked = blank = 0
    for release in published["releases"]:
        for r in release["rows"]:
            if r["cohort"] == "all":
                continue
            for state in published["states"]:
                share = r[state]["share"]
                cell = cells[str(r["cohort"])[:10]].get(state, "")
                if share is None:
                    assert cell == "", (r["cohort"], state)
                    blank += 1
                else:
                    assert float(cell) == share
                    checked += 1
    assert checked > 10 and blank > 0
    assert "SYNTHETIC DATA" in rows[1][-1]


def test_missing_value_is_blank_and_a_real_zero_stays():
    frame = pd.DataFrame({"month": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-01-01", "2025-02-01"]),
                          "series": ["a", "a", "b", "b"], "value": [1.5, None, 0.0, 2_000_000.0]})
    chart = alt.Chart(frame).mark_line().encode(x="month:T", y="value:Q", color="series:N").properties(
        title=alt.Title("Test chart", subtitle=["Defined as tested."]))
    rows = _rows(datawrapper.csv_text(charts.spec(chart), []))
    assert rows[0] == ["month", "a", "b", "Source"]  # the header row first: Datawrapper reads it as the header
    assert rows[1][:3] == ["2025-01-01", "1.5", "0"]
    assert rows[2] == ["2025-02-01", "", "2000000", ""]  # ISO date, blank, no thousands separator
    assert rows[1][3] == "Test chart. Source: no source editions. Note: Defined as tested."


def test_source_cell_names_publishers_dates_and_public_urls(wh):
    result = detention.table(wh, "book_ins")
    text = datawrapper.csv_text(charts.spec(detention.book_ins_spec(result)), result.editions,
                                "Monthly book-ins, ICE vs CBP arrests")
    rows = _rows(text)
    about = rows[1][-1]
    assert about.startswith("Monthly book-ins, ICE vs CBP arrests. Source: U.S. Immigration and Customs "
                            "Enforcement, Enforcement and Removal Operations: ICE detention statistics")
    n = len(result.editions)
    assert f"({n} editions, data as of 2019-10-04 to 2026-04-04" in about
    latest = max(result.editions, key=lambda e: str(e["as_of"]))["original_url"]
    assert latest.startswith("https://www.ice.gov/") and f"latest {latest}" in about
    assert "Note: A book-in is not an arrest" in about  # the chart's own subtitle
    assert all(r[-1] == "" for r in rows[2:])  # the first cell only
    assert "shared" not in about


def test_source_line_groups_editions_by_publisher():
    editions = [{"publisher": "ICE", "title": "FY25", "as_of": "2025-01-12", "published_on": "2025-01-16",
                 "original_url": "https://www.ice.gov/a.xlsx", "synthetic": False},
                {"publisher": "ICE", "title": "FY25", "as_of": "2025-02-09", "published_on": None,
                 "original_url": "javascript:alert(1)", "synthetic": False},
                {"publisher": "A newspaper", "title": "Report", "as_of": None, "published_on": "2025-01-26",
                 "original_url": None, "synthetic": False}]
    assert datawrapper.source_line(editions) == (
        "Source: A newspaper: Report (1 edition, published 2025-01-26); ICE: FY25 (2 editions, data as of "
        "2025-01-12 to 2025-02-09, published 2025-01-16), https://www.ice.gov/a.xlsx.")
    assert datawrapper.source_line(editions[:1], synthetic=True).endswith("SYNTHETIC DATA: generated, not from ICE.")


def test_file_names_are_slugs_of_the_title():
    assert datawrapper.file_name("Monthly book-ins, ICE vs CBP arrests") == "monthly-book-ins-ice-vs-cbp-arrests.csv"
    long = datawrapper.file_name("ICE arrests per day, October 2023 - April 2026, against the daily arrest goal in "
                                 "force")
    assert long == "ice-arrests-per-day-october-2023-april-2026-against-the-daily-arrest-goal-in.csv"
    assert datawrapper.file_name("<script>") == "script.csv" and datawrapper.file_name("???") == "chart.csv"


def test_a_chart_it_cannot_read_as_one_table_is_refused():
    frame = pd.DataFrame({"x": [1, 1], "y": [2.0, 3.0]})
    with pytest.raises(datawrapper.CannotTabulate, match="two values"):
        datawrapper.wide_table(charts.spec(alt.Chart(frame).mark_point().encode(x="x:Q", y="y:Q")))
    with pytest.raises(datawrapper.CannotTabulate, match="transform"):
        datawrapper.wide_table(charts.spec(alt.Chart(frame).transform_calculate(z="datum.y * 2").mark_line().encode(
            x="x:Q", y="z:Q")))
