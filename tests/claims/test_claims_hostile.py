"""Hostile claims files: size, count, aliases, nesting and impossible numbers are refused, one line each.

Cases that took minutes or ran out of memory before the loader was bounded run in a child process with a
timeout, so a regression fails the test instead of blocking the run.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from icetrack.claims import ClaimsFileError, load_claims, parse_claims
from icetrack.claims.registry import MAX_CLAIMS, MAX_CLAIMS_FILE_BYTES, MAX_DEPTH

ROOT = Path(__file__).resolve().parents[2]


def entry(cid: str, comparison: str = "{op: at_least, value: 1}", metric: str = "arrests.ice_posted",
          statistic: str = "max_day") -> str:
    fields = [f"id: {cid}", f"text: test claim {cid}", "outlet: test", "published_on: 2025-02-07",
              f"url: https://example.org/{cid}", f"metric: {metric}", f"statistic: {statistic}",
              "window: {start: 2025-01-20, end: 2025-02-06}", f"comparison: {comparison}"]
    return "  - " + "\n    ".join(fields) + "\n"


def claims_file(*entries: str) -> str:
    return "format: icetrack-claims/1\nclaims:\n" + "".join(entries)


def problems(text: str) -> list[str]:
    with pytest.raises(ClaimsFileError) as err:
        parse_claims(text, "c.yaml")
    assert all("\n" not in p and p.startswith("c.yaml: ") for p in err.value.problems)
    return err.value.problems


def load_in_child(path: Path, timeout: float = 60) -> dict:
    """load_claims(path) in a child process: {error, problems, seconds, rss_mb}; a hang fails the test."""
    code = textwrap.dedent(f"""
        import json, resource, time
        from icetrack.claims import ClaimsFileError, load_claims
        started = time.monotonic()
        out = {{}}
        try:
            out["claims"] = len(load_claims({str(path)!r}))
        except ClaimsFileError as e:
            out["error"], out["problems"] = "ClaimsFileError", e.problems
        except BaseException as e:
            out["error"], out["problems"] = type(e).__name__, [str(e)[:300]]
        out["seconds"] = time.monotonic() - started
        # VmHWM, not ru_maxrss: Linux carries the parent's peak across fork and exec into ru_maxrss
        out["rss_mb"] = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
        print(json.dumps(out))
    """)

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))

    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                              preexec_fn=limit, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"no answer in {timeout:.0f} s loading {path.name}")
    assert proc.returncode == 0, proc.stderr[-600:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_60_mb_file_of_200000_claims_is_refused_by_its_size_at_once(tmp_path):
    # It gave no answer for minutes before: every claim was parsed (twice) and checked.
    path = tmp_path / "claims.yaml"
    one = entry("c{n}") + "    note: a claim padded to the 300 bytes of a real one\n"
    path.write_text(claims_file(*(one.replace("c{n}", f"c{n}") for n in range(200_000))))
    size = path.stat().st_size
    assert size > 60_000_000
    result = load_in_child(path)
    assert result["problems"] == [f"claims.yaml: file is {size:,} bytes; a claims file must be at most "
                                  f"{MAX_CLAIMS_FILE_BYTES:,} bytes"]
    assert result["seconds"] < 2 and result["rss_mb"] < 300


def test_a_billion_laughs_is_refused_at_its_first_anchor(tmp_path):
    # Nine levels of nine aliases each: ran 65 s (and gigabytes) before failing.
    text = claims_file("  - id: a\n    note: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
    for i in range(1, 10):
        text += f"  - id: {chr(97 + i)}\n    note: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 9) + "]\n"
    text += "  - id: k\n    comparison: {op: equals, value: *j}\n"
    path = tmp_path / "claims.yaml"
    path.write_text(text)
    result = load_in_child(path, timeout=30)
    assert result["problems"] == ["claims.yaml: line 4: YAML anchors and aliases (&name, *name) are not allowed in a "
                                  "claims file; write each value out"]
    assert result["seconds"] < 2 and result["rss_mb"] < 300


def test_an_anchor_even_unused_is_refused():
    assert problems(claims_file(entry("x").replace("text: test claim x", "text: &t test claim x"))) == [
        "c.yaml: line 4: YAML anchors and aliases (&name, *name) are not allowed in a claims file; write each "
        "value out"]


@pytest.mark.parametrize("nesting", ["[" * 50_000 + "]" * 50_000, "- " * 50_000 + "x"], ids=["flow", "block"])
def test_a_document_nested_50000_deep_is_one_line_not_a_recursion_error(nesting):
    # A RecursionError of 3,000 lines before.
    found = problems(f"format: icetrack-claims/1\nclaims:\n{nesting}\n")
    assert len(found) == 1
    assert found[0] in ("c.yaml: line 3: not valid YAML (exceeded maximum nesting depth)",  # libyaml's own limit
                        f"c.yaml: line 3: nested deeper than {MAX_DEPTH} levels; a claims file needs 5")


def test_nesting_within_the_limit_is_read():
    deep = "{op: at_least, value: 1, extra: " + "[" * 10 + "]" * 10 + "}"
    found = problems(claims_file(entry("x", deep)))
    assert found == ["c.yaml: claim 'x' (entry 1, line 3): comparison has unknown key(s) extra"]


@pytest.mark.parametrize("comparison, expected", [
    ("{op: at_least, value: .nan}", "comparison value nan is not finite"),
    ("{op: at_least, value: .inf}", "comparison value inf is not finite"),
    ("{op: at_most, value: -.inf}", "comparison value -inf is not finite"),
    ("{op: at_least, value: -5}", "comparison value -5 is negative; a count or average of arrests cannot be"),
    ("{op: at_least, value: 1.0e+30}", "comparison value 1e+30 is above 1,000,000,000; no count of arrests can be"),
    ("{op: at_least, value: " + "9" * 400 + "}", "comparison value inf is not finite"),
    ("{op: approximately, value: 100, tolerance: .inf}",
     "comparison tolerance 'inf' must be a number >= 0 or a percentage like '5%'"),
])
def test_claimed_values_must_be_finite_and_possible(comparison, expected):
    assert problems(claims_file(entry("x", comparison))) == [f"c.yaml: claim 'x' (entry 1, line 3): {expected}"]


def test_a_target_range_with_a_non_finite_end_is_refused():
    text = claims_file(entry("t", "{op: equals, value: [.nan, 1400]}", metric="targets.daily_arrests",
                             statistic="reported_target"))
    found = problems(text)
    assert len(found) == 1 and "must be [low, high] with low <= high" in found[0] and "not finite" in found[0]


def test_more_claims_than_the_limit_are_refused_before_checking_any():
    text = claims_file(*(entry(f"c{n}") for n in range(MAX_CLAIMS + 1)))
    assert len(text) < MAX_CLAIMS_FILE_BYTES
    assert problems(text) == [f"c.yaml: {MAX_CLAIMS + 1:,} claims; a claims file may hold at most {MAX_CLAIMS:,}"]


@pytest.mark.parametrize("value", ["!!float abc", "!!int twelve", "!!timestamp not-a-date", "9" * 5000,
                                   "!!binary '@@@'", "!!python/object:os.system ls"])
def test_explicit_tags_and_huge_integers_are_one_line(value):
    found = problems(claims_file(entry("x", f"{{op: at_least, value: {value}}}")))
    assert len(found) == 1 and ("not valid YAML" in found[0] or "cannot be read" in found[0]
                                or "is not a number" in found[0]), found


def test_a_statistic_that_is_not_text_is_a_problem_not_a_crash():
    found = problems(claims_file(entry("x").replace("statistic: max_day", "statistic: [max_day]")))
    assert found == ["c.yaml: claim 'x' (entry 1, line 3): statistic '['max_day']' is not one of "
                     "total, mean_per_day, max_day, min_day, any_day, average, reported_target, cumulative"]


def test_a_file_within_the_limits_still_loads(tmp_path):
    path = tmp_path / "claims.yaml"
    path.write_text(claims_file(entry("a"), entry("b", "{op: approximately, value: 1100, tolerance: 5%}")))
    assert [(c.id, c.comparison.bounds()) for c in load_claims(path)] == [("a", (1.0, float("inf"))),
                                                                          ("b", (1045.0, 1155.0))]
    assert len(load_claims()) == 11  # the bundled files: 9 NBC-era claims, 2 running counts
