"""Hostile files: every reader bounds what it allocates and how long it reads, and refuses in one line.

Each case is generated in ``tmp_path`` (from a real ICE workbook where it needs one: ``helpers.shared_data_dir``,
skipped when absent). Cases that crashed, hung or filled memory before the readers were bounded run in a child
process with a wall-clock timeout and an address-space limit, so a regression fails the test instead of killing
or blocking the run; the child reports the error it saw, the time to refusal and its peak memory.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import resource
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from helpers import shared_data_dir

from icetrack.domain.edition import SourceError
from icetrack.sources import files, is_person_level, parse_file, read_person_file
from icetrack.sources.ddp import read_ddp
from icetrack.sources.ddp.sheet_xml import LIMITS as DDP_LIMITS
from icetrack.sources.ice_detention import parse_workbook
from icetrack.sources.ice_detention.workbook import LIMITS as WORKBOOK_LIMITS
from icetrack.sources.ice_detention.workbook import check_container, find_sheet
from icetrack.sources.user_csv import MAX_BYTES, parse_csv, read_header

SHARED = shared_data_dir()
WORKBOOKS = SHARED / "ice-detention-stats" if SHARED else None
REAL_WORKBOOK = WORKBOOKS / "FY23_detentionStats.xlsx" if WORKBOOKS else None
needs_workbook = pytest.mark.skipif(
    REAL_WORKBOOK is None or not REAL_WORKBOOK.is_file(),
    reason="real ICE workbooks not found (set $ICETRACK_SHARED_DATA to the folder of real public source files)")

CHILD_ADDRESS_SPACE = 3 * 1024**3  # a safety net for the machine: far above what any refusal needs
ROOT = Path(__file__).resolve().parents[2]


# --- helpers -------------------------------------------------------------------------------------------------

def isolated(call: str, *, setup: str = "", timeout: float = 60) -> dict:
    """Run ``call`` (a Python expression) in a child process; {error, message, seconds, rss_mb} as it saw them.
    A hang or a killed child fails the test."""
    code = textwrap.dedent(f"""
        import json, resource, sys, time
        {setup}
        started = time.monotonic()
        result = {{}}
        try:
            value = {call}
            result["returned"] = type(value).__name__
        except BaseException as exc:
            result["error"] = type(exc).__name__
            result["message"] = str(exc)
        result["seconds"] = time.monotonic() - started
        # VmHWM, not ru_maxrss: Linux carries the parent's peak across fork and exec into ru_maxrss
        result["rss_mb"] = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
        print(json.dumps(result))
    """)

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_ADDRESS_SPACE, CHILD_ADDRESS_SPACE))

    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                              preexec_fn=limit, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung: no answer in {timeout:.0f} s from {call}")
    assert proc.returncode == 0, f"child died (exit {proc.returncode}): {proc.stderr.strip()[-600:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def assert_refused(result: dict, path: Path, *words: str, max_rss_mb: float = 600, max_seconds: float = 20):
    assert result.get("error") == "SourceError", result
    message = result["message"]
    assert "\n" not in message and message.startswith(path.name), message
    for word in words:
        assert word.lower() in message.lower(), (word, message)
    assert result["rss_mb"] < max_rss_mb, result
    assert result["seconds"] < max_seconds, result


def one_line(excinfo, path: Path, *words: str) -> str:
    message = str(excinfo.value)
    assert "\n" not in message and message.startswith(path.name), message
    for word in words:
        assert word.lower() in message.lower(), (word, message)
    return message


def sheet_member(path: Path, prefix: str) -> str:
    members = check_container(path)
    return members[find_sheet(list(members), prefix)]


def rewrite(src: Path, dst: Path, edits: dict) -> Path:
    """Copy an xlsx with some parts' bytes changed (edits: part name -> function of the old bytes, called with
    b"" for a part the file does not have, which is then added)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, edits[info.filename](data) if info.filename in edits else data)
        for name in set(edits) - set(zin.namelist()):
            zout.writestr(name, edits[name](b""))
    return dst


def patch_headers(path: Path, member: str, *, flags: int = 0, declared_size: int | None = None) -> None:
    """Set flag bits or the declared uncompressed size of one part in both its local and central headers
    (zipfile itself never writes a lie)."""
    raw = bytearray(path.read_bytes())
    name = member.encode()
    for signature, flags_at, size_at, name_len_at, name_at in ((b"PK\x03\x04", 6, 22, 26, 30),
                                                               (b"PK\x01\x02", 8, 24, 28, 46)):
        pos = raw.find(signature)
        while pos != -1:
            n = struct.unpack("<H", raw[pos + name_len_at:pos + name_len_at + 2])[0]
            if raw[pos + name_at:pos + name_at + n] == name:
                old = struct.unpack("<H", raw[pos + flags_at:pos + flags_at + 2])[0]
                raw[pos + flags_at:pos + flags_at + 2] = struct.pack("<H", old | flags)
                if declared_size is not None:
                    raw[pos + size_at:pos + size_at + 4] = struct.pack("<I", declared_size)
            pos = raw.find(signature, pos + 4)
    path.write_bytes(bytes(raw))


def small_workbook(path: Path, sheet: str = "Detention FY25", far_cell: str | None = None) -> Path:
    """A tiny xlsx (openpyxl) with one sheet; optionally one number far out at ``far_cell``."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(["ICE Currently Detained by Criminality and Arresting Agency"])
    ws.append(["Convicted Criminal", 1, 2])
    if far_cell:
        ws[far_cell] = 1
    wb.save(path)
    return path


DDP_HEADER = ["Apprehension Date", "Apprehension State", "Citizenship Country", "Gender", "Unique Identifier"]


def ddp_workbook(path: Path, far_cell: str | None = None) -> Path:
    """A DDP-style raw ICE xlsx: a title block, a header found by content, two rows."""
    import openpyxl
    from datetime import datetime

    wb = openpyxl.Workbook()
    ws = wb.active
    for title in ("ERO-LESA Statistical Tracking Unit", "ERO Administrative Arrests"):
        ws.append([title])
    ws.append(DDP_HEADER)
    ws.append([datetime(2024, 1, 2), "WASHINGTON", "MEXICO", "Male", "a" * 40])
    ws.append([datetime(2024, 1, 3), "OREGON", "CANADA", "Female", "b" * 40])
    if far_cell:
        ws[far_cell] = "x"
    wb.save(path)
    return path


# --- 1. a sheet's extent, before calamine allocates it ---------------------------------------------------

@needs_workbook
def test_one_cell_at_xfd1048576_in_a_real_workbook_is_refused_before_allocation(tmp_path):
    # One extra cell at the format's last address made calamine ask for 512 GiB and abort the process.
    member = sheet_member(REAL_WORKBOOK, "detention")
    bad = rewrite(REAL_WORKBOOK, tmp_path / REAL_WORKBOOK.name, {member: lambda b: b.replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')})
    result = isolated(f"parse_workbook({str(bad)!r})",
                      setup="from icetrack.sources.ice_detention import parse_workbook")
    assert_refused(result, bad, "[Detention FY23]", "XFD1048576", "1,048,576 rows x 16,384 columns",
                   "refused before loading", max_rss_mb=400, max_seconds=10)


@needs_workbook
def test_150000_rows_reaching_column_xfd_are_refused_at_the_first_far_cell(tmp_path):
    # 150,000 rows reaching XFD asked calamine for 78 GB.
    member = sheet_member(REAL_WORKBOOK, "detention")
    far = b"".join(b'<row r="%d"><c r="XFD%d"><v>1</v></c></row>' % (r, r) for r in range(200_000, 350_000))
    bad = rewrite(REAL_WORKBOOK, tmp_path / REAL_WORKBOOK.name,
                  {member: lambda b: b.replace(b"</sheetData>", far + b"</sheetData>")})
    result = isolated(f"parse_workbook({str(bad)!r})",
                      setup="from icetrack.sources.ice_detention import parse_workbook")
    assert_refused(result, bad, "[Detention FY23]", "16,384 columns", max_rss_mb=400, max_seconds=10)
    # the first far cell the scan meets, whichever: refused there, without reading the rest
    assert re.search(r"reaches cell XFD(\d+) \(\1 rows", result["message"].replace(",", "")), result


def test_a_declared_dimension_beyond_the_limits_is_refused(tmp_path):
    path = small_workbook(tmp_path / "FY25_detentionStats01012025.xlsx")
    member = sheet_member(path, "detention")
    bad = rewrite(path, tmp_path / "declared.xlsx", {member: lambda b: re.sub(
        rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', b)})
    with pytest.raises(SourceError) as err:
        parse_workbook(bad)
    one_line(err, bad, "[Detention FY25]", "declares its extent as A1:XFD1048576", "17,179,869,184 cells")


def test_a_synthetic_workbook_with_a_far_cell_is_refused_by_both_xlsx_readers(tmp_path):
    wide = small_workbook(tmp_path / "src.xlsx", far_cell="ALM2")  # column 1,001
    # the declared extent left small: the cell itself is what reaches too far
    wide = rewrite(wide, tmp_path / "FY25_detentionStats01012025.xlsx", {sheet_member(wide, "detention"): lambda b:
                   re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:C2"/>', b)})
    with pytest.raises(SourceError) as err:
        parse_workbook(wide)
    one_line(err, wide, "[Detention FY25]", "reaches cell ALM2", "1,001 columns")
    far_row = b'<row r="3500000"><c r="AN3500000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    tall = rewrite(ddp_workbook(tmp_path / "src.xlsx"), tmp_path / "arrests.xlsx",
                   {"xl/worksheets/sheet1.xml": lambda b: b.replace(b"</sheetData>", far_row)})
    release = read_ddp(tall)  # the header is found in the first rows; the sheet is checked before its load
    with pytest.raises(SourceError) as err:
        list(release.batches)
    one_line(err, tall, "[Sheet]", "AN3500000", "3,500,000 rows")


def test_cells_without_addresses_are_placed_as_calamine_places_them(tmp_path):
    # 1,001 cells without an 'r' attribute in one row reach column 1,001 just as surely as r="ALM1".
    path = small_workbook(tmp_path / "FY25_detentionStats01012025.xlsx")
    member = sheet_member(path, "detention")
    row = b"<row>" + b"<c><v>1</v></c>" * 1001 + b"</row>"
    bad = rewrite(path, tmp_path / "unaddressed.xlsx",
                  {member: lambda b: b.replace(b"</sheetData>", row + b"</sheetData>")})
    with pytest.raises(SourceError) as err:
        parse_workbook(bad)
    one_line(err, bad, "reaches cell ALM3", "1,001 columns")


def test_a_flood_of_cells_at_one_address_is_refused_by_count():
    # Within a one-cell extent, but calamine would keep all 2,000 cells in memory.
    limits = files.XlsxLimits(1 << 20, 1 << 20, 1 << 20, columns=10, rows=10, cells=100)
    extent = files.SheetExtent(Path("flood.xlsx"), "Sheet1", limits)
    with pytest.raises(SourceError) as err:
        extent.feed(b"<worksheet><sheetData><row r=\"1\">" + b'<c r="A1"><v>1</v></c>' * 2000)
    assert str(err.value) == ("flood.xlsx [Sheet1]: sheet may hold more than 100 cells (calamine keeps every one); "
                              "refused before loading (limits: 10 columns, 10 rows, 100 cells)")
    assert (extent.max_row, extent.max_col) == (0, 0)  # refused before a cell was placed


@needs_workbook
def test_the_real_sheets_read_are_far_inside_the_limits():
    """The limits are set from the real files: the sheets the reader loads span at most 236 rows and 50 columns
    (10,600 cells) in the 30 shared workbooks; the limits are 20x the columns and 470x the cells."""
    widest = tallest = largest = 0
    for path in sorted(WORKBOOKS.rglob("*.xlsx")):
        members = check_container(path)
        with zipfile.ZipFile(path) as zf:
            for prefix in ("detention", "facilities"):
                sheet = find_sheet(list(members), prefix)
                extent = files.SheetExtent(path, sheet, WORKBOOK_LIMITS)
                extent.feed(zf.read(members[sheet]))
                extent.close()
                widest, tallest = max(widest, extent.max_col), max(tallest, extent.max_row)
                largest = max(largest, extent.max_col * extent.max_row)
    assert (widest, tallest, largest) == (50, 236, 10_600)
    assert WORKBOOK_LIMITS.columns >= 20 * widest and WORKBOOK_LIMITS.cells >= 470 * largest
    assert DDP_LIMITS.columns >= 8 * 116  # the widest raw ICE table DDP lists has 116 columns


# --- 2. zip headers that understate, 3. encrypted parts -----------------------------------------------------

SST = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
       b"<si><t>x</t></si></sst>")


def lying_shared_strings(src: Path, dst: Path, inflated: int, declared: int) -> Path:
    """The workbook with a sharedStrings.xml padded by ``inflated`` bytes (streamed: never held in memory) whose
    zip headers say ``declared``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            if info.filename != "xl/sharedStrings.xml":
                zout.writestr(info, zin.read(info.filename))
        sst = zin.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in zin.namelist() else SST
        with zout.open("xl/sharedStrings.xml", "w") as fh:
            fh.write(b"<!--")
            for _ in range(inflated // (1 << 20)):
                fh.write(b" " * (1 << 20))
            fh.write(b"-->" + sst)
    patch_headers(dst, "xl/sharedStrings.xml", declared_size=declared)
    return dst


def test_shared_strings_inflating_past_their_declared_size_are_refused_by_both_readers(tmp_path):
    # Declared 5 MB, inflating to 40 MB (the real case inflated to 595 MB and took 2.1 GB of memory).
    book = lying_shared_strings(small_workbook(tmp_path / "src.xlsx"), tmp_path / "FY25_detentionStats01012025.xlsx",
                                40 * 1024 * 1024, 5 * 1024 * 1024)
    assert book.stat().st_size < 200_000
    with pytest.raises(SourceError) as err:
        parse_workbook(book)
    one_line(err, book, "xl/sharedStrings.xml inflates to more than the 5,242,880 bytes its zip header declares")
    raw = lying_shared_strings(ddp_workbook(tmp_path / "ddp.xlsx"), tmp_path / "arrests.xlsx",
                               40 * 1024 * 1024, 5 * 1024 * 1024)
    with pytest.raises(SourceError) as err:
        read_person_file(raw)
    one_line(err, raw, "inflates to more than the 5,242,880 bytes")


@needs_workbook
def test_the_595_mb_shared_strings_case_is_refused_within_a_small_memory(tmp_path):
    bad = lying_shared_strings(REAL_WORKBOOK, tmp_path / REAL_WORKBOOK.name, 595 * 1024 * 1024, 5 * 1024 * 1024)
    result = isolated(f"parse_file({str(bad)!r})", setup="from icetrack.sources import parse_file")
    assert_refused(result, bad, "inflates to more than the 5,242,880 bytes", max_rss_mb=300, max_seconds=10)


def test_an_honestly_declared_part_over_the_limit_is_refused_before_inflating(tmp_path):
    noise = os.urandom(10 * 1024 * 1024).hex().encode()  # 20 MiB that compress 2:1, under the ratio check
    book = rewrite(small_workbook(tmp_path / "src.xlsx"), tmp_path / "FY25_detentionStats01012025.xlsx",
                   {"xl/sharedStrings.xml": lambda b: (b or SST).replace(b"<sst", b"<!--" + noise + b"--><sst", 1)})
    with pytest.raises(SourceError) as err:
        parse_workbook(book)
    one_line(err, book, "xl/sharedStrings.xml declares 20,971,", "limit 16,777,216")


def test_an_encrypted_part_is_one_line_not_a_traceback(tmp_path):
    book = small_workbook(tmp_path / "FY25_detentionStats01012025.xlsx")
    patch_headers(book, "xl/workbook.xml", flags=0x1)
    with zipfile.ZipFile(book) as zf, pytest.raises(RuntimeError, match="encrypted"):
        zf.read("xl/workbook.xml")  # what the readers used to let through
    assert is_person_level(book) is False  # unreadable: left to the workbook parser's one line
    with pytest.raises(SourceError) as err:
        parse_file(book)
    one_line(err, book, "part xl/workbook.xml is encrypted")
    raw = ddp_workbook(tmp_path / "arrests.xlsx")
    patch_headers(raw, "xl/styles.xml", flags=0x1)
    with pytest.raises(SourceError) as err:
        read_ddp(raw)
    one_line(err, raw, "part xl/styles.xml is encrypted")


# --- 4. special files -------------------------------------------------------------------------------------

SPECIAL_FILES_SCRIPT = """
import json, sys
from pathlib import Path
from icetrack.claims import ClaimsFileError, load_claims
from icetrack.domain.edition import SourceError
from icetrack.sources import is_person_level, parse_file, read_person_file
from icetrack.sources.ddp import read_ddp, read_ddp_joined
from icetrack.sources.ero_lesa import read_ero_lesa
from icetrack.sources.ice_detention import parse_workbook
from icetrack.sources.user_csv import parse_csv, read_header

calls = [parse_file, is_person_level, read_person_file, parse_workbook, read_ero_lesa, read_ddp, read_ddp_joined,
         parse_csv, read_header, load_claims]
out = []
for p in map(Path, sys.argv[1:]):
    for call in calls:
        try:
            call(p)
            out.append([call.__name__, p.name, "accepted", ""])
        except BaseException as exc:
            out.append([call.__name__, p.name, type(exc).__name__, str(exc)[:300]])
print(json.dumps(out))
"""


def test_fifos_devices_and_directories_are_refused_by_every_entry_point(tmp_path):
    # A FIFO named f.csv hung `icetrack ingest`; a link to /dev/zero read until memory ran out.
    os.mkfifo(tmp_path / "f.csv")
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    (tmp_path / "d.xlsx").mkdir()
    paths = [str(tmp_path / n) for n in ("f.csv", "zero.csv", "d.xlsx")]
    try:
        proc = subprocess.run([sys.executable, "-c", SPECIAL_FILES_SCRIPT, *paths], capture_output=True, text=True,
                              timeout=90, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail("a reader hung on a FIFO or /dev/zero")
    rows = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(rows) == 3 * 10
    expected = {"f.csv": "f.csv: is a named pipe (FIFO), not a regular file: reading it could wait forever; refused",
                "zero.csv": "zero.csv: is a device (resolves to /dev/zero), not a regular file: reading it may "
                            "never end; refused",
                "d.xlsx": "d.xlsx: is a directory, not a regular file; refused"}
    for call, file_name, kind, message in rows:
        assert (call, kind, message) == (call, "ClaimsFileError" if call == "load_claims" else "SourceError",
                                         expected[file_name])


def test_the_cli_refuses_a_fifo_and_dev_zero_in_one_line(tmp_path):
    os.mkfifo(tmp_path / "f.csv")
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "claims.yaml")
    script = textwrap.dedent(f"""
        import json
        from click.testing import CliRunner
        from icetrack.cli import cli
        runs = []
        for args in (["ingest", "f.csv"], ["ingest", "zero.csv"], ["check", "claims.yaml"]):
            r = CliRunner().invoke(cli, ["--warehouse", "w.duckdb", *args], obj={{}})
            runs.append([r.exit_code, r.stdout, r.stderr])
        print(json.dumps(runs))
    """)
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=90,
                              cwd=tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail("icetrack hung on a FIFO or /dev/zero")
    assert time.monotonic() - started < 90
    runs = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [(code, out) for code, out, _ in runs] == [(2, ""), (2, ""), (2, "")]
    assert runs[0][2] == ("icetrack: error: f.csv: is a named pipe (FIFO), not a regular file: reading it could "
                          "wait forever; refused\n")
    assert runs[1][2] == ("icetrack: error: zero.csv: is a device (resolves to /dev/zero), not a regular file: "
                          "reading it may never end; refused\n")
    assert runs[2][2].startswith("icetrack: error: claims.yaml: is a named pipe (FIFO)")


# --- 5. lines and decompressed streams ----------------------------------------------------------------------

def gzip_of_a_long_line(path: Path, head: bytes, mebibytes: int) -> Path:
    """``head`` then ``mebibytes`` MiB without a line break, as a ~1 MB .gz (one gzip member repeated: a gzip
    file may hold several, read as one stream)."""
    member = gzip.compress(b"x" * (1 << 20), compresslevel=9)
    with open(path, "wb") as fh:
        fh.write(gzip.compress(head))
        for _ in range(mebibytes):
            fh.write(member)
    return path


def test_a_1_gib_line_in_a_1_mb_gzip_is_refused_with_its_line_number(tmp_path):
    # ERO-LESA reader (and read_person_file's route to it): a MemoryError before.
    bad = gzip_of_a_long_line(tmp_path / "arrests.csv.gz", b"ERO-LESA Statistical Tracking Unit\n", 1024)
    assert bad.stat().st_size < 2_000_000
    result = isolated(f"read_person_file({str(bad)!r})", setup="from icetrack.sources import read_person_file")
    assert_refused(result, bad, "line 2 is longer than 1,048,576 bytes", max_rss_mb=300, max_seconds=15)


def test_a_long_line_in_a_ddp_csv_is_refused_in_the_header_and_in_the_rows(tmp_path):
    bad = gzip_of_a_long_line(tmp_path / "arrests.csv.gz", b"", 1024)
    result = isolated(f"read_ddp({str(bad)!r}, table='arrests')", setup="from icetrack.sources.ddp import read_ddp")
    assert_refused(result, bad, "line 1 is longer than 1,048,576 bytes", max_rss_mb=300, max_seconds=15)
    rows = gzip_of_a_long_line(tmp_path / "detainers.csv.gz", b"unique_identifier,detainer_prepare_date\n", 256)
    result = isolated(f"list(read_ddp({str(rows)!r}).batches)", setup="from icetrack.sources.ddp import read_ddp")
    assert_refused(result, rows, "CSV unreadable", "straddles", max_rss_mb=600, max_seconds=15)


def test_a_figures_csv_with_a_long_field_or_too_large_is_refused_in_one_line(tmp_path):
    header = "date,measure,value,unit,source_url\n"
    long_field = tmp_path / "long.csv"
    long_field.write_text(header + "9" * (2 * 1024 * 1024) + "\n")
    with pytest.raises(SourceError) as err:
        parse_csv(long_field)
    one_line(err, long_field, "row 2", "malformed CSV: field larger than field limit")
    one_line_file = tmp_path / "oneline.csv"
    one_line_file.write_bytes(b"x" * (MAX_BYTES + 1))
    with pytest.raises(SourceError) as err:
        parse_csv(one_line_file)
    one_line(err, one_line_file, "line 1 is longer than 1,048,576 bytes")
    with pytest.raises(SourceError) as err:
        read_header(one_line_file)  # the sniff of every .csv reads one bounded line, not the file
    one_line(err, one_line_file, "line 1 is longer than")
    nul = tmp_path / "nul.csv"
    nul.write_bytes(header.encode() + b"2025-01-01,m,1,arrests,https://x.org\n" * 200 + b"a\x00b\n")
    with pytest.raises(SourceError) as err:
        parse_csv(nul)
    one_line(err, nul, "row 202")


def test_bounded_lines_stop_at_the_stream_limit(tmp_path):
    import io

    stream = io.BytesIO(b"ab\n" * 10)
    lines = files.bounded_lines(stream, tmp_path / "s.csv.gz", max_line=8, max_total=20, stream="decompressed stream")
    assert [next(lines)[0] for _ in range(6)] == [1, 2, 3, 4, 5, 6]
    with pytest.raises(SourceError) as err:
        list(lines)
    assert str(err.value) == ("s.csv.gz row 7: the decompressed stream is longer than 20 bytes at line 7; refused "
                              "as a possible decompression bomb")


# --- 7. MemoryError and RecursionError in a command ---------------------------------------------------------

@pytest.mark.parametrize("error, expected", [
    (MemoryError, "icetrack: error: ran out of memory reading claims.yaml; the input is larger than this machine "
                  "can hold\n"),
    (RecursionError, "icetrack: error: input nested too deeply reading claims.yaml; Python's recursion limit was "
                     "reached\n"),
])
def test_memory_and_recursion_errors_end_in_one_line(tmp_path, monkeypatch, error, expected):
    from click.testing import CliRunner

    import icetrack.claims
    from icetrack.cli import cli

    (tmp_path / "claims.yaml").write_text("format: icetrack-claims/1\n")

    def explode(path=None):
        raise error()

    monkeypatch.setattr(icetrack.claims, "load_claims", explode)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["--warehouse", str(tmp_path / "w.duckdb"), "check", "claims.yaml"], obj={})
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", expected)
