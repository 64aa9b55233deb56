"""Reference facts bundled with icetrack (numbers with their source URLs).

They are ordinary CSV files in the documented user formats (see :mod:`icetrack.sources.user_csv`), loaded
through the same reader and the same transactional load as any user file, on first use of a warehouse.
A new icetrack release that corrects a bundled figure ships new bytes, which load as a new edition:
the old value stays queryable as an earlier vintage.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from icetrack.domain.edition import file_digest
from icetrack.sources.ice_detention_bundle import bundled_sha256s, parse_bundle
from icetrack.sources.user_csv import parse_csv

SOURCE = "icetrack_reference"


def reference_files() -> list[Path]:
    folder = resources.files("icetrack") / "data" / "reference"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".csv"))


def ensure_reference_loaded(wh) -> list:
    """Load any bundled reference file whose bytes the warehouse does not hold yet."""
    todo = [parse_csv(path, source=SOURCE, note="bundled with icetrack") for path in reference_files()
            if not wh.has_sha256(file_digest(path)[0])]
    missing = {sha for sha in bundled_sha256s() if not wh.has_sha256(sha)}
    if missing:
        todo += parse_bundle(only=missing)
    return wh.load_many(todo) if todo else []
