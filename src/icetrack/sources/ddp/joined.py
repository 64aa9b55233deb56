"""UWCHR's joined file ``joined_df_wa.csv`` (https://github.com/UWCHR/deport-data-proj): the Deportation Data
Project's tables joined per person, one row per detainer x arrest x encounter x stint combination.

Column suffixes ``.arrest``, ``.detainer``, ``.encounter``, ``.detention`` split it into the canonical tables;
each table gets the distinct rows it contributed (a detainer joined to three stints appears once in detainers).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icetrack.domain.edition import SourceError
from icetrack.domain.person_schema import PersonRelease, ReaderReport
from icetrack.sources.canonical.crosswalk import Crosswalk, load_crosswalk
from icetrack.sources.canonical.plan import Plan, Sink
from icetrack.sources.canonical.release import person_edition
from icetrack.sources.ddp.csv_io import CSV_ERRORS, csv_error, csv_header, csv_stream
from icetrack.sources.ddp.files import (
    JOIN_LEVEL,
    JOINED_SUFFIXES,
    JOINED_URL,
    PUBLISHER_JOINED,
    SOURCE_JOINED,
    chunks,
    required_columns,
)
from icetrack.sources.files import MIB, check_file

# The joined file is read whole (distinct rows need every line): UWCHR's Washington file is 473 KB; 256 MiB
# (~130,000 rows of its 146 columns, ~550x) keeps the whole table well within memory.
MAX_JOINED_BYTES = 256 * MIB


def read_ddp_joined(path: str | Path, release_id: str | None = None, chunk_rows: int = 200_000, *,
                    crosswalk: Crosswalk | None = None) -> PersonRelease:
    """Split a joined DDP file (``name.arrest``, ``name.detainer``, ... columns) into canonical tables.

    Every table gets the distinct rows it contributed: a row whose columns of that table are all blank/NA
    (no record of that table in the join) is left out, and repeated rows (one detainer joined to several
    stints) are kept once, at their first line. ``report.warnings`` says, per table, how many joined rows
    carried it and how many distinct rows remain. Columns of the join itself (no table suffix, e.g.
    ``possible_kww_violation``, ``date_diff.detainer_arrest``) belong to no table: they are listed under
    ``report.unknown_columns['(join)']``.
    """
    path = Path(path)
    check_file(path, max_bytes=MAX_JOINED_BYTES, what="joined DDP file (read whole)")
    crosswalk = crosswalk or load_crosswalk()
    header = csv_header(path)
    uid, groups, join_level = _split_header(path, header)
    release_id = release_id or "uwchr-joined:" + re.sub(r"(\.[A-Za-z0-9]+)+$", "", path.name)
    edition = person_edition(path, SOURCE_JOINED, PUBLISHER_JOINED,
                             title="joined DDP tables (" + ", ".join(groups) + ")", url=JOINED_URL)
    report = ReaderReport()
    if join_level:
        report.unknown_columns[JOIN_LEVEL] = list(join_level)
        report.warnings.append("columns of the join itself, in no table: " + ", ".join(join_level))
    plans: dict[str, tuple[Plan, list[int], Sink]] = {}
    for table, idx in groups.items():
        sink = Sink(table, report)
        cols = [uid[0]] + idx
        printed = [header[i] for i in cols]
        lookup = ["unique_identifier"] + [header[i].rpartition(".")[0] for i in idx]
        plans[table] = (Plan(path, table, printed, crosswalk, sink, required=required_columns(table),
                             where=table, lookup=lookup), cols, sink)

    def batches() -> Iterator[tuple[str, pa.RecordBatch]]:
        full = _read_all(path, header)
        n = full.num_rows if full is not None else 0
        line = np.arange(2, n + 2, dtype=np.int64)
        for table, (plan, cols, sink) in plans.items():
            sub = full.select(cols) if full is not None else None
            if sub is None or n == 0:
                sink.finish()
                continue
            firsts, n_present = _distinct_rows(sub, n)
            report.warnings.append(f"{table}: {n_present:,} of {n:,} joined rows carry a record of this table; "
                                   f"{len(firsts):,} distinct rows kept")
            picked = sub.take(pa.array(firsts))
            for start, stop in chunks(len(firsts), chunk_rows):
                part = picked.slice(start, stop - start)
                out = plan.convert([part.column(k) for k in range(len(cols))], line[firsts[start:stop]],
                                   release_id=release_id, edition_id=edition.edition_id, file_name=path.name,
                                   sheet=None, synthetic=False, na_values=("NA",))
                if out is not None:
                    yield table, out
            sink.finish()

    return PersonRelease(edition, release_id, None, batches(), report)


def _split_header(path: Path, header: list[str]) -> tuple[list[int], dict[str, list[int]], list[str]]:
    """(identifier column positions, {table: its column positions}, names of the join's own columns)."""
    uid = [i for i, h in enumerate(header) if h == "unique_identifier" or h.startswith("unique_identifier.")]
    groups: dict[str, list[int]] = defaultdict(list)
    join_level = []
    for i, h in enumerate(header):
        _, dot, suffix = h.rpartition(".")
        if dot and suffix in JOINED_SUFFIXES:
            groups[JOINED_SUFFIXES[suffix]].append(i)
        elif i not in uid:
            join_level.append(h)
    if not groups:
        raise SourceError(path, "no column carries a table suffix (.arrest, .detainer, .encounter, .detention)")
    if not uid:
        raise SourceError(path, "required column unique_identifier not found", where="joined")
    return uid, groups, join_level


def _read_all(path: Path, header: list[str]) -> pa.Table | None:
    """The whole file as text (the join is small; distinct rows need every line), None when it has no rows."""
    parts, done = [], 0
    try:
        for rb in csv_stream(path, header, limit=MAX_JOINED_BYTES):
            parts.append(rb)
            done += rb.num_rows
    except CSV_ERRORS as exc:
        raise csv_error(path, exc, done, "joined") from None
    return pa.Table.from_batches(parts, schema=parts[0].schema) if parts else None


def _distinct_rows(sub: pa.Table, n: int) -> tuple[np.ndarray, int]:
    """(sorted first positions of the distinct rows carrying a record, number of rows carrying one): a row
    carries a record when any column after the identifier (column 0) is neither blank nor NA."""
    width = sub.num_columns
    blank = None
    for k in range(1, width):
        col = sub.column(k)
        b = pc.or_(pc.equal(col, ""), pc.equal(col, "NA"))
        blank = b if blank is None else pc.and_(blank, b)
    present = pc.invert(blank)
    n_present = int(pc.sum(present).as_py() or 0)
    keys = [f"c{k}" for k in range(width)]
    keyed = sub.rename_columns(keys).append_column("__row", pa.array(np.arange(n, dtype=np.int64))).filter(present)
    firsts = keyed.group_by(keys, use_threads=False).aggregate([("__row", "min")]).column("__row_min").to_numpy()
    return np.sort(firsts), n_present
