"""The dashboard's defences, on a warehouse loaded through the real CLI with hostile labels, notes, URLs and file
names: security headers on every response, escaped pages, CSV cells a spreadsheet reads as text, standard
JSON, a bounded and cheap ``/api/targets/daily?by=``, and a warehouse other processes can read and write while the
server runs (it holds the file only while computing; 503 with Retry-After while a writer has it)."""

from __future__ import annotations

import csv
import io
import json
import random
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from helpers import Icetrack
from hostile import FIGURES_FILE, FORMULA, SCRIPT, TARGETS_FILE, URL, assert_nothing_injected, hostile_warehouse, \
    write_csv, zero_book_outs_csv
from icetrack.figures import arrests
from icetrack.figures.csv_cells import FORMULA_START
from icetrack.web import create_app
from icetrack.web.security import PAGE_CSP, RESOURCE_CSP
from icetrack.web.serialize import json_bytes
from icetrack.web.store import ReadOnlyStore


def strict_json(text: str):
    """JSON as the standard defines it: NaN, Infinity and -Infinity are refused."""
    def refuse(constant: str):
        raise ValueError(f"not standard JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def csp(response) -> dict[str, str]:
    return dict(d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";"))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile_web")
    path = hostile_warehouse(folder)
    Icetrack(path)("ingest", str(zero_book_outs_csv(folder)))
    return path


@pytest.fixture(scope="module")
def client(hostile):
    app = create_app(hostile)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.store.close()


# -- headers ------------------------------------------------------------------------------------------------
ROUTES = [("page", "/", 200), ("chart page", "/arrests", 200), ("sources page", "/sources", 200),
          ("API JSON", "/api/sources", 200), ("API CSV", "/api/targets?format=csv", 200),
          ("chart JSON", "/api/charts/arrests", 200), ("chart PNG", "/api/charts/arrests?format=png", 200),
          ("chart SVG", "/api/charts/book_ins?format=svg", 200), ("static script", "/static/app.js", 200),
          ("static style", "/static/app.css", 200), ("vega bundle", "/vendor/vega-embed.js", 200),
          ("OpenAPI", "/openapi.json", 200), ("not found", "/api/series/no_such_measure", 404),
          ("invalid", "/api/targets?by=tomorrow", 422), ("bad ledger request", "/api/targets?grain=decade", 400),
          ("no such route", "/no/such/page", 404)]


@pytest.mark.parametrize("family, url, status", ROUTES, ids=[r[0] for r in ROUTES])
def test_security_headers_on_every_route_family(client, family, url, status):
    r = client.get(url)
    assert r.status_code == status, r.text[:200]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    policy = csp(r)
    assert policy["frame-ancestors"] == "'none'" and policy["default-src"] == "'none'"
    if r.headers["content-type"].startswith("text/html"):
        # the pages run the two scripts served from here, and nothing inline or evaluated
        assert r.headers["content-security-policy"] == PAGE_CSP
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
        assert policy["connect-src"] == "'self'" and policy["base-uri"] == "'none'"
    else:
        assert r.headers["content-security-policy"] == RESOURCE_CSP
    assert "unsafe" not in r.headers["content-security-policy"]


# -- escaping -----------------------------------------------------------------------------------------------
def test_pages_show_hostile_text_as_text(client):
    arrests_page = client.get("/arrests").text
    page = assert_nothing_injected(arrests_page, allowed_tags=frozenset({"script", "form"}))
    scripts = [(a.get("src"), a) for tag, a in page.elements if tag == "script"]
    assert [src for src, _ in scripts] == ["/vendor/vega-embed.js", "/static/embed.js", "/static/app.js"]
    assert SCRIPT in "".join(page.text) and FORMULA in "".join(page.text)  # the targets' labels, as text
    # the first page's sentences name every target in force, the hostile ones included: as text
    first = assert_nothing_injected(client.get("/").text, allowed_tags=frozenset({"script"}))
    assert SCRIPT in "".join(first.text) and FORMULA in "".join(first.text)
    sources = assert_nothing_injected(client.get("/sources").text)
    text = "".join(sources.text)
    assert TARGETS_FILE in text and FIGURES_FILE in text
    assert [a["href"] for tag, a in sources.elements if tag == "a" and a.get("href") == URL]


# -- CSV ----------------------------------------------------------------------------------------------------
def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


def runs_in_a_spreadsheet(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


@pytest.mark.parametrize("url", ["/api/targets/daily", "/api/series/ice_posted_arrests", "/api/sources"])
def test_csv_downloads_write_formulas_as_text_and_numbers_as_numbers(client, url):
    rows = client.get(url).json()["rows"]
    cells = csv_rows(client.get(f"{url}?format=csv"))
    assert len(cells) == len(rows)
    neutralised = negative = 0
    for row, written in zip(rows, cells):
        for k, v in row.items():
            if isinstance(v, (dict, list)):
                continue
            if runs_in_a_spreadsheet(v):
                assert written[k] == "'" + v, (k, v, written[k])
                neutralised += 1
            else:
                assert written[k] == ("" if v is None else str(v)), (k, v, written[k])
                negative += isinstance(v, (int, float)) and v < 0
    assert neutralised  # the hostile labels, notes and field-office names are in each of these tables
    if url == "/api/targets/daily":
        assert negative  # shortfalls above a target are negative numbers, and stay numbers
        labels = {r["target_id"]: r["target_label"] for r in cells}
        assert labels["hostile_formula"] == "'" + FORMULA


# -- JSON ---------------------------------------------------------------------------------------------------
def test_json_is_standard_json_with_null_for_what_has_no_value(client):
    body = strict_json(client.get("/api/detention/removal_share").text)
    (zero,) = [r for r in body["rows"] if r["month"].startswith("2017-01")]
    assert zero["book_outs"] == 0 and zero["removal_share"] is None  # 0 / 0
    for url in ("/api/charts/book_outs", "/api/targets", "/api/targets/daily", "/api/picture", "/openapi.json"):
        strict_json(client.get(url).text)
    assert json_bytes({"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5]}) == \
        b'{"a": null, "b": [null, null, 1.5]}'


# -- /api/targets/daily?by= ---------------------------------------------------------------------------------
def test_targets_by_outside_the_data_is_one_line_422(client):
    for by in ("1990-01-01", "2999-12-31", "2025-01-01"):
        r = client.get(f"/api/targets/daily?by={by}")
        assert r.status_code == 422, (by, r.text)
        detail = r.json()["detail"]
        assert "\n" not in detail and f"by {by} is outside" in detail


def test_targets_by_answers_what_the_ledger_computes_for_that_date(client):
    store = client.app.state.store
    for by in ("2025-01-25", "2025-01-31", "2025-02-01", "2025-03-31", "2026-06-30"):
        got = strict_json(client.get(f"/api/targets/daily?by={by}").text)
        with store.session():
            expected = strict_json(json_bytes(arrests.targets(store.warehouse(), date.fromisoformat(by)).as_json()))
        assert got == expected, by
        assert got["by"] == by and {r["pace_by"] for r in got["rows"]} == {by}
        assert csv_rows(client.get(f"/api/targets/daily?by={by}&format=csv"))[0]["pace_by"] == by


def test_a_hundred_dates_cost_one_ledger_computation(hostile, monkeypatch):
    computed = []
    real = arrests.targets
    monkeypatch.setattr(arrests, "targets", lambda wh, by=None, **kw: computed.append(by) or real(wh, by, **kw))
    app = create_app(hostile)
    rnd = random.Random(12)
    statuses: dict[int, int] = {}
    with TestClient(app) as c:
        for _ in range(100):
            day = date(1990, 1, 1) + timedelta(days=rnd.randrange(60 * 365))
            status = c.get(f"/api/targets/daily?by={day}").status_code
            statuses[status] = statuses.get(status, 0) + 1
    app.state.store.close()
    assert set(statuses) == {200, 422} and sum(statuses.values()) == 100
    assert computed == [None]


# -- the warehouse while serving ----------------------------------------------------------------------------
@pytest.fixture
def fresh_warehouse(tmp_path) -> Path:
    path = tmp_path / "wh.duckdb"
    Icetrack(path)("editions")  # first use: the bundled reference data
    return path


def posts_csv(folder: Path, value: int = 4321) -> Path:
    return write_csv(folder / "posts.csv", ["date", "measure", "value", "unit", "source_url"],
                     [["2025-02-03", "ice_posted_arrests", str(value), "arrests", "https://example.org/post"]])


def cli(warehouse: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "icetrack.cli", "--warehouse", str(warehouse), *args],
                          capture_output=True, text=True, timeout=120, env={**os.environ, **env})


def wait_until(condition, seconds: float) -> float:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, "timed out"
        time.sleep(0.05)
    return time.monotonic() - start


def test_server_lets_go_of_the_warehouse_when_idle_and_serves_what_was_ingested(fresh_warehouse, tmp_path):
    app = create_app(fresh_warehouse)
    store = app.state.store
    with TestClient(app) as c:
        before = c.get("/api/sources").json()["rows"]
        assert c.get("/api/series/ice_posted_arrests?start=2025-02-03").json()["rows"] == []
        assert wait_until(lambda: not store.is_open(), 5) < store.idle_seconds + 1.5
        assert c.get("/api/sources").status_code == 200 and not store.is_open()  # cached: the file stays closed
        # another process writes, without waiting for a lock
        ingest = cli(fresh_warehouse, "ingest", str(posts_csv(tmp_path)), ICETRACK_LOCK_WAIT="0")
        assert ingest.returncode == 0, ingest.stderr
        after = c.get("/api/sources").json()["rows"]
        assert len(after) == len(before) + 1
        (row,) = c.get("/api/series/ice_posted_arrests?start=2025-02-03").json()["rows"]
        assert row["value"] == 4321
    app.state.store.close()


def test_a_writer_holding_the_lock_gets_a_503_with_retry_after(fresh_warehouse, monkeypatch):
    monkeypatch.setenv("ICETRACK_LOCK_WAIT", "0")  # the server's own wait applies, not the CLI's longer one
    app = create_app(fresh_warehouse)
    store = app.state.store
    writer = None
    try:
        with TestClient(app) as c:
            assert c.get("/api/sources").status_code == 200
            wait_until(lambda: not store.is_open(), 5)
            writer = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                                       "print('locked', flush=True); sys.stdin.read(); c.close()",
                                       str(fresh_warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert writer.stdout.readline().strip() == "locked"
            # what was computed before is still answered, from the cache, without the file
            assert c.get("/api/sources").status_code == 200
            start = time.monotonic()
            r = c.get("/api/measures")
            waited = time.monotonic() - start
            assert r.status_code == 503 and r.headers["retry-after"] == "1"
            detail = r.json()["detail"]
            assert "another process is writing the warehouse" in detail and "\n" not in detail
            assert store.busy_seconds <= waited < store.busy_seconds + 2
            # requests queued behind the writer are answered after one wait, not one wait each
            urls = [f"/api/capacity/projection?arrests_per_day={n}" for n in range(1000, 1006)]
            start = time.monotonic()
            with ThreadPoolExecutor(len(urls)) as pool:
                statuses = list(pool.map(lambda u: c.get(u).status_code, urls))
            assert statuses == [503] * len(urls) and time.monotonic() - start < store.busy_seconds + 2
            writer.stdin.close()
            writer.wait(timeout=20)
            assert c.get("/api/measures").status_code == 200
    finally:
        if writer is not None and writer.poll() is None:
            writer.kill()
        app.state.store.close()


def test_a_warehouse_gone_under_the_server_is_a_503_without_its_path(fresh_warehouse):
    app = create_app(fresh_warehouse)
    store = app.state.store
    with TestClient(app) as c:
        assert c.get("/api/sources").status_code == 200
        wait_until(lambda: not store.is_open(), 5)
        moved = fresh_warehouse.rename(fresh_warehouse.with_name("moved.duckdb"))
        r = c.get("/api/measures")
        assert r.status_code == 503 and "retry-after" not in r.headers
        assert r.json() == {"detail": "the warehouse cannot be read right now"}
        moved.rename(fresh_warehouse)
        assert c.get("/api/measures").status_code == 200
    store.close()


WRITER = """
import duckdb, sys, time
start = time.monotonic()
while True:
    try:
        duckdb.connect(sys.argv[1]).close()
        break
    except duckdb.IOException:
        time.sleep(0.05)
print(time.monotonic() - start, flush=True)
"""


def test_a_waiting_writer_gets_its_turn_under_constant_load(fresh_warehouse):
    store = ReadOnlyStore(fresh_warehouse, max_hold_seconds=0.5)
    stop = threading.Event()
    served = []

    def load() -> None:
        while not stop.is_set():
            try:
                with store.session():
                    served.append(len(store.warehouse().editions()))
            except Exception as e:  # noqa: BLE001 - a 503 while the writer holds the file is expected
                served.append(type(e).__name__)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        writer = subprocess.run([sys.executable, "-c", WRITER, str(fresh_warehouse)], capture_output=True,
                                text=True, timeout=60)
        assert writer.returncode == 0, writer.stderr
        assert float(writer.stdout) < 3  # at most a hold and the gap, not "whenever the load stops"
    finally:
        stop.set()
        for t in threads:
            t.join()
        store.close()
    assert served.count(served[0]) > 10 and isinstance(served[0], int)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_commands_and_ingest_run_while_the_dashboard_serves(fresh_warehouse, tmp_path):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "icetrack.cli", "--warehouse", str(fresh_warehouse), "serve",
                               "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def page_loads() -> bool:
            try:
                return httpx.get(base + "/sources", timeout=10).status_code == 200
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read()
                return False

        wait_until(page_loads, 60)
        n_editions = len(httpx.get(base + "/api/sources", timeout=10).json()["rows"])
        series = cli(fresh_warehouse, "series", "book_ins", "--json")
        assert series.returncode == 0, series.stderr
        assert len(json.loads(series.stdout)) > 100
        ingest = cli(fresh_warehouse, "ingest", str(posts_csv(tmp_path, 2468)))
        assert ingest.returncode == 0, ingest.stderr
        assert len(httpx.get(base + "/api/sources", timeout=10).json()["rows"]) == n_editions + 1
        rows = httpx.get(base + "/api/series/ice_posted_arrests?start=2025-02-03", timeout=10).json()["rows"]
        assert [r["value"] for r in rows] == [2468]
    finally:
        server.terminate()
        server.wait(timeout=20)
