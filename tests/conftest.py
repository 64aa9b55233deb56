from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from icetrack.cli import cli

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    env = os.environ.get("ICETRACK_SHARED_DATA")
    for candidate in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture
def shared_data() -> Path:
    d = shared_data_dir()
    if d is None:
        pytest.skip("../shared/data (real public source files) is not present beside this checkout; "
                    "set ICETRACK_SHARED_DATA to its location to run this test")
    return d


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "wh.duckdb"


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


@pytest.fixture
def icetrack(warehouse_path: Path) -> Icetrack:
    return Icetrack(warehouse_path)
