from __future__ import annotations

from pathlib import Path

import pytest
from helpers import Icetrack, shared_data_dir


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


@pytest.fixture
def icetrack(warehouse_path: Path) -> Icetrack:
    return Icetrack(warehouse_path)
