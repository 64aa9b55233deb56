"""Readers of the 'Semiannual' sheet (U.S. armed forces, U.S. citizens, parents of U.S. citizens, TPS countries: arrests, book-ins, removals by fiscal year).

(Filled in by the issue-17 table work; each table is a :class:`.specs.TableSpec` found by its title.)
"""

from __future__ import annotations

from icetrack.sources.ice_detention.specs import TableSpec, titles

TABLES: list[TableSpec] = titles()
