"""`icetrack fetch ice-detention --archive` against a fake Wayback Machine on loopback (no outside network).

The fake serves the CDX API (https://github.com/internetarchive/wayback/tree/master/wayback-cdx-server) in its
JSON form, a few rows per page with a resume key, and raw capture bytes at /web/{timestamp}id_/{original}.
"""

from __future__ import annotations

import http.server
import io
import json
import threading
import zipfile
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlparse

import pytest
from click.testing import CliRunner
from helpers import sha256

from icetrack.cli import cli
from icetrack.sources.archive import (CAPTURE_LOG, MANIFEST, Politeness, fetch_archive, plan_archive,
                                      read_archive_manifest, workbook_name)
from icetrack.sources.fetch import FetchError

ICE = "https://www.ice.gov/doclib/detention/"
QUICK = Politeness(delay=0, backoff=0, timeout=5)


def workbook_bytes(text: str) -> bytes:
    """A tiny but real ZIP (what an .xlsx is), fixed timestamp so equal text gives equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(zipfile.ZipInfo("xl/workbook.xml", date_time=(2025, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


A, A2, B, C, D = (workbook_bytes(t) for t in ("edition A", "edition A2", "edition B", "edition C", "edition D"))

# (timestamp, original URL, status, digest, mimetype, length) as the CDX server lists them, and each capture's bytes
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CAPTURES = [
    ("20230105120000", ICE + "FY23_detentionStats.xlsx", "200", "DIGESTA", XLSX, "1200"),
    ("20230106120000", "http://www.ice.gov:80/doclib/detention/FY23_detentionStats.xlsx", "200", "DIGESTA", XLSX,
     "1200"),
    ("20230301080000", ICE + "FY23_detentionStats.xlsx", "200", "DIGESTA2", XLSX, "1300"),  # new bytes, same name
    ("20230110000000", ICE + "FY23-detentionstats-copy.xlsx", "200", "DIGESTA-AGAIN", XLSX, "1250"),  # A's bytes again
    ("20210601000000", ICE + "FY21-detentionstats.xlsx", "200", "DIGESTB", XLSX, "900"),
    ("20250605140322", ICE + "FY25_detentionStats06052025.xlsx", "200", "DIGESTC", XLSX, "1500"),
    ("20250606000000", ICE + "FY25_detentionStats06052025.xlsx", "200", "DIGESTC", XLSX, "1500"),
    ("20250201000000", ICE + "FY25_detentionStats01302025.xlsx", "200", "DIGESTGONE", XLSX, "1500"),  # replay 404
    ("20250110000000", ICE + "FY25_detentionStats01102025.xlsx", "404", "DIGESTNF", "text/html", "400"),
    ("20250120000000", ICE + "FY25_facilityList.xlsx", "200", "DIGESTFAC", XLSX, "800"),  # not detention stats
    ("20250120000000", ICE + "FY25_detentionStats.pdf", "200", "DIGESTPDF", "application/pdf", "800"),
    ("20250120000000", ICE + "detention-management.html", "200", "DIGESTHTML", "text/html", "800"),
]
BODIES = {
    ("20230105120000", ICE + "FY23_detentionStats.xlsx"): A,
    ("20230106120000", "http://www.ice.gov:80/doclib/detention/FY23_detentionStats.xlsx"): A,
    ("20230301080000", ICE + "FY23_detentionStats.xlsx"): A2,
    ("20230110000000", ICE + "FY23-detentionstats-copy.xlsx"): A,
    ("20210601000000", ICE + "FY21-detentionstats.xlsx"): B,
    ("20250605140322", ICE + "FY25_detentionStats06052025.xlsx"): C,
    ("20250606000000", ICE + "FY25_detentionStats06052025.xlsx"): C,
    ("20250120000000", ICE + "FY25_facilityList.xlsx"): D,
    ("20250120000000", ICE + "FY25_detentionStats.pdf"): b"%PDF-1.4",
}


class FakeArchive(http.server.BaseHTTPRequestHandler):
    """CDX JSON in pages of PAGE rows (showResumeKey style) and raw capture bytes; records every request."""

    PAGE = 4
    captures: list = []
    bodies: dict = {}
    faults: dict = {}  # request path prefix -> "500" | "429-once" | "truncate" | "not-json"
    seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        self.seen.append(self.path)
        fault = next((f for p, f in self.faults.items() if url.path.startswith(p)), None)
        if fault == "500" or (fault == "429-once" and sum(s.startswith(url.path) for s in self.seen) == 1):
            return self._send(int(fault[:3]), b"busy", {"Retry-After": "0"})
        if url.path == "/cdx/search/cdx":
            return self._cdx(parse_qs(url.query), fault)
        if url.path.startswith("/web/"):
            stamp, _, original = url.path[len("/web/"):].partition("id_/")
            body = self.bodies.get((stamp, original))
            if body is None:
                return self._send(404, b"<html>not in archive</html>")
            if fault == "truncate":  # says it sends more than it does, then hangs up
                return self._send(200, body[: len(body) // 2], {"Content-Length": str(len(body))})
            return self._send(200, body)
        self._send(404, b"no such page")

    def _cdx(self, query, fault):
        if fault == "not-json":
            return self._send(200, b"<html>maintenance</html>")
        rows = [list(r) for r in self.captures if r[0][:8] >= query.get("from", [""])[0]]
        start = int(query.get("resumeKey", ["0"])[0])
        page = [query["fl"][0].split(",")] + rows[start:start + self.PAGE]
        if start + self.PAGE < len(rows):
            page += [[], [str(start + self.PAGE)]]
        self._send(200, json.dumps(page).encode())

    def _send(self, status, body, headers=None):
        self.send_response(status)
        headers = {"Content-Length": str(len(body)), **(headers or {})}
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def archive():
    handler = type("Handler", (FakeArchive,),
                   {"captures": list(CAPTURES), "bodies": dict(BODIES), "faults": {}, "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # a short poll so that shutdown() at teardown returns at once
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield handler
    server.shutdown()
    server.server_close()


def downloads(archive):
    return [s for s in archive.seen if s.startswith("/web/")]


def run_cli(tmp_path, archive, *args):
    return CliRunner().invoke(cli, ["--warehouse", str(tmp_path / "w.duckdb"), "fetch", "ice-detention", "--archive",
                                    "--archive-url", archive.url, "--delay", "0", *args], obj={})


def test_workbook_names():
    assert workbook_name(ICE + "FY25_detentionStats06052025.xlsx") == "FY25_detentionStats06052025.xlsx"
    old_style = "http://www.ice.gov:80/doclib/detention/FY21-detentionstats.xlsx?x=1"
    assert workbook_name(old_style) == "FY21-detentionstats.xlsx"
    assert workbook_name(ICE + "fy19_DETENTIONSTATS.XLSX") == "fy19_DETENTIONSTATS.XLSX"
    assert [workbook_name(ICE + n) for n in ("FY25_facilityList.xlsx", "FY25_detentionStats.pdf",
                                             "FY25_detentionStats%2F..%2Fx.xlsx", "detentionStats.xlsx")] == [None] * 4


def test_one_file_per_content_with_the_first_capture_kept(archive, tmp_path):
    dest = tmp_path / "d"
    result = fetch_archive(dest, archive_url=archive.url, polite=QUICK)
    assert sorted(p.name for p in dest.iterdir()) == [
        "20230301080000-FY23_detentionStats.xlsx", "FY21-detentionstats.xlsx", "FY23_detentionStats.xlsx",
        "FY25_detentionStats06052025.xlsx", CAPTURE_LOG, MANIFEST]
    assert [p.name for p in result.new_files] == [  # oldest first capture first
        "FY21-detentionstats.xlsx", "FY23_detentionStats.xlsx", "20230301080000-FY23_detentionStats.xlsx",
        "FY25_detentionStats06052025.xlsx"]
    assert (dest / "FY23_detentionStats.xlsx").read_bytes() == A
    assert (dest / "20230301080000-FY23_detentionStats.xlsx").read_bytes() == A2
    assert (result.listed, result.already_had) == (8, 0)
    assert result.skipped == [f"20250201000000 {ICE}FY25_detentionStats01302025.xlsx: the archive answered HTTP 404"]
    # one request per distinct digest: DIGESTA's second capture and DIGESTC's second are not fetched
    assert sorted(downloads(archive)) == sorted(f"/web/{t}id_/{u}" for t, u in [
        ("20210601000000", ICE + "FY21-detentionstats.xlsx"), ("20230105120000", ICE + "FY23_detentionStats.xlsx"),
        ("20230110000000", ICE + "FY23-detentionstats-copy.xlsx"), ("20230301080000", ICE + "FY23_detentionStats.xlsx"),
        ("20250201000000", ICE + "FY25_detentionStats01302025.xlsx"),
        ("20250605140322", ICE + "FY25_detentionStats06052025.xlsx")])
    # 12 CDX rows in pages of 4: three CDX requests, the later ones resuming
    cdx = [s for s in archive.seen if s.startswith("/cdx/")]
    assert len(cdx) == 3 and "resumeKey=4" in cdx[1] and "resumeKey=8" in cdx[2]
    assert all(q in cdx[0] for q in ("url=ice.gov%2Fdoclib%2Fdetention%2F", "matchType=prefix", "output=json",
                                     "filter=statuscode%3A200", "collapse=digest", "showResumeKey=true"))


def test_manifest_bounds_publication_by_the_first_capture(archive, tmp_path):
    dest = tmp_path / "d"
    fetch_archive(dest, archive_url=archive.url, polite=QUICK)
    manifest = read_archive_manifest(dest)
    assert set(manifest) == {sha256(dest / n) for n in ("FY21-detentionstats.xlsx", "FY23_detentionStats.xlsx",
                                                       "20230301080000-FY23_detentionStats.xlsx",
                                                       "FY25_detentionStats06052025.xlsx")}
    a = manifest[sha256(dest / "FY23_detentionStats.xlsx")]
    # three captures of A's bytes: two under DIGESTA and one under another name and digest
    assert (a.file_name, a.size_bytes, a.captures) == ("FY23_detentionStats.xlsx", len(A), 3)
    assert a.original_url == ICE + "FY23_detentionStats.xlsx"
    assert a.first_capture == datetime(2023, 1, 5, 12, 0, tzinfo=UTC)
    assert a.last_capture == datetime(2023, 1, 10, 0, 0, tzinfo=UTC)
    assert a.published_no_later_than == date(2023, 1, 5)
    assert a.archive_url == f"{archive.url}/web/20230105120000/{ICE}FY23_detentionStats.xlsx"
    c = manifest[sha256(dest / "FY25_detentionStats06052025.xlsx")]
    assert (c.captures, c.first_capture, c.last_capture) == (2, datetime(2025, 6, 5, 14, 3, 22, tzinfo=UTC),
                                                           datetime(2025, 6, 6, tzinfo=UTC))
    log = (dest / CAPTURE_LOG).read_text().splitlines()
    assert log[0].split("\t") == ["timestamp", "original_url", "digest", "sha256", "skipped"]
    assert len(log) == 1 + 8  # every listed workbook capture, the unreplayable one with its reason


def test_rerun_downloads_nothing_new(archive, tmp_path):
    dest = tmp_path / "d"
    fetch_archive(dest, archive_url=archive.url, polite=QUICK)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    archive.seen.clear()
    result = fetch_archive(dest, archive_url=archive.url, polite=QUICK)
    assert downloads(archive) == []  # every listed capture is in the log: nothing asked of the archive but the CDX
    assert (result.new_files, result.skipped, result.already_had) == ([], [], 4)
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before


def test_a_new_capture_of_known_bytes_is_not_a_new_file(archive, tmp_path):
    dest = tmp_path / "d"
    fetch_archive(dest, archive_url=archive.url, polite=QUICK)
    archive.captures.append(("20250701000000", ICE + "FY21-detentionstats.xlsx", "200", "DIGESTB-AGAIN", XLSX, "900"))
    archive.bodies[("20250701000000", ICE + "FY21-detentionstats.xlsx")] = B
    archive.seen.clear()
    result = fetch_archive(dest, archive_url=archive.url, polite=QUICK)
    assert downloads(archive) == [f"/web/20250701000000id_/{ICE}FY21-detentionstats.xlsx"]
    assert (result.new_files, result.already_had) == ([], 4)
    b = read_archive_manifest(dest)[sha256(dest / "FY21-detentionstats.xlsx")]
    assert (b.captures, b.first_capture, b.last_capture) == (2, datetime(2021, 6, 1, tzinfo=UTC),
                                                           datetime(2025, 7, 1, tzinfo=UTC))


def test_a_workbook_already_in_the_folder_is_not_downloaded_again(archive, tmp_path):
    dest = tmp_path / "d"
    dest.mkdir()
    (dest / "current.xlsx").write_bytes(C)  # e.g. from a plain `icetrack fetch`
    result = fetch_archive(dest, archive_url=archive.url, polite=QUICK)
    assert "FY25_detentionStats06052025.xlsx" not in {p.name for p in result.new_files}
    assert result.already_had == 1
    assert read_archive_manifest(dest)[sha256(dest / "current.xlsx")].file_name == "current.xlsx"


def test_list_downloads_nothing(archive, tmp_path):
    dest = tmp_path / "d"
    result = run_cli(tmp_path, archive, "--dest", str(dest), "--list")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"2021-06-01T00:00:00Z         900 B  {ICE}FY21-detentionstats.xlsx",
        f"2023-01-05T12:00:00Z       1,200 B  {ICE}FY23_detentionStats.xlsx",
        f"2023-01-10T00:00:00Z       1,250 B  {ICE}FY23-detentionstats-copy.xlsx",
        f"2023-03-01T08:00:00Z       1,300 B  {ICE}FY23_detentionStats.xlsx",
        f"2025-02-01T00:00:00Z       1,500 B  {ICE}FY25_detentionStats01302025.xlsx",
        f"2025-06-05T14:03:22Z       1,500 B  {ICE}FY25_detentionStats06052025.xlsx",
        f"6 to download (sizes as archived, compressed); 8 workbook capture(s) listed, 0 file(s) already in {dest}"]
    assert downloads(archive) == []
    assert not dest.exists()


def test_since_keeps_captures_on_or_after_the_date(archive, tmp_path):
    dest = tmp_path / "d"
    plan = plan_archive(dest, since=date(2025, 6, 5), archive_url=archive.url, polite=QUICK)
    assert [[c.timestamp for c in g] for g in plan.pending] == [["20250605140322", "20250606000000"]]
    assert all("from=20250605" in s for s in archive.seen)
    result = run_cli(tmp_path, archive, "--dest", str(dest), "--since", "2025-06-05", "--no-ingest")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in dest.glob("*.xlsx")) == ["FY25_detentionStats06052025.xlsx"]
    assert f"downloaded {dest / 'FY25_detentionStats06052025.xlsx'}" in result.stdout


def test_a_truncated_download_leaves_no_file_and_keeps_the_earlier_ones(archive, tmp_path):
    dest = tmp_path / "d"
    archive.faults[f"/web/20230105120000id_/{ICE}FY23_detentionStats.xlsx"] = "truncate"
    with pytest.raises(FetchError) as caught:
        fetch_archive(dest, archive_url=archive.url, polite=QUICK)
    message = str(caught.value)
    assert "\n" not in message and "(3 attempts)" in message
    assert message.endswith(f"the 1 file(s) downloaded before it are kept in {dest}")
    assert sorted(p.name for p in dest.iterdir()) == ["FY21-detentionstats.xlsx", CAPTURE_LOG, MANIFEST]
    assert [e.file_name for e in read_archive_manifest(dest).values()] == ["FY21-detentionstats.xlsx"]
    assert len(downloads(archive)) == 1 + 3  # FY21, then three attempts at the truncated one


def test_an_oversized_capture_is_skipped_without_a_file(archive, tmp_path):
    dest = tmp_path / "d"
    archive.bodies[("20210601000000", ICE + "FY21-detentionstats.xlsx")] = B + b"\0" * 5000
    result = fetch_archive(dest, archive_url=archive.url, polite=Politeness(delay=0, backoff=0, max_bytes=4000))
    assert result.skipped[0] == f"20210601000000 {ICE}FY21-detentionstats.xlsx: larger than 4,000 bytes"
    assert not (dest / "FY21-detentionstats.xlsx").exists() and not list(dest.glob("*.part"))


def test_an_error_page_served_as_a_capture_is_skipped(archive, tmp_path):
    dest = tmp_path / "d"
    archive.bodies[("20210601000000", ICE + "FY21-detentionstats.xlsx")] = b"<html>Wayback Machine error</html>"
    result = fetch_archive(dest, archive_url=archive.url, polite=QUICK)
    assert result.skipped[0].endswith("not an .xlsx workbook (no ZIP structure): the archive served something else")
    assert not (dest / "FY21-detentionstats.xlsx").exists()


def test_a_429_is_retried(archive, tmp_path):
    archive.faults["/cdx/"] = "429-once"
    plan = plan_archive(tmp_path / "d", archive_url=archive.url, polite=QUICK)
    assert len(plan.pending) == 6
    assert [s.startswith("/cdx/") for s in archive.seen] == [True] * 4  # the 429, then three pages


def test_a_persistent_500_is_one_line_through_the_cli(archive, tmp_path):
    archive.faults["/web/"] = "500"
    result = run_cli(tmp_path, archive, "--dest", str(tmp_path / "d"))
    assert result.exit_code == 2
    url = f"{archive.url}/web/20210601000000id_/{ICE}FY21-detentionstats.xlsx"
    assert result.stderr == (f"icetrack: error: {url}: HTTP 500 (3 attempts); the 0 file(s) downloaded before it are "
                             f"kept in {tmp_path / 'd'}\n")
    assert not list((tmp_path / "d").glob("*.xlsx*"))


def test_a_garbled_cdx_answer_is_one_line(archive, tmp_path):
    archive.faults["/cdx/"] = "not-json"
    result = run_cli(tmp_path, archive, "--dest", str(tmp_path / "d"), "--list")
    assert (result.exit_code, result.stderr) == (2, f"icetrack: error: {archive.url}/cdx/search/cdx: the answer is "
                                                    "not JSON\n")


def test_archive_options_need_archive(tmp_path):
    result = CliRunner().invoke(cli, ["--warehouse", str(tmp_path / "w.duckdb"), "fetch", "ice-detention", "--list"],
                                obj={})
    assert (result.exit_code, result.stderr) == (2, "icetrack: error: --list, --since, --archive-url and --delay go "
                                                    "with --archive\n")


def test_archive_downloads_are_ingested(archive, tmp_path, shared_data):
    real = shared_data / "ice-detention-stats" / "FY25_detentionStats02272025.xlsx"
    if not real.is_file():
        pytest.skip(f"{real.name} is not among the shared real workbooks")
    archive.captures[:] = [("20250228100000", ICE + real.name, "200", "DIGESTREAL", XLSX, "900000")]
    archive.bodies[("20250228100000", ICE + real.name)] = real.read_bytes()
    result = run_cli(tmp_path, archive, "--dest", str(tmp_path / "d"))
    assert result.exit_code == 0, (result.output, result.stderr)
    assert f"downloaded {tmp_path / 'd' / real.name}" in result.stdout
    editions = json.loads(CliRunner().invoke(cli, ["--warehouse", str(tmp_path / "w.duckdb"), "editions", "--json"],
                                             obj={}).stdout)
    mine = [e for e in editions if e["file_name"] == real.name]
    assert [(e["sha256"], e["completeness"]) for e in mine] == [(sha256(real), "full")]
