"""Response bodies: a figure's JSON (standard JSON: NaN and infinities as null) and its rows as CSV (cells a
spreadsheet reads as data, never as formulas: :mod:`icetrack.figures.csv_cells`)."""

from __future__ import annotations

import io
from typing import Any

from icetrack.figures.csv_cells import write_csv
from icetrack.domain.json_text import strict_json


def json_bytes(result: Any) -> bytes:
    return strict_json(result).encode()


def csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns]
    out = io.StringIO()
    write_csv(out, rows, columns or ["empty"], lineterminator="\n")
    return out.getvalue().encode()
