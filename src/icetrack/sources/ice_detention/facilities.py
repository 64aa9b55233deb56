"""Reader of the ``Facilities ...`` sheet: one row per facility holding anyone at the pull.

ICE's list (https://www.ice.gov/detain/detention-management) has a header row holding ``Name`` and ``AOR``
(row 7 in most editions; FY26 and FY19-FY22 print a row of group labels above it, e.g. "Facility
Information", "FY26 ADP: Detainee Classification Level"). Each facility row gives:

* the facility as printed: name, city, state, AOR, ``Type Detailed`` and ``Male/Female`` (the genders it
  holds). The street address and ZIP code are not kept: the name, city and state place a facility, and
  nothing here needs more.
* figures, emitted as observations: ALOS (``facility_alos``, days), the ADP by security level A-D, by
  gender and criminality, by ICE threat level and the mandatory-detention ADP (``facility_adp``), all
  fiscal year to date; and the contract's guaranteed minimum (``facility_guaranteed_minimum``, beds, dated
  at the as-of date). ``N/A`` in the guaranteed-minimum column (FY24-FY25 editions) means no minimum: no
  figure is emitted for it.
* the last inspection, kept as text on the listing (:func:`read_facilities` returns one listing per row):
  ``Last Inspection Type``, its end date, standard and final rating under whichever headers the edition
  uses (``Last Inspection Date`` FY19-FY22, ``ODO Inspection End Date`` FY23 - January 2024, ``Last
  Inspection End Date`` since), ``Pending FY25 Inspection`` (FY24 year-end and FY25), and every other
  inspection column (second-to-last inspection, the FY23 Nakamoto inspections) as printed.

No edition so far prints ICE's facility code (DETLOC); a column headed ``Facility Code``, ``DETLOC`` or
``Code`` would be kept on the listing as ``facility_code``.

A facility printed twice with different figures (NASSAU COUNTY CORRECTIONAL CENTER in the 07/07/2025 copy)
keeps both rows; the repeat carries the extra dim ``listing`` = "2" so every observation key stays unique.
A header holding ``Name`` and ``AOR`` but not the columns the figures are read from (``State``, ``Type
Detailed``, ``Level A``-``Level D``) is a layout this reader does not know: the edition is refused in one line,
unless loaded with ``--partial`` (then the facility list is left out with a warning).
"""

from __future__ import annotations

from functools import lru_cache

import re
from datetime import datetime
from typing import Any

from icetrack.domain.edition import SourceError
from icetrack.sources.ice_detention.labels import CRIMINALITY_BY_KEY, UNIT_DAYS, UNIT_PERSONS, text_key
from icetrack.sources.ice_detention.observations import NO_FIGURE_TEXTS, ParseContext, cell_value
from icetrack.sources.ice_detention.workbook import Grid

_FOOTNOTE_MARKERS = ("[", "(*)", "*")
_GENDER_CRIMINALITY = re.compile(r"^(male|female) (crim|non crim)$")
UNIT_BEDS = "beds"
REQUIRED_HEADERS = ("name", "state", "aor", "type detailed", "level a", "level b", "level c", "level d")
# Listing attributes: header text key -> listing field.
_ATTRIBUTES = {"city": "city", "state": "state", "aor": "aor", "type detailed": "facility_type",
               "male female": "gender", "facility code": "facility_code", "detloc": "facility_code",
               "code": "facility_code"}
# The last inspection under each edition's headers -> listing field.
_LAST_INSPECTION = {
    "last inspection type": "inspection_type",
    "last inspection standard": "inspection_standard", "odo last inspection standard": "inspection_standard",
    "last inspection rating final": "inspection_rating", "last final rating": "inspection_rating",
    "odo final rating": "inspection_rating",
    "last inspection date": "inspection_date", "last inspection end date": "inspection_date",
    "odo inspection end date": "inspection_date",
}
_PENDING_INSPECTION = re.compile(r"^pending (?:fy ?\d{2,4} )?inspection$")
# Text a figure cell holds where ICE has no figure (besides a blank): no value, and no warning.
_NO_FIGURE = NO_FIGURE_TEXTS | {"N/A", "n/a", "NA"}


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
    if key == "guaranteed minimum":
        return "facility_guaranteed_minimum", {}
    return None


def inspection_field(header: str) -> str | None:
    """The listing field an inspection header fills (None: not an inspection column)."""
    key = text_key(header)
    if key in _LAST_INSPECTION:
        return _LAST_INSPECTION[key]
    if _PENDING_INSPECTION.match(key):
        return "inspection_pending"
    return None


@lru_cache(maxsize=4096)
def iso_day(text: str) -> str:
    """An inspection date as ISO ``YYYY-MM-DD``: ICE prints ``5/9/2019`` in some cells and real dates (read as
    ``2018-05-03 00:00:00``) in others. Text that is no date is kept as printed. (Cached: the same dates recur
    in every edition's list.)"""
    for fmt in ("%m/%d/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%m/%d/%y"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return text


def _header_row(grid: Grid) -> int | None:
    return next((r for r in range(min(grid.n_rows, 40))
                 if any(grid.key(r, c) == "name" for c in range(grid.n_cols))
                 and any(grid.key(r, c) == "aor" for c in range(grid.n_cols))), None)


def _refuse(ctx: ParseContext, where: str, problem: str) -> list[dict[str, Any]]:
    """A facility list this reader cannot read: the edition is refused in one line, or (--partial) loaded
    without its facility list."""
    if not ctx.policy.partial:
        raise SourceError(ctx.path, f"facility list: {problem}; nothing from this file was loaded (load the "
                                    "rest of it with --partial)", where=where)
    ctx.warnings.append(f"{where}: {problem}; facility list not read (--partial)")
    return []


def read_facilities(ctx: ParseContext, grid: Grid) -> list[dict[str, Any]]:
    """Emit the facility figures into ``ctx`` and return one listing per facility row (name as printed, city,
    state, AOR, type, gender, last inspection, facility code when printed; see :mod:`.facilities`)."""
    where = f"{grid.sheet.strip()} / facility list"
    header_row = _header_row(grid)
    if header_row is None:
        ctx.warnings.append(f"{where}: header row with 'Name' and 'AOR' not found; facilities not read")
        return []
    headers = {c: grid.text(header_row, c) for c in range(grid.n_cols) if grid.text(header_row, c)}
    columns = {text_key(h): c for c, h in reversed(headers.items())}  # the first column of a repeated header
    missing = [h for h in REQUIRED_HEADERS if h not in columns]
    if missing:
        found = " | ".join(headers.values())[:120]
        return _refuse(ctx, where, f"the header row holding 'Name' and 'AOR' lacks {', '.join(missing)} "
                                   f"(found '{found}')")
    attribute_cols = {field: columns[key] for key, field in _ATTRIBUTES.items() if key in columns}
    inspection_cols = {c: (inspection_field(h), h) for c, h in headers.items() if "inspection" in text_key(h)
                       or "rating" in text_key(h)}
    measure_cols = [(c, kind) for c, h in headers.items() if (kind := _facility_column_kind(h)) is not None]
    listings: list[dict[str, Any]] = []
    seen: dict[tuple[tuple[str, str], ...], int] = {}
    for row in range(header_row + 1, grid.n_rows):
        name = grid.text(row, columns["name"])
        if not name or name.startswith(_FOOTNOTE_MARKERS):
            break
        listing = {"position": len(listings) + 1, "name": name,
                   **{field: grid.text(row, col) or None for field, col in attribute_cols.items()}}
        listing.update(_inspection(grid, row, inspection_cols))
        facility = {"facility": name, **{dim: listing[field] for dim, field in
                                         (("city", "city"), ("aor", "aor"), ("facility_type", "facility_type"),
                                          ("state", "state")) if listing.get(field)}}
        identity = tuple(sorted(facility.items()))
        seen[identity] = repeat = seen.get(identity, 0) + 1
        listing["listing"] = repeat
        if repeat > 1:
            # Same name, city, AOR, state and type on two rows with different figures (two facility codes?):
            # number the repeat so each observation keeps a unique key.
            facility["listing"] = str(repeat)
            ctx.warnings.append(f"{where}: '{name}' is listed {repeat} times (row {row + 1}); the repeat "
                                f"carries dim listing={repeat}")
        _emit_figures(ctx, grid, where, row, measure_cols, facility)
        listings.append(listing)
    return listings


def _inspection(grid: Grid, row: int, inspection_cols: dict[int, tuple[str | None, str]]) -> dict[str, Any]:
    """The row's last inspection (canonical fields) and every other inspection column as printed."""
    out: dict[str, Any] = {}
    more: dict[str, str] = {}
    for col, (field, header) in inspection_cols.items():
        text = grid.text(row, col)
        if not text:
            continue
        if "date" in text_key(header):
            text = iso_day(text)
        if field is not None:
            out.setdefault(field, text)
        else:
            more[header] = text
    if more:
        out["inspection_more"] = more
    return out


def _emit_figures(ctx: ParseContext, grid: Grid, where: str, row: int,
                  measure_cols: list[tuple[int, tuple[str, dict[str, str]]]], facility: dict[str, str]) -> None:
    for col, (measure, extra_dims) in measure_cols:
        if measure == "facility_guaranteed_minimum":
            if grid.raw_number(row, col) is None and grid.text(row, col) in _NO_FIGURE:
                continue  # 'N/A': the contract has no guaranteed minimum
            value = cell_value(ctx, grid, where, row, col, measure, UNIT_BEDS, text_refused=False)
            if value is not None:
                ctx.add_snapshot(measure, facility, value, UNIT_BEDS)
            continue
        unit = UNIT_DAYS if measure == "facility_alos" else UNIT_PERSONS
        value = cell_value(ctx, grid, where, row, col, measure, unit, text_refused=False)
        if value is not None:
            ctx.add_fytd(measure, {**facility, **extra_dims}, value, unit)
