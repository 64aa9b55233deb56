"""Baseline forecasts the capacity model is scored against: last value, seasonal naive, drift and ETS.

Each baseline reads one monthly series as known at the origin (a pandas Series indexed by the first day of each
month, oldest first, months without a figure simply absent) and forecasts its value in a later month. The
series is a rate (ADP; book-outs per day; removals per day so far in the fiscal year); the evaluation scales
a rate to the target (x days in the month, x days since October 1). Definitions shown to users:
:data:`icetrack.domain.definitions.EVALUATION`.
"""

from __future__ import annotations

import warnings
from datetime import date
from typing import Callable

import numpy as np
import pandas as pd

DRIFT_MONTHS = 12  # the drift line runs through the first and last known values of the last 12 months
ETS_MIN_MONTHS = 12  # an additive damped trend has 5 parameters (level, trend, damping and two initial states)
# Year-end workbooks dated before September 30 leave that September unpublished (2021, 2022, 2025): ETS fills
# such a month between its neighbours rather than losing the history before it.
ETS_MAX_GAP = 2

DESCRIPTIONS = {
    "last_value": "the last known month's value, carried forward",
    "seasonal_naive": "the known value of the same month a year before the target month (none when unknown)",
    "drift": (f"a straight line through the first and last known values of the last {DRIFT_MONTHS} months "
              "(ending at the last known month), extended to the target month"),
    "ets": ("exponential smoothing with an additive damped trend, no seasonality (statsmodels "
            "ExponentialSmoothing, parameters by maximum likelihood), fitted on the known months (at least "
            f"{ETS_MIN_MONTHS}; a gap of up to {ETS_MAX_GAP} missing months filled by linear interpolation, the "
            "history before a longer gap left out); none for an irregular series"),
}


def months_between(first: date, second: date) -> int:
    """Whole calendar months from ``first``'s month to ``second``'s (negative when ``second`` is earlier)."""
    return (second.year - first.year) * 12 + second.month - first.month


def add_months(month: date, n: int) -> date:
    """The first day of the month ``n`` months after ``month``'s."""
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def last_value(series: pd.Series, month: date) -> float | None:
    return float(series.iloc[-1]) if len(series) else None


def seasonal_naive(series: pd.Series, month: date) -> float | None:
    year_before = add_months(month, -12)
    return float(series.loc[year_before]) if year_before in series.index else None


def drift(series: pd.Series, month: date) -> float | None:
    """The line through the first and last known values of the last :data:`DRIFT_MONTHS` months, at ``month``;
    with a single known value in those months, that value (a flat line)."""
    if not len(series):
        return None
    last_month = series.index[-1]
    window = series[[months_between(m, last_month) < DRIFT_MONTHS for m in series.index]]
    first_month = window.index[0]
    span = months_between(first_month, last_month)
    slope = (window.iloc[-1] - window.iloc[0]) / span if span else 0.0
    return float(window.iloc[-1] + slope * months_between(last_month, month))


def filled_months(series: pd.Series) -> pd.Series:
    """``series`` on every month of its last stretch without a gap over :data:`ETS_MAX_GAP` months, a missing
    month in it filled by linear interpolation between its neighbours (a month never published is not zero)."""
    months = list(series.index)
    start = len(months) - 1
    while start > 0 and months_between(months[start - 1], months[start]) <= ETS_MAX_GAP + 1:
        start -= 1
    tail = series.iloc[start:]
    if tail.empty:
        return tail
    every = [add_months(tail.index[0], k) for k in range(months_between(tail.index[0], tail.index[-1]) + 1)]
    return tail.reindex(every).astype(float).interpolate(method="linear")


def ets(series: pd.Series, months: list[date]) -> dict[date, float | None]:
    """Exponential smoothing, additive damped trend, fitted once on :func:`filled_months` of ``series``, at each
    of ``months``."""
    run = filled_months(series)
    steps = {m: months_between(run.index[-1], m) if len(run) else 0 for m in months}
    if len(run) < ETS_MIN_MONTHS or max(steps.values(), default=0) < 1:
        return {m: None for m in months}
    path = ets_path(run.to_numpy(dtype=float), max(steps.values()))
    return {m: float(path[k - 1]) if k >= 1 else None for m, k in steps.items()}


def ets_path(values: np.ndarray, steps: int) -> np.ndarray:
    """The next ``steps`` values of an additive damped-trend exponential smoothing fitted on ``values``."""
    # Imported here: statsmodels takes about a second to import and only the evaluation fits it.
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        # The optimiser's convergence notes on short series are not actionable here; the forecast is scored.
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = ExponentialSmoothing(values, trend="add", damped_trend=True, initialization_method="estimated").fit()
    return np.asarray(fit.forecast(steps), dtype=float)


BASELINES = ("last_value", "seasonal_naive", "drift", "ets")
ONE_MONTH: dict[str, Callable[[pd.Series, date], float | None]] = {
    "last_value": last_value, "seasonal_naive": seasonal_naive, "drift": drift}


def forecasts(series: pd.Series, months: list[date], *, regular: bool = True) -> dict[str, dict[date, float | None]]:
    """Every baseline's forecast of ``series`` in each of ``months``; ``regular=False`` (one figure per edition,
    not one per month) leaves ETS out."""
    out = {name: {m: f(series, m) for m in months} for name, f in ONE_MONTH.items()}
    out["ets"] = ets(series, months) if regular else {m: None for m in months}
    return out
