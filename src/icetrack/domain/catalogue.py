"""The measure catalogue: what each stored measure counts, in which unit, and by whose definition.

Different measures answer different questions (an ICE-posted "arrest" is not an initial book-in, a
detainer is not an arrest). Metrics compare a series with a target only when both count the same
*concept*; everything else is shown side by side with its definition, never mixed silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import date

from icetrack.domain.measures import GROUPS as MEASURE_GROUPS
from icetrack.domain.plausible import DAY_UNITS, MAX_COUNT, MAX_DAYS, SHARE_UNITS, value_problem

# Concepts a target or a series may count (ICE's definitions: the ICE Annual Report and the ICE detention
# statistics page, https://www.ice.gov/detain/detention-management).
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

# The workbook tables beyond the national detention tables (ATD, fear, bonds, ICLOS, semiannual, vulnerable
# populations, segregation, facility history) keep their definitions beside their readers' owners.
for _group in MEASURE_GROUPS:
    CONCEPTS.update(_group.CONCEPTS)
    CATALOGUE.update({row[0]: MeasureDef(*row) for row in _group.MEASURES})

# Snapshots of the day an edition's data were pulled (ICE's "currently detained" tables), as opposed to
# snapshots of days a table lists (ICLOS mid- and end-of-month days, the ATD participants report's day):
# only these move to the IIDS "Data Source" date when a series is dated the way some publishers date it.
PULL_DAY_SNAPSHOTS = frozenset({"currently_detained", "currently_detained_by_disposition",
                                "detained_with_established_fear"})

# Measures dated by their own table's refresh (semiannual tables): their year-to-date figures keep that date
# whichever way a series is dated.
SELF_DATED_MEASURES = frozenset(m for group in MEASURE_GROUPS for m in getattr(group, "SELF_DATED", ()))

# The largest value one figure of a concept can plausibly hold, at any grain up to a fiscal year: ten times
# anything ever reported, so only impossible figures are refused (ICE held ~70,000 people in January 2026 against
# a funded expansion toward ~100,000 beds; CBP's largest fiscal year had ~2.5 million encounters nationwide,
# https://www.cbp.gov/newsroom/stats/nationwide-encounters; the longest detentions are counted in years).
PLAUSIBLE_MAX_BY_CONCEPT = {
    "detained_population": 1_000_000,
    "book_ins": 10_000_000, "book_outs": 10_000_000, "arrests": 10_000_000, "at_large_arrests": 10_000_000,
    "detainers": 10_000_000, "removals": 10_000_000,
    "length_of_stay": 3_650,
}


@lru_cache(maxsize=4096)
def plausible_ceiling(measure: str, unit: str) -> float:
    """The largest figure ``measure`` in ``unit`` can hold: the unit's range and the concept's ceiling."""
    ceiling = 1.0 if unit in SHARE_UNITS else MAX_DAYS if unit in DAY_UNITS else MAX_COUNT
    known = CATALOGUE.get(measure)
    concept_ceiling = PLAUSIBLE_MAX_BY_CONCEPT.get(known.concept) if known and known.concept else None
    return min(ceiling, concept_ceiling) if concept_ceiling is not None else ceiling


def value_problem_for(measure: str, value: float, unit: str) -> str | None:
    """Why ``value`` cannot be a figure of ``measure`` in ``unit`` (None when it can): the unit's range
    (:func:`icetrack.domain.plausible.value_problem`), then the ceiling of the measure's concept."""
    if type(value) is float and 0.0 <= value <= plausible_ceiling(measure, unit):
        return None  # the common case, checked without building a message (a workbook has thousands)
    problem = value_problem(value, unit)
    if problem:
        return problem
    known = CATALOGUE.get(measure)
    ceiling = PLAUSIBLE_MAX_BY_CONCEPT.get(known.concept) if known and known.concept else None
    if ceiling is not None and value > ceiling:
        return f"{value:,.10g} is above {ceiling:,}, more than any {known.label.lower()} figure can be"
    return None



# --- Versioned definitions -------------------------------------------------------------------------------
# A *definition* is what a published number means ("ICE-arrested initial book-ins", "removals under the
# FY2025 counting rule"). Claims name one; each definition lists the stored measures that measure it and,
# when none of those is loaded, the source that would settle a claim about it. A definition's text never
# changes in place: a changed meaning is a new version, so a verdict can always say which meaning it used.


@dataclass(frozen=True)
class Measurement:
    """A stored measure, restricted to one set of dimensions, that measures a definition."""

    measure: str
    dims: tuple[tuple[str, str], ...] = ()

    @property
    def dims_key(self) -> str:
        return "|".join(f"{k}={v}" for k, v in sorted(self.dims))


@dataclass(frozen=True)
class Definition:
    id: str
    version: int
    label: str
    concept: str
    text: str
    measured_by: tuple[Measurement, ...]
    settled_by: str  # the source that would measure it when none of measured_by is loaded
    changes: str = ""  # what changed from the previous version
    # Person-level: arrests in the window whose cohort state (metrics.outcomes.STATES) is one of these.
    cohort_states: tuple[str, ...] = ()
    # The days for which the sources in measured_by count by this definition (a counting rule in force);
    # None = open-ended.
    in_force_from: date | None = None
    in_force_to: date | None = None

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


DEFINITIONS: dict[str, tuple[Definition, ...]] = {}


def _define(*versions: Definition) -> None:
    DEFINITIONS[versions[0].id] = versions


_define(Definition(
    "arrests.ero_administrative", 1, "ERO administrative arrests", "arrests",
    "Civil immigration arrests by ICE Enforcement and Removal Operations, including transfers from jails (CAP), "
    "as counted in ICE's annual report. At-large arrests are a subset; CBP arrests are not included.",
    (Measurement("ero_administrative_arrests"),),
    "ICE's annual report (fiscal-year totals) or a person-level ERO arrests release (Deportation Data Project) "
    "for daily or monthly counts",
))
_define(Definition(
    "arrests.at_large", 1, "At-large (community) arrests", "at_large_arrests",
    "ERO arrests made in the community rather than by transfer from a jail or prison: a subset of ERO "
    "administrative arrests.",
    (),
    "a person-level ERO arrests release with the apprehension method (Deportation Data Project), or ICE's "
    "annual report table of at-large arrests",
))
_define(Definition(
    "arrests.ice_posted", 1, "Arrests posted by ICE", "arrests",
    "The daily 'arrests' of ICE's January 2025 'Enforcement update' social-media posts, dated by the post. ICE "
    "gave no definition; a post may describe the previous day.",
    (Measurement("ice_posted_arrests"),),
    "ICE's 'Enforcement update' posts (bundled for Jan 23-31, 2025)",
))
_define(Definition(
    "book_ins.ice_arrested", 1, "ICE-arrested initial book-ins", "book_ins",
    "Initial book-ins into ICE detention of people arrested by ICE (detention workbooks, monthly). People ICE "
    "arrested but did not detain are missing, so this is smaller than ICE's arrests.",
    (Measurement("book_ins", (("agency", "ICE"),)),),
    "ICE's detention-statistics workbooks (ice.gov/detain/detention-management)",
))
_define(Definition(
    "book_ins.all", 1, "All initial book-ins", "book_ins",
    "Initial book-ins into ICE detention whoever arrested (ICE or CBP), detention workbooks, monthly.",
    (Measurement("book_ins", (("agency", "Total"),)),),
    "ICE's detention-statistics workbooks",
))
_define(Definition(
    "detainers.ice_posted", 1, "Detainers lodged, posted by ICE", "detainers",
    "The daily 'detainers lodged' of ICE's January 2025 posts. A detainer is a request to a jail, not an arrest.",
    (Measurement("ice_posted_detainers_lodged"),),
    "ICE's 'Enforcement update' posts",
))
_define(Definition(
    "detainers.issued", 1, "Detainers issued (ERO)", "detainers",
    "Detainers issued by ERO in a fiscal year (ICE annual report, CIEP data).",
    (Measurement("detainers_issued"),),
    "ICE's annual report",
))
_define(
    Definition(
        "removals.ice", 1, "ICE removals (FY2024 counting rule)", "removals",
        "Compelled departures under an order carried out by ICE, including (since May 2023) removals of people "
        "CBP turned over to ICE.",
        (Measurement("removals"), Measurement("removals_fytd")),
        "ICE's annual report or the removals-to-date figure of the detention workbooks",
        in_force_to=date(2024, 9, 30),
    ),
    Definition(
        "removals.ice", 2, "ICE removals (FY2025 counting rule)", "removals",
        "As version 1, plus expedited-removal and voluntary-return cases CBP turned over but ICE did not detain "
        "(from FY2025), and Title 50 expulsions (from March 2025).",
        (Measurement("removals_fytd"),),
        "the removals-to-date figure of ICE's FY2025 detention workbooks",
        changes="FY2025: adds ER/VR turnovers not detained; from March 2025 adds Title 50 expulsions",
        in_force_from=date(2024, 10, 1),
    ),
)
_define(Definition(
    "removals.from_detention", 1, "Removals from ICE detention", "removals",
    "Final book-outs from ICE detention with the reason 'Release to Remove' (detention workbooks, monthly). "
    "Removals of people never detained are missing, so this is a lower bound on removals.",
    (Measurement("book_outs", (("criminality", "Total"), ("release_reason", "Release to Remove"))),),
    "ICE's detention-statistics workbooks",
))
_define(Definition(
    "detained.adp_midnight", 1, "Average daily population (midnight)", "detained_population",
    "Average of ICE's midnight detention headcounts over the month (detention workbooks).",
    (Measurement("adp", (("agency", "Total"), ("criminality", "Total"))),),
    "ICE's detention-statistics workbooks",
))
_define(Definition(
    "detained.24_hour", 1, "24-hour detained population", "detained_population",
    "Everyone held in ICE detention at any time during a day; larger than the midnight headcount because "
    "people booked in and out the same day count.",
    (),
    "a daily facility population series counting everyone held during the day (e.g. the Deportation Data "
    "Project's facility-level detention records); ICE's workbooks publish only midnight-based figures",
))
_define(Definition(
    "detained.snapshot", 1, "Currently detained (workbook snapshot)", "detained_population",
    "People in ICE detention on a workbook's as-of date (midnight headcount).",
    (Measurement("currently_detained", (("agency", "Total"), ("criminality", "Total"))),),
    "ICE's detention-statistics workbooks",
))
_define(Definition(
    "targets.daily_arrests", 1, "Announced daily arrest target", "arrests",
    "A daily arrest quota, goal or baseline as reported by the press or officials (targets ledger).",
    (),
    "the targets ledger (bundled press reports, or a targets CSV)",
))
_define(Definition(
    "outcomes.released_from_cohort", 1, "Arrests in a window that ended in a release", "book_outs",
    "Arrests (one per arrest episode, with an identifier) in the window whose linked detention stay ended in "
    "a release (bond, recognizance, supervision, parole, terminated proceedings, relief) rather than a "
    "removal or transfer, as of the person-level release's cut-off (cohort funnel state 'released').",
    (),
    "a national person-level release covering the window (Deportation Data Project FOIA release: arrests "
    "linked to detention stays)",
    cohort_states=("released",),
))
_define(Definition(
    "outcomes.removed_from_cohort", 1, "Arrests in a window that ended in a removal", "removals",
    "Arrests (one per arrest episode, with an identifier) in the window that ended in a removal, from "
    "detention or within 30 days without detention, as of the person-level release's cut-off (cohort funnel "
    "states 'removed' and 'removed_without_detention').",
    (),
    "a national person-level release covering the window (Deportation Data Project FOIA release)",
    cohort_states=("removed", "removed_without_detention"),
))


def definition(ref: str) -> Definition | None:
    """'id' (latest version) or 'id@version'."""
    name, _, version = ref.partition("@")
    versions = DEFINITIONS.get(name)
    if not versions:
        return None
    if not version:
        return versions[-1]
    return next((d for d in versions if str(d.version) == version), None)
