"""Survival curves coarsened for publication: which steps of the estimates may be shown.

A Kaplan-Meier or cumulative-incidence curve published at every distinct time is an event table in disguise:
consecutive at-risk numbers give the people who left between two times, consecutive survival or incidence
values the outcomes of each cause there. The estimators (:mod:`icetrack.metrics.survival`) stay exact; what
is published is a subset of their rows, the **knots**, chosen so that between two consecutive knots (a
block), and after the last one, every count a reader can derive is 0 or at least the threshold.

Classes. The people leaving a group's risk set are of four classes: ``removal``, ``release``, ``transfer``
and ``open`` (still detained at the cut-off, censored). A class whose total the group table suppresses is
not shown separately: its incidence curve is withheld, and the withheld classes form one merged class whose
per-block count is all a reader can derive (the overall survival is withheld too when ``open`` is among
them, since it would separate the outcomes from the censored). :func:`partition` gives the classes a reader
can tell apart for one group.

A family is the curves published together: the groups of a breakdown, whose sum is the curve of everybody
(published on its own, at its own knots). A breakdown's knots are chosen among the knots of the curve of
everybody, and the groups that are not published (suppressed as a whole) are checked as one remainder
series, whose counts are the total's minus the published groups': a reader can tell apart, for the
remainder, only the classes every published series tells apart (:func:`join`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from icetrack.metrics.suppression_audit import is_small

CLASSES = ("removal", "release", "transfer", "open")


def partition(hidden: Iterable[str]) -> tuple[frozenset[str], ...]:
    """The classes a reader can tell apart when the ``hidden`` ones (suppressed in the group table) are not
    shown: each shown class alone, the hidden ones merged."""
    hidden = frozenset(hidden)
    return tuple(frozenset({c}) for c in CLASSES if c not in hidden) + ((hidden,) if hidden else ())


RARE = 3  # a class with fewer than RARE x threshold people is not drawn as a curve of its own


def curve_hidden(hidden: Iterable[str], totals: dict[str, float], threshold: int) -> frozenset[str]:
    """The classes a group's curves do not show: those its table suppresses, plus those too rare to draw
    (fewer than ``RARE`` x threshold people: split in blocks of at least the threshold they would give a
    curve of one or two steps, and keeping them apart forces every other curve of the family to the same few
    knots; at threshold 1, which suppresses nothing, no class is too rare). A class merged alone would still
    be derivable, so a lone merged class takes ``open`` with it (or, if it is ``open``, the smallest other
    class)."""
    if threshold <= 1:  # no suppression: every class is drawn, however rare
        return frozenset(hidden)
    out = set(hidden) | {c for c in CLASSES if 0 < totals.get(c, 0) < RARE * threshold}
    if len(out) == 1:
        (only,) = out
        out.add("open" if only != "open" else min((c for c in CLASSES if c != "open"), key=lambda c: totals.get(c, 0)))
    return frozenset(out)


def join(partitions: Sequence[Sequence[frozenset[str]]]) -> tuple[frozenset[str], ...]:
    """The finest partition coarser than each of ``partitions`` (what all of them tell apart)."""
    parts = [set(c) for p in partitions for c in p]
    merged: list[set[str]] = []
    for p in parts:
        for m in [m for m in merged if m & p]:
            merged.remove(m)
            p |= m
        merged.append(p)
    cover = set().union(*merged) if merged else set()
    merged += [{c} for c in CLASSES if c not in cover]
    return tuple(sorted((frozenset(m) for m in merged), key=lambda m: min(CLASSES.index(c) for c in m)))


@dataclass(frozen=True)
class Series:
    """One curve's counts on the family's time grid: ``counts[i, k]`` people of class ``CLASSES[k]`` leaving
    at ``times[i]``; ``shown``: its at-risk numbers are published (a remainder's are only derivable)."""

    counts: np.ndarray
    classes: tuple[frozenset[str], ...]
    shown: bool = True

    def class_counts(self, rows: np.ndarray) -> np.ndarray:
        """Per class of :attr:`classes`, the sum of ``rows`` (a vector over CLASSES)."""
        return np.array([sum(rows[CLASSES.index(c)] for c in cls) for cls in self.classes])


def _valid(v: np.ndarray, threshold: int) -> bool:
    return bool(np.all((v == 0) | (v >= threshold)))


def knots(times: np.ndarray, series: list[Series], threshold: int, candidates: Iterable[float] | None = None) -> list[float]:
    """The times at which every series of the family may show its curve: the most knots such that

    - in every block (from the previous knot, exclusive, to this one, inclusive; the first block starts at
      time 0) each series' count of each of its classes is 0 or >= ``threshold``;
    - after every knot each shown series still has at least ``threshold`` people at risk (at threshold 1,
      which suppresses nothing, any number, 0 included: every time of the grid is a knot);
    - the tail (everything after the last knot, which the totals and the last knot's values reveal) passes
      the block test too.

    Exact, by dynamic programming over the candidate times (default: every time of the grid); ties go to the
    earlier knots. No knot: only the start of the curve is shown."""
    allowed = None if candidates is None else {float(t) for t in candidates}
    cand = [i for i, t in enumerate(times) if allowed is None or float(t) in allowed]
    cum = [np.vstack([np.zeros((1, len(CLASSES))), np.cumsum(s.counts, axis=0)]) for s in series]
    totals = [c[-1] for c in cum]

    def block_ok(a: int, b: int) -> bool:  # rows a+1..b of the grid (a = -1: from the start)
        return all(_valid(s.class_counts(cum[k][b + 1] - cum[k][a + 1]), threshold) for k, s in enumerate(series))

    def at_risk_ok(b: int) -> bool:
        return all(not s.shown or not is_small((totals[k] - cum[k][b + 1]).sum(), threshold)
                   for k, s in enumerate(series))

    def tail_ok(b: int) -> bool:
        return all(_valid(s.class_counts(totals[k] - cum[k][b + 1]), threshold) for k, s in enumerate(series))

    best: dict[int, tuple[int, int]] = {}  # knot index -> (number of knots up to it, previous knot or -1)
    for j in cand:
        if not at_risk_ok(j):
            break  # the number at risk only decreases
        options = [(best[i][0] + 1, -i) for i in best if block_ok(i, j)]
        if block_ok(-1, j):
            options.append((1, 1))
        if options:
            n, neg_prev = max(options)
            best[j] = (n, -neg_prev if neg_prev != 1 else -1)
    ends = [(n, -j) for j, (n, _) in best.items() if tail_ok(j)]
    if not ends:
        return []
    j = -max(ends)[1]
    out = []
    while j != -1:
        out.append(float(times[j]))
        j = best[j][1]
    return out[::-1]


def grid(tables: dict, time_col: str = "time") -> tuple[np.ndarray, dict]:
    """A common time grid for several event tables (``n_censored`` + the causes) and each table's counts on
    it, columns in :data:`CLASSES` order."""
    times = np.unique(np.concatenate([t[time_col].to_numpy(dtype=float) for t in tables.values()])) \
        if tables else np.zeros(0)
    out = {}
    for key, t in tables.items():
        pos = np.searchsorted(times, t[time_col].to_numpy(dtype=float))
        c = np.zeros((times.size, len(CLASSES)))
        for k, cls in enumerate(CLASSES):
            col = "n_censored" if cls == "open" else cls
            np.add.at(c[:, k], pos, t[col].to_numpy(dtype=float))
        out[key] = c
    return times, out
