"""The README's main command installs only what the report needs (issue 18: a lean install).

Two checks: the dependency graph in the committed ``uv.lock`` (what ``--no-dev`` resolves to, and that the
test and Spark packages are reachable only through the dev group or the ``spark`` extra), and the environment
``uv sync --locked --no-dev`` really creates, in which the main job then writes the report.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Test, browser and Spark packages: none may be installed by the main command.
NOT_FOR_THE_MAIN_JOB = {"pytest", "playwright", "pyspark", "schemathesis", "lifelines", "hypothesis",
                        "frictionless", "import-linter"}


def _main_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    commands = [line for line in section.splitlines() if line.startswith("python3 -m pip install")]
    assert len(commands) == 2, commands
    return commands[0]


def _lock() -> dict[str, dict]:
    with open(ROOT / "uv.lock", "rb") as fh:
        return {p["name"]: p for p in tomllib.load(fh)["package"]}


def _closure(packages: dict[str, dict], roots: list[dict]) -> set[str]:
    """Every package reachable from ``roots`` (lock dependency entries, extras followed)."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        dep = todo.pop()
        name = dep["name"]
        package = packages[name]
        extras = package.get("optional-dependencies", {})
        for extra in dep.get("extra", []):
            todo.extend(extras[extra])
        if name not in seen:
            seen.add(name)
            todo.extend(package.get("dependencies", []))
    return seen


def test_the_main_command_skips_the_dev_group():
    command = _main_command()
    assert re.search(r"uv run --locked --no-dev icetrack report\b", command), command


def test_the_locked_runtime_closure_holds_no_test_or_spark_package():
    packages = _lock()
    icetrack = packages["icetrack"]
    runtime = _closure(packages, icetrack["dependencies"])
    dev = _closure(packages, icetrack["dev-dependencies"]["dev"])
    spark = _closure(packages, icetrack["optional-dependencies"]["spark"])
    assert runtime & NOT_FOR_THE_MAIN_JOB == set()
    # The check can fail: each of these packages is in the lock, reachable through the dev group.
    assert NOT_FOR_THE_MAIN_JOB <= dev
    assert "pyspark" in spark and "pyspark" not in runtime
    # What the report does need is there.
    assert {"duckdb", "ibis-framework", "altair", "vl-convert-python", "fastexcel", "pyarrow"} <= runtime


def test_the_lean_environment_writes_the_report(tmp_path):
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH (the README's commands install it); cannot build the lean environment")
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv"), "ICETRACK_WAREHOUSE":
           str(tmp_path / "warehouse.duckdb")}
    env.pop("VIRTUAL_ENV", None)
    # --offline: the packages come from uv's cache, filled when the test environment was built.
    sync = subprocess.run([uv, "sync", "--locked", "--no-dev", "--offline", "--quiet"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert sync.returncode == 0, sync.stderr
    site = next((tmp_path / "venv" / "lib").glob("python3.*/site-packages"))
    installed = {re.sub(r"[-_.]+", "-", d.name.split("-")[0]).lower() for d in site.glob("*.dist-info")}
    assert installed & NOT_FOR_THE_MAIN_JOB == set()
    assert {"duckdb", "fastexcel", "vl-convert-python"} <= installed
    report = tmp_path / "icetrack-report.html"
    run = subprocess.run([uv, "run", "--locked", "--no-dev", "--offline", "icetrack", "report", "--out",
                          str(report)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    html = report.read_text(encoding="utf-8")
    assert "<svg" in html and "arrests" in html.lower()
    assert installed == {re.sub(r"[-_.]+", "-", d.name.split("-")[0]).lower() for d in site.glob("*.dist-info")}
