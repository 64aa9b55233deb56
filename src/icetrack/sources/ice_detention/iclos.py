"""Readers of the 'ICLOS and Detainees' sheet (average in-custody length of stay; detainees by length of stay).

(Filled in by the issue-17 table work; each table is a :class:`.specs.TableSpec` found by its title.)
"""

from __future__ import annotations

from icetrack.sources.ice_detention.specs import TableSpec, titles

TABLES: list[TableSpec] = titles()
