"""Audit of everything published about one cohort: what a reader can work out by combining published tables.

:func:`icetrack.metrics.suppression_audit.audit` checks one table against its own totals. A reader holds
every table published about the same people, and :func:`audit_publications` takes them together - as
published (the JSON of :func:`icetrack.metrics.published.published_funnel`, ``published_survival`` and
``published_flows``, or of any earlier version with the same fields), never the true counts - and reports:

- ``shown``: a count below the threshold shown (zeros too, except at threshold 1, which suppresses nothing:
  :func:`~icetrack.metrics.suppression_audit.is_small`);
- ``recoverable``: a suppressed count the linear system of all the published tables fixes
  (:func:`~icetrack.metrics.suppression_audit.recoverable`, exact, with non-negativity). The sums searched:
  each table's rows and totals; the total table against each breakdown (per cohort and state); the funnel's
  totals against the survival table of everybody (removals, releases, transfers, still detained); each
  breakdown funnel against the survival table of the same breakdown (per group and outcome); a survival
  group's ``n`` against its outcomes; everybody's survival against a breakdown's groups; days against weeks
  and months of the flows;
- ``share``: a share or cumulative incidence shown for a count that is suppressed (share x n gives it back);
- ``curve``: a count below the threshold derivable from two consecutive rows of a published curve - the
  people leaving between them (difference of at-risk numbers) or the outcomes of one cause (the step of the
  Kaplan-Meier survival or of a cumulative incidence times the number at risk before it, rounded; an upper
  estimate, exact when the rows are consecutive event times).

Each finding is a :class:`Finding` (what, where, and the value a reader obtains when it is exact).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from icetrack.metrics.suppression_audit import DEFAULT_THRESHOLD, LinkedSystem, is_small, recoverable

STATES = ("removed", "released", "transferred", "detained", "removed_without_detention", "not_booked_in")
CLASS_STATE = {"removal": "removed", "release": "released", "transfer": "transferred", "open": "detained"}
CAUSES = ("removal", "release", "transfer")
SIZE = "cohort_size"


@dataclass(frozen=True)
class Finding:
    kind: str  # shown | recoverable | share | curve
    key: Hashable
    value: float | None = None

    def __str__(self) -> str:
        v = "" if self.value is None else f" = {self.value:g}"
        return f"{self.kind}: {self.key!r}{v}"


def audit_publications(funnels: Iterable[dict] = (), survivals: Iterable[dict] = (), flows: Iterable[dict] = (),
                       threshold: int = DEFAULT_THRESHOLD, *, nonnegative: bool = True) -> list[Finding]:
    """Findings over every published table given (see the module docstring); empty = nothing recoverable.
    ``nonnegative=False``: the exact linear system only (values fixed with non-negativity are not sought)."""
    funnels, survivals, flows = list(funnels), list(survivals), list(flows)
    system = LinkedSystem()
    findings: list[Finding] = []
    for f in funnels:
        findings += _funnel(system, f, threshold)
    for f in funnels:
        if f["breakdown"] is not None and any(g["breakdown"] is None and g["period"] == f["period"] for g in funnels):
            _funnel_groups(system, f)
    for s in survivals:
        findings += _survival(system, s, threshold)
    _survival_links(system, survivals, funnels)
    for f in flows:
        findings += _flows(system, f, threshold)
    _flow_links(system, flows)
    findings += [Finding("recoverable", k, v) for k, v in recoverable(system, nonnegative).items()]
    return findings


def _count(v) -> int | None:
    return None if v is None else int(v)


# -- funnel -----------------------------------------------------------------------------------------------
def _fkey(f: dict, release: str, row: dict, state: str):
    if row["cohort"] == "all" and row["group"] == "all":
        return ("T", release, state)
    return ("F", release, f["period"], f["breakdown"], row["cohort"], row["group"], state)


def _funnel(system: LinkedSystem, f: dict, threshold: int) -> list[Finding]:
    out = []
    for rel in f["releases"]:
        r = rel["release_id"]
        rows = [row for row in rel["rows"] if not (row["cohort"] == "all" and row["group"] == "all")]
        for row in rel["rows"]:
            for state in (*STATES, SIZE):
                cell = row[state]
                key = _fkey(f, r, row, state)
                system.show(key, _count(cell["count"]))
                if cell["count"] is not None and is_small(cell["count"], threshold):
                    out.append(Finding("shown", key, cell["count"]))
                size = row[SIZE]["count"]
                if cell["count"] is None and cell.get("share") is not None:
                    out.append(Finding("share", key, None if size is None else round(cell["share"] * size)))
            system.link(_fkey(f, r, row, SIZE), [_fkey(f, r, row, s) for s in STATES])
        total = {"cohort": "all", "group": "all"}
        for state in (*STATES, SIZE):
            system.link(_fkey(f, r, total, state), [_fkey(f, r, row, state) for row in rows])
    return out


def _funnel_groups(system: LinkedSystem, f: dict) -> None:
    """Each cohort's cell of the funnel without breakdown is the sum of the breakdown's groups."""
    plain = {**f, "breakdown": None}
    for rel in f["releases"]:
        r = rel["release_id"]
        cohorts: dict[str, list[dict]] = {}
        for row in rel["rows"]:
            if row["cohort"] != "all":
                cohorts.setdefault(row["cohort"], []).append(row)
        for cohort, rows in cohorts.items():
            for state in (*STATES, SIZE):
                system.link(_fkey(plain, r, {"cohort": cohort, "group": "all"}, state),
                            [_fkey(f, r, row, state) for row in rows])


# -- survival ---------------------------------------------------------------------------------------------
def _survival(system: LinkedSystem, s: dict, threshold: int) -> list[Finding]:
    out = []
    o = s["origin"]
    for g in s["groups"]:
        key = ("S", o, g["group"])
        n = g.get("n")
        events = g.get("events") or {}
        shown = {**{c: events.get(c) for c in CAUSES}, "open": g.get("open_at_cutoff"), "n": n}
        if g.get("suppressed"):
            shown = dict.fromkeys(shown)
        for c, v in shown.items():
            system.show((*key, c), _count(v))
            if v is not None and is_small(v, threshold):
                out.append(Finding("shown", (*key, c), v))
        system.link((*key, "n"), [(*key, c) for c in ("removal", "release", "transfer", "open")])
        if g.get("suppressed"):
            continue
        out += _shares(g, key, shown)
        out += _curve(g, key, threshold)
    return out


def _shares(g: dict, key: tuple, shown: dict) -> list[Finding]:
    """Incidences or shares shown beside a suppressed count."""
    out = []
    last = g.get("cif_at_last_time") or {}
    for c in CAUSES:
        drawn = any((row.get(c) or {}).get("cif") for row in g.get("cumulative_incidence", []))
        if shown[c] is None and (last.get(c) or drawn):
            out.append(Finding("share", (*key, c), None if not last.get(c) or not g["n"] else round(last[c] * g["n"])))
    still = g.get("still_open_share_at_last_time")
    if shown["open"] is None and still is not None and still > 0:
        out.append(Finding("share", (*key, "open"), None))
    return out


def _curve(g: dict, key: tuple, threshold: int) -> list[Finding]:
    """Counts below the threshold derivable from consecutive rows of the published curves."""
    out = []
    n = g["n"]
    for name, rows in (("km", g.get("kaplan_meier", [])), ("cif", g.get("cumulative_incidence", []))):
        prev = {"at_risk": n, "survival": 1.0, "overall_survival": 1.0, **{c: {"cif": 0.0} for c in CAUSES}}
        for row in rows:
            where = (*key, name, row["time"])
            a0, a1 = prev.get("at_risk"), row.get("at_risk")
            if a0 is not None and a1 is not None and 0 < a0 - a1 < threshold:
                out.append(Finding("curve", (*where, "left"), a0 - a1))
            for c, d in _steps(name, prev, row):
                if 0.5 <= d < threshold - 0.5:
                    out.append(Finding("curve", (*where, c), round(d)))
            prev = row
    return out


def _steps(name: str, prev: dict, row: dict) -> list[tuple[str, float]]:
    a = prev.get("at_risk")
    if a is None:
        return []
    if name == "km":
        s0, s1 = prev.get("survival"), row.get("survival")
        return [("removal", a * (1 - s1 / s0))] if s0 and s1 is not None else []
    s0 = prev.get("overall_survival")
    out = []
    for c in CAUSES:
        f0, f1 = (prev.get(c) or {}).get("cif"), (row.get(c) or {}).get("cif")
        if f0 is not None and f1 is not None and s0:
            out.append((c, a * (f1 - f0) / s0))
    return out


def _survival_links(system: LinkedSystem, survivals: list[dict], funnels: list[dict]) -> None:
    """Everybody against each breakdown; everybody (from arrests) against the funnel totals; each breakdown
    against the funnel of the same breakdown (per group and outcome)."""
    origins = {s["origin"] for s in survivals if s["breakdown"] is None}
    for s in survivals:
        if s["breakdown"] is not None and s["origin"] in origins:
            for c in ("removal", "release", "transfer", "open", "n"):
                system.link(("S", s["origin"], "all", c), [("S", s["origin"], g["group"], c) for g in s["groups"]])
    releases = sorted({rel["release_id"] for f in funnels for rel in f["releases"]})
    if releases and "arrest" in origins:
        for c, state in CLASS_STATE.items():
            system.link(("S", "arrest", "all", c), [("T", r, state) for r in releases])
    for s in survivals:
        if s["origin"] != "arrest" or s["breakdown"] is None:
            continue
        for f in funnels:
            if f["breakdown"] != s["breakdown"]:
                continue
            for g in s["groups"]:
                for c, state in CLASS_STATE.items():
                    parts = [_fkey(f, rel["release_id"], row, state) for rel in f["releases"] for row in rel["rows"]
                             if row["group"] == g["group"] and row["cohort"] != "all"]
                    system.link(("S", "arrest", g["group"], c), parts)


# -- flows ------------------------------------------------------------------------------------------------
KINDS = ("arrests", "book_ins", "removals")


def _flows(system: LinkedSystem, f: dict, threshold: int) -> list[Finding]:
    out = []
    for row in f["rows"]:
        for k in KINDS:
            key = ("flows", row["release_id"], k, f["period"], row["period_start"])
            system.show(key, _count(row[k]))
            if row[k] is not None and is_small(row[k], threshold):
                out.append(Finding("shown", key, row[k]))
    return out


def _flow_links(system: LinkedSystem, flows: list[dict]) -> None:
    """Days add up to weeks and to months (days not listed had none)."""
    from datetime import date, timedelta

    daily = [f for f in flows if f["period"] == "day"]
    if not daily:
        return
    coarse = {(f["period"], row["release_id"], row["period_start"]) for f in flows if f["period"] != "day"
              for row in f["rows"]}
    groups: dict[tuple, list] = {}
    for row in daily[0]["rows"]:
        d = date.fromisoformat(row["period_start"])
        for period, start in (("week", d - timedelta(days=d.weekday())), ("month", d.replace(day=1))):
            if (period, row["release_id"], start.isoformat()) in coarse:
                groups.setdefault((period, row["release_id"], start.isoformat()), []).append(row["period_start"])
    for (period, release, start), days in groups.items():
        for k in KINDS:
            system.link(("flows", release, k, period, start), [("flows", release, k, "day", d) for d in days])
