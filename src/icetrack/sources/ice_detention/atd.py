"""Readers of ATD ... sheet: alternatives to detention (active population by technology, by status, by AOR and technology; court-appearance compliance).

(Filled in by the issue-17 table work; each table is a :class:`.specs.TableSpec` found by its title.)
"""

from __future__ import annotations

from icetrack.sources.ice_detention.specs import TableSpec, titles

TABLES: list[TableSpec] = titles()
