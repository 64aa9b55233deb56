"""Benchmark: ingest the whole folder of ICE detention workbooks vs an openpyxl-based reader.

    uv run python benchmarks/bench_workbooks.py [FOLDER] [--repeats N]

icetrack side: parse every workbook (fastexcel, worker processes) and load all editions into a fresh
DuckDB warehouse in one transaction. Baseline: openpyxl (read_only, data_only) extracting the same tables
with the same table logic (benchmarks/openpyxl_reference.py), no warehouse load. Both run in this process,
alternating, so machine load affects both; the spread across repeats is printed as the noise.
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

from icetrack.sources import parse_files  # noqa: E402
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
    parse_workbook(files[0]), extract_with_openpyxl(files[0])  # warm caches and imports for both
    ours, base = [], []
    for _ in range(args.repeats):
        t, n_ours = timed(icetrack_ingest, files)
        ours.append(t)
        t, n_base = timed(openpyxl_extract, files)
        base.append(t)
    print(f"{len(files)} workbooks, {sum(f.stat().st_size for f in files) / 1e6:.1f} MB; "
          f"observations: icetrack {n_ours:,} (loaded), openpyxl {n_base:,} (extracted)")
    for name, xs in (("icetrack ingest (parse + load)", ours), ("openpyxl extract (baseline)", base)):
        print(f"  {name:34s} best {min(xs):6.2f} s  median {statistics.median(xs):6.2f} s  "
              f"spread {(max(xs) - min(xs)) / min(xs):5.1%}")
    print(f"  ratio (baseline / icetrack): best {min(base) / min(ours):.1f}x, "
          f"median {statistics.median(base) / statistics.median(ours):.1f}x")


if __name__ == "__main__":
    main()
