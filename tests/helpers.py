"""Helpers shared by the test modules (fixtures themselves live in conftest.py)."""
from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from icetrack.cli import cli
from icetrack.domain.edition import EditionInfo
from icetrack.domain.person_schema import PersonRelease, batch_from_rows

REPO = Path(__file__).resolve().parents[1]

# The one small SYNTHETIC release the tests share (session fixtures in conftest.py): 3,000 people arrested over
# six months, so daily cohort tables stay small enough for the suppression audit (a rank test whose cost grows
# with the cube of the table's rows) to answer in well under a second during fuzzing.
SYNTH_PEOPLE = 3_000
SYNTH_SEED = 1
SYNTH_WINDOW = (date(2024, 10, 1), date(2025, 3, 31))

# Injection-shaped parameter values every API test sends (none may reach SQL or a file path).
INJECTIONS = ["'; DROP TABLE observations; --", "1 OR 1=1", "\" OR \"\"=\"", "../../etc/passwd",
              "<script>alert(1)</script>", "book_ins' UNION SELECT * FROM editions --", "%00", "${jndi:x}"]


def read_export_file(path: Path, fmt: str) -> list[dict]:
    """The rows of one file ``icetrack export`` wrote, as dicts, in any of its four formats."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    if fmt == "csv":
        import csv

        with path.open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    if fmt == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True)
        rows = list(wb["data"].iter_rows(values_only=True))
        wb.close()
        return [dict(zip(rows[0], r)) for r in rows[1:]]
    import pandas as pd

    return pd.read_stata(path).to_dict("records")


def shared_data_dir() -> Path | None:
    """The real public files (``../shared/data`` beside the checkout, or ``$ICETRACK_SHARED_DATA``), if present."""
    env = os.environ.get("ICETRACK_SHARED_DATA")
    for candidate in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if candidate.is_dir():
            return candidate
    return None


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Icetrack:
    """Runs the real CLI in-process against one warehouse file."""

    def __init__(self, warehouse: Path):
        self.warehouse = warehouse
        self.runner = CliRunner()

    def __call__(self, *args: str, expect: int = 0):
        result = self.runner.invoke(cli, ["--warehouse", str(self.warehouse), *args], obj={}, catch_exceptions=False)
        assert result.exit_code == expect, (result.exit_code, result.output, getattr(result, "stderr", ""))
        return result

    def json(self, *args: str):
        return json.loads(self(*args, "--json").stdout)


def person_release(tables: dict[str, list[dict]], name="fixture.parquet", cutoff=date(2025, 3, 31), release_id="fixture-release"):
    edition = EditionInfo(source="test_fixture", publisher="tests", file_name=name,
                          sha256=(name.encode().hex() * 8)[:64], size_bytes=1, parser_version="1")

    def batches():
        for table, rows in tables.items():
            yield table, batch_from_rows(table, rows, release_id=release_id, edition_id=edition.edition_id,
                                         source_file=name)

    return PersonRelease(edition, release_id, cutoff, batches())
