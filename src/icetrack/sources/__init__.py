"""Publisher-format readers. Each module reads one format into a :class:`~icetrack.domain.edition.ParsedSource`."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from icetrack.domain.edition import ParsedSource, SourceError
from icetrack.domain.plausible import DEFAULT_POLICY, IngestPolicy
from icetrack.sources.files import check_file, xlsx_sheet_names


PERSON_SUFFIXES = (".csv.gz", ".txt.gz", ".parquet", ".feather", ".arrow")


def is_person_level(path: str | Path) -> bool:
    """Person-level FOIA files (streamed into the person tables) vs aggregate publications."""
    path = Path(path)
    check_file(path)
    name = path.name.lower()
    if name.endswith(PERSON_SUFFIXES):
        return True
    if name.endswith(".csv"):
        from icetrack.sources.user_csv import read_header

        header = read_header(path)
        return any(h.split(".")[0] in ("unique_identifier", "anonymized_identifier") for h in header)
    if name.endswith((".xlsx", ".xlsm")):
        from icetrack.sources.ice_detention import looks_like_workbook

        if not looks_like_workbook(path):
            return False
        return not _is_detention_workbook(path)
    return False


def _is_detention_workbook(path: Path) -> bool:
    """ICE's detention-statistics workbooks have 'Detention FY..' / 'Facilities ..' sheets; DDP raw FOIA
    workbooks do not."""
    try:  # not fastexcel: it would read the shared strings before any size check
        names = [n.strip().lower() for n in xlsx_sheet_names(path)]
    except SourceError:  # unreadable: let the workbook parser produce the one-line error
        return True
    return any(n.startswith(("detention", "facilities")) for n in names)


def read_person_file(path: str | Path, *, policy: IngestPolicy = DEFAULT_POLICY):
    """A streaming :class:`~icetrack.domain.person_schema.PersonRelease` for one person-level file, under
    ``policy``: columns whose header names a direct identifier are refused here, before a row is read, unless
    ``policy.drop_identifiers``; what the values give away is refused while the batches stream."""
    path = Path(path)
    check_file(path)
    name = path.name.lower()
    if name.endswith((".csv.gz", ".txt.gz")):
        from icetrack.sources.ero_lesa import read_ero_lesa

        release = read_ero_lesa(path)
    else:
        from icetrack.sources import ddp
        from icetrack.sources.user_csv import read_header

        joined = name.endswith(".csv") and any("." in h for h in read_header(path))
        release = ddp.read_ddp_joined(path) if joined else ddp.read_ddp(path)
    release.policy = policy
    release.check_policy()
    return release


def parse_file(path: str | Path, policy: IngestPolicy = DEFAULT_POLICY) -> ParsedSource:
    """Recognise a file's format and parse it (no warehouse access). ``policy`` may override the
    plausible-range refusals (:mod:`icetrack.domain.plausible`); what it lets in is recorded on the edition."""
    path = Path(path)
    check_file(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        from icetrack.sources.user_csv import parse_csv

        return parse_csv(path, policy=policy)
    if suffix in (".xlsx", ".xlsm"):
        from icetrack.sources.ice_detention import parse_workbook

        return parse_workbook(path, policy=policy)
    raise SourceError(path, f"unrecognised file type '{suffix or 'none'}' (expected .csv or .xlsx)")


def parse_files(paths: list[Path], progress: Callable[[Path], None] | None = None,
                workers: int | None = None, policy: IngestPolicy = DEFAULT_POLICY) -> list[ParsedSource]:
    """Parse many files, in parallel worker processes when there are several (results in input order).

    Parsing is CPU-bound Python and Rust; each file is independent. The first file (in input order) that
    fails raises its SourceError, so the outcome does not depend on scheduling.
    """
    paths = [Path(p) for p in paths]
    workers = workers or min(len(paths), os.cpu_count() or 1, 4)
    if workers < 2 or len(paths) < 4 or "fork" not in mp.get_all_start_methods():
        out = []
        for p in paths:
            out.append(parse_file(p, policy))
            if progress:
                progress(p)
        return out
    # fork: workers inherit the imported modules, so a pool costs milliseconds, not seconds of imports.
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
        futures = [pool.submit(parse_file, p, policy) for p in paths]
        results: list[ParsedSource] = []
        for p, fut in zip(paths, futures):
            results.append(fut.result())
            if progress:
                progress(p)
        return results
