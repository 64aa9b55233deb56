"""Which edition's value of each figure a reader means: the one vintage type every caller passes.

- ``Latest()``: for each figure (measure, dimensions, reference period) the value of the edition queried
  last (:func:`icetrack.domain.rules.newest_first_key` states the order).
- ``KnownBy(day, undated=...)``: the same rule among the editions public on ``day``. An edition without a
  publication date is excluded (``"exclude"``: when it became public is unknown, the right choice for judging
  what a speaker could have known) or counted from its as-of date, else from the start of the period each
  figure describes (``"from_as_of"``: ICE's year-end workbooks and undated reference figures, which a
  back-test calibrated months later needs).
- ``Edition(edition_id)``: one edition's figures.
- ``AllVintages()``: every edition's value of every figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, Union

import ibis

EDITION_COLUMNS = ("as_of", "published_on", "published_by", "data_source_date", "source", "synthetic")
FIGURE_KEY = ("measure", "dims_key", "period_start", "period_end")


@dataclass(frozen=True)
class Latest:
    pass


@dataclass(frozen=True)
class KnownBy:
    day: date
    undated: Literal["exclude", "from_as_of"] = "exclude"

    def __post_init__(self):
        if self.undated not in ("exclude", "from_as_of"):
            raise ValueError(f"undated must be 'exclude' or 'from_as_of', not {self.undated!r}")


@dataclass(frozen=True)
class Edition:
    edition_id: str


@dataclass(frozen=True)
class AllVintages:
    pass


Vintage = Union[Latest, KnownBy, Edition, AllVintages]


def parse_vintage(text: str | Vintage) -> Vintage:
    """'latest', 'all' or an edition id (a Vintage passes through unchanged)."""
    if isinstance(text, (Latest, KnownBy, Edition, AllVintages)):
        return text
    if text == "latest":
        return Latest()
    if text == "all":
        return AllVintages()
    return Edition(text)


def _newest_first(t: ibis.Table) -> list:
    """The latest-vintage order (:func:`icetrack.domain.rules.newest_first_key`) as Ibis sort keys."""
    return [ibis.desc(ibis.coalesce(t.as_of, t.published_on), nulls_first=False), ibis.desc(t.ingested_at),
            ibis.desc(t.edition_id)]


def _first_per(t: ibis.Table, key: list, order: list) -> ibis.Table:
    rank = ibis.row_number().over(group_by=key, order_by=order)
    return t.mutate(_vintage_rank=rank).filter(lambda x: x._vintage_rank == 0).drop("_vintage_rank")


def observations(con, vintage: Vintage = Latest()) -> ibis.Table:
    """Observations of ``vintage`` (an Ibis connection over the warehouse), with their edition's as_of,
    published_on, source and synthetic; one row per figure for Latest and KnownBy."""
    vintage = parse_vintage(vintage)
    editions = con.table("editions").select("edition_id", *EDITION_COLUMNS, "ingested_at")
    j = con.table("observations").join(editions, "edition_id")
    if isinstance(vintage, Edition):
        j = j.filter(j.edition_id == vintage.edition_id)
    elif isinstance(vintage, KnownBy):
        # An edition was public on its publication date or, failing that, by its first web-archive capture.
        public = (ibis.coalesce(j.published_on, j.published_by) if vintage.undated == "exclude"
                  else ibis.coalesce(j.published_on, j.published_by, j.as_of, j.period_start))
        j = j.filter(public <= vintage.day)
    if isinstance(vintage, (Latest, KnownBy)):
        j = _first_per(j, list(FIGURE_KEY), _newest_first(j))
    return j.drop("ingested_at")


def newest_copy(t: ibis.Table, key: list) -> ibis.Table:
    """Of the rows of ``t`` sharing ``key`` (copies of one figure in several editions), the one the
    latest-vintage rule picks; ``t`` carries as_of, published_on, ingested_at and edition_id."""
    return _first_per(t, key, _newest_first(t))


def latest_targets(con) -> ibis.Table:
    """Each target from the edition ingested last that holds it (a target re-published in a later edition
    replaces the earlier one), with its edition's file name."""
    editions = con.table("editions").select("edition_id", "file_name", "ingested_at")
    j = con.table("targets").join(editions, "edition_id")
    j = _first_per(j, ["target_id"], [ibis.desc(j.ingested_at), ibis.desc(j.edition_id)])
    return j.drop("ingested_at")
