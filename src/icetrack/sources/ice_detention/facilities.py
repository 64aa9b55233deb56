"""Reader of the ``Facilities ...`` sheet: one row per facility holding anyone at the pull.

Facility rows keep the institution name, AOR, state and type; street address, city and ZIP are dropped.
A facility printed twice with different figures (NASSAU COUNTY CORRECTIONAL CENTER in the 07/07/2025 copy)
keeps both rows; the repeat carries the extra dim ``listing`` = "2" so every observation key stays unique.
"""

from __future__ import annotations

import re

from icetrack.sources.ice_detention.labels import CRIMINALITY_BY_KEY, UNIT_DAYS, UNIT_PERSONS, text_key
from icetrack.sources.ice_detention.observations import ParseContext, cell_value
from icetrack.sources.ice_detention.workbook import Grid

_FOOTNOTE_MARKERS = ("[", "(*)", "*")
_GENDER_CRIMINALITY = re.compile(r"^(male|female) (crim|non crim)$")


def _facility_column_kind(header: str) -> tuple[str, dict[str, str]] | None:
    """Which facility measure a Facilities header feeds, with the dims it adds (None: not a measure)."""
    key = text_key(header)
    if re.fullmatch(r"(?:fy ?\d{2,4} )?alos", key):
        return "facility_alos", {}
    if re.fullmatch(r"level [a-d]", key):
        return "facility_adp", {"breakdown": "level", "category": header}
    match = _GENDER_CRIMINALITY.fullmatch(key)
    if match:
        return "facility_adp", {"breakdown": "gender_criminality", "category": header,
                                "gender": match.group(1).title(), "criminality": CRIMINALITY_BY_KEY[match.group(2)]}
    if "threat level" in key:
        return "facility_adp", {"breakdown": "threat", "category": header}
    if key == "mandatory":
        return "facility_adp", {"breakdown": "mandatory", "category": header}
    return None


def read_facilities(ctx: ParseContext, grid: Grid) -> None:
    where = f"{grid.sheet.strip()} / facility list"
    header_row = next((r for r in range(grid.n_rows)
                       if any(grid.key(r, c) == "name" for c in range(grid.n_cols))
                       and any(grid.key(r, c) == "aor" for c in range(grid.n_cols))), None)
    if header_row is None:
        ctx.warnings.append(f"{where}: header row with 'Name' and 'AOR' not found; facilities not read")
        return
    columns = {grid.key(header_row, c): c for c in range(grid.n_cols) if grid.text(header_row, c)}
    name_col = columns["name"]
    attribute_cols = {dim: columns.get(header) for dim, header in
                      (("aor", "aor"), ("facility_type", "type detailed"), ("state", "state"))}
    measure_cols = [(c, kind) for c in range(grid.n_cols)
                    if (kind := _facility_column_kind(grid.text(header_row, c))) is not None]
    seen: dict[tuple[tuple[str, str], ...], int] = {}
    for row in range(header_row + 1, grid.n_rows):
        name = grid.text(row, name_col)
        if not name or name.startswith(_FOOTNOTE_MARKERS):
            break
        facility = {"facility": name}
        facility.update({dim: grid.text(row, col) for dim, col in attribute_cols.items()
                         if col is not None and grid.text(row, col)})
        identity = tuple(sorted(facility.items()))
        listing = seen.get(identity, 0) + 1
        seen[identity] = listing
        if listing > 1:
            # Same name, AOR, state and type on two rows with different figures (two facility codes?):
            # number the repeat so each observation keeps a unique key.
            facility["listing"] = str(listing)
            ctx.warnings.append(f"{where}: '{name}' is listed {listing} times (row {row + 1}); the repeat "
                                f"carries dim listing={listing}")
        for col, (measure, extra_dims) in measure_cols:
            unit = UNIT_DAYS if measure == "facility_alos" else UNIT_PERSONS
            value = cell_value(ctx, grid, where, row, col, measure, unit, text_refused=False)
            if value is None:
                continue
            ctx.add_fytd(measure, {**facility, **extra_dims}, value, unit)
