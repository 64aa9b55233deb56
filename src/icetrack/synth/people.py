"""One chunk of synthetic people: arrests, stays and stints, removals, encounters and detainers.

Every draw comes from one ``numpy`` generator in a fixed order, so a chunk is deterministic per seed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from icetrack.domain.rules import BONDED_OUT, REMOVAL_REASON
from icetrack.synth.calibration import (
    Calibration,
    StayModel,
    fit_stay_model,
    load_calibration,
)
from icetrack.synth.parameters import (
    _AOR_CBP,
    _AOR_ICE,
    _AOR_NAMES,
    _AOR_STATE_CUM,
    _AOR_STATE_ID,
    _AOR_TRANSFER,
    _CASE_CUM,
    _CAT_CARRY,
    _CAT_CBP,
    _CAT_ICE,
    _CAT_REM,
    _CIT,
    _CIT_CUM,
    _CONV,
    _CONV_CUM,
    _CONVICTED,
    _DISP,
    _DISP_CUM,
    _FAC_CODES,
    _FAC_NAMES,
    _GENDER,
    _GENDER_CUM,
    _JAIL_NAMES,
    _METHOD_CUM,
    _MEXICO,
    _OIV,
    _PORT_CUM,
    _PORTS,
    _STATES,
    AGE_MAX,
    AGE_MIN,
    AGE_SCALE,
    AGE_SHAPE,
    AGENCIES,
    BOND_MEDIAN,
    BOND_MIN,
    BOND_SIGMA,
    BOND_STEP,
    CAP_DETAINER,
    CAP_METHODS,
    CASE_CATEGORIES,
    CATEGORIES,
    CBP_METHOD,
    CRIMINALITY,
    DUP_ARREST_EXACT,
    DUP_ARREST_RATE,
    DUP_STINT_RATE,
    FACILITIES_PER_AOR,
    METHOD_EVENT,
    METHOD_PROGRAM,
    METHODS,
    P_BOND_SET_NOT_POSTED,
    P_BOOK_IN,
    P_REMOVED_NOT_BOOKED,
    REMOVAL_EXPEDITED,
    SHARE_REMOVAL_ONLY,
    STAY_SIGMA,
    TRANSFERRED,
    WEEKDAY_FACTORS,
    _add_months,
    _choice,
    _choice_grouped,
    _cum,
    _hex_ids,
    _norm_ppf,
    _norm_sf,
)


@dataclass
class _Plan:
    """Everything a chunk needs, computed once per release."""

    cal: Calibration
    stays: StayModel
    M0: date  # grid origin (day 0)
    start_day: int
    window_end_day: int  # last day (inclusive) of arrests / book-ins
    cutoff_sec: int  # last second in the data
    month_of_day: np.ndarray  # grid day -> month index (clipped to the grid)
    category_cum: np.ndarray
    category_expected: dict[str, float]
    ice_day_cum: np.ndarray
    cbp_day_cum: np.ndarray
    removal_day_cum: np.ndarray
    carry_cum: np.ndarray  # over (agency, criminality, pre-start day) flattened
    carry_index: np.ndarray  # (n, 3): agency, criminality, day
    scale: float  # synthetic people per national-equivalent person
    fit_summary: dict[str, Any]
    weekday_factors: tuple[float, ...]


def _month_grid(cal: Calibration):
    ndays = np.array([((_add_months(m, 1)) - m).days for m in cal.months])
    return ndays, np.concatenate([[0], np.cumsum(ndays)])


def _plan(start: date, end: date, cutoff: date) -> _Plan:
    cal = load_calibration(start, end)
    stays = _fitted_stays(start, end)
    M0 = cal.months[0]
    ndays, day0 = _month_grid(cal)
    M = len(cal.months)
    window_end = min(end, cutoff)
    start_day, wend_day = (start - M0).days, (window_end - M0).days
    cutoff_sec = ((cutoff - M0).days + 1) * 86400 - 1
    n_grid = day0[-1] + 4000
    month_of_day = np.minimum(np.searchsorted(day0, np.arange(n_grid), side="right") - 1, M - 1)
    days = np.arange(start_day, wend_day + 1)
    md = month_of_day[days]
    weekday = np.array([(M0 + timedelta(days=int(d))).weekday() for d in days[:7]])
    wf = np.array(WEEKDAY_FACTORS)[np.resize(weekday, len(days))]
    # ICE arrests: monthly book-in shape, weekday factors normalised within each month
    wf_month_sum = np.bincount(md, weights=wf, minlength=M)
    ice_w = cal.book_ins["ICE"][md] * wf / wf_month_sum[md]
    cbp_w = cal.book_ins["CBP"][md] / ndays[md]
    rem_w = np.nan_to_num(cal.removal_share * cal.book_outs)[md] / ndays[md]
    if rem_w.sum() <= 0:
        rem_w = np.ones(len(days))
    # in custody at start: pre-start book-ins x survival to the start
    carry_w, carry_ix = [], []
    pre = np.arange(0, start_day)
    for ai, a in enumerate(AGENCIES):
        for c in range(len(CRIMINALITY)):
            m = month_of_day[pre]
            rate = cal.book_ins[a][m] * cal.mix[a][m, c] / ndays[m]
            mu = stays.mu[a][m, c]
            surv = _norm_sf((np.log(start_day - pre - 0.5) - mu) / STAY_SIGMA)
            carry_w.append(rate * surv)
            carry_ix.append(np.column_stack([np.full(len(pre), ai), np.full(len(pre), c), pre]))
    carry_w = np.concatenate(carry_w) if carry_w else np.zeros(0)
    carry_ix = np.concatenate(carry_ix) if carry_ix else np.zeros((0, 3), int)
    expected = {
        "ice_arrest": ice_w.sum() / P_BOOK_IN,
        "cbp_book_in": cbp_w.sum(),
        "in_custody_at_start": float(carry_w.sum()),
    }
    base = sum(expected.values())
    expected["removal_only"] = base * SHARE_REMOVAL_ONLY / (1 - SHARE_REMOVAL_ONLY)
    total = sum(expected.values())
    cat_cum = _cum([expected[k] for k in CATEGORIES])
    fit_summary = dict(stays.fit)
    return _Plan(
        cal=cal, stays=stays, M0=M0, start_day=start_day, window_end_day=wend_day, cutoff_sec=cutoff_sec,
        month_of_day=month_of_day, category_cum=cat_cum, category_expected={k: float(v) for k, v in expected.items()},
        ice_day_cum=_cum(ice_w), cbp_day_cum=_cum(cbp_w), removal_day_cum=_cum(rem_w),
        carry_cum=_cum(carry_w) if carry_w.sum() > 0 else np.array([1.0]), carry_index=carry_ix,
        scale=1.0 / total, fit_summary=fit_summary, weekday_factors=WEEKDAY_FACTORS)


@functools.lru_cache(maxsize=8)
def _fitted_stays(start: date, end: date) -> StayModel:
    return fit_stay_model(load_calibration(start, end))


def _strings(labels, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(np.asarray(idx, dtype=np.int32), mask=None if valid is None else ~valid)
    return pa.array(list(labels), type=pa.string()).take(arr)


def _ts(plan: _Plan, sec: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    base = int((datetime.combine(plan.M0, datetime.min.time()) - datetime(1970, 1, 1)).total_seconds())
    us = (np.asarray(sec, dtype=np.int64) + base) * 1_000_000
    return pa.array(us, type=pa.timestamp("us"), mask=None if valid is None else ~valid)


def _f64(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.float64), type=pa.float64(), mask=None if valid is None else ~valid)


def _secs(days: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(days) * 86400.0).astype(np.int64)


def _sample_days(rng, cum: np.ndarray, first_day: int, n: int) -> np.ndarray:
    return first_day + np.searchsorted(cum, rng.random(n), side="right")


def _gen_chunk(plan: _Plan, rng: np.random.Generator, n: int) -> tuple[dict[str, pa.Table], dict[str, int]]:
    """One chunk of ``n`` people: the five tables and the people per category. The phases share their
    arrays through ``v`` and draw from ``rng`` in a fixed order: the same seed gives the same bytes."""
    v: dict[str, Any] = {}
    for phase in (_chunk_people, _chunk_stays, _chunk_stint_bounds, _chunk_stints, _chunk_arrests,
                  _chunk_removals, _chunk_encounters):
        phase(plan, rng, n, v)
    arrests = v["arrests"]
    cat = v["cat"]
    detainers = v["detainers"]
    encounters = v["encounters"]
    removals = v["removals"]
    stay_in_data = v["stay_in_data"]
    stints = v["stints"]
    counts = {c: int((cat == i).sum()) for i, c in enumerate(CATEGORIES)}
    counts["booked_in_and_in_data"] = int(stay_in_data.sum())
    return {"arrests": arrests, "detention_stints": stints, "removals": removals, "encounters": encounters,
            "detainers": detainers}, counts


def _chunk_people(plan: _Plan, rng: np.random.Generator, n: int, v: dict[str, Any]) -> None:
    """The people of a chunk: category, identifiers, demographics, event times, criminality and attributes."""
    cal, M = plan.cal, len(plan.cal.months)
    mod = plan.month_of_day
    cat = _choice(rng, plan.category_cum, n)
    ids = _hex_ids(rng, n)
    cit = _choice(rng, _CIT_CUM, n)
    gender = _choice(rng, _GENDER_CUM, n)
    age = np.minimum(AGE_MIN + rng.gamma(AGE_SHAPE, AGE_SCALE, n), AGE_MAX)

    agency = np.where((cat == _CAT_ICE), 0, 1).astype(np.int32)
    crim = np.zeros(n, dtype=np.int32)
    t_event = np.zeros(n)  # ICE: arrest; CBP: book-in; carry: book-in; removal-only: departure
    # --- ICE arrests: day by the ICE book-in monthly shape and weekday pattern, business-hours time
    ice = np.flatnonzero(cat == _CAT_ICE)
    hour = np.where(rng.random(len(ice)) < 0.75, np.clip(rng.normal(10.0, 3.0, len(ice)), 0, 23.99),
                    rng.random(len(ice)) * 24)
    t_event[ice] = _sample_days(rng, plan.ice_day_cum, plan.start_day, len(ice)) + hour / 24
    # --- CBP-arrested book-ins
    cbp = np.flatnonzero(cat == _CAT_CBP)
    t_event[cbp] = _sample_days(rng, plan.cbp_day_cum, plan.start_day, len(cbp)) + rng.random(len(cbp))
    # --- removal only (CBP turn-overs removed without ICE detention)
    rem = np.flatnonzero(cat == _CAT_REM)
    t_event[rem] = _sample_days(rng, plan.removal_day_cum, plan.start_day, len(rem)) + rng.random(len(rem))
    # --- in custody at start
    car = np.flatnonzero(cat == _CAT_CARRY)
    ci = np.searchsorted(plan.carry_cum, rng.random(len(car)), side="right")
    ci = np.minimum(ci, len(plan.carry_index) - 1)
    agency[car] = plan.carry_index[ci, 0]
    crim[car] = plan.carry_index[ci, 1]
    t_event[car] = plan.carry_index[ci, 2] + rng.random(len(car))

    # criminality of in-window people: book-in (flow) mix of the agency and month
    for a_i, a in enumerate(AGENCIES):
        sel = np.concatenate([ice] if a == "ICE" else [cbp, rem])
        cum = np.cumsum(cal.mix[a], axis=1)
        cum[:, -1] = 1.0
        crim[sel] = _choice_grouped(rng, cum, mod[t_event[sel].astype(np.int64)])

    aor = np.where(agency == 0, _choice(rng, _AOR_ICE, n), _choice(rng, _AOR_CBP, n)).astype(np.int32)
    criminal_group = (crim == _OIV).astype(np.int32)
    method = _choice_grouped(rng, _METHOD_CUM, criminal_group)
    case_cat = _choice_grouped(rng, _CASE_CUM, agency)
    conviction = _choice(rng, _CONV_CUM, n)
    has_conviction = crim == _CONVICTED
    disp = _choice(rng, _DISP_CUM, n)
    state = _AOR_STATE_ID[aor, _choice_grouped(rng, _AOR_STATE_CUM, aor)]
    v.update({k: x for k, x in locals().items() if k not in ("plan", "rng", "n", "v")})


def _chunk_stays(plan: _Plan, rng: np.random.Generator, n: int, v: dict[str, Any]) -> None:
    """Who is booked in, when, for how long (lognormal, carried-in stays conditional), and the book-out reason."""
    M = v["M"]
    agency = v["agency"]
    cal = v["cal"]
    car = v["car"]
    cat = v["cat"]
    cbp = v["cbp"]
    crim = v["crim"]
    ice = v["ice"]
    mod = v["mod"]
    t_event = v["t_event"]
    # --- booking and stays ------------------------------------------------------------------------
    booked = np.zeros(n, bool)
    t_in = np.full(n, np.nan)
    booked[ice] = rng.random(len(ice)) < P_BOOK_IN
    t_in[ice] = t_event[ice] + 2.0 * rng.random(len(ice)) ** 2  # 0-2 days after the arrest
    booked[cbp] = True
    t_in[cbp] = t_event[cbp]
    booked[car] = True
    t_in[car] = t_event[car]
    st = np.flatnonzero(booked)
    stin = t_in[st]
    m_in = np.minimum(stin.astype(np.int64), len(mod) - 1)
    mu = np.where(agency[st] == 0, plan.stays.mu["ICE"][mod[m_in], crim[st]], plan.stays.mu["CBP"][mod[m_in], crim[st]])
    length = np.exp(mu + STAY_SIGMA * rng.standard_normal(len(st)))
    # carried-in stays: conditional on lasting past the start (inverse CDF in the upper tail)
    is_car = cat[st] == _CAT_CARRY
    if is_car.any():
        a_min = plan.start_day - stin[is_car]
        z_a = (np.log(np.maximum(a_min, 1e-9)) - mu[is_car]) / STAY_SIGMA
        q = _norm_sf(z_a) * (1 - rng.random(int(is_car.sum())))
        z = -_norm_ppf(np.maximum(q, 1e-300))
        length[is_car] = np.maximum(np.exp(mu[is_car] + STAY_SIGMA * z), a_min + 1e-6)
    stout = stin + length
    in_sec, out_sec = _secs(stin), _secs(stout)
    stay_in_data = in_sec <= plan.cutoff_sec
    closed = out_sec <= plan.cutoff_sec
    m_out = mod[np.minimum(stout.astype(np.int64), len(mod) - 1)]
    rcum = np.cumsum(cal.reason_mix, axis=2)
    rcum[:, :, -1] = 1.0
    reason = _choice_grouped(rng, rcum.reshape(M * len(CRIMINALITY), -1), m_out * len(CRIMINALITY) + crim[st])
    removal_r = cal.reasons.index(REMOVAL_REASON) if REMOVAL_REASON in cal.reasons else -1
    bonded_r = cal.reasons.index(BONDED_OUT) if BONDED_OUT in cal.reasons else -1
    v.update({k: x for k, x in locals().items() if k not in ("plan", "rng", "n", "v")})


def _chunk_stint_bounds(plan: _Plan, rng: np.random.Generator, n: int, v: dict[str, Any]) -> None:
    """Stints of each stay (1-3: transfers), their bounds, bonds on the last stint, facilities."""
    aor = v["aor"]
    bonded_r = v["bonded_r"]
    closed = v["closed"]
    in_sec = v["in_sec"]
    length = v["length"]
    out_sec = v["out_sec"]
    reason = v["reason"]
    st = v["st"]
    stin = v["stin"]
    stout = v["stout"]
    # stints: 1-3 per stay (transfers), more likely for long stays
    p_tr = 0.6 * length / (length + 20.0)
    u = rng.random(len(st))
    nst = 1 + (u < p_tr) + (u < 0.35 * p_tr)
    f = np.sort(rng.random((len(st), 2)), axis=1)
    single = rng.random(len(st))
    bounds = np.empty((len(st), 4))
    bounds[:, 0] = stin
    bounds[:, 1] = np.where(nst == 1, stout, stin + np.where(nst == 2, single, f[:, 0]) * length)
    bounds[:, 2] = np.where(nst == 3, stin + f[:, 1] * length, stout)
    bounds[:, 3] = stout
    s_rep = np.repeat(np.arange(len(st)), nst)
    first_row = np.concatenate([[0], np.cumsum(nst)[:-1]])
    pos = np.arange(len(s_rep)) - first_row[s_rep]
    k_in, k_out = _secs(bounds[s_rep, pos]), _secs(bounds[s_rep, pos + 1])
    last = pos == nst[s_rep] - 1
    keep = k_in <= plan.cutoff_sec
    # bonds on the last stint: bonded-out stays post; some others have a bond set, not posted
    bonded = reason == bonded_r
    bond_set = bonded | (rng.random(len(st)) < P_BOND_SET_NOT_POSTED)
    bond_amt = np.maximum(np.round(BOND_MEDIAN * np.exp(BOND_SIGMA * rng.standard_normal(len(st))) / BOND_STEP)
                          * BOND_STEP, BOND_MIN)
    posted = bonded & closed
    # posted on the day of release: at most a day (and half the stay) before the book-out
    bond_date = out_sec - np.minimum((out_sec - in_sec) * 0.5 * rng.random(len(st)), 86_400).astype(np.int64)
    # facilities: the first in the person's AOR, transfers to an AOR drawn from the destination shares
    fac_aor = np.where(pos == 0, aor[st][s_rep], _choice(rng, _AOR_TRANSFER, len(s_rep)))
    fac = fac_aor * FACILITIES_PER_AOR + rng.integers(0, FACILITIES_PER_AOR, len(s_rep))
    v.update({k: x for k, x in locals().items() if k not in ("plan", "rng", "n", "v")})


def _chunk_stints(plan: _Plan, rng: np.random.Generator, n: int, v: dict[str, Any]) -> None:
    """The detention_stints table, with stint rows repeated differing only in bond amounts."""
    age = v["age"]
    agency = v["agency"]
    bond_amt = v["bond_amt"]
    bond_date = v["bond_date"]
    bond_set = v["bond_set"]
    cal = v["cal"]
    case_cat = v["case_cat"]
    cit = v["cit"]
    closed = v["closed"]
    conviction = v["conviction"]
    crim = v["crim"]
    fac = v["fac"]
    gender = v["gender"]
    has_conviction = v["has_conviction"]
    ids = v["ids"]
    in_sec = v["in_sec"]
    k_in = v["k_in"]
    k_out = v["k_out"]
    keep = v["keep"]
    last = v["last"]
    method = v["method"]
    out_sec = v["out_sec"]
    posted = v["posted"]
    reason = v["reason"]
    s_rep = v["s_rep"]
    st = v["st"]
    t_event = v["t_event"]
    rows = keep.copy()
    k = np.flatnonzero(rows)
    ks = s_rep[k]
    stint_closed = k_out[k] <= plan.cutoff_sec
    stay_closed = closed[ks]
    has_bond = last[k] & bond_set[ks]
    has_posted = last[k] & posted[ks] & stint_closed
    # duplicates differing only in bond amounts
    dup = rng.random(len(k)) < DUP_STINT_RATE
    has_bond = has_bond | dup  # a duplicated stint has two bond records: the original gets one too
    order = np.repeat(np.arange(len(k)), 1 + dup)
    is_copy = np.zeros(len(order), bool)
    is_copy[1:] = order[1:] == order[:-1]
    bump = np.where(is_copy, BOND_STEP * rng.integers(1, 11, len(order)), 0.0)
    k2, ks2 = k[order], ks[order]
    pst = st[ks2]
    det_reason_idx = np.where(last[k2], reason[ks2], -1)
    reason_labels = list(cal.reasons) + [TRANSFERRED]
    det_reason = np.where(det_reason_idx < 0, len(cal.reasons), det_reason_idx)
    m_cbp = agency[pst] == 1
    stints = pa.table({
        "unique_identifier": ids.take(pa.array(pst)),
        "book_in_date_time": _ts(plan, k_in[k2]),
        "detention_book_out_date_time": _ts(plan, k_out[k2], stint_closed[order]),
        "stay_book_in_date_time": _ts(plan, in_sec[ks2]),
        "stay_book_out_date_time": _ts(plan, out_sec[ks2], stay_closed[order]),
        "detention_facility_code": _strings(_FAC_CODES, fac[k2]),
        "detention_facility": _strings(_FAC_NAMES, fac[k2]),
        "detention_release_reason": _strings(reason_labels, det_reason, stint_closed[order]),
        "stay_release_reason": _strings(cal.reasons, reason[ks2], stay_closed[order]),
        "book_in_criminality": _strings(CRIMINALITY, crim[pst]),
        "apprehension_method": _strings(list(METHODS) + [CBP_METHOD], np.where(m_cbp, len(METHODS), method[pst])),
        "initial_bond_set_amount": _f64(bond_amt[ks2] + bump, has_bond[order]),
        "bond_posted_amount": _f64(bond_amt[ks2] + bump, has_posted[order]),
        "bond_posted_date": _ts(plan, bond_date[ks2], has_posted[order]),
        "case_category": _strings(CASE_CATEGORIES, case_cat[pst]),
        "most_serious_conviction": _strings(_CONV, conviction[pst], has_conviction[pst]),
        **_demographics(plan, cit, gender, age, pst, t_event[pst]),
    })
    v.update({k: x for k, x in locals().items() if k not in ("plan", "rng", "n", "v")})


def _chunk_arrests(plan: _Plan, rng: np.random.Generator, n: int, v: dict[str, Any]) -> None:
    """The arrests table (ICE-arrested people), with repeat rows within 24 hours."""
    age = v["age"]
    aor = v["aor"]
    case_cat = v["case_cat"]
    cit = v["cit"]
    conviction = v["conviction"]
    crim = v["crim"]
    disp = v["disp"]
    gender = v["gender"]
    has_conviction = v["has_conviction"]
    ice = v["ice"]
    ids = v["ids"]
    is_copy = v["is_copy"]
    method = v["method"]
    order = v["order"]
    state = v["state"]
    t_event = v["t_event"]
    # --- arrests (ICE-arrested people), with repeat rows within 24 hours ---------------------------------
    a_sec = _secs(t_event[ice])
    a_keep = ice[a_sec <= plan.cutoff_sec]
    a_sec = _secs(t_event[a_keep])
    dupa = rng.random(len(a_keep)) < DUP_ARREST_RATE
    order = np.repeat(np.arange(len(a_keep)), 1 + dupa)
    is_copy = np.zeros(len(order), bool)
    is_copy[1:] = order[1:] == order[:-1]
    shift = np.where(is_copy & (rng.random(len(order)) >= DUP_ARREST_EXACT),
                     1 + rng.integers(0, 23 * 3600, len(order)), 0)
    ap = a_keep[order]
    a_time = np.minimum(a_sec[order] + shift, np.maximum(a_sec[order], plan.cutoff_sec))
    arrests = pa.table({
        "unique_identifier": ids.take(pa.array(ap)),
        "apprehension_date": _ts(plan, a_time),
        "apprehension_aor": _strings(_AOR_NAMES, aor[ap]),
        "apprehension_state": _strings(_STATES, state[ap]),
        "apprehension_county": pa.nulls(len(ap), pa.string()),
        "apprehension_method": _strings(METHODS, method[ap]),
        "apprehension_landmark": pa.nulls(len(ap), pa.string()),
        "apprehension_criminality": _strings(CRIMINALITY, crim[ap]),
        "final_program": _strings(METHOD_PROGRAM, method[ap]),
        "processing_disposition": _strings(_DISP, disp[ap]),
        "case_category": _strings(CASE_CATEGORIES, case_cat[ap]),
        "most_serious_conviction": _strings(_CONV, conviction[ap], has_conviction[ap]),
        **_demographics(plan, cit, gender, age, ap, t_event[ap]),
    })
    v.update({k: x for k, x in locals().items() if k not in ("plan", "rng", "n", "v")})


def _chunk_removals(plan: _Plan, rng: np.random.Generator, n: int, v: dict[str, Any]) -> None:
    """The removals table: Release to Remove stays, removed without booking, removal-only people."""
    age = v["age"]
    agency = v["agency"]
    aor = v["aor"]
    booked = v["booked"]
    case_cat = v["case_cat"]
    cat = v["cat"]
    cit = v["cit"]
    closed = v["closed"]
    conviction = v["conviction"]
    gender = v["gender"]
    has_conviction = v["has_conviction"]
    ice = v["ice"]
    ids = v["ids"]
    reason = v["reason"]
    rem = v["rem"]
    removal_r = v["removal_r"]
    st = v["st"]
    stout = v["stout"]
    t_event = v["t_event"]
    t_in = v["t_in"]
    # --- removals ------------------------------------------------------------------------------------
    rr = st[(reason == removal_r) & closed]  # persons with a Release to Remove stay booked out by the cut-off
    rr_dep = _secs(stout[(reason == removal_r) & closed] + 3.0 * rng.random(len(rr)) ** 3)
    not_booked = ice[~booked[ice]]
    nb = not_booked[rng.random(len(not_booked)) < P_REMOVED_NOT_BOOKED]
    nb_dep = _secs(t_event[nb] + 1.0 + 29.0 * rng.random(len(nb)) ** 2)  # within 30 days of the arrest
    rem_dep = _secs(t_event[rem])
    rp = np.concatenate([rr, nb, rem])
    dep = np.concatenate([rr_dep, nb_dep, rem_dep])
    ok = dep <= plan.cutoff_sec
    rp, dep = rp[ok], dep[ok]
    # the earlier arrest: the ICE arrest, else a CBP apprehension 0-3 days before book-in / departure
    appr = np.where(cat[rp] == _CAT_ICE, t_event[rp],
                    np.where(cat[rp] == _CAT_REM, t_event[rp], t_in[rp]) - 3.0 * rng.random(len(rp)))
    kind = np.where(cat[rp] == _CAT_REM, 2, agency[rp])
    p_exp = np.array([REMOVAL_EXPEDITED["ICE"], REMOVAL_EXPEDITED["CBP"], REMOVAL_EXPEDITED["removal_only"]])
    expedited = rng.random(len(rp)) < p_exp[kind]
    port = _choice_grouped(rng, _PORT_CUM, (cit[rp] != _MEXICO).astype(np.int32))
    removals = pa.table({
        "unique_identifier": ids.take(pa.array(rp)),
        "departed_date": _ts(plan, dep),
        "removal_type": _strings(("other", "expedited"), expedited.astype(np.int32)),
        "aor": _strings(_AOR_NAMES, aor[rp]),
        "departure_country": _strings(_CIT, cit[rp]),
        "port_of_departure": _strings(_PORTS, port),
        "case_category": _strings(CASE_CATEGORIES, np.where(expedited, len(CASE_CATEGORIES) - 1, case_cat[rp])),
        "final_charge_section": pa.nulls(len(rp), pa.string()),
        "apprehension_date": _ts(plan, _secs(appr)),
        "most_serious_conviction": _strings(_CONV, conviction[rp], has_conviction[rp]),
        **_demographics(plan, cit, gender, age, rp, appr),
    })
    v.update({k: x for k, x in locals().items() if k not in ("plan", "rng", "n", "v")})


def _chunk_encounters(plan: _Plan, rng: np.random.Generator, n: int, v: dict[str, Any]) -> None:
    """The encounters table (every ICE arrest, 0-30 days before) and detainers (most CAP / 287(g) arrests)."""
    a_keep = v["a_keep"]
    age = v["age"]
    aor = v["aor"]
    cit = v["cit"]
    crim = v["crim"]
    disp = v["disp"]
    gender = v["gender"]
    ids = v["ids"]
    method = v["method"]
    state = v["state"]
    t_event = v["t_event"]
    # --- encounters (every ICE arrest, 0-30 days before) and detainers (most CAP / 287(g) arrests) -----
    e_time = _secs(t_event[a_keep] - 30.0 * rng.random(len(a_keep)) ** 2)
    ep = a_keep[e_time >= plan.start_day * 86400]
    e_time = e_time[e_time >= plan.start_day * 86400]
    encounters = pa.table({
        "unique_identifier": ids.take(pa.array(ep)),
        "event_date": _ts(plan, e_time),
        "responsible_aor": _strings(_AOR_NAMES, aor[ep]),
        "event_type": _strings(METHOD_EVENT, method[ep]),
        "event_landmark": pa.nulls(len(ep), pa.string()),
        "processing_disposition": _strings(_DISP, disp[ep]),
        "encounter_criminality": _strings(CRIMINALITY, crim[ep]),
        **_demographics(plan, cit, gender, age, ep, t_event[ep]),
    })
    cap = a_keep[np.isin(method[a_keep], CAP_METHODS) & (rng.random(len(a_keep)) < CAP_DETAINER)]
    d_time = _secs(t_event[cap] - rng.gamma(1.5, 15.0, len(cap)))
    dp = cap[d_time >= plan.start_day * 86400]
    d_time = d_time[d_time >= plan.start_day * 86400]
    detainers = pa.table({
        "unique_identifier": ids.take(pa.array(dp)),
        "detainer_prepare_date": _ts(plan, d_time),
        "facility_aor": _strings(_AOR_NAMES, aor[dp]),
        "facility_state": _strings(_STATES, state[dp]),
        "detention_facility": _strings(_JAIL_NAMES, aor[dp]),
        "detainer_type": pa.nulls(len(dp), pa.string()),
        "detainer_prepared_criminality": _strings(CRIMINALITY, crim[dp]),
        "detainer_lift_reason": pa.nulls(len(dp), pa.string()),
        **_demographics(plan, cit, gender, age, dp, t_event[dp]),
    })
    v.update({k: x for k, x in locals().items() if k not in ("plan", "rng", "n", "v")})


def _demographics(plan: _Plan, cit, gender, age, person, t_days) -> dict[str, pa.Array]:
    year = np.asarray([plan.M0.year], dtype=np.int64)[0] + (
        (plan.M0.month - 1 + np.asarray(t_days) / 30.4375) // 12).astype(np.int64)
    return {
        "citizenship_country": _strings(_CIT, cit[person]),
        "gender": _strings(_GENDER, gender[person]),
        "birth_year": pa.array((year - np.floor(age[person])).astype(np.int32), type=pa.int32()),
    }
