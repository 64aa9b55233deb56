"""Rolling-origin evaluation of the capacity model: its status-quo forecast at every origin since October 2019,
scored against the latest vintage beside four baselines, with prediction intervals from past errors and the
coverage they achieve.

An origin sees only what was public on its day (``KnownBy(origin, undated="from_as_of")``, taken in pandas by
:mod:`icetrack.model.known_data`); origins that saw the same figures make one forecast, scored once. The rules
shown to users are :data:`icetrack.domain.definitions.EVALUATION`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable

import numpy as np
import pandas as pd

from icetrack.domain import definitions
from icetrack.domain.rules import TOTAL, fiscal_year, fiscal_year_start
from icetrack.model import baselines, intervals
from icetrack.model.calibration import AGENCIES, Calibration, _ibis_con
from icetrack.model.known_data import (
    History,
    book_outs_by_reason,
    calibrate_known,
    monthly,
    read_history,
    removals_to_date,
)
from icetrack.model.stock_flow import _draw, check_run_options, simulate

FIRST_ORIGIN = date(2019, 10, 31)
MAX_HORIZON = 24
TARGETS = ("adp", "book_outs", "removals_to_date")
METHODS = ("model", *baselines.BASELINES)
TARGET_NAMES = {"adp": "ADP", "book_outs": "final book-outs", "removals_to_date": "removals to date"}
MODEL_DESCRIPTION = ("capacity model, status quo: calibrated on the figures public at the origin, admissions at the "
                     "calibrated rate per day, starting from the last reported ADP by agency, no bed cap; the "
                     "point forecast is the median Monte Carlo run")


@dataclass(frozen=True)
class Known:
    """The figures public on ``day``: per target its value by key (month, or table date for removals to date) and
    the rate series the baselines read (by month); ``month``: the last complete month of total ADP."""

    day: date
    month: date
    values: dict[str, dict[date, float]]
    rates: dict[str, pd.Series]
    last_table_date: date | None  # of the latest removals-to-date figure


def _days_in_month(month: date) -> int:
    return pd.Timestamp(month).days_in_month


def _days_to_date(day: date) -> int:
    """Days from October 1 of ``day``'s fiscal year through ``day``."""
    return (day - fiscal_year_start(fiscal_year(day))).days + 1


def _known(history: History, day: date | None) -> Known:
    """What was public on ``day`` (None: the latest vintage) for the three targets."""
    view = history.view(day)
    adp = monthly(view, "adp", agency=TOTAL, criminality=TOTAL).value
    if adp.empty:
        raise ValueError(f"no complete month of ADP was published by {day}: nothing to forecast from")
    # Book-outs of a table without 'Release to Remove' rows (FY2019-FY2023) are releases only, not all book-outs.
    reasons = book_outs_by_reason(view)
    with_removals = set(reasons.index[reasons.outcome == "removal"])
    book_outs = monthly(view, "book_outs", criminality=TOTAL, release_reason=TOTAL).value
    book_outs = book_outs[book_outs.index.isin(with_removals)]
    fytd = removals_to_date(view)
    by_month = fytd.assign(month=[d.replace(day=1) for d in fytd.as_of_date]).groupby("month").last()
    pace = by_month.value / [(r.as_of_date - r.period_start).days + 1 for r in by_month.itertuples()]
    return Known(
        day=day, month=adp.index[-1],
        values={"adp": adp.to_dict(), "book_outs": book_outs.to_dict(),
                "removals_to_date": dict(zip(fytd.as_of_date, fytd.value))},
        rates={"adp": adp, "book_outs": book_outs / [_days_in_month(m) for m in book_outs.index],
               "removals_to_date": pace},
        last_table_date=fytd.as_of_date.iloc[-1] if len(fytd) else None)


def _target_keys(known: Known, actual: Known, horizons: int) -> list[tuple[str, int, date, date]]:
    """(target, horizon, month, key) of every value scored for an origin: months 1..horizons after its last
    complete ADP month with a latest-vintage value; for removals to date the latest table dated in that month
    and after the last one public at the origin."""
    latest_table: dict[date, date] = {}
    for d in sorted(actual.values["removals_to_date"]):
        latest_table[d.replace(day=1)] = d
    keys = []
    for h in range(1, horizons + 1):
        month = baselines.add_months(known.month, h)
        for target in ("adp", "book_outs"):
            if month in actual.values[target]:
                keys.append((target, h, month, month))
        table = latest_table.get(month)
        if table and (known.last_table_date is None or table > known.last_table_date):
            keys.append(("removals_to_date", h, month, table))
    return keys


def check_options(horizons, runs, seed) -> None:
    if isinstance(horizons, bool) or not isinstance(horizons, (int, np.integer)):
        raise ValueError(f"horizons must be a whole number of months, not {horizons!r}")
    if horizons > MAX_HORIZON:
        raise ValueError(f"horizons={horizons} asks for a horizon over {MAX_HORIZON} months; use 1 to {MAX_HORIZON}")
    if horizons < 1:
        raise ValueError(f"horizons must be at least 1 month, not {horizons}")
    check_run_options(1, runs, seed)


def _month_ends(first: date, last: date) -> list[date]:
    return [d.date() for d in pd.date_range(first, last, freq="ME")]


def _origins(history: History, first: date, horizons: int, actual: Known) -> tuple[list[dict], dict[int, Known]]:
    """Every origin (month ends from ``first``, and each edition's public day, up to the last month end with a
    value scored after it), each with the count of figures public on it; and what each distinct count knew."""
    with_adp = set(history.rows.edition_id[history.rows.measure == "adp"])
    eds = history.editions[history.editions.edition_id.isin(with_adp)]
    public = eds.published_on.fillna(eds.published_by).fillna(eds.as_of).dropna().dt.date
    if not (public <= first).any():
        raise ValueError(f"no edition with monthly ADP was published on or before {first}, the first origin: "
                         "nothing to evaluate")
    last_public = max(public)
    candidates = {d: "month_end" for d in _month_ends(first, baselines.add_months(last_public, 1))}
    for d in sorted(public[public >= first]):
        candidates[d] = "month_end and edition" if d in candidates else "edition"
    states: dict[int, Known] = {}
    rows = []
    for day in sorted(candidates):
        key = history.public_rows(day)
        if key not in states:
            states[key] = _known(history, day)
        rows.append({"origin": day, "kind": candidates[day], "state": key,
                     "scored": bool(_target_keys(states[key], actual, horizons))})
    scored_ends = [r["origin"] for r in rows if r["scored"] and r["kind"] != "edition"]
    if not scored_ends:
        raise ValueError(f"no month end from {first} on has a month with a published value after its last known "
                         "month: nothing to score")
    rows = [r for r in rows if r["origin"] <= scored_ends[-1]]
    return rows, {r["state"]: states[r["state"]] for r in rows}


def _model_runs(cal: Calibration, months: list[date], runs: int, seed: int) -> tuple[dict, Callable]:
    """The status quo simulated from the calibration's start to the end of the last month: per run, each
    month's ADP (mean of the midnights) and book-outs, and a function giving removals to date on a day."""
    end = (pd.Timestamp(months[-1]) + pd.offsets.MonthEnd(0)).date()
    dates = pd.date_range(cal.start, end, freq="D")
    draws = _draw(cal, runs, seed, None)
    sim = simulate(np.array([[cal.last_adp[a] for a in AGENCIES]]), draws["admissions"][:, None, :],
                   draws["stays"], math.inf, len(dates))
    removals = sim["book_outs"] * draws["removal_share"][:, None] + cal.other_removals_per_day["value"]
    month_of_day = dates.to_period("M")
    per_month: dict[str, dict[date, np.ndarray]] = {"adp": {}, "book_outs": {}}
    for m in months:
        i = month_of_day == pd.Period(m, "M")
        per_month["adp"][m] = sim["population"][:, i].mean(axis=1)
        per_month["book_outs"][m] = sim["book_outs"][:, i].sum(axis=1)
    fytd = cal.removals_fytd
    known_start, known_day = date.fromisoformat(fytd["fiscal_year_start"]), date.fromisoformat(fytd["as_of"])

    def removals_to_date_on(day: date) -> np.ndarray | None:
        """The last published removals to date plus the simulated removals after its table date (a new fiscal
        year starts from zero on October 1); None when the days to add were not simulated."""
        same_year = fiscal_year_start(fiscal_year(day)) == known_start
        base, first = (fytd["value"], known_day + timedelta(days=1)) if same_year else (
            0.0, fiscal_year_start(fiscal_year(day)))
        if first < cal.start or day > end or day < first:
            return None
        return base + removals[:, (first - cal.start).days:(day - cal.start).days + 1].sum(axis=1)

    return per_month, removals_to_date_on


def _model_forecasts(history: History, known: Known, keys: list, runs: int,
                     seed: int) -> tuple[dict[tuple[str, date], dict] | None, str]:
    """The model's median run and Monte Carlo bands for each (target, key), or None and why not."""
    try:
        cal = calibrate_known(history, known.day)
    except ValueError as e:
        return None, str(e).split(" (")[0]
    months = [baselines.add_months(known.month, h) for h in range(1, max(k[1] for k in keys) + 1)]
    per_month, removals_to_date_on = _model_runs(cal, months, runs, seed)
    out = {}
    for target, _, month, key in keys:
        values = per_month[target][month] if target != "removals_to_date" else removals_to_date_on(key)
        if values is not None:
            out[(target, key)] = intervals.run_bands(values)
    return out, f"calibrated on {cal.window[0]}..{cal.window[-1]}"


def _scale(target: str, month: date, key: date) -> int:
    """A rate series' value -> the target: ADP as is, book-outs x days in the month, removals x days to date."""
    return {"adp": 1, "book_outs": _days_in_month(month), "removals_to_date": _days_to_date(key)}[target]


def _state_rows(history: History, known: Known, actual: Known, horizons: int, runs: int,
                seed: int) -> tuple[list[dict], str]:
    """The scored rows of one origin's forecast: actual, model, each baseline, Monte Carlo bands."""
    keys = _target_keys(known, actual, horizons)
    if not keys:
        return [], "nothing scored"
    model, note = _model_forecasts(history, known, keys, runs, seed)
    months = [baselines.add_months(known.month, h) for h in range(1, horizons + 1)]
    base = {t: baselines.forecasts(known.rates[t], months, regular=t != "removals_to_date") for t in TARGETS}
    rows = []
    for target, h, month, key in keys:
        m = (model or {}).get((target, key))
        scale = _scale(target, month, key)
        row = {"known_month": known.month, "target": target, "horizon": h, "month": month, "key": key,
               "actual": actual.values[target][key], "model": m["p50"] if m else None,
               "monte_carlo": {k: m[k] for k in intervals.RUN_PERCENTILES} if m else None}
        for name, by_month in base[target].items():
            row[name] = None if by_month[month] is None else by_month[month] * scale
        # A value no method could forecast (e.g. book-outs before any table listed removals) is not scored.
        if any(row[m] is not None for m in METHODS):
            rows.append(row)
    return rows, note


def _pct(forecast: float, actual: float) -> float:
    return 100.0 * (forecast - actual) / actual


def _summary(errors: list[float]) -> dict[str, Any]:
    e = np.asarray(errors, dtype=float)
    return {"n": len(e), "mape": round(float(np.abs(e).mean()), 2) if len(e) else None,
            "bias": round(float(e.mean()), 2) if len(e) else None}


def _score(rows: list[dict]) -> dict[str, Any]:
    """n, MAPE and bias of each method over ``rows``, and the model against each baseline on their common rows."""
    out: dict[str, Any] = {"n": len(rows)}
    for method in METHODS:
        out[method] = _summary([_pct(r[method], r["actual"]) for r in rows if r[method] is not None])
    out["model_vs"] = {}
    for name in baselines.BASELINES:
        both = [r for r in rows if r["model"] is not None and r[name] is not None]
        model, other = _summary([_pct(r["model"], r["actual"]) for r in both]), _summary(
            [_pct(r[name], r["actual"]) for r in both])
        out["model_vs"][name] = {"n": len(both), "model_mape": model["mape"], "baseline_mape": other["mape"],
                                 "model_beats": None if not both else bool(model["mape"] < other["mape"])}
    return out


def _scores(rows: list[dict], horizons: int) -> tuple[list[dict], list[dict]]:
    per_horizon = [{"target": t, "horizon": h, **_score([r for r in rows if r["target"] == t and r["horizon"] == h])}
                   for t in TARGETS for h in range(1, horizons + 1)]
    per_target = [{"target": t, "horizon": "all", **_score([r for r in rows if r["target"] == t])} for t in TARGETS]
    return per_horizon, per_target


def _verdicts(per_target: list[dict]) -> list[str]:
    """One plain sentence per target: which baselines the model beats over all horizons (lower MAPE)."""
    lines = []
    for s in per_target:
        name = TARGET_NAMES[s["target"]]
        if not s["model"]["n"]:
            lines.append(f"{name}: the model made no scored forecast.")
            continue
        parts = []
        for b, c in s["model_vs"].items():
            if c["n"]:
                verdict = "beats" if c["model_beats"] else "does not beat"
                parts.append(f"{verdict} {b} ({c['model_mape']:.1f}% against {c['baseline_mape']:.1f}%, n={c['n']})")
            else:
                parts.append(f"has no forecast in common with {b}")
        lines.append(f"{name}, all horizons, MAPE: the model " + "; ".join(parts) + ".")
    return lines


def _with_bands(rows: list[dict], states: list[Known]) -> None:
    """Each model forecast's empirical band (from earlier origins' errors, values as then published)."""
    scored = [r for r in rows if r["model"] is not None and r["model"] > 0]
    forecasts = [intervals.Forecast(r["order"], r["target"], r["horizon"], r["key"], r["model"]) for r in scored]

    def known_value(order: int, target: str, key: date) -> float | None:
        return states[order].values[target].get(key)

    for r, band in zip(scored, intervals.rolling_bands(forecasts, known_value)):
        r["empirical"] = {k: v for k, v in band.items() if k in intervals.LEVELS and v is not None}
        r["errors_before"] = band["errors"]


def _coverage(rows: list[dict]) -> dict[str, Any]:
    banded = [r for r in rows if r.get("empirical")]
    modelled = [r for r in rows if r["monte_carlo"]]
    return {
        "method": ("empirical relative errors of earlier origins (split conformal, rolling), at least "
                   f"{intervals.MIN_ERRORS} errors"),
        "empirical": {"all_targets": intervals.coverage(banded, "empirical"),
                      **{t: intervals.coverage([r for r in banded if r["target"] == t], "empirical") for t in TARGETS}},
        "monte_carlo_same_pairs": {"all_targets": intervals.coverage(banded, "monte_carlo"),
                                   **{t: intervals.coverage([r for r in banded if r["target"] == t], "monte_carlo")
                                      for t in TARGETS}},
        "monte_carlo_all_model_pairs": intervals.coverage(modelled, "monte_carlo"),
    }


def _round(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 1)
    if isinstance(v, (tuple, list)):
        return [_round(x) for x in v]
    if isinstance(v, dict):
        return {k: _round(x) for k, x in v.items()}
    return v


def _per_origin(rows: list[dict]) -> list[dict]:
    return [{"origin": r["origin"].isoformat(), "known_month": r["known_month"].isoformat()[:7],
             "target": r["target"], "horizon": r["horizon"], "month": r["month"].isoformat()[:7],
             "table_date": r["key"].isoformat() if r["target"] == "removals_to_date" else None,
             "actual": r["actual"], **{m: _round(r[m]) for m in METHODS},
             "band_80": _round((r.get("empirical") or {}).get("80")),
             "band_95": _round((r.get("empirical") or {}).get("95")),
             "monte_carlo_80": _round((r["monte_carlo"] or {}).get("80")),
             "monte_carlo_95": _round((r["monte_carlo"] or {}).get("95"))} for r in rows]


def evaluate(con_or_wh, *, horizons: int = 6, runs: int = 200, seed: int = 0, first_origin: date = FIRST_ORIGIN,
             progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Rolling-origin evaluation of the capacity model's status-quo forecast against four baselines.

    ``con_or_wh``: the warehouse's Ibis connection or a Warehouse. ``progress(done, total)`` is called after
    each distinct origin's forecast. Returns a JSON-ready dict: definitions, origins, per_horizon, per_target,
    verdicts, coverage, baselines, per_origin, elapsed_s.
    """
    t0 = time.perf_counter()
    check_options(horizons, runs, seed)
    history = read_history(_ibis_con(con_or_wh))
    actual = _known(history, None)
    origins, states = _origins(history, first_origin, horizons, actual)
    order = {key: i for i, key in enumerate(dict.fromkeys(o["state"] for o in origins))}
    first_day = {}
    for o in origins:
        first_day.setdefault(o["state"], o["origin"])
    rows, notes = [], {}
    for done, (key, i) in enumerate(order.items(), 1):
        state_rows, notes[key] = _state_rows(history, states[key], actual, horizons, runs, seed)
        rows += [{**r, "order": i, "origin": first_day[key]} for r in state_rows]
        if progress:
            progress(done, len(order))
    _with_bands(rows, [states[key] for key in order])
    per_horizon, per_target = _scores(rows, horizons)
    return {
        "model": MODEL_DESCRIPTION, "definitions": definitions.EVALUATION,
        "horizons": horizons, "runs": runs, "seed": seed,
        "origins": _origins_summary(origins, states, first_day, notes),
        "per_horizon": per_horizon, "per_target": per_target, "verdicts": _verdicts(per_target),
        "coverage": _coverage(rows),
        "baselines": {"model": MODEL_DESCRIPTION, **baselines.DESCRIPTIONS},
        "per_origin": _per_origin(rows),
        "elapsed_s": round(time.perf_counter() - t0, 2),
    }


def _origins_summary(origins: list[dict], states: dict[int, Known], first_day: dict, notes: dict) -> dict[str, Any]:
    return {
        "count": len(origins), "distinct_known_data": len(first_day),
        "first": origins[0]["origin"].isoformat(), "last": origins[-1]["origin"].isoformat(),
        "list": [{"origin": o["origin"].isoformat(), "kind": o["kind"],
                  "known_month": states[o["state"]].month.isoformat()[:7],
                  "forecast_of": first_day[o["state"]].isoformat(), "model": notes[o["state"]]} for o in origins],
    }
