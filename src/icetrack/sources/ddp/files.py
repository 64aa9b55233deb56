"""What the DDP readers decide about a file: its publisher, the table it holds, its release and its batches."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

from icetrack.domain.edition import SourceError
from icetrack.domain.person_schema import EVENT_DATE, TABLES
from icetrack.sources.canonical.crosswalk import Crosswalk

SOURCE_RAW = "ddp_ice_raw_xlsx"
SOURCE_PROCESSED = "ddp_ice_processed"
SOURCE_JOINED = "uwchr_ddp_joined"
PUBLISHER_RAW = ("U.S. Immigration and Customs Enforcement, ERO-LESA Statistical Tracking Unit "
                 "(FOIA release, via the Deportation Data Project)")
PUBLISHER_PROCESSED = "Deportation Data Project (processed ICE FOIA release)"
PUBLISHER_JOINED = "UW Center for Human Rights (join of Deportation Data Project ICE records)"
DDP_URL = "https://deportationdata.org"
JOINED_URL = "https://github.com/UWCHR/deport-data-proj"

JOINED_SUFFIXES = {"arrest": "arrests", "detainer": "detainers", "encounter": "encounters",
                   "detention": "detention_stints"}
JOIN_LEVEL = "(join)"  # report key for columns of a joined file that belong to no single table

# Table from a file name or title text (first match wins; order matters).
_TABLE_WORDS = [
    ("detainers", re.compile(r"detainer", re.IGNORECASE)),
    ("detention_stints", re.compile(r"detention|book[\s_-]*ins?\b|stints?\b|stays?\b", re.IGNORECASE)),
    ("encounters", re.compile(r"encounter", re.IGNORECASE)),
    ("removals", re.compile(r"removal|departure", re.IGNORECASE)),
    ("arrests", re.compile(r"arrest|apprehension", re.IGNORECASE)),
]


def table_from_text(text: str) -> str | None:
    for table, rx in _TABLE_WORDS:
        if rx.search(text or ""):
            return table
    return None


def guess_table(path: Path, names: Sequence[str], crosswalk: Crosswalk, titles: str = "") -> str:
    """The table a file holds: from its name or titles, else the one whose event date and most columns map."""
    t = table_from_text(path.name) or table_from_text(titles)
    if t:
        return t
    scores = {}
    for table in TABLES:
        mapped = {crosswalk.maps(table, n) for n in names} - {None}
        if EVENT_DATE[table] in mapped:
            scores[table] = len(mapped)
    if scores:
        best = max(scores.values())
        winners = [t for t, s in scores.items() if s == best]
        if len(winners) == 1:
            return winners[0]
    raise SourceError(path, "cannot tell which table (arrests, detainers, detention_stints, encounters, "
                            "removals) this file holds from its name or columns: pass table=")


def default_release_id(path: Path) -> str:
    """The FOIA request numbers in the file name (identifiers link only within a release), else the name."""
    foia = re.findall(r"\d{4}[-_]IC[A-Z]{2}[-_]\d{5}", path.name, re.IGNORECASE)
    if foia:
        return "ice-foia:" + "_".join(dict.fromkeys(f.upper().replace("_", "-") for f in foia))
    return "ddp:" + re.sub(r"(\.[A-Za-z0-9]+)+$", "", path.name)


def required_columns(table: str, with_identifier: bool = True) -> tuple[str, ...]:
    return (EVENT_DATE[table],) + (("unique_identifier",) if with_identifier else ())


def unique_names(texts: Sequence[str]) -> list[str]:
    """Header texts made unique the way fastexcel does it ('a', 'a_1', 'a_2')."""
    seen: dict[str, int] = defaultdict(int)
    out = []
    for t in texts:
        k = seen[t]
        out.append(t if k == 0 else f"{t}_{k}")
        seen[t] += 1
    return out


def chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    size = max(1, int(size))
    for start in range(0, n, size):
        yield start, min(n, start + size)


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
