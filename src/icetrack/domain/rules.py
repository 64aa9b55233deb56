"""Counting rules, each stated once: fiscal years, partial months, book-out outcome classes, the removal share,
and the order that picks "the latest vintage" of a figure.

Pure Python over plain values; the metrics turn these into Ibis expressions, the synthetic generator and the
capacity model apply them to arrays. The user-facing wording is in :mod:`icetrack.domain.definitions`.
"""

from __future__ import annotations

from datetime import date, datetime

# -- fiscal years ------------------------------------------------------------------------------------------
# The US federal fiscal year runs Oct 1 - Sep 30 and is named by the calendar year it ends in.
FISCAL_YEAR_FIRST_MONTH = 10


def fiscal_year(day: date) -> int:
    """The fiscal year a date falls in (Oct 1 - Sep 30, named by its end year)."""
    return day.year + 1 if day.month >= FISCAL_YEAR_FIRST_MONTH else day.year


def fiscal_year_start(year: int) -> date:
    return date(year - 1, FISCAL_YEAR_FIRST_MONTH, 1)


# -- partial months ----------------------------------------------------------------------------------------
def is_partial(period_end: date, as_of: date | None) -> bool:
    """A figure of a period that ends after its edition's as-of date is only partly counted (the as-of month
    of a workbook counts only up to the as-of date). An edition without an as-of date counts as complete."""
    return as_of is not None and period_end > as_of


# -- final book-outs ---------------------------------------------------------------------------------------
TOTAL = "Total"  # the workbooks' label of an all-values row or column
REMOVAL_REASON = "Release to Remove"
BONDED_OUT = "Bonded Out"
# 'Bonded Out' = 'Bond Set by ICE' + 'Bond Set by IJ' in every edition: the two are detail rows of the bond
# total, so counting them as well would count every bond release twice.
BOND_PARTS = ("Bond Set by ICE", "Bond Set by IJ")
BOOK_OUT_CLASS = {
    REMOVAL_REASON: "removal",
    BONDED_OUT: "release",
    BOND_PARTS[0]: "bond_detail",
    BOND_PARTS[1]: "bond_detail",
    "Order of Recognizance": "release",
    "Order of Supervision": "release",
    "Paroled": "release",
    "Proceedings Terminated": "release",
    "Relief Granted by IJ": "release",
    "Prosecutorial Discretion": "release",
    "Court Ordered": "release",
    "Transferred": "transfer",
    "Transfer to U.S. Marshals or other agency": "transfer",
    "Other": "other",
}
OUTCOME_CLASSES = ("removal", "release", "transfer", "other")  # the classes a final book-out counts in
UNLISTED_CLASS = "other"  # a reason the table does not list


def book_out_class(reason: str) -> str:
    """The outcome class of a final book-out reason ('bond_detail' rows are never counted)."""
    return BOOK_OUT_CLASS.get(reason, UNLISTED_CLASS)


def removal_share(removals: float, book_outs: float) -> float:
    """The removal share of final book-outs: 'Release to Remove' book-outs / all final book-outs of the
    period (all criminality, all reasons including transfers)."""
    return removals / book_outs


# A person-level release reason (free text, e.g. the DDP files' 'Removed') in lower case: the first entry
# whose words it contains gives the outcome; any other reason is a release.
PERSON_REASON_OUTCOMES = (
    (("remov",), "removed"),
    (("transfer", "marshal", "other agency"), "transferred"),
)
PERSON_REASON_DEFAULT = "released"


# -- the latest vintage ------------------------------------------------------------------------------------
# Of the editions holding one figure (measure, dimensions, reference period), a reader means the one queried
# last: the latest coalesce(as_of, published_on) (editions with neither come last), then the latest
# ingested, then the greatest edition id. The warehouse states the same order in SQL.
def newest_first_key(as_of: date | None, published_on: date | None, ingested_at: datetime | None,
                     edition_id: str) -> tuple:
    """Sort key under which the copy the latest-vintage rule picks sorts FIRST (use with ``sorted``/``min``)."""
    day = as_of if as_of is not None else published_on
    stamp = ingested_at.timestamp() if ingested_at is not None else float("-inf")
    return (day is None, -(day.toordinal() if day else 0), -stamp, _descending(edition_id))


def _descending(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text) + (1,)
