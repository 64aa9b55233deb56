"""Complementary suppression across linked tables (values tied by sums that span several published tables).

:func:`icetrack.metrics.suppression.suppress` protects one table with its totals exactly. Tables published
about the same people are also tied to one another: a breakdown's groups add up to the total table, a
survival group's outcomes add up to its size, a month adds up its days. :func:`protect` takes every value
of such a family (:class:`~icetrack.metrics.suppression_audit.LinkedSystem` keys with their true counts),
the sums that tie them and what is already suppressed, and suppresses more values until no suppressed value
can be worked out from the shown ones (:func:`~icetrack.metrics.suppression_audit.recoverable`, exact, with
non-negativity), and - with ``sum_rule`` - until in every sum with a shown total the suppressed parts add
up to 0 or to at least the threshold (so a group of suppressed cells is never itself a small count).

Each round suppresses, for every value still recoverable, the smallest shown value that shares a sum with
it and is not ``fixed`` (fixed values are shown by another publication and keep their status); ties go to
the earlier key in ``order``. Rounds repeat until nothing is recoverable.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable

from icetrack.metrics.suppression_audit import LinkedSystem, is_small, recoverable

Key = Hashable


class ProtectionError(RuntimeError):
    """No shown value left that could protect a recoverable one (every candidate is fixed)."""


def protect(values: dict[Key, int], sums: Iterable[tuple[Key, tuple[Key, ...]]], threshold: int, *,
            suppressed: Iterable[Key], fixed: Iterable[Key] = (), order: list[Key] | None = None,
            sum_rule: bool = False, max_rounds: int = 500) -> set[Key]:
    """The suppressed keys after complementary suppression (see the module docstring).

    ``values``: true counts of every published key; ``suppressed``: keys suppressed to start with (the
    primary suppression and whatever other publications suppress); ``fixed``: keys whose status may not
    change. Returns the suppressed set (a superset of ``suppressed``)."""
    sums = [(t, tuple(p)) for t, p in sums]
    supp, fixed = set(suppressed), set(fixed)
    rank = {k: i for i, k in enumerate(order if order is not None else sorted(values, key=repr))}
    in_sums: dict[Key, list[int]] = defaultdict(list)
    for e, (t, parts) in enumerate(sums):
        for k in (t, *parts):
            in_sums[k].append(e)
    for _ in range(max_rounds):
        problems = _problems(values, sums, in_sums, supp, threshold, sum_rule)
        if not problems:
            return supp
        touched: set[int] = set()
        added = False
        for key, where in sorted(problems.items(), key=lambda kv: rank.get(kv[0], len(rank))):
            if any(e in touched for e in where):
                continue
            cands = [(values[j], rank.get(j, len(rank)), e, j) for e in where for j in (sums[e][0], *sums[e][1])
                     if j in values and j not in supp and j not in fixed]
            if not cands:
                continue
            _, _, _, j = min(cands, key=lambda c: c[:3])
            supp.add(j)
            touched.update(in_sums[j])
            added = True
        if not added:
            raise ProtectionError(f"cannot protect {sorted(map(repr, problems))[:5]}: every candidate is fixed")
    raise ProtectionError("complementary suppression did not converge")


def _problems(values, sums, in_sums, supp, threshold, sum_rule) -> dict[Key, list[int]]:
    """Key -> the sums through which it is exposed (recoverable keys: every sum they are in; with the sum
    rule, a sum whose suppressed parts add up to 1..threshold-1 under a shown total)."""
    system = LinkedSystem({k: (None if k in supp else v) for k, v in values.items()}, list(sums))
    found = {k: list(in_sums[k]) for k in recoverable(system)}
    if sum_rule:
        for e, (t, parts) in enumerate(sums):
            if t in supp or t not in values:
                continue
            hidden = [p for p in parts if p in supp]
            small = sum(values.get(p, 0) for p in hidden)
            if hidden and 0 < small < threshold:
                found.setdefault(hidden[0], []).append(e)
    return found


def small(values: dict[Key, int], threshold: int) -> set[Key]:
    """Primary suppression: every value below the threshold, zeros included - none at threshold 1, which
    publishes every count (:func:`~icetrack.metrics.suppression_audit.is_small`)."""
    return {k for k, v in values.items() if is_small(v, threshold)}
