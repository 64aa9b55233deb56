"""Benchmark: the rolling-origin evaluation of the capacity model on the bundled workbook figures.

    uv run --locked python benchmarks/evaluation.py [--warehouse PATH] [--repeats N] [--runs R]

Builds a warehouse holding the bundled national figures (30 workbook editions, FY2019-FY2026) in a temporary
directory, unless --warehouse names one, then times in this process, alternating so machine load hits both
alike: ``evaluate()`` (every origin from October 2019: ~100 origins, ~30 distinct known-data states, the model
and four baselines, six horizons, empirical bands) and, as the baseline, one ``calibrate()`` of the model at
one origin through the warehouse (the per-origin cost a straightforward loop over origins would pay, before
any simulation or baseline). Prints each run, the medians, the ratio and the number of origins; the spread
of the repeats is the noise.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from icetrack.model.calibration import calibrate
from icetrack.model.evaluation import evaluate
from icetrack.warehouse import open_warehouse

CALIBRATION_DAY = date(2025, 6, 30)


def _time(f) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = f()
    return time.perf_counter() - t0, out


def run(path: Path, repeats: int, runs: int) -> None:
    with open_warehouse(path, read_only=True) as wh:
        evaluation_s, calibration_s, result = [], [], None
        for i in range(repeats):
            t, result = _time(lambda: evaluate(wh, runs=runs))
            evaluation_s.append(t)
            t, _ = _time(lambda: calibrate(wh.ibis(), CALIBRATION_DAY))
            calibration_s.append(t)
            print(f"run {i + 1}: evaluate {evaluation_s[-1]:.2f} s, one calibrate() {calibration_s[-1]:.2f} s")
    e, c = statistics.median(evaluation_s), statistics.median(calibration_s)
    origins = result["origins"]
    print(f"origins: {origins['count']} ({origins['distinct_known_data']} distinct known-data states), "
          f"{len(result['per_origin'])} scored (origin, target, horizon) rows, {runs} Monte Carlo runs")
    print(f"evaluate: median {e:.2f} s (spread {min(evaluation_s):.2f}-{max(evaluation_s):.2f})")
    print(f"one calibrate() through the warehouse: median {c:.2f} s (spread {min(calibration_s):.2f}-"
          f"{max(calibration_s):.2f})")
    print(f"ratio evaluate / one calibrate(): {e / c:.1f}x; a warehouse calibrate() per origin would take about "
          f"{c * origins['count']:.0f} s for the calibrations alone "
          f"({c * origins['distinct_known_data']:.0f} s for the distinct states)")


def main() -> None:
    p = argparse.ArgumentParser(description="Time the rolling-origin evaluation of the capacity model.")
    p.add_argument("--warehouse", type=Path, help="an existing warehouse (default: the bundled figures, built fresh)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--runs", type=int, default=200, help="Monte Carlo runs per origin (evaluate's default)")
    args = p.parse_args()
    if args.warehouse:
        run(args.warehouse, args.repeats, args.runs)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundled.duckdb"
        open_warehouse(path).close()  # loads the bundled national figures on first use
        run(path, args.repeats, args.runs)


if __name__ == "__main__":
    main()
