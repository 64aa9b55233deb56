"""What every figure returns: a :class:`Result` (rows, provenance, definitions, audit, message).

``rows`` is the flat table a CSV download of the figure writes, value for value; ``detail`` holds the
figure's structured answer (a ledger entry, a published outcome table ...). Provenance names the editions the
figure draws on, with their publication and as-of dates and source URLs, and whether any is synthetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable

import pandas as pd

EDITION_FIELDS = ("edition_id", "source", "publisher", "title", "file_name", "original_url", "published_on", "as_of",
                  "synthetic", "completeness")
SOURCE_NOTE_EDITIONS = 6  # editions named in a chart's source note; the rest are counted


class NotFound(LookupError):
    """A parameter names something the warehouse does not hold."""


class InvalidParameters(ValueError):
    """Parameters that are each valid but do not go together."""


@dataclass
class Result:
    """One computed figure.

    ``person_level`` results (outcome tables from person-level records) always state their ``message`` (None
    when the figure was computed) and carry the suppression audit of each published table.
    """

    rows: list[dict[str, Any]]
    provenance: dict[str, Any]
    detail: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    person_level: bool = False

    @property
    def editions(self) -> list[dict[str, Any]]:
        return self.provenance.get("editions", [])

    @property
    def synthetic(self) -> bool:
        return bool(self.provenance.get("synthetic"))

    @property
    def definitions(self) -> str | None:
        return self.provenance.get("definitions")

    @property
    def audit(self) -> list[dict[str, Any]]:
        """The suppression audit of each published person-level table (empty for aggregate figures)."""
        published = self.detail.get("result") if self.person_level else None
        releases = published.get("releases", []) if published else []
        return [r["audit"] for r in releases if isinstance(r, dict) and "audit" in r]

    def as_json(self) -> dict[str, Any]:
        """The figure as one JSON-ready dict: its detail fields, rows and provenance (and message)."""
        out = {**self.detail, "rows": self.rows}
        if self.person_level or self.message is not None:
            out["message"] = self.message
        out["provenance"] = self.provenance
        return out


def json_value(v: Any) -> Any:
    """A value as JSON: dates ISO, NaN/NaT null, numpy scalars as Python, whole floats as ints."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, (pd.Timestamp, datetime)):
        return v.date().isoformat() if (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if hasattr(v, "item") and not isinstance(v, (list, dict, str)):
        return json_value(v.item())
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return int(v) if v.is_integer() else v
    return v


def http_url(value: Any) -> str | None:
    """``value`` when it is an http(s) URL, else None: what a page may put in a link's href (a ``javascript:``
    or ``data:`` URL from an ingested file would run when clicked; escaping does not stop that)."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else None


def frame_rows(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    frame = frame[columns] if columns else frame
    return [{k: json_value(v) for k, v in r.items()} for r in frame.to_dict("records")]


def editions_by_id(wh) -> dict[str, dict[str, Any]]:
    return {r["edition_id"]: r for r in frame_rows(wh.editions(), list(EDITION_FIELDS))}


def provenance(wh, edition_ids: Iterable[str], definitions: str | None = None, **extra) -> dict[str, Any]:
    """The editions a result draws on (with publication and as-of dates) and whether any is synthetic."""
    known = editions_by_id(wh)
    editions = [known[e] for e in sorted(set(edition_ids)) if e in known]
    as_of = [e["as_of"] for e in editions if e["as_of"]]
    return {"editions": editions, "as_of_range": [min(as_of), max(as_of)] if as_of else None,
            "synthetic": any(e["synthetic"] for e in editions), "definitions": definitions, **extra}


def source_note(prov: dict[str, Any]) -> str:
    """One line for under a chart: which editions, which data dates, synthetic or not."""
    eds = prov["editions"]
    if not eds:
        return "No source editions."
    names = "; ".join(f"{e['edition_id']} ({e['file_name']}"
                      + (f", as of {e['as_of']}" if e["as_of"] else "")
                      + (f", published {e['published_on']}" if e["published_on"] else "") + ")"
                      for e in eds[:SOURCE_NOTE_EDITIONS])
    more = (f"; and {len(eds) - SOURCE_NOTE_EDITIONS} more editions" if len(eds) > SOURCE_NOTE_EDITIONS else "")
    dates = (f" Data as of {prov['as_of_range'][0]} to {prov['as_of_range'][1]}."
             if prov.get("as_of_range") else "")
    synthetic = " SYNTHETIC DATA: generated, not from ICE." if prov["synthetic"] else ""
    return f"Source: {names}{more}.{dates}{synthetic}"
