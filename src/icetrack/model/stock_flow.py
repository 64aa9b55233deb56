"""The stock-and-flow engine of the capacity model: daily simulation, Monte Carlo draws, percentile bands.

Stays are geometric (each night a person leaves with probability 1 / mean stay); flows within a run are
expected values; each run draws the stays, the CBP admissions and the removal share from the calibration.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from icetrack.model.calibration import AGENCIES, Calibration

# A projection's horizon: 24 months. Beyond it the calibrated rates (six months of workbook figures) say nothing;
# a steady state further out is Little's law (steady_state), not a simulation.
MAX_DAYS = 731
MAX_RUNS = 1_000  # (runs x days) arrays: 1,000 runs x 3,650 days is ~30 MB each


def _number(name: str, value, low: float, high: float = math.inf, *, allow_inf: bool = False) -> float:
    """``value`` as a float in [low, high], else a one-line ValueError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if math.isnan(v) or (math.isinf(v) and not allow_inf) or not low <= v <= high:
        bound = f"between {low:g} and {high:g}" if high < math.inf else f"at least {low:g}"
        raise ValueError(f"{name} must be {bound}, not {v:g}")
    return v



def _json_number(v: float) -> float | None:
    return None if v is None or math.isinf(v) or math.isnan(v) else float(v)



def check_run_options(days: float, runs: float, seed: float = 0) -> None:
    """One-line ValueErrors for a horizon, a number of runs or a seed out of range."""
    if isinstance(days, (int, float)) and not math.isnan(days) and days > MAX_DAYS:
        raise ValueError(f"a horizon of {days:g} days is over 24 months (at most {MAX_DAYS} days)")
    _number("days", days, 1, MAX_DAYS)
    _number("runs", runs, 1, MAX_RUNS)
    _number("seed", seed, 0, 2**32 - 1)
    if int(days) != days or int(runs) != runs or int(seed) != seed:
        raise ValueError("days, runs and seed must be whole numbers")



def simulate(initial_population: np.ndarray, admissions: np.ndarray, stay_days: np.ndarray, beds: float, days: int,
             progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
    """Daily stock and flow, runs x agencies, in expected values.

    ``initial_population``: (runs|1, agencies) held at the midnight before day 0; ``admissions``: (runs|1,
    days|1, agencies) arriving per day (a single day column applies to every day); ``stay_days``: (runs|1,
    agencies) mean stays (geometric: each night a person leaves with probability 1 / mean stay); ``beds``:
    capacity (``math.inf`` for none). Each day: book-outs leave, arrivals come in, and any population above
    the beds is turned away from the day's arrivals (forced releases). No one held is released: a population
    that starts above the beds falls by its exits until it fits, all arrivals turned away meanwhile.
    Returns (runs, days) arrays: population (at midnight), arrivals, held (arrivals kept), forced_releases,
    book_outs; and population_by_agency (runs, days, agencies).
    """
    exit_probability = 1.0 / np.asarray(stay_days, dtype=float)
    runs = max(np.shape(initial_population)[0], np.shape(admissions)[0], exit_probability.shape[0])
    n_agencies = exit_probability.shape[1]
    pop = np.broadcast_to(np.asarray(initial_population, dtype=float), (runs, n_agencies)).copy()
    exit_probability = np.broadcast_to(exit_probability, (runs, n_agencies))
    out = {k: np.zeros((runs, days)) for k in ("population", "arrivals", "held", "forced_releases", "book_outs")}
    by_agency = np.zeros((runs, days, n_agencies))
    for t in range(days):
        exits = pop * exit_probability
        arriving = np.broadcast_to(admissions[:, t if admissions.shape[1] > 1 else 0, :], (runs, n_agencies))
        pop = pop - exits + arriving
        arrived = arriving.sum(axis=1)
        excess = np.maximum(pop.sum(axis=1) - beds, 0.0)
        from_arrivals = np.minimum(excess, arrived)
        arrival_mix = np.divide(arriving, arrived[:, None], out=np.zeros_like(pop), where=arrived[:, None] > 0)
        pop -= arrival_mix * from_arrivals[:, None]
        out["population"][:, t] = pop.sum(axis=1)
        out["arrivals"][:, t] = arrived
        out["held"][:, t] = arrived - from_arrivals
        out["forced_releases"][:, t] = from_arrivals
        out["book_outs"][:, t] = exits.sum(axis=1)
        by_agency[:, t, :] = pop
        if progress:
            progress(t + 1)
    out["population_by_agency"] = by_agency
    return out



def _normal(rng: np.random.Generator, estimate: dict[str, float], runs: int, low: float) -> np.ndarray:
    return np.maximum(rng.normal(estimate["mean"], estimate["sd"], runs), low)



def _beta(rng: np.random.Generator, estimate: dict[str, float], runs: int) -> np.ndarray:
    """A share with the estimate's mean and sd (method of moments); constant when the sd allows no beta."""
    m, var = estimate["mean"], estimate["sd"] ** 2
    if not 0 < m < 1 or var <= 0 or var >= m * (1 - m):
        return np.full(runs, m)
    concentration = m * (1 - m) / var - 1
    return rng.beta(m * concentration, (1 - m) * concentration, runs)



def _draw(cal: Calibration, runs: int, seed: int, stay_override: float | None) -> dict[str, np.ndarray]:
    """Per-run parameters drawn from the calibration's uncertainty (fixed order: deterministic per seed)."""
    rng = np.random.default_rng(seed)
    stays = np.column_stack([_normal(rng, cal.stay_days[a], runs, 1.0) for a in AGENCIES])
    if stay_override is not None:
        stays = np.full((runs, len(AGENCIES)), stay_override)
    admissions = np.column_stack([_normal(rng, cal.admissions_per_day[a], runs, 0.0) for a in AGENCIES])
    return {"stays": stays, "admissions": admissions, "removal_share": _beta(rng, cal.book_out_shares["removal"], runs)}



def _bands(values: np.ndarray, digits: int = 1) -> dict[str, float]:
    p5, p50, p95 = np.percentile(values, [5, 50, 95], axis=0)
    return {"p5": round(float(p5), digits), "p50": round(float(p50), digits), "p95": round(float(p95), digits)}
