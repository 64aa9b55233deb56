"""Small-cell suppression for published breakdowns of person-level data.

Project rule: *a count below the threshold is shown as suppressed* (default threshold 10). A breakdown is
published with its row totals, column totals and grand total, all computed from the **true** counts, so the
suppression must also stop a reader from working a suppressed count back out of the cells and totals that
are shown.

What :func:`suppress` does
--------------------------
1. **Primary suppression**: every cell and every total below the threshold. Zeros are below the threshold
   and are suppressed too (a published 0 next to suppressed cells tells the reader those are 1..threshold-1;
   and 0 is itself a small count). ``allow_zeros=True`` publishes zeros instead.
2. **Complementary (secondary) suppression** until a fixed point where, for every suppressed value,

   - it is not determined by the linear system "each row of cells sums to its row total, each column to its
     column total, the totals row and the totals column to the grand total" given the shown values, and
   - it is not pinned down by that system *together with non-negativity* either (e.g. two suppressed zeros
     in a row whose other cells add up to its total are both visibly 0).

   The totals row and column take part in the system like any other line. Seen as a graph (rows and
   columns of the table with totals are vertices, cells are edges), the values of a set of suppressed cells
   can change without changing anything shown exactly along cycles of suppressed cells whose signs
   alternate; a suppressed value can move (is neither determined nor pinned by non-negativity) iff such a
   cycle passes through it along which every *zero* cell is increased. A cell with no such cycle gets one:
   the cheapest cycle through it, where a cell already suppressed costs nothing and another cell costs its
   count (smallest total count first, i.e. least information lost; then fewest new cells; remaining ties go
   to the earlier row / column in table order, so the result is deterministic). Cells are visited in table
   order, and the visits repeat until a full pass adds nothing (a fixed point). A cycle through a line
   puts at least two suppressed values in it, so the classic "no row or column with exactly one suppressed
   value" rule holds, and so does the stronger condition it is a proxy for (a pattern can have two per
   line and still reveal a cell). With
   ``allow_zeros=True`` published zeros become complements only when no other cycle exists: a suppressed
   zero beside a primary cell protects almost nothing (the primary's known row sum is then its value's upper
   bound).

   This is exact non-recoverability, not a width guarantee: a primary cell of 3 beside a complement of 12
   in a row is known to lie in [0, 15]. :func:`~icetrack.metrics.suppression_audit.audit` can report intervals narrower than a chosen width.

With ``totals=False`` nothing is published that links the cells, so only primary suppression applies (do
not then publish totals elsewhere). :func:`suppress_series` does the same for a single breakdown with its
total.

:func:`~icetrack.metrics.suppression_audit.audit` checks a published table independently of how it was suppressed (rank test on the linear
system, and - when scipy is installed - feasible intervals by linear programming).
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass

import numpy as np
import pandas as pd

from icetrack.metrics.suppression_audit import (
    DEFAULT_THRESHOLD,
    TOTAL,
    _check_threshold,
    audit,
)

# --------------------------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True)
class SuppressedTable:
    """A table ready to publish.

    ``published``: counts (pandas ``Int64``) with ``<NA>`` for suppressed values, totals included as the
    ``total_label`` row and/or column. ``primary`` / ``secondary``: boolean frames of the same shape (why a
    value is suppressed). The true suppressed counts are not kept.
    """

    published: pd.DataFrame
    primary: pd.DataFrame
    secondary: pd.DataFrame
    threshold: int
    allow_zeros: bool = False
    total_label: str = TOTAL

    @property
    def suppressed(self) -> pd.DataFrame:
        return self.primary | self.secondary

    @property
    def has_row_totals(self) -> bool:
        """A total column (each row's total) is published."""
        return self.total_label in self.published.columns

    @property
    def has_column_totals(self) -> bool:
        """A total row (each column's total) is published."""
        return self.total_label in self.published.index

    def shares(self, of: str | None = None) -> pd.DataFrame:
        """Shares from published values only (``Float64``; ``<NA>`` when the numerator or the denominator is
        suppressed, or the denominator is 0).

        ``of="row"``: value / its row's total; ``"column"``: value / its column's total; ``"total"``: value /
        grand total. Default: ``"row"`` when row totals are published, else ``"column"``.
        """
        p = self.published.astype("Float64")
        t = self.total_label
        if of is None:
            of = "row" if self.has_row_totals else "column"
        if of == "row":
            if not self.has_row_totals:
                raise ValueError("no row totals are published")
            denom = p[t]
            out = p.div(denom.where(denom != 0), axis=0)
        elif of == "column":
            if not self.has_column_totals:
                raise ValueError("no column totals are published")
            denom = p.loc[t]
            out = p.div(denom.where(denom != 0), axis=1)
        elif of == "total":
            if not (self.has_row_totals and self.has_column_totals):
                raise ValueError("no grand total is published")
            g = p.loc[t, t]
            out = p / g if (g is not pd.NA and g != 0) else p * pd.NA
        else:
            raise ValueError("of must be 'row', 'column' or 'total'")
        return out.astype("Float64")

    def to_records(self, shares: str | None = None) -> list[dict]:
        """One JSON-ready dict per value: ``row``, ``column``, ``count`` (``None`` if suppressed),
        ``status`` (``published`` / ``primary`` / ``secondary``), ``total`` (a total row or column), and
        ``share`` when ``shares`` names one of :meth:`shares`' denominators."""
        sh = self.shares(shares) if shares else None
        t = self.total_label
        out = []
        for i, r in enumerate(self.published.index):
            for j, c in enumerate(self.published.columns):
                v = self.published.iat[i, j]
                status = ("primary" if self.primary.iat[i, j] else
                          "secondary" if self.secondary.iat[i, j] else "published")
                rec = {"row": _json_label(r), "column": _json_label(c),
                       "count": None if pd.isna(v) else int(v), "status": status, "total": r == t or c == t}
                if sh is not None:
                    s = sh.iat[i, j]
                    rec["share"] = None if pd.isna(s) else float(s)
                out.append(rec)
        return out

    def audit(self, **kwargs) -> list[str]:
        """:func:`icetrack.metrics.suppression_audit.audit` of this table with its own threshold."""
        return audit(self, **kwargs)


def _json_label(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return str(x)


# --------------------------------------------------------------------------------------------------------
# Suppression


def suppress(table: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD, totals: bool = True, *,
             allow_zeros: bool = False, total_label: str = TOTAL, given: pd.DataFrame | None = None) -> SuppressedTable:
    """Suppress ``table`` (rows x columns of non-negative integer counts) for publication.

    With ``totals`` (default) the published frame has a ``total_label`` column (row totals) and row (column
    totals, with the grand total), computed from the true counts. See the module docstring for the rules.

    ``given``: values whose status another publication has already fixed (a frame over some of the published
    rows and columns, totals included: ``True`` = suppressed there, ``False`` = shown there, missing = free).
    Given-suppressed values start suppressed (as secondary unless below the threshold); given-shown values
    are never chosen as complements, so a table can be made consistent with a total published elsewhere.
    """
    threshold = _check_threshold(threshold)
    counts, index, columns = _validate(table, total_label)
    if totals:
        r, c = counts.shape
        x = np.zeros((r + 1, c + 1), dtype=np.int64)
        x[:r, :c] = counts
        x[:r, c] = counts.sum(axis=1)
        x[r, :c] = counts.sum(axis=0)
        x[r, c] = counts.sum()
        index, columns = [*index, total_label], [*columns, total_label]
    else:
        x = counts
    primary = _primary(x, threshold, allow_zeros)
    forced, fixed = _given(given, index, columns, x.shape)
    if np.any(primary & fixed & ~forced):
        raise ValueError("a value below the threshold is given as shown")
    supp = primary | forced
    if totals:
        _Protector(x, supp, allow_zeros, fixed).run()
    return _result(x, primary, supp, index, columns, threshold, allow_zeros, total_label)


def _given(given: pd.DataFrame | None, index: list, columns: list, shape) -> tuple[np.ndarray, np.ndarray]:
    """(suppressed, fixed) masks from a ``given`` frame of True / False / missing."""
    forced, fixed = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
    if given is None:
        return forced, fixed
    g = given.astype("boolean").reindex(index=pd.Index(index), columns=pd.Index(columns))
    known = g.notna().to_numpy()
    return known & g.fillna(False).to_numpy(dtype=bool), known


def suppress_series(series: pd.Series, threshold: int = DEFAULT_THRESHOLD, total: bool = True, *,
                    allow_zeros: bool = False, total_label: str = TOTAL) -> SuppressedTable:
    """Suppress one breakdown (a Series of counts) published with its total.

    The result's ``published`` is a one-column frame (named after the series, else ``count``) with the
    categories as rows and, with ``total``, a ``total_label`` row. One equation links the values (the
    categories add up to the total), so every suppressed value needs a partner: any other suppressed value
    if it is above 0, a positive value or the total if it is 0 (the cheapest such partner is added).
    """
    threshold = _check_threshold(threshold)
    if not isinstance(series, pd.Series):
        raise TypeError("suppress_series takes a pandas Series")
    name = series.name if series.name is not None else "count"
    counts, index, _ = _validate(series.to_frame(name), total_label)
    x = counts[:, 0]
    index = list(index)
    if total:
        x = np.append(x, x.sum())
        index.append(total_label)
    primary = _primary(x, threshold, allow_zeros)
    supp = primary.copy()
    if total:
        _protect_line(x, supp, allow_zeros)
    return _result(x[:, None], primary[:, None], supp[:, None], index, [name], threshold, allow_zeros,
                   total_label)


def _validate(table, total_label) -> tuple[np.ndarray, list, list]:
    if not isinstance(table, pd.DataFrame):
        raise TypeError("suppress takes a pandas DataFrame of counts")
    if table.shape[0] == 0 or table.shape[1] == 0:
        raise ValueError("the table is empty")
    if isinstance(table.index, pd.MultiIndex) or isinstance(table.columns, pd.MultiIndex):
        raise ValueError("flatten MultiIndex labels before suppression")
    if not (table.index.is_unique and table.columns.is_unique):
        raise ValueError("row and column labels must be unique")
    if total_label in table.index or total_label in table.columns:
        raise ValueError(f"the table already has a {total_label!r} label; pass totals=False or another "
                         f"total_label")
    try:
        values = table.apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as e:
        raise ValueError(f"counts must be numbers: {e}") from None
    if not np.all(np.isfinite(values)):
        raise ValueError("counts must not be missing (a missing count is not a zero)")
    if np.any(values < 0) or np.any(values != np.round(values)):
        raise ValueError("counts must be non-negative whole numbers")
    return values.astype(np.int64), list(table.index), list(table.columns)


def _primary(x: np.ndarray, threshold: int, allow_zeros: bool) -> np.ndarray:
    small = x < threshold
    return small & (x != 0) if allow_zeros else small


def _result(x, primary, supp, index, columns, threshold, allow_zeros, total_label) -> SuppressedTable:
    idx, cols = pd.Index(index), pd.Index(columns)
    published = pd.DataFrame(x, index=idx, columns=cols).astype("Int64").mask(supp)
    return SuppressedTable(published, pd.DataFrame(primary, index=idx, columns=cols),
                           pd.DataFrame(supp & ~primary, index=idx, columns=cols), threshold, allow_zeros,
                           total_label)


def _protect_line(x: np.ndarray, supp: np.ndarray, allow_zeros: bool) -> None:
    """One equation: sum(x[:-1]) == x[-1]. Add partners until every suppressed value can move."""
    role = np.ones(x.size)
    role[-1] = -1  # the total

    def ok(k: int, p: int) -> bool:  # can x_k move using partner p (opposite or same role)?
        return x[k] > 0 or x[p] > 0 or role[p] != role[k]

    changed = True
    while changed:
        changed = False
        for k in np.flatnonzero(supp):
            if any(ok(k, p) for p in np.flatnonzero(supp) if p != k):
                continue
            cands = [p for p in range(x.size) if not supp[p] and p != k and ok(k, p)]
            if not cands:
                continue  # cannot happen: the total (or any positive value) is a partner
            p = min(cands, key=lambda p: (int(x[p] == 0 and allow_zeros), int(x[p]), p))
            supp[p] = True
            changed = True


class _Protector:
    """Complementary suppression on the table with totals, as a graph problem (module docstring).

    Vertices: rows 0..R-1 (the last is the totals row) then columns R..R+C-1 (the last is the totals
    column); cell (i, j) joins row i and column j. With y = x for inner cells and the grand total and
    y = -x for the other totals, every row and every column of y sums to 0, so the changes of suppressed
    values that keep all shown values are circulations: around a cycle the y-changes alternate in sign.
    Walking a cycle that starts with cell e = (r, c) in direction sigma (its y-change), a cell crossed from
    its row to its column changes y by +sigma, one crossed from its column to its row by -sigma; its
    x-change is that times s (+1 inner / grand total, -1 other totals). A zero may only increase, so in the
    digraph D_sigma a suppressed positive cell gives arcs both ways and a suppressed zero only the arc whose
    x-change is +1. Cell e can move iff, for a sigma it allows, D_sigma has a path from c back to r that does
    not use e.

    Checks, per state of the suppression (recomputed after each change, O(cells)):
    - a positive cell on a cycle of positive suppressed cells (not a bridge of that undirected graph) can
      move both ways;
    - a zero e: in D_sigma (sigma = s_e) its only arc is r -> c, so it can move iff r and c are in the same
      strongly connected component of D_sigma;
    - any other positive cell: breadth-first search in D_sigma without e's arcs.
    """

    def __init__(self, x: np.ndarray, supp: np.ndarray, allow_zeros: bool, fixed: np.ndarray | None = None):
        self.x, self.supp, self.allow_zeros = x, supp, allow_zeros
        self.fixed = np.zeros(x.shape, dtype=bool) if fixed is None else fixed  # shown values that must stay shown
        self.R, self.C = x.shape
        s = -np.ones(x.shape, dtype=int)
        s[:-1, :-1] = 1
        s[-1, -1] = 1
        self.s = s

    def run(self) -> None:
        changed = True
        while changed:
            changed = False
            state = None
            for i, j in zip(*np.nonzero(self.supp)):
                if state is None:
                    state = self._analyse()
                if not self._movable(int(i), int(j), state) and self._fix(int(i), int(j)):
                    state = None
                    changed = True

    def _directions(self, i: int, j: int) -> tuple[int, ...]:
        # a zero can only increase: its x-change sigma * s must be +1
        return (int(self.s[i, j]),) if self.x[i, j] == 0 else (1, -1)

    def _arc_ok(self, i: int, j: int, sigma: int, row_to_col: bool) -> bool:
        if self.x[i, j] > 0:
            return True
        return (sigma if row_to_col else -sigma) * self.s[i, j] == 1

    def _analyse(self) -> dict:
        R, nv = self.R, self.R + self.C
        cells = [(int(i), int(j)) for i, j in zip(*np.nonzero(self.supp))]
        positive = [(i, R + j) for i, j in cells if self.x[i, j] > 0]
        pos_bridges = {positive[k] for k in _bridges(nv, positive)}
        adj, comp = {}, {}
        for sigma in (1, -1):
            a: list[list[tuple[int, tuple[int, int]]]] = [[] for _ in range(nv)]
            for i, j in cells:
                if self._arc_ok(i, j, sigma, True):
                    a[i].append((R + j, (i, j)))
                if self._arc_ok(i, j, sigma, False):
                    a[R + j].append((i, (i, j)))
            adj[sigma] = a
            comp[sigma] = _strong_components(nv, [[w for w, _ in out] for out in a])
        return {"pos_bridges": pos_bridges, "adj": adj, "comp": comp}

    def _movable(self, r: int, c: int, state: dict) -> bool:
        R = self.R
        if self.x[r, c] == 0:
            comp = state["comp"][int(self.s[r, c])]
            return comp[r] == comp[R + c]
        if (r, R + c) not in state["pos_bridges"]:
            return True
        for sigma in (1, -1):
            adj = state["adj"][sigma]
            seen, todo = {R + c}, deque([R + c])
            while todo:
                v = todo.popleft()
                if v == r:
                    return True
                for w, cell in adj[v]:
                    if cell != (r, c) and w not in seen:
                        seen.add(w)
                        todo.append(w)
        return False

    def _fix(self, r: int, c: int) -> bool:
        best = None
        for sigma in self._directions(r, c):
            found = self._cheapest_path(r, c, sigma)
            if found is not None and (best is None or found[0] < best[0]):
                best = found
        if best is None:  # without given values cannot happen: the cell's totals and the grand total close a cycle
            if self.fixed.any():
                return False  # the given values pin it: the caller's linked check decides
            raise RuntimeError(f"no protecting cycle for cell {(r, c)}")
        for i, j in best[1]:
            self.supp[i, j] = True
        return True

    def _cost(self, i: int, j: int) -> tuple[int, int, int]:
        if self.supp[i, j]:
            return (0, 0, 0)
        v = int(self.x[i, j])
        return (1 if (v == 0 and self.allow_zeros) else 0, v, 1)

    def _cheapest_path(self, r: int, c: int, sigma: int):
        """Dijkstra from column c to row r over all cells except (r, c); cost (zeros used, sum of new
        counts, new cells), ties to the lower vertex (table order). Returns (cost, cells) or None."""
        R, C = self.R, self.C
        start, goal = R + c, r
        dist: dict[int, tuple] = {start: (0, 0, 0)}
        prev: dict[int, tuple[int, tuple[int, int]]] = {}
        heap = [((0, 0, 0), start)]
        done = set()
        while heap:
            d, v = heapq.heappop(heap)
            if v in done:
                continue
            done.add(v)
            if v == goal:
                break
            if v >= R:  # column vertex: to rows, crossing cells from column to row
                j = v - R
                steps = [(i, (i, j)) for i in range(R)]
                row_to_col = False
            else:
                i = v
                steps = [(R + j, (i, j)) for j in range(C)]
                row_to_col = True
            for w, (ci, cj) in steps:
                if w in done or (ci, cj) == (r, c) or not self._arc_ok(ci, cj, sigma, row_to_col) \
                        or (self.fixed[ci, cj] and not self.supp[ci, cj]):
                    continue
                k = self._cost(ci, cj)
                nd = (d[0] + k[0], d[1] + k[1], d[2] + k[2])
                if w not in dist or nd < dist[w]:
                    dist[w] = nd
                    prev[w] = (v, (ci, cj))
                    heapq.heappush(heap, (nd, w))
        if goal not in done:
            return None
        cells, v = [], goal
        while v != start:
            v, cell = prev[v]
            cells.append(cell)
        return dist[goal], cells


def _bridges(nv: int, edges: list[tuple[int, int]]) -> set[int]:
    """Indices of the bridges of an undirected simple graph (iterative Tarjan low-link)."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(nv)]
    for k, (u, v) in enumerate(edges):
        adj[u].append((v, k))
        adj[v].append((u, k))
    disc, low = [-1] * nv, [0] * nv
    out: set[int] = set()
    clock = 0
    for root in range(nv):
        if disc[root] != -1 or not adj[root]:
            continue
        disc[root] = low[root] = clock
        clock += 1
        stack = [(root, -1, iter(adj[root]))]
        while stack:
            v, parent_edge, it = stack[-1]
            for w, k in it:
                if k == parent_edge:
                    continue
                if disc[w] == -1:
                    disc[w] = low[w] = clock
                    clock += 1
                    stack.append((w, k, iter(adj[w])))
                    break
                low[v] = min(low[v], disc[w])
            else:
                stack.pop()
                if stack:
                    u = stack[-1][0]
                    low[u] = min(low[u], low[v])
                    if low[v] > disc[u]:
                        out.add(parent_edge)
    return out


def _strong_components(nv: int, adj: list[list[int]]) -> list[int]:
    """Component label of every vertex of a digraph (iterative Tarjan)."""
    index, low, on_stack = [-1] * nv, [0] * nv, [False] * nv
    comp = [-1] * nv
    stack: list[int] = []
    counter = n_comp = 0
    for root in range(nv):
        if index[root] != -1:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work = [(root, 0)]
        while work:
            v, i = work[-1]
            if i < len(adj[v]):
                work[-1] = (v, i + 1)
                w = adj[v][i]
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    u = work[-1][0]
                    low[u] = min(low[u], low[v])
                if low[v] == index[v]:
                    while True:
                        w = stack.pop()
                        on_stack[w] = False
                        comp[w] = n_comp
                        if w == v:
                            break
                    n_comp += 1
    return comp
