"""The facilities pages and API over real ICE workbooks (https://www.ice.gov/detain/detention-management): JSON and
CSV agree, a former id finds the renamed facility, bad ids are refused, the bundle alone says how to load the
workbooks; and in a real browser (Debian's Chromium) the table sorts by a click and the state map is drawn
offline."""

from __future__ import annotations

import csv
import io
import shutil
import socket
import threading
import time
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from helpers import INJECTIONS, Icetrack, shared_data_dir

from icetrack.web import create_app

SHARED = shared_data_dir()
WORKBOOKS = SHARED / "ice-detention-stats" if SHARED else None
FILES = ("FY25_detentionStats08292025.xlsx", "FY26_detentionStats02022026.xlsx")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    if WORKBOOKS is None or not WORKBOOKS.is_dir():
        pytest.skip("real ICE workbooks not found (set $ICETRACK_SHARED_DATA to the folder of real public source files)")
    path = tmp_path_factory.mktemp("facilities_web") / "wh.duckdb"
    Icetrack(path)("ingest", *[str(WORKBOOKS / f) for f in FILES])
    return path


@pytest.fixture(scope="module")
def client(warehouse):
    app = create_app(warehouse)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.store.close()


def test_api_facilities_json_and_csv_agree(client):
    body = client.get("/api/facilities?state=ms").json()
    assert body["state"] == "MS" and {r["state"] for r in body["rows"]} == {"MS"}
    csv_rows = list(csv.DictReader(io.StringIO(client.get("/api/facilities?state=MS&format=csv").text)))
    assert [r["facility_id"] for r in csv_rows] == [r["facility_id"] for r in body["rows"]]
    assert body["provenance"]["editions"] and "Level A-D" in body["provenance"]["definitions"]


def test_api_facility_history_by_former_id(client):
    body = client.get("/api/facilities/adams-county-detention-center-ms").json()
    assert body["facility_id"] == "adams-county-correctional-center-ms"
    assert [r["file_name"] for r in body["rows"]] == list(FILES)
    assert body["renames"][0]["evidence"].startswith("Both rows: 20 HOBO FORK RD.")
    chart = client.get("/api/facility-charts/history?facility=adams-county-correctional-center-ms").json()
    assert chart["spec"]["layer"][0]["mark"]["type"] == "line" and chart["source_note"].startswith("Source:")


def test_state_map_is_a_geoshape_from_the_packaged_boundaries(client):
    chart = client.get("/api/facility-charts/map").json()
    spec = chart["spec"]
    assert spec["projection"]["type"] == "albersUsa"
    assert {layer["mark"]["type"] for layer in spec["layer"]} == {"geoshape"}
    features = spec["data"]["values"]  # inline: nothing is fetched to draw it
    assert {"TX", "CA", "NY"} <= {f["properties"]["state"] for f in features}
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in features)
    assert '"url"' not in str(spec).replace("'", '"')
    png = client.get("/api/facility-charts/map?format=png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"


@pytest.mark.parametrize("url, status", [
    ("/api/facilities/no-such-facility-xx", 404), ("/api/facilities?state=ZZ", 404),
    ("/api/facilities?state=Texas", 422), ("/api/facility-charts/history", 422), ("/facilities?state=ZZ", 404),
    *[(f"/api/facilities/{quote(value, safe='')}", 422) for value in INJECTIONS if "/" not in value],
    *[(f"/api/facilities?state={quote(value, safe='')}", 422) for value in INJECTIONS],
])
def test_bad_parameters_are_refused(client, url, status):
    assert client.get(url).status_code == status


def test_pages_link_each_facility_to_its_history(client):
    page = client.get("/facilities").text
    assert 'href="/facilities/adams-county-correctional-center-ms"' in page
    assert 'id="facilities-table"' in page and 'data-chart-url="/api/facility-charts/map"' in page
    assert '<a href="/facilities" aria-current="page">Facilities</a>' in page
    detail = client.get("/facilities/adams-county-correctional-center-ms").text
    assert "ADAMS COUNTY DET CENTER" in detail and "facility-history" in detail


def test_the_bundle_alone_says_how_to_load_the_workbooks(synthetic_warehouse):
    app = create_app(synthetic_warehouse)
    with TestClient(app) as c:
        page = c.get("/facilities")
        assert page.status_code == 200 and "icetrack ingest &lt;workbooks&gt;" in page.text
        assert 'id="facilities-table"' not in page.text
        assert c.get("/api/facilities").status_code == 404
    app.state.store.close()


CHROMIUM = shutil.which("chromium")
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the dev dependencies include it
    sync_playwright = None


@pytest.mark.skipif(CHROMIUM is None or sync_playwright is None,
                    reason="Debian chromium and playwright are needed (.ci/run installs chromium)")
def test_browser_sorts_the_table_and_draws_the_map_offline(warehouse):
    import uvicorn

    app = create_app(warehouse)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            requested, problems = [], []
            page.on("request", lambda r: requested.append(r.url))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(base + "/facilities")
            page.wait_for_function("() => document.querySelector('#chart-facility-map').dataset.state === 'ready'",
                                   timeout=60_000)
            assert page.locator("#chart-facility-map svg path").count() > 50  # state shapes drawn
            adp = "#facilities-table th[data-key=adp] button"

            def first_adps() -> list[float]:
                cells = page.locator("#facilities-table tbody tr td:nth-child(6)")
                return [float(cells.nth(i).get_attribute("data-value")) for i in range(5)]

            page.click(adp)
            ascending = first_adps()
            page.click(adp)
            descending = first_adps()
            assert ascending == sorted(ascending) and descending == sorted(descending, reverse=True)
            assert descending[0] > ascending[-1]
            assert page.locator("#facilities-table th[data-key=adp]").get_attribute("aria-sort") == "descending"
            page.click("#facilities-table tbody tr:first-child a")
            page.wait_for_function("() => document.querySelector('#chart-facility-history').dataset.state === 'ready'",
                                   timeout=60_000)
            browser.close()
        assert problems == []
        assert [u for u in requested if not u.startswith(base + "/")] == []
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.store.close()
