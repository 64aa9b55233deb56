"""Response bodies: a figure's JSON (NaN and infinities as null) and its rows as CSV."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by null at any depth (they are not JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def json_bytes(result: dict[str, Any]) -> bytes:
    return json.dumps(finite(result), default=str, allow_nan=False).encode()


def _csv_cell(v: Any) -> Any:
    return json.dumps(v) if isinstance(v, (dict, list)) else v


def csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or ["empty"], lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _csv_cell(v) for k, v in r.items()} for r in rows)
    return out.getvalue().encode()
