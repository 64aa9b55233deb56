"""Capacity and projection model: what an arrest target takes in beds, stays and removals.

The public surface of the model: :func:`calibrate` (:mod:`~icetrack.model.calibration`), :func:`steady_state`,
:func:`project` and :func:`goal_seek` (here), :func:`backtest` (:mod:`~icetrack.model.backtest`). The
definitions shown to users are :data:`icetrack.domain.definitions.CAPACITY`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from icetrack.domain import definitions
from icetrack.model.backtest import backtest
from icetrack.model.calibration import AGENCIES, Calibration, calibrate
from icetrack.model.stock_flow import (
    MAX_DAYS,
    MAX_RUNS,
    _bands,
    _draw,
    _json_number,
    _number,
    check_run_options,
    simulate,
)

__all__ = ["AGENCIES", "MAX_DAYS", "MAX_RUNS", "SOLVE_FOR", "Calibration", "backtest", "calibrate",
           "check_run_options", "goal_seek", "project", "simulate", "steady_state"]

SOLVE_FOR = ("arrests_per_day", "beds", "stay_days")


@dataclass(frozen=True)
class _Scenario:
    arrests_per_day: float
    share_detained: float
    beds: float  # math.inf: no capacity limit
    stay_override: float | None
    admissions: dict[str, float]  # per day, central values
    stays: dict[str, float]  # central mean stays



def _scenario(cal: Calibration, arrests_per_day, beds, stay_days, share_detained) -> _Scenario:
    arrests = _number("arrests_per_day", arrests_per_day, 0)
    if beds is None:
        if not cal.beds:
            raise ValueError(f"beds not given and no detention capacity is in force on {cal.start} "
                             "(give --beds B, or --beds none for no limit)")
        beds = cal.beds["value"]
    if isinstance(beds, str) and beds.strip().lower() == "none":
        beds = math.inf
    bed_count = _number("beds", beds, 0, allow_inf=True)
    if bed_count <= 0:
        raise ValueError("beds must be above 0 (use --beds none for no capacity limit)")
    # A stay counts midnights: a person held less than one midnight never appears in a midnight population.
    stay = None if stay_days is None else _number("stay_days", stay_days, 1, MAX_DAYS)
    if share_detained is None:
        if not cal.share_detained:
            raise ValueError("share_detained not given and no fiscal year has both ERO arrests and ICE book-ins")
        share_detained = cal.share_detained["value"]
    share = _number("share_detained", share_detained, 0, 1)
    admissions = {"ICE": arrests * share, "CBP": cal.admissions_per_day["CBP"]["mean"]}
    stays = {a: stay if stay is not None else cal.stay_days[a]["mean"] for a in AGENCIES}
    return _Scenario(arrests, share, bed_count, stay, admissions, stays)



def _removal_share(cal: Calibration) -> float:
    return cal.book_out_shares["removal"]["mean"]



def _steady(admissions: dict[str, float], stays: dict[str, float], beds: float, share_detained: float,
            removal_share: float, other_per_day: float) -> dict[str, float]:
    """Little's law at the given inputs (the closed form ``steady_state`` reports and ``goal_seek`` inverts)."""
    total = sum(admissions.values())
    beds_needed = sum(admissions[a] * stays[a] for a in AGENCIES)
    mean_stay = beds_needed / total if total > 0 else stays["ICE"]
    sustainable = beds / mean_stay
    held = min(total, sustainable)
    # ICE arrests the beds hold at the calibrated CBP admissions: share x a x W_ICE + CBP x W_CBP = beds.
    room = beds - admissions["CBP"] * stays["CBP"]
    sustainable_arrests = (max(room, 0.0) / (share_detained * stays["ICE"])) if share_detained > 0 else math.inf
    removals_per_day = held * removal_share + other_per_day
    return {"admissions_per_day": total, "beds_needed": beds_needed, "mean_stay_days": mean_stay,
            "sustainable_admissions_per_day": sustainable, "sustainable_arrests_per_day": sustainable_arrests,
            "held_admissions_per_day": held, "forced_releases_per_day": total - held,
            "population": held * mean_stay, "removals_from_detention_per_day": held * removal_share,
            "removals_per_day": removals_per_day, "removals_per_year": 365 * removals_per_day}



def steady_state(calibration: Calibration, *, arrests_per_day: float, beds: float | None,
                 stay_days: float | None = None, share_detained: float | None = None) -> dict[str, Any]:
    """Little's law for a scenario: population, sustainable admission rate, beds needed, removals per year.

    ``beds``: None takes the funded beds from the calibration; ``math.inf`` means no capacity limit.
    """
    cal = calibration
    sc = _scenario(cal, arrests_per_day, beds, stay_days, share_detained)
    r = _removal_share(cal)
    other = cal.other_removals_per_day["value"]
    s = _steady(sc.admissions, sc.stays, sc.beds, sc.share_detained, r, other)
    return {
        **{k: _json_number(v) for k, v in s.items()},
        "capacity_binds": s["forced_releases_per_day"] > 0,
        "inputs": {
            "arrests_per_day": sc.arrests_per_day,
            "share_detained": sc.share_detained,
            "share_detained_source": ("given" if share_detained is not None else
                                      f"ICE-arrested book-ins / ERO administrative arrests, "
                                      f"FY{cal.share_detained['fiscal_year']}"),
            "admissions_per_day": dict(sc.admissions),
            "cbp_admissions_source": f"calibrated CBP-arrested book-ins per day, {cal.window[0]}..{cal.window[-1]}",
            "stay_days": dict(sc.stays),
            "stay_source": "given" if sc.stay_override is not None else
                           f"Little's-law stay (ADP / book-ins per day), {cal.window[0]}..{cal.window[-1]}",
            "beds": _json_number(sc.beds),
            "beds_source": "given" if beds is not None else cal.beds,
            "removal_share_of_book_outs": r,
            "other_removals_per_day": other,
            "editions": [e["edition_id"] for e in cal.editions],
        },
        "equations": [
            "admissions = arrests x share detained (ICE) + calibrated CBP admissions",
            "beds needed = sum over agencies of admissions x mean stay (Little's law)",
            "mean stay = beds needed / admissions (admissions-weighted)",
            "sustainable admissions = beds / mean stay",
            "held = min(admissions, sustainable admissions); forced releases = admissions - held",
            "population = held x mean stay",
            "removals per year = 365 x (held x removal share of book-outs + other removals per day)",
        ],
    }



def _series_bands(sim: dict[str, np.ndarray], removals_from_detention: np.ndarray, other_per_day: float,
                  dates: pd.DatetimeIndex) -> dict[str, list]:
    """Daily and calendar-month series with 5/50/95 percentile bands over the runs.

    Daily population: at midnight; monthly population: the month's average daily population (midnight).
    Removals = removals from detention + other removals.
    """
    flows = {"admissions": sim["arrivals"], "held": sim["held"], "forced_releases": sim["forced_releases"],
             "book_outs": sim["book_outs"], "removals_from_detention": removals_from_detention,
             "removals": removals_from_detention + other_per_day}
    per_day = {k: np.round(np.percentile(v, [5, 50, 95], axis=0), 1)
               for k, v in {"population": sim["population"], **flows}.items()}
    daily = [{"date": d.date().isoformat(),
              **{k: {"p5": float(q[0, i]), "p50": float(q[1, i]), "p95": float(q[2, i])} for k, q in per_day.items()}}
             for i, d in enumerate(dates)]
    monthly = []
    for month, idx in pd.Series(np.arange(len(dates)), index=dates).groupby(dates.to_period("M")):
        i = idx.to_numpy()
        monthly.append({"month": str(month), "days": len(i),
                        "complete": len(i) == month.days_in_month,
                        "population": _bands(sim["population"][:, i].mean(axis=1)),
                        **{k: _bands(v[:, i].sum(axis=1)) for k, v in flows.items()}})
    return {"daily": daily, "monthly": monthly}



def project(calibration: Calibration, *, arrests_per_day: float, beds: float | None, stay_days: float | None = None,
            days: int = 365, share_detained: float | None = None, runs: int = 200, seed: int = 0,
            progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Project a scenario day by day from the last calibrated month, with Monte Carlo bands.

    ``beds``: None takes the calibrated funded beds; ``math.inf`` means no capacity limit. ``progress`` is
    called with the number of days simulated.
    """
    cal = calibration
    sc = _scenario(cal, arrests_per_day, beds, stay_days, share_detained)
    check_run_options(days, runs, seed)
    days, runs = int(days), int(runs)
    draws = _draw(cal, runs, seed, sc.stay_override)
    admissions = draws["admissions"].copy()
    admissions[:, AGENCIES.index("ICE")] = sc.admissions["ICE"]  # the scenario sets ICE; CBP keeps its draws
    initial = np.array([[cal.last_adp[a] for a in AGENCIES]])
    # The projection starts from the last reported population: no one held is released on day one, even
    # when that population is above the beds (arrivals are turned away until exits bring it under them).
    sim = simulate(initial, admissions[:, None, :], draws["stays"], sc.beds, days, progress)
    other = cal.other_removals_per_day["value"]
    removals = sim["book_outs"] * draws["removal_share"][:, None]
    dates = pd.date_range(cal.start, periods=days, freq="D")
    per_year = 365 / days
    total_removals = removals.sum(axis=1) + other * days
    initial_excess = max(sum(cal.last_adp[a] for a in AGENCIES) - sc.beds, 0.0)
    return {
        "capacity": _capacity_statement(cal, sc.beds, beds, initial_excess),
        "model": "capacity stock-and-flow (icetrack.model.capacity)",
        "definitions": definitions.CAPACITY,
        "inputs": {"arrests_per_day": sc.arrests_per_day, "share_detained": sc.share_detained,
                   "beds": _json_number(sc.beds), "stay_days": sc.stay_override, "days": days, "runs": runs,
                   "seed": seed, "start": cal.start.isoformat(), "end": dates[-1].date().isoformat(),
                   "initial_population": {a: cal.last_adp[a] for a in AGENCIES}, "initial_population_month":
                   cal.last_adp["month"], "other_removals_per_day": other},
        "calibration": cal.to_dict(),
        "steady_state": steady_state(cal, arrests_per_day=sc.arrests_per_day, beds=beds, stay_days=stay_days,
                                     share_detained=share_detained),
        **_series_bands(sim, removals, other, dates),
        "totals": {
            "days": days,
            "admissions": _bands(sim["arrivals"].sum(axis=1)),
            "held": _bands(sim["held"].sum(axis=1)),
            "forced_releases": _bands(sim["forced_releases"].sum(axis=1)),
            # a population above the beds on day 0 is not released: it is said, and arrivals are turned away
            "initial_excess": round(initial_excess, 1),
            "book_outs": _bands(sim["book_outs"].sum(axis=1)),
            "removals_from_detention": _bands(removals.sum(axis=1)),
            "other_removals": round(other * days, 1),
            "removals": _bands(total_removals),
            "removals_per_year": _bands(total_removals * per_year),
            "forced_releases_per_year": _bands(sim["forced_releases"].sum(axis=1) * per_year),
            "final_population": _bands(sim["population"][:, -1]),
        },
    }



def _capacity_statement(cal: Calibration, bed_count: float, given, initial_excess: float) -> dict[str, Any]:
    """Which cap the projection uses, from where, and whether the start population is already above it."""
    start_population = sum(cal.last_adp[a] for a in AGENCIES)
    if math.isinf(bed_count):
        source = "no capacity limit (--beds none)"
    elif given is not None:
        source = "given"
    else:
        b = cal.beds
        url = (b.get("source_url") or "").split()
        source = (f"{b.get('label') or b.get('file_name') or 'capacity in force'}, in force from {b['period_start']}"
                  + (f" to {b['period_end']}" if b.get("period_end") else "") + (f" ({url[0]})" if url else ""))
    above = None
    if initial_excess > 0:
        above = (f"The last reported population ({start_population:,.0f}, {cal.last_adp['month']}) is already "
                 f"{initial_excess:,.0f} above the {bed_count:,.0f} beds on {cal.start}: no one held is released "
                 "on day one; arrivals are turned away until exits bring the population under the beds.")
    return {"beds": _json_number(bed_count), "source": source, "start_population": round(start_population, 1),
            "above_cap_at_start": above}


def goal_seek(calibration: Calibration, *, removals_per_year: float, solve_for: str = "arrests_per_day",
              arrests_per_day: float | None = None, beds: float | None = None,
              stay_days: float | None = None) -> dict[str, Any]:
    """The arrests per day, beds or mean stay that reach ``removals_per_year`` in steady state, the others fixed.

    Held fixed unless given: beds = the calibrated funded beds; arrests = the calibrated ICE admissions /
    share detained (today's rate); stays = the calibrated stays. Solving for the stay gives the longest mean
    stay (for everyone) that still reaches the goal. Says so when the goal is out of reach, with the most
    the fixed inputs allow.
    """
    cal = calibration
    if solve_for not in SOLVE_FOR:
        raise ValueError(f"solve_for must be one of {', '.join(SOLVE_FOR)}, not {solve_for!r}")
    goal = _number("removals_per_year", removals_per_year, 0)
    if arrests_per_day is None and solve_for != "arrests_per_day":
        if not cal.share_detained or cal.share_detained["value"] <= 0:
            raise ValueError("arrests_per_day not given and no share detained to derive today's rate")
        arrests_per_day = cal.admissions_per_day["ICE"]["mean"] / cal.share_detained["value"]
    sc = _scenario(cal, 0 if solve_for == "arrests_per_day" else arrests_per_day, beds, stay_days, None)
    r, other = _removal_share(cal), cal.other_removals_per_day["value"]

    def removals_at(value: float) -> float:
        admissions, stays, bed_count = dict(sc.admissions), dict(sc.stays), sc.beds
        if solve_for == "arrests_per_day":
            admissions["ICE"] = value * sc.share_detained
        elif solve_for == "beds":
            bed_count = value
        else:
            stays = {a: value for a in AGENCIES}
        return _steady(admissions, stays, bed_count, sc.share_detained, r, other)["removals_per_year"]

    # Removals are piecewise monotone: they rise with arrests until the beds fill (beyond, a mix shifting to
    # the agency with the longer stay can lower them), rise with beds until every admission is held, and fall
    # with the stay once the beds bind. Search between those break points.
    low, high = {"arrests_per_day": (0.0, 1e7), "beds": (0.0, 1e8), "stay_days": (1.0, float(MAX_DAYS))}[solve_for]
    breaks = {"arrests_per_day": sc.share_detained and _steady(sc.admissions, sc.stays, sc.beds, sc.share_detained,
                                                               r, other)["sustainable_arrests_per_day"],
              "beds": sum(sc.admissions[a] * sc.stays[a] for a in AGENCIES),
              "stay_days": sc.beds / max(sum(sc.admissions.values()), 1e-12)}[solve_for]
    points = sorted({low, high} | ({breaks} if breaks and low < breaks < high else set()))
    values = [removals_at(v) for v in points]
    best = max(values)
    held = {"arrests_per_day": None if solve_for == "arrests_per_day" else sc.arrests_per_day,
            "beds": None if solve_for == "beds" else _json_number(sc.beds),
            "stay_days": None if solve_for == "stay_days" else
            (sc.stay_override if sc.stay_override is not None else dict(sc.stays)),
            "share_detained": sc.share_detained, "removal_share_of_book_outs": r, "other_removals_per_day": other}
    result: dict[str, Any] = {"goal_removals_per_year": goal, "solve_for": solve_for, "held_fixed": held,
                              "max_removals_per_year": _json_number(best),
                              "editions": [e["edition_id"] for e in cal.editions]}
    if goal > best * (1 + 1e-12):
        what = {"arrests_per_day": "at any number of arrests", "beds": "with any number of beds",
                "stay_days": "however short the stays"}[solve_for]
        return {**result, "reachable": False, "value": None,
                "message": f"unreachable holding the others fixed: {what}, removals reach at most {best:,.0f} a year"}
    # the least arrests or beds, or the longest stay, that reaches the goal
    order = range(len(points)) if solve_for != "stay_days" else range(len(points) - 1, -1, -1)
    value = None
    previous = None
    for i in order:
        if values[i] >= goal:
            value = points[i] if previous is None else brentq(lambda v: removals_at(v) - goal,
                                                              *sorted((points[previous], points[i])),
                                                              xtol=1e-9, rtol=1e-12)
            break
        previous = i
    message = (f"already reached at {solve_for} = {value:g}" if previous is None else
               f"{solve_for} = {value:,.1f} reaches {goal:,.0f} removals a year in steady state")
    ss = steady_state(cal, arrests_per_day=value if solve_for == "arrests_per_day" else sc.arrests_per_day,
                      beds=value if solve_for == "beds" else beds,
                      stay_days=value if solve_for == "stay_days" else stay_days)
    return {**result, "reachable": True, "value": value, "message": message, "steady_state": ss}
