"""Periods of cells that are not the edition's own months: a fiscal year named in a row label ("FY2024",
"EOFY2023"), a month of another fiscal year (the parole tables list three fiscal years; the bond table the
prior 12 months plus the current one), or one day (the ICLOS sheet's mid-month and month-end counts).

:meth:`.observations.ParseContext.add_month_starting` emits a month of any fiscal year; :func:`add_day`
applies the same rule to one day: a period starting after the table's date is not emitted (ICE pre-fills what
is still to come with 0; a non-zero value there is counted for the table's warning).
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date

from icetrack.sources.ice_detention.labels import text_key
from icetrack.sources.ice_detention.observations import ParseContext

# "FY2024", "FY 2024", "EOFY2023", "FY24" (the year-end "EO" prefix names the same fiscal year).
_FISCAL_YEAR = re.compile(r"^(?:eo)?fy ?(\d{4}|\d{2})$")


def fiscal_year_of_label(label: str) -> int | None:
    """The fiscal year a row label names ("FY2024", "EOFY2023"), or None when it names none."""
    match = _FISCAL_YEAR.match(text_key(label))
    if match is None:
        return None
    year = int(match.group(1))
    return year + 2000 if year < 100 else year


def month_of_fiscal_year(fiscal_year: int, month: int) -> date:
    """First day of calendar ``month`` within ``fiscal_year`` (October - December fall in the year before)."""
    return date(fiscal_year - 1 if month >= 10 else fiscal_year, month, 1)


def month_end(start: date) -> date:
    return date(start.year, start.month, monthrange(start.year, start.month)[1])


def add_day(ctx: ParseContext, where: str, measure: str, day: date, dims: dict[str, str], value: float,
            unit: str) -> None:
    """Emit a count or average of people held on one day (a stock, not a flow), unless the day is after the
    table's date. Grain 'snapshot', dated that day (not the edition's as-of date)."""
    if day > ctx.as_of:
        if value != 0:
            ctx.future_values[where] = ctx.future_values.get(where, 0) + 1
        return
    ctx.add(measure, "snapshot", day, day, dims, value, unit)
