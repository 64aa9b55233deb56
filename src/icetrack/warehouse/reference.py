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
from icetrack.sources.ice_detention_bundle import bundled_versions, parse_bundle
from icetrack.sources.user_csv import parse_csv

SOURCE = "icetrack_reference"


def reference_files() -> list[Path]:
    folder = resources.files("icetrack") / "data" / "reference"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".csv"))


def missing_reference(wh) -> tuple[list[Path], set[str], int]:
    """What of the bundled reference data the warehouse lacks: (reference CSV files, sha256 of bundled workbook
    editions, how many items are bundled in all)."""
    held = wh.held_sha256s()
    files = [path for path in reference_files() if file_digest(path)[0] not in held]
    bundled = bundled_versions()
    # A bundled subset extracted by an older parser (fewer tables) is refreshed from the current bundle.
    stale = {sha for sha, version in wh.held_subset_versions().items() if sha in bundled and bundled[sha] != version}
    return files, (set(bundled) - held) | stale, len(reference_files()) + len(bundled)


def ensure_reference_loaded(wh) -> list:
    """Load any bundled reference file whose bytes the warehouse does not hold yet."""
    files, editions, _ = missing_reference(wh)
    todo = [parse_csv(path, source=SOURCE, note="bundled with icetrack") for path in files]
    if editions:
        todo += parse_bundle(only=editions)
    return wh.load_many(todo) if todo else []
