"""The API's parameters: their types, bounds and descriptions, shared by the routes (validated by FastAPI)."""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Literal

from fastapi import HTTPException, Path as PathParam, Query

from icetrack.claims import VERDICTS
from icetrack.figures.detention import TABLES
from icetrack.metrics.outcomes import BREAKDOWNS, PERIODS
from icetrack.metrics.published import DEFAULT_THRESHOLD

Format = Literal["json", "csv"]
ChartFormat = Literal["json", "png", "svg"]
Breakdown = Literal[tuple(BREAKDOWNS)]  # type: ignore[valid-type]
Period = Literal[tuple(PERIODS)]  # type: ignore[valid-type]
Origin = Literal["arrest", "book_in"]
Agency = Literal["ICE", "CBP"]
DetentionTable = Literal[TABLES]  # type: ignore[valid-type]
Verdict = Literal[VERDICTS]  # type: ignore[valid-type]
ChartName = Literal["picture", "arrests", "book_ins", "book_outs", "detained", "funnel", "km", "cif", "claims",
                    "capacity", "evaluation_coverage", "evaluation_errors"]
Grain = Literal["day", "week", "month", "fiscal_year", "fytd", "snapshot", "period"]
SolveFor = Literal["arrests_per_day", "beds", "stay_days"]


class Threshold(IntEnum):
    """Small-cell suppression thresholds the public API offers.

    Never below the project's default (a user may only suppress more), and a short list rather than any
    integer: each threshold is a separate suppression run (seconds on large tables) and a separate cache
    entry, so an open range would let a client keep the server busy recomputing.
    """

    AT_LEAST_10 = DEFAULT_THRESHOLD
    AT_LEAST_20 = 20
    AT_LEAST_50 = 50
    AT_LEAST_100 = 100


FORMAT = Query("json", description="json, or csv for the same rows as a download")
MEASURE = PathParam(..., min_length=1, max_length=80,
                    description="a measure loaded in the warehouse (see /api/measures)")
DAILY_MEASURE = Query("ice_posted_arrests", min_length=1, max_length=80)
DIMS = Query([], description="dimension filter NAME=VALUE (repeatable, at most 8); values are matched as text")
AGENCY_DIM = Query(None, max_length=80, description="shorthand for dim=agency=VALUE")
THRESHOLD = Query(Threshold.AT_LEAST_10, description="small-cell suppression threshold: 10 (the default), 20, 50 "
                                                     "or 100; cells below it are suppressed")
FISCAL_YEAR = Query(None, ge=2000, le=2100, description="fiscal year (Oct 1 - Sep 30, named by its end year)")
SHIFT = Query(0, ge=0, le=1, description="move every date back this many days (a post may describe the day before)")
BY = Query(None, description="horizon for 'pace needed' (YYYY-MM-DD), from the first day of the daily series to "
                             "the end of next year; other dates are refused (422)")
LEDGER_GRAIN = Query("month", min_length=1, max_length=20,
                     description="day, week, month or fytd; a series published per month cannot be read per day or "
                                 "week (400)")
LEDGER_SERIES = Query([], description="a ledger series (repeatable, at most 8), e.g. book_ins.ice_arrested or "
                                      "arrests.estimated; default: every series readable at the grain")
LEDGER_TARGET = Query([], description="a target id (repeatable, at most 8); default: every loaded target")
SINCE = Query(None, description="leave out periods ending before this day (YYYY-MM-DD)")
LEDGER_BY = Query(None, description="horizon of 'pace needed' (YYYY-MM-DD; default: the end of the fiscal year of "
                                    "the last covered day)")
ARRESTS_PER_DAY = Query(1200, ge=1, le=20_000, description="ICE arrests per day in the scenario")
BEDS = Query(None, pattern=r"^(none|[0-9]{1,6})$",
             description="detention beds (default: the capacity in force on the projection's start date; "
                         "'none': no limit)")
STAY_DAYS = Query(None, ge=1, le=365, description="mean stay in days (default: calibrated from the workbooks)")
DAYS = Query(365, ge=30, le=731, description="days projected (at most 24 months)")
DIM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
MAX_DIMS = 8
MAX_IDS = 8
MAX_ID_LENGTH = 80


def parse_dims(pairs: list[str], agency: str | None) -> dict[str, str]:
    if len(pairs) > MAX_DIMS:
        raise HTTPException(422, f"at most {MAX_DIMS} dim filters")
    dims = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not DIM_NAME.match(name) or len(value) > 200:
            raise HTTPException(422, f"dim '{pair[:60]}' must look like name=value (name: letters, digits, _; "
                                     "value: at most 200 characters)")
        dims[name] = value
    if agency is not None:
        dims["agency"] = agency
    return dims


def parse_ids(values: list[str], name: str) -> list[str]:
    """Repeated ``name`` parameters (series or target ids), each once, in the order given. Whether each names
    something is the ledger's to say (400 with the known ids); here only their number and length are bounded."""
    if len(values) > MAX_IDS:
        raise HTTPException(422, f"at most {MAX_IDS} {name} parameters")
    for v in values:
        if not 0 < len(v) <= MAX_ID_LENGTH:
            raise HTTPException(422, f"a {name} id has 1 to {MAX_ID_LENGTH} characters")
    return list(dict.fromkeys(values))


def beds_value(beds: str | None) -> int | str | None:
    """The ``beds`` query parameter as the model takes it: None (the capacity in force), 'none' (no limit) or a
    number of beds (0 reaches the model, which refuses it in one line)."""
    if beds is None or beds == "":
        return None
    return "none" if beds == "none" else int(beds)
