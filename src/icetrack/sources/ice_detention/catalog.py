"""Which tables are read on which sheet. A sheet's role comes from its name (:func:`.sheets.classify_sheet`);
each role's sheet of the edition's fiscal year is read with its list of :class:`.specs.TableSpec`.

The Detention sheet's tables are expected in every edition (one that is absent is reported missing); the
other sheets' tables come and go between fiscal years (the README lists which exist in which years), so an
absent one is only recorded in the edition's layout.
"""

from __future__ import annotations

from icetrack.sources.ice_detention import atd, bonds, fear, iclos, segregation, semiannual, vulnerable
from icetrack.sources.ice_detention.national import DETENTION_TABLES
from icetrack.sources.ice_detention.specs import TableSpec

# role -> tables, in reading order. The Detention sheet's own tables come first: the edition's fiscal year
# and dates are read from them.
TABLES_BY_ROLE: dict[str, list[TableSpec]] = {
    "detention": DETENTION_TABLES + fear.TABLES,
    "atd": atd.TABLES,
    "iclos": iclos.TABLES,
    "bonds": bonds.TABLES,
    "semiannual": semiannual.TABLES,
    "vulnerable": vulnerable.TABLES,
    "segregation": segregation.TABLES,
}

# Sheets that need their own bounded loader (role -> (path, workbook, sheet name) -> Grid).
GRID_LOADERS = {role: loader for role, loader in (("segregation", segregation.load_grid),) if loader is not None}

# Tables expected in every edition since FY2019 (absent: reported missing).
CORE_TABLE_NAMES = frozenset(spec.name for spec in DETENTION_TABLES)
