"""Source column names of person-level ICE files -> canonical columns, through ``data/ddp_crosswalk.csv``.

The crosswalk is built by ``tools/build_crosswalk.py`` from the Deportation Data Project's codebook
(https://deportationdata.org/docs/ice/codebook.html). Names match case-, space- and punctuation-insensitively
(:func:`column_key`). A source column without a canonical home has an empty canonical column (kept, as
text, in ``extra``); a direct identifier is marked :data:`WITHHELD` and its values are never loaded.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CROSSWALK_PATH = Path(__file__).resolve().parents[2] / "data" / "ddp_crosswalk.csv"
WITHHELD = "!withheld"  # crosswalk marker: direct identifier, values never loaded


def column_key(name: object) -> str:
    """Case-, space- and punctuation-insensitive key of a column name ('Apprehension AOR' = 'apprehension_aor')."""
    text = unicodedata.normalize("NFKC", str(name or "")).casefold()
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


@dataclass(frozen=True)
class CrosswalkEntry:
    table: str
    source_column: str
    canonical_column: str  # "" = no canonical home (extra); WITHHELD = never loaded
    release_note: str

    @property
    def fallback(self) -> bool:
        return self.release_note.startswith("fallback")


class Crosswalk:
    """Lookup of (table, source column) -> :class:`CrosswalkEntry`, by :func:`column_key`."""

    def __init__(self, entries: Iterable[CrosswalkEntry]):
        self.entries = list(entries)
        self._by_key: dict[tuple[str, str], CrosswalkEntry] = {}
        for e in self.entries:
            self._by_key.setdefault((e.table, column_key(e.source_column)), e)
        self._keys = {k for _, k in self._by_key}

    def lookup(self, table: str, name: str) -> CrosswalkEntry | None:
        return self._by_key.get((table, column_key(name)))

    def is_known(self, name: str) -> bool:
        return column_key(name) in self._keys

    def maps(self, table: str, name: str) -> str | None:
        """Canonical column of ``name`` in ``table`` (None when unmapped, unknown or withheld)."""
        e = self.lookup(table, name)
        return e.canonical_column if e and e.canonical_column not in ("", WITHHELD) else None


@lru_cache(maxsize=4)
def load_crosswalk(path: str | Path | None = None) -> Crosswalk:
    path = Path(path or CROSSWALK_PATH)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return Crosswalk(CrosswalkEntry(r["table"], r["source_column"], r["canonical_column"], r["release_note"])
                     for r in rows)
