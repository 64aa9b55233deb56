"""Evidence for checking a claim: the observations that measure a definition over a window.

Definitions:
- The latest vintage of each figure (``observations_latest``), or the vintage public on a given day (the
  editions published by then), and only real editions: synthetic releases never count as evidence.
- *Shift*: ``shift_days`` moves the dates of daily observations back that many days (a post may describe
  the previous day), so the window is compared with the shifted dates.
- Cumulative fiscal-year-to-date figures and point-in-time snapshots are kept with their grain; the caller
  decides how a grain can answer a statistic.
"""

from __future__ import annotations

from datetime import date

import ibis

from icetrack.domain.catalogue import Measurement


def known_by(con, day: date, undated: str = "exclude") -> ibis.Table:
    """Observations as they stood on ``day``: of the editions public by then, each figure's latest vintage.

    ``undated`` says what to do with an edition that has no publication date: ``"exclude"`` it (when it
    became public is unknown: the right choice for judging what a speaker could have known), or count it
    from its as-of date (it cannot have been published earlier), else from the start of the period each
    figure describes (``"from_as_of"``: ICE's year-end workbooks and undated reference figures, which a
    back-test calibrated months later needs).
    """
    editions = con.table("editions").select("edition_id", "as_of", "published_on", "source", "synthetic",
                                            "ingested_at")
    j = con.table("observations").join(editions, "edition_id")
    if undated == "exclude":
        j = j.filter(j.published_on <= day)
    elif undated == "from_as_of":
        j = j.filter(ibis.coalesce(j.published_on, j.as_of, j.period_start) <= day)
    else:
        raise ValueError(f"undated must be 'exclude' or 'from_as_of', not {undated!r}")
    newest_first = [ibis.desc(ibis.coalesce(j.as_of, j.published_on)), ibis.desc(j.ingested_at),
                    ibis.desc(j.edition_id)]
    rank = ibis.row_number().over(group_by=[j.measure, j.dims_key, j.period_start, j.period_end],
                                  order_by=newest_first)
    return j.mutate(vintage_rank=rank).filter(lambda t: t.vintage_rank == 0).drop("vintage_rank", "ingested_at")


def observations_in_window(con, measurement: Measurement, start: date, end: date, shift_days: int = 0,
                           known_on: date | None = None) -> ibis.Table:
    """Real observations of ``measurement`` whose (shifted) period overlaps [start, end]: the latest vintage,
    or the vintage public on ``known_on``."""
    obs = con.table("observations_latest") if known_on is None else known_by(con, known_on)
    sel = obs.filter((obs.measure == measurement.measure) & (obs.dims_key == measurement.dims_key)
                     & ~obs.synthetic)
    # Only daily figures move: a month's or a fiscal year's bounds are set by the publisher, not by when a
    # post went out.
    shift = ibis.ifelse(sel.grain == "day", shift_days, 0)
    sel = sel.mutate(period_start=(sel.period_start - shift.as_interval("D")).cast("date"),
                     period_end=(sel.period_end - shift.as_interval("D")).cast("date"))
    sel = sel.filter((sel.period_end >= start) & (sel.period_start <= end))
    editions = con.table("editions").select("edition_id", "publisher", "file_name")
    j = sel.join(editions, "edition_id")
    return j.select("measure", "grain", "period_start", "period_end", "value", "unit", "edition_id", "as_of",
                    "published_on", "source_url", "publisher", "file_name").order_by(["period_start", "period_end"])


def reported_targets(con, concept: str, scope: str, start: date, end: date) -> ibis.Table:
    """Announced targets (not baselines) of a concept and scope reported within [start, end]."""
    t = con.table("targets_latest")
    sel = t.filter((t.kind == "target") & (t.concept == concept) & (t.scope == scope)
                   & (t.announced_on >= start) & (t.announced_on <= end))
    editions = con.table("editions").select("edition_id", "as_of", "published_on", "synthetic")
    j = sel.join(editions, "edition_id")
    j = j.filter(~j.synthetic)
    return j.select("target_id", "label", "value_low", "value_high", "unit", "announced_on", "effective_from",
                    "reported_by", "source_url", "note", "edition_id", "as_of", "published_on").order_by("announced_on")
