"""Publisher-format readers. Each module reads one format into a :class:`~icetrack.sources.base.ParsedSource`."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
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


def parse_files(paths: list[Path], progress: Callable[[Path], None] | None = None,
                workers: int | None = None) -> list[ParsedSource]:
    """Parse many files, in parallel worker processes when there are several (results in input order).

    Parsing is CPU-bound Python and Rust; each file is independent. The first file (in input order) that
    fails raises its SourceError, so the outcome does not depend on scheduling.
    """
    paths = [Path(p) for p in paths]
    workers = workers or min(len(paths), os.cpu_count() or 1, 4)
    if workers < 2 or len(paths) < 4 or "fork" not in mp.get_all_start_methods():
        out = []
        for p in paths:
            out.append(parse_file(p))
            if progress:
                progress(p)
        return out
    # fork: workers inherit the imported modules, so a pool costs milliseconds, not seconds of imports.
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
        futures = [pool.submit(parse_file, p) for p in paths]
        results: list[ParsedSource] = []
        for p, fut in zip(paths, futures):
            results.append(fut.result())
            if progress:
                progress(p)
        return results
