"""Evidence for checking a claim: the observations that measure a definition over a window.

Definitions:
- The latest vintage of each figure, or the vintage public on a given day (``KnownBy``: the editions
  published by then), and only real editions: synthetic releases never count as evidence.
- *Shift*: ``shift_days`` moves the dates of daily observations back that many days (a post may describe
  the previous day), so the window is compared with the shifted dates.
- Cumulative fiscal-year-to-date figures and point-in-time snapshots are kept with their grain; the caller
  decides how a grain can answer a statistic.
"""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd

from icetrack.domain.catalogue import Measurement
from icetrack.warehouse.vintage import Latest, Vintage, latest_targets, observations


def observations_in_window(con, measurement: Measurement, start: date, end: date, shift_days: int = 0,
                           vintage: Vintage = Latest()) -> ibis.Table:
    """Real observations of ``measurement`` in ``vintage`` whose (shifted) period overlaps [start, end]."""
    obs = observations(con, vintage)
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
    t = latest_targets(con)
    sel = t.filter((t.kind == "target") & (t.concept == concept) & (t.scope == scope)
                   & (t.announced_on >= start) & (t.announced_on <= end))
    editions = con.table("editions").select("edition_id", "as_of", "published_on", "synthetic")
    j = sel.join(editions, "edition_id")
    j = j.filter(~j.synthetic)
    return j.select("target_id", "label", "value_low", "value_high", "unit", "announced_on", "effective_from",
                    "reported_by", "source_url", "note", "edition_id", "as_of", "published_on").order_by("announced_on")


def edition_details(con, edition_ids: list[str]) -> pd.DataFrame:
    """File name, publication and as-of date of each of ``edition_ids`` (the provenance a result cites)."""
    e = con.table("editions")
    return e.filter(e.edition_id.isin(list(edition_ids))).select(
        "edition_id", "file_name", "published_on", "as_of").to_pandas()
