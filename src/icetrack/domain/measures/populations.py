"""Measures of the semiannual, vulnerable and special population, and segregation sheets of ICE's
detention-statistics workbooks (https://www.ice.gov/detain/detention-management).

Semiannual sheet: arrests, book-ins and removals of three groups (``group``) and of nationals of the countries
designated for Temporary Protected Status (``country``), one figure per fiscal year. A complete fiscal year is
stored at grain ``fiscal_year`` (1 Oct - 30 Sep); the year still running when ICE refreshed the tables at grain
``fytd``, from 1 Oct to the date the Footnotes say the tables are updated through (e.g. FY2025 through
2025-04-22 in the editions of May - September 2025), never to the edition's own as-of date: ICE refreshes
these tables twice a year only.

Vulnerable & Special Population sheet: facility-initiated segregation placements of vulnerable and special
populations per fiscal quarter (grain ``period``, the quarter's first to last day), by placement reason.

Monthly Segregation sheet: individuals who served one or more days in segregation per calendar month (grain
``month``), by facility.
"""

from __future__ import annotations

# Concepts these measures count that domain.catalogue.CONCEPTS does not have: {name: description}.
CONCEPTS: dict[str, str] = {}

_SEMIANNUAL_DATES = (
    " One figure per fiscal year: a complete year runs 1 Oct - 30 Sep; the year still running when ICE "
    "refreshed the table ends on the date the Footnotes say the table is updated through (ICE refreshes it "
    "twice a year, not with every edition). A latest fiscal year the Footnotes do not date, or that ICE printed "
    "as zeros in (nearly) every table - a column not filled in yet (FY2024 in the December 2024 editions, "
    "FY2025 in the FY2026 editions) - is not stored.")
_GROUPS = (
    " group: 'U.S. Armed Forces noncitizens' (ICE's 'United States Armed Forces Alien/Noncitizen' tables: "
    "noncitizens recorded as U.S. Armed Forces members or veterans; ICE notes its veteran-status flag was "
    "implemented during FY2021 and earlier years relied on officers' manual input), 'U.S. citizens' (ICE: "
    "'pulled based on administrative enforcement actions executed by ERO Officers', no further definition), "
    "'Parents of U.S. citizens' (noncitizens who "
    "identified themselves as having U.S.-citizen children, one or both parents; ICE: the totals do not imply "
    "that a child left the country with the parent). The groups are not a breakdown of any national total, "
    "and adding them up counts nothing ICE defines.")
_TPS = (
    " country: the country of citizenship as recorded by the officer at processing, for the countries ICE lists "
    "as designated for Temporary Protected Status. For a country designated after FY2018 ICE counts only events "
    "since the designation date (e.g. Venezuela since 03/09/2021, Lebanon since 11/27/2024), so earlier years "
    "are blank or zero. It counts all nationals of the country, not TPS holders.")

# (name, label, concept or None, unit, definition)
MEASURES: list[tuple[str, str, str | None, str, str]] = [
    ("arrests_by_group", "ERO administrative arrests of U.S. citizens, Armed Forces noncitizens and parents of "
     "U.S. citizens", "arrests", "arrests",
     "ERO administrative arrests (all ERO programs, by the program of the processing officer) of three groups, "
     "from the Semiannual sheet." + _GROUPS + _SEMIANNUAL_DATES),
    ("book_ins_by_group", "Book-ins of U.S. citizens, Armed Forces noncitizens and parents of U.S. citizens",
     "book_ins", "book-ins",
     "Book-ins into ICE detention ('Bookins') of three groups, from the Semiannual sheet." + _GROUPS
     + _SEMIANNUAL_DATES),
    ("removals_by_group", "Removals of Armed Forces noncitizens and parents of U.S. citizens (and U.S. citizens)",
     "removals", "removals",
     "ICE removals (including returns and expulsions, as ICE counts them) of three groups, from the Semiannual "
     "sheet." + _GROUPS + _SEMIANNUAL_DATES),
    ("arrests_by_tps_country", "ERO administrative arrests of nationals of TPS-designated countries", "arrests",
     "arrests", "ERO administrative arrests by country of citizenship, from the Semiannual sheet's "
     "'Temporary Protected Status Countries Arrests' table." + _TPS + _SEMIANNUAL_DATES),
    ("book_ins_by_tps_country", "Book-ins of nationals of TPS-designated countries", "book_ins", "book-ins",
     "Book-ins into ICE detention by country of citizenship, from the Semiannual sheet's 'Temporary Protected "
     "Status Countries Bookins' table." + _TPS + _SEMIANNUAL_DATES),
    ("removals_by_tps_country", "Removals of nationals of TPS-designated countries", "removals", "removals",
     "ICE removals by country of citizenship, from the Semiannual sheet's 'Temporary Protected Status Countries "
     "Removals' table." + _TPS + _SEMIANNUAL_DATES),
    ("vulnerable_segregation_placements", "Segregation placements of vulnerable and special populations",
     None, "placements",
     "Facility-initiated segregation placements of people with a special vulnerability recorded in ERO's "
     "Segregation Review Management System (SRMS) - a serious mental or medical illness, a hunger strike, "
     "suicide watch, or susceptibility to harm in general population linked to perceived sexual orientation or "
     "gender presentation (earlier editions: self-identified LGBTI) - per fiscal quarter (period = the "
     "quarter), by placement reason ('Medical Mental', printed from FY2024 Q2, is stored as "
     "'Medical/Mental Health'; 'Total' is ICE's Grand Total). Placements, not people: one person may be "
     "placed several times in a quarter (see vulnerable_segregation_detainees). Only the special "
     "vulnerabilities SRMS captures are included; not all segregation placements."),
    ("vulnerable_segregation_consecutive_days", "Average consecutive days in segregation (vulnerable and "
     "special populations)", None, "days",
     "ICE's 'Average Number of Consecutive Days in Segregation' of the quarter's placements of vulnerable and "
     "special populations (see vulnerable_segregation_placements), by placement reason: the average length "
     "of one uninterrupted placement, in days."),
    ("vulnerable_segregation_cumulative_days", "Average cumulative days in segregation (vulnerable and special "
     "populations)", None, "days",
     "ICE's 'Average Number of Cumulative Days in Segregation' of the quarter's placements of vulnerable and "
     "special populations (see vulnerable_segregation_placements), by placement reason. ICE does not define "
     "it further; that it adds up every stretch in segregation, where the consecutive average counts one, is "
     "a reading of the two column names, not ICE's words."),
    ("vulnerable_segregation_detainees", "Unique detainees placed in segregation (vulnerable and special "
     "populations)", None, "persons",
     "The number of unique detainees behind the quarter's placements, from ICE's note under each quarter "
     "('* Data represents N unique detainees. Some detainees have multiple placements ...'); no breakdown."),
    ("segregated_individuals", "Individuals held in segregation in the month, by facility (SRMS)", None,
     "persons",
     "From ICE's 'Monthly Segregation' sheet: per ICE, 'the total number of unique individuals who served one "
     "or more days in segregation during the calendar month' as recorded in the Segregation Review Management "
     "System (SRMS) under ICE Policy 11065.1; ICE heads the column 'Placement Count'. By facility as printed "
     "(names are not reconciled between months: 'NORTHWEST ICE PROCSESING CENTER' and 'TACOMA ICE PROCESSING "
     "CENTER (NORTHWEST DET CTR)' stay apart); 'Total' is ICE's Grand Total, which equals the sum of the "
     "facility rows in every edition read so far. Not only vulnerable populations: all SRMS segregation."),
]


# Measures whose year-to-date figures run to their own table's refresh date (the Semiannual section of the
# Footnotes), not to the edition's: never re-dated to the edition's IIDS "Data Source" line.
SELF_DATED = tuple(f"{event}_by_{kind}" for event in ("arrests", "book_ins", "removals")
                   for kind in ("group", "tps_country"))
