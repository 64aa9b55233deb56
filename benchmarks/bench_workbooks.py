"""Benchmark: ingest the whole folder of ICE detention workbooks against two baselines, side by side.

    uv run python benchmarks/bench_workbooks.py [FOLDER] [--repeats N]

Four timings, each over every workbook in the folder, alternating in this process so machine load affects
all of them; the spread across repeats is printed as the noise:

* raw read: fastexcel opening each workbook and loading, as-is, every sheet icetrack reads (Detention,
  Facilities, ATD, ICLOS, bonds, semiannual, vulnerable populations, segregation) - no checks, no tables.
  The floor: what any reader of those sheets with fastexcel pays.
* icetrack serial parse: parse_workbook on each file in turn (every check and every table, no warehouse).
* icetrack ingest: parse every workbook (fastexcel, worker processes) and load all editions into a fresh
  DuckDB warehouse in one transaction - what `icetrack ingest FOLDER` does.
* openpyxl: openpyxl (read_only, data_only) extracting the same tables with the same table logic
  (benchmarks/openpyxl_reference.py), no warehouse load.

Goals (issue 17): ingest within 2x of the raw read, and at least 8x faster than openpyxl.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from openpyxl_reference import extract_with_openpyxl  # noqa: E402

import fastexcel  # noqa: E402
import logging  # noqa: E402

from icetrack.sources import parse_files  # noqa: E402
from icetrack.sources.ice_detention.catalog import TABLES_BY_ROLE  # noqa: E402
from icetrack.sources.ice_detention.sheets import classify_sheet  # noqa: E402
from icetrack.sources.ice_detention import parse_workbook  # noqa: E402
from icetrack.warehouse import open_warehouse  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "ice-detention-stats"


def icetrack_ingest(files: list[Path]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        with open_warehouse(Path(tmp) / "bench.duckdb", load_reference=False) as wh:
            results = wh.load_many(parse_files(files))
            return sum(r.n_observations for r in results)


def openpyxl_extract(files: list[Path]) -> int:
    return sum(extract_with_openpyxl(f) for f in files)


def serial_parse(files: list[Path]) -> int:
    return sum(parse_workbook(f).observations.num_rows for f in files)


def raw_read(files: list[Path]) -> int:
    """fastexcel loading every sheet of a role icetrack reads, as-is (cells, not observations)."""
    cells = 0
    logging.getLogger("fastexcel").setLevel(logging.ERROR)  # "could not determine dtype" for mixed columns
    for f in files:
        reader = fastexcel.read_excel(str(f))
        for name in reader.sheet_names:
            if classify_sheet(name).role in TABLES_BY_ROLE or classify_sheet(name).role == "facilities":
                sheet = reader.load_sheet(name, header_row=None, eager=True)
                cells += sheet.num_rows * sheet.num_columns
    return cells


def timed(fn, files) -> tuple[float, int]:
    t = time.perf_counter()
    n = fn(files)
    return time.perf_counter() - t, n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    files = sorted(p for p in args.folder.rglob("*.xlsx") if p.is_file())
    if not files:
        sys.exit(f"no .xlsx files under {args.folder}")
    parse_workbook(files[0]), extract_with_openpyxl(files[0]), raw_read(files[:1])  # warm caches, imports
    runs = {"raw fastexcel read of the sheets": (raw_read, []), "icetrack serial parse": (serial_parse, []),
            "icetrack ingest (parse + load)": (icetrack_ingest, []), "openpyxl extract (baseline)": (openpyxl_extract, [])}
    counts = {}
    for _ in range(args.repeats):
        for name, (fn, times) in runs.items():
            t, counts[name] = timed(fn, files)
            times.append(t)
    print(f"{len(files)} workbooks, {sum(f.stat().st_size for f in files) / 1e6:.1f} MB; observations: icetrack "
          f"{counts['icetrack ingest (parse + load)']:,} (loaded), openpyxl {counts['openpyxl extract (baseline)']:,} "
          f"(extracted); raw read {counts['raw fastexcel read of the sheets']:,} cells")
    for name, (_, xs) in runs.items():
        print(f"  {name:36s} best {min(xs):6.2f} s  median {statistics.median(xs):6.2f} s  "
              f"spread {(max(xs) - min(xs)) / min(xs):5.1%}")
    raw, serial = runs["raw fastexcel read of the sheets"][1], runs["icetrack serial parse"][1]
    ours, base = runs["icetrack ingest (parse + load)"][1], runs["openpyxl extract (baseline)"][1]
    med = statistics.median
    print(f"  openpyxl / icetrack ingest:  best {min(base) / min(ours):.1f}x, median {med(base) / med(ours):.1f}x "
          "(goal: at least 8x)")
    print(f"  icetrack ingest / raw read:  best {min(ours) / min(raw):.2f}x, median {med(ours) / med(raw):.2f}x "
          "(goal: at most 2x)")
    print(f"  serial parse / raw read:     best {min(serial) / min(raw):.2f}x, median {med(serial) / med(raw):.2f}x")


if __name__ == "__main__":
    main()
