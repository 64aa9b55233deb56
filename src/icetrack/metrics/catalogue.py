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
    ]
}


def measure_concept(name: str, declared: dict[str, str | None] | None = None) -> str | None:
    """The concept a measure counts: from the catalogue, else as declared by the edition that added it."""
    if name in CATALOGUE:
        return CATALOGUE[name].concept
    return (declared or {}).get(name)


def register(defs: list[MeasureDef]) -> None:
    """Add measures owned by a source module (e.g. the ICE detention workbooks) to the catalogue."""
    for d in defs:
        CATALOGUE.setdefault(d.name, d)
