"""Outcome tables ready to publish: engine results + estimators + small-cell suppression.

Every breakdown of person-level data passes through :func:`icetrack.metrics.suppression.suppress`
(threshold default 10, complementary suppression); survival curves are cut where fewer than the threshold
remain at risk. Every result names the release, its cut-off, the definitions and whether it is synthetic.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from icetrack.domain import definitions
from icetrack.metrics import outcomes as oc
from icetrack.metrics.suppression import suppress
from icetrack.metrics.survival import aalen_johansen, kaplan_meier, median_survival

DEFAULT_THRESHOLD = 10


def _releases(pt: oc.PersonTables) -> dict[str, dict[str, Any]]:
    df = pt.cutoffs.to_pandas()
    return {r.release_id: {"cutoff": None if pd.isna(r.cutoff) else str(r.cutoff)[:10],
                           "synthetic": bool(getattr(r, "synthetic", False))} for r in df.itertuples()}


def _label(v) -> str:
    return str(v)[:10] if isinstance(v, (pd.Timestamp,)) or hasattr(v, "isoformat") else str(v)


def published_funnel(pt: oc.PersonTables, period: str = "month", breakdown: str | None = None,
                     threshold: int = DEFAULT_THRESHOLD) -> dict[str, Any]:
    counts = oc.funnel(pt, period, breakdown).to_pandas()
    excluded = oc.excluded_without_identifier(pt).to_pandas()
    releases = _releases(pt)
    out = []
    for release_id, g in counts.groupby("release_id", sort=True):
        g = g.assign(row=g.cohort.map(_label) + " | " + g.group.astype(str))
        wide = g.pivot_table(index="row", columns="state", values="n", aggfunc="sum", fill_value=0)
        wide = wide.reindex(columns=list(oc.STATES), fill_value=0).astype("int64")
        table = suppress(wide, threshold=threshold)
        shares = table.shares("row")
        rows = []
        for label in table.published.index:
            cohort, _, group = str(label).partition(" | ")
            cells = {}
            for state in list(oc.STATES) + [table.total_label]:
                v = table.published.at[label, state]
                status = ("primary" if table.primary.at[label, state] else
                          "secondary" if table.secondary.at[label, state] else "published")
                s = shares.at[label, state]
                cells[state if state != table.total_label else "cohort_size"] = {
                    "count": None if pd.isna(v) else int(v), "share": None if pd.isna(s) else round(float(s), 6),
                    "status": status}
            rows.append({"cohort": cohort if label != table.total_label else "all",
                         "group": group if label != table.total_label else "all", **cells})
        ex = excluded[excluded.release_id == release_id]
        out.append({"release_id": release_id, **releases.get(release_id, {}), "rows": rows,
                    "arrests_without_identifier": int(ex.without_identifier.iloc[0]) if len(ex) else 0,
                    "audit": table.audit(intervals=False)})
    return {"metric": "cohort_funnel", "period": period, "breakdown": breakdown, "threshold": threshold,
            "states": list(oc.STATES), "synthetic": any(r.get("synthetic") for r in out),
            "definitions": definitions.OUTCOMES, "releases": out}


def published_survival(pt: oc.PersonTables, origin: str = "arrest", breakdown: str | None = None,
                       threshold: int = DEFAULT_THRESHOLD, alpha: float = 0.05) -> dict[str, Any]:
    """Kaplan-Meier (time to removal; other exits censored) and Aalen-Johansen cumulative incidence of
    removal, release and transfer, per group; curves end where fewer than ``threshold`` remain at risk."""
    events = oc.event_table(pt, origin, breakdown).to_pandas()
    groups = []
    for group, g in events.groupby("group", sort=True):
        g = g.drop(columns=["group"]).rename(columns={"t": "time"})
        n = int(g[["n_censored", *oc.CAUSES]].to_numpy().sum())
        if n < threshold:
            groups.append({"group": group, "n": None, "suppressed": True})
            continue
        km = kaplan_meier(g, event="removal", alpha=alpha, causes=list(oc.CAUSES))
        aj = aalen_johansen(g, causes=list(oc.CAUSES), alpha=alpha)
        keep_km = km[km.at_risk >= threshold]
        keep_aj = aj[aj.at_risk >= threshold]
        median = median_survival(keep_km)
        curve = [{"time": int(r.time), "at_risk": int(r.at_risk), "survival": round(float(r.survival), 6),
                  "ci_lower": _r(r.ci_lower), "ci_upper": _r(r.ci_upper)} for r in keep_km.itertuples()]
        cif = []
        for r in keep_aj.itertuples():
            row = {"time": int(r.time), "at_risk": int(r.at_risk), "overall_survival": round(float(r.overall_survival), 6)}
            for c in oc.CAUSES:
                row[c] = {"cif": _r(getattr(r, f"cif_{c}")), "ci_lower": _r(getattr(r, f"cif_{c}_lower")),
                          "ci_upper": _r(getattr(r, f"cif_{c}_upper"))}
            cif.append(row)
        last = keep_aj.iloc[-1]
        groups.append({
            "group": group, "n": n, "suppressed": False,
            "events": {c: int(g[c].sum()) if g[c].sum() >= threshold else None for c in oc.CAUSES},
            "open_at_cutoff": int(g.n_censored.sum()) if g.n_censored.sum() >= threshold else None,
            "median_days_to_removal_km": median,
            "cif_at_last_time": {c: _r(last[f"cif_{c}"]) for c in oc.CAUSES},
            "still_open_share_at_last_time": _r(last["overall_survival"]),
            "last_time_shown": int(last["time"]),
            "kaplan_meier": curve, "cumulative_incidence": cif,
        })
    releases = _releases(pt)
    return {"metric": "time_to_outcome", "origin": origin, "breakdown": breakdown, "threshold": threshold,
            "alpha": alpha, "synthetic": any(r["synthetic"] for r in releases.values()),
            "releases": releases, "groups": groups,
            "definitions": definitions.OUTCOMES + "\nKaplan-Meier treats release and transfer as censoring (cause-specific); "
                           "the cumulative incidence (Aalen-Johansen) is the share of people with each outcome by "
                           "time t under competing risks; CIFs plus the share still open sum to 1."}


def funnel_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """A published funnel as flat rows (one per release, cohort and group): counts and shares per state."""
    return [{"release_id": r["release_id"], "cutoff": r.get("cutoff"), "cohort": row["cohort"], "group": row["group"],
             **{f"{k}_count": v["count"] for k, v in row.items() if isinstance(v, dict)},
             **{f"{k}_share": v["share"] for k, v in row.items() if isinstance(v, dict) and k != "cohort_size"}}
            for r in result["releases"] for row in r["rows"]]


def survival_rows(result: dict[str, Any], curve: str) -> list[dict[str, Any]]:
    """Published survival as flat rows of one curve ('km' or 'cif'), suppressed groups left out."""
    shown = [g for g in result["groups"] if not g["suppressed"]]
    if curve == "km":
        return [{"group": g["group"], **row} for g in shown for row in g["kaplan_meier"]]
    return [{"group": g["group"], "time": row["time"], "at_risk": row["at_risk"],
             "overall_survival": row["overall_survival"],
             **{f"{c}_{k}": v for c in oc.CAUSES for k, v in row[c].items()}}
            for g in shown for row in g["cumulative_incidence"]]


def _r(v) -> float | None:
    return None if v is None or pd.isna(v) else round(float(v), 6)
