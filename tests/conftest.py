from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SYNTH_PEOPLE, SYNTH_SEED, SYNTH_WINDOW, Icetrack, shared_data_dir


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


@pytest.fixture(scope="session")
def bundled_warehouse(tmp_path_factory) -> Path:
    """A warehouse holding only the reference figures bundled with the package (loaded on first use)."""
    path = tmp_path_factory.mktemp("bundled") / "wh.duckdb"
    Icetrack(path)("editions")
    return path


@pytest.fixture(scope="session")
def synthetic_release(tmp_path_factory) -> Path:
    """The shared SYNTHETIC person-level release (parquet files in the DDP processed schema)."""
    from icetrack.synth.generator import generate_release

    folder = tmp_path_factory.mktemp("synthetic") / "release"
    generate_release(folder, people=SYNTH_PEOPLE, seed=SYNTH_SEED, start=SYNTH_WINDOW[0], end=SYNTH_WINDOW[1])
    return folder


@pytest.fixture(scope="session")
def synthetic_warehouse(tmp_path_factory, synthetic_release) -> Path:
    """The bundled reference figures plus the shared synthetic release, loaded through the real CLI (ingest).
    Tests open it read-only: it is shared by the whole session."""
    path = tmp_path_factory.mktemp("synthetic_wh") / "wh.duckdb"
    Icetrack(path)("ingest", str(synthetic_release))
    return path
