"""Getting files in. One ingest loads all its files or none: aggregate publications are parsed whole before the
warehouse is touched, person-level files stream into invisible staging tables, and then ONE transaction
records every edition, moves the staged rows into place and rebuilds the derived tables. Any refusal - a bad
cell in a workbook, a truncated person-level file, an identifying column - rolls the whole ingest back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from icetrack.domain.layout_drift import layout_changes
from icetrack.domain.plausible import DEFAULT_POLICY, IngestPolicy
from icetrack.domain.edition import ParsedSource
from icetrack.sources import is_person_level, parse_files, read_person_file
from icetrack.sources.archive import read_archive_manifest
from icetrack.warehouse import cleaning as clean
from icetrack.warehouse.person import (
    commit_person_releases,
    drop_staging,
    person_overrides,
    plan_person_loads,
    stage_person_releases,
)
from icetrack.warehouse.layouts import edition_layouts
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
    overrides: list[str] = field(default_factory=list)  # what the ingest policy let in, as the edition records


def split_by_kind(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(aggregate publications, person-level files), each in the order given."""
    person = [p for p in paths if is_person_level(p)]
    return [p for p in paths if p not in person], person


def ingest_files(wh: Warehouse, paths: list[Path], *, policy: IngestPolicy = DEFAULT_POLICY,
                 parsed_one: Callable[[Path], None] | None = None,
                 rows_loaded: Callable[[int], None] | None = None) -> list[IngestReport]:
    """Load every file, aggregate and person-level, in ONE transaction: all of them or, on any error, none.

    Reports come in the order aggregate files first, then person-level files (as :func:`split_by_kind`)."""
    aggregate_paths, person_paths = split_by_kind(paths)
    parsed = parse_files(aggregate_paths, progress=parsed_one, policy=policy) if aggregate_paths else []
    parsed = _with_archive_bounds(parsed, aggregate_paths)
    parsed = _with_layout_changes(wh, parsed)
    results, todo = wh.plan_loads(parsed)
    releases = [_person_release(p, policy) for p in person_paths]
    plan = plan_person_loads(wh, releases)
    if todo or plan.todo:
        try:
            stage_person_releases(wh, plan, rows_loaded)
            with wh.transaction():
                wh.apply_loads(todo)
                commit_person_releases(wh, plan, clean.CleaningParams())
        finally:
            if plan.todo:
                drop_staging(wh)
    reports = [IngestReport(r, list(p.warnings), _same_date_copies(wh, r.edition_id) if r.loaded else [],
                            overrides=list(p.edition.overrides) if r.loaded else [])
               for p, r in zip(parsed, results)]
    return reports + [_person_report(rel, r) for rel, r in zip(releases, plan.results())]


def _with_archive_bounds(parsed: list[ParsedSource], paths: list[Path]) -> list[ParsedSource]:
    """Editions downloaded by ``icetrack fetch --archive`` carry the day a web archive first saw their bytes
    (the folder's manifest): the edition was public no later than that."""
    manifests: dict[Path, dict] = {}
    out = []
    for p, path in zip(parsed, paths):
        folder = Path(path).parent
        if folder not in manifests:
            manifests[folder] = read_archive_manifest(folder)
        capture = manifests[folder].get(p.edition.sha256)
        if capture is not None:
            p = replace(p, edition=replace(p.edition, published_by=capture.published_no_later_than))
        out.append(p)
    return out


def _with_layout_changes(wh: Warehouse, parsed: list[ParsedSource]) -> list[ParsedSource]:
    """Compare each workbook's layout with the edition just before it (by data date) among those loaded and
    those in this ingest: each change is said in one line and recorded on the edition."""
    known = {e.edition_id: (e.order, e.file_name, e.layout) for e in edition_layouts(wh)}
    for p in parsed:
        if p.edition.layout:
            known[p.edition.edition_id] = (_order(p.edition), p.edition.file_name, dict(p.edition.layout))
    out = []
    for p in parsed:
        order = _order(p.edition)
        earlier = [v for k, v in known.items() if k != p.edition.edition_id and v[0] < order]
        if not p.edition.layout or not earlier:
            out.append(p)
            continue
        _, before_name, before = max(earlier, key=lambda v: v[0])
        changes = layout_changes(before, dict(p.edition.layout))
        edition = replace(p.edition, layout_changes=tuple(c.as_dict() for c in changes))
        warnings = p.warnings + [f"format change since {before_name}: {c.line()}" for c in changes]
        out.append(replace(p, edition=edition, warnings=warnings))
    return out


def _order(edition) -> tuple:
    return (edition.as_of or date.min, edition.published_on or date.min, edition.file_name)


def _person_release(path: Path, policy: IngestPolicy):
    # Identifying headers are refused here, before anything is staged; values while the rows stream.
    return read_person_file(path, policy=policy)


def _person_report(release, result: LoadResult) -> IngestReport:
    # A release's report (warnings, unmapped columns) is filled while its rows stream in.
    if not result.loaded:
        return IngestReport(result)
    return IngestReport(result, list(release.report.warnings), unknown_columns=dict(release.report.unknown_columns),
                        overrides=list(person_overrides(release.report)))


def _same_date_copies(wh: Warehouse, edition_id: str) -> list[SameDateCopy]:
    # A second copy of an edition (same data date, other bytes) is loaded as its own edition.
    return [SameDateCopy(other, wh.edition_file_name(other), wh.diff_editions(other, edition_id))
            for other in wh.same_data_date_editions(edition_id)]
