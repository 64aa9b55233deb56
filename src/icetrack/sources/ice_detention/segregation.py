"""Readers of the 'Monthly Segregation' sheet (placements in segregation by month).

(Filled in by the issue-17 table work; each table is a :class:`.specs.TableSpec` found by its title.)
"""

from __future__ import annotations

from icetrack.sources.ice_detention.specs import TableSpec, titles

TABLES: list[TableSpec] = titles()

# How the sheet's cells are loaded (path, workbook, sheet name) -> Grid; None: the workbook's own grid().
# The sheet declares 16,383 columns since June 2025, beyond what the general loader allows.
load_grid = None
