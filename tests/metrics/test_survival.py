"""Survival estimators from aggregated event tables: hand-computed fixtures, then lifelines as the reference.

lifelines is a dev-only dependency: it is imported here, never by icetrack.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction as Fr

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from lifelines.utils import median_survival_times, restricted_mean_survival_time

from icetrack.metrics.survival import (
    aalen_johansen,
    aalen_johansen_from_durations,
    event_table,
    kaplan_meier,
    kaplan_meier_from_durations,
    median_survival,
    median_survival_ci,
    restricted_mean,
)

Z95 = 1.959963984540054

# ---------------------------------------------------------------------------------------------------------
# Kaplan-Meier by hand
#
# times  1 2 2 3 4 4 5, events 1 1 0 1 1 0 1 (censored at 2 and at 4; events before censorings at a tie)
#  t  n  d  c   S                          Greenwood sum d/(n(n-d))
#  0  7  0  0   1                          0
#  1  7  1  0   6/7                        1/42
#  2  6  1  1   6/7 * 5/6 = 5/7            1/42 + 1/30
#  3  4  1  0   5/7 * 3/4 = 15/28          ... + 1/12
#  4  3  1  1   15/28 * 2/3 = 5/14         ... + 1/6
#  5  1  1  0   0                          d == n: term taken as 0, interval [0, 0]
# median: S(3) = 0.536 > 0.5, S(4) = 0.357 <= 0.5  ->  4

KM_T = [1, 2, 2, 3, 4, 4, 5]
KM_E = [1, 1, 0, 1, 1, 0, 1]


def test_km_by_hand():
    km = kaplan_meier_from_durations(KM_T, KM_E)
    assert list(km.columns) == ["time", "at_risk", "events", "censored", "survival", "ci_lower", "ci_upper"]
    assert km["time"].tolist() == [0, 1, 2, 3, 4, 5]
    assert km["at_risk"].tolist() == [7, 7, 6, 4, 3, 1]
    assert km["events"].tolist() == [0, 1, 1, 1, 1, 1]
    assert km["censored"].tolist() == [0, 0, 1, 0, 1, 0]
    s = [1, 6 / 7, 5 / 7, 15 / 28, 5 / 14, 0]
    np.testing.assert_allclose(km["survival"], s, rtol=0, atol=1e-15)
    # exponential Greenwood interval at t = 1: v = log(6/7), V = 1/42
    v, V = math.log(6 / 7), 1 / 42
    lo = math.exp(-math.exp(math.log(-v) + Z95 * math.sqrt(V) / -v))
    hi = math.exp(-math.exp(math.log(-v) - Z95 * math.sqrt(V) / -v))
    assert km["ci_lower"][1] == pytest.approx(lo, abs=1e-14) and km["ci_upper"][1] == pytest.approx(hi, abs=1e-14)
    # at t = 4: V = 1/42 + 1/30 + 1/12 + 1/6
    v, V = math.log(5 / 14), 1 / 42 + 1 / 30 + 1 / 12 + 1 / 6
    assert km["ci_lower"][4] == pytest.approx(math.exp(-math.exp(math.log(-v) + Z95 * math.sqrt(V) / -v)), abs=1e-14)
    # lifelines' printed values for this fixture (regression anchors)
    np.testing.assert_allclose(km["ci_lower"][1:5], [0.334054, 0.258154, 0.131988, 0.051977], atol=1e-6)
    np.testing.assert_allclose(km["ci_upper"][1:5], [0.978561, 0.919797, 0.824997, 0.698713], atol=1e-6)
    assert (km["ci_lower"][0], km["ci_upper"][0]) == (1.0, 1.0)  # S = 1
    assert (km["ci_lower"][5], km["ci_upper"][5]) == (0.0, 0.0)  # S = 0
    assert median_survival(km) == 4.0
    # band crossings: ci_lower <= 0.5 first at 1, ci_upper <= 0.5 first at 5 (lifelines: 1.0, 5.0)
    assert median_survival_ci(km) == (1.0, 5.0)


def test_median_conventions():
    # 4 people, no censoring: S = 3/4, 1/2, 1/4, 0. lifelines' convention: first time S <= 0.5 -> 2
    # (R survfit would say 2.5). Exactly 0.5 must not be missed through round-off.
    km = kaplan_meier_from_durations([1, 2, 3, 4], [1, 1, 1, 1])
    assert median_survival(km) == 2.0
    # never reaches 0.5 -> None (lifelines: inf)
    km = kaplan_meier_from_durations([1, 2, 3, 4], [1, 0, 0, 0])
    assert median_survival(km) is None
    assert median_survival_ci(km)[1] is None


def test_restricted_mean_by_hand():
    km = kaplan_meier_from_durations(KM_T, KM_E)
    # area to 3.5: 1*1 + 6/7*1 + 5/7*1 + 15/28*0.5
    assert restricted_mean(km, 3.5) == pytest.approx(1 + 6 / 7 + 5 / 7 + 15 / 28 / 2, abs=1e-14)
    # to 10 (flat at 0 after 5): (28 + 24 + 20 + 15 + 10) / 28 = 97/28
    mean, var = restricted_mean(km, 10, return_variance=True)
    assert mean == pytest.approx(97 / 28, abs=1e-14)
    # variance: sum A_i^2 d/(n(n-d)), A_i = area from t_i to 10: 69/28, 45/28, 25/28, 10/28, 0
    expected = (69 / 28) ** 2 / 42 + (45 / 28) ** 2 / 30 + (25 / 28) ** 2 / 12 + (10 / 28) ** 2 / 6
    assert var == pytest.approx(expected, abs=1e-14)
    assert restricted_mean(km, 0) == 0.0
    kmf = KaplanMeierFitter().fit(KM_T, KM_E)
    for tau in (0.5, 2, 3.5, 4.99, 5, 7):
        assert restricted_mean(km, tau) == pytest.approx(restricted_mean_survival_time(kmf, t=tau), abs=1e-12)


# ---------------------------------------------------------------------------------------------------------
# Aalen-Johansen by hand
#
# durations 1 2 2 2 3 4 4 5 6 6, causes 1 1 2 0 2 1 0 2 1 0
# (t = 2: a cause-1 and a cause-2 outcome tie with each other and with a censoring; t = 4 and 6: an outcome
#  ties with a censoring)
#  t  n  d1 d2 c   S(t-)   F1 increment        F2 increment       S(t)
#  1 10  1  0  0   1       1/10                 0                  9/10
#  2  9  1  1  1   9/10    9/10 * 1/9 = 1/10    1/10               9/10 * 7/9 = 7/10
#  3  6  0  1  0   7/10    0                    7/10 / 6 = 7/60    7/10 * 5/6 = 7/12
#  4  5  1  0  1   7/12    7/12 / 5 = 7/60      0                  7/12 * 4/5 = 7/15
#  5  3  0  1  0   7/15    0                    7/15 / 3 = 7/45    7/15 * 2/3 = 14/45
#  6  2  1  0  1   14/45   14/45 / 2 = 7/45     0                  14/45 * 1/2 = 7/45
# F1 = 1/10, 1/5, 1/5, 19/60, 19/60, 17/36;  F2 = 0, 1/10, 13/60, 13/60, 67/180, 67/180
# at 6: 17/36 + 67/180 + 7/45 = (85 + 67 + 28)/180 = 1
#
# Cause-specific KM of cause 1 (cause 2 censored): n = 10, 9, 6, 5, 3, 2 and d = 1, 1, 0, 1, 0, 1
#   S1 = 9/10, 8/10, 8/10, 16/25, 16/25, 8/25  ->  1 - S1(6) = 17/25 = 0.68  >  F1(6) = 17/36 = 0.472
#   (the people with cause 2 are kept "at risk of cause 1": the share with cause 1 is over-stated)

AJ_T = [1, 2, 2, 2, 3, 4, 4, 5, 6, 6]
AJ_E = [1, 1, 2, 0, 2, 1, 0, 2, 1, 0]


def test_aj_by_hand_with_ties():
    aj = aalen_johansen_from_durations(AJ_T, AJ_E, causes=("removal", "release"))
    assert aj["time"].tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert aj["at_risk"].tolist() == [10, 10, 9, 6, 5, 3, 2]
    f1 = [Fr(0), Fr(1, 10), Fr(1, 5), Fr(1, 5), Fr(19, 60), Fr(19, 60), Fr(17, 36)]
    f2 = [Fr(0), Fr(0), Fr(1, 10), Fr(13, 60), Fr(13, 60), Fr(67, 180), Fr(67, 180)]
    s = [Fr(1), Fr(9, 10), Fr(7, 10), Fr(7, 12), Fr(7, 15), Fr(14, 45), Fr(7, 45)]
    np.testing.assert_allclose(aj["cif_removal"], [float(v) for v in f1], rtol=0, atol=1e-15)
    np.testing.assert_allclose(aj["cif_release"], [float(v) for v in f2], rtol=0, atol=1e-15)
    np.testing.assert_allclose(aj["overall_survival"], [float(v) for v in s], rtol=0, atol=1e-15)
    assert all(a + b + c == 1 for a, b, c in zip(f1, f2, s))  # the hand values themselves add up
    total = aj["cif_removal"] + aj["cif_release"] + aj["overall_survival"]
    np.testing.assert_allclose(total, 1.0, rtol=0, atol=1e-14)

    km1 = kaplan_meier_from_durations(AJ_T, AJ_E, event="removal", causes=("removal", "release"))
    np.testing.assert_allclose(km1["survival"], [1, 0.9, 0.8, 0.8, 0.64, 0.64, 0.32], atol=1e-15)
    assert km1["censored"].tolist() == [0, 0, 2, 1, 1, 1, 1]  # other cause counted as censored
    bias = (1 - km1["survival"]) - aj["cif_removal"]
    assert bias.iloc[-1] == pytest.approx(17 / 25 - 17 / 36, abs=1e-14) and bias.iloc[-1] > 0.2
    assert (bias >= -1e-15).all()


def test_cause_specific_km_overstates_small():
    # 4 people: release at 1, removals at 2 and 3, still detained at 4.
    # CIF_removal(3) = 3/4 * 1/3 + 1/2 * 1/2 = 1/2 (2 of the 4 removed; 1 released; 1 still detained)
    # cause-specific KM: (1 - 1/3)(1 - 1/2) = 1/3  ->  1 - KM = 2/3 > 1/2
    t, e = [1, 2, 3, 4], [2, 1, 1, 0]
    aj = aalen_johansen_from_durations(t, e, causes=("removal", "release"))
    km = kaplan_meier_from_durations(t, e, event="removal", causes=("removal", "release"))
    assert aj["cif_removal"].iloc[-1] == pytest.approx(0.5, abs=1e-15)
    assert 1 - km["survival"].iloc[-1] == pytest.approx(2 / 3, abs=1e-15)


def test_aj_variance_by_direct_sum():
    """The vectorized variance equals the delta-method formula summed term by term."""
    aj = aalen_johansen_from_durations(AJ_T, AJ_E, causes=("removal", "release"))
    n = aj["at_risk"].to_numpy(float)
    d = aj["events"].to_numpy(float)
    lag = np.concatenate(([1.0], aj["overall_survival"].to_numpy()[:-1]))
    for c in ("removal", "release"):
        f = aj[f"cif_{c}"].to_numpy()
        dj = aj[f"events_{c}"].to_numpy(float)
        for i in range(len(f)):
            v = 0.0
            for h in range(i + 1):
                g = d[h] / (n[h] * (n[h] - d[h])) if n[h] > d[h] else 0.0
                v += (f[i] - f[h]) ** 2 * g + lag[h] ** 2 * dj[h] * (n[h] - dj[h]) / n[h] ** 3 \
                    - 2 * (f[i] - f[h]) * lag[h] * dj[h] / n[h] ** 2
            assert aj[f"cif_{c}_var"][i] == pytest.approx(v, abs=1e-15)


def test_outcomes_at_time_zero():
    # same-day outcomes (whole days floored -> t = 0): F1(0) = 1/3, S(0) = 2/3; F2(1) = 2/3 * 1/2 = 1/3
    aj = aalen_johansen_from_durations([0, 1, 2], [1, 2, 0], causes=("removal", "release"))
    assert aj["time"].tolist() == [0, 1, 2]
    np.testing.assert_allclose(aj["cif_removal"], [1 / 3, 1 / 3, 1 / 3], atol=1e-15)
    np.testing.assert_allclose(aj["cif_release"], [0, 1 / 3, 1 / 3], atol=1e-15)
    np.testing.assert_allclose(aj["overall_survival"], [2 / 3, 1 / 3, 1 / 3], atol=1e-15)
    # KM at time 0 as lifelines
    km = kaplan_meier_from_durations([0, 1, 2, 0, 3], [1, 1, 0, 0, 1])
    kmf = KaplanMeierFitter().fit([0, 1, 2, 0, 3], [1, 1, 0, 0, 1])
    np.testing.assert_allclose(km["survival"], kmf.survival_function_.iloc[:, 0], atol=1e-12)


# ---------------------------------------------------------------------------------------------------------
# Event tables


def test_event_table_and_aggregated_input():
    tab = event_table(AJ_T, AJ_E, causes=("removal", "release"))
    assert list(tab.columns) == ["time", "n_censored", "removal", "release"]
    assert tab["time"].tolist() == [1, 2, 3, 4, 5, 6]
    assert tab["n_censored"].tolist() == [0, 1, 0, 1, 0, 1]
    assert tab["removal"].tolist() == [1, 1, 0, 1, 0, 1]
    assert tab["release"].tolist() == [0, 1, 1, 0, 1, 0]
    ref = aalen_johansen(tab)
    # an engine's table: column 't', a constant group label, rows split, shuffled, a zero row
    eng = pd.DataFrame({"group": "all", "t": [6, 2, 1, 2, 5, 4, 3, 9],
                        "n_censored": [1, 1, 0, 0, 0, 1, 0, 0], "removal": [1, 0, 1, 1, 0, 1, 0, 0],
                        "release": [0, 1, 0, 0, 1, 0, 1, 0]})
    pd.testing.assert_frame_equal(aalen_johansen(eng, causes=("removal", "release")), ref)
    pd.testing.assert_frame_equal(kaplan_meier(eng, "removal"), kaplan_meier(tab, "removal"))


def test_engine_types():
    """Decimal sums (e.g. a HUGEINT from an engine) count; a 'group' column is a label even when numeric."""
    from decimal import Decimal

    tab = event_table(AJ_T, AJ_E, causes=("removal", "release"))
    ref = aalen_johansen(tab)
    eng = tab.assign(removal=[Decimal(int(v)) for v in tab["removal"]], group=2025)
    pd.testing.assert_frame_equal(aalen_johansen(eng), ref)
    pd.testing.assert_frame_equal(aalen_johansen(eng.assign(group=pd.Categorical(["a"] * len(eng)))), ref)
    with pytest.raises(ValueError, match="several groups"):
        aalen_johansen(eng.assign(group=range(len(eng))))


def test_event_table_errors():
    tab = event_table(AJ_T, AJ_E, causes=("removal", "release"))
    with pytest.raises(ValueError, match="several groups"):
        aalen_johansen(tab.assign(group=["a", "b"] * 3))
    with pytest.raises(ValueError, match="not among the causes"):
        aalen_johansen(tab, causes=("removal",))  # 'release' would silently stay at risk
    with pytest.raises(ValueError, match="not among the causes"):
        kaplan_meier(tab, event="transfer")
    with pytest.raises(ValueError, match="n_censored"):
        kaplan_meier(tab.drop(columns="n_censored"))
    with pytest.raises(ValueError, match=">= 0"):
        kaplan_meier(tab.assign(time=tab["time"] - 2))
    with pytest.raises(ValueError, match="event code"):
        event_table([1, 2], [1, 3], causes=("a", "b"))
    with pytest.raises(ValueError, match="reserved"):
        event_table([1, 2], [1, 0], causes=("at_risk",))


def test_any_cause_km_is_aj_overall_survival():
    rng = np.random.default_rng(3)
    t = rng.integers(0, 30, 400)
    e = rng.integers(0, 4, 400)
    aj = aalen_johansen_from_durations(t, e, causes=("removal", "release", "transfer"))
    km = kaplan_meier_from_durations(t, e, event=None, causes=("removal", "release", "transfer"))
    np.testing.assert_allclose(km["survival"], aj["overall_survival"], atol=1e-15)


def test_large_aggregated_table():
    """10 million people in a 2,000-row table: fast, finite, and the incidences add up."""
    rng = np.random.default_rng(4)
    days = np.arange(2000)
    tab = pd.DataFrame({"time": days, "n_censored": rng.poisson(500, days.size),
                        "removal": rng.poisson(2500, days.size), "release": rng.poisson(2000, days.size)})
    assert tab[["n_censored", "removal", "release"]].to_numpy().sum() > 9_000_000
    aj = aalen_johansen(tab)
    total = aj["cif_removal"] + aj["cif_release"] + aj["overall_survival"]
    np.testing.assert_allclose(total, 1.0, rtol=0, atol=1e-12)
    cols = [c for c in aj.columns if c.startswith("cif_")]
    assert np.isfinite(aj[cols].to_numpy()).all()
    assert (aj["cif_removal_lower"] <= aj["cif_removal"]).all() and (aj["cif_removal"] <= aj["cif_removal_upper"]).all()


# ---------------------------------------------------------------------------------------------------------
# Against lifelines on random fixtures


def _km_vs_lifelines(t, e):
    km = kaplan_meier_from_durations(t, e)
    kmf = KaplanMeierFitter().fit(t, e)
    assert km["time"].tolist() == kmf.timeline.tolist()
    np.testing.assert_allclose(km["survival"], kmf.survival_function_.iloc[:, 0], rtol=0, atol=1e-9)
    ci = kmf.confidence_interval_
    np.testing.assert_allclose(km["ci_lower"], ci.iloc[:, 0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(km["ci_upper"], ci.iloc[:, 1], rtol=0, atol=1e-9)
    assert km["at_risk"].tolist() == kmf.event_table["at_risk"].tolist()
    m = kmf.median_survival_time_
    assert median_survival(km) == (None if np.isinf(m) else m)
    lo, hi = median_survival_times(ci).iloc[0]
    assert median_survival_ci(km) == (None if np.isinf(lo) else lo, None if np.isinf(hi) else hi)
    return km


@pytest.mark.parametrize("seed", range(8))
def test_km_matches_lifelines(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 600))
    if seed % 2:  # integer days: many ties, events and censorings at the same time
        t = rng.geometric(1 / rng.uniform(5, 60), n).astype(float)
    else:
        t = np.round(rng.exponential(rng.uniform(5, 60), n), 3)
    e = (rng.uniform(size=n) < rng.uniform(0.3, 0.95)).astype(int)
    _km_vs_lifelines(t, e)


def test_km_matches_lifelines_alpha():
    rng = np.random.default_rng(11)
    t, e = rng.integers(1, 40, 300), rng.integers(0, 2, 300)
    km = kaplan_meier_from_durations(t, e, alpha=0.1)
    kmf = KaplanMeierFitter(alpha=0.1).fit(t, e)
    np.testing.assert_allclose(km[["ci_lower", "ci_upper"]], kmf.confidence_interval_, rtol=0, atol=1e-9)


def _competing_fixture(seed: int, k: int = 3):
    """Integer days with ties - within a cause and between outcomes and censorings - but no two causes at
    the same time (lifelines would jitter those at random)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 500))
    t = rng.geometric(1 / rng.uniform(8, 50), n)
    cause_of_day = rng.integers(1, k + 1, t.max() + 1)
    e = np.where(rng.uniform(size=n) < rng.uniform(0.1, 0.5), 0, cause_of_day[t])
    return t.astype(float), e


@pytest.mark.parametrize("seed", range(8))
def test_aj_matches_lifelines(seed):
    causes = ("removal", "release", "transfer")
    t, e = _competing_fixture(seed)
    assert not AalenJohansenFitter._check_for_duplicates(t, e)  # lifelines will not jitter: fair comparison
    aj = aalen_johansen_from_durations(t, e, causes=causes)
    total = aj[[f"cif_{c}" for c in causes]].sum(axis=1) + aj["overall_survival"]
    np.testing.assert_allclose(total, 1.0, rtol=0, atol=1e-12)
    for code, c in enumerate(causes, start=1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # lifelines' own 0/0 at F = 0 and d == n
            warnings.filterwarnings("error", message="Tied event times")
            ajf = AalenJohansenFitter(calculate_variance=True).fit(t, e, event_of_interest=code)
        assert aj["time"].tolist() == ajf.cumulative_density_.index.tolist()
        np.testing.assert_allclose(aj[f"cif_{c}"], ajf.cumulative_density_.iloc[:, 0], rtol=0, atol=1e-9)
        # variance and interval where lifelines defines them (it gives NaN where F = 0, F = 1, and from a
        # time where everybody left at risk has an outcome)
        var = ajf.variance_.to_numpy()
        ok = np.isfinite(var)
        np.testing.assert_allclose(aj[f"cif_{c}_var"][ok], var[ok], rtol=0, atol=1e-9)
        ci = ajf.confidence_interval_.to_numpy()
        ok = np.isfinite(ci).all(axis=1)
        assert ok.sum() > len(ok) / 2
        # lifelines' first column, labelled "upper", holds the lower limit (exp(-exp(log(-log F) + z se)))
        np.testing.assert_allclose(aj[f"cif_{c}_lower"][ok], ci[ok, 0], rtol=0, atol=1e-9)
        np.testing.assert_allclose(aj[f"cif_{c}_upper"][ok], ci[ok, 1], rtol=0, atol=1e-9)
        f = aj[f"cif_{c}"]
        assert (aj[f"cif_{c}_lower"] <= f + 1e-15).all() and (f <= aj[f"cif_{c}_upper"] + 1e-15).all()
        assert np.isfinite(aj[f"cif_{c}_var"]).all()


def test_aj_variance_finite_when_everybody_left_has_an_outcome():
    # last time: 1 at risk, 1 outcome (d == n). lifelines: variance NaN; here the d/(n(n-d)) term is
    # multiplied by (F(t) - F(t_h))^2 = 0 and taken as 0.
    t, e = [1, 2, 3, 4, 5, 6], [1, 2, 0, 1, 2, 1]
    aj = aalen_johansen_from_durations(t, e, causes=("removal", "release"))
    ajf = AalenJohansenFitter().fit(t, e, event_of_interest=1)
    assert np.isnan(ajf.variance_.iloc[-1])
    np.testing.assert_allclose(aj["cif_removal_var"][:-1], ajf.variance_.iloc[:-1], atol=1e-12)
    assert np.isfinite(aj["cif_removal_var"].iloc[-1]) and aj["cif_removal_var"].iloc[-1] > 0


def test_runtime_does_not_import_lifelines():
    import subprocess
    import sys

    code = ("import sys, icetrack.metrics.survival, icetrack.metrics.suppression; "
            "print('lifelines' in sys.modules, 'scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
