"""Readers of the Detention sheet's credible-fear and FAMU tables (fear decision times, USCIS-established fear decisions by facility type, parole requested and status; removals with a FAMU identifier).

(Filled in by the issue-17 table work; each table is a :class:`.specs.TableSpec` found by its title.)
"""

from __future__ import annotations

from icetrack.sources.ice_detention.specs import TableSpec, titles

TABLES: list[TableSpec] = titles()
