"""The figures' chart specs: one builder per figure, with the fixes a reader of the report asked for - whole
legend labels, a year on every month axis, no overlapping month labels, and no value drawn for a month or a
cell that has no figure."""

from __future__ import annotations

import json

import pandas as pd

import pytest

from icetrack.figures import arrests, capacity, charts, detention, outcomes
from icetrack.figures.result import Result
from icetrack.warehouse import open_warehouse


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    """The bundled reference data (national workbook figures, targets, daily posts) in a fresh warehouse."""
    with open_warehouse(tmp_path_factory.mktemp("figures") / "wh.duckdb") as w:
        yield w


@pytest.fixture(scope="module")
def detention_specs(wh) -> dict[str, dict]:
    t = {name: detention.table(wh, name) for name in detention.TABLES}
    return {"book_ins": charts.spec(detention.book_ins_spec(t["book_ins"])),
            "book_outs": charts.spec(detention.book_outs_spec(t["book_outs"], t["removal_share"])),
            "detained": charts.spec(detention.detained_spec(t["detained"], t["adp"], t["funded_beds"])),
            "alos": charts.spec(detention.alos_spec(detention.alos(wh))),
            "removals_to_date": charts.spec(detention.removals_to_date_spec(t["removals_to_date"]))}


def _walk(node, key: str):
    """Every value of ``key`` anywhere in a spec."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from _walk(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)


def _time_x_axes(spec: dict) -> list[dict]:
    return [x.get("axis") or {} for x in _walk(spec, "x") if isinstance(x, dict) and x.get("type") == "temporal"]


def _data_rows(spec: dict) -> list[dict]:
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


@pytest.mark.parametrize("name", ["book_ins", "book_outs", "detained", "alos", "removals_to_date"])
def test_month_axes_name_the_year_and_drop_overlapping_labels(detention_specs, name):
    axes = _time_x_axes(detention_specs[name])
    assert axes
    for axis in axes:
        assert "%Y" in axis["format"] and axis["labelOverlap"]
    assert detention_specs[name]["config"]["axis"]["labelOverlap"]


def test_book_outs_axis_has_few_labels(detention_specs):
    axes = _time_x_axes(detention_specs["book_outs"])
    assert len(axes) == 2 and all(a["tickCount"] <= 12 and a["labelOverlap"] == "greedy" for a in axes)


def test_legend_labels_are_not_cut(detention_specs):
    longest = max(len(str(v)) for spec in detention_specs.values() for row in _data_rows(spec)
                  for k, v in row.items() if k in ("series", "share", "agency", "outcome", "fiscal_year"))
    assert longest >= len("average daily population (month)")
    for spec in detention_specs.values():
        # about 7 pixels per character at the default 10-11 px legend font
        assert spec["config"]["legend"]["labelLimit"] >= 7 * longest


def test_missing_values_are_left_out_not_drawn_at_zero(detention_specs, wh):
    for spec in detention_specs.values():
        assert spec["config"]["mark"]["invalid"] == "filter"
        assert not list(_walk(spec, "impute"))
    # partial months are left out of the book-ins chart, not drawn as zero
    book_ins = detention.table(wh, "book_ins")
    partial = {(r["month"], r["agency"]) for r in book_ins.rows if r["partial"]}
    drawn = {(r["month"][:10], r["agency"]) for r in _data_rows(detention_specs["book_ins"])}
    assert partial and not partial & drawn
    assert all(r["value"] is None or r["value"] > 0 for r in _data_rows(detention_specs["book_ins"]))


def _funnel(cells: dict[str, dict[str, int | None]]) -> Result:
    """A published funnel of two month cohorts; a count of None is a suppressed cell."""
    states = ["removed", "released"]
    rows = [{"cohort": cohort, "group": "all",
             **{s: {"count": n, "share": None if n is None else n / 100, "status": "published"}
                for s, n in counts.items()}} for cohort, counts in cells.items()]
    result = {"period": "month", "breakdown": None, "threshold": 10, "states": states, "synthetic": True,
              "releases": [{"release_id": "r", "cutoff": "2025-03-31", "rows": rows, "audit": {}}]}
    return Result([{"group": "all"}], {"editions": [], "synthetic": True}, detail={"result": result},
                  person_level=True)


def test_suppressed_cells_are_not_drawn_as_zero():
    spec = charts.spec(outcomes.funnel_spec(_funnel({"2025-01-01": {"removed": 60, "released": 40},
                                                     "2025-02-01": {"removed": 95, "released": None}})))
    rows = _data_rows(spec)
    assert {(r["cohort"][:7], r["state"]) for r in rows} == {("2025-01", "removed"), ("2025-01", "released"),
                                                             ("2025-02", "removed")}
    assert all(r["share"] > 0 for r in rows)
    assert spec["mark"]["type"] == "bar"  # a stacked area would interpolate the suppressed cell down to zero
    assert "%Y" in _time_x_axes(spec)[0]["format"]


def test_every_figure_with_nothing_to_draw_says_so():
    with pytest.raises(charts.NothingToDraw):
        outcomes.funnel_spec(_funnel({"2025-01-01": {"removed": None, "released": None}}))
    with pytest.raises(charts.NothingToDraw):
        detention.book_ins_spec(Result([], {"editions": []}))


def test_daily_chart_draws_the_targets_it_can_and_names_the_rest(wh):
    spec = charts.spec(arrests.spec(arrests.daily(wh, "ice_posted_arrests", 1)))
    text = json.dumps(spec)
    assert "moved back 1 day" in text and "target low end 1,200/day" in text and "Not drawn (off scale)" in text


def test_projection_and_backtest_month_axes(wh):
    cal = capacity.calibrate(wh)
    proj = capacity.projection(wh, 1200, 41_500, days=120, calibrated=cal)
    spec = charts.spec(capacity.projection_spec(proj))
    assert all("%Y" in a["format"] for a in _time_x_axes(spec))
    assert proj.detail["reported_adp"] and proj.provenance["editions"]


def test_a_chart_renders_to_a_real_png(detention_specs, tmp_path):
    out = charts.save(detention_specs["book_outs"], tmp_path / "book_outs.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    svg = charts.render(detention_specs["book_ins"], "svg")
    assert "Oct 2024" in svg or "Jan 2025" in svg  # month labels carry their year
    assert "October<" not in svg


def test_a_month_with_no_figure_breaks_the_line():
    frame = pd.DataFrame({"month": pd.to_datetime(["2025-07-01", "2025-08-01", "2025-10-01", "2025-11-01",
                                                   "2025-07-01", "2025-09-01"]),
                          "agency": ["ICE"] * 4 + ["CBP"] * 2, "value": [1, 2, 3, 4, 5, 6]})
    runs = charts.gap_runs(frame, "month", ["agency"])
    by_agency = {a: list(g.run) for a, g in runs.groupby("agency")}
    assert by_agency == {"ICE": [0, 0, 1, 1], "CBP": [0, 1]}  # Sep 2025 missing for ICE, Aug for CBP
    assert len(runs) == len(frame)  # nothing imputed


def test_line_charts_draw_each_unbroken_run_apart(detention_specs):
    # The latest vintage has no complete September 2025 (the FY2025 year-end edition is not in the bundle):
    # the removal-share line stops at August and starts again in October.
    spec = detention_specs["book_outs"]
    assert any(d == {"field": "run", "type": "nominal"} for d in _walk(spec, "detail"))
    share = [r for r in _data_rows(spec) if r.get("share") == "removal_share"]
    months = {r["month"][:7]: r["run"] for r in share}
    assert "2025-09" not in months and months["2025-10"] == months["2025-08"] + 1
    for name in ("book_ins", "detained", "alos", "removals_to_date"):
        assert any(d == {"field": "run", "type": "nominal"} for d in _walk(detention_specs[name], "detail")), name
