"""`icetrack fetch ice-detention` against a local HTTP server on loopback (no outside network)."""

from __future__ import annotations

import functools
import http.server
import shutil
import socket
import threading

import pytest

from icetrack.sources.fetch import FetchError, fetch_ice_detention, workbook_links

PAGE = """<html><body><h1>Detention Management</h1>
<a href="/doclib/detention/FY25_detentionStats08142025.xlsx">FY25 (08/14/2025)</a>
<a href="/doclib/detention/FY25_detentionStats08292025.xlsx">FY25 (08/29/2025)</a>
<a href="/doclib/other/report.pdf">a report</a></body></html>"""


@pytest.fixture
def local_site(tmp_path, shared_data):
    root = tmp_path / "site"
    (root / "doclib" / "detention").mkdir(parents=True)
    (root / "detain").mkdir()
    (root / "detain" / "detention-management").write_text(PAGE)
    shutil.copy(shared_data / "ice-detention-stats" / "FY25_detentionStats08292025.xlsx", root / "doclib" / "detention")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_links_are_found_newest_first():
    links = workbook_links(PAGE, "https://www.ice.gov/detain/detention-management")
    assert links == ["https://www.ice.gov/doclib/detention/FY25_detentionStats08292025.xlsx",
                     "https://www.ice.gov/doclib/detention/FY25_detentionStats08142025.xlsx"]


def test_fetch_downloads_and_ingests_the_newest_workbook(local_site, icetrack, tmp_path):
    dest = tmp_path / "downloads"
    result = icetrack("fetch", "ice-detention", "--url", f"{local_site}/detain/detention-management",
                      "--dest", str(dest))
    assert (dest / "FY25_detentionStats08292025.xlsx").stat().st_size > 100_000
    assert not list(dest.glob("*.part"))
    # the bundled national subset of this edition is replaced by the full workbook
    assert "replaced the bundled national subset with the full edition ice_detention_workbook:" in result.stdout
    rows = icetrack.json("series", "removals_fytd")
    assert [r["value"] for r in rows if r["as_of"] == "2025-08-24"] == [283295.0]
    edition = next(e for e in icetrack.json("editions") if e["file_name"] == "FY25_detentionStats08292025.xlsx")
    assert edition["completeness"] == "full"


def test_missing_workbook_is_an_http_error(local_site, tmp_path):
    page = tmp_path / "p"
    with pytest.raises(FetchError, match=r"HTTP 404"):
        fetch_ice_detention(page, f"{local_site}/no-such-page")


def test_offline_is_a_clear_one_line_error(icetrack, tmp_path):
    with socket.socket() as s:  # a loopback port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = icetrack("fetch", "ice-detention", "--url", f"http://127.0.0.1:{port}/detention-management",
                      "--dest", str(tmp_path / "d"), expect=2)
    assert result.stderr.startswith("icetrack: error: cannot reach 127.0.0.1:")
    assert result.stderr.count("\n") == 1
