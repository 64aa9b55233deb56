"""The JSON API over a real warehouse (bundled reference data + a small synthetic person-level release):
values, CSV = JSON, parameter validation, injection-shaped input, suppression, and read-only access."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta

import duckdb
import httpx
import pytest
from fastapi.testclient import TestClient

from helpers import INJECTIONS, Icetrack
from icetrack.warehouse import WarehouseError, open_warehouse
from icetrack.web import create_app
from icetrack.web.params import Verdict
from icetrack.web.store import ResponseCache



@pytest.fixture(scope="module")
def client(synthetic_warehouse):
    app = create_app(synthetic_warehouse)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.store.close()


def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def as_text(v) -> str:
    """How the CSV writer renders a JSON value (None -> empty, bool -> True/False)."""
    return "" if v is None else str(v)


def assert_csv_matches_json(client, url: str) -> list[dict]:
    rows = client.get(url).json()["rows"]
    sep = "&" if "?" in url else "?"
    from_csv = csv_rows(client.get(f"{url}{sep}format=csv"))
    assert len(from_csv) == len(rows)
    for a, b in zip(rows, from_csv):
        assert {k: as_text(v) for k, v in a.items() if not isinstance(v, (dict, list))} == \
               {k: v for k, v in b.items() if not isinstance(a.get(k), (dict, list))}
    return rows


def test_posted_arrests_series_with_provenance(client):
    r = client.get("/api/series/ice_posted_arrests")
    assert r.status_code == 200
    body = r.json()
    rows = body["rows"]
    assert len(rows) == 9
    assert sum(x["value"] for x in rows) == 7314
    top = max(rows, key=lambda x: x["value"])
    assert (top["value"], top["period_start"]) == (1179, "2025-01-27")
    (edition,) = body["provenance"]["editions"]
    assert edition["edition_id"] == rows[0]["edition_id"] and edition["synthetic"] is False
    # the catalogue's definition of the measure travels with its figures
    from icetrack.domain.catalogue import CATALOGUE

    assert body["provenance"]["definitions"] == CATALOGUE["ice_posted_arrests"].definition


def test_daily_series_shifted_back_one_day(client):
    rows = client.get("/api/daily/ice_posted_arrests?shift=1").json()["rows"]
    top = max(rows, key=lambda x: x["value"])
    assert (top["value"], top["day"], top["shift_days"]) == (1179, "2025-01-26", 1)


def test_daily_targets_ledger_and_csv(client):
    """The January 2025 ledger of daily series (the old /api/targets) is kept at /api/targets/daily."""
    body = client.get("/api/targets/daily").json()
    nbc = [r for r in body["rows"] if r["target_id"] == "nbc_daily_quota_2025" and r["measure"] == "ice_posted_arrests"
           and r["variant"] == "as_published"]
    assert len(nbc) == 1
    assert (nbc[0]["value_low"], nbc[0]["value_high"]) == (1200, 1400)
    assert nbc[0]["days_meeting_low"] == 0 and nbc[0]["total"] == 7314 and nbc[0]["shortfall_low"] == 1200 * 9 - 7314
    assert_csv_matches_json(client, "/api/targets/daily")


def _series(doc: dict, series_id: str) -> dict:
    (found,) = [s for s in doc["series"] if s["series_id"] == series_id]
    return found


def test_targets_ledger_by_month(client):
    r = client.get("/api/targets?grain=month")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc == client.get("/api/targets").json()  # month is the default grain
    assert (doc["grain"], doc["grain_text"]) == ("month", "each calendar month")
    assert {"definitions", "readings", "targets", "not_readable", "not_loaded", "provenance"} <= doc.keys()
    book_ins = _series(doc, "book_ins.ice_arrested")
    (january,) = [p for p in book_ins["periods"] if p["period_start"] == "2025-01-01"]
    assert (january["per_day"], january["total"], january["days_covered"]) == (379.1, 11753, 31)
    goal = next(t for t in book_ins["targets"] if t["track"] == "daily_arrest_goal")
    (march,) = [p for p in goal["periods"] if p["period_start"] == "2026-03-01"]
    assert (march["per_day"], march["in_force"], march["attainment_low_pct"]) == (
        955.0, ["white_house_goal_3000_2025"], 31.8)
    estimate = _series(doc, "arrests.estimated")
    assert estimate["bridge"]["bridge"].startswith("arrests.from_book_ins")
    # the synthetic release's arrests are a series of their own, marked in the provenance
    assert doc["provenance"]["synthetic"] is True


def test_targets_ledger_filters_and_csv(client):
    url = "/api/targets?grain=fytd&series=book_ins.ice_arrested&target=white_house_goal_3000_2025&since=2025-10-01"
    doc = client.get(url).json()
    assert doc["grain"] == "fytd" and doc["since"] == "2025-10-01"
    (series,) = doc["series"]
    assert series["series_id"] == "book_ins.ice_arrested" and series["periods"][0]["period_end"] >= "2025-10-01"
    assert [t["target_id"] for t in doc["targets"]] == ["white_house_goal_3000_2025"]
    rows = csv_rows(client.get(url + "&format=csv"))
    from icetrack.figures.ledger import ROW_FIELDS

    assert list(rows[0]) == list(ROW_FIELDS)
    assert {r["series_id"] for r in rows} == {"book_ins.ice_arrested"}
    assert {r["track"] for r in rows} == {"daily_arrest_goal"}
    march = [r for r in csv_rows(client.get("/api/targets?series=book_ins.ice_arrested&format=csv"))
             if r["period_start"] == "2026-03-01" and r["track"] == "daily_arrest_goal"]
    assert [(r["per_day"], r["target_low"], r["in_force"]) for r in march] == [
        ("955.0", "3000.0", "white_house_goal_3000_2025")]


@pytest.mark.parametrize("url, message", [
    ("/api/targets?grain=week&series=book_ins.ice_arrested",
     "series 'book_ins.ice_arrested' is published per month; it cannot be read per week (readable: month, fytd)"),
    ("/api/targets?target=no_such_target", "target 'no_such_target' is not loaded (known: "),
    ("/api/targets?series=no.such.series", "series 'no.such.series' is not one of "),
    ("/api/targets?grain=decade", "grain 'decade' is not one of day, week, month, fytd"),
])
def test_targets_ledger_refuses_what_it_cannot_form_with_a_one_line_400(client, url, message):
    r = client.get(url)
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert detail.startswith(message) and "\n" not in detail


def test_picture_endpoint_and_chart(client):
    body = client.get("/api/picture").json()
    assert body["since"] == "2023-10-01" and body["ledger"]["grain"] == "month"
    assert body["sentences"][0].startswith("ICE-arrested book-ins averaged 955 a day in March 2026, 32% of the 3,000")
    assert {s["series_id"] for s in body["ledger"]["series"]} >= {"book_ins.ice_arrested", "arrests.estimated"}
    chart = client.get("/api/charts/picture").json()
    assert chart["spec"]["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert "ICE arrests per day" in str(chart["spec"]["title"]) and chart["source_note"].startswith("Source:")
    assert chart["csv_url"] == "/api/picture?format=csv"
    rows = csv_rows(client.get(chart["csv_url"]))
    assert {r["series_id"] for r in rows} >= {"book_ins.ice_arrested", "arrests.estimated"}


def test_revisions_settle_at_the_latest_value(client):
    body = client.get("/api/revisions/book_ins?period=2025-01&agency=ICE").json()
    (series,) = body["series"]
    assert series["latest_value"] == 11753 and series["first_value"] == 2363
    assert [r["value"] for r in body["rows"]][:2] == [2363, 6552]
    assert_csv_matches_json(client, "/api/revisions/book_ins?period=2025-01&agency=ICE")


def test_detention_tables_filter_by_fiscal_year_and_agency(client):
    rows = client.get("/api/detention/book_ins?fiscal_year=2025&agency=ICE").json()["rows"]
    assert {r["agency"] for r in rows} == {"ICE"}
    assert {r["month"][:7] for r in rows} == {f"{y}-{m:02d}" for y, m in
                                             [(2024, 10), (2024, 11), (2024, 12)] + [(2025, m) for m in range(1, 10)]}
    assert next(r for r in rows if r["month"].startswith("2025-01"))["value"] == 11753
    share = client.get("/api/detention/removal_share?fiscal_year=2024").json()["rows"]
    assert round(share[0]["removal_share"], 3) == 0.478 and share[0]["month"] == "2023-10-01"
    for table in ("book_outs", "detained", "removals_to_date"):
        assert_csv_matches_json(client, f"/api/detention/{table}?fiscal_year=2024")


def test_sources_csv_matches_json(client):
    rows = assert_csv_matches_json(client, "/api/sources")
    assert any(r["synthetic"] for r in rows) and any(not r["synthetic"] for r in rows)


def test_funnel_is_suppressed_on_the_server(client):
    body = client.get("/api/outcomes/funnel?period=month&breakdown=criminality").json()
    assert body["provenance"]["synthetic"] is True and body["provenance"]["threshold"] == 10
    counts = [v for r in body["rows"] for k, v in r.items() if k.endswith("_count")]
    published = [c for c in counts if c is not None]
    assert published and all(c >= 10 for c in published)
    assert any(c is None for c in counts)  # a breakdown of 3,000 people has small cells
    statuses = {cell["status"] for rel in body["result"]["releases"] for row in rel["rows"]
                for cell in row.values() if isinstance(cell, dict)}
    assert {"primary", "published"} <= statuses
    assert_csv_matches_json(client, "/api/outcomes/funnel?period=month&breakdown=criminality")
    stricter = client.get("/api/outcomes/funnel?period=month&threshold=50").json()
    assert all(v is None or v >= 50 for r in stricter["rows"] for k, v in r.items() if k.endswith("_count"))


def test_survival_curves_stop_below_the_threshold(client):
    for curve in ("km", "cif"):
        body = client.get(f"/api/outcomes/survival?curve={curve}&threshold=20").json()
        assert body["rows"] and all(r["at_risk"] >= 20 for r in body["rows"])
        assert_csv_matches_json(client, f"/api/outcomes/survival?curve={curve}&threshold=20")


@pytest.mark.parametrize("url, status", [
    ("/api/outcomes/funnel?threshold=9", 422),          # never below the default through the public API
    ("/api/outcomes/funnel?threshold=0", 422),
    ("/api/outcomes/funnel?threshold=25", 422),         # only the offered thresholds
    ("/api/outcomes/funnel?period=year", 422),
    ("/api/outcomes/funnel?period=day&breakdown=aor", 422),
    ("/api/outcomes/survival?origin=book_in&breakdown=aor", 422),
    ("/api/series/no_such_measure", 404),
    ("/api/series/book_ins?vintage=no_such_edition", 404),
    ("/api/series/book_ins?start=2025-02-30", 422),
    ("/api/series/book_ins?grain=decade", 422),
    ("/api/series/book_ins?dim=agency", 422),
    ("/api/series/book_ins?dim=1bad=ICE", 422),
    ("/api/revisions/book_ins?period=2025-13", 422),
    ("/api/revisions/book_ins", 422),
    ("/api/targets?by=tomorrow", 422),
    ("/api/targets?by=1990-01-01", 422),
    ("/api/targets?since=2999-01-01", 422),
    ("/api/targets?series=" + "x" * 81, 422),
    ("/api/targets?" + "&".join(["target=t"] * 9), 422),
    ("/api/targets?grain=year", 400),
    ("/api/targets?target=no_such_target", 400),
    ("/api/targets/daily?by=tomorrow", 422),
    ("/api/daily/book_ins", 404),
    ("/api/daily/ice_posted_arrests?shift=2", 422),
    ("/api/detention/everything", 422),
    ("/api/detention/book_ins?fiscal_year=99999", 422),
    ("/api/detention/book_ins?agency=FBI", 422),
    ("/api/charts/sql", 422),
    ("/api/charts/arrests?format=pdf", 422),
    ("/api/capacity/projection?beds=-1", 422),
    ("/arrests?measure=book_ins", 404),
    ("/detention?fiscal_year=2010", 404),
])
def test_invalid_parameters_are_4xx_with_a_json_reason(client, url, status):
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text)
    assert r.json()["detail"]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_shaped_strings_are_data(client, text):
    assert client.get("/api/series/book_ins", params={"vintage": text}).status_code == 404
    assert client.get(f"/api/series/{text}").status_code in (404, 422)
    r = client.get("/api/series/book_ins", params={"dim": f"agency={text}"})
    assert r.status_code == 200 and r.json()["rows"] == [] and r.json()["filters"] == {"agency": text}
    r = client.get("/api/revisions/book_ins", params={"period": "2025-01", "agency": text})
    assert r.status_code == 200 and r.json()["series"] == []
    assert client.get("/api/outcomes/funnel", params={"breakdown": text}).status_code == 422
    # nothing was executed: the figures are all still there
    assert len(client.get("/api/series/ice_posted_arrests").json()["rows"]) == 9


def test_charts_have_specs_source_notes_and_renderings(client):
    body = client.get("/api/charts/arrests?shift=1").json()
    assert body["spec"]["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert "moved back 1 day" in str(body["spec"])
    edition = body["provenance"]["editions"][0]["edition_id"]
    assert edition in body["source_note"]
    assert body["csv_url"] == "/api/daily/ice_posted_arrests?shift=1&format=csv"
    png = client.get("/api/charts/arrests?shift=1&format=png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    svg = client.get("/api/charts/book_outs?fiscal_year=2025&format=svg")
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content[:200]
    funnel = client.get("/api/charts/funnel").json()
    assert "SYNTHETIC" in funnel["source_note"] and funnel["spec"]
    empty = client.get("/api/charts/book_outs?fiscal_year=2020").json()  # the FY2020 layout lists releases only
    assert empty["spec"] is None and "removal share" in empty["message"]


def test_repeated_requests_are_served_from_the_cache(client):
    cache = client.app.state.cache
    client.get("/api/charts/detained?fiscal_year=2024")
    hits = cache.hits
    again = client.get("/api/charts/detained?fiscal_year=2024")
    assert again.status_code == 200 and cache.hits == hits + 1


def test_claims_endpoint(client):
    r = client.get("/api/claims")
    from icetrack.claims import VERDICTS

    assert set(VERDICTS) == set(Verdict.__args__)  # the API's verdict filter offers exactly the module's verdicts
    body = r.json()
    assert body["claims"]
    assert {c["verdict"] for c in body["claims"]} <= set(VERDICTS)
    contradicted = client.get("/api/claims?verdict=contradicted").json()["rows"]
    assert all(c["verdict"] == "contradicted" for c in contradicted)
    assert_csv_matches_json(client, "/api/claims")


def test_capacity_endpoints(client):
    r = client.get("/api/capacity/projection?arrests_per_day=1200&beds=41500&days=120")
    assert r.status_code == 200, r.text
    body = r.json()
    # the reported monthly ADP of the two years before the projection starts is drawn beside it
    reported = body["reported_adp"]
    start = date.fromisoformat(body["inputs"]["start"])
    previous_month = (start.replace(day=1) - timedelta(days=1)).replace(day=1)
    assert len(reported) == 24 and reported[-1]["month"][:10] == previous_month.isoformat()
    assert all(r["value"] > 10_000 and r["edition_id"].startswith("ice_detention_workbook:") for r in reported)
    assert body["inputs"]["arrests_per_day"] == 1200 and body["inputs"]["beds"] == 41500
    assert len(body["rows"]) == 120 and all(r["population_p5"] <= r["population_p50"] <= r["population_p95"]
                                          for r in body["rows"])
    assert client.get("/api/charts/capacity?arrests_per_day=1200&beds=41500&days=120").json()["spec"]
    for removals in (300_000, 3_000_000):
        goal = client.get(f"/api/capacity/goal-seek?removals_per_year={removals}&solve_for=arrests_per_day").json()
        assert goal["solve_for"] == "arrests_per_day" and goal["provenance"]["editions"]
        if goal["reachable"]:
            assert goal["steady_state"]["removals_per_year"] == pytest.approx(removals, rel=1e-6)
        else:
            assert goal["max_removals_per_year"] < removals and "unreachable" in goal["message"]
    assert client.get("/api/capacity/goal-seek?removals_per_year=600000&solve_for=sql").status_code == 422


def test_first_page_opens_on_the_monthly_picture(client):
    html = client.get("/").text
    boxes = re.findall(r'<section class="chart-box" id="chart-(\w+)" data-chart="(\w+)"', html)
    assert boxes == [("picture", "picture")]  # the first (and only) chart on the page is the monthly picture
    assert '<script src="/vendor/vega-embed.js"></script>' in html  # drawn in the browser like every chart
    assert html.index('data-chart="picture"') < html.index('id="sentences"') < html.index('id="recent-months"')
    sentences = re.findall(r"<li>(.*?)</li>", html[html.index('id="sentences"'):html.index("</ul>",
                                                                                         html.index('id="sentences"'))])
    assert sentences[0].startswith("ICE-arrested book-ins averaged 955 a day in March 2026, 32% of the 3,000 "
                                   "arrests a day (White House goal, May 2025)")
    march = re.search(r'<tr data-month="2026-03">(.*?)</tr>', html, re.S).group(1)
    cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>",
                                                                                         march, re.S)]
    assert cells[:4] == ["March 2026", "31 of 31", "955", "1,196 (997–1,921)"] and cells[5] == "32%"
    assert len(re.findall(r'<tr data-month="', html)) == 12
    assert "ICE removals (rate between editions) averaged 1,286 a day in March 2026" in html
    assert '<a id="to-january-2025" href="/arrests">' in html  # the January 2025 view is one click away
    assert 'href="/api/targets?format=csv"' in html
    january = client.get("/arrests").text
    assert "January 2025" in january and 'href="/api/targets/daily?format=csv"' in january


def test_pages_render(client):
    for url in ("/", "/arrests?shift=1", "/detention?fiscal_year=2025&agency=ICE", "/outcomes?period=week",
                "/claims", "/capacity", "/sources"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["content-type"].startswith("text/html")
        assert "https://cdn" not in r.text and "unpkg" not in r.text and "jsdelivr" not in r.text
    sources = client.get("/sources").text
    for e in client.get("/api/sources").json()["rows"]:
        assert e["edition_id"] in sources
    assert '<option value="1" selected>' in client.get("/arrests?shift=1").text


def test_server_connection_cannot_write_and_the_file_is_unchanged(synthetic_warehouse):
    before = hashlib.sha256(synthetic_warehouse.read_bytes()).hexdigest()
    app = create_app(synthetic_warehouse)
    with TestClient(app) as c:
        for url in ("/", "/api/targets", "/api/targets/daily", "/api/outcomes/funnel", "/api/charts/cif",
                    "/api/sources?format=csv"):
            assert c.get(url).status_code == 200
        with app.state.store.session():  # the server's connection is open only inside a session
            con = app.state.store.warehouse().con
            for statement in ("INSERT INTO meta VALUES ('web', 'wrote')", "CREATE TABLE web_wrote (x INTEGER)",
                              "DELETE FROM observations", "UPDATE editions SET note = 'x'"):
                with pytest.raises(duckdb.Error, match="read-only"):
                    con.execute(statement)
    app.state.store.close()
    assert hashlib.sha256(synthetic_warehouse.read_bytes()).hexdigest() == before


def test_warehouse_without_reference_data_is_refused(tmp_path):
    path = tmp_path / "bare.duckdb"
    open_warehouse(path, load_reference=False).close()
    with pytest.raises(WarehouseError, match="icetrack report"):
        create_app(path)
    result = Icetrack(path)("serve", expect=2)
    assert "reference data is not loaded" in result.output


def test_warehouse_without_person_data_explains_instead_of_failing(tmp_path):
    path = tmp_path / "aggregate.duckdb"
    open_warehouse(path).close()
    app = create_app(path)
    with TestClient(app) as c:
        body = c.get("/api/outcomes/funnel").json()
        assert body["rows"] == [] and "No person-level records" in body["message"]
        assert "No person-level records" in c.get("/outcomes").text
        chart = c.get("/api/charts/km").json()
        assert chart["spec"] is None and "No person-level records" in chart["message"]
    app.state.store.close()


def test_serve_command_answers_on_loopback(synthetic_warehouse):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "icetrack.cli", "--warehouse", str(synthetic_warehouse), "serve",
                               "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/series/ice_posted_arrests", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, server.stdout.read()
                time.sleep(0.2)
        assert r.status_code == 200 and len(r.json()["rows"]) == 9
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert f"http://127.0.0.1:{port}/" in server.stdout.read()


def test_cache_computes_each_key_once_under_concurrency():
    cache = ResponseCache(max_entries=2)
    calls = []
    started = threading.Event()

    def slow():
        calls.append(1)
        started.wait(1)
        return len(calls)

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    started.set()
    for t in threads:
        t.join()
    assert results == [1] * 8 and len(calls) == 1
    cache.get_or_compute("a", lambda: "a")
    cache.get_or_compute("b", lambda: "b")  # evicts the least recently used key, "k"
    assert cache.lookup("k") == (False, None) and cache.lookup("b") == (True, "b")


def test_capacity_defaults_to_the_capacity_in_force_and_takes_none(client):
    # Issue 16: no beds given = the capacity in force on the start date (the 2025 expansion goal in April 2026),
    # 'none' = no limit; zero beds and a horizon over 24 months are refused in one line.
    body = client.get("/api/capacity/projection?arrests_per_day=1200&days=60").json()
    assert body["inputs"]["beds"] == 100_000
    assert client.get("/api/capacity/projection?arrests_per_day=1200&beds=none&days=60").json()["inputs"]["beds"] is None
    zero = client.get("/api/capacity/projection?arrests_per_day=1200&beds=0&days=60")
    assert zero.status_code == 422 and "beds must be above 0" in zero.text
    assert client.get("/api/capacity/projection?arrests_per_day=1200&days=800").status_code == 422
    assert client.get("/api/capacity/projection?arrests_per_day=1200&beds=lots").status_code == 422


def _shares(node):
    """Every achieved coverage share in the evaluation's coverage block."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "achieved":
                yield v
            else:
                yield from _shares(v)
    elif isinstance(node, list):
        for v in node:
            yield from _shares(v)


def test_capacity_evaluation_endpoint_page_and_charts(client):
    # Issue 16: how far the capacity model's projections can be trusted, computed once per warehouse state
    body = client.get("/api/capacity/evaluation").json()
    assert body["origins"]["count"] >= 40 and len(body["origins"]["list"]) == body["origins"]["count"]
    shares = list(_shares(body["coverage"]))
    assert len(shares) > 20 and all(s is None or 0 <= s <= 1 for s in shares)
    assert body["coverage"]["empirical"]["all_targets"]["overall"]["80"]["achieved"] is not None
    rows = assert_csv_matches_json(client, "/api/capacity/evaluation")
    assert [(r["target"], r["horizon"]) for r in rows] == [
        (t, h) for t in ("adp", "book_outs", "removals_to_date") for h in range(1, 7)]
    for r in rows:
        assert all(r[k] is None or 0 <= r[k] <= 1 for k in ("coverage_80", "coverage_95", "monte_carlo_coverage_80",
                                                            "monte_carlo_coverage_95"))
    assert len(body["verdicts"]) == 3 and body["provenance"]["definitions"] == body["definitions"]
    assert {e["source"] for e in body["provenance"]["editions"]} == {"ice_detention_workbook"}
    for chart in ("evaluation_coverage", "evaluation_errors"):
        answer = client.get(f"/api/charts/{chart}").json()
        assert answer["spec"] and answer["csv_url"] == "/api/capacity/evaluation?format=csv"
        assert answer["source_note"].startswith("Source: ice_detention_workbook:")
    plotted = [row for data in client.get("/api/charts/evaluation_coverage").json()["spec"]["datasets"].values()
               for row in data if row.get("series") == "all targets" and row.get("nominal") == 0.8]
    assert sorted(r["achieved"] for r in plotted) == sorted(
        [body["coverage"]["empirical"]["all_targets"]["overall"]["80"]["achieved"],
         body["coverage"]["monte_carlo_same_pairs"]["all_targets"]["overall"]["80"]["achieved"]])
    html = client.get("/capacity").text
    assert re.findall(r'data-chart="(\w+)"', html) == ["capacity", "evaluation_coverage", "evaluation_errors"]
    assert f'<b id="evaluation-origins">{body["origins"]["count"]}</b>' in html
    table = html[html.index('<table id="evaluation-table">'):]
    assert len(re.findall(r"<tr>", table[table.index("<tbody>"):table.index("</tbody>")])) == 18
    assert 'href="/api/capacity/evaluation?format=csv"' in html
