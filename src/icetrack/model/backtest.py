"""Back-test of the capacity model: calibrate on the editions public on a date, project, score against the
figures published later (latest vintage), beside a naive last-value-carried-forward baseline."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import ibis
import numpy as np
import pandas as pd

from icetrack.domain import definitions
from icetrack.domain.rules import TOTAL
from icetrack.metrics import detention as det
from icetrack.model.calibration import (
    AGENCIES,
    Calibration,
    _ibis_con,
    calibrate,
    iso_date,
)
from icetrack.model.stock_flow import (
    MAX_DAYS,
    _bands,
    _draw,
    _json_number,
    check_run_options,
    simulate,
)
from icetrack.warehouse.vintage import latest_targets


def _months_after(first: date, second: date) -> int:
    return (second.year - first.year) * 12 + second.month - first.month



def _pct(model: float, actual: float) -> float:
    return 100.0 * (model - actual) / actual



def _scored(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-horizon errors of the model's median and of the naive baseline, and their summaries.

    MAPE = mean |model - actual| / actual; bias = mean (model - actual) / actual (negative: too low), in %.
    """
    for r in rows:
        r["model_error_pct"] = round(_pct(r["model"]["p50"], r["actual"]), 2)
        r["naive_error_pct"] = round(_pct(r["naive"], r["actual"]), 2)
        r["in_band"] = r["model"]["p5"] <= r["actual"] <= r["model"]["p95"]
    if not rows:
        return {"per_horizon": [], "n": 0}
    model = np.array([r["model_error_pct"] for r in rows])
    naive = np.array([r["naive_error_pct"] for r in rows])
    return {"per_horizon": rows, "n": len(rows),
            "model": {"mape": round(float(np.abs(model).mean()), 2), "bias": round(float(model.mean()), 2)},
            "naive": {"mape": round(float(np.abs(naive).mean()), 2), "bias": round(float(naive.mean()), 2)},
            "beats_naive": bool(np.abs(model).mean() < np.abs(naive).mean()),
            "in_band": int(sum(r["in_band"] for r in rows))}



def _complete(frame: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    f = frame[~frame["partial"].astype(bool)].copy()
    f["month"] = pd.to_datetime(f["month"]).dt.date
    return f[(f.month >= first) & (f.month <= last)].set_index("month").sort_index()



def _announced_target(con, through: date) -> dict[str, Any] | None:
    """The latest national arrests target announced on or before ``through`` (what was known then)."""
    t = latest_targets(con)
    t = t.filter((t.kind == "target") & (t.concept == "arrests") & (t.scope == "national")
                 & (t.announced_on <= through)).order_by([ibis.desc(t.announced_on), t.value_low]).to_pandas()
    if t.empty:
        return None
    r = t.iloc[0]
    begins = r.effective_from if not pd.isna(r.effective_from) else r.announced_on
    return {"target_id": r.target_id, "label": r.label, "arrests_per_day": float(r.value_low),
            "from": pd.Timestamp(begins).date().isoformat(), "reported_by": r.reported_by,
            "edition_id": r.edition_id, "source_url": r.source_url}



def backtest(con_or_wh, *, through: date = date(2025, 1, 31), until: date = date(2025, 8, 31), runs: int = 200,
             seed: int = 0) -> dict[str, Any]:
    """Calibrate on editions published by ``through``, project to ``until``, score against the latest vintage.

    Three projections share the calibrated stays and book-out shares: ``observed_book_ins`` feeds the
    book-ins the workbooks later reported (the scenario input that materialised; no bed cap, since realised
    book-ins already reflect the beds ICE found), testing the stock-and-flow itself; ``calibrated_book_ins``
    holds admissions at their calibrated rate, capped at the funded beds (a forecast with what was known);
    ``announced_target`` sets ICE arrests to the low end of the latest target announced by ``through``, from
    its effective date, capped at the funded beds. Naive baseline: the last complete month's value carried
    forward (ADP; book-outs and removals per day; the fiscal-year-to-date removals pace).
    """
    con = _ibis_con(con_or_wh)
    if until <= through:
        raise ValueError(f"until ({until}) must be after through ({through})")
    check_run_options(1, runs, seed)
    cal = calibrate(con, through)
    dates = pd.date_range(cal.start, until, freq="D")
    if len(dates) > MAX_DAYS:
        raise ValueError(f"the back-test spans {len(dates)} days; at most {MAX_DAYS}")
    first_scored = (pd.Timestamp(through) + pd.offsets.MonthBegin(1)).date()
    actual = _actuals(con, cal, until)
    draws = _draw(cal, runs, seed, None)
    modes = _modes(con, cal, through, dates, actual["book_ins"], draws)
    naive = _naive(cal)
    results = {name: _run_mode(mode, cal, dates, draws, actual, naive, through, first_scored)
               for name, mode in modes.items()}
    actual_history = det.latest_monthly(con, "adp", {"agency": TOTAL, "criminality": TOTAL}).to_pandas()
    actual_history = _complete(actual_history, (pd.Timestamp(cal.start) - pd.DateOffset(months=18)).date(), until)
    return {
        "model": "capacity stock-and-flow (icetrack.model.capacity)",
        "definitions": definitions.CAPACITY,
        "through": through.isoformat(), "until": until.isoformat(), "start": cal.start.isoformat(),
        "runs": runs, "seed": seed,
        "calibration": cal.to_dict(),
        "naive": {"adp": cal.last_adp[TOTAL], "month": cal.last_adp["month"], "edition_id": cal.last_adp["edition_id"],
                  "book_outs_per_day": naive["book_outs_per_day"],
                  "removals_from_detention_per_day": naive["removals_per_day"],
                  "removals_fytd_per_day": naive["fytd_per_day"]},
        "actual_adp": [{"month": m.isoformat()[:7], "value": float(r.value), "edition_id": r.edition_id,
                        "as_of": iso_date(pd.Timestamp(r.as_of).date())} for m, r in actual_history.iterrows()],
        "modes": results,
        "notes": _backtest_notes(cal, results, actual["book_ins"], actual["adp"], actual["detention_removals"],
                                 first_scored),
    }


def _actuals(con, cal: Calibration, until: date) -> dict[str, Any]:
    """The figures the projections are scored against (latest vintage), complete months from the start."""
    adp = {a: _complete(det.latest_monthly(con, "adp", {"agency": a, "criminality": TOTAL}).to_pandas(),
                        cal.start, until) for a in AGENCIES + (TOTAL,)}
    book_ins = det.book_ins_by_agency(con).to_pandas()
    book_ins = {a: _complete(book_ins[book_ins.agency == a], cal.start, until) for a in AGENCIES}
    book_outs = _complete(det.book_outs_total(con).to_pandas(), cal.start, until)
    detention_removals = _complete(det.removal_share(con).to_pandas(), cal.start, until)
    fytd = det.removals_to_date(con).to_pandas()
    fytd["as_of_date"] = pd.to_datetime(fytd["as_of_date"]).dt.date
    fytd0 = cal.removals_fytd
    fytd0_as_of = date.fromisoformat(fytd0["as_of"])
    fytd = fytd[(pd.to_datetime(fytd.period_start).dt.date == date.fromisoformat(fytd0["fiscal_year_start"]))
                & (fytd.as_of_date > fytd0_as_of) & (fytd.as_of_date <= until)].sort_values("as_of_date")
    return {"adp": adp, "book_ins": book_ins, "book_outs": book_outs, "detention_removals": detention_removals,
            "fytd": fytd}


def _modes(con, cal: Calibration, through: date, dates: pd.DatetimeIndex, book_ins: dict,
           draws: dict) -> dict[str, dict[str, Any]]:
    """The back-test's projections: observed book-ins, calibrated book-ins, the announced target."""
    beds = cal.beds["value"] if cal.beds else math.inf
    month_of_day = dates.to_period("M")
    modes: dict[str, dict[str, Any]] = {}
    observed_months = set.intersection(*[set(book_ins[a].index) for a in AGENCIES])
    if all(p.start_time.date() in observed_months for p in month_of_day.unique()):
        per_day = np.column_stack([[book_ins[a].loc[p.start_time.date(), "value"] / p.days_in_month
                                    for p in month_of_day] for a in AGENCIES])
        modes["observed_book_ins"] = {
            "description": "book-ins as the workbooks later reported them (latest vintage), no bed cap",
            "admissions": per_day[None, :, :], "beds": math.inf,
            "admissions_editions": sorted(set().union(*[set(book_ins[a].edition_id) for a in AGENCIES]))}
    modes["calibrated_book_ins"] = {
        "description": "book-ins held at the calibrated rate, capped at the funded beds",
        "admissions": draws["admissions"][:, None, :], "beds": beds, "admissions_editions": []}
    target = _announced_target(con, through)
    if target and cal.share_detained:
        scenario = np.repeat(draws["admissions"][:, None, :], len(dates), axis=1)
        scenario[:, dates >= pd.Timestamp(target["from"]), AGENCIES.index("ICE")] = (
            target["arrests_per_day"] * cal.share_detained["value"])
        modes["announced_target"] = {
            "description": (f"ICE arrests at {target['arrests_per_day']:,.0f} a day ({target['label']}) from "
                            f"{target['from']} x share detained {cal.share_detained['value']:.3f}, CBP book-ins at "
                            "the calibrated rate, capped at the funded beds"),
            "admissions": scenario, "beds": beds, "admissions_editions": [], "target": target}
    return modes


def _naive(cal: Calibration) -> dict[str, float]:
    """The naive baseline: the last complete month's rates carried forward, and the FYTD removals pace."""
    last = cal.monthly[-1]
    fytd0 = cal.removals_fytd
    fytd0_days = (date.fromisoformat(fytd0["as_of"]) - date.fromisoformat(fytd0["fiscal_year_start"])).days + 1
    return {"book_outs_per_day": last["book_outs"]["total"] / last["days"],
            "removals_per_day": last["book_outs"]["removal"] / last["days"],
            "fytd_per_day": fytd0["value"] / fytd0_days}


def _run_mode(mode: dict, cal: Calibration, dates: pd.DatetimeIndex, draws: dict, actual: dict, naive: dict,
              through: date, first_scored: date) -> dict[str, Any]:
    """Simulate one projection and score it month by month and on every later removals-to-date figure."""
    sim = simulate(np.array([[cal.last_adp[a] for a in AGENCIES]]), mode["admissions"], draws["stays"],
                   mode["beds"], len(dates))
    removals = sim["book_outs"] * draws["removal_share"][:, None]
    monthly, scored = _monthly_scores(sim, removals, cal, dates, actual, naive, through, first_scored)
    return {"description": mode["description"], "beds": _json_number(mode["beds"]),
            "admissions_editions": mode["admissions_editions"],
            **({"target": mode["target"]} if "target" in mode else {}),
            "monthly": monthly, "adp": _scored(scored["adp"]), "book_outs": _scored(scored["book_outs"]),
            "removals_from_detention": _scored(scored["removals"]),
            "removals_to_date": _scored(_to_date_rows(removals, cal, dates, actual["fytd"], naive, through))}


def _month_bands(sim: dict, removals: np.ndarray, i: np.ndarray, month: date) -> dict[str, Any]:
    return {"month": month.isoformat()[:7], "adp": _bands(sim["population"][:, i].mean(axis=1)),
            "adp_by_agency": {a: _bands(sim["population_by_agency"][:, i, k].mean(axis=1))
                              for k, a in enumerate(AGENCIES)},
            "admissions": _bands(sim["arrivals"][:, i].sum(axis=1)),
            "forced_releases": _bands(sim["forced_releases"][:, i].sum(axis=1)),
            "book_outs": _bands(sim["book_outs"][:, i].sum(axis=1)),
            "removals_from_detention": _bands(removals[:, i].sum(axis=1))}


def _monthly_scores(sim: dict, removals: np.ndarray, cal: Calibration, dates: pd.DatetimeIndex, actual: dict,
                    naive: dict, through: date, first_scored: date) -> tuple[list, dict[str, list]]:
    """Per calendar month: the projection's bands, and the rows scoring ADP, book-outs and removals."""
    adp, book_outs, detention_removals = actual["adp"], actual["book_outs"], actual["detention_removals"]
    month_of_day = dates.to_period("M")
    monthly, scored = [], {"adp": [], "book_outs": [], "removals": []}
    for period in month_of_day.unique():
        i = np.flatnonzero(month_of_day == period)
        month = period.start_time.date()
        row = _month_bands(sim, removals, i, month)
        monthly.append(row)
        if month < first_scored:
            continue
        horizon = _months_after(through, month)
        if month in adp[TOTAL].index:
            a = adp[TOTAL].loc[month]
            scored["adp"].append({"month": row["month"], "horizon_months": horizon, "actual": float(a.value),
                                  "actual_edition": a.edition_id, "model": row["adp"], "naive": cal.last_adp[TOTAL],
                                  "by_agency": {ag: {"actual": float(adp[ag].loc[month, "value"]),
                                                     "model_p50": row["adp_by_agency"][ag]["p50"]}
                                                for ag in AGENCIES if month in adp[ag].index}})
        if month in book_outs.index:
            scored["book_outs"].append({"month": row["month"], "horizon_months": horizon,
                                        "actual": float(book_outs.loc[month, "value"]),
                                        "actual_edition": book_outs.loc[month, "edition_id"],
                                        "model": row["book_outs"],
                                        "naive": round(naive["book_outs_per_day"] * len(i), 1)})
        if month in detention_removals.index:
            scored["removals"].append({"month": row["month"], "horizon_months": horizon,
                                       "actual": float(detention_removals.loc[month, "removals"]),
                                       "actual_edition": detention_removals.loc[month, "edition_id"],
                                       "model": row["removals_from_detention"],
                                       "naive": round(naive["removals_per_day"] * len(i), 1)})
    return monthly, scored


def _to_date_rows(removals: np.ndarray, cal: Calibration, dates: pd.DatetimeIndex, fytd: pd.DataFrame,
                  naive: dict, through: date) -> list[dict[str, Any]]:
    """Removals to date: the calibration's FYTD figure plus the model's removals after its as-of date."""
    fytd0 = cal.removals_fytd
    fytd0_as_of = date.fromisoformat(fytd0["as_of"])
    cumulative = np.cumsum(removals + cal.other_removals_per_day["value"], axis=1)
    rows = []
    for r in fytd.itertuples():
        end = dates.get_loc(pd.Timestamp(r.as_of_date))
        begin = dates.get_loc(pd.Timestamp(fytd0_as_of)) if pd.Timestamp(fytd0_as_of) in dates else None
        added = cumulative[:, end] - (cumulative[:, begin] if begin is not None else 0.0)
        days_to_date = (r.as_of_date - date.fromisoformat(fytd0["fiscal_year_start"])).days + 1
        rows.append({"as_of": r.as_of_date.isoformat(), "horizon_months": _months_after(through, r.as_of_date),
                     "actual": float(r.value), "actual_edition": r.edition_id,
                     "model": _bands(fytd0["value"] + added),
                     "naive": round(naive["fytd_per_day"] * days_to_date, 1)})
    return rows


def _backtest_notes(cal: Calibration, results: dict, book_ins: dict, adp: dict, detention_removals: pd.DataFrame,
                    first_scored: date) -> list[str]:
    """What the scores say and what changed after the calibration date, measured on the workbooks."""
    notes = []
    for name, r in results.items():
        s = r["adp"]
        if s["n"]:
            notes.append(f"{name}: ADP MAPE {s['model']['mape']:.1f}% (bias {s['model']['bias']:+.1f}%) against "
                         f"{s['naive']['mape']:.1f}% ({s['naive']['bias']:+.1f}%) for the last value carried forward; "
                         f"{'beats' if s['beats_naive'] else 'does not beat'} the naive baseline; actual inside the "
                         f"5-95% band in {s['in_band']} of {s['n']} months.")
    observed = results.get("observed_book_ins", {}).get("adp", {}).get("per_horizon", [])
    for a in AGENCIES:
        errors = [abs(_pct(r["by_agency"][a]["model_p50"], r["by_agency"][a]["actual"])) for r in observed
                  if a in r["by_agency"]]
        if errors:
            notes.append(f"observed_book_ins by arresting agency: the {a}-arrested population's MAPE is "
                         f"{np.mean(errors):.1f}%.")
    for a in AGENCIES:
        later = book_ins[a][book_ins[a].index >= first_scored]
        if len(later):
            rate = float((later.value / pd.to_datetime(later.index).days_in_month).mean())
            notes.append(f"{a}-arrested book-ins: {cal.admissions_per_day[a]['mean']:,.0f} a day in the calibration "
                         f"months, {rate:,.0f} a day on average in the months scored.")
        both = later.index.intersection(adp[a].index)
        if len(both):
            stay = float((adp[a].loc[both, "value"] / (later.loc[both, "value"]
                                                        / pd.to_datetime(both).days_in_month)).mean())
            notes.append(f"{a} Little's-law stay (ADP / book-ins per day): {cal.stay_days[a]['mean']:.1f} days "
                         f"calibrated, {stay:.1f} days in the months scored.")
    later = detention_removals[detention_removals.index >= first_scored]
    if len(later):
        release_share = float((later.releases / later.book_outs).mean())
        notes.append(f"Share of book-outs that were releases: {cal.book_out_shares['release']['mean']:.1%} calibrated, "
                     f"{release_share:.1%} in the months scored (fewer releases keep people detained longer).")
    notes.append("Removals to date follow ICE's counting rule of each edition: from March 2025 they include Title 50 "
                 "expulsions, which no calibration before that date could anticipate.")
    return notes
