"""What was public on a day, for many days at once: every vintage of the workbook series read once, then
each day's known-by view taken in pandas.

The rolling evaluation (:mod:`icetrack.model.evaluation`) needs the figures known on dozens of origins; one
warehouse query per origin and series (:func:`icetrack.model.calibration.calibrate`) takes over a second per
origin. Here the observations of the series the capacity model reads are fetched once with every vintage, and
each origin's view applies the same two rules as :mod:`icetrack.warehouse.vintage`:

- public on ``day``: coalesce(published_on, published_by, as_of, period_start) <= day (``KnownBy(day,
  undated="from_as_of")``: an undated workbook counts from its as-of date);
- of the public copies of one figure (measure, dimensions, period), the newest-first one
  (:func:`icetrack.domain.rules.newest_first_key`: latest coalesce(as_of, published_on), then latest
  ingested, then greatest edition id).

:func:`calibrate_known` repeats the calibration of the model's status-quo inputs on such a view; a test checks it
against :func:`~icetrack.model.calibration.calibrate` on the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from icetrack.domain.rules import BOOK_OUT_CLASS, REMOVAL_REASON, TOTAL, UNLISTED_CLASS
from icetrack.model.calibration import AGENCIES, Calibration, iso_date, status_quo_inputs
from icetrack.warehouse.vintage import FIGURE_KEY, AllVintages, observations

# The series a status-quo forecast and its scoring read (ADP, ALOS, book-ins, book-outs, removals to date).
MEASURES = ("adp", "alos", "book_ins", "book_outs", "removals_fytd")
DIMENSIONS = ("agency", "criminality", "release_reason")
DATE_COLUMNS = ("period_start", "period_end", "as_of", "published_on", "published_by")


@dataclass(frozen=True)
class History:
    """Every vintage of :data:`MEASURES`, newest-first (the latest-vintage order), with each row's public day."""

    rows: pd.DataFrame
    editions: pd.DataFrame  # edition_id, file_name, source, published_on, published_by, as_of

    def view(self, day: date | None) -> pd.DataFrame:
        """One row per figure: the newest copy public on ``day`` (every copy when None: the latest vintage)."""
        rows = self.rows if day is None else self.rows[self.rows.public <= pd.Timestamp(day)]
        return rows.drop_duplicates(list(FIGURE_KEY), keep="first")

    def public_rows(self, day: date) -> int:
        """How many figures' copies were public on ``day``: days with equal counts share one known-by view
        (the public set only grows with the day)."""
        return int(np.searchsorted(self._public_sorted, np.datetime64(pd.Timestamp(day)), side="right"))

    @cached_property
    def _public_sorted(self) -> np.ndarray:
        return np.sort(self.rows.public.to_numpy())


def read_history(con) -> History:
    """Fetch every vintage of :data:`MEASURES` once (``con``: the warehouse's Ibis connection)."""
    obs = observations(con, AllVintages())
    rows = obs.filter(obs.measure.isin(list(MEASURES))).select(
        "edition_id", "measure", "dims", "dims_key", "period_start", "period_end", "grain", "value",
        "as_of", "published_on", "published_by").to_pandas()
    editions = con.table("editions").select("edition_id", "file_name", "source", "published_on", "published_by",
                                            "as_of", "ingested_at").to_pandas()
    for c in DATE_COLUMNS:
        rows[c] = pd.to_datetime(rows[c])
    for d in DIMENSIONS:
        rows[d] = rows.dims.map(lambda dims, d=d: (dims or {}).get(d))
    rows = rows.drop(columns="dims").merge(editions[["edition_id", "file_name", "ingested_at"]], on="edition_id")
    rows["public"] = (rows.published_on.fillna(rows.published_by).fillna(rows.as_of).fillna(rows.period_start))
    # The latest-vintage order, kept by every filter below: the first copy of a figure is the one a reader means.
    rows["newest_day"] = rows.as_of.fillna(rows.published_on)
    rows = rows.sort_values(["newest_day", "ingested_at", "edition_id"], ascending=False, na_position="last",
                            kind="stable").reset_index(drop=True)
    for c in ("published_on", "published_by", "as_of"):
        editions[c] = pd.to_datetime(editions[c])
    return History(rows=rows, editions=editions.drop(columns="ingested_at"))


def monthly(view: pd.DataFrame, measure: str, *, complete: bool = True, **dims: str) -> pd.DataFrame:
    """A monthly series of ``measure`` matching ``dims``, by month (a ``date``): value, edition_id, as_of, partial.

    ``complete``: only the months counted in full (:func:`icetrack.domain.rules.is_partial`)."""
    sel = view[(view.measure == measure) & (view.grain == "month")]
    for k, v in dims.items():
        sel = sel[sel[k] == v]
    out = pd.DataFrame({"month": sel.period_start.dt.date, "value": sel.value, "edition_id": sel.edition_id,
                        "as_of": sel.as_of, "release_reason": sel.release_reason,
                        "partial": (sel.period_end > sel.as_of).fillna(False).astype(bool)})
    if complete:
        out = out[~out.partial]
    return out.set_index("month").sort_index()


def book_outs_by_reason(view: pd.DataFrame) -> pd.DataFrame:
    """Complete months of final book-outs by reason with each reason's class, as
    :func:`icetrack.metrics.detention.book_outs_by_reason` (the Total row and bond detail rows left out)."""
    t = monthly(view, "book_outs", criminality=TOTAL)
    t = t[t.release_reason != TOTAL]
    t = t.assign(outcome=t.release_reason.map(lambda r: BOOK_OUT_CLASS.get(r, UNLISTED_CLASS)))
    return t[t.outcome != "bond_detail"]


def removals_to_date(view: pd.DataFrame) -> pd.DataFrame:
    """Fiscal-year-to-date removals of each table date: period_start, as_of_date (dates), value, edition_id,
    file_name; by table date."""
    r = view[view.measure == "removals_fytd"]
    out = pd.DataFrame({"period_start": r.period_start.dt.date, "as_of_date": r.period_end.dt.date, "value": r.value,
                        "edition_id": r.edition_id, "file_name": r.file_name})
    return out.sort_values("as_of_date").reset_index(drop=True)


def _editions(history: History, used: set[str]) -> tuple[list[dict[str, Any]], date]:
    eds = history.editions[history.editions.edition_id.isin(used)].sort_values(["as_of", "edition_id"])
    editions = [{"edition_id": e.edition_id, "file_name": e.file_name,
                 "published_on": iso_date(e.published_on), "as_of": iso_date(e.as_of)} for e in eds.itertuples()]
    return editions, eds.as_of.dropna().max().date()


def calibrate_known(history: History, day: date) -> Calibration:
    """The capacity model's status-quo inputs from the figures public on ``day``: the same window, stays, ALOS,
    admissions, book-out shares, last ADP and removals as :func:`icetrack.model.calibration.calibrate`.

    ``share_detained`` and ``beds`` are left None: a status-quo forecast without a bed cap uses neither, and
    ``editions`` / ``as_of`` cover the editions of the other inputs only.
    """
    view = history.view(day)
    series = {(m, a): monthly(view, m, agency=a, criminality=TOTAL) for m in ("adp", "alos")
              for a in AGENCIES + (TOTAL,)}
    series |= {("book_ins", a): monthly(view, "book_ins", agency=a) for a in AGENCIES}
    release_to_remove = monthly(view, "book_outs", complete=False, criminality=TOTAL,
                                release_reason=REMOVAL_REASON).reset_index()
    fields, used = status_quo_inputs(series, book_outs_by_reason(view), removals_to_date(view), release_to_remove,
                                     f"in editions published by {day}")
    editions, as_of = _editions(history, used)
    return Calibration(through=day, as_of=as_of, share_detained=None, beds=None, editions=editions, **fields)
