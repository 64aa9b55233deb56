"""Time-to-outcome estimators (Kaplan-Meier, Aalen-Johansen) computed from *aggregated* event tables.

At scale the engine (DuckDB or Spark) reduces person-level durations to a small **event table**, one row per
distinct time, and this module computes the estimators from that table with numpy. Groups (strata) are
estimated by calling these functions once per group.

Event table
-----------
A ``pandas.DataFrame`` with

- a time column, ``time`` (or ``t``, as :func:`icetrack.metrics.outcomes.event_table` names it): days since
  the origin, float or int, ``>= 0``;
- ``n_censored``: people still in follow-up at that time (e.g. still detained at the cut-off);
- one count column per cause (``removal``, ``release``, ``transfer``...): people whose outcome is that cause
  at that time.

Every numeric column other than the time and ``n_censored`` is a cause: a count column that is silently
ignored would keep its people in the risk set for ever. A ``group`` column (whatever its type) and any text
column are labels: ignored when constant (a one-group slice), an error when they vary (several groups were
passed; call once per group).
When ``causes`` is given it must name every count column. Rows with the same time are added; rows whose
counts are all zero are dropped. Counts may be non-integer (weights) but must be finite and ``>= 0``.

Conventions (as lifelines, which the tests use as the reference)
---------------------------------------------------------------
- The result always has a row at time 0 (survival 1 and incidence 0 unless there are outcomes at time 0),
  then one row per distinct time of the table, events or censorings.
- *At risk* at time t: everybody whose time is ``>= t``. Ties: outcomes at t happen before censorings at t
  (people censored at t are at risk at t).
- Ties between causes need no special handling: the Aalen-Johansen increment of cause j at t is
  ``S(t-) * d_j(t) / n(t)``, exact for any number of causes at t. (lifelines' ``AalenJohansenFitter``
  cannot take such ties and jitters the times at random; the tests therefore compare with lifelines on data
  without cross-cause ties and check the tie handling against hand computations.)
- Variances whose Greenwood term ``d / (n (n - d))`` is infinite (everybody still at risk has the outcome,
  ``d == n``) take that term as 0, as lifelines' ``KaplanMeierFitter`` does: the survival is 0 from then on
  and its interval is [0, 0]. In the Aalen-Johansen variance the term is multiplied by
  ``(F(t) - F(t_h))**2 = 0`` (no one is left at risk after t_h), so 0 is its value; lifelines returns NaN.

Competing risks: which estimate answers which question
------------------------------------------------------
An arrest ends in one of several outcomes (removal, release, transfer); whoever is released can no longer
be removed from that detention. The quantity people ask for - *what share of arrestees was removed within t
days* - is the **cumulative incidence** ``F_removal(t) = P(T <= t, cause = removal)``, estimated by
:func:`aalen_johansen`. The incidences of all causes and the all-cause survival add up to 1 at every time.

:func:`kaplan_meier` with one cause treats the other causes as censored at their time (*cause-specific*
Kaplan-Meier). ``1 - KM`` then estimates the probability of the cause in a hypothetical world where the
other outcomes could not happen (and only if they are independent of it); it keeps released people "at risk
of removal", so it over-states the share removed (``1 - KM_j(t) >= F_j(t)``, strictly once a competing
outcome has occurred before a removal). Use it for all-cause survival (``event=None``: time to any outcome,
i.e. length of detention) or for the cause-specific hazard, not as a share of people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

CENSORED = "n_censored"
TIME_COLUMNS = ("time", "t")
# Names a cause may not take (they are the table's own columns or derived columns of the results).
_RESERVED = frozenset({"time", "t", CENSORED, "at_risk", "events", "censored", "survival", "overall_survival",
                       "group"})
_LABELS = frozenset({"group"})  # never counts, even when numeric
# A survival value within this distance of the quantile counts as reaching it (see survival_quantile).
_QUANTILE_TOL = 1e-12


# --------------------------------------------------------------------------------------------------------
# Event tables


def event_table(durations, events, causes: Sequence[str] | None = None) -> pd.DataFrame:
    """Aggregate individual data into an event table.

    ``durations``: times (>= 0); ``events``: 0 = censored, ``i`` = ``causes[i - 1]`` (1..k); booleans are
    0/1. ``causes`` default: ``("event",)`` when the codes are 0/1, else ``("cause_1", ..., "cause_k")``.
    Returns columns ``time, n_censored, *causes``, one row per distinct time, ascending.
    """
    t = np.asarray(durations, dtype=float).reshape(-1)
    e_raw = np.asarray(events).reshape(-1)
    if t.shape != e_raw.shape:
        raise ValueError(f"durations ({t.size}) and events ({e_raw.size}) differ in length")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("durations must be finite and >= 0")
    e = e_raw.astype(float)
    if not np.all(np.isfinite(e)) or np.any(e != np.round(e)) or np.any(e < 0):
        raise ValueError("event codes must be integers >= 0 (0 = censored)")
    e = e.astype(np.int64)
    k_max = int(e.max()) if e.size else 0
    causes = _default_causes(k_max) if causes is None else _as_tuple(causes)
    _check_cause_names(causes)
    if k_max > len(causes):
        raise ValueError(f"event code {k_max} but only {len(causes)} causes {causes}")
    k = len(causes)
    times, inverse = np.unique(t, return_inverse=True)
    counts = np.bincount(inverse * (k + 1) + e, minlength=times.size * (k + 1)).reshape(times.size, k + 1)
    out = pd.DataFrame({"time": times, CENSORED: counts[:, 0]})
    for i, c in enumerate(causes, start=1):
        out[c] = counts[:, i]
    return out


def _as_tuple(names) -> tuple[str, ...]:
    return (names,) if isinstance(names, str) else tuple(names)


def _default_causes(k_max: int) -> tuple[str, ...]:
    return ("event",) if k_max <= 1 else tuple(f"cause_{i}" for i in range(1, k_max + 1))


def _check_cause_names(causes: Sequence[str]) -> None:
    if len(causes) == 0:
        raise ValueError("at least one cause is needed")
    if len(set(causes)) != len(causes):
        raise ValueError(f"duplicate cause names {tuple(causes)}")
    bad = [c for c in causes if c in _RESERVED]
    if bad:
        raise ValueError(f"cause name(s) {bad} are reserved column names")


@dataclass(frozen=True)
class _Table:
    """A validated event table: ascending distinct times starting at 0, float counts."""

    time: np.ndarray
    at_risk: np.ndarray
    censored: np.ndarray
    events: dict[str, np.ndarray]  # per cause, in cause order
    integral: bool  # every count is a whole number (then count columns of the results are int64)

    @property
    def causes(self) -> tuple[str, ...]:
        return tuple(self.events)

    def all_events(self) -> np.ndarray:
        return np.sum(list(self.events.values()), axis=0)


def _is_count_column(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s):
        return False
    if pd.api.types.is_numeric_dtype(s):
        return True
    if pd.api.types.is_object_dtype(s):  # e.g. Decimal sums from an engine
        try:
            pd.to_numeric(s.dropna(), errors="raise")
        except (TypeError, ValueError):
            return False
        return s.dropna().size > 0
    return False


def _prepare(table: pd.DataFrame, causes: Sequence[str] | None = None, time_col: str | None = None) -> _Table:
    if not isinstance(table, pd.DataFrame):
        raise TypeError("the event table must be a pandas DataFrame")
    if time_col is None:
        found = [c for c in TIME_COLUMNS if c in table.columns]
        if not found:
            raise ValueError(f"event table needs a time column ('time' or 't'); columns: {list(table.columns)}")
        time_col = found[0]
    elif time_col not in table.columns:
        raise ValueError(f"no time column {time_col!r} in the event table")
    if CENSORED not in table.columns:
        raise ValueError(f"event table needs a {CENSORED!r} column")
    others = [c for c in table.columns if c not in (time_col, CENSORED)]
    count_cols = [c for c in others if c not in _LABELS and _is_count_column(table[c])]
    for c in others:
        if c not in count_cols and table[c].nunique(dropna=False) > 1:
            raise ValueError(f"column {c!r} takes several values: the table holds several groups; "
                             f"call once per group")
    if causes is None:
        causes = tuple(count_cols)
    else:
        causes = _as_tuple(causes)
        missing = [c for c in causes if c not in table.columns]
        if missing:
            raise ValueError(f"cause column(s) {missing} not in the event table")
        extra = [c for c in count_cols if c not in causes]
        if extra:
            raise ValueError(f"count column(s) {extra} are not among the causes {causes}: every count column "
                             f"is a cause (people with that outcome leave the risk set); list them or drop them")
    _check_cause_names(causes)

    t = pd.to_numeric(table[time_col], errors="raise").to_numpy(dtype=float)
    cols = (CENSORED, *causes)
    counts = np.column_stack([pd.to_numeric(table[c], errors="raise").to_numpy(dtype=float) for c in cols]) \
        if len(table) else np.zeros((0, len(cols)))
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("times must be finite and >= 0")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError("counts must be finite and >= 0")
    keep = counts.sum(axis=1) > 0
    t, counts = t[keep], counts[keep]
    if t.size == 0:
        raise ValueError("the event table has no people (all counts are zero)")
    times, inverse = np.unique(t, return_inverse=True)
    agg = np.zeros((times.size, counts.shape[1]))
    np.add.at(agg, inverse, counts)
    if times[0] > 0:  # the curve starts at time 0 with everybody at risk
        times = np.concatenate(([0.0], times))
        agg = np.vstack((np.zeros((1, agg.shape[1])), agg))
    removed = agg.sum(axis=1)
    # at risk at t: total minus those removed (any reason) strictly before t
    at_risk = removed.sum() - np.concatenate(([0.0], np.cumsum(removed)[:-1]))
    events = {c: agg[:, i + 1] for i, c in enumerate(causes)}
    return _Table(times, at_risk, agg[:, 0], events, bool(np.all(agg == np.round(agg))))


def _counts(tab: _Table, values: np.ndarray) -> np.ndarray:
    return values.astype(np.int64) if tab.integral else values


def _z(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    return NormalDist().inv_cdf(1 - alpha / 2)


# --------------------------------------------------------------------------------------------------------
# Kaplan-Meier


def kaplan_meier(table: pd.DataFrame, event: str | Sequence[str] | None = "removal", alpha: float = 0.05, *,
                 causes: Sequence[str] | None = None, time_col: str | None = None) -> pd.DataFrame:
    """Kaplan-Meier survival from an event table.

    ``event``: the cause (or list of causes, counted together) whose time is estimated; ``None`` = any cause
    (all-cause survival, e.g. time to leaving detention). Outcomes of **other causes are treated as censored
    at their time** (cause-specific Kaplan-Meier): see the module docstring for why ``1 - survival`` is then
    *not* the share of people with the outcome under competing risks, and use :func:`aalen_johansen`.

    Returns one row per time (time 0 first) with ``time, at_risk, events, censored, survival, ci_lower,
    ci_upper``: ``events`` = outcomes of ``event`` at that time, ``censored`` = ``n_censored`` plus the
    other causes' outcomes. ``survival`` = prod(1 - d/n) over times <= t (outcomes before censorings at a
    tied time). Pointwise ``1 - alpha`` interval by the exponential Greenwood (log(-log)) transform, as
    lifelines' ``KaplanMeierFitter``: with ``V = sum d / (n (n - d))`` (Greenwood's sum, the variance of
    log S; terms with d == n taken as 0) and ``v = log S``::

        lower = exp(-exp(log(-v) + z sqrt(V) / |v|)),  upper = exp(-exp(log(-v) - z sqrt(V) / |v|))

    with [1, 1] where S = 1 and [0, 0] where S = 0.
    """
    tab = _prepare(table, causes, time_col)
    chosen = tab.causes if event is None else _as_tuple(event)
    unknown = [c for c in chosen if c not in tab.events]
    if unknown or not chosen:
        raise ValueError(f"event {event!r} is not among the causes {tab.causes}")
    n = tab.at_risk
    d = np.sum([tab.events[c] for c in chosen], axis=0)
    removed = tab.censored + tab.all_events()
    survival = np.cumprod(1.0 - d / n)
    greenwood = np.cumsum(_greenwood_terms(n, d))
    lower, upper = _loglog_survival_ci(survival, greenwood, _z(alpha))
    out = pd.DataFrame({"time": tab.time, "at_risk": _counts(tab, n), "events": _counts(tab, d),
                        "censored": _counts(tab, removed - d), "survival": survival,
                        "ci_lower": lower, "ci_upper": upper})
    out.attrs.update(estimator="kaplan_meier", event=None if event is None else list(chosen), alpha=alpha)
    return out


def _greenwood_terms(n: np.ndarray, d: np.ndarray) -> np.ndarray:
    """d / (n (n - d)), 0 where d == n (lifelines' convention; the survival is 0 from there on)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > d, d / (n * (n - d)), 0.0)


def _loglog_survival_ci(s: np.ndarray, var_log: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    lower, upper = np.ones_like(s), np.ones_like(s)
    inside = (s > 0) & (s < 1)
    v = np.log(s[inside])  # < 0
    centre = np.log(-v)
    half = z * np.sqrt(var_log[inside]) / v  # <= 0, as lifelines writes it
    lower[inside] = np.exp(-np.exp(centre - half))
    upper[inside] = np.exp(-np.exp(centre + half))
    lower[s <= 0] = upper[s <= 0] = 0.0
    return lower, upper


def kaplan_meier_from_durations(durations, events, event: str | Sequence[str] | None = None,
                                causes: Sequence[str] | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """:func:`kaplan_meier` on individual data (codes as in :func:`event_table`; default: any cause)."""
    return kaplan_meier(event_table(durations, events, causes), event=event, alpha=alpha)


# --------------------------------------------------------------------------------------------------------
# Quantiles and restricted mean


def survival_quantile(km: pd.DataFrame, q: float = 0.5, column: str = "survival") -> float | None:
    """First time at which ``km[column] <= q``; ``None`` if the curve never gets there.

    lifelines' convention (``qth_survival_time``, ``median_survival_time_``): the first time, even when the
    curve equals q exactly over an interval (R's ``survfit`` takes the midpoint of that interval instead).
    lifelines returns ``inf`` where this returns ``None``. A value within 1e-12 of q counts as reaching it,
    so a curve that is exactly 0.5 in exact arithmetic (2 events among 4) is not missed by round-off.
    """
    if not 0 <= q <= 1:
        raise ValueError("q must be in [0, 1]")
    s = km[column].to_numpy(dtype=float)
    hit = np.flatnonzero(s <= q + _QUANTILE_TOL)
    return float(km["time"].iloc[hit[0]]) if hit.size else None


def median_survival(km: pd.DataFrame, column: str = "survival") -> float | None:
    """Median time: first time the survival is <= 0.5 (``None`` if never); see :func:`survival_quantile`."""
    return survival_quantile(km, 0.5, column)


def median_survival_ci(km: pd.DataFrame) -> tuple[float | None, float | None]:
    """Confidence interval of the median: the times the pointwise band (``ci_lower``, ``ci_upper``) crosses
    0.5 (inversion of the pointwise band), as lifelines' ``median_survival_times(kmf.confidence_interval_)``.
    ``None`` for a limit the band never reaches (unbounded above)."""
    return survival_quantile(km, 0.5, "ci_lower"), survival_quantile(km, 0.5, "ci_upper")


def restricted_mean(km: pd.DataFrame, tau: float, *, column: str = "survival", return_variance: bool = False):
    """Restricted mean time: area under the step curve ``km[column]`` from 0 to ``tau``.

    The curve is right-continuous, 1 before its first time and flat after its last (as lifelines'
    ``restricted_mean_survival_time(kmf, t=tau)``, which this equals). With ``return_variance`` returns
    ``(mean, variance)``, the variance of the *estimator* (Klein & Moeschberger section 4.5):
    ``sum over event times t_i <= tau of A_i**2 d_i / (n_i (n_i - d_i))`` with ``A_i`` the area from t_i to
    tau (needs the ``at_risk`` and ``events`` columns of :func:`kaplan_meier`). lifelines'
    ``return_variance`` is a different quantity, the variance of min(T, tau) itself.
    """
    if not np.isfinite(tau) or tau < 0:
        raise ValueError("tau must be finite and >= 0")
    t = km["time"].to_numpy(dtype=float)
    s = km[column].to_numpy(dtype=float)
    if t[0] > 0:
        t, s = np.concatenate(([0.0], t)), np.concatenate(([1.0], s))
    ends = np.minimum(np.append(t[1:], np.inf), tau)
    widths = np.clip(ends - t, 0.0, None)
    pieces = s * widths
    mean = float(pieces.sum())
    if not return_variance:
        return mean
    n = km["at_risk"].to_numpy(dtype=float)
    d = km["events"].to_numpy(dtype=float)
    if n.size != t.size:  # a row was prepended above: the frame did not start at 0
        n, d = np.concatenate(([n[0]], n)), np.concatenate(([0.0], d))
    # area from t_i to tau = total - area before t_i
    area_after = mean - np.concatenate(([0.0], np.cumsum(pieces)[:-1]))
    use = t <= tau
    var = float(np.sum((area_after**2 * _greenwood_terms(n, d))[use]))
    return mean, var


# --------------------------------------------------------------------------------------------------------
# Aalen-Johansen


def aalen_johansen(table: pd.DataFrame, causes: Sequence[str] | None = None, alpha: float = 0.05, *,
                   time_col: str | None = None) -> pd.DataFrame:
    """Cumulative incidence of every cause (Aalen-Johansen) and the all-cause survival.

    ``causes``: every cause column of the table, in the order wanted (default: the table's count columns
    in their order). With ``S`` the all-cause Kaplan-Meier, ``n`` at risk and ``d_j`` outcomes of cause j
    at time t_h::

        F_j(t) = sum_{t_h <= t} S(t_h-) d_j(t_h) / n(t_h)

    so that ``sum_j F_j(t) + S(t) == 1`` at every t. Matches lifelines' ``AalenJohansenFitter`` on data
    without cross-cause ties (lifelines jitters those; here they are exact) and with no outcome at time 0
    (lifelines forces the incidence at its first row, time 0, to 0 and drops outcomes there; here they
    count).

    Variance: the delta-method (Greenwood-type) estimator lifelines implements (Collett, *Modelling Survival
    Data in Medical Research*, 3rd ed., p. 411; Marubini & Valsecchi; SAS LIFETEST ``ERROR=DELTA`` - not
    SAS's default Aalen estimator nor R cmprsk's), with ``d`` all-cause outcomes::

        Var F_j(t) = sum_{t_h <= t} [ (F_j(t) - F_j(t_h))**2 d/(n (n - d))
                                      + S(t_h-)**2 d_j (n - d_j) / n**3
                                      - 2 (F_j(t) - F_j(t_h)) S(t_h-) d_j / n**2 ]

    (a term with d == n taken as 0 - lifelines gives NaN from there on). Interval by the log(-log)
    transform, as lifelines: ``se = sqrt(Var) / (F |log F|)``, ``lower = exp(-exp(log(-log F) + z se))``,
    ``upper = exp(-exp(log(-log F) - z se))``; [0, 0] where F = 0 and [1, 1] where F = 1 (lifelines: NaN).
    Note lifelines labels these two columns the other way round (its "upper" column holds the lower limit).

    Returns ``time, at_risk, censored, events, overall_survival`` and per cause c ``events_c, cif_c,
    cif_c_var, cif_c_lower, cif_c_upper``.
    """
    tab = _prepare(table, causes, time_col)
    z = _z(alpha)
    n = tab.at_risk
    d = tab.all_events()
    survival = np.cumprod(1.0 - d / n)
    lag_s = np.concatenate(([1.0], survival[:-1]))
    out = pd.DataFrame({"time": tab.time, "at_risk": _counts(tab, n), "censored": _counts(tab, tab.censored),
                        "events": _counts(tab, d), "overall_survival": survival})
    a = _greenwood_terms(n, d)
    for c, dj in tab.events.items():
        cif = np.cumsum(lag_s * dj / n)
        var = _aj_variance(cif, lag_s, n, a, dj)
        lower, upper = _loglog_cif_ci(cif, var, z)
        out[f"events_{c}"] = _counts(tab, dj)
        out[f"cif_{c}"] = cif
        out[f"cif_{c}_var"] = var
        out[f"cif_{c}_lower"] = lower
        out[f"cif_{c}_upper"] = upper
    out.attrs.update(estimator="aalen_johansen", causes=list(tab.causes), alpha=alpha)
    return out


def _aj_variance(f: np.ndarray, lag_s: np.ndarray, n: np.ndarray, a: np.ndarray, dj: np.ndarray) -> np.ndarray:
    """The delta-method variance above for every time at once, in O(times): the sums over h <= i are
    expanded in powers of F(t_i) and accumulated (lifelines accumulates the same expansion row by row)."""
    first = f**2 * np.cumsum(a) - 2 * f * np.cumsum(a * f) + np.cumsum(a * f**2)
    second = np.cumsum(lag_s**2 * dj * (n - dj) / n**3)
    c = lag_s * dj / n**2
    third = f * np.cumsum(c) - np.cumsum(c * f)
    return np.clip(first + second - 2 * third, 0.0, None)  # clip: round-off below 0


def _loglog_cif_ci(f: np.ndarray, var: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    lower, upper = np.zeros_like(f), np.zeros_like(f)
    inside = (f > 0) & (f < 1)
    lf = np.log(f[inside])
    centre = np.log(-lf)
    se = np.sqrt(var[inside]) / (f[inside] * np.abs(lf))
    lower[inside] = np.exp(-np.exp(centre + z * se))
    upper[inside] = np.exp(-np.exp(centre - z * se))
    lower[f >= 1] = upper[f >= 1] = 1.0
    return lower, upper


def aalen_johansen_from_durations(durations, events, causes: Sequence[str] | None = None,
                                  alpha: float = 0.05) -> pd.DataFrame:
    """:func:`aalen_johansen` on individual data (codes as in :func:`event_table`)."""
    return aalen_johansen(event_table(durations, events, causes), alpha=alpha)
