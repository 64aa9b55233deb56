"""One reading of a claim (the claim's words under one definition) and how its evidence is judged.

Shared by :mod:`icetrack.claims.verdicts` (every statistic) and :mod:`icetrack.claims.cumulative` (the
cumulative readings against book-ins and the estimate built on them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

from icetrack.domain.catalogue import Definition

KIND_WORDS = {"exact": "", "estimate": "about ", "lower_bound": "at least ", "upper_bound": "at most "}


@dataclass
class Reading:
    definition: Definition
    role: str  # "speaker", "alternative" or, for cumulative claims, "lower_bound"
    outcome: str  # supported | contradicted | inconclusive | unmeasured | disputed
    value: float | None = None
    kind: str | None = None
    reason: str = ""
    settled_by: str | None = None
    coverage: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    at: list[str] = field(default_factory=list)  # the day(s) a highest/lowest/matching value fell on


def range_outcome(lo: float, hi: float, low: float, high: float) -> str:
    """'supported' when every value in [lo, hi] is accepted by [low, high], 'contradicted' when none is."""
    if low <= lo and hi <= high:
        return "supported"
    if hi < low or lo > high:
        return "contradicted"
    return "inconclusive"


def interval_outcome(value: float, kind: str, low: float, high: float) -> str:
    """The outcome of one value of a kind: a lower bound allows anything above it, an upper bound anything
    from zero up to it, an exact value or an estimate only itself."""
    lo, hi = {"lower_bound": (value, math.inf), "upper_bound": (0.0, value)}.get(kind, (value, value))
    return range_outcome(lo, hi, low, high)


def fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 1000 or float(v).is_integer() else f"{v:,.1f}"


def runs(days: list[date]) -> str:
    """Consecutive days as ranges: '2025-01-20..2025-01-22, 2025-02-01'."""
    out, i = [], 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] - days[j] == timedelta(days=1):
            j += 1
        out.append(str(days[i]) if i == j else f"{days[i]}..{days[j]}")
        i = j + 1
    return ", ".join(out)


def row_dict(r, weight: float = 1.0) -> dict[str, Any]:
    """One observation a reading rests on (a row of :func:`icetrack.metrics.evidence.observations_in_window`),
    with the share of it the reading counts."""
    return {"period_start": str(r.period_start)[:10], "period_end": str(r.period_end)[:10], "grain": r.grain,
            "value": float(r.value), "weight": round(weight, 6), "edition_id": r.edition_id,
            "as_of": None if pd.isna(r.as_of) else str(r.as_of)[:10],
            "published_on": None if pd.isna(r.published_on) else str(r.published_on)[:10],
            "source": r.publisher, "url": r.source_url}
