"""Measures of facility history (the Facilities sheet, every edition).

``facility_adp`` and ``facility_alos`` are defined in :mod:`icetrack.domain.catalogue`; this module adds the
contract figure the sheet prints beside them. The facility identity across editions is
:mod:`icetrack.domain.facility_identity`.
"""

from __future__ import annotations

# Concepts these measures count that domain.catalogue.CONCEPTS does not have: {name: description}.
CONCEPTS: dict[str, str] = {}

# (name, label, concept or None, unit, definition)
MEASURES: list[tuple[str, str, str | None, str, str]] = [
    ("facility_guaranteed_minimum", "Facility guaranteed minimum", None, "beds",
     "The guaranteed minimum of a listed facility's contract as ICE's Facilities sheet prints it on the "
     "edition's date (the 'Guaranteed Minimum' column; https://www.ice.gov/detain/detention-management): the "
     "number of beds ICE pays for whether or not they are used. A contract term, not a count of people held, "
     "and not the facility's capacity; dated at the edition's as-of date. Facilities without one (printed "
     "'N/A' or blank) have no figure."),
]
