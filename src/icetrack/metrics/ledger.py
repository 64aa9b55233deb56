"""The targets ledger over time: every ledger series, at a grain, against the target in force in each period.

The definitions stated in every output are :data:`icetrack.domain.definitions.LEDGER`; the series and the
bridges between concepts are :mod:`icetrack.domain.ledger_series`; what a target is, :mod:`icetrack.domain.targets`.

- A period's per-day figure is its total over the days it covers / those days (flows), or the mean over them
  (levels). A period with no covered day is missing, listed, and never read as zero.
- A target is scored on the covered days it is in force; a track's targets replace one another, so a period in
  which a goal changed is compared with the day-weighted mean of the goals in force over its covered days.
- The cumulative shortfall since the effective date adds (target - figure) over every covered day in force; a
  monthly figure is spread evenly over its days for this (stated), a daily figure is used as is.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta
from typing import Any

import pandas as pd

from icetrack.domain import definitions
from icetrack.domain.ledger_series import LEDGER_SERIES, READABLE_GRAINS, READINGS, LedgerSeries
from icetrack.domain.rules import fiscal_year, fiscal_year_start
from icetrack.domain.targets import GRAIN_TEXT, GRAINS, TargetWindow, per_day, unit_kind
from icetrack.metrics import ledger_series as days_of
from icetrack.metrics.targets import pace
from icetrack.warehouse.vintage import Latest, Vintage, latest_targets

TARGET_COLUMNS = ("target_id", "kind", "label", "concept", "scope", "value_low", "value_high", "unit",
                  "announced_on", "effective_from", "effective_to", "date_precision", "track", "reported_by",
                  "source_url", "note", "edition_id")


class LedgerError(ValueError):
    """A ledger that cannot be formed as asked (an unknown grain, series or target; a grain a series cannot
    be read at). ``str()`` is one line."""


def _missing(v) -> bool:
    return v is None or v is pd.NaT or (isinstance(v, float) and v != v)


def _iso(d) -> str | None:
    return None if _missing(d) else (d.date() if isinstance(d, pd.Timestamp) else d).isoformat()


def _num(v, digits: int = 1):
    if v is None or pd.isna(v):
        return None
    return round(float(v), digits)


def _day(v) -> date | None:
    if _missing(v):
        return None
    return v.date() if isinstance(v, pd.Timestamp) else v


# --- periods ------------------------------------------------------------------------------------------------

def period_of(day: date, grain: str) -> tuple[date, date]:
    """The day/week/month holding ``day`` (weeks run Monday to Sunday)."""
    if grain == "day":
        return day, day
    if grain == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if grain == "month":
        return date(day.year, day.month, 1), date(day.year, day.month, monthrange(day.year, day.month)[1])
    raise LedgerError(f"grain '{grain}' has no calendar periods")


def _calendar(first: date, last: date, grain: str) -> list[tuple[date, date]]:
    out, day = [], first
    while day <= last:
        start, end = period_of(day, grain)
        out.append((start, end))
        day = end + timedelta(days=1)
    return out


def _fytd_periods(first: date, last: date) -> list[tuple[date, date]]:
    """[October 1, end of each month] from the month of ``first`` to the month of ``last``."""
    return [(fiscal_year_start(fiscal_year(end)), end) for _, end in _calendar(first, last, "month")]


def period_table(days: pd.DataFrame, grain: str, level: bool) -> pd.DataFrame:
    """One row per period from the first to the last covered day, missing periods included."""
    if days.empty:
        return pd.DataFrame()
    first, last = min(days.day), max(days.day)
    spans = _fytd_periods(first, last) if grain == "fytd" else _calendar(first, last, grain)
    rows = []
    for start, end in spans:
        d = days[(days.day >= start) & (days.day <= end)]
        rows.append(_period_row(d, start, end, level))
    return pd.DataFrame(rows)


def _period_row(d: pd.DataFrame, start: date, end: date, level: bool) -> dict[str, Any]:
    n = len(d)
    row: dict[str, Any] = {"period_start": start, "period_end": end, "days_in_period": (end - start).days + 1,
                           "days_covered": n, "missing": n == 0, "partial": 0 < n < (end - start).days + 1,
                           "covered_from": min(d.day) if n else None, "covered_to": max(d.day) if n else None,
                           "editions": sorted(set(d.edition_id)) if n else []}
    suppressed = bool(n and "suppressed" in d and d.suppressed.any())
    row["suppressed"] = suppressed
    agg = (lambda s: float(s.mean())) if level else (lambda s: float(s.sum()))
    ok = n and not suppressed
    row["total"] = None if level or not ok else agg(d.value)
    row["per_day"] = (float(d.value.mean()) if level else agg(d.value) / n) if ok else None
    for end_name in ("low", "high"):
        row[f"per_day_{end_name}"] = (agg(d[end_name]) / (1 if level else n)) if ok and end_name in d else None
    return row


# --- targets ------------------------------------------------------------------------------------------------

def target_frame(con) -> pd.DataFrame:
    # The query has no order: sorted here (in force first, then by id) so the ledger lists its targets, and each
    # track's targets, in the same order on every run.
    t = latest_targets(con).select(*TARGET_COLUMNS).to_pandas()
    return t.sort_values(["effective_from", "target_id"], na_position="first", kind="stable").reset_index(drop=True)


def windows(targets: pd.DataFrame) -> list[TargetWindow]:
    return [TargetWindow(r.target_id, r.track or r.target_id, r.kind, r.concept, r.scope, r.unit,
                         per_day(float(r.value_low), r.unit), per_day(float(r.value_high), r.unit),
                         _day(r.effective_from), _day(r.effective_to)) for r in targets.itertuples()]


def _target_header(r) -> dict[str, Any]:
    h = {k: getattr(r, k) for k in TARGET_COLUMNS}
    for k in ("announced_on", "effective_from", "effective_to"):
        h[k] = _iso(h[k])
    h["value_low"], h["value_high"] = float(h["value_low"]), float(h["value_high"])
    h["unit_kind"] = unit_kind(h["unit"])
    h["per_day_low"] = _num(per_day(h["value_low"], h["unit"]), 2)
    h["per_day_high"] = _num(per_day(h["value_high"], h["unit"]), 2)
    if h["date_precision"] == "month" and h["effective_from"]:
        h["effective_from_text"] = f"{_day(r.effective_from):%B %Y} (day not stated)"
    return h


def in_force_days(days: pd.DataFrame, track: list[TargetWindow]) -> pd.DataFrame:
    """``days`` with the track's target in force on each (target_id, target_low, target_high); days with none
    in force are dropped."""
    parts = []
    for w in track:
        mask = pd.Series(True, index=days.index)
        if w.effective_from is not None:
            mask &= days.day >= w.effective_from
        if w.effective_to is not None:
            mask &= days.day <= w.effective_to
        if mask.any():
            parts.append(days[mask].assign(target_id=w.target_id, target_low=w.low, target_high=w.high))
    return pd.concat(parts).sort_values("day") if parts else days.iloc[0:0].assign(
        target_id=None, target_low=None, target_high=None)


def score_track(days: pd.DataFrame, periods: pd.DataFrame, track: list[TargetWindow], level: bool,
                grain: str, by: date | None) -> dict[str, Any]:
    forced = in_force_days(days, track)
    rows, running = [], 0.0
    for p in periods.itertuples():
        d = forced[(forced.day >= p.period_start) & (forced.day <= p.period_end)]
        row = _score_period(p, d, level)
        if row["shortfall_low"] is not None:
            running = row["shortfall_low"] if grain == "fytd" else running + row["shortfall_low"]
        row["cumulative_shortfall_low"] = None if level or not len(d) else _num(running)
        rows.append(row)
    # A baseline is a reference, not a goal: nothing is owed against it and no pace is needed to reach it.
    goal = track[0].kind == "target"
    since = _since_effective(forced, level or not goal, track)
    return {"periods": rows, **_firsts(rows), **since, "pace": _pace(days, track, by) if goal and not level else None}


def _score_period(p, d: pd.DataFrame, level: bool) -> dict[str, Any]:
    n = len(d)
    suppressed = bool(n and "suppressed" in d and d.suppressed.any())
    row: dict[str, Any] = {"period_start": _iso(p.period_start), "period_end": _iso(p.period_end),
                           "in_force": sorted(set(d.target_id)) if n else [], "days_in_force": n}
    if not n or suppressed:
        return {**row, "target_low": None, "target_high": None, "per_day": None, "per_day_low": None,
                "per_day_high": None, "attainment_low_pct": None, "attainment_high_pct": None,
                "attainment_band_pct": None, "gap_per_day_low": None, "gap_per_day_high": None,
                "shortfall_low": None, "suppressed": suppressed}
    low, high = float(d.target_low.mean()), float(d.target_high.mean())
    value = float(d.value.mean())  # per day (flows spread per day) or the level
    band = [float(d["low"].mean()), float(d["high"].mean())] if "low" in d else None
    return {**row, "target_low": _num(low, 2), "target_high": _num(high, 2), "per_day": _num(value),
            "per_day_low": _num(band[0]) if band else None, "per_day_high": _num(band[1]) if band else None,
            "attainment_low_pct": _num(100 * value / low) if low else None,
            "attainment_high_pct": _num(100 * value / high) if high else None,
            "attainment_band_pct": [_num(100 * band[0] / low), _num(100 * band[1] / low)] if band and low else None,
            "gap_per_day_low": _num(low - value), "gap_per_day_high": _num(high - value),
            "shortfall_low": None if level else _num(float((d.target_low - d.value).sum())),
            "suppressed": False}


def _firsts(rows: list[dict]) -> dict[str, Any]:
    out = {}
    for end in ("low", "high"):
        hit = next((r for r in rows if r["per_day"] is not None and r[f"target_{end}"] is not None
                    and r["per_day"] >= r[f"target_{end}"]), None)
        out[f"first_period_at_or_above_{end}"] = hit["period_start"] if hit else "not reached"
    band = next((r for r in rows if r["per_day_high"] is not None and r["target_low"] is not None
                 and r["per_day_high"] >= r["target_low"]), None)
    out["first_period_band_reaches_low"] = band["period_start"] if band else ("not reached" if any(
        r["per_day_high"] is not None for r in rows) else None)
    return out


def _since_effective(forced: pd.DataFrame, level: bool, track: list[TargetWindow]) -> dict[str, Any]:
    if forced.empty:
        return {"days_in_force_covered": 0, "days_in_force_missing": None, "cumulative_shortfall_low": None,
                "cumulative_shortfall_band": None, "total_since_effective": None}
    first, last = min(forced.day), max(forced.day)
    span = sum(((min(w.effective_to or last, last) - max(w.effective_from or first, first)).days + 1)
               for w in track if (w.effective_from or first) <= last and (w.effective_to or last) >= first)
    out = {"days_in_force_covered": len(forced), "days_in_force_missing": max(span - len(forced), 0),
           "in_force_from": _iso(first), "in_force_to": _iso(last)}
    if level or ("suppressed" in forced and forced.suppressed.any()):
        return {**out, "cumulative_shortfall_low": None, "cumulative_shortfall_band": None,
                "total_since_effective": None}
    band = None
    if "low" in forced:
        band = [_num(float((forced.target_low - forced["high"]).sum())),
                _num(float((forced.target_low - forced["low"]).sum()))]
    return {**out, "cumulative_shortfall_low": _num(float((forced.target_low - forced.value).sum())),
            "cumulative_shortfall_band": band, "total_since_effective": _num(float(forced.value.sum()))}


def default_by(last: date) -> date:
    """The default horizon of 'pace needed': the end of the fiscal year the series' last covered day is in."""
    return date(fiscal_year(last), 9, 30)


def _pace(days: pd.DataFrame, track: list[TargetWindow], by: date | None) -> dict[str, Any] | None:
    if days.empty:
        return None
    last = max(days.day)
    current = next((w for w in track if w.in_force(last)), None)
    if current is None:
        return {"target_id": None, "note": f"no target of this track is in force on {last}"}
    yearly = unit_kind(current.unit) == "per_year"
    first = max(current.effective_from or min(days.day), min(days.day))
    if yearly:
        first = max(first, fiscal_year_start(fiscal_year(last)))
    horizon = by or default_by(last)
    seen = days[(days.day >= first) & (days.day <= last)]
    total = float(seen.value.sum())
    result = pace(current.low, total, first, last, horizon)
    return {"target_id": current.target_id, "from": first.isoformat(), "through": last.isoformat(),
            "actual": _num(total, 0), "goal_by_horizon": _num(current.low * ((horizon - first).days + 1), 0),
            "days_missing": (last - first).days + 1 - len(seen), **result}


# --- the ledger -----------------------------------------------------------------------------------------------

def series_days(con, s: LedgerSeries, vintage: Vintage, person_tables=None, threshold: int = 10,
                read: dict[str, pd.DataFrame] | None = None) -> tuple[pd.DataFrame, dict | None, list[dict]]:
    """The covered days of one ledger series (empty when its source is not loaded), the bridge used, notes.
    ``read``: days of series already read in this ledger (the estimate reuses the book-ins)."""
    if s.id == "arrests.ice_posted":
        return days_of.point_days(con, s.definition, "day", vintage), None, []
    if s.id == "book_ins.ice_arrested":
        return days_of.monthly_days(con, s.definition, vintage), None, []
    if s.id == "detained.adp_midnight":
        return days_of.monthly_days(con, s.definition, vintage, flow=False), None, []
    if s.id == "detained.snapshot":
        return days_of.point_days(con, s.definition, "snapshot", vintage), None, []
    if s.id == "removals.between_editions":
        spans = days_of.removal_spans(con, vintage)
        notes = [{"period_start": _iso(r.start), "period_end": _iso(r.end), "note": r.note}
                 for r in spans.itertuples() if r.note]
        return days_of.removal_days(spans), None, notes
    if s.id == "arrests.estimated":
        book_ins = (read or {}).get("book_ins.ice_arrested")
        if book_ins is None:
            book_ins = days_of.monthly_days(con, "book_ins.ice_arrested", vintage)
        shares = days_of.annual_shares(con, vintage=vintage)
        monthly = _person_shares(person_tables, threshold)
        days, info = days_of.estimated_days(book_ins, shares, monthly)
        return days, info or None, []
    if s.id == "arrests.person_level":
        return _person_days(person_tables, threshold)
    raise LedgerError(f"no reader for ledger series '{s.id}'")


def _person_shares(pt, threshold: int) -> pd.DataFrame | None:
    if pt is None:
        return None
    # A synthetic release never moves an estimate of real arrests; it shows only as its own (synthetic) series.
    parts = [days_of.person_monthly_share(pt, r, threshold) for r in days_of.national_releases(pt, synthetic=False)]
    return pd.concat(parts) if parts else None


def _person_days(pt, threshold: int) -> tuple[pd.DataFrame, None, list[dict]]:
    empty = pd.DataFrame(columns=days_of.DAY_COLUMNS)
    if pt is None:
        return empty, None, []
    releases = days_of.national_releases(pt)
    if not releases:
        return empty, None, [{"note": f"no loaded person-level release spans {days_of.NATIONAL_MIN_AORS}+ "
                                      "areas of responsibility (national)"}]
    # The latest release (by id order, which embeds its date) wins a day two releases both cover.
    parts = [days_of.person_arrest_days(pt, r) for r in releases]
    days = pd.concat(parts).drop_duplicates("day", keep="last").sort_values("day").reset_index(drop=True)
    days["suppressed"] = days.value < threshold
    synthetic = sorted(set(releases) & days_of.synthetic_releases(pt))
    notes = [{"note": f"SYNTHETIC release {r}: generated figures, not ICE's"} for r in synthetic]
    return days, None, notes


def ledger(con, grain: str = "month", *, vintage: Vintage = Latest(), series: list[str] | None = None,
           targets: list[str] | None = None, by: date | None = None, since: date | None = None,
           person_tables=None, threshold: int = 10) -> dict[str, Any]:
    """The ledger at ``grain`` as a JSON-ready dict (see the module docstring; README "Targets over time")."""
    if grain not in GRAINS:
        raise LedgerError(f"grain '{grain}' is not one of {', '.join(GRAINS)}")
    unknown = [s for s in series or [] if s not in LEDGER_SERIES]
    if unknown:
        raise LedgerError(f"series '{unknown[0]}' is not one of {', '.join(LEDGER_SERIES)}")
    for sid in series or []:
        s = LEDGER_SERIES[sid]
        if grain not in READABLE_GRAINS[s.native_grain]:
            raise LedgerError(f"series '{sid}' is published per {s.native_grain}; it cannot be read per {grain} "
                              f"(readable: {', '.join(READABLE_GRAINS[s.native_grain])})")
    tf = target_frame(con)
    if targets:
        missing = sorted(set(targets) - set(tf.target_id))
        if missing:
            raise LedgerError(f"target '{missing[0]}' is not loaded (known: {', '.join(sorted(tf.target_id))})")
        tf = tf[tf.target_id.isin(targets)]
    tw = windows(tf)
    out, not_readable, not_loaded = [], [], []
    read: dict[str, pd.DataFrame] = {}
    for s in (LEDGER_SERIES[i] for i in (series or LEDGER_SERIES)):
        if grain not in READABLE_GRAINS[s.native_grain]:
            not_readable.append({"series_id": s.id, "native_grain": s.native_grain,
                                 "readable_grains": list(READABLE_GRAINS[s.native_grain])})
            continue
        days, bridge, notes = series_days(con, s, vintage, person_tables, threshold, read)
        read[s.id] = days
        if days.empty:
            not_loaded.append({"series_id": s.id, "label": s.label, "notes": notes})
            continue
        out.append(_series_entry(s, days, bridge, notes, tf, tw, grain, by, since))
    return {"grain": grain, "grain_text": GRAIN_TEXT[grain], "since": _iso(since), "by": _iso(by),
            "definitions": definitions.LEDGER, "readings": READINGS,
            "targets": [_target_header(r) for r in tf.itertuples()],
            "series": out, "not_readable": not_readable, "not_loaded": not_loaded}


def _series_entry(s: LedgerSeries, days: pd.DataFrame, bridge, notes, tf, tw, grain, by, since) -> dict:
    periods = period_table(days, grain, s.is_level)
    if since is not None:
        periods = periods[periods.period_end >= since].reset_index(drop=True)
    tracks: dict[str, list[TargetWindow]] = {}
    for w in tw:
        if w.concept == s.concept and w.scope == "national":
            tracks.setdefault(w.track, []).append(w)
    scored = []
    for track, ws in tracks.items():
        ws = sorted(ws, key=lambda w: w.effective_from or date.min)
        score = score_track(days, periods, ws, s.is_level, grain, by)
        heads = [_target_header(r) for r in tf[tf.target_id.isin([w.target_id for w in ws])].itertuples()]
        scored.append({"track": track, "kind": ws[0].kind, "targets": heads,
                       "comparison": "occupancy (population / beds)" if s.is_level else "per day", **score})
    scored.sort(key=lambda t: (t["kind"] != "target", t["track"]))
    return {"series_id": s.id, "label": s.label, "concept": s.concept, "reading": s.reading,
            "reading_text": READINGS[s.reading], "definition": s.definition, "method": s.method,
            "native_grain": s.native_grain, "bridge": bridge, "notes": notes,
            "first_day": _iso(min(days.day)), "last_day": _iso(max(days.day)),
            "editions": sorted(set(days.edition_id)),
            "periods": [_period_json(p) for p in periods.to_dict("records")],
            "missing_periods": [_iso(p) for p in periods[periods.missing].period_start] if len(periods) else [],
            "targets": scored}


def _period_json(p: dict) -> dict:
    out = dict(p)
    for k in ("period_start", "period_end", "covered_from", "covered_to"):
        out[k] = _iso(out[k])
    for k in ("total", "per_day", "per_day_low", "per_day_high"):
        out[k] = _num(out[k], 0 if k == "total" else 1)
    return out
