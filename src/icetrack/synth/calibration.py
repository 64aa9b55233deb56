"""Calibration of the synthetic generator to the bundled national figures (latest vintage of each figure),
and the stay-length model fitted to the official ALOS.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from icetrack.domain import rules
from icetrack.domain.rules import (
    BOND_PARTS,
    REMOVAL_REASON,
    TOTAL,
    is_partial,
    newest_first_key,
)
from icetrack.synth.parameters import (
    AGENCIES,
    BURN_IN_MONTHS,
    CRIMINALITY,
    FIT_ITERATIONS,
    FIT_WARMUP_MONTHS,
    KERNEL_DAYS,
    STAY_SIGMA,
    add_months,
    month_starts,
    norm_cdf,
)


@dataclass
class Calibration:
    """Official figures on a monthly grid (``months``), latest vintage, partial months filled."""

    months: list[date]
    start_index: int  # index of the month of ``start``
    book_ins: dict[str, np.ndarray]  # agency -> per month
    mix: dict[str, np.ndarray]  # agency -> (month, criminality) book-in (flow) shares
    alos: dict[str, np.ndarray]  # agency -> (month, criminality) official ALOS, NaN where missing
    alos_total: np.ndarray  # per month, agency Total x criminality Total
    reasons: list[str]
    reason_mix: np.ndarray  # (month, criminality, reason) shares of final book-outs
    removal_share: np.ndarray  # per month: Release to Remove / Total final book-outs (criminality Total)
    book_outs: np.ndarray  # per month: Total final book-outs
    book_out_criminality: np.ndarray  # (month, criminality) shares of final book-outs
    adp: np.ndarray  # per month, agency Total x criminality Total
    official_months: dict[str, list[str]]  # measure -> months (ISO) with an official complete figure
    filled_months: dict[str, list[str]]  # measure -> months filled from the nearest complete month
    inputs: list[dict[str, Any]]  # editions used, per measure
    bundle: dict[str, Any]


def _bundle_path() -> Path:
    from icetrack.sources.ice_detention_bundle import bundle_path

    return bundle_path()


def _query_latest(path: Path, first: date, last: date) -> list[tuple]:
    """Monthly figures of the calibration measures in [first, last]: the latest vintage of each figure
    (measure, month, dims) by :func:`icetrack.domain.rules.newest_first_key`."""
    import pyarrow.compute as pc

    t = pq.ParquetFile(path).read(columns=[
        "measure", "period_start", "period_end", "grain", "dims", "dims_key", "value", "edition_file_name",
        "edition_sha256", "edition_as_of", "edition_published_on", "edition_note", "edition_source"])
    keep = pc.and_(pc.equal(t["grain"], "month"),
                   pc.is_in(t["measure"], pa.array(["book_ins", "book_outs", "alos", "adp"])))
    keep = pc.and_(keep, pc.and_(pc.greater_equal(t["period_start"], pa.scalar(first, pa.date32())),
                                 pc.less_equal(t["period_start"], pa.scalar(last, pa.date32()))))
    t = t.filter(keep)
    best: dict[tuple, tuple] = {}
    for r in t.to_pylist():
        key = (r["measure"], r["period_start"], r["period_end"], r["dims_key"])
        # the latest-vintage rule, as the warehouse applies it (the bundle loads in one transaction, so the
        # ingestion time ties and the edition id decides)
        rank = newest_first_key(r["edition_as_of"], r["edition_published_on"], None,
                                f"{r['edition_source']}:{r['edition_sha256'][:16]}")
        if key not in best or rank < best[key][0]:
            best[key] = (rank, r)
    out = []
    for key in sorted(best, key=lambda k: (k[0], k[1], k[3])):
        r = best[key][1]
        dims = dict(r["dims"] or [])
        out.append((r["measure"], r["period_start"], r["period_end"], dims.get("agency"), dims.get("criminality"),
                    dims.get("release_reason"), r["value"], r["edition_file_name"], r["edition_sha256"],
                    r["edition_as_of"], r["edition_published_on"], r["edition_note"]))
    return out


def _fill(values: np.ndarray, have: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill rows (axis 0) without a complete official figure from the nearest month that has one."""
    idx = np.flatnonzero(have)
    if len(idx) == 0:
        raise ValueError("no complete official month in range")
    filled = values.copy()
    missing = np.flatnonzero(~have)
    for i in missing:
        j = idx[np.argmin(np.abs(idx - i) * 2 + (idx > i))]  # nearest, earlier month on ties
        filled[i] = values[j]
    return filled, missing


@functools.lru_cache(maxsize=8)
def load_calibration(start: date = date(2023, 10, 1), end: date = date(2025, 8, 31),
                     path: str | None = None) -> Calibration:
    path = Path(path) if path else _bundle_path()
    first, months, mi = _month_index(start, end)
    M, C = len(months), len(CRIMINALITY)
    ci = {c: i for i, c in enumerate(CRIMINALITY)}
    rows = _query_latest(path, first, months[-1])
    book_ins = {a: np.zeros(M) for a in AGENCIES}
    have_bi = {a: np.zeros(M, bool) for a in AGENCIES}
    adp = {a: np.full((M, C), np.nan) for a in AGENCIES}
    alos = {a: np.full((M, C), np.nan) for a in AGENCIES}
    alos_total, adp_total = np.full(M, np.nan), np.full(M, np.nan)
    reason_names: list[str] = []
    bo: dict[tuple[int, str, str], float] = {}
    editions: dict[tuple[str, str], dict[str, Any]] = {}
    for (measure, ps, pe, agency, crim, reason, value, fname, sha, as_of, pub, note) in rows:
        if value is None or ps not in mi:
            continue
        if is_partial(pe, as_of):  # pulled before the month ended
            continue
        m = mi[ps]
        key = (measure, fname)
        e = editions.setdefault(key, {"measure": measure, "edition_file_name": fname, "edition_sha256": sha,
                                      "edition_as_of": str(as_of) if as_of else None,
                                      "edition_published_on": str(pub) if pub else None,
                                      "edition_note": note, "months": set(), "figures": 0})
        e["months"].add(ps.isoformat()[:7])
        e["figures"] += 1
        if measure == "book_ins" and agency in book_ins:
            book_ins[agency][m] = value
            have_bi[agency][m] = True
        elif measure in ("adp", "alos"):
            if agency == "Total" and crim == "Total":
                (adp_total if measure == "adp" else alos_total)[m] = value
            elif agency in AGENCIES and crim in ci:
                (adp if measure == "adp" else alos)[agency][m, ci[crim]] = value
        elif measure == "book_outs" and reason and crim:
            bo[(m, crim, reason)] = value
            if reason not in ("Total", *BOND_PARTS) and reason not in reason_names:
                reason_names.append(reason)

    official: dict[str, list[str]] = {}
    filled_log: dict[str, list[str]] = {}

    def iso(ix):
        return [months[i].isoformat()[:7] for i in ix]

    for a in AGENCIES:
        official[f"book_ins.{a}"] = iso(np.flatnonzero(have_bi[a]))
        book_ins[a], miss = _fill(book_ins[a], have_bi[a])
        filled_log[f"book_ins.{a}"] = iso(miss)

    # Book-in criminality mix per agency and month: Little's law, inflow ~ ADP / ALOS of the cell.
    mix = {}
    for a in AGENCIES:
        with np.errstate(invalid="ignore", divide="ignore"):
            flow = adp[a] / alos[a]
        ok = np.all(np.isfinite(flow) & (flow >= 0), axis=1) & (np.nansum(flow, axis=1) > 0)
        shares = np.where(ok[:, None], flow / np.where(ok, flow.sum(axis=1), 1)[:, None], 0)
        mix[a], miss = _fill(shares, ok)
        filled_log[f"criminality_mix.{a}"] = iso(miss)
        official[f"alos.{a}"] = iso(np.flatnonzero(np.all(np.isfinite(alos[a]) & (alos[a] > 0), axis=1)))

    # Book-out reasons by month and criminality (Bonded Out already includes the two bond parts).
    reason_names.sort(key=lambda r: (r != REMOVAL_REASON, r))
    rmix, removal_share, bo_total, bo_crim, have_r = _book_out_mix(bo, reason_names, M)
    official["book_outs"] = iso(np.flatnonzero(have_r))
    if have_r.any():
        rmix, miss = _fill(rmix, have_r)
        filled_log["book_outs"] = iso(miss)
    else:
        raise ValueError(f"{path}: no book-out reasons in {months[0]}..{months[-1]}")

    inputs = _inputs(editions)
    bundle = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    return Calibration(
        months=months, start_index=mi[date(start.year, start.month, 1)], book_ins=book_ins, mix=mix, alos=alos,
        alos_total=alos_total, reasons=reason_names, reason_mix=rmix, removal_share=removal_share,
        book_outs=bo_total, book_out_criminality=bo_crim, adp=adp_total, official_months=official,
        filled_months={k: v for k, v in filled_log.items() if v}, inputs=inputs, bundle=bundle)


# ================================================================================================ stay model

@dataclass
class StayModel:
    """Lognormal stay length per (agency, criminality, book-in month): location ``mu``, shape STAY_SIGMA."""

    mu: dict[str, np.ndarray]  # agency -> (month, criminality)
    fit: dict[str, Any] = field(default_factory=dict)


def fit_stay_model(cal: Calibration, sigma: float = STAY_SIGMA, iterations: int = FIT_ITERATIONS) -> StayModel:
    """Fit the lognormal location per (agency, criminality, book-in month) to the official ALOS.

    Expected book-outs are computed on a daily grid: a book-in month with constant daily rate, convolved with the
    stay kernel, gives book-outs (and their summed stay lengths) per book-out month; the model ALOS of a book-out
    month is their ratio. Each iteration moves a book-in month's location by the (exit-weighted) log ratio of
    official to model ALOS over the book-out months its stays end in. Book-out months in the first
    ``FIT_WARMUP_MONTHS`` of the grid are not fitted (their earlier stays are outside the grid).
    """
    M = len(cal.months)
    ndays = np.array([((add_months(m, 1)) - m).days for m in cal.months])
    day0 = np.concatenate([[0], np.cumsum(ndays)])  # first grid day of each month
    K = KERNEL_DAYS
    J = K + ndays.max()  # book-out offsets from the first day of the book-in month
    days = day0[:M, None] + np.arange(J)[None, :]
    om = np.minimum(np.searchsorted(day0, days, side="right") - 1, M)  # out-month index, M = beyond the grid
    flat = (np.arange(M)[:, None] * (M + 1) + om).ravel()
    edges = np.arange(K, dtype=float) + 0.5  # book-in at mid-day: offset k <=> L in [k - 0.5, k + 0.5)
    ln = np.log(edges)[None, :]
    jj = np.arange(J)[None, :]
    lag = jj - ndays[:, None]  # conv(ones(nd), p)[j] = cs[j] - cs[j - nd]

    def cum_at(cs, idx):
        out = np.take_along_axis(cs, np.clip(idx, 0, K - 1), axis=1)
        return np.where(idx < 0, 0.0, out)

    mu_all, fit = {}, {}
    for a in AGENCIES:
        mu = np.zeros((M, len(CRIMINALITY)))
        for c in range(len(CRIMINALITY)):
            obs = cal.alos[a][:, c]
            good = np.isfinite(obs) & (obs > 0)
            if good.any():
                prior, _ = _fill(np.where(good, obs, 0.0), good)
            else:
                prior = np.full(M, float(np.nanmean(cal.alos_total)))
            target = np.where(good, obs, np.nan)
            target[:FIT_WARMUP_MONTHS] = np.nan
            fitted = np.isfinite(target)
            m_mu = np.log(prior) - sigma * sigma / 2
            rate = (cal.book_ins[a] * cal.mix[a][:, c] / ndays)[:, None]  # book-ins per day
            model_alos = np.full(M, np.nan)
            for _ in range(iterations):
                cdf = norm_cdf((ln - m_mu[:, None]) / sigma)  # (M, K) CDF of L at the bin edges
                pe = np.exp(m_mu + sigma * sigma / 2)[:, None] * norm_cdf((ln - m_mu[:, None] - sigma * sigma) / sigma)
                e = rate * (cum_at(cdf, jj) - cum_at(cdf, lag))
                s = rate * (cum_at(pe, jj) - cum_at(pe, lag))
                exits = np.bincount(flat, weights=e.ravel(), minlength=M * (M + 1)).reshape(M, M + 1)[:, :M]
                lsum = np.bincount(flat, weights=s.ravel(), minlength=M * (M + 1)).reshape(M, M + 1)[:, :M]
                with np.errstate(invalid="ignore", divide="ignore"):
                    model_alos = lsum.sum(axis=0) / exits.sum(axis=0)
                    ratio = np.where(fitted, target / model_alos, 1.0)
                w = exits * fitted[None, :]
                ws = w.sum(axis=1)
                upd = np.where(ws > 0, (w * np.nan_to_num(ratio, nan=1.0)[None, :]).sum(axis=1)
                               / np.where(ws > 0, ws, 1), 1.0)
                m_mu = m_mu + 0.8 * np.log(np.clip(upd, 0.5, 2.0))
            mu[:, c] = m_mu
            err = (model_alos - target) / target
            fit[f"{a}|{CRIMINALITY[c]}"] = {
                "months_fitted": int(fitted.sum()),
                "max_abs_rel_error": round_or_none(np.nanmax(np.abs(err[fitted]))) if fitted.any() else None,
                "median_abs_rel_error": round_or_none(np.nanmedian(np.abs(err[fitted]))) if fitted.any() else None,
            }
        mu_all[a] = mu
    return StayModel(mu=mu_all, fit=fit)


def round_or_none(x, nd=4):
    """``x`` rounded to ``nd`` places; None for None, NaN or infinity (the manifest is JSON, which has no NaN)."""
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else round(float(x), nd)


def _inputs(editions: dict) -> list[dict[str, Any]]:
    """The editions used, per measure, with the span of months each gave."""
    inputs = []
    for e in sorted(editions.values(), key=lambda e: (e["measure"], e["edition_as_of"] or "", e["edition_file_name"])):
        ms = sorted(e.pop("months"))
        e["months_first"], e["months_last"], e["n_months"] = ms[0], ms[-1], len(ms)
        inputs.append(e)
    return inputs


def _book_out_mix(bo: dict, reason_names: list[str], M: int):
    """Per month: the reason mix by criminality, the removal share (:func:`icetrack.domain.rules.removal_share`),
    total final book-outs, their criminality mix, and whether the month lists reasons."""
    C = len(CRIMINALITY)
    ci = {c: i for i, c in enumerate(CRIMINALITY)}
    R = len(reason_names)
    rmix = np.zeros((M, C, R))
    total_mix = np.zeros((M, R))
    removal_share = np.full(M, np.nan)
    bo_total = np.full(M, np.nan)
    bo_crim = np.full((M, C), np.nan)
    have_r = np.zeros(M, bool)
    for m in range(M):
        t = np.array([bo.get((m, "Total", r), 0.0) for r in reason_names])
        if t.sum() > 0:
            total_mix[m] = t / t.sum()
            have_r[m] = True
            tot = bo.get((m, "Total", "Total"), t.sum())
            bo_total[m] = tot
            removal_share[m] = rules.removal_share(bo.get((m, TOTAL, REMOVAL_REASON), 0.0), tot)
        for c in CRIMINALITY:
            v = np.array([bo.get((m, c, r), 0.0) for r in reason_names])
            if v.sum() > 0:
                rmix[m, ci[c]] = v / v.sum()
                bo_crim[m, ci[c]] = v.sum()
            elif t.sum() > 0:
                rmix[m, ci[c]] = total_mix[m]
    bo_crim = bo_crim / np.nansum(bo_crim, axis=1, keepdims=True)
    return rmix, removal_share, bo_total, bo_crim, have_r


def _month_index(start: date, end: date) -> tuple[date, list[date], dict[date, int]]:
    """The monthly grid: from ``BURN_IN_MONTHS`` before the month of ``start`` to ``end``, and each month's index."""
    first = add_months(date(start.year, start.month, 1), -BURN_IN_MONTHS)
    months = month_starts(first, end)
    return first, months, {m: i for i, m in enumerate(months)}
