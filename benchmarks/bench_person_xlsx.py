"""Benchmark: read a DDP raw-layout arrests workbook with ``read_ddp`` vs pandas + openpyxl.

    uv run python benchmarks/bench_person_xlsx.py [--rows N] [--repeats R] [--keep DIR]

Generates once, in a temporary directory (or DIR with --keep, reused if already there), a SYNTHETIC
arrests workbook in the Deportation Data Project's raw ICE layout: 6 title rows, the header on row 7, the
rows split over 2 sheets (500,000 each for the default 1,000,000), the raw column names of the 2025 ICE
"ERO Admin Arrests" files, identifiers as text (shared strings) and dates as Excel date cells. Every value
is made up (random draws from small vocabularies and random hex identifiers); no real record is used.

The workbook XML is written directly with zipfile (openpyxl's write-only mode takes minutes for 1M rows).

Then, in this process and alternating so machine load hits both sides alike:
  * icetrack: ``read_ddp(path)``, consuming every canonical batch (header search, identifier checks,
    redaction, whitespace, dates, map of unmapped columns - the full reader, not just the cell parse);
  * baseline: ``pd.read_excel(path, sheet_name=None, skiprows=6, engine="openpyxl", dtype=str)``.
Prints each run, rows, the median times and the ratio; the spread of the repeats is the noise.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import zipfile
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

TITLE_ROWS = [
    "ERO-LESA Statistical Tracking Unit",
    "For Official Use Only (FOUO)/Pre-decisional",
    "SYNTHETIC benchmark data - not an ICE record",
    "ERO Administrative Arrests",
    None,
    "ERO Administrative Arrests (09/01/2023 - 07/28/2025)",
]

# Raw header names of the 2025 releases' "ERO Admin Arrests" files (data_column_names.xlsx, 082025).
COLUMNS = [
    "Apprehension Date", "Apprehension State", "Apprehension County", "Apprehension AOR", "Final Program",
    "Final Program Group", "Apprehension Method", "Apprehension Criminality", "Case Status", "Case Category",
    "Departed Date", "Departure Country", "Final Order Yes No", "Final Order Date", "Birth Date", "Birth Year",
    "Citizenship Country", "Gender", "Apprehension Site Landmark", "Alien File Number", "EID Case ID",
    "EID Subject ID", "Unique Identifier",
]

REDACTED = "(b)(6), (b)(7)(c)"
VOCAB = {
    "Apprehension State": ["TEXAS", "CALIFORNIA", "FLORIDA", "WASHINGTON", "NEW YORK", "ILLINOIS", None],
    "Apprehension County": ["COUNTY A", "COUNTY B", "COUNTY C", "COUNTY D", None],
    "Apprehension AOR": ["Seattle Area of Responsibility", "Houston Area of Responsibility",
                         "Miami Area of Responsibility", "Chicago Area of Responsibility"],
    "Final Program": ["Criminal Alien Program", "Fugitive Operations", "Non-Detained Docket Control"],
    "Final Program Group": ["ICE", "Other"],
    "Apprehension Method": ["CAP Local Incarceration", "Non-Custodial Arrest", "Located", "Other efforts"],
    "Apprehension Criminality": ["1 Convicted Criminal", "2 Pending Criminal Charges",
                                 "3 Other Immigration Violator"],
    "Case Status": ["ACTIVE", "8-Excluded/Removed - Inadmissible", "A-Proceedings Terminated"],
    "Case Category": ["[2A] Deportable - Under Adjudication by IJ", "[16] Reinstated Final Order",
                      "[8B] Excludable / Inadmissible - Under Adjudication by IJ"],
    "Departure Country": ["MEXICO", "GUATEMALA", "HONDURAS", None, None],
    "Final Order Yes No": ["YES", "NO"],
    "Citizenship Country": ["MEXICO", "GUATEMALA", "HONDURAS", "EL SALVADOR", "INDIA", "VENEZUELA"],
    "Gender": ["Male", "Female", "Unknown"],
    "Apprehension Site Landmark": ["LANDMARK 1", "LANDMARK 2", "Not  Applicable", None],
}
DATE_COLUMNS = {"Apprehension Date", "Departed Date", "Final Order Date"}
REDACTED_COLUMNS = {"Birth Date", "Alien File Number", "EID Case ID", "EID Subject ID"}

_EXCEL_EPOCH = datetime(1899, 12, 30)


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def write_ddp_arrests_xlsx(path: Path, rows: int, sheets: int = 2, seed: int = 1) -> Path:
    """Write the synthetic workbook (see module doc). Fast: cell XML built from per-row templates."""
    rng = random.Random(seed)
    sst: list[str] = []
    sst_index: dict[str, int] = {}

    def s(value: str) -> int:
        i = sst_index.get(value)
        if i is None:
            i = sst_index[value] = len(sst)
            sst.append(value)
        return i

    letters = [_col_letter(i) for i in range(len(COLUMNS))]
    vocab_idx = {c: [None if v is None else s(v) for v in vals] for c, vals in VOCAB.items()}
    red = s(REDACTED)
    base = (datetime(2023, 9, 1) - _EXCEL_EPOCH).days
    per_sheet = [rows // sheets + (1 if k < rows % sheets else 0) for k in range(sheets)]

    def sheet_xml(n_rows: int):
        yield ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
        r = 0
        for title in TITLE_ROWS:
            r += 1
            if title is None:
                yield f'<row r="{r}"/>'
            else:
                yield f'<row r="{r}"><c r="A{r}" t="s"><v>{s(title)}</v></c></row>'
        r += 1
        yield f'<row r="{r}">' + "".join(
            f'<c r="{letters[i]}{r}" t="s"><v>{s(name)}</v></c>' for i, name in enumerate(COLUMNS)) + "</row>"
        buf = []
        for _ in range(n_rows):
            r += 1
            cells = []
            for i, name in enumerate(COLUMNS):
                ref = f"{letters[i]}{r}"
                if name in DATE_COLUMNS:
                    if name != "Apprehension Date" and rng.random() < 0.5:
                        continue
                    serial = base + rng.random() * 690
                    cells.append(f'<c r="{ref}" s="1"><v>{serial:.6f}</v></c>')
                elif name in REDACTED_COLUMNS:
                    cells.append(f'<c r="{ref}" t="s"><v>{red}</v></c>')
                elif name == "Birth Year":
                    if rng.random() < 0.5:
                        cells.append(f'<c r="{ref}" t="s"><v>{red}</v></c>')
                    else:
                        cells.append(f'<c r="{ref}"><v>{rng.randint(1950, 2007)}</v></c>')
                elif name == "Unique Identifier":
                    cells.append(f'<c r="{ref}" t="s"><v>{s(f"{rng.getrandbits(160):040x}")}</v></c>')
                else:
                    v = rng.choice(vocab_idx[name])
                    if v is not None:
                        cells.append(f'<c r="{ref}" t="s"><v>{v}</v></c>')
            buf.append(f'<row r="{r}">' + "".join(cells) + "</row>")
            if len(buf) >= 5000:
                yield "".join(buf)
                buf = []
        if buf:
            yield "".join(buf)
        yield "</sheetData></worksheet>"

    names = [f"Sheet{k + 1}" for k in range(sheets)]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for k, n in enumerate(per_sheet):
            with zf.open(f"xl/worksheets/sheet{k + 1}.xml", "w", force_zip64=True) as fh:
                for chunk in sheet_xml(n):
                    fh.write(chunk.encode("utf-8"))
        zf.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{k + 1}.xml" ContentType="application/'
                      'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for k in range(sheets))
            + '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
              'spreadsheetml.styles+xml"/>'
              '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
              'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
        zf.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        zf.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            + "".join(f'<sheet name="{n}" sheetId="{k + 1}" r:id="rId{k + 1}"/>' for k, n in enumerate(names))
            + "</sheets></workbook>"))
        zf.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{k + 1}" Type="http://schemas.openxmlformats.org/officeDocument/'
                      f'2006/relationships/worksheet" Target="worksheets/sheet{k + 1}.xml"/>'
                      for k in range(sheets))
            + f'<Relationship Id="rId{sheets + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
              'relationships/styles" Target="styles.xml"/>'
              f'<Relationship Id="rId{sheets + 2}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
              'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'))
        zf.writestr("xl/styles.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
            '</styleSheet>'))
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                      '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                      f'count="{len(sst)}" uniqueCount="{len(sst)}">').encode())
            for k in range(0, len(sst), 10000):
                fh.write("".join(f"<si><t>{escape(v)}</t></si>" for v in sst[k:k + 10000]).encode("utf-8"))
            fh.write(b"</sst>")
    return path


def run_icetrack(path: Path) -> int:
    from icetrack.sources.ddp import read_ddp

    release = read_ddp(path)
    n = 0
    for _table, batch in release.batches:
        n += batch.num_rows
    return n


def run_pandas(path: Path) -> int:
    import pandas as pd

    frames = pd.read_excel(path, sheet_name=None, skiprows=6, engine="openpyxl", dtype=str)
    return sum(len(f) for f in frames.values())


def main() -> None:
    ap = argparse.ArgumentParser(description="Benchmark: read a DDP raw-layout arrests workbook with read_ddp vs pandas + openpyxl.")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--sheets", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1, help="alternating runs of each side (median reported)")
    ap.add_argument("--keep", type=Path, default=None, help="directory to keep (and reuse) the workbook in")
    ap.add_argument("--skip-pandas", action="store_true", help="time only the icetrack reader")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"synthetic_ddp_arrests_{args.rows}x{args.sheets}.xlsx"
        if not path.exists():
            t = time.perf_counter()
            write_ddp_arrests_xlsx(path, args.rows, args.sheets)
            print(f"generated {path.name}: {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t:.1f} s")
        run_icetrack(path)  # warm imports and caches
        ours, base = [], []
        n_ours = n_base = 0
        for k in range(args.repeats):
            t = time.perf_counter()
            n_ours = run_icetrack(path)
            ours.append(time.perf_counter() - t)
            print(f"run {k + 1}: read_ddp        {ours[-1]:8.2f} s  rows {n_ours:,}")
            if not args.skip_pandas:
                t = time.perf_counter()
                n_base = run_pandas(path)
                base.append(time.perf_counter() - t)
                print(f"run {k + 1}: pandas+openpyxl {base[-1]:8.2f} s  rows {n_base:,}")
        m_ours = statistics.median(ours)
        print(f"read_ddp:        median {m_ours:.2f} s (min {min(ours):.2f}, max {max(ours):.2f}), "
              f"{n_ours / m_ours:,.0f} rows/s")
        if base:
            m_base = statistics.median(base)
            print(f"pandas+openpyxl: median {m_base:.2f} s (min {min(base):.2f}, max {max(base):.2f}), "
                  f"{n_base / m_base:,.0f} rows/s")
            if n_ours != n_base:
                print(f"WARNING: row counts differ ({n_ours:,} vs {n_base:,})", file=sys.stderr)
            print(f"ratio (pandas / read_ddp): {m_base / m_ours:.1f}x  (target >= 15x)")


if __name__ == "__main__":
    main()
