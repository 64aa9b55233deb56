"""Readers of the 'Monthly Bond Statistics' sheet (bonded-out book-outs, bond posted share, average bond amount).

(Filled in by the issue-17 table work; each table is a :class:`.specs.TableSpec` found by its title.)
"""

from __future__ import annotations

from icetrack.sources.ice_detention.specs import TableSpec, titles

TABLES: list[TableSpec] = titles()
