"""The bundled table of ICE's national detention figures, so the report runs with no downloads.

Built by icetrack itself from the public workbooks (``icetrack rebuild-bundle FOLDER``): every national
figure of every edition (numbers only - no facility rows), each row carrying its edition's file name,
sha256, size, publication and as-of dates. It loads as one edition per workbook, marked
``completeness='national'``; ingesting the workbook itself later replaces that subset with the full edition.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from icetrack.domain.edition import OBSERVATION_SCHEMA, EditionInfo, ParsedSource, file_digest

# Facility-level rows (every measure named facility_*) are many and not national; the workbook itself
# carries them.
EXCLUDED_PREFIX = "facility_"
EDITION_COLUMNS = ("source", "publisher", "file_name", "sha256", "size_bytes", "parser_version", "original_url",
                   "published_on", "as_of", "data_source_date", "title", "note")


def bundle_path() -> Path:
    return Path(str(resources.files("icetrack") / "data" / "ice_detention_national.parquet"))


def build_bundle(folder: Path, out: Path | None = None, progress=None) -> tuple[Path, int, int]:
    """Parse every workbook under ``folder`` and write the national figures; returns (path, editions, rows)."""
    from icetrack.sources.ice_detention import parse_workbook

    out = out or bundle_path()
    files = sorted(p for p in Path(folder).rglob("*.xlsx") if p.is_file())
    tables, seen = [], set()
    for f in files:
        if progress:
            progress(f)
        parsed = parse_workbook(f)
        ed = parsed.edition
        if ed.sha256 in seen:
            continue
        seen.add(ed.sha256)
        obs = parsed.observations.filter(pc.invert(pc.starts_with(parsed.observations["measure"],
                                                                  EXCLUDED_PREFIX)))
        n = obs.num_rows
        for name in EDITION_COLUMNS:
            value = getattr(ed, name)
            typ = (pa.date32() if name in ("published_on", "as_of", "data_source_date")
                   else pa.int64() if name == "size_bytes" else pa.string())
            obs = obs.append_column(f"edition_{name}", pa.array([value] * n, type=typ))
        tables.append(obs)
    table = pa.concat_tables(tables).sort_by([("edition_sha256", "ascending"), ("measure", "ascending"),
                                              ("period_start", "ascending"), ("period_end", "ascending")])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd", compression_level=19)
    tmp.replace(out)
    return out, len(seen), table.num_rows


def bundled_versions(path: Path | None = None) -> dict[str, str]:
    """{sha256: the parser version that extracted it} of every bundled edition."""
    path = path or bundle_path()
    if not path.exists():
        return {}
    table = pq.read_table(path, columns=["edition_sha256", "edition_parser_version"])
    return dict(zip(table.column(0).to_pylist(), table.column(1).to_pylist()))


def parse_bundle(path: Path | None = None, only: set[str] | None = None) -> list[ParsedSource]:
    """One ParsedSource per bundled edition (optionally only those whose sha256 is in ``only``)."""
    path = path or bundle_path()
    table = pq.read_table(path)
    bundle_sha, _ = file_digest(path)
    out = []
    for sha in sorted(set(table.column("edition_sha256").to_pylist())):
        if only is not None and sha not in only:
            continue
        rows = table.filter(pc.equal(table["edition_sha256"], sha))
        first = {name: rows.column(f"edition_{name}")[0].as_py() for name in EDITION_COLUMNS}
        note = "; ".join(x for x in (first.pop("note"), f"national figures bundled with icetrack "
                                     f"(bundle sha256 {bundle_sha[:12]}); ingest the workbook for facility rows") if x)
        edition = EditionInfo(**first, note=note, completeness="national")
        out.append(ParsedSource(edition, rows.select(OBSERVATION_SCHEMA.names).cast(OBSERVATION_SCHEMA)))
    return out
