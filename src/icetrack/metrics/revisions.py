"""Revisions: how one published figure moved from edition to edition.

The definitions stated in every output are :data:`icetrack.domain.definitions.REVISIONS`.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Any

import ibis

FLAGS = {
    "as_of_backwards": "as-of date earlier than an edition published before it",
    "stale_repost": "all of this edition's figures equal an earlier edition's (stale re-post)",
    "same_as_of_differs": "another edition with the same as-of date gives a different value",
}


def parse_period(text: str) -> tuple[date, date]:
    """'2025-01' -> the month; '2025-01-06' -> that day; 'FY2025' -> Oct 1 2024 .. Sep 30 2025."""
    text = text.strip()
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        y, mo = int(m[1]), int(m[2])
        if 1 <= mo <= 12:
            return date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1])
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        d = date.fromisoformat(text)
        return d, d
    if m := re.fullmatch(r"FY(\d{4})", text, flags=re.I):
        return date(int(m[1]) - 1, 10, 1), date(int(m[1]), 9, 30)
    raise ValueError(f"period '{text}' is not YYYY-MM, YYYY-MM-DD or FYyyyy")


def edition_fingerprints(con) -> ibis.Table:
    """One row per edition: a digest of all its figures, and the earliest other edition with the same digest."""
    obs = con.table("observations")
    row_text = (obs.measure + "|" + obs.dims_key + "|" + obs.period_start.cast("string") + "|"
                + obs.period_end.cast("string") + "|" + obs.value.cast("string"))
    digests = obs.group_by("edition_id").aggregate(
        digest=row_text.collect(order_by=row_text).join(";").hash(), n=obs.count())
    editions = con.table("editions").select("edition_id", "published_on", "as_of", "ingested_at")
    d = digests.join(editions, "edition_id")
    order = ibis.coalesce(d.published_on, d.as_of)
    w = ibis.window(group_by=d.digest, order_by=[order, d.ingested_at])
    return d.mutate(first_with_digest=d.edition_id.first().over(w)).select("edition_id", "digest", "first_with_digest")


def revision_path(con, measure: str, period: tuple[date, date], dims: dict[str, str] | None = None) -> ibis.Table:
    obs = con.table("observations")
    sel = obs.filter((obs.measure == measure) & (obs.period_start == period[0]) & (obs.period_end == period[1]))
    for k, v in (dims or {}).items():
        sel = sel.filter(sel.dims.get(k) == v)
    editions = con.table("editions").select("edition_id", "file_name", "published_on", "as_of", "ingested_at",
                                            "source", "note")
    j = sel.join(editions, "edition_id").join(edition_fingerprints(con), "edition_id")
    order = ibis.coalesce(j.published_on, j.as_of)
    w = ibis.window(group_by=j.dims_key, order_by=[order, j.as_of, j.ingested_at])
    same_as_of = ibis.window(group_by=[j.dims_key, j.as_of])
    j = j.mutate(
        latest_as_of_so_far=j.as_of.max().over(ibis.cumulative_window(group_by=j.dims_key,
                                                                      order_by=[order, j.as_of, j.ingested_at])),
        change=j.value - j.value.lag().over(w),
        stale_repost=j.first_with_digest != j.edition_id,
        same_as_of_differs=j.value.min().over(same_as_of) != j.value.max().over(same_as_of),
        seq=ibis.row_number().over(w),
    )
    return j.mutate(
        as_of_backwards=ibis.coalesce(j.as_of < j.latest_as_of_so_far.lag().over(w), False),
    ).order_by(["dims_key", "seq"])


def revisions(con, measure: str, period: str, dims: dict[str, str] | None = None) -> dict[str, Any]:
    """JSON-ready revision paths for every series of ``measure`` matching ``dims`` in ``period``."""
    start, end = parse_period(period)
    rows = revision_path(con, measure, (start, end), dims).to_pandas()
    series = []
    for dims_key, g in rows.groupby("dims_key", sort=True):
        path = []
        for r in g.itertuples():
            flags = [f for f in FLAGS if bool(getattr(r, f))]
            path.append({
                "edition_id": r.edition_id, "file_name": r.file_name,
                "published_on": _iso(r.published_on), "as_of": _iso(r.as_of),
                "value": float(r.value), "change": None if r.change != r.change or r.change is None else float(r.change),
                "flags": flags, "note": r.note,
            })
        values = [p["value"] for p in path]
        series.append({
            "dims": dict(g.dims.iloc[0]), "dims_key": dims_key, "unit": g.unit.iloc[0], "grain": g.grain.iloc[0],
            "n_editions": len(path), "first_value": values[0], "latest_value": values[-1],
            "min_value": min(values), "max_value": max(values), "editions": path,
        })
    return {
        "measure": measure, "period": period, "period_start": start.isoformat(), "period_end": end.isoformat(),
        "filters": dims or {}, "flags_legend": FLAGS, "series": series,
    }


def _iso(v) -> str | None:
    if v is None or str(v) in ("NaT", "None", "nan"):
        return None
    return str(v)[:10]
