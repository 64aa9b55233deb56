"""Suppression across linked publications: totals and breakdowns, counts and shares, curves, flows.

The audit (icetrack.metrics.publication_audit) reads only what is published and combines the tables a reader
holds; these tests check that it finds what combining tables gives away, and that what icetrack publishes
gives nothing away (on the shared 3,000-person synthetic release and, when present, the real WA records)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from helpers import Icetrack, person_release, shared_data_dir
from icetrack.metrics import outcomes as oc
from icetrack.metrics.curves import Series, knots, partition
from icetrack.metrics.linked import protect, small
from icetrack.metrics.publication_audit import audit_publications
from icetrack.metrics.published import published_flow_grains, published_funnel, published_survival
from icetrack.metrics.suppression import suppress
from icetrack.metrics.suppression_audit import LinkedSystem, audit, recoverable
from icetrack.metrics.survival import aalen_johansen, kaplan_meier
from icetrack.warehouse import open_warehouse
from icetrack.warehouse.engines import duckdb_tables
from icetrack.warehouse.person import load_person_release

JOINED = "uwchr-deport-data-proj/joined_df_wa.csv"
SEATTLE = "uwchr-ice-enforce/aor-seattle-raw"


# -- the linear machinery ---------------------------------------------------------------------------------
def test_recoverable_agrees_with_the_table_audit_on_random_tables():
    """Exact elimination modulo a prime finds the same determined cells as the table audit's rank test."""
    rng = np.random.default_rng(7)
    for _ in range(30):
        r, c = rng.integers(2, 7, size=2)
        x = rng.poisson(6, size=(r, c))
        hide = rng.random((r, c)) < 0.35
        system = LinkedSystem()
        frame = pd.DataFrame(x.astype(float))
        frame["Total"] = x.sum(axis=1)
        frame.loc["Total"] = frame.sum(axis=0)
        for i in range(r):
            for j in range(c):
                system.show((i, j), None if hide[i, j] else x[i, j])
                if hide[i, j]:
                    frame.iat[i, j] = np.nan
            system.show((i, "T"), x[i].sum())
            system.link((i, "T"), [(i, j) for j in range(c)])
        for j in range(c):
            system.show(("T", j), x[:, j].sum())
            system.link(("T", j), [(i, j) for i in range(r)])
        found = recoverable(system, nonnegative=False)
        by_rank = {tuple(int(v) for v in k[1:-1].split(", ")) for k in
                   (issue.split(":")[0] for issue in audit(frame, intervals=False) if "determined" in issue)}
        assert set(found) == by_rank
        assert all(found[k] == x[k] for k in found)  # a recovered value is the true one


def test_recoverable_finds_zeros_pinned_by_non_negativity():
    system = LinkedSystem({"total": 25, "a": 25, "b": None, "c": None}, [("total", ("a", "b", "c"))])
    assert recoverable(system, nonnegative=False) == {}
    assert recoverable(system) == {"b": 0, "c": 0}


def test_protect_adds_a_complement_in_the_shared_sum_and_respects_fixed_values():
    # a total 40 = 3 + 17 + 20 shown by another table (fixed): the 3 needs the next smallest part, 17
    values = {"t": 40, "a": 3, "b": 17, "c": 20}
    supp = protect(values, [("t", ("a", "b", "c"))], 10, suppressed=small(values, 10), fixed={"t"})
    assert supp == {"a", "b"}
    # with the sum rule, suppressed parts must add up to at least the threshold: 3 + 4 = 7 -> add 17
    values = {"t": 44, "a": 3, "b": 4, "c": 17, "d": 20}
    assert protect(values, [("t", ("a", "b", "c", "d"))], 10, suppressed={"a", "b"}) == {"a", "b"}
    assert protect(values, [("t", ("a", "b", "c", "d"))], 10, suppressed={"a", "b"}, sum_rule=True) == {"a", "b", "c"}


def test_suppress_keeps_given_values():
    table = pd.DataFrame({"x": [5, 40, 30], "y": [20, 12, 25], "z": [30, 60, 15]}, index=["A", "B", "C"])
    assert not suppress(table).suppressed.loc["Total"].any()  # on its own the table protects (A, x) inside
    # another publication shows the totals row with x and z suppressed and y shown: they stay so, and y may
    # not be used as a complement
    given = pd.DataFrame([[True, False, True, False]], index=["Total"], columns=["x", "y", "z", "Total"])
    st = suppress(table, given=given)
    assert st.suppressed.loc["Total", ["x", "z"]].all() and not st.suppressed.loc["Total", ["y", "Total"]].any()
    assert st.secondary.loc["Total", "x"] and not st.primary.loc["Total", "x"]
    assert audit(st) == []


# -- the audit of published tables --------------------------------------------------------------------------
def _group(name, n, removal, release, transfer, open_, cif=None):
    return {"group": name, "n": n, "suppressed": n is None, "events": {"removal": removal, "release": release,
            "transfer": transfer}, "open_at_cutoff": open_, "cif_at_last_time": cif or {}, "kaplan_meier": [],
            "cumulative_incidence": []}


def _survival(groups, breakdown=None):
    return {"origin": "arrest", "breakdown": breakdown, "groups": groups}


def test_audit_recovers_a_suppressed_group_from_the_total_and_the_breakdown():
    """The WA records as published before: the total (n 44, removal 27, open 14) minus the one shown group
    (n 38, removal 24, open 13) gives the suppressed group: n 6, removal 3, open 1."""
    total = _survival([_group("all", 44, 27, None, None, 14)])
    by = _survival([_group("Convicted", 38, 24, None, None, 13), _group("Pending", None, None, None, None, None)],
                   "criminality")
    found = {f.key: f.value for f in audit_publications(survivals=[total, by]) if f.kind == "recoverable"}
    assert found[("S", "arrest", "Pending", "n")] == 6
    assert found[("S", "arrest", "Pending", "removal")] == 3
    assert found[("S", "arrest", "Pending", "open")] == 1
    assert audit_publications(survivals=[total]) == []  # each table alone gives nothing away


def test_audit_flags_an_incidence_shown_for_a_suppressed_count():
    g = _group("all", 44, 27, None, None, 14, cif={"removal": 0.63, "release": 0.0, "transfer": 0.068182})
    found = [f for f in audit_publications(survivals=[_survival([g])]) if f.kind == "share"]
    assert [(f.key[-1], f.value) for f in found] == [("transfer", 3)]


def test_audit_finds_small_counts_between_curve_steps():
    g = _group("all", 40, 25, 0, 0, 15)
    g["kaplan_meier"] = [{"time": 0, "at_risk": 40, "survival": 1.0}, {"time": 3, "at_risk": 37, "survival": 0.925},
                         {"time": 9, "at_risk": 20, "survival": 0.5}]
    found = {(f.key[-2], f.key[-1]): f.value for f in audit_publications(survivals=[_survival([g])])
             if f.kind == "curve"}
    # 3 left by day 3, all removed (40 x (1 - 0.925)); then 17 left, 37 x (1 - 0.5 / 0.925) = 17 removed: not small
    assert found == {(3, "left"): 3, (3, "removal"): 3}


def test_audit_recovers_a_cell_from_the_funnel_total_and_a_breakdown():
    """Each funnel suppressed on its own (as before): the breakdown hides a 4 behind its row total, but the
    funnel without breakdown shows that cohort's cell."""
    def rows(cells, group):
        out = []
        for cohort, (removed, size) in cells.items():
            row = {"cohort": cohort, "group": group, "cohort_size": {"count": size, "share": None}}
            for s in oc.STATES:
                row[s] = {"count": None, "share": None}
            row["removed"] = {"count": removed, "share": None}
            out.append(row)
        return out

    def funnel(breakdown, body):
        return {"period": "month", "breakdown": breakdown, "releases": [{"release_id": "r", "rows": body}]}

    plain = funnel(None, rows({"2025-01-01": (30, 60)}, "all"))
    by = funnel("aor", rows({"2025-01-01": (None, 30)}, "A") + rows({"2025-01-01": (26, 30)}, "B"))
    found = {f.key: f.value for f in audit_publications(funnels=[plain, by]) if f.kind == "recoverable"}
    assert found[("F", "r", "month", "aor", "2025-01-01", "A", "removed")] == 4


# -- curves ---------------------------------------------------------------------------------------------------
def test_knots_keep_every_block_at_zero_or_the_threshold():
    # removals at days 1..6 (4 a day), censorings at day 7 (12): blocks of removals must reach 10 (3 days), the
    # tail (12 censored) must pass too, and at least 10 must remain at risk after each knot
    times = np.arange(1, 8, dtype=float)
    counts = np.zeros((7, 4))
    counts[:6, 0] = 4
    counts[6, 3] = 12
    assert knots(times, [Series(counts, partition(()))], 10) == [3.0, 6.0]
    # 5 censored: every tail holds those 5, so no knot at all...
    counts[6, 3] = 5
    assert knots(times, [Series(counts, partition(()))], 10) == []
    # ...unless the censored are merged with the removals (both hidden): a tail of 12 + 5 after day 3 passes
    assert knots(times, [Series(counts, partition({"removal", "open"}))], 10) == [3.0]


# -- threshold 1: no suppression at all --------------------------------------------------------------------------
T0 = datetime(2025, 1, 10)


def _stint(person, days_in, days_out=None, reason=None):
    book_in = T0 + timedelta(days=days_in)
    book_out = None if days_out is None else T0 + timedelta(days=days_out)
    return {"unique_identifier": person * 40, "book_in_date_time": book_in, "stay_book_in_date_time": book_in,
            "detention_book_out_date_time": book_out, "stay_book_out_date_time": book_out,
            "stay_release_reason": reason, "detention_facility_code": "F"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Eight people arrested on Jan 10 2025 (cut-off Mar 31), by AOR. SEA: a removed day 20, b bonded out day 5,
    c still detained (censored day 80), i removed on the day of arrest (day 0). POO: d transferred day 9, h removed
    day 20 (a tie with a), j still detained (a tie with c) - no release in POO, and none in total but one. NOL: k,
    never booked in (no stay: the survival group NOL has size 0)."""
    aors = {"a": "SEA", "b": "SEA", "c": "SEA", "i": "SEA", "d": "POO", "h": "POO", "j": "POO", "k": "NOL"}
    with open_warehouse(tmp_path_factory.mktemp("tiny") / "wh.duckdb", load_reference=False) as wh:
        load_person_release(wh, person_release({
            "arrests": [{"unique_identifier": p * 40, "apprehension_date": T0, "apprehension_aor": aor}
                        for p, aor in aors.items()],
            "detention_stints": [_stint("a", 1, 20, "Removed"), _stint("b", 1, 5, "Bonded Out"), _stint("c", 1),
                                 _stint("i", 0.1, 0.5, "Removed"),
                                 _stint("d", 2, 9, "Transfer to U.S. Marshals or other agency"),
                                 _stint("h", 1, 20, "Removed"), _stint("j", 2)],
        }))
        yield duckdb_tables(wh)


def _estimates(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    km = kaplan_meier(table, event="removal", causes=list(oc.CAUSES))
    return km, aalen_johansen(table, causes=list(oc.CAUSES))


def _in_force(frame: pd.DataFrame, t: float) -> pd.Series:
    return frame.iloc[int(np.searchsorted(frame.time.to_numpy(dtype=float), t, side="right")) - 1]


def _assert_unsuppressed(g: dict, table: pd.DataFrame, times: list[float]) -> None:
    """One published group equals the estimators' values on ``table`` at every time of ``times``: counts exact
    (zeros as 0), every curve row shown after the start row, and nothing withheld."""
    assert g["suppressed"] is False
    assert g["n"] == int(table[["n_censored", *oc.CAUSES]].to_numpy().sum())
    assert g["events"] == {c: int(table[c].sum()) for c in oc.CAUSES}
    assert g["open_at_cutoff"] == int(table.n_censored.sum())
    km, aj = _estimates(table)
    kmr, cifr = g["kaplan_meier"], g["cumulative_incidence"]
    assert [r["time"] for r in kmr] == [r["time"] for r in cifr] == [0, *times]
    assert kmr[0] == {"time": 0, "at_risk": g["n"], "survival": 1.0, "ci_lower": 1.0, "ci_upper": 1.0}
    assert cifr[0]["overall_survival"] == 1.0 and all(cifr[0][c]["cif"] == 0.0 for c in oc.CAUSES)
    t = table.time.to_numpy(dtype=float)
    left = table[["n_censored", *oc.CAUSES]].to_numpy().sum(axis=1)
    for k, row, crow in zip(times, kmr[1:], cifr[1:]):
        r, a = _in_force(km, k), _in_force(aj, k)
        at_risk = g["n"] - int(left[t <= k].sum())  # the number still followed after the day
        assert row == {"time": k, "at_risk": at_risk, "survival": round(r.survival, 6),
                       "ci_lower": round(r.ci_lower, 6), "ci_upper": round(r.ci_upper, 6)}
        assert crow["at_risk"] == at_risk and crow["overall_survival"] == round(a.overall_survival, 6)
        for c in oc.CAUSES:
            assert crow[c] == {"cif": round(a[f"cif_{c}"], 6), "ci_lower": round(a[f"cif_{c}_lower"], 6),
                               "ci_upper": round(a[f"cif_{c}_upper"], 6)}
        assert sum(crow[c]["cif"] for c in oc.CAUSES) + crow["overall_survival"] == pytest.approx(1.0, abs=4e-6)
    last = cifr[-1]
    assert g["cif_at_last_time"] == {c: last[c]["cif"] for c in oc.CAUSES}
    assert g["still_open_share_at_last_time"] == last["overall_survival"]


def test_threshold_1_publishes_exactly_the_unsuppressed_values(tiny):
    """Threshold 1 means no small-cell suppression: counts (zeros shown as 0), group sizes and every row of the
    estimators are published as computed, with or without a breakdown, and the audit finds nothing."""
    everybody = oc.event_table(tiny).to_pandas().drop(columns=["group"]).rename(columns={"t": "time"})
    assert int(everybody.release.sum()) == 1 and 0.0 in set(everybody.time)  # a rare cause and an outcome on day 0
    times = [int(t) for t in everybody.time]  # every distinct time of the estimators: 0, 5, 9, 20, 80
    assert times == [0, 5, 9, 20, 80]
    (g,) = published_survival(tiny, threshold=1)["groups"]
    _assert_unsuppressed(g, everybody, times)
    assert g["kaplan_meier"][-1]["at_risk"] == 0  # nobody left after the last day: shown like any count
    by = published_survival(tiny, breakdown="aor", threshold=1)
    events = oc.event_table(tiny, "arrest", "aor").to_pandas().rename(columns={"t": "time"})
    groups = {x["group"]: x for x in by["groups"]}
    assert set(groups) == {"NOL", "POO", "SEA"}
    for name in ("POO", "SEA"):
        _assert_unsuppressed(groups[name], events[events.group == name].drop(columns=["group"]), times)
    assert groups["POO"]["events"]["release"] == 0  # a class with no events is a shown 0, not a suppressed one
    assert groups["NOL"]["n"] == 0 and groups["NOL"]["events"] == dict.fromkeys(oc.CAUSES, 0) \
        and groups["NOL"]["open_at_cutoff"] == 0 and not groups["NOL"]["suppressed"]
    funnels = [published_funnel(tiny, threshold=1), published_funnel(tiny, breakdown="aor", threshold=1)]
    for f in funnels:
        true = oc.funnel(tiny, "month", f["breakdown"]).to_pandas()
        for row in f["releases"][0]["rows"]:
            cells = [c for c in row.values() if isinstance(c, dict)]
            assert all(c["count"] is not None and c["status"] == "published" for c in cells)
            if row["cohort"] != "all":
                sel = true[true.group.astype(str) == row["group"]] if f["breakdown"] else true
                assert {s: row[s]["count"] for s in oc.STATES} == \
                    {s: int(sel[sel.state == s].n.sum()) for s in oc.STATES}
        assert f["releases"][0]["audit"] == []
    assert audit_publications(funnels, [published_survival(tiny, threshold=1), by], threshold=1) == []
    # threshold 2 suppresses again: the one release and the one transfer (shown as 0 / 1 at threshold 1), the
    # empty NOL group and the zeros; at 10 everything here is small
    (g2,) = published_survival(tiny, threshold=2)["groups"]
    assert (g2["n"], g2["events"], g2["open_at_cutoff"]) == (7, {"removal": 3, "release": None, "transfer": None}, 2)
    by2 = published_survival(tiny, breakdown="aor", threshold=2)
    assert {x["group"]: x["n"] for x in by2["groups"]}["NOL"] is None
    assert audit_publications([published_funnel(tiny, threshold=2)], [published_survival(tiny, threshold=2), by2],
                              threshold=2) == []
    assert published_survival(tiny, threshold=10)["groups"] == [{"group": "all", "n": None, "suppressed": True}]


# -- what icetrack publishes ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic(synthetic_warehouse):
    return Icetrack(synthetic_warehouse)


def test_funnel_with_and_without_breakdowns_reveals_nothing(synthetic):
    funnels = [synthetic.json("outcomes", "funnel")] + [synthetic.json("outcomes", "funnel", "--by", b)
                                                         for b in ("criminality", "program")]
    assert audit_publications(funnels=funnels) == []
    totals = [[r for r in f["releases"][0]["rows"] if r["cohort"] == "all"][0] for f in funnels]
    assert totals[0] == totals[1] == totals[2]  # one totals row, whichever table shows it
    by = funnels[1]["releases"][0]["rows"]
    assert {c["status"] for r in by for c in r.values() if isinstance(c, dict)} == {"primary", "secondary", "published"}


def test_funnel_is_suppressed_like_each_table_alone_plus_the_links(synthetic_warehouse):
    """The old way (each table suppressed on its own) leaves cells recoverable; the audit finds them."""
    with open_warehouse(synthetic_warehouse, read_only=True) as wh:
        pt = duckdb_tables(wh)
        old = [_alone(pt, b) for b in (None, "criminality")]
    found = [f for f in audit_publications(funnels=old) if f.kind == "recoverable"]
    assert len(found) >= 5 and any(0 < f.value < 10 for f in found)


def _alone(pt, breakdown):
    counts = oc.funnel(pt, "month", breakdown).to_pandas()
    g = counts.assign(row=counts.cohort.astype(str).str[:10] + " | " + counts.group.astype(str))
    wide = g.pivot_table(index="row", columns="state", values="n", aggfunc="sum", fill_value=0)
    table = suppress(wide.reindex(columns=list(oc.STATES), fill_value=0).astype("int64"))
    rows = []
    for label in table.published.index:
        cohort, _, group = str(label).partition(" | ")
        cells = {("cohort_size" if s == "Total" else s): {"count": None if pd.isna(v) else int(v), "share": None}
                 for s, v in table.published.loc[label].items()}
        total = label == "Total"
        rows.append({"cohort": "all" if total else cohort, "group": "all" if total else group, **cells})
    return {"period": "month", "breakdown": breakdown, "releases": [{"release_id": "r", "rows": rows}]}


def test_survival_total_and_breakdowns_reveal_nothing_and_keep_the_estimates(synthetic, synthetic_warehouse):
    survivals = [synthetic.json("outcomes", "km")] + [synthetic.json("outcomes", "km", "--by", b)
                                                      for b in ("criminality", "program")]
    survivals += [synthetic.json("outcomes", "cif", "--origin", "book_in"),
                  synthetic.json("outcomes", "cif", "--origin", "book_in", "--by", "criminality")]
    funnels = [synthetic.json("outcomes", "funnel"), synthetic.json("outcomes", "funnel", "--by", "criminality")]
    assert audit_publications(funnels=funnels, survivals=survivals) == []
    (everybody,) = survivals[0]["groups"]
    rows = everybody["cumulative_incidence"]
    assert len(rows) >= 4 and all(r["at_risk"] >= 10 for r in rows)
    # the published values are the estimators' own at the days shown (coarsening drops rows, changes none)
    with open_warehouse(synthetic_warehouse, read_only=True) as wh:
        table = oc.event_table(duckdb_tables(wh)).to_pandas().drop(columns=["group"]).rename(columns={"t": "time"})
    km = kaplan_meier(table, causes=list(oc.CAUSES)).set_index("time")
    aj = aalen_johansen(table, causes=list(oc.CAUSES)).set_index("time")
    for row in everybody["kaplan_meier"][1:]:
        assert row["survival"] == round(km.at[row["time"], "survival"], 6)
    for row in rows[1:]:
        assert row["removal"]["cif"] == round(aj.at[row["time"], "cif_removal"], 6)


def test_flows_are_suppressed_across_days_weeks_and_months(synthetic):
    flows = [synthetic.json("outcomes", "flows", "--period", p) for p in ("day", "week", "month")]
    assert audit_publications(flows=flows) == []
    shown = [r[k] for f in flows for r in f["rows"] for k in ("arrests", "book_ins", "removals") if r[k] is not None]
    assert shown and min(shown) >= 10
    day = {r["period_start"]: r["arrests"] for r in flows[0]["rows"]}
    assert sum(v is None for v in day.values()) > len(day) / 2  # 3,000 people: most days are small


# -- the real records -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real(tmp_path_factory):
    data = shared_data_dir()
    if data is None:
        pytest.skip("real public source files not found (set $ICETRACK_SHARED_DATA to their folder)")
    run = Icetrack(tmp_path_factory.mktemp("real") / "wh.duckdb")
    run("ingest", str(data / SEATTLE))
    run("ingest", str(data / JOINED))
    return run


def test_real_km_total_and_by_criminality_reveal_nothing(real):
    total, by = real.json("outcomes", "km"), real.json("outcomes", "km", "--by", "criminality")
    (everybody,) = total["groups"]
    assert everybody["n"] == 44 and everybody["events"]["removal"] == 27
    # 0 releases and 3 transfers are small, and so is their sum: the 14 still detained are suppressed too, and
    # no incidence of a suppressed outcome (nor the share still open) is shown
    assert everybody["events"]["transfer"] is None and everybody["open_at_cutoff"] is None
    assert everybody["cif_at_last_time"]["transfer"] is None and everybody["still_open_share_at_last_time"] is None
    # Pending Criminal Charges (6 people) is suppressed, so Convicted Criminal (38) is too: 44 - 38 = 6
    assert [g["suppressed"] for g in by["groups"]] == [True, True]
    steps = [r["at_risk"] for r in everybody["kaplan_meier"]]
    assert all(a - b == 0 or a - b >= 10 for a, b in zip(steps, steps[1:]))
    book_in = [real.json("outcomes", "km", "--origin", "book_in"),
               real.json("outcomes", "km", "--origin", "book_in", "--by", "criminality")]
    funnels = [real.json("outcomes", "funnel"), real.json("outcomes", "funnel", "--by", "criminality")]
    assert audit_publications(funnels=funnels, survivals=[total, by, *book_in]) == []


def test_real_daily_flows_reveal_nothing(real):
    with open_warehouse(real.warehouse, read_only=True) as wh:
        grains = published_flow_grains(duckdb_tables(wh), wh.ibis().table("detention_stints"))
    flows = [grains[p] for p in ("day", "week", "month")]
    assert audit_publications(flows=flows) == []
    day = flows[0]["rows"]
    assert len(day) == 3192
    assert all(r[k] is None or r[k] >= 10 for r in day for k in ("arrests", "book_ins", "removals"))
