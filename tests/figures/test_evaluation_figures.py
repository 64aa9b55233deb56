"""Issue 16: the rolling-origin evaluation of the capacity model as a table and two charts, on the bundled
national workbook figures. The evaluation takes seconds: it is computed once for the module."""

from __future__ import annotations

import copy

import pytest

from icetrack.figures import charts, evaluation
from icetrack.figures.charts import NothingToDraw
from icetrack.figures.result import NotFound, Result
from icetrack.warehouse import open_warehouse

TARGETS = ("adp", "book_outs", "removals_to_date")
BASELINES = ("last_value", "seasonal_naive", "drift", "ets")


@pytest.fixture(scope="module")
def result(bundled_warehouse) -> Result:
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        return evaluation.evaluation(wh)


@pytest.fixture(scope="module")
def workbooks(bundled_warehouse) -> set[str]:
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        editions = wh.editions()
    return set(editions.edition_id[editions.source == "ice_detention_workbook"])


def _data_rows(spec: dict) -> list[dict]:
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_rows_are_the_table_per_target_and_horizon(result):
    d = result.detail
    assert d["origins"]["count"] >= 40
    assert [(r["target"], r["horizon"]) for r in result.rows] == [(t, h) for t in TARGETS for h in range(1, 7)]
    for row, s in zip(result.rows, d["per_horizon"]):
        assert (row["n"], row["model_n"], row["model_mape"], row["model_bias"]) == (
            s["n"], s["model"]["n"], s["model"]["mape"], s["model"]["bias"])
        for b in BASELINES:
            versus = s["model_vs"][b]
            assert (row[f"{b}_mape"], row[f"{b}_n"], row[f"model_beats_{b}"]) == (
                versus["baseline_mape"], versus["n"], versus["model_beats"])
            assert row[f"{b}_mape_all_forecasts"] == s[b]["mape"]
        by_horizon = {c["horizon"]: c for c in d["coverage"]["empirical"][row["target"]]["per_horizon"]}
        for level in ("80", "95"):
            share = by_horizon[row["horizon"]][level] if row["horizon"] in by_horizon else {"achieved": None}
            assert row[f"coverage_{level}"] == share["achieved"]
            assert row[f"coverage_{level}"] is None or 0 <= row[f"coverage_{level}"] <= 1
    adp_1 = result.rows[0]
    assert adp_1["model_n"] >= 10 and adp_1["coverage_80"] is not None


def test_provenance_is_the_workbook_editions_with_the_evaluation_definitions(result, workbooks):
    assert {e["edition_id"] for e in result.editions} == workbooks and len(workbooks) >= 20
    assert result.definitions == result.detail["definitions"]
    assert result.definitions.startswith("Rolling-origin evaluation of the capacity model")


def test_calibration_chart_plots_the_achieved_coverage(result):
    spec = charts.spec(evaluation.calibration_spec(result))
    rows = _data_rows(spec)
    coverage = result.detail["coverage"]

    def plotted(band: str, series: str, nominal: float) -> float:
        (row,) = [r for r in rows if r.get("band") == band and r["series"] == series and r["nominal"] == nominal]
        return row["achieved"]

    for level, nominal in (("80", 0.8), ("95", 0.95)):
        assert plotted(evaluation.EMPIRICAL, "all targets", nominal) == \
            coverage["empirical"]["all_targets"]["overall"][level]["achieved"]
        assert plotted(evaluation.MONTE_CARLO, "all targets", nominal) == \
            coverage["monte_carlo_same_pairs"]["all_targets"]["overall"][level]["achieved"]
        assert plotted(evaluation.MONTE_CARLO, evaluation.MONTE_CARLO_ALL, nominal) == \
            coverage["monte_carlo_all_model_pairs"]["overall"][level]["achieved"]
        assert plotted(evaluation.EMPIRICAL, "ADP", nominal) == coverage["empirical"]["adp"]["overall"][level]["achieved"]
    # the diagonal (a band holding exactly its nominal share) is drawn in both panels
    diagonal = [r for r in rows if "band" not in r]
    assert {(r["nominal"], r["achieved"]) for r in diagonal} == {(0.7, 0.7), (1.0, 1.0)}
    assert len(spec["hconcat"]) == 2
    assert all(0 <= r["achieved"] <= 1 for r in rows)


def test_error_chart_is_mape_by_horizon_per_target(result):
    spec = charts.spec(evaluation.error_spec(result))
    rows = _data_rows(spec)
    assert spec["facet"]["column"]["field"] == "target"
    assert {r["target"] for r in rows} == {"ADP", "final book-outs", "removals to date"}
    assert {r["horizon"] for r in rows} == set(range(1, 7))
    for s in result.detail["per_horizon"]:
        label = evaluation.target_label(s["target"])
        points = {r["method"]: r["mape"] for r in rows if r["target"] == label and r["horizon"] == s["horizon"]}
        assert points["model"] == s["model"]["mape"]
        for b in BASELINES:
            assert points.get(evaluation.baseline_label(b)) == s["model_vs"][b]["baseline_mape"]
    # ETS is not fitted on the irregular removals-to-date series: no point, not a zero
    assert not [r for r in rows if r["target"] == "removals to date" and r["method"] == "ETS"]


def test_display_table_marks_the_baselines_that_beat_the_model(result):
    table = evaluation.display_table(result.detail)
    assert len(table["rows"]) == 18 and len(table["columns"]) == len(table["rows"][0]) == 12
    adp_1, row = result.rows[0], table["rows"][0]
    assert [c["text"] for c in row[:4]] == ["ADP", "1", str(adp_1["n"]), str(adp_1["model_n"])]
    for cell, b in zip(row[5:9], BASELINES):
        assert cell["strong"] == (adp_1[f"model_beats_{b}"] is False)
        assert cell["text"].startswith(f"{adp_1[f'{b}_mape']:.1f}%")
    assert row[-2]["text"] == f"{adp_1['coverage_80'] * 100:.0f}%"


def test_charts_without_anything_scored_say_so(result):
    empty = copy.deepcopy(result.detail)
    for kind in ("empirical", "monte_carlo_same_pairs"):
        for c in empty["coverage"][kind].values():
            for share in c["overall"].values():
                share["achieved"] = None
    for share in empty["coverage"]["monte_carlo_all_model_pairs"]["overall"].values():
        share["achieved"] = None
    for s in empty["per_horizon"]:
        s["model"]["mape"] = None
        for versus in s["model_vs"].values():
            versus["baseline_mape"] = None
    bare = Result([], result.provenance, detail=empty)
    with pytest.raises(NothingToDraw, match="no coverage"):
        evaluation.calibration_spec(bare)
    with pytest.raises(NothingToDraw, match="no error"):
        evaluation.error_spec(bare)


def test_too_little_history_is_not_found_with_the_reason(bundled_warehouse, monkeypatch):
    def too_early(*args, **kwargs):
        raise ValueError("no edition with monthly ADP was published on or before 2019-10-31")

    monkeypatch.setattr(evaluation.model_evaluation, "evaluate", too_early)
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        with pytest.raises(NotFound, match="cannot be evaluated: no edition with monthly ADP"):
            evaluation.evaluation(wh)
