"""Readers of the 'Vulnerable & Special Population' sheet (segregation placements of vulnerable and special populations).

(Filled in by the issue-17 table work; each table is a :class:`.specs.TableSpec` found by its title.)
"""

from __future__ import annotations

from icetrack.sources.ice_detention.specs import TableSpec, titles

TABLES: list[TableSpec] = titles()
