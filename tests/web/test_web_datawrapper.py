"""Issue 18: every dashboard chart's data as a Datawrapper-ready CSV at /api/charts/{chart}.csv, with the chart's
own filters: the same wide table the chart's spec draws, as a text/csv attachment."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import get_args

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from icetrack.figures import datawrapper
from icetrack.web import create_app
from icetrack.web.params import ChartName


@pytest.fixture(scope="module")
def client(synthetic_warehouse):
    app = create_app(synthetic_warehouse)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.store.close()


def _table(response) -> pd.DataFrame:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return pd.read_csv(io.StringIO(response.text))


def _expected(client, url: str) -> pd.DataFrame:
    """The wide table of the spec /api/charts/... answers for the same chart and filters, dates as text."""
    expected = datawrapper.wide_table(client.get(url).json()["spec"])
    key = expected.columns[0]
    if isinstance(expected[key].iloc[0], date):
        expected[key] = expected[key].map(date.isoformat)
    return expected


@pytest.mark.parametrize("query", [
    *(f"{name}" for name in get_args(ChartName)),
    "book_ins?fiscal_year=2025&agency=ICE", "arrests?shift=1", "funnel?breakdown=criminality", "funnel?period=week",
    "km?breakdown=criminality", "cif?origin=book_in&breakdown=criminality", "capacity?beds=41500&days=90",
    "claims?verdict=contradicted"])
def test_each_chart_csv_is_the_table_its_spec_draws(client, query):
    chart, _, filters = query.partition("?")
    response = client.get(f"/api/charts/{chart}.csv" + (f"?{filters}" if filters else ""))
    table = _table(response)
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="[a-z0-9-]+\.csv"', disposition), disposition
    assert response.text.split("\n", 1)[0].endswith(",Source")  # the header row first
    pd.testing.assert_frame_equal(table.drop(columns="Source"), _expected(client, f"/api/charts/{query}"),
                                  check_dtype=False)
    assert table["Source"].iloc[0].count("Source: ") == 1 and table["Source"].iloc[1:].isna().all()


def test_filters_shape_the_table(client):
    table = _table(client.get("/api/charts/book_ins.csv?fiscal_year=2025&agency=ICE"))
    assert list(table.columns) == ["month", "ICE", "Source"]
    # FY2025's complete months: September 2025 is partial (the last FY2025 edition is as of September 7)
    assert table.month.tolist() == [f"{y}-{m:02d}-01" for y, m in [(2024, 10), (2024, 11), (2024, 12)] +
                                    [(2025, m) for m in range(1, 9)]]
    assert table.set_index("month").loc["2025-01-01", "ICE"] == 11753
    rows = client.get("/api/detention/book_ins?fiscal_year=2025&agency=ICE").json()["rows"]
    assert sorted(table.ICE) == sorted(r["value"] for r in rows if not r["partial"])
    source = table.Source[0]
    assert source.startswith("Initial book-ins into ICE detention by arresting agency. Source: ")
    assert "https://www.ice.gov/doclib/detention/" in source
    funnel = _table(client.get("/api/charts/funnel.csv?breakdown=criminality"))
    assert all(": " in c for c in funnel.columns[1:-1])  # one column per (group, state)
    assert "SYNTHETIC DATA" in funnel.Source[0]


@pytest.mark.parametrize("url,status,detail", [
    ("/api/charts/sql.csv", 404, "no chart 'sql' (charts: picture, arrests,"),
    ("/api/charts/book_outs.csv?fiscal_year=2020", 404, "no book-outs with a removal share"),
    ("/api/charts/arrests.csv?measure=book_ins", 404, "no daily series of 'book_ins'"),
])
def test_a_bad_chart_or_nothing_drawn_is_one_line(client, url, status, detail):
    r = client.get(url)
    assert r.status_code == status and isinstance(r.json()["detail"], str)
    assert r.json()["detail"].startswith(detail) and "\n" not in r.json()["detail"]


def test_bad_filters_are_refused(client):
    assert client.get("/api/charts/arrests.csv?shift=5").status_code == 422
    assert client.get("/api/charts/book_ins.csv?agency=FBI").status_code == 422


def test_every_chart_box_offers_the_download(client):
    for page, n in (("/", 1), ("/detention", 3), ("/outcomes", 3), ("/capacity", 3)):
        html = client.get(page).text
        assert html.count('class="download-datawrapper"') == html.count('class="chart-box"') == n, page
    script = client.get("/static/app.js").text
    assert '"/api/charts/" + name + ".csv"' in script


@pytest.fixture(scope="module")
def facility_client(tmp_path_factory):
    """The dashboard over two of ICE's real workbooks (their Facilities sheets): the facility charts."""
    from helpers import Icetrack, shared_data_dir

    shared = shared_data_dir()
    if shared is None or not (shared / "ice-detention-stats").is_dir():
        pytest.skip("real ICE workbooks not found (set $ICETRACK_SHARED_DATA to the folder of the real public "
                    "source files)")
    path = tmp_path_factory.mktemp("facility_csv") / "wh.duckdb"
    Icetrack(path)("ingest", *[str(shared / "ice-detention-stats" / f)
                               for f in ("FY25_detentionStats08292025.xlsx", "FY26_detentionStats02022026.xlsx")])
    app = create_app(path)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.store.close()


def test_facility_map_and_history_csvs(facility_client):
    body = facility_client.get("/api/facilities").json()
    table = _table(facility_client.get("/api/facility-charts/map.csv"))
    assert list(table.columns) == ["state", "ADP", "Source"]  # a state code and its value: a Datawrapper map
    expected = {r["state"]: round(r["adp"], 1) for r in body["by_state"] if r["adp"]}
    assert dict(zip(table.state, table.ADP)) == expected and table.state.is_monotonic_increasing
    assert "https://www.ice.gov/doclib/detention/FY26_detentionStats02022026.xlsx" in table.Source[0]
    facility = "adams-county-correctional-center-ms"
    history = _table(facility_client.get(f"/api/facility-charts/history.csv?facility={facility}"))
    rows = facility_client.get(f"/api/facilities/{facility}").json()["rows"]
    assert list(history.columns) == ["Edition's data date", *sorted({f"FY{r['fiscal_year']}" for r in rows}), "Source"]
    drawn = {(str(r["as_of"])[:10], f"FY{r['fiscal_year']}"): r["adp"] for r in rows if r["adp"] is not None}
    cells = {(d, fy): v for d, row in zip(history.iloc[:, 0], history.to_dict("records"))
             for fy, v in row.items() if fy.startswith("FY") and pd.notna(v)}
    assert cells == pytest.approx(drawn) and len(cells) == 2
    page = facility_client.get(f"/facilities/{facility}").text
    assert f'href="/api/facility-charts/history.csv?facility={facility}"' in page
    assert 'href="/api/facility-charts/map.csv"' in facility_client.get("/facilities").text
    r = facility_client.get("/api/facility-charts/globe.csv")
    assert r.status_code == 404 and r.json()["detail"].startswith("no facility chart 'globe' (charts: map, history)")
    r = facility_client.get("/api/facility-charts/history.csv")
    assert r.status_code == 422 and r.json()["detail"] == "the history chart needs facility=ID"
