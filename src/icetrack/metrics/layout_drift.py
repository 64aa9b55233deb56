"""The format-drift report across every loaded workbook edition: each edition's layout compared with the one
before it in data order (:mod:`icetrack.domain.layout_drift` says what counts as a change)."""

from __future__ import annotations

from typing import Any

from icetrack.domain.layout_drift import WORKBOOK_KEY, layout_changes
from icetrack.warehouse.layouts import edition_layouts
from icetrack.warehouse.store import Warehouse


def drift_report(wh: Warehouse) -> list[dict[str, Any]]:
    """One row per change: the edition, the edition before it, the change's kind, table and before/after, and
    its one-line wording. Editions with no change give no row."""
    editions = edition_layouts(wh)
    rows = []
    for before, after in zip(editions, editions[1:]):
        for change in layout_changes(before.layout, after.layout):
            rows.append({"edition_id": after.edition_id, "file_name": after.file_name,
                         "as_of": after.as_of.isoformat() if after.as_of else None,
                         "previous_edition_id": before.edition_id, "previous_file_name": before.file_name,
                         **change.as_dict(), "line": change.line()})
    return rows


def table_presence(wh: Warehouse) -> list[dict[str, Any]]:
    """Which tables the loaded workbook editions carry: one row per table (and the Facilities sheet) with
    the sheet it was last found on, the fiscal years of the editions holding it, how many editions hold it
    out of how many were loaded, and the first and last edition holding it."""
    editions = edition_layouts(wh)
    found: dict[str, list] = {}
    for e in editions:
        for name, layout in e.layout.items():
            if name != WORKBOOK_KEY:
                found.setdefault(name, []).append((e, layout))
    rows = []
    for name, hits in found.items():
        years = sorted({(e.layout.get(WORKBOOK_KEY) or {}).get("fiscal_year") for e, _ in hits} - {None})
        rows.append({"table": name, "sheet": hits[-1][1].get("sheet"), "fiscal_years": years,
                     "n_editions": len(hits), "of_editions": len(editions),
                     "first_file_name": hits[0][0].file_name, "last_file_name": hits[-1][0].file_name,
                     "absent_from": [e.file_name for e in editions
                                     if name not in e.layout and _year(e) and years and years[0] <= _year(e)]})
    return sorted(rows, key=lambda r: (r["fiscal_years"][:1], r["sheet"] or "", r["table"]))


def _year(e) -> int | None:
    return (e.layout.get(WORKBOOK_KEY) or {}).get("fiscal_year")
