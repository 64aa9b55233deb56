"""The main commands' JSON and the JSON API are unchanged by the restructuring (issue 12).

The files in tests/golden were written by tests/golden/harness.py from the code before the restructuring, on the
bundled data and a 3,000-person synthetic release. Intended changes are listed in the README ("Intended
changes"); a golden file is rewritten only for such a change, in the same commit.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from golden import harness


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict:
    return harness.capture(tmp_path_factory.mktemp("golden"))


def _first_difference(a, b, path: str = "$") -> str | None:
    if type(a) is not type(b):
        return f"{path}: {json.dumps(a)[:200]} != {json.dumps(b)[:200]}"
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return f"{path}: keys {sorted(a.keys() ^ b.keys())} differ"
        for k in a:
            d = _first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = _first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {json.dumps(a)[:200]} != {json.dumps(b)[:200]}"


NAMES = [name for name, _, _ in harness.COMMANDS] + [f"api {u}" for u in harness.ENDPOINTS] + [
    f"chart {c}" for c in harness.CHART_DATA]


def test_every_golden_file_is_checked():
    on_disk = {p.name for p in Path(harness.GOLDEN).glob("*.json.gz")}
    assert on_disk == {harness.golden_file(n).name for n in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_output_unchanged(outputs, name):
    expected = harness.read(name)
    difference = _first_difference(expected, outputs[name])
    assert difference is None, f"{name} changed: {difference}"
