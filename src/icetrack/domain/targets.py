"""What a target is: its unit, the days it is in force, and the grains a ledger reads series at.

A target (a goal, a quota, funded beds) is stated in one of three kinds of unit:

- a rate per day ("arrests per day", "arrests per day per field office");
- a rate per year ("removals per year"), compared per day as value / 365 (a stated convention: a fiscal year
  has 365 or 366 days; the difference is 0.3%);
- a level ("beds", "persons"): a number of people held at once, compared with a detained population.

Each target is in force from ``effective_from`` to ``effective_to`` (inclusive; open-ended when absent). When
the record gives only the month, ``date_precision`` is "month", ``effective_from`` is the first of that month and
every output says so instead of implying a day. Targets that replace one another (a goal raised later) share a
``track``: a track's targets may not overlap, so each day has at most one target in force on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

GRAINS = ("day", "week", "month", "fytd")
GRAIN_TEXT = {
    "day": "each day",
    "week": "each week, Monday to Sunday",
    "month": "each calendar month",
    "fytd": "fiscal year to date (from October 1 to each period's end)",
}
UNIT_KINDS = ("per_day", "per_year", "level")
LEVEL_UNITS = ("beds", "persons", "people", "detention beds")
DAYS_PER_YEAR = 365
DATE_PRECISIONS = ("day", "month")


def unit_kind(unit: str) -> str | None:
    """'per_day', 'per_year' or 'level' for a target unit (None when the unit is not one icetrack can compare)."""
    u = " ".join(unit.lower().split())
    if not u:
        return None
    if u in LEVEL_UNITS:
        return "level"
    words = u.split(" per ")
    if len(words) >= 2 and words[0] and words[1] == "day":
        return "per_day"
    if len(words) >= 2 and words[0] and words[1] == "year":
        return "per_year"
    return None


def unit_problem(unit: str) -> str | None:
    """Why ``unit`` cannot be a target's unit (None when it can)."""
    if unit_kind(unit) is None:
        return (f"unit '{unit}' is not a rate per day ('arrests per day'), a rate per year ('removals per year') "
                f"or a level ({', '.join(repr(u) for u in LEVEL_UNITS)})")
    return None


def per_day(value: float, unit: str) -> float:
    """A target value as compared per day: rates per year divided by :data:`DAYS_PER_YEAR`; levels unchanged."""
    return value / DAYS_PER_YEAR if unit_kind(unit) == "per_year" else value


def window_problem(effective_from: date | None, effective_to: date | None) -> str | None:
    """Why (effective_from, effective_to) cannot be the days a target is in force (None when it can)."""
    if effective_to is not None and effective_from is None:
        return "effective_to needs an effective_from"
    if effective_to is not None and effective_to < effective_from:
        return f"effective_to {effective_to} is before effective_from {effective_from}"
    return None


@dataclass(frozen=True)
class TargetWindow:
    """The part of a target the ledger needs: id, track, per-day low/high (or a level), days in force."""

    target_id: str
    track: str
    kind: str  # 'target' or 'baseline'
    concept: str
    scope: str
    unit: str
    low: float  # per day (rates) or the level
    high: float
    effective_from: date | None
    effective_to: date | None

    def in_force(self, day: date) -> bool:
        return ((self.effective_from is None or day >= self.effective_from)
                and (self.effective_to is None or day <= self.effective_to))


def overlap_problem(windows: list[TargetWindow]) -> str | None:
    """Why targets sharing a track cannot all be in force as stated (two of them on the same day)."""
    by_track: dict[str, list[TargetWindow]] = {}
    for w in windows:
        by_track.setdefault(w.track, []).append(w)
    for track, ws in by_track.items():
        ws = sorted(ws, key=lambda w: w.effective_from or date.min)
        for a, b in zip(ws, ws[1:]):
            if a.effective_to is None or (b.effective_from or date.min) <= a.effective_to:
                return (f"track '{track}': {a.target_id} (from {a.effective_from or 'always'} to "
                        f"{a.effective_to or 'open-ended'}) overlaps {b.target_id} (from {b.effective_from})")
    return None
