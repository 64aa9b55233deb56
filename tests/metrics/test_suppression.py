"""Small-cell suppression: hand examples, the audit on random tables, and the audit failing when it should."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from icetrack.metrics.suppression import SuppressedTable, _Protector, suppress, suppress_series
from icetrack.metrics.suppression_audit import audit

T = "Total"


def _frame(rows: dict[str, list[int]], cols: str = "xyz") -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(cols))


# ---------------------------------------------------------------------------------------------------------
# Hand example
#
#          x    y    z | Total
#   A      5   20   30 |   55      5 < 10: primary. Alone in row A, 5 = 55 - 20 - 30 (and = 95 - 40 - 50).
#   B     40   12   60 |  112
#   C     50   70   15 |  135
#   Total 95  102  105 |  302
#
# A protecting cycle through (A,x) needs a row i != A and a column j != x with (i,x), (i,j), (A,j):
#   B,y: 40 + 12 + 20 = 72   B,z: 40 + 60 + 30 = 130   C,y: 50 + 70 + 20 = 140   C,z: 50 + 15 + 30 = 95
#   (any cycle through a total costs more: e.g. (B,x) + (B,Total) + (A,Total) = 40 + 112 + 55)
# cheapest: suppress (B,x), (B,y), (A,y). Then x_Ax + x_Ay = 25, x_Bx + x_By = 52, x_Ax + x_Bx = 45,
# x_Ay + x_By = 32: rank 3 for 4 unknowns, each value can move by +-e around the rectangle.

HAND = _frame({"A": [5, 20, 30], "B": [40, 12, 60], "C": [50, 70, 15]})


def test_hand_example_complementary_suppression():
    st = suppress(HAND)
    p = st.published
    assert list(p.index) == ["A", "B", "C", T] and list(p.columns) == ["x", "y", "z", T]
    assert p.loc[T, T] == 302 and p.loc["A", T] == 55 and p.loc[T, "x"] == 95  # totals of the true counts
    assert st.primary.to_numpy().sum() == 1 and st.primary.loc["A", "x"]
    assert sorted(zip(*np.nonzero(st.secondary.to_numpy()))) == [(0, 1), (1, 0), (1, 1)]  # (A,y) (B,x) (B,y)
    assert p.isna().to_numpy().sum() == 4
    assert p.loc["A", "z"] == 30 and p.loc["C", "z"] == 15
    assert audit(st) == []
    assert suppress(HAND).published.equals(p)  # deterministic


def test_audit_fails_on_primary_only():
    # the same table with only the primary suppression: (A,x) = 55 - 20 - 30
    p = pd.DataFrame(HAND.to_numpy(), index=HAND.index, columns=HAND.columns)
    p[T] = p.sum(axis=1)
    p.loc[T] = p.sum(axis=0)
    p = p.astype("Int64")
    p.loc["A", "x"] = pd.NA
    issues = audit(p, 10)
    assert len(issues) == 1 and "('A', 'x')" in issues[0] and "determined" in issues[0]


def test_audit_fails_on_shown_small_values():
    p = suppress(HAND).published.copy()
    p.loc["C", "z"] = 9  # a shown value below the threshold (also breaks the totals)
    issues = audit(p, 10)
    assert any("below the threshold" in s for s in issues)
    assert any("do not add up" in s for s in issues)


def test_two_per_line_is_not_enough():
    """Two blocks of suppressed cells joined by one cell: every row and column has >= 2 suppressed values,
    yet the joining cell is determined (the sum over block 1's rows minus block 1's columns gives it)."""
    vals = np.arange(100, 116).reshape(4, 4)
    df = pd.DataFrame(vals, index=list("ABCD"), columns=list("wxyz"))
    p = df.copy()
    p[T] = p.sum(axis=1)
    p.loc[T] = p.sum(axis=0)
    p = p.astype("Int64")
    hidden = [("A", "w"), ("A", "x"), ("B", "w"), ("B", "x"),  # block 1
              ("C", "y"), ("C", "z"), ("D", "y"), ("D", "z"),  # block 2
              ("B", "y")]  # the bridge
    for r, c in hidden:
        p.loc[r, c] = pd.NA
    na = p.isna()
    assert (na.sum(axis=1)[na.any(axis=1)] >= 2).all() and (na.sum(axis=0)[na.any(axis=0)] >= 2).all()
    issues = audit(p, 10)
    assert len(issues) == 1 and "('B', 'y')" in issues[0]


# ---------------------------------------------------------------------------------------------------------
# Zeros


def test_zeros_are_suppressed_and_not_pinned_by_non_negativity():
    # Row A: 0, 0, 15 | 15. Suppressing the two zeros alone, or with a rectangle through row B, leaves
    # x_Ax + x_Ay = 15 - 15 = 0 with both >= 0: both are visibly 0. The protecting cycle must change the
    # known sum of row A's suppressed values, so it has to take in (A,z) or the total of A.
    df = _frame({"A": [0, 0, 15], "B": [20, 30, 40]})
    st = suppress(df)
    assert st.primary.loc["A", "x"] and st.primary.loc["A", "y"]
    assert pd.isna(st.published.loc["A", "z"]) or pd.isna(st.published.loc["A", T])
    assert audit(st) == []

    naive = st.published.copy()
    naive.loc[:, :] = pd.DataFrame(np.array([[0, 0, 15, 15], [20, 30, 40, 90], [20, 30, 55, 105]]),
                                   index=naive.index, columns=naive.columns)
    for cell in [("A", "x"), ("A", "y"), ("B", "x"), ("B", "y")]:  # a rectangle: rank test passes...
        naive.loc[cell] = pd.NA
    assert audit(naive, 10, intervals=False) == []
    issues = audit(naive, 10)  # ...but non-negativity pins the zeros, and with them row B's two cells
    assert len(issues) == 4 and all("non-negativity" in s for s in issues)
    assert any("('B', 'y')" in s and "is 30" in s for s in issues)


def test_allow_zeros():
    df = _frame({"A": [0, 3, 40], "B": [25, 30, 45], "C": [0, 50, 60]})
    st = suppress(df, allow_zeros=True)
    assert st.published.loc["A", "x"] == 0 and st.published.loc["C", "x"] == 0
    assert st.primary.loc["A", "y"] and not st.primary.loc["A", "x"]
    assert audit(st) == []
    # shown zeros are reported when zeros are not allowed
    assert any("below the threshold" in s for s in audit(st.published, 10, allow_zeros=False))
    st0 = suppress(df)
    assert pd.isna(st0.published.loc["A", "x"]) and audit(st0) == []


# ---------------------------------------------------------------------------------------------------------
# Random tables


def _random_table(rng, shape_kind: int) -> pd.DataFrame:
    r, c = [(1, int(rng.integers(2, 9))), (int(rng.integers(2, 9)), 1), (1, 1)][shape_kind] if shape_kind < 3 \
        else (int(rng.integers(2, 9)), int(rng.integers(2, 9)))
    kind = int(rng.integers(0, 5))
    if kind == 0:
        vals = rng.poisson(rng.uniform(1, 40), (r, c))
    elif kind == 1:  # mostly small, many zeros
        vals = rng.integers(0, 12, (r, c))
    elif kind == 2:
        vals = rng.choice([0, 0, 1, 3, 8, 15, 60, 200], (r, c))
    elif kind == 3:
        vals = rng.negative_binomial(1, 0.05, (r, c))
    else:  # one row of all small cells (its total may be below the threshold too)
        vals = rng.poisson(50, (r, c))
        vals[int(rng.integers(0, r))] = rng.integers(0, 4, c)
    return pd.DataFrame(vals, index=[f"r{i}" for i in range(r)], columns=[f"c{j}" for j in range(c)])


@pytest.mark.parametrize("seed", range(40))
def test_audit_passes_on_random_tables(seed):
    rng = np.random.default_rng(seed)
    df = _random_table(rng, seed % 6)
    threshold = int(rng.choice([5, 10, 11]))
    for allow_zeros in (False, True):
        st = suppress(df, threshold, allow_zeros=allow_zeros)
        assert audit(st) == [], (df, st.published)
        true = df.copy()
        true[T] = true.sum(axis=1)
        true.loc[T] = true.sum(axis=0)
        shown = st.published
        # shown values are the true ones; everything below the threshold (zeros unless allowed) is hidden
        visible = ~st.suppressed.to_numpy()
        assert (shown.fillna(-1).to_numpy()[visible] == true.to_numpy()[visible]).all()
        small = (true < threshold) & ~((true == 0) & allow_zeros)
        assert (st.primary == small).all().all()
        assert not (st.primary & st.secondary).any().any()
        # the classic minimum: no line of the table with totals has exactly one suppressed value
        s = st.suppressed
        assert not (s.sum(axis=1) == 1).any() and not (s.sum(axis=0) == 1).any()


def test_random_tables_rank_only_many():
    """More and larger tables, with the (fast) linear-algebra part of the audit."""
    rng = np.random.default_rng(123)
    for _ in range(150):
        df = _random_table(rng, int(rng.integers(0, 6)))
        for allow_zeros in (False, True):
            st = suppress(df, allow_zeros=allow_zeros)
            assert audit(st, intervals=False) == []
    big = pd.DataFrame(rng.negative_binomial(1, 0.06, (40, 12)))
    assert audit(suppress(big), intervals=False) == []


def test_protector_agrees_with_the_audit():
    """On random suppression patterns (not produced by suppress), the suppressor's own criterion - a
    suppressed value can move along a cycle of suppressed cells that only increases zeros - flags exactly
    the values the independent audit (rank test + linear programming) finds determined."""
    rng = np.random.default_rng(7)
    for _ in range(40):
        r, c = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        vals = np.where(rng.uniform(size=(r, c)) < 0.4, 0, rng.integers(1, 30, (r, c)))
        x = np.zeros((r + 1, c + 1), dtype=np.int64)
        x[:r, :c], x[:r, c], x[r, :c], x[r, c] = vals, vals.sum(1), vals.sum(0), vals.sum()
        supp = rng.uniform(size=x.shape) < rng.uniform(0.1, 0.7)
        prot = _Protector(x, supp.copy(), False)
        state = prot._analyse()
        stuck = {(int(i), int(j)) for i, j in zip(*np.nonzero(supp)) if not prot._movable(int(i), int(j), state)}
        rows, cols = [f"r{i}" for i in range(r)] + [T], [f"c{j}" for j in range(c)] + [T]
        pub = pd.DataFrame(x, index=rows, columns=cols).astype("Int64").mask(supp)
        flagged = set()
        for issue in audit(pub, 1, allow_zeros=True):
            row, col = issue[1:issue.index(")")].replace("'", "").split(", ")
            flagged.add((rows.index(row), cols.index(col)))
        assert flagged == stuck


def test_total_below_threshold():
    df = _frame({"A": [1, 2, 3], "B": [30, 40, 50]})  # row A total 6 < 10
    st = suppress(df)
    assert st.primary.loc["A", T]
    assert st.published.loc["A"].isna().all()  # all of row A, with its total
    assert audit(st) == []
    tiny = _frame({"A": [1, 2, 3]})  # the grand total is below the threshold: nothing can be shown
    assert suppress(tiny).published.isna().all().all()


def test_one_row_and_one_column_tables():
    row = pd.DataFrame([[4, 30, 25]], index=["all"], columns=list("xyz"))
    st = suppress(row)
    # the totals row repeats the single row: its copy of a suppressed cell must be suppressed too
    assert pd.isna(st.published.loc[T, "x"]) and audit(st) == []
    col = row.T
    st = suppress(col)
    assert pd.isna(st.published.loc["x", T]) and audit(st) == []


def test_no_totals_means_primary_only():
    st = suppress(HAND, totals=False)
    assert T not in st.published.columns and st.secondary.to_numpy().sum() == 0
    assert audit(st) == []


# ---------------------------------------------------------------------------------------------------------
# 1-D


def test_series():
    s = pd.Series({"Mexico": 120, "Guatemala": 45, "Honduras": 7, "Other": 30}, name="arrests")
    st = suppress_series(s)
    p = st.published["arrests"]
    # Honduras 7 < 10 alone would be 202 - 120 - 45 - 30; the smallest other value (Other, 30) is added
    assert pd.isna(p["Honduras"]) and pd.isna(p["Other"]) and p[T] == 202
    assert st.primary["arrests"].sum() == 1 and st.secondary["arrests"].sum() == 1
    assert audit(st) == []
    # a zero beside one small value: 3 + 0 = 3 leaves the zero free to be 0..3 - enough, nothing added
    st = suppress_series(pd.Series([3, 40, 25, 0], index=list("abcd")))
    assert st.secondary.to_numpy().sum() == 0 and audit(st) == []
    # two zeros: 0 + 0 would be visibly 0; a positive partner is added
    st = suppress_series(pd.Series([0, 40, 25, 0], index=list("abcd")))
    assert st.secondary.to_numpy().sum() == 1 and audit(st) == []
    # under-suppressed series: the audit fails
    bad = st.published.copy()
    bad.iloc[:, 0] = pd.array([pd.NA, 40, 25, 0, 65], dtype="Int64")  # a = 65 - 40 - 25 - 0
    issues = audit(bad, 10, allow_zeros=True, intervals=False)
    assert len(issues) == 1 and "('a', 'count')" in issues[0] and "determined" in issues[0]
    bad.iloc[3, 0] = pd.NA  # primaries only: a + d = 0, both >= 0
    assert audit(bad, 10, intervals=False) == []
    issues = audit(bad, 10)
    assert len(issues) == 2 and all("non-negativity" in s for s in issues)


@pytest.mark.parametrize("seed", range(10))
def test_series_random(seed):
    rng = np.random.default_rng(100 + seed)
    s = pd.Series(rng.choice([0, 1, 4, 9, 10, 25, 80], int(rng.integers(1, 8))))
    for allow_zeros in (False, True):
        assert audit(suppress_series(s, allow_zeros=allow_zeros)) == []


# ---------------------------------------------------------------------------------------------------------
# Output


def test_shares_and_records():
    st = suppress(HAND)
    sh = st.shares("row")
    assert pd.isna(sh.loc["A", "x"]) and pd.isna(sh.loc["A", "y"])  # suppressed numerator
    assert sh.loc["A", "z"] == pytest.approx(30 / 55) and sh.loc["A", T] == 1.0
    assert st.shares("column").loc["C", "z"] == pytest.approx(15 / 105)
    assert st.shares("total").loc[T, "x"] == pytest.approx(95 / 302)
    recs = st.to_records(shares="row")
    json.dumps(recs)
    assert len(recs) == 16
    ax = next(r for r in recs if (r["row"], r["column"]) == ("A", "x"))
    assert ax == {"row": "A", "column": "x", "count": None, "status": "primary", "total": False, "share": None}
    by = next(r for r in recs if (r["row"], r["column"]) == ("B", "y"))
    assert by["status"] == "secondary" and by["count"] is None
    tt = next(r for r in recs if (r["row"], r["column"]) == (T, T))
    assert tt["count"] == 302 and tt["total"] and tt["status"] == "published"
    assert isinstance(st, SuppressedTable) and st.suppressed.to_numpy().sum() == 4


def test_input_validation():
    with pytest.raises(ValueError, match="whole"):
        suppress(pd.DataFrame([[1.5, 20]]))
    with pytest.raises(ValueError, match="non-negative"):
        suppress(pd.DataFrame([[-1, 20]]))
    with pytest.raises(ValueError, match="missing"):
        suppress(pd.DataFrame([[np.nan, 20]]))
    with pytest.raises(ValueError, match="Total"):
        suppress(pd.DataFrame([[1, 20]], columns=["a", "Total"]))
    with pytest.raises(ValueError, match="threshold"):
        suppress(HAND, threshold=0)
