"""The measure catalogue: what each stored measure counts, in which unit, and by whose definition.

Different measures answer different questions (an ICE-posted "arrest" is not an initial book-in, a
detainer is not an arrest). Metrics compare a series with a target only when both count the same
*concept*; everything else is shown side by side with its definition, never mixed silently.
"""

from __future__ import annotations

from dataclasses import dataclass

# Concepts a target or a series may count. See ../shared/REFERENCE.md section 2.
CONCEPTS = {
    "arrests": "Civil immigration arrests (ERO administrative arrests, including jail transfers / CAP).",
    "at_large_arrests": "Community (at-large) arrests: a subset of ERO administrative arrests.",
    "detainers": "Requests to a jail to hold someone for ICE. Not an arrest.",
    "book_ins": "Initial book-ins into ICE detention, whoever arrested (ICE or CBP).",
    "book_outs": "Final book-outs from ICE detention, by release reason.",
    "removals": "Compelled departures under an order, by the counting rule in force for the period.",
    "detained_population": "People held in ICE detention (midnight headcount or average daily population).",
    "length_of_stay": "Average length of stay of people booked out in the period (days).",
}


@dataclass(frozen=True)
class MeasureDef:
    name: str
    label: str
    concept: str | None
    unit: str
    definition: str


CATALOGUE: dict[str, MeasureDef] = {
    m.name: m
    for m in [
        MeasureDef(
            "ice_posted_arrests", "Arrests posted by ICE", "arrests", "arrests",
            "Daily 'arrests' in ICE's 'Enforcement update' social-media posts (Jan 23-31, 2025), 'compiled as of "
            "midnight'. ICE stated no definition (likely ERO administrative arrests including jail transfers). "
            "Dated by the post; a post may describe the previous day (the Jan 27 post reportedly described Jan 26).",
        ),
        MeasureDef(
            "ice_posted_detainers_lodged", "Detainers lodged, posted by ICE", "detainers", "detainers",
            "Daily 'detainers lodged' in the same ICE posts. A detainer asks a jail to hold a person; it is not "
            "an arrest and must not be added to arrests.",
        ),
        MeasureDef(
            "ero_administrative_arrests", "ERO administrative arrests", "arrests", "arrests",
            "Civil immigration arrests by ICE Enforcement and Removal Operations, including transfers from "
            "jails (CAP); ICE annual report definition. At-large arrests are a subset.",
        ),
        MeasureDef(
            "detainers_issued", "Detainers issued (ERO CIEP)", "detainers", "detainers",
            "Detainers issued by ERO, ICE annual report (CIEP data through Sept 30).",
        ),
        MeasureDef(
            "removals", "ICE removals", "removals", "removals",
            "ICE removals under the counting rule in force for the fiscal year (ICE annual report).",
        ),
        # ICE detention-statistics workbooks (sources/ice_detention.py). Fiscal-year-to-date, revised until
        # the year is locked: every value is stored with its edition.
        MeasureDef(
            "currently_detained", "Currently detained (ICE workbook)", "detained_population", "persons",
            "People in ICE detention on the workbook's as-of date, by criminality and arresting agency "
            "(midnight headcount from ICE's IIDS).",
        ),
        MeasureDef(
            "currently_detained_by_disposition", "Currently detained by processing disposition",
            "detained_population", "persons",
            "People in ICE detention on the as-of date, by processing disposition and detention facility type.",
        ),
        MeasureDef(
            "book_ins", "Initial book-ins", "book_ins", "book-ins",
            "Initial book-ins into ICE detention per month, by arresting agency (ICE or CBP). A book-in is not an "
            "arrest: ICE arrests not detained are missing, CBP arrests transferred to ICE are included.",
        ),
        MeasureDef(
            "book_ins_by_facility_type", "Initial book-ins by facility type", "book_ins", "book-ins",
            "Initial book-ins by detention facility type and criminality.",
        ),
        MeasureDef(
            "book_outs", "Final book-outs by release reason", "book_outs", "book-outs",
            "Final book-outs per month by release reason and criminality. 'Release to Remove' is a removal; "
            "bond, recognizance, supervision, parole, terminated proceedings and relief are releases; "
            "transfers are neither.",
        ),
        MeasureDef(
            "book_outs_by_facility_type", "Final book-outs by facility type", "book_outs", "book-outs",
            "Final book-outs fiscal-year-to-date by detention facility type.",
        ),
        MeasureDef(
            "removals_fytd", "ICE removals, fiscal year to date", "removals", "removals",
            "The 'ICE Removals: FYnnnn' total of the workbook: removals from Oct 1 to the as-of date, under the "
            "counting rule in force (FY2025 adds expedited-removal/voluntary-return turnovers not detained; "
            "from March 2025 Title 50 expulsions).",
        ),
        MeasureDef(
            "adp", "Average daily population", "detained_population", "persons (average daily population, midnight)",
            "Average daily population in ICE detention per month (midnight headcounts), by arresting agency and "
            "criminality. A '24-hour' population (anyone held that day) is larger.",
        ),
        MeasureDef(
            "alos", "Average length of stay", "length_of_stay", "days",
            "Average length of stay (days) of people booked out in the month, by arresting agency and criminality.",
        ),
        MeasureDef(
            "adp_by_facility_type", "Average daily population by facility type", "detained_population",
            "persons (average daily population, midnight)", "Average daily population by detention facility type.",
        ),
        MeasureDef(
            "alos_by_facility_type", "Average length of stay by facility type", "length_of_stay", "days",
            "Average length of stay by detention facility type.",
        ),
        MeasureDef(
            "facility_adp", "Facility average daily population", "detained_population", "persons",
            "Fiscal-year-to-date average daily population of each listed facility (facilities holding at least "
            "one person at the pull), by security level, gender, criminality or threat level.",
        ),
        MeasureDef(
            "facility_alos", "Facility average length of stay", "length_of_stay", "days",
            "Fiscal-year-to-date average length of stay at each listed facility.",
        ),
    ]
}


def measure_concept(name: str, declared: dict[str, str | None] | None = None) -> str | None:
    """The concept a measure counts: from the catalogue, else as declared by the edition that added it."""
    if name in CATALOGUE:
        return CATALOGUE[name].concept
    return (declared or {}).get(name)

