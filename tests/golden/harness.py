"""Golden outputs of the main commands and API endpoints, so a restructuring can prove it changed nothing.

``capture(folder)`` builds two warehouses through the real CLI - the bundled data alone, and the bundled data
plus a small SYNTHETIC release - runs the main commands with ``--json`` (and the JSON API on the second), and
returns ``{name: normalised JSON}``. ``python tests/golden/harness.py [NAME ...]`` rewrites ``tests/golden/*.json.gz`` (or only the
named ones) from the code as it is; ``tests/test_golden.py`` compares the code as it is with those files. Volatile fields
(ingestion times, temporary paths) are dropped; floats are rounded to 9 significant digits so a change in
summation order does not count as a change of figure.
"""
from __future__ import annotations

import gzip
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

GOLDEN = Path(__file__).resolve().parent
SYNTH_PEOPLE = "3000"
VOLATILE_KEYS = {"ingested_at", "warehouse", "path", "file_path", "generated_at", "elapsed_s", "parser_version"}

# (name, warehouse, argv). "bundled": the reference figures shipped with the package; "synthetic": the same plus
# a 3,000-person synthetic release (seed 1).
COMMANDS: list[tuple[str, str, list[str]]] = [
    ("targets", "bundled", ["targets", "--daily-summary", "--json"]),
    ("targets_month", "bundled", ["targets", "--grain", "month", "--since", "2023-10-01", "--json"]),
    ("targets_by", "bundled", ["targets", "--daily-summary", "--by", "2025-03-31", "--json"]),
    ("editions", "bundled", ["editions", "--json"]),
    ("series_book_ins_ice", "bundled", ["series", "book_ins", "--agency", "ICE", "--json"]),
    ("series_posted_all", "bundled", ["series", "ice_posted_arrests", "--vintage", "all", "--json"]),
    ("series_detained", "bundled", ["series", "currently_detained", "--json"]),
    ("series_removals_fytd", "bundled", ["series", "removals_fytd", "--json"]),
    ("revisions_book_ins", "bundled", ["revisions", "book_ins", "--agency", "ICE", "--period", "2025-01", "--json"]),
    ("revisions_adp", "bundled", ["revisions", "adp", "--agency", "ICE", "--period", "FY2024", "--json"]),
    ("check", "bundled", ["check", "--json"]),
    ("check_definitions", "bundled", ["check", "--definitions", "--json"]),
    ("project", "bundled", ["project", "--arrests-per-day", "1200", "--beds", "41500", "--json"]),
    ("project_goal", "bundled", ["project", "--goal-removals-per-year", "600000", "--solve-for", "beds",
                                 "--arrests-per-day", "3000", "--json"]),
    ("project_backtest", "bundled", ["project", "--backtest", "--json"]),
    ("outcomes_workbook", "bundled", ["outcomes", "workbook", "--json"]),
    ("quality", "synthetic", ["quality", "--json"]),
    ("funnel_month", "synthetic", ["outcomes", "funnel", "--json"]),
    ("funnel_week", "synthetic", ["outcomes", "funnel", "--period", "week", "--json"]),
    ("funnel_aor", "synthetic", ["outcomes", "funnel", "--by", "aor", "--json"]),
    ("km", "synthetic", ["outcomes", "km", "--json"]),
    ("km_book_in", "synthetic", ["outcomes", "km", "--origin", "book_in", "--by", "criminality", "--json"]),
    ("cif", "synthetic", ["outcomes", "cif", "--json"]),
    ("flows", "synthetic", ["outcomes", "flows", "--period", "month", "--json"]),
    ("check_synthetic", "synthetic", ["check", "--include-synthetic", "--json"]),
]

# JSON API on the synthetic warehouse (charts are compared by their data, not their encoding, which changes).
ENDPOINTS: list[str] = [
    "/api/sources", "/api/measures", "/api/series/book_ins?agency=ICE", "/api/series/book_ins?vintage=all&agency=ICE",
    "/api/revisions/book_ins?period=2025-01&agency=ICE", "/api/targets", "/api/targets/daily",
    "/api/daily/ice_posted_arrests",
    "/api/daily/ice_posted_arrests?shift=1", "/api/detention/book_ins", "/api/detention/book_outs",
    "/api/detention/detained", "/api/detention/book_ins?fiscal_year=2025&agency=ICE",
    "/api/outcomes/funnel", "/api/outcomes/funnel?breakdown=aor",
    "/api/outcomes/survival?curve=km", "/api/outcomes/survival?curve=cif&origin=book_in",
    "/api/claims", "/api/capacity/calibration",
    "/api/capacity/projection?arrests_per_day=1200&beds=41500",
    "/api/capacity/goal-seek?removals_per_year=600000&solve_for=beds",
]
CHART_DATA: list[str] = ["arrests", "book_ins", "book_outs", "detained", "funnel", "km", "cif", "claims", "capacity"]


def normalise(value: Any, tmp: str) -> Any:
    if isinstance(value, dict):
        return {k: normalise(v, tmp) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [normalise(v, tmp) for v in value]
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return repr(value)
        return float(f"{value:.9g}")
    if isinstance(value, str) and tmp and tmp in value:
        return value.replace(tmp, "<tmp>")
    return value


def _cli(warehouse: Path, argv: list[str]) -> str:
    from icetrack.cli import cli

    result = CliRunner().invoke(cli, ["--warehouse", str(warehouse), *argv], obj={}, catch_exceptions=False)
    if result.exit_code != 0:
        raise AssertionError(f"icetrack {' '.join(argv)} exited {result.exit_code}: {result.output[-2000:]}")
    return result.stdout


def chart_data(spec: Any) -> Any:
    """The data a chart spec carries (inline values and named datasets), not its encoding."""
    if spec is None:
        return None
    found: dict[str, Any] = {}
    for name, values in (spec.get("datasets") or {}).items():
        found[f"datasets.{name}"] = values

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("data"), dict) and "values" in node["data"]:
                found[path + ".data"] = node["data"]["values"]
            for k, v in node.items():
                if k not in ("data", "datasets"):
                    walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk(spec, "spec")
    # Named datasets get content-hash names from Altair; compare the multiset of data, not the names.
    return sorted((json.dumps(v, sort_keys=True, default=str) for v in found.values()))


def capture(folder: Path) -> dict[str, Any]:
    tmp = str(folder)
    bundled = folder / "bundled.duckdb"
    synthetic = folder / "synthetic.duckdb"
    release = folder / "release"
    _cli(bundled, ["editions", "--json"])  # first use loads the bundled reference figures
    _cli(synthetic, ["synth", "--people", SYNTH_PEOPLE, "--seed", "1", "--out", str(release)])
    _cli(synthetic, ["ingest", str(release)])
    out: dict[str, Any] = {}
    for name, which, argv in COMMANDS:
        text = _cli(bundled if which == "bundled" else synthetic, argv)
        out[name] = normalise(json.loads(text), tmp)

    from fastapi.testclient import TestClient

    from icetrack.web.app import create_app

    app = create_app(synthetic)
    try:
        with TestClient(app, raise_server_exceptions=True) as client:
            for url in ENDPOINTS:
                r = client.get(url)
                if r.status_code != 200:
                    raise AssertionError(f"GET {url}: {r.status_code} {r.text[:500]}")
                out[f"api {url}"] = normalise(r.json(), tmp)
            for chart in CHART_DATA:
                r = client.get(f"/api/charts/{chart}")
                if r.status_code != 200:
                    raise AssertionError(f"GET chart {chart}: {r.status_code} {r.text[:500]}")
                body = r.json()
                out[f"chart {chart}"] = normalise(chart_data(body.get("spec")), tmp)
    finally:
        app.state.store.close()
    return out


def golden_file(name: str) -> Path:
    return GOLDEN / (re.sub(r"[^A-Za-z0-9_.=-]+", "_", name).strip("_") + ".json.gz")


def read(name: str) -> Any:
    return json.loads(gzip.decompress(golden_file(name).read_bytes()))["value"]


def write(outputs: dict[str, Any], only: list[str] | None = None) -> None:
    """Rewrite every golden file, or only those named (an intended change, listed in the README)."""
    if not only:
        for old in GOLDEN.glob("*.json*"):
            old.unlink()
    for name, value in outputs.items():
        if only and name not in only:
            continue
        text = json.dumps({"name": name, "value": value}, sort_keys=True, separators=(",", ":")) + "\n"
        golden_file(name).write_bytes(gzip.compress(text.encode(), mtime=0))


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        outputs = capture(Path(d))
    names = sys.argv[1:]
    unknown = [n for n in names if n not in outputs]
    if unknown:
        sys.exit(f"no such golden output: {unknown}")
    write(outputs, names)
    print(f"wrote {len(names) or len(outputs)} golden files to {GOLDEN}", file=sys.stderr)
