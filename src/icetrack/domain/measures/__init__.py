"""Measure definitions of the workbook tables beyond the national detention tables, one module per group of
sheets (each owned with its reader in :mod:`icetrack.sources.ice_detention`). :mod:`icetrack.domain.catalogue`
merges them: ``MEASURES`` rows are (name, label, concept, unit, definition); ``CONCEPTS`` adds concepts."""

from icetrack.domain.measures import atd, facilities, fear_bonds, populations

GROUPS = (atd, fear_bonds, populations, facilities)
