"""Getting files in: aggregate publications are parsed whole before the warehouse is touched and load in one
transaction; person-level files stream in through :mod:`icetrack.warehouse.person` in another."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from icetrack.sources import is_person_level, parse_files, read_person_file
from icetrack.warehouse.person import load_person_releases
from icetrack.warehouse.store import LoadResult, Warehouse


@dataclass(frozen=True)
class SameDateCopy:
    """Another edition with the same data date as a newly loaded one, and how their figures differ."""

    edition_id: str
    file_name: str
    diff: dict[str, Any]


@dataclass(frozen=True)
class IngestReport:
    """What loading one file did, with what a person should be told about it."""

    result: LoadResult
    warnings: list[str] = field(default_factory=list)
    same_date_copies: list[SameDateCopy] = field(default_factory=list)
    unknown_columns: dict[str, list[str]] = field(default_factory=dict)  # person-level: kept in 'extra'


def split_by_kind(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(aggregate publications, person-level files), each in the order given."""
    person = [p for p in paths if is_person_level(p)]
    return [p for p in paths if p not in person], person


def load_aggregate_files(wh: Warehouse, paths: list[Path], *,
                         parsed_one: Callable[[Path], None] | None = None) -> list[IngestReport]:
    """Parse and validate every file before the warehouse is touched, then load them in ONE transaction."""
    parsed = parse_files(paths, progress=parsed_one)
    return [IngestReport(r, list(p.warnings), _same_date_copies(wh, r.edition_id) if r.loaded else [])
            for p, r in zip(parsed, wh.load_many(parsed))]


def load_person_files(wh: Warehouse, paths: list[Path], *,
                      rows_loaded: Callable[[int], None] | None = None) -> list[IngestReport]:
    """Stream person-level files into the warehouse: one transaction for all of them, rolled back on error."""
    releases = [read_person_file(p) for p in paths]
    results = load_person_releases(wh, releases, progress=rows_loaded)
    # A release's report (warnings, unmapped columns) is filled while its rows stream in.
    return [IngestReport(r, list(rel.report.warnings), unknown_columns=dict(rel.report.unknown_columns))
            if r.loaded else IngestReport(r) for rel, r in zip(releases, results)]


def _same_date_copies(wh: Warehouse, edition_id: str) -> list[SameDateCopy]:
    # A second copy of an edition (same data date, other bytes) is loaded as its own edition.
    return [SameDateCopy(other, wh.edition_file_name(other), wh.diff_editions(other, edition_id))
            for other in wh.same_data_date_editions(edition_id)]
