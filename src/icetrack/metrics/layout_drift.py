"""The format-drift report across every loaded workbook edition: each edition's layout compared with the one
before it in data order (:mod:`icetrack.domain.layout_drift` says what counts as a change)."""

from __future__ import annotations

from typing import Any

from icetrack.domain.layout_drift import layout_changes
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
