"""Hostile inputs against the real CLI: every case must end in one line (or load, where loading is right), with
the warehouse unchanged after a refusal, no traceback, no process killed or hung, and nothing identifying stored.

    uv run python benchmarks/hostile_inputs.py [--data DIR] [--only NAME ...]

``--data`` is a folder of the public files the cases start from: an ICE detention workbook
(ice-detention-stats/FY25_detentionStats06052025.xlsx, https://www.ice.gov/detain/detention-management) and a
UWCHR ERO-LESA file (uwchr-ice-enforce/aor-seattle-raw/CAP-FY2018-arrests.csv.gz, https://github.com/UWCHR/ice-enforce).

Each case is generated in a temporary folder (from the real public files where it needs one), then
``icetrack ingest`` (or ``icetrack check`` for claims files) runs on it in its own process with a wall-clock
limit and an address-space limit. The table printed at the end is what the README's reliability section
quotes. Nothing here downloads anything.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

TIMEOUT_S = 120
ADDRESS_SPACE = 16 * 1024**3  # a safety net for the machine, far above what any refusal needs
WORKBOOK = "ice-detention-stats/FY25_detentionStats06052025.xlsx"
PERSON_GZ = "uwchr-ice-enforce/aor-seattle-raw/CAP-FY2018-arrests.csv.gz"
IDENTIFYING_VALUES = ("JANE DOE", "123-45-6789", "A123456789", "1 MAIN STREET")
GOOD_CSV = "date,measure,value,unit,source_url\n2025-02-03,ice_posted_arrests,1200,arrests,https://example.org/p\n"
TARGET_HEADER = "target_id,kind,label,concept,scope,value_low,value_high,unit,source_url\n"


@dataclass
class Case:
    name: str
    build: Callable[[Path, Path], list[str]]  # (case folder, --data folder) -> CLI arguments after --warehouse W
    expect: str = "refuse"  # or "load"


def _csv(text: str, name: str = "f.csv"):
    def build(d: Path, _data: Path) -> list[str]:
        (d / name).write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        return ["ingest", str(d / name)]
    return build


def _claims(text: str):
    def build(d: Path, _data: Path) -> list[str]:
        (d / "claims.yaml").write_text(text)
        return ["check", str(d / "claims.yaml"), "--json"]
    return build


def _rewrite(src: Path, dst: Path, edits: dict[str, Callable[[bytes], bytes]], extra: dict[str, bytes] | None = None,
             flag_encrypted: str | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in edits:
                data = edits[info.filename](data)
            zout.writestr(info, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    if flag_encrypted:
        # zipfile clears the flag on write: set bit 0 ("encrypted") in the member's local and central headers.
        raw = bytearray(dst.read_bytes())
        name = flag_encrypted.encode()
        for signature, flags_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
            pos = raw.find(signature)
            while pos != -1:
                if raw[pos + name_at:pos + name_at + len(name)] == name:
                    raw[pos + flags_at] |= 0x1
                    break
                pos = raw.find(signature, pos + 4)
        dst.write_bytes(bytes(raw))
    return dst


def _sheet_member(path: Path, prefix: str = "Detention") -> str:
    with zipfile.ZipFile(path) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{prefix}[^"]*"[^>]*r:id="(rId\d+)"', workbook).group(1)
    target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rid}"', rels)
    target = target.group(1) or target.group(2)
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _workbook(edit: Callable[[Path, Path], Path]):
    def build(d: Path, data: Path) -> list[str]:
        return ["ingest", str(edit(data / WORKBOOK, d / Path(WORKBOOK).name))]
    return build


def _book_ins_cell(path: Path) -> tuple[str, str]:
    """(sheet XML member, reference) of the ICE-arrested book-ins of October, located as the parser does."""
    from icetrack.sources.ice_detention.tables import REQUIRED_TABLES, locate_table
    from icetrack.sources.ice_detention.workbook import FastexcelWorkbook, cell_ref, check_container, find_sheet

    workbook = FastexcelWorkbook(path)
    sheet = find_sheet(workbook.sheet_names, "detention")
    grid = workbook.grid(sheet)
    table = locate_table(grid, REQUIRED_TABLES["ICE Initial Book-Ins by Arresting Agency and Month"])
    row = next(r for r in table.body if table.label(r).strip() == "ICE")
    col = next(c for c, month, _ in table.period_columns if month == 10)
    return check_container(path)[sheet], cell_ref(row, col)


def _cell(content: str):
    def edit(src: Path, dst: Path) -> Path:
        member, ref = _book_ins_cell(src)

        def change(xml: bytes) -> bytes:
            return re.sub(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', f'<c r="{ref}"{content}</c>', xml.decode(),
                          count=1, flags=re.DOTALL).encode()

        return _rewrite(src, dst, {member: change})
    return edit


def _as_of(date_text: str):
    def edit(src: Path, dst: Path) -> Path:
        return _rewrite(src, dst, {"xl/sharedStrings.xml": lambda b: re.sub(
            rb"\(IIDS\), \d\d/\d\d/\d{4}", f"(IIDS), {date_text}".encode(), b)})
    return edit


def _far_cell(rows: int):
    def edit(src: Path, dst: Path) -> Path:
        member = _sheet_member(src)

        def change(xml: bytes) -> bytes:
            start = 200_000
            far = "".join(f'<row r="{r}"><c r="XFD{r}"><v>1</v></c></row>' for r in range(start, start + rows))
            far += '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
            return xml.replace(b"</sheetData>", far.encode() + b"</sheetData>")

        return _rewrite(src, dst, {member: change})
    return edit


def _lying_shared_strings(inflated: int):
    """sharedStrings.xml whose zip headers declare 5 MB while it inflates to ``inflated`` bytes."""
    def edit(src: Path, dst: Path) -> Path:
        name = b"xl/sharedStrings.xml"
        pad = b"<!--" + b" " * inflated + b"-->"
        _rewrite(src, dst, {name.decode(): lambda b: b.replace(b"<sst", pad + b"<sst", 1)})
        raw = bytearray(dst.read_bytes())
        declared = (5 * 1024 * 1024).to_bytes(4, "little")
        # Local header: uncompressed size at +22, name at +30. Central directory entry: size at +24, name at +46.
        for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
            pos = raw.find(signature)
            while pos != -1:
                if raw[pos + name_at:pos + name_at + len(name)] == name:
                    raw[pos + size_at:pos + size_at + 4] = declared
                    break
                pos = raw.find(signature, pos + 4)
        dst.write_bytes(bytes(raw))
        return dst
    return edit


def _person(text: str, name: str = "persons.csv"):
    def build(d: Path, _data: Path) -> list[str]:
        (d / name).write_text(text)
        return ["ingest", str(d / name)]
    return build


def _gz(build_bytes: Callable[[Path], bytes], name: str = "arrests.csv.gz", extra_good_csv: bool = False):
    def build(d: Path, data: Path) -> list[str]:
        (d / name).write_bytes(build_bytes(data))
        args = ["ingest", str(d / name)]
        if extra_good_csv:
            (d / "good.csv").write_text(GOOD_CSV)
            args = ["ingest", str(d / "good.csv"), str(d / name)]
        return args
    return build


def _long_line_gz(_data: Path) -> bytes:
    out = tempfile.SpooledTemporaryFile()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        chunk = b"x" * (1 << 20)
        for _ in range(1024):
            gz.write(chunk)
    out.seek(0)
    return out.read()


def _special(kind: str):
    def build(d: Path, _data: Path) -> list[str]:
        target = d / "f.csv"
        if kind == "fifo":
            os.mkfifo(target)
        else:
            target.symlink_to("/dev/zero")
        return ["ingest", str(target)]
    return build


def _duplicate_download(d: Path, data: Path) -> list[str]:
    shutil.copy(data / PERSON_GZ, d / "arrests.csv.gz")
    shutil.copy(data / PERSON_GZ, d / "arrests (1).csv.gz")
    return ["ingest", str(d), str(d / "arrests.csv.gz")]


ID = "a" * 40
NAN_CLAIM = """format: icetrack-claims/1
claims:
  - id: nan-claim
    text: 'A claim whose number is not a number.'
    outlet: test
    published_on: 2025-02-07
    url: https://example.org/claim
    metric: targets.daily_arrests
    statistic: reported_target
    window: {start: 2025-01-20, end: 2025-02-07}
    comparison: {op: equals, value: .nan}
"""
CASES: list[Case] = [
    # Figures CSV
    Case("csv_empty", _csv("")),
    Case("csv_header_only", _csv("date,measure,value,unit,source_url\n")),
    Case("csv_nul_bytes", _csv(b"date,measure\x00,value\n")),
    Case("csv_latin1", _csv("date,measure,value,unit,source_url\n2025-01-01,caf\xe9,1,x,https://x.org\n".encode("latin-1"))),
    Case("csv_negative", _csv(GOOD_CSV.replace("1200", "-8611"))),
    Case("csv_nan", _csv(GOOD_CSV.replace("1200", "nan"))),
    Case("csv_inf", _csv(GOOD_CSV.replace("1200", "inf"))),
    Case("csv_1e400", _csv(GOOD_CSV.replace("1200", "1E+400"))),
    Case("csv_1e308", _csv(GOOD_CSV.replace("1200", "1E+308"))),
    Case("csv_year_1", _csv(GOOD_CSV.replace("2025-02-03", "0001-01-01"))),
    Case("csv_year_9999", _csv(GOOD_CSV.replace("2025-02-03", "9999-12-31"))),
    Case("csv_feb_30", _csv(GOOD_CSV.replace("2025-02-03", "2024-02-30"))),
    Case("csv_long_measure", _csv(GOOD_CSV.replace("ice_posted_arrests", "m" * 5000))),
    Case("csv_javascript_url", _csv(GOOD_CSV.replace("https://example.org/p", "javascript:alert(1)"))),
    Case("csv_ragged_row", _csv(GOOD_CSV + "2025-02-04,ice_posted_arrests,5\n")),
    Case("csv_duplicate_key", _csv(GOOD_CSV + GOOD_CSV.splitlines()[1].replace("1200", "5") + "\n")),
    Case("csv_unknown_column", _csv(GOOD_CSV.replace("source_url", "source_url,evil").replace("/p\n", "/p,1\n"))),
    Case("csv_huge_line", _csv("date,measure,value,unit,source_url\n" + "9" * (20 * 1024 * 1024) + "\n")),
    # Targets CSV
    Case("targets_low_above_high", _csv(TARGET_HEADER + "t,target,T,arrests,national,9,1,arrests per day,https://x.org\n")),
    Case("targets_huge", _csv(TARGET_HEADER + "t,target,T,arrests,national,1,1e12,arrests per day,https://x.org\n")),
    Case("targets_not_per_day", _csv(TARGET_HEADER + "t,target,T,arrests,national,1,2,arrests,https://x.org\n")),
    # Special files
    Case("fifo", _special("fifo")),
    Case("symlink_dev_zero", _special("zero")),
    # ICE workbooks
    Case("xlsx_not_zip", _csv(b"not a workbook", name="FY25_detentionStats01012025.xlsx")),
    Case("xlsx_truncated", _workbook(lambda s, d: (d.write_bytes(s.read_bytes()[:50_000]), d)[1])),
    Case("xlsx_encrypted_member", _workbook(lambda s, d: _rewrite(s, d, {}, flag_encrypted="xl/workbook.xml"))),
    Case("xlsx_far_cell", _workbook(_far_cell(0))),
    Case("xlsx_150k_rows_to_xfd", _workbook(_far_cell(150_000))),
    Case("xlsx_lying_zip_header", _workbook(_lying_shared_strings(600 * 1024 * 1024))),
    Case("xlsx_negative_count", _workbook(_cell("><v>-8611</v>"))),
    Case("xlsx_1e400", _workbook(_cell("><v>1E+400</v>"))),
    Case("xlsx_1e308", _workbook(_cell("><v>1E+308</v>"))),
    Case("xlsx_text_na", _workbook(_cell(' t="inlineStr"><is><t>N/A</t></is>'))),
    Case("xlsx_as_of_2999", _workbook(_as_of("12/31/2999"))),
    Case("xlsx_uncached_formula", _workbook(lambda s, d: _rewrite(s, d, {_sheet_member(s): lambda b: re.sub(
        rb'(<c r="[A-Z]+\d+"[^>]*>)<v>(\d+)</v></c>', rb"\1<f>1+1</f></c>", b, count=1)}))),
    # Person-level files
    Case("person_truncated_gz_with_good_csv", _gz(lambda data: (data / PERSON_GZ).read_bytes()[:4000],
                                                 extra_good_csv=True)),
    Case("person_1gib_line_gz", _gz(_long_line_gz)),
    Case("person_feb_30", _person(f"unique_identifier,apprehension_date\n{ID},2024-02-30\n")),
    Case("person_year_9999", _person(f"unique_identifier,apprehension_date\n{ID},9999-12-31\n")),
    Case("person_full_name_ssn", _person(f"unique_identifier,apprehension_date,Full Name,SSN\n"
                                         f"{ID},2024-02-03,JANE DOE,123-45-6789\n")),
    Case("person_anumber_values", _person(f"unique_identifier,apprehension_date,col7\n{ID},2024-02-03,A123456789\n"
                                          f"{'b' * 40},2024-02-04,A223456789\n")),
    Case("person_address", _person(f"unique_identifier,apprehension_date,Address\n{ID},2024-02-03,1 MAIN STREET\n")),
    Case("person_duplicate_download", _duplicate_download, expect="load"),
    # Claims YAML
    Case("claims_billion_laughs", _claims("a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
        f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n" for i in range(9)))),
    Case("claims_nested_50000", _claims("a: " + "[" * 50_000 + "]" * 50_000 + "\n")),
    Case("claims_nan", _claims(NAN_CLAIM)),
    Case("claims_not_yaml", _claims("{{{{")),
]


def state(warehouse: Path) -> tuple:
    if not warehouse.exists():
        return ()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return tuple((t, con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables
                     if not t.startswith("_staging_"))
    finally:
        con.close()


def identifying_cells(warehouse: Path) -> int:
    """Cells anywhere in the warehouse that hold one of the identifying values the cases planted."""
    con = duckdb.connect(str(warehouse), read_only=True)
    found = 0
    try:
        for table, column in con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall():
            for value in IDENTIFYING_VALUES:
                found += con.execute(f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS VARCHAR) LIKE ?',
                                     [f"%{value}%"]).fetchone()[0]
    finally:
        con.close()
    return found


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_case(case: Case, root: Path, data: Path, warehouse: Path) -> dict:
    folder = root / case.name
    folder.mkdir()
    args = case.build(folder, data)
    before = state(warehouse)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "icetrack.cli", "--warehouse", str(warehouse), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_limit,
                            env={**os.environ, "ICETRACK_LOCK_WAIT": "0"})
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
        hung = False
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        hung = True
    seconds = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in err.strip().splitlines() if line.strip()]
    verdict = ("hung" if hung else "killed" if proc.returncode < 0 or proc.returncode in (134, 137)
               else "traceback" if "Traceback" in out + err
               else "one-line refusal" if proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("icetrack: error:")
               else "loaded" if proc.returncode == 0 else f"exit {proc.returncode}")
    partial = verdict != "loaded" and state(warehouse) != before
    ok = (verdict == "one-line refusal" if case.expect == "refuse" else verdict == "loaded") and not partial
    return {"case": case.name, "verdict": verdict, "ok": ok, "partial": partial, "seconds": seconds,
            "max_rss_mb": usage.ru_maxrss / 1024, "message": (lines[-1] if lines else out.strip()[-160:])[:160]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("ICETRACK_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or c.name in args.only]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        warehouse = root / "w.duckdb"
        subprocess.run([sys.executable, "-m", "icetrack.cli", "--warehouse", str(warehouse), "editions"],
                       check=True, capture_output=True)
        results = [run_case(c, root, args.data, warehouse) for c in cases]
        identifying = identifying_cells(warehouse)
    for r in results:
        flag = "ok " if r["ok"] else "BAD"
        print(f"{flag} {r['case']:<34} {r['verdict']:<17} {r['seconds']:6.1f} s  {r['message']}")
    count = lambda v: sum(r["verdict"] == v for r in results)  # noqa: E731
    print(f"\n{len(results)} hostile inputs: {count('one-line refusal')} one-line refusals, {count('loaded')} loaded "
          f"(expected {sum(c.expect == 'load' for c in cases)}), {count('traceback')} tracebacks, "
          f"{count('killed')} killed, {count('hung')} hung, {sum(r['partial'] for r in results)} partial ingests, "
          f"{identifying} identifying cells stored; largest child RSS "
          f"{max(r['max_rss_mb'] for r in results):,.0f} MB; {sum(not r['ok'] for r in results)} not as expected")
    sys.exit(0 if all(r["ok"] for r in results) and not identifying else 1)


if __name__ == "__main__":
    main()
