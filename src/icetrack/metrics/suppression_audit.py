"""Audit of a published table: what a reader could still learn about its suppressed cells.

See :func:`audit`; the suppression itself is :mod:`icetrack.metrics.suppression`, which builds on this module
(its threshold rules and total label).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

TOTAL = "Total"  # the label of a total row / column
DEFAULT_THRESHOLD = 10


def is_small(count, threshold: int) -> bool:
    """A count that may not be published under ``threshold``: below it, zeros included (a 0 is a small count
    too) - except at threshold 1, which means no small-cell suppression at all: every count, 0 included, may
    be shown. The one rule the linked publications (:mod:`icetrack.metrics.linked`, :mod:`~icetrack.metrics.
    curves`, :mod:`~icetrack.metrics.published`) and their audit (:mod:`~icetrack.metrics.publication_audit`)
    apply."""
    return threshold > 1 and count < threshold


def _check_threshold(threshold) -> int:
    if isinstance(threshold, bool) or not float(threshold).is_integer() or threshold < 1:
        raise ValueError("threshold must be a whole number >= 1")
    return int(threshold)


def audit(published, threshold: int | None = None, *, allow_zeros: bool | None = None,
          total_label: str | None = None, intervals: bool = True,
          min_interval: float | None = None) -> list[str]:
    """Check a published table; returns the problems found (empty list = passes).

    ``published``: a :class:`SuppressedTable`, or a DataFrame with ``NA`` for suppressed values and totals
    under ``total_label`` (a total column = row totals, a total row = column totals; either, both or none).
    Defaults (threshold, allow_zeros, total_label) come from the SuppressedTable, else 10 / False / "Total".

    Checks:
    (a) no shown value (cell or total) is below the threshold (shown zeros are allowed with allow_zeros),
        and shown values are non-negative whole numbers;
    (b) shown values are consistent with the totals (lines with nothing suppressed add up);
    (c) no suppressed value is determined by the linear system of row / column / grand-total equations: the
        equations restricted to the suppressed unknowns form a matrix A; unknown k is determined iff the
        unit vector e_k lies in A's row space, i.e. ``matrix_rank([A; e_k]) == matrix_rank(A)`` (computed
        for all k from one SVD, and also unknown by unknown with matrix_rank up to 200 unknowns);
    (d) with ``intervals`` and scipy installed: each suppressed value's feasible interval given the shown
        values and non-negativity, by linear programming (two ``scipy.optimize.linprog`` calls per unknown).
        A single point is a disclosure (e.g. zeros whose row sum is known to be 0) and is always reported;
        with ``min_interval`` intervals narrower than that are reported too. Without scipy this check is
        skipped with a warning (scipy is not a runtime dependency of icetrack).
    """
    if not isinstance(published, pd.DataFrame):  # a SuppressedTable
        frame = published.published
        threshold = published.threshold if threshold is None else threshold
        allow_zeros = published.allow_zeros if allow_zeros is None else allow_zeros
        total_label = published.total_label if total_label is None else total_label
    else:
        frame = published
    threshold = DEFAULT_THRESHOLD if threshold is None else _check_threshold(threshold)
    allow_zeros = bool(allow_zeros)
    total_label = TOTAL if total_label is None else total_label

    vals = frame.astype("Float64")
    known = ~vals.isna().to_numpy()
    x = vals.to_numpy(dtype=float, na_value=np.nan)
    rows, cols = list(frame.index), list(frame.columns)

    def name(i, j):
        return f"({rows[i]!r}, {cols[j]!r})"

    issues = _shown_value_issues(x, known, threshold, allow_zeros, name)
    unknown = [(int(i), int(j)) for i, j in zip(*np.nonzero(~known))]
    A, b = _equations(x, unknown, _lines(rows, cols, total_label), issues)
    if not unknown or A is None:
        return issues
    # (c)
    determined = set()
    for k in _in_row_space(A):
        determined.add(k)
        issues.append(f"{name(*unknown[k])}: suppressed value is determined by the shown cells and totals")
    if intervals:
        issues += _interval_issues(A, b, unknown, determined, min_interval, name)
    return issues


def _shown_value_issues(x: np.ndarray, known: np.ndarray, threshold: int, allow_zeros: bool, name) -> list[str]:
    """(a): shown values below the threshold, negative or fractional."""
    issues = []
    for i, j in zip(*np.nonzero(known)):
        v = x[i, j]
        if v < 0 or v != round(v):
            issues.append(f"{name(i, j)}: shown value {v:g} is not a non-negative whole number")
        elif v < threshold and not (allow_zeros and v == 0):
            issues.append(f"{name(i, j)}: shown value {v:g} is below the threshold {threshold}")
    return issues


def _lines(rows: list, cols: list, total_label) -> list[tuple[str, list, tuple[int, int]]]:
    """Every row and column equation of the table: (label, cells adding up, the total's cell)."""
    lines = []
    if total_label in cols:  # each row has its total
        tj = cols.index(total_label)
        for i in range(len(rows)):
            lines.append((f"row {rows[i]!r}", [(i, j) for j in range(len(cols)) if j != tj], (i, tj)))
    if total_label in rows:  # each column has its total
        ti = rows.index(total_label)
        for j in range(len(cols)):
            lines.append((f"column {cols[j]!r}", [(i, j) for i in range(len(rows)) if i != ti], (ti, j)))
    return lines


def _equations(x: np.ndarray, unknown: list, lines: list, issues: list[str]):
    """The linear system A u = b over the suppressed unknowns; (b): lines with nothing suppressed that do
    not add up are appended to ``issues``. (None, None) when no equation involves an unknown."""
    col_of = {cell: k for k, cell in enumerate(unknown)}
    eqs, rhs = [], []
    for label, parts, total in lines:
        a = np.zeros(len(unknown))
        b = 0.0
        for cell, coef in [*((p, 1.0) for p in parts), (total, -1.0)]:
            if cell in col_of:
                a[col_of[cell]] += coef
            else:
                b -= coef * x[cell]
        if not a.any():
            if abs(b) > 1e-9:
                issues.append(f"{label}: shown values do not add up to the shown total")
            continue
        eqs.append(a)
        rhs.append(b)
    if not eqs:
        return None, None
    return np.array(eqs), np.array(rhs)


def _interval_issues(A: np.ndarray, b: np.ndarray, unknown: list, determined: set, min_interval, name) -> list[str]:
    """(d): each suppressed value's feasible interval by linear programming (skipped without scipy)."""
    try:
        from scipy.optimize import linprog
    except ImportError:
        warnings.warn("scipy is not installed: feasible-interval check skipped", stacklevel=3)
        return []
    issues = []
    for k, (i, j) in enumerate(unknown):
        if k in determined:
            continue
        c = np.zeros(len(unknown))
        c[k] = 1.0
        lo_res = linprog(c, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
        if lo_res.status == 2:
            issues.append("the shown values are infeasible (no non-negative values fit them)")
            break
        hi_res = linprog(-c, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
        lo = lo_res.fun
        hi = math.inf if hi_res.status == 3 else -hi_res.fun
        if hi - lo < 1e-6:
            issues.append(f"{name(i, j)}: suppressed value is determined given non-negativity "
                          f"(its only feasible value is {lo:g})")
        elif min_interval is not None and hi - lo < min_interval:
            issues.append(f"{name(i, j)}: feasible interval [{lo:g}, {hi:g}] is narrower than "
                          f"{min_interval:g}")
    return issues


def _in_row_space(A: np.ndarray) -> list[int]:
    """Unknowns k whose unit vector e_k lies in the row space of A, i.e. whose value the equations fix:
    ``matrix_rank(vstack(A, e_k)) == matrix_rank(A)``. Computed with one SVD: with V the orthonormal basis
    of the row space (right singular vectors of the ``matrix_rank(A)`` non-zero singular values), e_k is in
    it iff its projection keeps norm 1, ``sum(V[:, k]**2) == 1`` (A has entries 0 / +-1, so the rank and the
    norms are far from round-off). Small systems are also checked with matrix_rank itself, unknown by
    unknown, and the two must agree."""
    rank = np.linalg.matrix_rank(A)
    if rank == 0:
        return []
    vt = np.linalg.svd(A, full_matrices=False)[2][:rank]
    found = [int(k) for k in np.flatnonzero((vt**2).sum(axis=0) > 1 - 1e-8)]
    if A.shape[1] <= 200:
        e = np.eye(A.shape[1])
        by_rank = [k for k in range(A.shape[1]) if np.linalg.matrix_rank(np.vstack((A, e[k]))) == rank]
        if by_rank != found:  # pragma: no cover - would mean a numerical problem
            raise RuntimeError("rank test and projection test disagree")
    return found


# --------------------------------------------------------------------------------------------------------
# Linked publications: several tables about the same people, tied by sums


@dataclass
class LinkedSystem:
    """Values published about one cohort across several tables, and the sums that tie them.

    ``values``: key -> the value shown, or ``None`` when it is suppressed (a key that takes part in a sum
    but is published nowhere is simply absent: it is unknown too). The same key may be published by several
    tables (a total and a breakdown share their totals row); :meth:`show` keeps a value once any table shows
    it. ``sums``: ``(total, parts)`` - the total's key equals the sum of the parts' values.
    """

    values: dict[Hashable, int | None] = field(default_factory=dict)
    sums: list[tuple[Hashable, tuple[Hashable, ...]]] = field(default_factory=list)

    def show(self, key: Hashable, value) -> None:
        v = None if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)
        if v is not None or key not in self.values:
            self.values[key] = v

    def link(self, total: Hashable, parts) -> None:
        parts = tuple(parts)
        if parts:
            self.sums.append((total, parts))


def recoverable(system: LinkedSystem, nonnegative: bool = True) -> dict[Hashable, int]:
    """The suppressed values a reader can work out from everything ``system`` shows: ``{key: value}``.

    A suppressed value is recoverable when the sums, given the shown values, fix it: exactly (its unit
    vector lies in the row space of the equations restricted to the unknowns), or together with
    non-negativity (``nonnegative``: unknowns that every non-negative solution sets to 0 - one linear
    programme per connected group of unknowns - are added to the equations first). Rank is computed by exact
    elimination modulo the prime 2**31 - 1 (equal to the rank over the rationals unless the prime divides a
    minor of the system, which for sums of counts does not happen in practice), so large systems take
    seconds, not the minutes a floating-point decomposition takes.
    """
    values = system.values
    rows: list[tuple[dict[Hashable, int], int]] = []
    for total, parts in system.sums:
        coef: dict[Hashable, int] = {}
        rhs = 0
        for key, c in [*((p, 1) for p in parts), (total, -1)]:
            v = values.get(key)
            if v is None:
                coef[key] = coef.get(key, 0) + c
            else:
                rhs -= c * v
        coef = {k: c for k, c in coef.items() if c}
        if coef:
            rows.append((coef, rhs))
    zero = _always_zero(rows) if nonnegative else set()
    found: dict[Hashable, int] = {}
    for unknown, eqs in _components(rows):
        col = {k: j for j, k in enumerate(unknown)}
        pinned = [col[k] for k in unknown if k in zero]
        A = np.zeros((len(eqs) + len(pinned), len(unknown)), dtype=np.int64)
        b = np.zeros(len(eqs) + len(pinned), dtype=np.int64)
        for i, (coef, rhs) in enumerate(eqs):
            b[i] = rhs
            for k, c in coef.items():
                A[i, col[k]] = c
        for i, j in enumerate(pinned):
            A[len(eqs) + i, j] = 1
        for j, v in _determined_mod_p(A, b).items():
            found[unknown[j]] = v
    return found


def _components(rows: list[tuple[dict, int]]) -> list[tuple[list, list]]:
    """Groups of unknowns tied by the equations (union-find), each with its equations, in first-seen order."""
    parent: dict[Hashable, Hashable] = {}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for coef, _ in rows:
        keys = list(coef)
        for k in keys:
            parent.setdefault(k, k)
        for k in keys[1:]:
            a, b = find(keys[0]), find(k)
            if a != b:
                parent[b] = a
    groups: dict[Hashable, tuple[list, list]] = {}
    for k in parent:
        groups.setdefault(find(k), ([], []))[0].append(k)
    for row in rows:
        groups[find(next(iter(row[0])))][1].append(row)
    return list(groups.values())


_PRIME = 2_147_483_647  # 2**31 - 1: products of two residues fit in int64


def _determined_mod_p(A: np.ndarray, b: np.ndarray) -> dict[int, int]:
    """Columns fixed by ``A u = b``: reduced row echelon form modulo a prime; column k is fixed iff it is a
    pivot whose row has no entry in a free column. Returns {column: value} (values as signed integers)."""
    M = np.concatenate([A % _PRIME, (b % _PRIME)[:, None]], axis=1)
    m, n = A.shape
    pivots: list[int] = []
    r = 0
    for c in range(n):
        if r == m:
            break
        nz = np.flatnonzero(M[r:, c])
        if nz.size == 0:
            continue
        i = r + int(nz[0])
        if i != r:
            M[[r, i]] = M[[i, r]]
        M[r] = (M[r] * pow(int(M[r, c]), _PRIME - 2, _PRIME)) % _PRIME
        others = np.flatnonzero(M[:, c])
        others = others[others != r]
        if others.size:
            M[others] = (M[others] - M[others, c][:, None] * M[r]) % _PRIME
        pivots.append(c)
        r += 1
    free = np.ones(n, dtype=bool)
    free[pivots] = False
    out = {}
    for i, c in enumerate(pivots):
        if not M[i, :n][free].any():
            v = int(M[i, n])
            out[c] = v - _PRIME if v > _PRIME // 2 else v
    return out


def _always_zero(rows: list[tuple[dict, int]]) -> set[Hashable]:
    """Unknowns that are 0 in every non-negative solution of the equations ``rows`` (one LP on the
    homogenised system: maximise sum(t) subject to A u = lambda b, 0 <= t <= 1, t <= u, u, lambda >= 0; an
    unknown that can be positive reaches t = 1, one that cannot stays at 0)."""
    from scipy import sparse
    from scipy.optimize import linprog

    keys = list(dict.fromkeys(k for coef, _ in rows for k in coef))
    if not keys:
        return set()
    col = {k: j for j, k in enumerate(keys)}
    m, n = len(rows), len(keys)
    r_idx = [i for i, (coef, _) in enumerate(rows) for _ in coef]
    c_idx = [col[k] for coef, _ in rows for k in coef]
    data = [float(c) for coef, _ in rows for c in coef.values()]
    a = sparse.csr_matrix((data, (r_idx, c_idx)), shape=(m, n))
    b = np.array([float(rhs) for _, rhs in rows])
    a_eq = sparse.hstack([a, sparse.csr_matrix(-b[:, None]), sparse.csr_matrix((m, n))])
    a_ub = sparse.hstack([-sparse.eye(n), sparse.csr_matrix((n, 1)), sparse.eye(n)])
    cost = np.concatenate([np.zeros(n + 1), -np.ones(n)])
    res = linprog(cost, A_ub=a_ub, b_ub=np.zeros(n), A_eq=a_eq, b_eq=np.zeros(m),
                  bounds=[(0, None)] * (n + 1) + [(0, 1)] * n, method="highs")
    if res.status != 0:  # pragma: no cover - the true values are a feasible point
        return set()
    return {keys[j] for j in np.flatnonzero(res.x[n + 1:] < 0.5)}
