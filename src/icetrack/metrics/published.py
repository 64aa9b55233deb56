"""Outcome tables ready to publish, suppressed together with everything else published about the same people.

Every table here is one view of the same arrests: the funnel (cohort x state) with or without a breakdown,
the survival group table (group x outcome, with the group size ``n``) and its curves. They share totals, so
each is suppressed knowing what the others show, in a fixed order that does not depend on which one is asked
for (so the funnel by AOR shows exactly the totals the funnel alone shows):

0. the **release totals** - the funnel's totals row (each state and the number of arrests) and the survival
   table of everybody (removal, release, transfer, open and ``n``; ``n`` adds up the four states of linked
   arrests) - suppressed as one linked system (:func:`icetrack.metrics.linked.protect`, with the sum rule:
   suppressed values in a line add up to 0 or at least the threshold);
1. the **funnel without breakdown** (:func:`icetrack.metrics.suppression.suppress`, its totals row given by 0)
   and each **survival group table** (groups x outcomes, its row of everybody given by 0; a group whose size
   is suppressed is suppressed whole; sum rule), independently;
2. the **funnel with a breakdown**: its cells must not be recoverable from the funnel without breakdown
   (groups add up to it, per cohort and state) nor from the survival group table (cohorts add up to it, per
   group and outcome): one linked system with those tables fixed.

Curves are coarsened (:mod:`icetrack.metrics.curves`). Flows are suppressed across their three period grains
(days add up to weeks and to months). Shares are shown only where numerator and denominator are shown;
cumulative incidences only for outcomes whose count is shown.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from icetrack.domain import definitions
from icetrack.metrics import outcomes as oc
from icetrack.metrics.curves import CLASSES, Series, curve_hidden, grid, join, knots, partition
from icetrack.metrics.linked import protect, small
from icetrack.metrics.suppression import suppress
from icetrack.metrics.suppression_audit import TOTAL, LinkedSystem, _check_threshold, is_small, recoverable
from icetrack.metrics.survival import aalen_johansen, kaplan_meier

DEFAULT_THRESHOLD = 10
STATE_CLASS = {"removed": "removal", "released": "release", "transferred": "transfer", "detained": "open"}
CLASS_STATE = {v: k for k, v in STATE_CLASS.items()}
SIZE = "cohort_size"
CURVE_NOTE = ("Curves are shown at knots: between two knots, and after the last, each outcome (or group of "
              "suppressed outcomes) counts 0 or at least the threshold; at_risk is the number still followed "
              "after the knot's day (the first row, day 0, is everybody before any outcome). The incidence of an "
              "outcome whose count is suppressed is not shown.")


def _releases(pt: oc.PersonTables) -> dict[str, dict[str, Any]]:
    df = pt.cutoffs.to_pandas()
    return {r.release_id: {"cutoff": None if pd.isna(r.cutoff) else str(r.cutoff)[:10],
                           "synthetic": bool(getattr(r, "synthetic", False))} for r in df.itertuples()}


def _label(v) -> str:
    return str(v)[:10] if isinstance(v, (pd.Timestamp,)) or hasattr(v, "isoformat") else str(v)


# -- 0. release totals ------------------------------------------------------------------------------------
class Family:
    """The release totals (level 0) and the survival group tables (level 1) of one warehouse's releases,
    built on first use; the keys are those of :class:`~icetrack.metrics.suppression_audit.LinkedSystem`."""

    def __init__(self, pt: oc.PersonTables, threshold: int, counts: pd.DataFrame | None = None):
        self.pt, self.threshold = pt, threshold
        self.values: dict = {}
        self.sums: list = []
        self.suppressed: set = set()
        c = counts if counts is not None else oc.funnel(pt, "month").to_pandas()
        self.state_totals = c.groupby(["release_id", "state"]).n.sum()
        self.release_ids = sorted(c.release_id.unique())
        self._arrest_totals()
        self._groups: dict = {}

    def _arrest_totals(self) -> None:
        v, sums = {}, []
        for r in self.release_ids:
            for s in oc.STATES:
                v[("T", r, s)] = int(self.state_totals.get((r, s), 0))
            v[("T", r, SIZE)] = sum(v[("T", r, s)] for s in oc.STATES)
            sums.append((("T", r, SIZE), tuple(("T", r, s) for s in oc.STATES)))
        for cls in CLASSES:
            v[("S", "arrest", "all", cls)] = sum(v[("T", r, CLASS_STATE[cls])] for r in self.release_ids)
            sums.append((("S", "arrest", "all", cls), tuple(("T", r, CLASS_STATE[cls]) for r in self.release_ids)))
        v[("S", "arrest", "all", "n")] = sum(v[("S", "arrest", "all", c)] for c in CLASSES)
        sums.append((("S", "arrest", "all", "n"), tuple(("S", "arrest", "all", c) for c in CLASSES)))
        self._add(v, sums, protect(v, sums, self.threshold, suppressed=small(v, self.threshold), order=list(v),
                                   sum_rule=True))

    def _add(self, values: dict, sums: list, suppressed: set) -> None:
        self.values.update(values)
        self.sums += sums
        self.suppressed |= suppressed

    def origin_totals(self, origin: str, events: pd.DataFrame) -> None:
        """Level 0 for stays (origin book_in): everybody's outcomes and size, on their own."""
        if ("S", origin, "all", "n") in self.values:
            return
        v = {("S", origin, "all", c): int(events[_col(c)].sum()) for c in CLASSES}
        v[("S", origin, "all", "n")] = sum(v.values())
        sums = [(("S", origin, "all", "n"), tuple(("S", origin, "all", c) for c in CLASSES))]
        self._add(v, sums, protect(v, sums, self.threshold, suppressed=small(v, self.threshold), order=list(v),
                                   sum_rule=True))

    def hidden(self, origin: str, group: str) -> set[str]:
        """The classes (and ``n``) suppressed for one survival group."""
        return {k[3] for k in self.suppressed if k[:3] == ("S", origin, group)}

    def group_table(self, origin: str, breakdown: str, events: pd.DataFrame) -> list[str]:
        """Level 1: the survival group table of one breakdown (groups x outcomes and n, everybody's row given
        by level 0); returns the groups in order. From arrests, every group of the funnel is listed, with
        size 0 when none of its arrests was linked to a stay (a group left out would show those zeros)."""
        if (origin, breakdown) in self._groups:
            return self._groups[(origin, breakdown)]
        th = self.threshold
        per = events.groupby("group", sort=True)[["n_censored", *oc.CAUSES]].sum()
        if origin == "arrest":
            funnel_groups = oc.funnel(self.pt, "month", breakdown).to_pandas().group.unique()
            per = per.reindex(sorted(set(per.index) | set(funnel_groups)), fill_value=0)
        groups = [str(g) for g in per.index]
        v, sums = {}, []
        for g, row in zip(groups, per.itertuples(index=False)):
            counts = dict(zip(["n_censored", *oc.CAUSES], row))
            for c in CLASSES:
                v[("S", origin, g, c)] = int(counts[_col(c)])
            v[("S", origin, g, "n")] = sum(v[("S", origin, g, c)] for c in CLASSES)
            sums.append((("S", origin, g, "n"), tuple(("S", origin, g, c) for c in CLASSES)))
        for c in [*CLASSES, "n"]:
            sums.append((("S", origin, "all", c), tuple(("S", origin, g, c) for g in groups)))
        fixed = {k: self.values[k] for k in self.values if k[:3] == ("S", origin, "all")}
        start = small(v, th) | {k for k in fixed if k in self.suppressed}
        while True:  # a group whose size is suppressed is suppressed whole
            supp = protect({**v, **fixed}, sums, th, suppressed=start, fixed=fixed, order=list(v), sum_rule=True)
            whole = {("S", origin, g, c) for g in groups if ("S", origin, g, "n") in supp for c in CLASSES}
            if whole <= supp:
                break
            start = supp | whole
        self._add(v, sums, supp)
        self._groups[(origin, breakdown)] = groups
        return groups


def _col(cls: str) -> str:
    return "n_censored" if cls == "open" else cls


# -- the funnel -------------------------------------------------------------------------------------------
class _Funnel:
    """One release's funnel table with totals: true values and what is suppressed (primary / secondary)."""

    def __init__(self, wide: pd.DataFrame, table):
        self.true = wide.copy()
        self.true[TOTAL] = wide.sum(axis=1)
        self.true.loc[TOTAL] = self.true.sum(axis=0)
        self.supp = table.suppressed.copy()
        self.threshold = table.threshold

    def key(self, prefix: str, release_id: str, row, col):
        if row == TOTAL:  # the totals row is level 0's, shared by every funnel of the release
            return ("T", release_id, SIZE if col == TOTAL else col)
        return (prefix, release_id, row, col)

    def cells(self, prefix: str, release_id: str) -> dict:
        return {self.key(prefix, release_id, i, j): (int(self.true.at[i, j]), bool(self.supp.at[i, j]))
                for i in self.true.index for j in self.true.columns}

    def sums(self, prefix: str, release_id: str) -> list:
        k = lambda i, j: self.key(prefix, release_id, i, j)  # noqa: E731
        rows = [i for i in self.true.index if i != TOTAL]
        out = [(k(i, TOTAL), tuple(k(i, j) for j in oc.STATES)) for i in rows]
        return out + [(k(TOTAL, j), tuple(k(i, j) for i in rows)) for j in [*oc.STATES, TOTAL]]

    def rows(self) -> list[dict]:
        shown = self.true.astype("Int64").mask(self.supp)
        out = []
        for label in self.true.index:
            cohort, _, group = str(label).partition(" | ")
            size = shown.at[label, TOTAL]
            cells = {}
            for state in [*oc.STATES, TOTAL]:
                v = shown.at[label, state]
                status = ("published" if not self.supp.at[label, state] else
                          "primary" if self.true.at[label, state] < self.threshold else "secondary")
                share = None if pd.isna(v) or pd.isna(size) or size == 0 else round(float(v) / float(size), 6)
                cells[SIZE if state == TOTAL else state] = {"count": None if pd.isna(v) else int(v),
                                                            "share": share, "status": status}
            total = label == TOTAL
            out.append({"cohort": "all" if total else cohort, "group": "all" if total else group, **cells})
        return out


def published_funnel(pt: oc.PersonTables, period: str = "month", breakdown: str | None = None,
                     threshold: int = DEFAULT_THRESHOLD) -> dict[str, Any]:
    threshold = _check_threshold(threshold)
    counts = oc.funnel(pt, period, breakdown).to_pandas()
    family = Family(pt, threshold, counts)
    excluded = oc.excluded_without_identifier(pt).to_pandas()
    releases = _releases(pt)
    tables = {r: _funnel_table(family, _wide(counts, r), r) for r in family.release_ids}
    if breakdown is None:
        issues = _issues(family, tables, {})
    else:
        family.group_table("arrest", breakdown, oc.event_table(pt, "arrest", breakdown).to_pandas())
        plain = counts.assign(group="all").groupby(["release_id", "cohort", "group", "state"], as_index=False).n.sum()
        base = {r: _funnel_table(family, _wide(plain, r), r) for r in family.release_ids}
        issues = _breakdown(family, tables, base)
    out = []
    for release_id in family.release_ids:
        ex = excluded[excluded.release_id == release_id]
        out.append({"release_id": release_id, **releases.get(release_id, {}), "rows": tables[release_id].rows(),
                    "arrests_without_identifier": int(ex.without_identifier.iloc[0]) if len(ex) else 0,
                    "audit": issues})
    return {"metric": "cohort_funnel", "period": period, "breakdown": breakdown, "threshold": threshold,
            "states": list(oc.STATES), "synthetic": any(r.get("synthetic") for r in out),
            "definitions": definitions.OUTCOMES, "releases": out}


def _wide(counts: pd.DataFrame, release_id: str) -> pd.DataFrame:
    g = counts[counts.release_id == release_id]
    g = g.assign(row=g.cohort.map(_label) + " | " + g.group.astype(str))
    wide = g.pivot_table(index="row", columns="state", values="n", aggfunc="sum", fill_value=0)
    return wide.reindex(columns=list(oc.STATES), fill_value=0).astype("int64")


def _funnel_table(family: Family, wide: pd.DataFrame, release_id: str) -> _Funnel:
    """Level 1: one release's funnel table, its totals row as level 0 suppressed it."""
    given = pd.DataFrame([[("T", release_id, s) in family.suppressed for s in [*oc.STATES, SIZE]]],
                         index=[TOTAL], columns=[*oc.STATES, TOTAL])
    # zeros are small counts, except at threshold 1 (no suppression), where they are shown like any count
    return _Funnel(wide, suppress(wide, threshold=family.threshold, given=given,
                                  allow_zeros=not is_small(0, family.threshold)))


def _breakdown(family: Family, tables: dict[str, _Funnel], base: dict[str, _Funnel]) -> list[str]:
    """Level 2: each release's breakdown funnel protected against the funnel without breakdown (``base``,
    fixed) and the survival group table (fixed); updates ``tables`` and returns the linked audit."""
    values, sums, order = dict(family.values), list(family.sums), []
    fixed, start = set(family.values), set(family.suppressed)
    for r, table in tables.items():
        for key, (v, supp) in base[r].cells("M", r).items():
            values.setdefault(key, v)
            fixed.add(key)
            if supp:
                start.add(key)
        for key, (v, supp) in table.cells("x", r).items():
            if key[0] == "x":
                values[key] = v
                order.append(key)
                if supp:
                    start.add(key)
        sums += table.sums("x", r) + base[r].sums("M", r) + _group_sums(table, r)
    sums += _class_sums(tables)
    supp = protect(values, sums, family.threshold, suppressed=start, fixed=fixed, order=order)
    for r, table in tables.items():
        for i in table.true.index:
            for j in table.true.columns:
                table.supp.at[i, j] = table.key("x", r, i, j) in supp
    return _audit(values, sums, supp)


def _group_sums(table: _Funnel, release_id: str) -> list:
    """Each cohort's cell of the funnel without breakdown adds up that cohort's groups."""
    by_cohort: dict[str, list] = {}
    for label in table.true.index:
        if label != TOTAL:
            by_cohort.setdefault(str(label).partition(" | ")[0], []).append(label)
    return [(("M", release_id, f"{c} | all", j), tuple(("x", release_id, lab, j) for lab in labels))
            for c, labels in by_cohort.items() for j in [*oc.STATES, TOTAL]]


def _class_sums(tables: dict[str, _Funnel]) -> list:
    """Each survival group's outcome count adds up that group's cohorts (all releases)."""
    parts: dict[tuple, list] = {}
    for r, table in tables.items():
        for label in table.true.index:
            if label == TOTAL:
                continue
            group = str(label).partition(" | ")[2]
            for state, cls in STATE_CLASS.items():
                parts.setdefault(("S", "arrest", group, cls), []).append(("x", r, label, state))
    return [(k, tuple(v)) for k, v in parts.items()]


def _issues(family: Family, tables: dict[str, _Funnel], base: dict) -> list[str]:
    values, sums, supp = dict(family.values), list(family.sums), set(family.suppressed)
    for r, table in tables.items():
        for key, (v, s) in table.cells("M", r).items():
            values.setdefault(key, v)
            if s:
                supp.add(key)
        sums += table.sums("M", r)
    return _audit(values, sums, supp)


def _audit(values: dict, sums: list, supp: set) -> list[str]:
    """Suppressed values still recoverable from everything shown (should be none)."""
    shown = LinkedSystem({k: (None if k in supp else v) for k, v in values.items()}, sums)
    return [f"{k!r}: suppressed value is recoverable from the linked tables" for k in recoverable(shown)]


# -- survival ---------------------------------------------------------------------------------------------
def published_survival(pt: oc.PersonTables, origin: str = "arrest", breakdown: str | None = None,
                       threshold: int = DEFAULT_THRESHOLD, alpha: float = 0.05) -> dict[str, Any]:
    """Kaplan-Meier (time to removal; other exits censored) and Aalen-Johansen cumulative incidence of
    removal, release and transfer, per group: group table suppressed with the funnel's totals, curves
    coarsened to knots (:mod:`icetrack.metrics.curves`)."""
    threshold = _check_threshold(threshold)
    everybody = oc.event_table(pt, origin, None).to_pandas()
    family = Family(pt, threshold)
    if origin != "arrest":
        family.origin_totals(origin, everybody)
    everybody = everybody.drop(columns=["group"]).rename(columns={"t": "time"})
    all_hidden, solo = _solo(family.hidden(origin, "all"), everybody, threshold)
    if breakdown is None:
        tables = {"all": everybody}
        hidden = {"all": all_hidden}
        shown_knots = solo
    else:
        events = oc.event_table(pt, origin, breakdown).to_pandas()
        groups = family.group_table(origin, breakdown, events)
        tables = {g: events[events.group.astype(str) == g].drop(columns=["group"]).rename(columns={"t": "time"})
                  for g in groups}  # a group without linked arrests has an empty table (and is suppressed)
        hidden, shown_knots, best = {}, [], -1
        for rare in (False, True):  # the variant showing more (knots x outcomes drawn); ties to the first
            h = {g: _drawn(family.hidden(origin, g), tables[g], threshold, rare) for g in groups}
            k = _family_knots(tables, everybody, h, all_hidden, solo, threshold)
            score = len(k) * sum(_shown(h[g]) for g in groups if "n" not in h[g])
            if score > best:
                hidden, shown_knots, best = h, k, score
    out = []
    for group, table in tables.items():
        if "n" in hidden[group]:
            out.append({"group": group, "n": None, "suppressed": True})
        elif table[[*_counts()]].to_numpy().sum() == 0:  # nobody (shown as 0 only at threshold 1)
            out.append(_empty_group(group))
        else:
            suppressed = family.hidden(origin, group)
            out.append(_group_curves(group, table, suppressed, hidden[group] - {"n"}, shown_knots, alpha))
    releases = _releases(pt)
    return {"metric": "time_to_outcome", "origin": origin, "breakdown": breakdown, "threshold": threshold,
            "alpha": alpha, "synthetic": any(r["synthetic"] for r in releases.values()),
            "releases": releases, "groups": out,
            "definitions": definitions.OUTCOMES + "\nKaplan-Meier treats release and transfer as censoring (cause-specific); "
                           "the cumulative incidence (Aalen-Johansen) is the share of people with each outcome by "
                           "time t under competing risks; CIFs plus the share still open sum to 1.\n" + CURVE_NOTE}


def _drawn(hidden: set[str], table: pd.DataFrame, threshold: int, rare: bool) -> set[str]:
    """The classes a group's curves do not show: suppressed ones (plus ``n`` if suppressed), and with ``rare``
    those too rare to draw (:func:`~icetrack.metrics.curves.curve_hidden`)."""
    if "n" in hidden or not rare:
        return set(hidden)
    totals = {c: float(table[_col(c)].sum()) for c in CLASSES}
    return set(curve_hidden(hidden, totals, threshold))


def _solo(hidden: set[str], everybody: pd.DataFrame, threshold: int) -> tuple[set[str], list[float]]:
    """Everybody's curve on its own: the classes it does not show and its knots (the variant with more knots;
    ties to the one showing more)."""
    if "n" in hidden:
        return hidden, []
    times, counts = grid({"all": everybody})
    best: tuple[set[str], list[float], int] | None = None
    for rare in (False, True):  # the variant showing more (knots x outcomes drawn); ties to the first
        h = _drawn(hidden, everybody, threshold, rare)
        k = knots(times, [Series(counts["all"], partition(h - {"n"}))], threshold)
        if best is None or len(k) * _shown(h) > best[2]:
            best = (h, k, len(k) * _shown(h))
    return best[0], best[1]


def _shown(hidden: set[str]) -> int:
    """How many outcomes a curve draws (the censored count as one: the share still open)."""
    return sum(c not in hidden for c in CLASSES)


def _counts() -> list[str]:
    return ["n_censored", *oc.CAUSES]


def _family_knots(tables: dict, everybody: pd.DataFrame, hidden: dict, all_hidden: set, solo: list,
                  threshold: int) -> list[float]:
    """A breakdown's knots: among everybody's, valid for every shown group and for the remainder (the groups
    not shown, which everybody's curve minus the shown groups' reveals)."""
    shown = [g for g in tables if "n" not in hidden[g]]
    times, counts = grid({**{g: tables[g] for g in shown}, "__all__": everybody})
    series = [Series(counts[g], partition(hidden[g])) for g in shown]
    if len(shown) < len(tables):
        rest = counts["__all__"] - sum((counts[g] for g in shown), np.zeros_like(counts["__all__"]))
        classes = join([partition(all_hidden - {"n"}), *(partition(hidden[g]) for g in shown)])
        series.append(Series(rest, classes, shown=False))
    return knots(times, series, threshold, candidates=solo) if series else []


def _at(frame: pd.DataFrame, t: float) -> pd.Series:
    """The estimator's row in force at time t (the last row at or before t)."""
    i = int(np.searchsorted(frame["time"].to_numpy(dtype=float), t, side="right")) - 1
    return frame.iloc[max(i, 0)]


def _group_curves(group: str, table: pd.DataFrame, suppressed: set[str], hidden: set[str], at: list[float],
                  alpha: float) -> dict:
    """One group's published curves: a start row (day 0, everybody at risk) and a row per knot; ``suppressed``:
    the classes its table suppresses, ``hidden``: those its curves do not show."""
    n = int(table[_counts()].to_numpy().sum())
    km = kaplan_meier(table, event="removal", alpha=alpha, causes=list(oc.CAUSES))
    aj = aalen_johansen(table, causes=list(oc.CAUSES), alpha=alpha)
    t = table["time"].to_numpy(dtype=float)
    exits = table[_counts()].to_numpy().sum(axis=1)
    remaining = [n - int(exits[t <= k].sum()) for k in at]
    curve = [{"time": 0, "at_risk": n, "survival": 1.0, "ci_lower": 1.0, "ci_upper": 1.0}]
    cif = [{"time": 0, "at_risk": n, "overall_survival": None if "open" in hidden else 1.0,
            **{c: ({"cif": 0.0, "ci_lower": 0.0, "ci_upper": 0.0} if c not in hidden else None) for c in oc.CAUSES}}]
    for k, left in zip(at, remaining):
        r, a = _at(km, k), _at(aj, k)
        curve.append({"time": int(k), "at_risk": left, "survival": _r(r.survival), "ci_lower": _r(r.ci_lower),
                      "ci_upper": _r(r.ci_upper)})
        cif.append({"time": int(k), "at_risk": left,
                    "overall_survival": None if "open" in hidden else _r(a.overall_survival),
                    **{c: None if c in hidden else {"cif": _r(a[f"cif_{c}"]), "ci_lower": _r(a[f"cif_{c}_lower"]),
                                                    "ci_upper": _r(a[f"cif_{c}_upper"])} for c in oc.CAUSES}})
    if "removal" in hidden:
        curve = []
    last = cif[-1]
    median = next((row["time"] for row in curve if row["survival"] <= 0.5 + 1e-12), None)
    return {"group": group, "n": n, "suppressed": False,
            "events": {c: None if c in suppressed else int(table[c].sum()) for c in oc.CAUSES},
            "open_at_cutoff": None if "open" in suppressed else int(table.n_censored.sum()),
            "median_days_to_removal_km": None if median is None else float(median),
            "cif_at_last_time": {c: None if last[c] is None else last[c]["cif"] for c in oc.CAUSES},
            "still_open_share_at_last_time": last["overall_survival"], "last_time_shown": last["time"],
            "kaplan_meier": curve, "cumulative_incidence": cif}


def _empty_group(group: str) -> dict:
    """A group of size 0 whose size is shown (threshold 1): zero counts, no curve to estimate."""
    return {"group": group, "n": 0, "suppressed": False, "events": dict.fromkeys(oc.CAUSES, 0), "open_at_cutoff": 0,
            "median_days_to_removal_km": None, "cif_at_last_time": dict.fromkeys(oc.CAUSES),
            "still_open_share_at_last_time": None, "last_time_shown": None, "kaplan_meier": [],
            "cumulative_incidence": []}


def _r(v) -> float | None:
    return None if v is None or pd.isna(v) else round(float(v), 6)


def funnel_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """A published funnel as flat rows (one per release, cohort and group): counts and shares per state."""
    return [{"release_id": r["release_id"], "cutoff": r.get("cutoff"), "cohort": row["cohort"], "group": row["group"],
             **{f"{k}_count": v["count"] for k, v in row.items() if isinstance(v, dict)},
             **{f"{k}_share": v["share"] for k, v in row.items() if isinstance(v, dict) and k != SIZE}}
            for r in result["releases"] for row in r["rows"]]


def survival_rows(result: dict[str, Any], curve: str) -> list[dict[str, Any]]:
    """Published survival as flat rows of one curve ('km' or 'cif'), suppressed groups left out; a value
    that is not shown is empty."""
    shown = [g for g in result["groups"] if not g["suppressed"]]
    if curve == "km":
        return [{"group": g["group"], **row} for g in shown for row in g["kaplan_meier"]]
    keys = ("cif", "ci_lower", "ci_upper")
    return [{"group": g["group"], "time": row["time"], "at_risk": row["at_risk"],
             "overall_survival": row["overall_survival"],
             **{f"{c}_{k}": (row[c] or {}).get(k) for c in oc.CAUSES for k in keys}}
            for g in shown for row in g["cumulative_incidence"]]


# -- flows ------------------------------------------------------------------------------------------------
FLOW_KINDS = ("arrests", "book_ins", "removals")


def published_flows(pt: oc.PersonTables, stints, period: str = "month",
                    threshold: int = DEFAULT_THRESHOLD) -> dict[str, Any]:
    """Arrests, book-ins and removals per period and release, suppressed consistently across the three
    period grains: a day, week or month below the threshold is suppressed, and days are complemented so that
    no suppressed day (or week, or month) is recoverable from the weeks and months shown for the same
    series. Returns ``rows`` (counts ``None`` where suppressed) and the linked audit."""
    if period not in oc.PERIODS:
        raise ValueError(f"period must be one of {', '.join(oc.PERIODS)}")
    return published_flow_grains(pt, stints, _check_threshold(threshold))[period]


def published_flow_grains(pt: oc.PersonTables, stints, threshold: int = DEFAULT_THRESHOLD) -> dict[str, dict]:
    """:func:`published_flows` for every period grain at once (one protection serves the three)."""
    threshold = _check_threshold(threshold)
    days = oc.flows(pt, stints, "day").to_pandas()
    days["day"] = pd.to_datetime(days.period_start)
    days["week"] = days.day - pd.to_timedelta(days.day.dt.weekday, unit="D")
    days["month"] = days.day.dt.to_period("M").dt.to_timestamp()
    shown: dict[tuple, int | None] = {}
    issues: list[str] = []
    for values, sums in _flow_systems(days):
        supp = protect(values, sums, threshold, suppressed=small(values, threshold), order=list(values))
        issues += _audit(values, sums, supp)
        shown.update({k: (None if k in supp else v) for k, v in values.items()})
    out = {}
    for period, grain in (("day", "d"), ("week", "w"), ("month", "m")):
        rows = [{"release_id": release_id, "period_start": str(start)[:10],
                 **{k: shown[(grain, release_id, k, start)] for k in FLOW_KINDS}}
                for (release_id, start), _ in days.groupby(["release_id", period], sort=True)]
        out[period] = {"metric": "flows", "period": period, "threshold": threshold, "rows": rows, "audit": issues}
    return out


def _flow_systems(days: pd.DataFrame):
    """Per release and kind: the day, week and month counts and the sums tying them."""
    for release_id, g in days.groupby("release_id", sort=True):
        for kind in FLOW_KINDS:
            values: dict = {}
            sums = []
            for grain, col in (("d", "day"), ("w", "week"), ("m", "month")):
                per = g.groupby(col, sort=True)[kind].sum()
                values.update({(grain, release_id, kind, p): int(v) for p, v in per.items()})
            for grain, col in (("w", "week"), ("m", "month")):
                for p, members in g.groupby(col, sort=True):
                    sums.append(((grain, release_id, kind, p), tuple(("d", release_id, kind, d) for d in members.day)))
            yield values, sums
