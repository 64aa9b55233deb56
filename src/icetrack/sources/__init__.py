"""Publisher-format readers. Each module reads one format into a :class:`~icetrack.sources.base.ParsedSource`."""

from __future__ import annotations

from pathlib import Path

from icetrack.sources.base import ParsedSource, SourceError


def parse_file(path: str | Path) -> ParsedSource:
    """Recognise a file's format and parse it (no warehouse access)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        from icetrack.sources.user_csv import parse_csv

        return parse_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        from icetrack.sources.ice_detention import parse_workbook

        return parse_workbook(path)
    raise SourceError(path, f"unrecognised file type '{suffix or 'none'}' (expected .csv or .xlsx)")
