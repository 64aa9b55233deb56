"""The one way icetrack writes JSON: standard JSON that any strict parser reads.

JSON has no NaN or infinities; ``json.dumps`` would write the bare words ``NaN``/``Infinity``, which strict
parsers (and most languages' JSON libraries) refuse. Every JSON icetrack writes - CLI ``--json``, the API, the
report, the synthetic-release manifest, the warehouse's JSON columns - goes through :func:`strict_json`.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None at any depth, then ``json.dumps(..., allow_nan=False)``
    in :func:`strict_json` so a value that slips past fails loudly."""
    if isinstance(value, float | np.floating):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def strict_json(value: Any, **options: Any) -> str:
    """``value`` as standard JSON (non-finite floats as null; dates and other objects as their text)."""
    return json.dumps(finite(value), default=str, allow_nan=False, **options)
