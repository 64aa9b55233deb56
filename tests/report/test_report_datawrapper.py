"""Issue 18: every chart of the offline report carries its data as a Datawrapper-ready CSV, a download that works
offline (a percent-encoded data: URL; the page still has no script and fetches nothing)."""

from __future__ import annotations

import copy
import html as html_text
import io
import re
from datetime import date
from urllib.parse import unquote

import pandas as pd
import pytest

from icetrack.figures import charts, datawrapper, detention, evaluation
from icetrack.figures import ledger as targets_ledger
from icetrack.report.build import build_report
from icetrack.warehouse import open_warehouse

LINK = re.compile(r'<a class="datawrapper-csv" download="([^"]+)" href="([^"]+)">Data for Datawrapper \(CSV\)</a>')
PREFIX = "data:text/csv;charset=utf-8,"


@pytest.fixture(scope="module")
def report(synthetic_warehouse) -> str:
    """The report over the bundled figures and the synthetic release (every section drawn), with the capacity
    model's evaluation computed once here."""
    with open_warehouse(synthetic_warehouse, read_only=True) as wh:
        evaluated = evaluation.model_evaluation.evaluate(wh.ibis(), runs=evaluation.RUNS)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(evaluation, "evaluate", lambda wh, **kw: copy.deepcopy(evaluated))
            return build_report(wh)


@pytest.fixture(scope="module")
def downloads(report) -> dict[str, str]:
    """File name -> CSV text of every Datawrapper link."""
    found = {}
    for name, href in LINK.findall(report):
        assert href.startswith(PREFIX) and re.fullmatch(r"[A-Za-z0-9%_.~-]*", href[len(PREFIX):]), name
        found[name] = unquote(html_text.unescape(href)[len(PREFIX):])
    return found


def test_every_chart_has_a_datawrapper_link(report, downloads):
    assert report.count('<div class="chart">') == len(LINK.findall(report)) == len(downloads) == 13
    assert set(downloads) >= {"ice-arrests-per-day-month-by-month-against-the-goal-in-force.csv",
                              "daily-arrests-posted-by-ice-against-the-announced-targets.csv",
                              "monthly-book-ins-ice-vs-cbp-arrests.csv",
                              "projected-detained-population-against-beds.csv",
                              "forecast-error-by-horizon.csv", "time-to-outcome.csv"}
    # still one self-contained page: no script, nothing fetched
    assert "<script" not in report and not re.search(r'(src|href)="https?://[^"]*\.(js|css)"', report)


def test_every_download_parses_as_a_wide_table(downloads):
    dated = 0
    for name, text in downloads.items():
        table = pd.read_csv(io.StringIO(text), comment="#")  # no comment lines: the header row comes first
        assert table.columns[-1] == "Source" and table["Source"].notna().tolist() == [True] + [False] * (
            len(table) - 1), name
        assert "Source: " in table["Source"][0], name
        series = table.columns[1:-1]
        assert len(series) >= 1 and len(table) >= 2, name
        for column in series:  # numbers as numbers: no thousands separator, no text
            assert pd.api.types.is_numeric_dtype(table[column]), (name, column)
        key = table[table.columns[0]]
        if key.dtype == object and key.str.match(r"\d{4}-").any():  # dates are ISO days, one row each
            assert key.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all() and key.is_unique and key.is_monotonic_increasing
            dated += 1
        else:  # days since arrest, a horizon, a nominal coverage
            assert pd.api.types.is_numeric_dtype(key) and key.is_monotonic_increasing, name
    assert dated == 10


def test_downloads_hold_what_the_charts_draw(synthetic_warehouse, downloads):
    with open_warehouse(synthetic_warehouse, read_only=True) as wh:
        picture = targets_ledger.picture(wh)
        expected_picture = datawrapper.wide_table(charts.spec(targets_ledger.picture_spec(picture)))
        book_ins = detention.table(wh, "book_ins")
        expected_book_ins = datawrapper.wide_table(charts.spec(detention.book_ins_spec(book_ins)))
    for name, expected in (("ice-arrests-per-day-month-by-month-against-the-goal-in-force.csv", expected_picture),
                           ("monthly-book-ins-ice-vs-cbp-arrests.csv", expected_book_ins)):
        table = pd.read_csv(io.StringIO(downloads[name])).drop(columns="Source")
        expected = expected.assign(**{expected.columns[0]: expected.iloc[:, 0].map(date.isoformat)})
        pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    monthly = pd.read_csv(io.StringIO(downloads["ice-arrests-per-day-month-by-month-against-the-goal-in-force.csv"]))
    jan = monthly.set_index("month").loc["2025-01-16"]
    assert jan["ICE-arrested book-ins"] == 379.1  # 11,753 book-ins over 31 days (tests/metrics/test_ledger.py)
    book_ins = pd.read_csv(io.StringIO(downloads["monthly-book-ins-ice-vs-cbp-arrests.csv"])).set_index("month")
    assert book_ins.loc["2025-01-01", "ICE"] == 11753
    assert "https://www.ice.gov/doclib/detention/" in book_ins["Source"].iloc[0]
    outcome = pd.read_csv(io.StringIO(downloads["arrest-cohorts-by-state-at-the-cut-off.csv"]))
    assert "SYNTHETIC DATA" in outcome["Source"][0]


def test_hostile_labels_stay_text_in_the_downloads(tmp_path):
    """Labels come from files anyone can write: in a CSV a spreadsheet opens, a formula-like label is text."""
    from hostile import FORMULA, SCRIPT, hostile_warehouse

    def not_evaluated(wh, **kwargs):
        raise ValueError("not evaluated in this test")

    with open_warehouse(hostile_warehouse(tmp_path), read_only=True) as wh, pytest.MonkeyPatch.context() as mp:
        mp.setattr(evaluation, "evaluate", not_evaluated)
        html = build_report(wh)
    daily = next(unquote(href[len(PREFIX):]) for name, href in LINK.findall(html) if name.startswith("daily-arrests"))
    header = pd.read_csv(io.StringIO(daily)).columns.tolist()
    assert f"'{FORMULA} (low)" in header and f"{SCRIPT} (low)" in header
    assert not [c for c in header if c.startswith(("=", "+", "-", "@"))]
