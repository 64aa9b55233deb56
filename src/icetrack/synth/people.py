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
    AGE_MAX,
    AGE_MIN,
    AGE_SCALE,
    AGE_SHAPE,
    AGENCIES,
    AOR_CBP,
    AOR_ICE,
    AOR_NAMES,
    AOR_STATE_CUM,
    AOR_STATE_ID,
    AOR_TRANSFER,
    BOND_MEDIAN,
    BOND_MIN,
    BOND_SIGMA,
    BOND_STEP,
    CAP_DETAINER,
    CAP_METHODS,
    CASE_CATEGORIES,
    CASE_CUM,
    CAT_CARRY,
    CAT_CBP,
    CAT_ICE,
    CAT_REM,
    CATEGORIES,
    CBP_METHOD,
    CIT,
    CIT_CUM,
    CONV,
    CONV_CUM,
    CONVICTED,
    CRIMINALITY,
    DISP,
    DISP_CUM,
    DUP_ARREST_EXACT,
    DUP_ARREST_RATE,
    DUP_STINT_RATE,
    FAC_CODES,
    FAC_NAMES,
    FACILITIES_PER_AOR,
    GENDER_CUM,
    GENDER_LABELS,
    JAIL_NAMES,
    METHOD_CUM,
    METHOD_EVENT,
    METHOD_PROGRAM,
    METHODS,
    MEXICO,
    OIV,
    P_BOND_SET_NOT_POSTED,
    P_BOOK_IN,
    P_REMOVED_NOT_BOOKED,
    PORT_CUM,
    PORTS,
    REMOVAL_EXPEDITED,
    SHARE_REMOVAL_ONLY,
    STATES,
    STAY_SIGMA,
    TRANSFERRED,
    WEEKDAY_FACTORS,
    add_months,
    choice,
    choice_grouped,
    cumulative_shares,
    hex_ids,
    norm_ppf,
    norm_sf,
)


@dataclass
class Plan:
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
    ndays = np.array([((add_months(m, 1)) - m).days for m in cal.months])
    return ndays, np.concatenate([[0], np.cumsum(ndays)])


def make_plan(start: date, end: date, cutoff: date) -> Plan:
    """The plan of a release: calibration, fitted stays, the day grid and the sampling weights of each category."""
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
            surv = norm_sf((np.log(start_day - pre - 0.5) - mu) / STAY_SIGMA)
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
    cat_cum = cumulative_shares([expected[k] for k in CATEGORIES])
    fit_summary = dict(stays.fit)
    return Plan(
        cal=cal, stays=stays, M0=M0, start_day=start_day, window_end_day=wend_day, cutoff_sec=cutoff_sec,
        month_of_day=month_of_day, category_cum=cat_cum, category_expected={k: float(v) for k, v in expected.items()},
        ice_day_cum=cumulative_shares(ice_w), cbp_day_cum=cumulative_shares(cbp_w),
        removal_day_cum=cumulative_shares(rem_w),
        carry_cum=cumulative_shares(carry_w) if carry_w.sum() > 0 else np.array([1.0]), carry_index=carry_ix,
        scale=1.0 / total, fit_summary=fit_summary, weekday_factors=WEEKDAY_FACTORS)


@functools.lru_cache(maxsize=8)
def _fitted_stays(start: date, end: date) -> StayModel:
    return fit_stay_model(load_calibration(start, end))


def _strings(labels, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(np.asarray(idx, dtype=np.int32), mask=None if valid is None else ~valid)
    return pa.array(list(labels), type=pa.string()).take(arr)


def _ts(plan: Plan, sec: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    base = int((datetime.combine(plan.M0, datetime.min.time()) - datetime(1970, 1, 1)).total_seconds())
    us = (np.asarray(sec, dtype=np.int64) + base) * 1_000_000
    return pa.array(us, type=pa.timestamp("us"), mask=None if valid is None else ~valid)


def _f64(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.float64), type=pa.float64(), mask=None if valid is None else ~valid)


def _secs(days: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(days) * 86400.0).astype(np.int64)


def _sample_days(rng, cum: np.ndarray, first_day: int, n: int) -> np.ndarray:
    return first_day + np.searchsorted(cum, rng.random(n), side="right")


# Each phase takes the records it reads and returns a frozen record of the arrays it makes: the data flow
# between phases shows in their signatures, and no phase can rebind another's arrays.


@dataclass(frozen=True, slots=True)
class _Events:
    """Per person: who (category, agency, criminality) and when; what the stays depend on."""

    cat: np.ndarray  # index into CATEGORIES
    ice: np.ndarray  # positions of the ICE-arrested people
    cbp: np.ndarray  # positions of the CBP-arrested book-ins
    rem: np.ndarray  # positions of the removal-only people
    car: np.ndarray  # positions of the people in custody at the start
    agency: np.ndarray  # arresting agency: 0 ICE, 1 CBP
    crim: np.ndarray  # index into CRIMINALITY
    t_event: np.ndarray  # grid days; ICE: arrest, CBP and carried-in: book-in, removal-only: departure


@dataclass(frozen=True, slots=True)
class _Attributes:
    """Per person: identifier and the attribute columns the tables carry."""

    ids: pa.StringArray
    cit: np.ndarray  # index into CIT
    gender: np.ndarray  # index into GENDER_LABELS
    age: np.ndarray  # years at the arrest
    aor: np.ndarray  # index into AOR_NAMES
    state: np.ndarray  # index into STATES
    method: np.ndarray  # index into METHODS
    case_cat: np.ndarray  # index into CASE_CATEGORIES
    conviction: np.ndarray  # index into CONV, meaningful where has_conviction
    has_conviction: np.ndarray
    disp: np.ndarray  # index into DISP


@dataclass(frozen=True, slots=True)
class _Stays:
    """The stays: per person ``booked`` and ``t_in``; the other arrays per stay (``st`` = its person)."""

    booked: np.ndarray
    t_in: np.ndarray  # grid days, NaN if not booked
    st: np.ndarray
    stin: np.ndarray  # book-in, grid days
    stout: np.ndarray  # book-out, grid days (may be after the cut-off)
    length: np.ndarray  # days
    in_sec: np.ndarray
    out_sec: np.ndarray
    in_data: np.ndarray  # booked in by the cut-off
    closed: np.ndarray  # booked out by the cut-off
    reason: np.ndarray  # index into cal.reasons
    removal_reason: int  # index of REMOVAL_REASON in cal.reasons, -1 if absent
    bonded_reason: int  # index of BONDED_OUT in cal.reasons, -1 if absent


@dataclass(frozen=True, slots=True)
class _StintBounds:
    """Stint rows (``s_rep`` = their stay, before the cut-off filter ``keep``) and the bond of each stay."""

    s_rep: np.ndarray
    k_in: np.ndarray  # stint book-in, seconds
    k_out: np.ndarray  # stint book-out, seconds
    last: np.ndarray  # the last stint of its stay
    keep: np.ndarray  # booked in by the cut-off
    fac: np.ndarray  # index into FAC_CODES
    bond_set: np.ndarray  # per stay
    bond_amt: np.ndarray  # per stay
    posted: np.ndarray  # per stay
    bond_date: np.ndarray  # per stay, seconds


@dataclass(frozen=True, slots=True)
class _Arrests:
    """The arrests table and the people it holds."""

    table: pa.Table
    arrested: np.ndarray  # the ICE-arrested people arrested by the cut-off (the encounters and detainers draw on them)


def gen_chunk(plan: Plan, rng: np.random.Generator, n: int) -> tuple[dict[str, pa.Table], dict[str, int]]:
    """One chunk of ``n`` people: the five tables and the people per category.

    Every phase draws from ``rng``, so their order below is part of the output: the same seed gives the same
    bytes only as long as the phases (and the draws within them) keep this order.
    """
    events, attrs = _chunk_people(plan, rng, n)
    stays = _chunk_stays(plan, rng, events)
    bounds = _chunk_stint_bounds(plan, rng, attrs.aor, stays)
    stints = _chunk_stints(plan, rng, events, attrs, stays, bounds)
    arrests = _chunk_arrests(plan, rng, events, attrs)
    removals = _chunk_removals(plan, rng, events, attrs, stays)
    encounters, detainers = _chunk_encounters(plan, rng, events, attrs, arrests.arrested)
    counts = {c: int((events.cat == i).sum()) for i, c in enumerate(CATEGORIES)}
    counts["booked_in_and_in_data"] = int(stays.in_data.sum())
    return {"arrests": arrests.table, "detention_stints": stints, "removals": removals, "encounters": encounters,
            "detainers": detainers}, counts


def _chunk_people(plan: Plan, rng: np.random.Generator, n: int) -> tuple[_Events, _Attributes]:
    """The people of a chunk: category, identifiers, demographics, event times, criminality and attributes."""
    cat = choice(rng, plan.category_cum, n)
    ids = hex_ids(rng, n)
    cit = choice(rng, CIT_CUM, n)
    gender = choice(rng, GENDER_CUM, n)
    age = np.minimum(AGE_MIN + rng.gamma(AGE_SHAPE, AGE_SCALE, n), AGE_MAX)

    agency = np.where((cat == CAT_ICE), 0, 1).astype(np.int32)
    crim = np.zeros(n, dtype=np.int32)
    t_event = np.zeros(n)
    # --- ICE arrests: day by the ICE book-in monthly shape and weekday pattern, business-hours time
    ice = np.flatnonzero(cat == CAT_ICE)
    hour = np.where(rng.random(len(ice)) < 0.75, np.clip(rng.normal(10.0, 3.0, len(ice)), 0, 23.99),
                    rng.random(len(ice)) * 24)
    t_event[ice] = _sample_days(rng, plan.ice_day_cum, plan.start_day, len(ice)) + hour / 24
    # --- CBP-arrested book-ins
    cbp = np.flatnonzero(cat == CAT_CBP)
    t_event[cbp] = _sample_days(rng, plan.cbp_day_cum, plan.start_day, len(cbp)) + rng.random(len(cbp))
    # --- removal only (CBP turn-overs removed without ICE detention)
    rem = np.flatnonzero(cat == CAT_REM)
    t_event[rem] = _sample_days(rng, plan.removal_day_cum, plan.start_day, len(rem)) + rng.random(len(rem))
    # --- in custody at start
    car = np.flatnonzero(cat == CAT_CARRY)
    ci = np.searchsorted(plan.carry_cum, rng.random(len(car)), side="right")
    ci = np.minimum(ci, len(plan.carry_index) - 1)
    agency[car] = plan.carry_index[ci, 0]
    crim[car] = plan.carry_index[ci, 1]
    t_event[car] = plan.carry_index[ci, 2] + rng.random(len(car))

    # criminality of in-window people: book-in (flow) mix of the agency and month
    for a in AGENCIES:
        sel = np.concatenate([ice] if a == "ICE" else [cbp, rem])
        cum = np.cumsum(plan.cal.mix[a], axis=1)
        cum[:, -1] = 1.0
        crim[sel] = choice_grouped(rng, cum, plan.month_of_day[t_event[sel].astype(np.int64)])

    aor = np.where(agency == 0, choice(rng, AOR_ICE, n), choice(rng, AOR_CBP, n)).astype(np.int32)
    method = choice_grouped(rng, METHOD_CUM, (crim == OIV).astype(np.int32))
    case_cat = choice_grouped(rng, CASE_CUM, agency)
    conviction = choice(rng, CONV_CUM, n)
    disp = choice(rng, DISP_CUM, n)
    state = AOR_STATE_ID[aor, choice_grouped(rng, AOR_STATE_CUM, aor)]
    events = _Events(cat=cat, ice=ice, cbp=cbp, rem=rem, car=car, agency=agency, crim=crim, t_event=t_event)
    attrs = _Attributes(ids=ids, cit=cit, gender=gender, age=age, aor=aor, state=state, method=method,
                        case_cat=case_cat, conviction=conviction, has_conviction=crim == CONVICTED, disp=disp)
    return events, attrs


def _chunk_stays(plan: Plan, rng: np.random.Generator, events: _Events) -> _Stays:
    """Who is booked in, when, for how long (lognormal, carried-in stays conditional), and the book-out reason."""
    cal, mod = plan.cal, plan.month_of_day
    ice, cbp, car, t_event = events.ice, events.cbp, events.car, events.t_event
    n = len(events.cat)
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
    crim = events.crim[st]
    m_in = mod[np.minimum(stin.astype(np.int64), len(mod) - 1)]
    mu = np.where(events.agency[st] == 0, plan.stays.mu["ICE"][m_in, crim], plan.stays.mu["CBP"][m_in, crim])
    length = np.exp(mu + STAY_SIGMA * rng.standard_normal(len(st)))
    # carried-in stays: conditional on lasting past the start (inverse CDF in the upper tail)
    is_car = events.cat[st] == CAT_CARRY
    if is_car.any():
        a_min = plan.start_day - stin[is_car]
        z_a = (np.log(np.maximum(a_min, 1e-9)) - mu[is_car]) / STAY_SIGMA
        q = norm_sf(z_a) * (1 - rng.random(int(is_car.sum())))
        z = -norm_ppf(np.maximum(q, 1e-300))
        length[is_car] = np.maximum(np.exp(mu[is_car] + STAY_SIGMA * z), a_min + 1e-6)
    stout = stin + length
    in_sec, out_sec = _secs(stin), _secs(stout)
    m_out = mod[np.minimum(stout.astype(np.int64), len(mod) - 1)]
    rcum = np.cumsum(cal.reason_mix, axis=2)
    rcum[:, :, -1] = 1.0
    n_crim = len(CRIMINALITY)
    reason = choice_grouped(rng, rcum.reshape(len(cal.months) * n_crim, -1), m_out * n_crim + crim)
    return _Stays(booked=booked, t_in=t_in, st=st, stin=stin, stout=stout, length=length, in_sec=in_sec,
                  out_sec=out_sec, in_data=in_sec <= plan.cutoff_sec, closed=out_sec <= plan.cutoff_sec,
                  reason=reason, removal_reason=_reason_index(cal, REMOVAL_REASON),
                  bonded_reason=_reason_index(cal, BONDED_OUT))


def _reason_index(cal: Calibration, reason: str) -> int:
    # -1 when the figures never list the reason: no stay then matches it
    return cal.reasons.index(reason) if reason in cal.reasons else -1


def _chunk_stint_bounds(plan: Plan, rng: np.random.Generator, aor: np.ndarray, stays: _Stays) -> _StintBounds:
    """Stints of each stay (1-3: transfers), their bounds, bonds on the last stint, facilities."""
    st, stin, stout, length = stays.st, stays.stin, stays.stout, stays.length
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
    # bonds on the last stint: bonded-out stays post; some others have a bond set, not posted
    bonded = stays.reason == stays.bonded_reason
    bond_set = bonded | (rng.random(len(st)) < P_BOND_SET_NOT_POSTED)
    bond_amt = np.maximum(np.round(BOND_MEDIAN * np.exp(BOND_SIGMA * rng.standard_normal(len(st))) / BOND_STEP)
                          * BOND_STEP, BOND_MIN)
    # posted on the day of release: at most a day (and half the stay) before the book-out
    in_sec, out_sec = stays.in_sec, stays.out_sec
    bond_date = out_sec - np.minimum((out_sec - in_sec) * 0.5 * rng.random(len(st)), 86_400).astype(np.int64)
    # facilities: the first in the person's AOR, transfers to an AOR drawn from the destination shares
    fac_aor = np.where(pos == 0, aor[st][s_rep], choice(rng, AOR_TRANSFER, len(s_rep)))
    fac = fac_aor * FACILITIES_PER_AOR + rng.integers(0, FACILITIES_PER_AOR, len(s_rep))
    return _StintBounds(s_rep=s_rep, k_in=k_in, k_out=k_out, last=pos == nst[s_rep] - 1,
                        keep=k_in <= plan.cutoff_sec, fac=fac, bond_set=bond_set, bond_amt=bond_amt,
                        posted=bonded & stays.closed, bond_date=bond_date)


def _chunk_stints(plan: Plan, rng: np.random.Generator, events: _Events, attrs: _Attributes, stays: _Stays,
                  bounds: _StintBounds) -> pa.Table:
    """The detention_stints table, with stint rows repeated differing only in bond amounts."""
    cal = plan.cal
    k = np.flatnonzero(bounds.keep)
    ks = bounds.s_rep[k]
    stint_closed = bounds.k_out[k] <= plan.cutoff_sec
    stay_closed = stays.closed[ks]
    has_bond = bounds.last[k] & bounds.bond_set[ks]
    has_posted = bounds.last[k] & bounds.posted[ks] & stint_closed
    # duplicates differing only in bond amounts
    dup = rng.random(len(k)) < DUP_STINT_RATE
    has_bond = has_bond | dup  # a duplicated stint has two bond records: the original gets one too
    order = np.repeat(np.arange(len(k)), 1 + dup)
    is_copy = np.zeros(len(order), bool)
    is_copy[1:] = order[1:] == order[:-1]
    bump = np.where(is_copy, BOND_STEP * rng.integers(1, 11, len(order)), 0.0)
    k2, ks2 = k[order], ks[order]
    pst = stays.st[ks2]
    det_reason_idx = np.where(bounds.last[k2], stays.reason[ks2], -1)
    reason_labels = list(cal.reasons) + [TRANSFERRED]
    det_reason = np.where(det_reason_idx < 0, len(cal.reasons), det_reason_idx)
    m_cbp = events.agency[pst] == 1
    bond = bounds.bond_amt[ks2] + bump
    return pa.table({
        "unique_identifier": attrs.ids.take(pa.array(pst)),
        "book_in_date_time": _ts(plan, bounds.k_in[k2]),
        "detention_book_out_date_time": _ts(plan, bounds.k_out[k2], stint_closed[order]),
        "stay_book_in_date_time": _ts(plan, stays.in_sec[ks2]),
        "stay_book_out_date_time": _ts(plan, stays.out_sec[ks2], stay_closed[order]),
        "detention_facility_code": _strings(FAC_CODES, bounds.fac[k2]),
        "detention_facility": _strings(FAC_NAMES, bounds.fac[k2]),
        "detention_release_reason": _strings(reason_labels, det_reason, stint_closed[order]),
        "stay_release_reason": _strings(cal.reasons, stays.reason[ks2], stay_closed[order]),
        "book_in_criminality": _strings(CRIMINALITY, events.crim[pst]),
        "apprehension_method": _strings(list(METHODS) + [CBP_METHOD],
                                        np.where(m_cbp, len(METHODS), attrs.method[pst])),
        "initial_bond_set_amount": _f64(bond, has_bond[order]),
        "bond_posted_amount": _f64(bond, has_posted[order]),
        "bond_posted_date": _ts(plan, bounds.bond_date[ks2], has_posted[order]),
        "case_category": _strings(CASE_CATEGORIES, attrs.case_cat[pst]),
        "most_serious_conviction": _strings(CONV, attrs.conviction[pst], attrs.has_conviction[pst]),
        **_demographics(plan, attrs, pst, events.t_event[pst]),
    })


def _chunk_arrests(plan: Plan, rng: np.random.Generator, events: _Events, attrs: _Attributes) -> _Arrests:
    """The arrests table (ICE-arrested people), with repeat rows within 24 hours."""
    ice, t_event = events.ice, events.t_event
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
    table = pa.table({
        "unique_identifier": attrs.ids.take(pa.array(ap)),
        "apprehension_date": _ts(plan, a_time),
        "apprehension_aor": _strings(AOR_NAMES, attrs.aor[ap]),
        "apprehension_state": _strings(STATES, attrs.state[ap]),
        "apprehension_county": pa.nulls(len(ap), pa.string()),
        "apprehension_method": _strings(METHODS, attrs.method[ap]),
        "apprehension_landmark": pa.nulls(len(ap), pa.string()),
        "apprehension_criminality": _strings(CRIMINALITY, events.crim[ap]),
        "final_program": _strings(METHOD_PROGRAM, attrs.method[ap]),
        "processing_disposition": _strings(DISP, attrs.disp[ap]),
        "case_category": _strings(CASE_CATEGORIES, attrs.case_cat[ap]),
        "most_serious_conviction": _strings(CONV, attrs.conviction[ap], attrs.has_conviction[ap]),
        **_demographics(plan, attrs, ap, t_event[ap]),
    })
    return _Arrests(table=table, arrested=a_keep)


def _chunk_removals(plan: Plan, rng: np.random.Generator, events: _Events, attrs: _Attributes,
                    stays: _Stays) -> pa.Table:
    """The removals table: Release to Remove stays, removed without booking, removal-only people."""
    cat, t_event, ice, rem = events.cat, events.t_event, events.ice, events.rem
    # persons with a Release to Remove stay booked out by the cut-off
    removed_stay = (stays.reason == stays.removal_reason) & stays.closed
    rr = stays.st[removed_stay]
    rr_dep = _secs(stays.stout[removed_stay] + 3.0 * rng.random(len(rr)) ** 3)
    not_booked = ice[~stays.booked[ice]]
    nb = not_booked[rng.random(len(not_booked)) < P_REMOVED_NOT_BOOKED]
    nb_dep = _secs(t_event[nb] + 1.0 + 29.0 * rng.random(len(nb)) ** 2)  # within 30 days of the arrest
    rem_dep = _secs(t_event[rem])
    rp = np.concatenate([rr, nb, rem])
    dep = np.concatenate([rr_dep, nb_dep, rem_dep])
    ok = dep <= plan.cutoff_sec
    rp, dep = rp[ok], dep[ok]
    # the earlier arrest: the ICE arrest, else a CBP apprehension 0-3 days before book-in / departure
    appr = np.where(cat[rp] == CAT_ICE, t_event[rp],
                    np.where(cat[rp] == CAT_REM, t_event[rp], stays.t_in[rp]) - 3.0 * rng.random(len(rp)))
    kind = np.where(cat[rp] == CAT_REM, 2, events.agency[rp])
    p_exp = np.array([REMOVAL_EXPEDITED["ICE"], REMOVAL_EXPEDITED["CBP"], REMOVAL_EXPEDITED["removal_only"]])
    expedited = rng.random(len(rp)) < p_exp[kind]
    port = choice_grouped(rng, PORT_CUM, (attrs.cit[rp] != MEXICO).astype(np.int32))
    return pa.table({
        "unique_identifier": attrs.ids.take(pa.array(rp)),
        "departed_date": _ts(plan, dep),
        "removal_type": _strings(("other", "expedited"), expedited.astype(np.int32)),
        "aor": _strings(AOR_NAMES, attrs.aor[rp]),
        "departure_country": _strings(CIT, attrs.cit[rp]),
        "port_of_departure": _strings(PORTS, port),
        "case_category": _strings(CASE_CATEGORIES,
                                  np.where(expedited, len(CASE_CATEGORIES) - 1, attrs.case_cat[rp])),
        "final_charge_section": pa.nulls(len(rp), pa.string()),
        "apprehension_date": _ts(plan, _secs(appr)),
        "most_serious_conviction": _strings(CONV, attrs.conviction[rp], attrs.has_conviction[rp]),
        **_demographics(plan, attrs, rp, appr),
    })


def _chunk_encounters(plan: Plan, rng: np.random.Generator, events: _Events, attrs: _Attributes,
                      arrested: np.ndarray) -> tuple[pa.Table, pa.Table]:
    """The encounters table (every ICE arrest, 0-30 days before) and detainers (most CAP / 287(g) arrests)."""
    t_event, start_sec = events.t_event, plan.start_day * 86400
    e_time = _secs(t_event[arrested] - 30.0 * rng.random(len(arrested)) ** 2)
    ep = arrested[e_time >= start_sec]
    e_time = e_time[e_time >= start_sec]
    encounters = pa.table({
        "unique_identifier": attrs.ids.take(pa.array(ep)),
        "event_date": _ts(plan, e_time),
        "responsible_aor": _strings(AOR_NAMES, attrs.aor[ep]),
        "event_type": _strings(METHOD_EVENT, attrs.method[ep]),
        "event_landmark": pa.nulls(len(ep), pa.string()),
        "processing_disposition": _strings(DISP, attrs.disp[ep]),
        "encounter_criminality": _strings(CRIMINALITY, events.crim[ep]),
        **_demographics(plan, attrs, ep, t_event[ep]),
    })
    cap = arrested[np.isin(attrs.method[arrested], CAP_METHODS) & (rng.random(len(arrested)) < CAP_DETAINER)]
    d_time = _secs(t_event[cap] - rng.gamma(1.5, 15.0, len(cap)))
    dp = cap[d_time >= start_sec]
    d_time = d_time[d_time >= start_sec]
    detainers = pa.table({
        "unique_identifier": attrs.ids.take(pa.array(dp)),
        "detainer_prepare_date": _ts(plan, d_time),
        "facility_aor": _strings(AOR_NAMES, attrs.aor[dp]),
        "facility_state": _strings(STATES, attrs.state[dp]),
        "detention_facility": _strings(JAIL_NAMES, attrs.aor[dp]),
        "detainer_type": pa.nulls(len(dp), pa.string()),
        "detainer_prepared_criminality": _strings(CRIMINALITY, events.crim[dp]),
        "detainer_lift_reason": pa.nulls(len(dp), pa.string()),
        **_demographics(plan, attrs, dp, t_event[dp]),
    })
    return encounters, detainers


def _demographics(plan: Plan, attrs: _Attributes, person, t_days) -> dict[str, pa.Array]:
    year = np.asarray([plan.M0.year], dtype=np.int64)[0] + (
        (plan.M0.month - 1 + np.asarray(t_days) / 30.4375) // 12).astype(np.int64)
    return {
        "citizenship_country": _strings(CIT, attrs.cit[person]),
        "gender": _strings(GENDER_LABELS, attrs.gender[person]),
        "birth_year": pa.array((year - np.floor(attrs.age[person])).astype(np.int32), type=pa.int32()),
    }
