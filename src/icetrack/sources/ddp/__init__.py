"""Readers for Deportation Data Project (DDP) person-level ICE releases (https://deportationdata.org).

Records are already-anonymized public FOIA releases, used only for aggregate statistics; the
canonicalisation they share with the ERO-LESA reader (crosswalk, value cleaning, identifier checks) is in
:mod:`icetrack.sources.canonical`.

Formats (``read_ddp(path, table=None, release_id=None, chunk_rows=200_000)``):

* **Raw ICE xlsx** as DDP republishes them (:mod:`.raw_xlsx`): several sheets per table (about 1M rows
  each), every sheet with a title block above a header that is found by content.
* **Processed parquet / feather / csv** with DDP's snake_case names (:mod:`.processed`), one table per file.
* **UWCHR's joined file** ``joined_df_wa.csv`` (:func:`read_ddp_joined`, :mod:`.joined`): column suffixes
  ``.arrest``, ``.detainer``, ``.encounter``, ``.detention`` split it into the canonical tables.

Bad input raises :class:`~icetrack.domain.edition.SourceError` (one line: file, sheet/table, row, problem) -
for header or layout problems when ``read_ddp`` is called, for cell problems while the batches stream.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from icetrack.domain.edition import SourceError
from icetrack.domain.person_schema import TABLES, PersonRelease
from icetrack.sources.canonical.crosswalk import Crosswalk, load_crosswalk
from icetrack.sources.ddp.csv_io import csv_header
from icetrack.sources.ddp.files import JOINED_SUFFIXES
from icetrack.sources.ddp.joined import read_ddp_joined
from icetrack.sources.ddp.processed import read_arrow_file, read_csv
from icetrack.sources.ddp.raw_xlsx import read_xlsx
from icetrack.sources.files import check_file


def read_ddp(path: str | Path, table: str | None = None, release_id: str | None = None,
             chunk_rows: int = 200_000, *, cutoff: date | None = None,
             crosswalk: Crosswalk | None = None) -> PersonRelease:
    """Stream one DDP person-level file (raw ICE xlsx, processed parquet/feather/csv) as canonical batches.

    ``table`` (arrests, detainers, detention_stints, encounters, removals) is inferred when None.
    ``release_id`` defaults to the FOIA request numbers in the file name (identifiers link only within a
    release). ``cutoff`` overrides the data cut-off (otherwise the title's end date, or None).
    """
    path = Path(path)
    check_file(path)
    if table is not None and table not in TABLES:
        raise SourceError(path, f"unknown table '{table}' (expected one of {', '.join(TABLES)})")
    crosswalk = crosswalk or load_crosswalk()
    name = path.name.lower()
    if name.endswith((".xlsx", ".xlsm")):
        return read_xlsx(path, table, release_id, chunk_rows, cutoff, crosswalk)
    if name.endswith(".parquet"):
        return read_arrow_file(path, table, release_id, chunk_rows, cutoff, crosswalk, kind="parquet")
    if name.endswith((".feather", ".arrow", ".ipc")):
        return read_arrow_file(path, table, release_id, chunk_rows, cutoff, crosswalk, kind="feather")
    if name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz")):
        header = csv_header(path)
        if any(h.rpartition(".")[2] in JOINED_SUFFIXES for h in header):
            return read_ddp_joined(path, release_id=release_id, chunk_rows=chunk_rows, crosswalk=crosswalk)
        return read_csv(path, header, table, release_id, chunk_rows, cutoff, crosswalk)
    raise SourceError(path, "unsupported file type (expected .xlsx, .parquet, .feather or .csv)")


__all__ = ["read_ddp", "read_ddp_joined"]
