"""Prediction intervals from past errors (rolling, centred conformal with adaptive level), and their coverage.

At an origin, the band of a forecast at horizon h is the forecast x (1 + m -/+ q): m is the median and q an
order statistic of |e - m| over the relative errors e (actual / forecast - 1) of the forecasts made at EARLIER
origins at the same horizon - any target: the three targets' errors are pooled, because one target alone
rarely has enough errors - counting only those whose value had been published by this origin (the value as
then published: nothing from the future enters a band). For n errors and level L, q is the ceil((n + 1) L)-th
smallest |e - m| (clipped to the largest). With fewer than :data:`MIN_ERRORS` errors there is no band.

The level adapts to the coverage the bands have achieved so far (adaptive conformal inference, Gibbs and
Candes 2021): L = 1 - a, a = (1 - nominal) + :data:`ADAPT_RATE` x sum over the earlier forecasts whose value
is published of ((1 - nominal) - missed), so a run of misses widens the next bands. When a falls to 0 or
below, q is the largest deviation widened by (1 - a). Errors are not exchangeable here (the 2025 surge made
later errors larger than earlier ones), which is why the plain split-conformal band covered about half the
time; the measured coverage is reported as it is. Definitions shown to users:
:data:`icetrack.domain.definitions.EVALUATION`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

LEVELS = {"80": 0.80, "95": 0.95}
MIN_ERRORS = 8
# How fast the level follows misses: 0.05 per published forecast (the rates 0.01-0.05 tried on the bundled
# workbooks moved the overall 80% coverage from 62% to 65%; larger rates make single bands jump).
ADAPT_RATE = 0.05
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


def centred_band(errors: Sequence[float], level: float, min_errors: int = MIN_ERRORS) -> tuple[float, float] | None:
    """(m - q, m + q) for the relative ``errors``: m their median, q the ceil((n + 1) level)-th smallest |e - m|
    (the largest when the rank exceeds n; widened by ``level`` - 1 when ``level`` > 1)."""
    n = len(errors)
    if n < min_errors:
        return None
    ordered = sorted(errors)
    m = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    deviations = sorted(abs(e - m) for e in errors)
    rank = max(1, min(n, math.ceil(round((n + 1) * min(level, 1.0), 9))))
    q = deviations[rank - 1] * max(level, 1.0)
    return m - q, m + q


def rolling_bands(forecasts: Sequence[Forecast], known_value: Callable[[int, str, Any], float | None], *,
                  levels: dict[str, float] = LEVELS, min_errors: int = MIN_ERRORS,
                  adapt_rate: float = ADAPT_RATE) -> list[dict[str, Any]]:
    """For each forecast, its band per level from the errors of earlier origins at its horizon (None when too
    few), the level adapted to the earlier bands' misses.

    ``known_value(order, target, key)``: the value of ``key`` as published by the origin ``order``, None when
    it was not yet published. Returns per forecast {"errors": n, "level_<name>": level used, name: (low, high)}.
    """
    order = sorted(range(len(forecasts)), key=lambda i: forecasts[i].order)
    out: list[dict[str, Any] | None] = [None] * len(forecasts)
    for i in order:
        f = forecasts[i]
        seen = []
        for j in order:
            e = forecasts[j]
            if e.order >= f.order:
                break
            if e.horizon == f.horizon and e.point > 0:
                value = known_value(f.order, e.target, e.key)
                if value is not None:
                    seen.append((j, value))
        errors = [relative_error(value, forecasts[j].point) for j, value in seen]
        bands: dict[str, Any] = {"errors": len(errors)}
        floor = 0.0  # a wider nominal band is never narrower than a narrower one (levels in ascending order)
        for name, nominal in sorted(levels.items(), key=lambda kv: kv[1]):
            alpha = 1.0 - nominal
            for j, value in seen:
                earlier = out[j].get(name) if out[j] else None
                if earlier is not None:
                    alpha += adapt_rate * ((1.0 - nominal) - (not earlier[0] <= value <= earlier[1]))
            level = max(1.0 - alpha, floor)  # above 1 (after misses): the largest deviation, widened
            floor = level
            band = centred_band(errors, max(level, 0.0), min_errors)
            bands[f"level_{name}"] = round(level, 4)
            bands[name] = None if band is None else (f.point * (1 + band[0]), f.point * (1 + band[1]))
        out[i] = bands
    return out  # type: ignore[return-value]


def run_bands(values: np.ndarray) -> dict[str, Any]:
    """The median run and the equal-tailed Monte Carlo bands of :data:`RUN_PERCENTILES` (``values``: per run)."""
    out: dict[str, Any] = {"p50": float(np.percentile(values, 50))}
    for name, (low, high) in RUN_PERCENTILES.items():
        out[name] = (float(np.percentile(values, low)), float(np.percentile(values, high)))
    return out


def _share(inside: int, n: int) -> dict[str, Any]:
    return {"n": n, "inside": inside, "achieved": round(float(inside / n), 4) if n else None}


def coverage(rows: Sequence[dict[str, Any]], band: str, levels: dict[str, float] = LEVELS) -> dict[str, Any]:
    """Achieved coverage of ``rows[i][band][level]`` (a (low, high) pair or None) over the rows that have a band:
    the share whose ``actual`` lies inside, per horizon and overall, beside the nominal level."""
    per_horizon = []
    overall = {name: [0, 0] for name in levels}
    for h in sorted({r["horizon"] for r in rows}):
        row: dict[str, Any] = {"horizon": h}
        for name in levels:
            with_band = [r for r in rows if r["horizon"] == h and r[band] and r[band].get(name)]
            inside = sum(bool(r[band][name][0] <= r["actual"] <= r[band][name][1]) for r in with_band)
            row[name] = _share(inside, len(with_band))
            overall[name][0] += inside
            overall[name][1] += len(with_band)
        per_horizon.append(row)
    return {"nominal": dict(levels), "per_horizon": per_horizon,
            "overall": {name: _share(*overall[name]) for name in levels}}
