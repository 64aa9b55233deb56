"""The dashboard in a real browser: Debian's Chromium driven by Playwright against uvicorn on loopback.

Every page loads and draws its charts with the bundled vega-embed; a filter change redraws the chart and
rewrites the URL; the permalink reproduces the view; CSV and PNG downloads work; screenshots are not blank;
and no request leaves 127.0.0.1 (no CDN).
"""

from __future__ import annotations

import base64
import csv
import io
import shutil
import socket
import threading
import time

import pytest

from icetrack.web import create_app


CHROMIUM = shutil.which("chromium")
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the dev dependencies include it
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install chromium; "
                                                ".ci/run installs it)"),
    pytest.mark.skipif(sync_playwright is None, reason="the playwright Python package is not installed"),
]

PAGES = {"/": 1, "/arrests": 1, "/detention": 3, "/outcomes?period=week": 3, "/claims": 1, "/capacity": 3,
         "/sources": 0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(synthetic_warehouse):
    import uvicorn

    app = create_app(synthetic_warehouse)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    app.state.store.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    pg.requested = []
    pg.errors = []
    pg.csp_violations = []
    pg.on("request", lambda r: pg.requested.append(r.url))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    # Chromium reports every Content-Security-Policy violation on the console ("Refused to ...")
    pg.on("console", lambda m: pg.csp_violations.append(m.text) if "Content Security Policy" in m.text else None)
    yield pg
    outside = [u for u in pg.requested if not u.startswith(server + "/") and not u.startswith("data:")
               and not u.startswith("blob:")]
    assert outside == [], f"requests left the loopback server: {outside}"
    assert pg.errors == [], pg.errors
    assert pg.csp_violations == [], pg.csp_violations
    context.close()


def wait_for_charts(pg, n: int) -> None:
    """Wait until the page's n charts have finished loading, then require that every one was drawn."""
    pg.wait_for_function(
        "n => { const boxes = [...document.querySelectorAll('.chart-box')];"
        " return boxes.length === n && boxes.every(b => ['ready', 'empty', 'error'].includes(b.dataset.state)); }",
        arg=n, timeout=60_000)
    states = pg.eval_on_selector_all(".chart-box", "bs => bs.map(b => [b.id, b.dataset.state, "
                                                   "b.querySelector('.chart').innerText])")
    assert all(state == "ready" for _, state, _ in states), states


def chart_size(pg, chart: str) -> tuple[float, float]:
    box = pg.locator(f"#chart-{chart} .chart svg.marks").bounding_box()
    return (box["width"], box["height"]) if box else (0, 0)


def distinct_colours(pg, png: bytes) -> tuple[int, float]:
    """(distinct colours, share of pixels that differ from the most common colour) of a PNG, decoded by
    drawing it on a canvas in the browser."""
    return tuple(pg.evaluate(
        """async (src) => {
            const img = new Image(); img.src = src; await img.decode();
            const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
            const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
            const d = ctx.getImageData(0, 0, c.width, c.height).data;
            const counts = new Map();
            for (let i = 0; i < d.length; i += 4) {
                const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
                counts.set(k, (counts.get(k) || 0) + 1);
            }
            const top = Math.max(...counts.values());
            return [counts.size, 1 - top / (d.length / 4)];
        }""", "data:image/png;base64," + base64.b64encode(png).decode()))


def test_every_page_loads_and_draws_its_charts(page, server):
    for path, n_charts in PAGES.items():
        page.goto(server + path)
        assert page.locator("h1").inner_text()
        if n_charts:
            wait_for_charts(page, n_charts)
            for box in page.locator(".chart-box").all():
                name = box.get_attribute("data-chart")
                w, h = chart_size(page, name)
                assert w > 100 and h > 50, (path, name, w, h)
                assert "Source:" in box.locator(".source-note").inner_text()
        colours, ink = distinct_colours(page, page.screenshot(full_page=True))
        assert colours > 20 and ink > 0.02, (path, colours, ink)


def test_first_page_opens_on_the_monthly_picture_and_links_to_january_2025(page, server):
    page.goto(server + "/")
    wait_for_charts(page, 1)
    first = page.locator(".chart-box").first
    assert first.get_attribute("data-chart") == "picture"
    w, h = chart_size(page, "picture")
    assert w > 400 and h > 200, (w, h)
    drawn = page.locator("#chart-picture .chart svg.marks")
    assert "ICE arrests per day, October 2023" in drawn.inner_html()
    # the chart sits above the sentences and the table of the latest months
    y = {sel: page.locator(sel).bounding_box()["y"] for sel in ("#chart-picture", "#sentences", "#recent-months")}
    assert y["#chart-picture"] < y["#sentences"] < y["#recent-months"]
    sentences = page.locator("#sentences li").all_inner_texts()
    assert sentences[0].startswith("ICE-arrested book-ins averaged 955 a day in March 2026, 32% of the 3,000")
    march = page.locator('#recent-months tr[data-month="2026-03"] td').all_inner_texts()
    assert march[:3] == ["March 2026", "31 of 31", "955"]
    assert page.locator("#chart-picture .download-csv").get_attribute("href") == "/api/picture?format=csv"
    # one click down: the January 2025 view of ICE's daily posts
    assert page.locator("#to-january-2025").get_attribute("href") == "/arrests"
    # Waiting for the DOM, not the 'load' event: the page's scripts may load slowly on a busy machine.
    with page.expect_navigation(url=server + "/arrests", wait_until="domcontentloaded", timeout=60_000):
        page.click("#to-january-2025")
    wait_for_charts(page, 1)
    assert page.locator("h1").inner_text().startswith("January 2025")
    assert "as published" in page.locator("#chart-arrests .chart").inner_html()


def test_filter_updates_chart_url_and_permalink(page, server):
    page.goto(server + "/arrests")
    wait_for_charts(page, 1)
    before = page.locator("#chart-arrests .chart").inner_html()
    assert "as published" in before
    page.select_option("select[name=shift]", "1")
    page.wait_for_function("() => document.querySelector('#chart-arrests').dataset.query === "
                           "'measure=ice_posted_arrests&shift=1'")
    wait_for_charts(page, 1)
    after = page.locator("#chart-arrests .chart").inner_html()
    assert after != before and "moved back 1 day" in after
    assert page.url == server + "/arrests?measure=ice_posted_arrests&shift=1"
    permalink = page.locator("#chart-arrests .permalink").get_attribute("href")
    assert permalink == "/arrests?measure=ice_posted_arrests&shift=1#chart-arrests"
    # the permalink reproduces the view in a fresh load
    page.goto(server + permalink)
    wait_for_charts(page, 1)
    assert page.locator("select[name=shift]").input_value() == "1"
    assert "moved back 1 day" in page.locator("#chart-arrests .chart").inner_html()


def test_detention_filter_changes_the_data_drawn(page, server):
    page.goto(server + "/detention")
    wait_for_charts(page, 3)
    all_years = page.locator("#chart-book_ins .source-note").inner_text()
    page.select_option("select[name=fiscal_year]", "2025")
    page.wait_for_function("() => document.querySelector('#chart-book_ins').dataset.query === 'fiscal_year=2025'")
    wait_for_charts(page, 3)
    one_year = page.locator("#chart-book_ins .source-note").inner_text()
    assert one_year != all_years
    assert page.url.endswith("/detention?fiscal_year=2025")


def test_csv_and_png_downloads(page, server):
    page.goto(server + "/arrests")
    wait_for_charts(page, 1)
    with page.expect_download() as info:
        page.click("#chart-arrests .download-csv")
    rows = list(csv.DictReader(io.StringIO(open(info.value.path(), encoding="utf-8").read())))
    assert len(rows) == 9 and max(float(r["value"]) for r in rows) == 1179
    with page.expect_download() as info:
        page.click("#chart-arrests .download-png")
    png = open(info.value.path(), "rb").read()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    colours, ink = distinct_colours(page, png)
    assert colours > 20 and ink > 0.02
    with page.expect_download() as info:
        page.click("#chart-arrests .download-svg")
    assert b"<svg" in open(info.value.path(), "rb").read()[:300]


def test_outcomes_page_filters_and_suppression_note(page, server):
    page.goto(server + "/outcomes?period=week")
    wait_for_charts(page, 3)
    assert "SYNTHETIC" in page.locator("#chart-funnel .source-note").inner_text()
    page.select_option("select[name=period]", "month")
    page.select_option("select[name=breakdown]", "criminality")
    page.wait_for_function("() => document.querySelector('#chart-funnel').dataset.query === "
                           "'breakdown=criminality&period=month&threshold=10'")
    wait_for_charts(page, 3)
    assert "criminality" in page.locator("#chart-funnel .chart").inner_html()


def test_pages_run_under_a_strict_content_security_policy(page, server):
    """No 'unsafe-eval' and no 'unsafe-inline': Vega evaluates its expressions with the bundled interpreter and
    the menu's and tooltip's styles come from app.css; Chromium reports no violation (the fixture checks)."""
    response = page.goto(server + "/arrests")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy and "unsafe" not in policy
    wait_for_charts(page, 1)
    # the tooltip is drawn and styled by app.css (position: fixed), not by an injected <style>
    page.locator("#chart-arrests .chart svg.marks path[role=graphics-symbol]").first.hover()
    page.wait_for_selector("#vg-tooltip-element.visible", timeout=10_000)
    tooltip = page.locator("#vg-tooltip-element")
    assert tooltip.inner_text().strip() and tooltip.evaluate("e => getComputedStyle(e).position") == "fixed"
    assert page.evaluate("() => document.querySelectorAll('style').length") == 0
    # the policy is in force, and a violation would be seen: an inline script and an inline style (what an
    # injected label would be) are refused and reported
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
                  " document.body.appendChild(s); const t = document.createElement('style');"
                  " t.textContent = 'body { color: rgb(255, 0, 0); }'; document.head.appendChild(t); }")
    deadline = time.monotonic() + 5
    while len(page.csp_violations) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert page.evaluate("() => window.ran") is None
    assert page.evaluate("() => getComputedStyle(document.body).color") != "rgb(255, 0, 0)"
    assert any("script-src" in v for v in page.csp_violations), page.csp_violations
    assert any("style-src" in v for v in page.csp_violations), page.csp_violations
    page.csp_violations.clear()  # the two probes above, on purpose
