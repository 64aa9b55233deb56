"""Cumulative statements - "at least N since DATE", "N in the first K days" - read as ICE arrests two ways.

Each way is a :class:`~icetrack.claims.reading.Reading`, judged like every other reading:

- role ``lower_bound``: ICE-arrested initial book-ins over the window (ledger series ``book_ins.ice_arrested``).
  People ICE arrested and did not detain are missing from them, so they are a lower bound on ICE arrests;
  read as a count of book-ins they are exact (about, when the window cuts a month).
- role ``speaker``: ICE arrests (the claim's metric, ``arrests.ero_administrative``) estimated from those
  book-ins by the bridge ``arrests.from_book_ins`` (book-ins / the share of arrests booked in), with the
  interval the loaded years' shares give. Arrests are never fewer than the book-ins, so that bound holds too.

A month's book-ins are spread evenly over the days its figure covers
(:func:`icetrack.metrics.ledger_series.monthly_days`): a window cutting a month counts the month's per-day
figure times its days in the window, and says so. Days with no figure yet (after the latest edition's table
date) are listed as missing, never counted as zero: the counts are then lower bounds and the reading is
incomplete.

Vintage: the latest figures; on the figures public when the claim was made (``KnownBy(published_on)``, as
for every claim) the book-ins come from the editions published by then, undated ones excluded. The bridge's
shares are the method's calibration from closed fiscal years: there, undated year-end workbooks count from
their as-of date (``undated="from_as_of"``), else no share could be formed for any day.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd

from icetrack.claims.reading import Reading, fmt, interval_outcome, range_outcome, row_dict, runs
from icetrack.claims.registry import Claim
from icetrack.domain.catalogue import definition
from icetrack.domain.ledger_series import BRIDGES, LEDGER_SERIES
from icetrack.metrics import ledger_series as days_of
from icetrack.metrics.evidence import observations_in_window
from icetrack.warehouse.vintage import KnownBy, Vintage

LOWER_BOUND = LEDGER_SERIES["book_ins.ice_arrested"]
ESTIMATE = LEDGER_SERIES["arrests.estimated"]
BRIDGE = BRIDGES[ESTIMATE.bridge]


def _share_vintage(vintage: Vintage) -> Vintage:
    return KnownBy(vintage.day, undated="from_as_of") if isinstance(vintage, KnownBy) else vintage


def _month_rows(con, claim: Claim, vintage: Vintage, per_day: pd.DataFrame,
                in_window: pd.DataFrame) -> tuple[list[dict], list[str]]:
    """The monthly figures the window counts, each with the days its figure covers and the days of them in
    the window (its weight), and one line per month saying how much it contributes."""
    measurement = definition(LOWER_BOUND.definition).measured_by[0]
    obs = observations_in_window(con, measurement, claim.window_start, claim.window_end, 0, vintage).to_pandas()
    rows, lines = [], []
    for r in obs[obs.grain == "month"].itertuples():
        first, last = pd.Timestamp(r.period_start).date(), pd.Timestamp(r.period_end).date()
        mine = per_day[(per_day.edition_id == r.edition_id) & (per_day.day >= first) & (per_day.day <= last)]
        counted = in_window[(in_window.edition_id == r.edition_id) & (in_window.day >= first)
                            & (in_window.day <= last)]
        if counted.empty:
            continue
        covered, n = len(mine), len(counted)
        rows.append({**row_dict(r, n / covered), "days_covered": covered, "days_in_window": n})
        value = float(r.value)
        if n == covered == (last - first).days + 1:
            lines.append(f"{first:%Y-%m}: {fmt(value)}, the whole month")
        else:
            span = f"{covered} days" + ("" if covered == (last - first).days + 1 else " its figure covers")
            lines.append(f"{first:%Y-%m}: {fmt(value)} / {span} x {n} days in the window = {fmt(value * n / covered)}")
    return rows, lines


def _book_ins(con, claim: Claim, vintage: Vintage, per_day: pd.DataFrame, in_window: pd.DataFrame,
              missing: list[date]) -> Reading:
    d = definition(LOWER_BOUND.definition)
    reading = Reading(d, "lower_bound", "unmeasured")
    reading.coverage = {"days_in_window": (claim.window_end - claim.window_start).days + 1,
                        "days_covered": len(in_window), "missing": runs(missing),
                        "measure": f"{d.measured_by[0].measure} [{d.measured_by[0].dims_key}]"}
    if in_window.empty:
        reading.reason = f"no {d.label} figures for {claim.window_start}..{claim.window_end}"
        reading.settled_by = d.settled_by
        return reading
    reading.rows, months = _month_rows(con, claim, vintage, per_day, in_window)
    prorated = any(r["weight"] < 1 for r in reading.rows)
    reading.coverage.update(prorated=prorated, months=months)
    reading.value = float(in_window.value.sum())
    reading.kind = "lower_bound" if missing else "estimate" if prorated else "exact"
    low, high = claim.comparison.bounds()
    reading.outcome = interval_outcome(reading.value, reading.kind, low, high)
    if missing:
        reading.settled_by = f"figures for {runs(missing)} ({d.settled_by})"
    return reading


def _estimate(con, claim: Claim, vintage: Vintage, per_day: pd.DataFrame, book_ins: Reading,
              missing: list[date], monthly_share: pd.DataFrame | None, synthetic: frozenset[str]) -> Reading:
    reading = Reading(claim.metric, "speaker", "unmeasured")
    reading.coverage = {**book_ins.coverage, "measure": f"bridge {BRIDGE.ref}"}
    reading.coverage.pop("months", None)
    if book_ins.value is None:
        reading.reason, reading.settled_by = book_ins.reason, book_ins.settled_by
        return reading
    low, high = claim.comparison.bounds()
    shares = days_of.annual_shares(con, BRIDGE, vintage=_share_vintage(vintage))
    est, info = days_of.estimated_days(per_day, shares, monthly_share, BRIDGE)
    days = est[(est.day >= claim.window_start) & (est.day <= claim.window_end)] if info else est
    if days.empty:
        # without the bridge, ICE arrests are still at least the book-ins
        reading.value, reading.kind, reading.rows = book_ins.value, "lower_bound", book_ins.rows
        reading.outcome = interval_outcome(book_ins.value, "lower_bound", low, high)
        reading.reason = (f"no estimate: the bridge {BRIDGE.ref} needs FY{BRIDGE.central_year}'s ICE-arrested "
                          "book-ins (all twelve months) and ERO administrative arrests; read as at least the "
                          "ICE-arrested book-ins")
        reading.settled_by = claim.metric.settled_by
        return reading
    value, e_low, e_high = float(days.value.sum()), float(days.low.sum()), float(days.high.sum())
    sources = sorted(set(days.share_source))
    reading.value, reading.kind, reading.rows = value, "lower_bound" if missing else "estimate", book_ins.rows
    reading.coverage.update(
        interval=[e_low, e_high], bridge=info["bridge"], central_share=info["central_share"],
        share_interval=info["share_interval"], share_source=sources,
        bridge_editions=sorted({e for s in info["shares"] for e in s["editions"]}))
    if any(r in s for s in sources for r in synthetic):
        reading.coverage["synthetic"] = True
    # arrests are at least the book-ins; with days missing nothing bounds them from above
    lo, hi = max(e_low, book_ins.value), (math.inf if missing else e_high)
    reading.outcome = range_outcome(lo, hi, low, high)
    if missing:
        reading.settled_by = book_ins.settled_by
    return reading


def cumulative_readings(con, claim: Claim, vintage: Vintage, monthly_share: pd.DataFrame | None = None,
                        synthetic: frozenset[str] = frozenset()) -> list[Reading]:
    """[ICE arrests estimated from book-ins (the speaker's reading), ICE-arrested book-ins (its lower bound)]
    over the claim's window. ``monthly_share``: per-month shares from national person-level releases
    (:func:`icetrack.metrics.ledger_series.person_monthly_share`), ``synthetic`` the ids of synthetic ones."""
    per_day = days_of.monthly_days(con, LOWER_BOUND.definition, vintage)
    if per_day.empty:
        in_window = per_day
    else:
        in_window = per_day[(per_day.day >= claim.window_start) & (per_day.day <= claim.window_end)]
    n = (claim.window_end - claim.window_start).days + 1
    seen = set(in_window.day)
    missing = [d for d in (claim.window_start + timedelta(days=i) for i in range(n)) if d not in seen]
    book_ins = _book_ins(con, claim, vintage, per_day, in_window, missing)
    return [_estimate(con, claim, vintage, per_day, book_ins, missing, monthly_share, synthetic), book_ins]


def _not_booked_needed(book_ins: float, low: float, high: float) -> str:
    """The share of ICE arrests not booked in that makes book-ins / (1 - share) fall in [low, high]."""
    at_least = max(0.0, 1 - book_ins / low) if low > 0 else 0.0
    at_most = 1 - book_ins / high if math.isfinite(high) and high > 0 else 1.0
    if at_most >= 1.0:
        return f"at least {at_least:.1%}"
    if at_least <= 0.0:
        return f"at most {at_most:.1%}"
    return f"between {at_least:.1%} and {at_most:.1%}"


def definition_note(claim: Claim, readings: list[Reading]) -> str | None:
    """Which definition of 'arrests' would make the statement true, with the numbers of both readings."""
    arrests, book_ins = readings[0], readings[1]
    if book_ins.value is None:
        return None
    low, high = claim.comparison.bounds()
    b = f"{fmt(book_ins.value)} ICE-arrested book-ins"
    missing = book_ins.coverage.get("missing")
    prefix = (f"Incomplete: no ICE-arrested book-ins figure for {missing} yet (those days are not counted as "
              "zero), so both counts are lower bounds. ") if missing else ""
    interval = arrests.coverage.get("interval")
    if interval is None:
        est = "no estimate (the bridge's shares are not loaded)"
    else:
        est = f"the estimate's interval is {fmt(interval[0])}-{fmt(interval[1])}"
    if arrests.outcome == "supported" and book_ins.outcome == "supported":
        text = (f"True even by the lower bound: the {b} alone meet it, so it holds whether 'arrests' means "
                "people ICE arrested and booked into detention or every ERO administrative arrest")
    elif arrests.outcome == "supported":
        text = (f"True only if 'arrests' counts every ERO administrative arrest, not only those booked into "
                f"detention: the estimate's whole interval ({fmt(interval[0])}-{fmt(interval[1])}) meets it, "
                f"the {b} do not" + (" (yet)" if book_ins.outcome == "inconclusive" else ""))
    elif arrests.outcome == "contradicted":
        text = (f"True of ICE-arrested book-ins only ({b}), not of every ERO administrative arrest ({est})"
                if book_ins.outcome == "supported" else
                f"Not supported by any reading: {b}, and {est}")
    elif missing or interval is None:
        text = f"Undetermined: {b}, and {est}"
    else:
        share = [1 - book_ins.value / interval[0], 1 - book_ins.value / interval[1]]
        text = (f"Undetermined, possible only within the estimate's interval ({fmt(interval[0])}-"
                f"{fmt(interval[1])}): true only if 'arrests' counts every ERO administrative arrest and "
                f"{_not_booked_needed(book_ins.value, low, high)} of them were not booked into detention (the "
                f"shares used put that at {share[0]:.1%}-{share[1]:.1%})")
        if book_ins.outcome == "supported":
            text += f", or if it means ICE-arrested book-ins ({b})"
    return prefix + text + "."
