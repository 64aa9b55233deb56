"""Prediction intervals from past errors (split conformal, rolling), and the coverage they achieve.

At an origin, the band of a forecast at horizon h is the forecast x (1 + q), with q the order statistics of
the relative errors (actual / forecast - 1) of the forecasts made at EARLIER origins at the same horizon and
for the same target, counting only those whose target value had been published by this origin (the value as
then published: nothing from the future enters a band). The ranks are the split-conformal ones of an
equal-tailed band: for n errors and a nominal level 1 - a, the floor((n + 1) a / 2)-th smallest and the
ceil((n + 1)(1 - a / 2))-th smallest, clipped to the smallest and largest error when n is too small for the
rank. With fewer than :data:`MIN_ERRORS` errors there is no band. Definitions shown to users:
:data:`icetrack.domain.definitions.EVALUATION`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

LEVELS = {"80": 0.80, "95": 0.95}
MIN_ERRORS = 8
# The Monte Carlo percentiles giving a point (the median run) and the equal-tailed bands of LEVELS.
RUN_PERCENTILES = {"80": (10.0, 90.0), "95": (2.5, 97.5)}


@dataclass(frozen=True)
class Forecast:
    """A point forecast: ``order`` places its origin in time (an earlier origin has a smaller order);
    ``key`` names the value forecast within the target (a month, a table date)."""

    order: int
    target: str
    horizon: int
    key: Any
    point: float


def relative_error(actual: float, forecast: float) -> float:
    """actual / forecast - 1: a band is the forecast x (1 + these errors' quantiles)."""
    return actual / forecast - 1.0


def error_quantiles(errors: Sequence[float], nominal: float,
                    min_errors: int = MIN_ERRORS) -> tuple[float, float] | None:
    """The split-conformal lower and upper relative errors of an equal-tailed band of level ``nominal``."""
    n = len(errors)
    if n < min_errors:
        return None
    ordered = sorted(errors)
    tail = (1.0 - nominal) / 2.0
    low_rank = max(1, math.floor((n + 1) * tail))
    high_rank = min(n, math.ceil((n + 1) * (1.0 - tail)))
    return ordered[low_rank - 1], ordered[high_rank - 1]


def rolling_bands(forecasts: Sequence[Forecast], known_value: Callable[[int, str, Any], float | None], *,
                  levels: dict[str, float] = LEVELS, min_errors: int = MIN_ERRORS) -> list[dict[str, Any]]:
    """For each forecast, its band per level from the errors of earlier origins (None when too few).

    ``known_value(order, target, key)``: the value of ``key`` as published by the origin ``order``, None when
    it was not yet published. Returns per forecast {"errors": n, level: (low, high) | None}.
    """
    by_cell: dict[tuple[str, int], list[Forecast]] = {}
    for f in forecasts:
        by_cell.setdefault((f.target, f.horizon), []).append(f)
    out = []
    for f in forecasts:
        errors = []
        for earlier in by_cell[(f.target, f.horizon)]:
            if earlier.order < f.order and earlier.point > 0:
                value = known_value(f.order, earlier.target, earlier.key)
                if value is not None:
                    errors.append(relative_error(value, earlier.point))
        bands: dict[str, Any] = {"errors": len(errors)}
        for name, nominal in levels.items():
            q = error_quantiles(errors, nominal, min_errors)
            bands[name] = None if q is None else (f.point * (1 + q[0]), f.point * (1 + q[1]))
        out.append(bands)
    return out


def run_bands(values: np.ndarray) -> dict[str, Any]:
    """The median run and the equal-tailed Monte Carlo bands of :data:`RUN_PERCENTILES` (``values``: per run)."""
    out: dict[str, Any] = {"p50": float(np.percentile(values, 50))}
    for name, (low, high) in RUN_PERCENTILES.items():
        out[name] = (float(np.percentile(values, low)), float(np.percentile(values, high)))
    return out


def _share(inside: int, n: int) -> dict[str, Any]:
    return {"n": n, "inside": inside, "achieved": round(inside / n, 4) if n else None}


def coverage(rows: Sequence[dict[str, Any]], band: str, levels: dict[str, float] = LEVELS) -> dict[str, Any]:
    """Achieved coverage of ``rows[i][band][level]`` (a (low, high) pair or None) over the rows that have a band:
    the share whose ``actual`` lies inside, per horizon and overall, beside the nominal level."""
    per_horizon = []
    overall = {name: [0, 0] for name in levels}
    for h in sorted({r["horizon"] for r in rows}):
        row: dict[str, Any] = {"horizon": h}
        for name in levels:
            with_band = [r for r in rows if r["horizon"] == h and r[band] and r[band].get(name)]
            inside = sum(r[band][name][0] <= r["actual"] <= r[band][name][1] for r in with_band)
            row[name] = _share(inside, len(with_band))
            overall[name][0] += inside
            overall[name][1] += len(with_band)
        per_horizon.append(row)
    return {"nominal": dict(levels), "per_horizon": per_horizon,
            "overall": {name: _share(*overall[name]) for name in levels}}
