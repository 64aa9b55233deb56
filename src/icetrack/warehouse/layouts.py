"""The layouts workbook editions recorded when they were read (the ``layout`` of the editions' ``structure``
JSON), in data order: what the format-drift report compares."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from icetrack.warehouse.store import Warehouse


@dataclass(frozen=True)
class EditionLayout:
    edition_id: str
    file_name: str
    as_of: date | None
    published_on: date | None
    layout: dict[str, Any]
    changes_at_ingest: list[dict[str, str]]  # as recorded when it was loaded (against the edition then before it)

    @property
    def order(self) -> tuple:
        return (self.as_of or date.min, self.published_on or date.min, self.file_name)


def edition_layouts(wh: Warehouse) -> list[EditionLayout]:
    """Every loaded edition that recorded a layout (workbooks read from the file, not the bundled subset),
    ordered by data date, then publication date, then file name."""
    rows = wh.con.execute(
        "SELECT edition_id, file_name, as_of, published_on, structure FROM editions "
        "WHERE structure IS NOT NULL AND json_exists(structure, '$.layout')").fetchall()
    out = []
    for edition_id, file_name, as_of, published_on, structure in rows:
        parsed = json.loads(structure)
        if parsed.get("layout"):
            out.append(EditionLayout(edition_id, file_name, as_of, published_on, parsed["layout"],
                                     parsed.get("layout_changes") or []))
    return sorted(out, key=lambda e: e.order)
