"""What a published figure can possibly be: the plausible range of a value by unit, of a date by kind of source,
of a name by length; and the ingest policy that may override the range checks (recorded on the edition).

A value outside its range is refused with one line naming the file, table and cell, unless the user passes an
explicit override (``icetrack ingest --allow-implausible``), which loads it and records that on the edition.
The bounds are deliberately wide: they catch impossible values (a negative count, an infinity, an as-of date in
the year 2999), not surprising ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

# Counts of people or events: no U.S. immigration figure comes near a billion (FY2024: ~4.6 million
# encounters nationwide, https://www.cbp.gov/newsroom/stats/nationwide-encounters).
MAX_COUNT = 1e9
# Days (average length of stay, time to an event): a century is already impossible for a stay.
MAX_DAYS = 36_525.0
# Units whose values are durations in days; every other unit counts people, events or beds.
DAY_UNITS = frozenset({"days"})
# Units that are shares of a whole.
SHARE_UNITS = frozenset({"share", "proportion", "fraction"})

# Dates. Aggregate figures (a user's CSV) may reach back to the first federal removal statistics (1892, DHS
# Yearbook of Immigration Statistics, Table 39); person-level FOIA records start with the systems that hold them
# (EID/IIDS records in public releases begin in the 2000s; 1970 leaves ample room for old entry dates).
EARLIEST_FIGURE_DATE = date(1892, 1, 1)
EARLIEST_RECORD_DATE = date(1970, 1, 1)
# ICE's detention statistics began with FY2019's public workbooks; earlier fiscal years appear only as
# comparisons inside them.
EARLIEST_WORKBOOK_DATE = date(2018, 10, 1)
# An as-of, publication or event date may lie a little after the day of ingest (time zones, a file dated for
# the coming Monday), never more.
FUTURE_MARGIN_DAYS = 14

MAX_NAME_LENGTH = 64      # measure, dimension and target ids
MAX_LABEL_LENGTH = 500    # labels, dimension values, notes' first line
MAX_TEXT_LENGTH = 10_000  # a note or definition


def latest_plausible_date(today: date | None = None) -> date:
    """The last date a figure, as-of date or record may carry when ingested on ``today``."""
    return (today or date.today()) + timedelta(days=FUTURE_MARGIN_DAYS)


def value_problem(value: float, unit: str) -> str | None:
    """Why ``value`` cannot be a figure in ``unit`` (None when it can), as "<value> is ..." for the caller to
    prefix with the column or cell."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return f"{value!r} is not a number"
    if not math.isfinite(value):
        return f"{value!r} is not finite"
    if value < 0:
        return f"{value:,.10g} is negative; a count or average of {unit} cannot be"
    if unit in SHARE_UNITS:
        if value > 1:
            return f"{value:,.10g} is above 1; a {unit} cannot be"
    elif unit in DAY_UNITS:
        if value > MAX_DAYS:
            return f"{value:,.10g} {unit} is beyond {MAX_DAYS:,.0f} days"
    elif value > MAX_COUNT:
        return f"{value:,.10g} is above {MAX_COUNT:,.0f}; no count of {unit} can be"
    return None


def date_problem(day: date, what: str, *, earliest: date, today: date | None = None) -> str | None:
    """Why ``day`` cannot be the date of ``what`` (None when it can)."""
    latest = latest_plausible_date(today)
    if day < earliest:
        return f"{what} {day.isoformat()} is before {earliest.isoformat()}, earlier than any such record"
    if day > latest:
        return (f"{what} {day.isoformat()} is after {latest.isoformat()} (the day of ingest plus "
                f"{FUTURE_MARGIN_DAYS} days)")
    return None


@dataclass(frozen=True)
class IngestPolicy:
    """Overrides of the default refusals, each recorded on the editions it lets in.

    ``allow_implausible``: load values and dates outside the plausible ranges (with a warning) instead of
    refusing the file. ``drop_identifiers``: load a person-level file without its identifying columns instead
    of refusing it. ``partial``: load a workbook whose table title matches but whose header or body is not a
    layout the reader knows without that table (reported missing) instead of refusing the whole file.
    """

    allow_implausible: bool = False
    drop_identifiers: bool = False
    partial: bool = False


DEFAULT_POLICY = IngestPolicy()
