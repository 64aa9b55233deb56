"""How far the capacity model's projections can be trusted: the rolling-origin evaluation of
:mod:`icetrack.model.evaluation` as a table (per target and horizon), a calibration chart (nominal against
achieved coverage of the prediction bands) and an error chart (MAPE by horizon, model against baselines).

The evaluation takes seconds: a caller that already holds it passes it as ``evaluated``; nothing is cached here.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from icetrack.figures.charts import NothingToDraw, WIDTH, title
from icetrack.figures.ledger_tables import definition_items
from icetrack.figures.result import NotFound, Result, provenance
from icetrack.model import evaluation as model_evaluation

RUNS = 200  # Monte Carlo runs per forecast: the evaluation takes 5-15 s with them on the bundled data (2 cores)
WORKBOOK_SOURCE = "ice_detention_workbook"
ALL_TARGETS = "all_targets"
BASELINE_LABELS = {"last_value": "last value", "seasonal_naive": "seasonal naive", "drift": "drift", "ets": "ETS"}
EMPIRICAL = "empirical bands (earlier origins' errors)"
MONTE_CARLO = "Monte Carlo bands (model runs)"
MONTE_CARLO_ALL = "all targets, every model forecast"


def target_label(target: str) -> str:
    if target == ALL_TARGETS:
        return "all targets"
    return model_evaluation.TARGET_NAMES.get(target, target)


def baseline_label(name: str) -> str:
    return BASELINE_LABELS.get(name, name.replace("_", " "))


def baselines(evaluated: dict[str, Any]) -> list[str]:
    """The baselines the evaluation scored, in its order."""
    return [name for name in evaluated["baselines"] if name != "model"]


def evaluate(wh, *, runs: int = RUNS) -> dict[str, Any]:
    """The rolling-origin evaluation over ``wh`` (seconds: compute it once and pass it on)."""
    return model_evaluation.evaluate(wh.ibis(), runs=runs)


def _horizon_coverage(coverage: dict[str, Any], horizon: Any, level: str) -> dict[str, Any]:
    """{n, inside, achieved} of one band level at one horizon (n=0 when no forecast of it had a band)."""
    for row in coverage.get("per_horizon", []):
        if row["horizon"] == horizon:
            return row[level]
    return {"n": 0, "inside": 0, "achieved": None}


def _row(evaluated: dict[str, Any], s: dict[str, Any]) -> dict[str, Any]:
    """One flat row of the table: a target at a horizon (or over all horizons)."""
    coverage = evaluated["coverage"]
    horizon = s["horizon"]

    def share(band: dict[str, Any], level: str) -> dict[str, Any]:
        if horizon == "all":
            return band.get("overall", {}).get(level) or {"n": 0, "achieved": None}
        return _horizon_coverage(band, horizon, level)

    empirical = coverage["empirical"].get(s["target"], {})
    monte_carlo = coverage["monte_carlo_same_pairs"].get(s["target"], {})
    row = {"target": s["target"], "horizon": horizon, "n": s["n"], "model_n": s["model"]["n"],
           "model_mape": s["model"]["mape"], "model_bias": s["model"]["bias"]}
    for name in baselines(evaluated):
        versus = s["model_vs"][name]
        row |= {f"{name}_mape": versus["baseline_mape"], f"{name}_n": versus["n"],
                f"{name}_model_mape": versus["model_mape"], f"model_beats_{name}": versus["model_beats"],
                f"{name}_mape_all_forecasts": s[name]["mape"], f"{name}_n_all_forecasts": s[name]["n"]}
    row |= {"coverage_n": share(empirical, "80")["n"], "coverage_80": share(empirical, "80")["achieved"],
            "coverage_95": share(empirical, "95")["achieved"],
            "monte_carlo_coverage_80": share(monte_carlo, "80")["achieved"],
            "monte_carlo_coverage_95": share(monte_carlo, "95")["achieved"]}
    return row


def table_rows(evaluated: dict[str, Any], *, all_horizons: bool = False) -> list[dict[str, Any]]:
    """The evaluation per target and horizon (``all_horizons``: per target over every horizon) as flat rows.

    ``<baseline>_mape`` is the baseline's MAPE on the forecasts the model also made (``<baseline>_n`` of them,
    the model's MAPE on those being ``<baseline>_model_mape``), the comparison ``model_beats_<baseline>``
    rests on; ``<baseline>_mape_all_forecasts`` is over every forecast the baseline made, including origins
    where the model could not be calibrated. Coverage: the share of the model's forecasts with an empirical
    band whose actual lay inside it (``coverage_n`` forecasts), and of the Monte Carlo bands on the same ones.
    """
    return [_row(evaluated, s) for s in evaluated["per_target" if all_horizons else "per_horizon"]]


def evaluation(wh, *, evaluated: dict[str, Any] | None = None) -> Result:
    """The rolling-origin evaluation of the capacity model (``evaluated``: :func:`evaluate`'s answer, when
    already computed). Rows: per target and horizon; detail: the whole evaluation. NotFound when the warehouse
    holds too little published history to evaluate (the message says what is missing)."""
    if evaluated is None:
        try:
            evaluated = evaluate(wh)
        except ValueError as e:
            raise NotFound(f"the capacity model cannot be evaluated: {e}") from None
    editions = wh.editions()
    workbooks = editions.edition_id[editions.source == WORKBOOK_SOURCE]
    return Result(table_rows(evaluated), provenance(wh, workbooks, evaluated["definitions"]), detail=evaluated)


def _pct(v: float | None, digits: int = 1) -> str:
    return "–" if v is None else f"{v:.{digits}f}%"


def _cells(evaluated: dict[str, Any], r: dict[str, Any]) -> list[dict[str, Any]]:
    model = "–" if r["model_mape"] is None else f"{r['model_mape']:.1f}% ({r['model_bias']:+.1f}%)"
    cells = [{"text": target_label(r["target"]), "left": True}, {"text": str(r["horizon"])},
             {"text": str(r["n"])}, {"text": str(r["model_n"])}, {"text": model}]
    for b in baselines(evaluated):
        text = _pct(r[f"{b}_mape"])
        if r[f"{b}_mape"] is not None and r[f"{b}_n"] != r["model_n"]:
            text += f" (n={r[f'{b}_n']}, model {_pct(r[f'{b}_model_mape'])})"
        cells.append({"text": text, "strong": r[f"model_beats_{b}"] is False})
    cells.append({"text": str(r["coverage_n"])})
    for level in ("80", "95"):
        share = r[f"coverage_{level}"]
        cells.append({"text": _pct(None if share is None else share * 100, 0)})
    return cells


def display_table(evaluated: dict[str, Any]) -> dict[str, Any]:
    """The table a page shows, one row per target and horizon, as text cells (``strong``: a baseline whose MAPE
    is lower than the model's on the same forecasts)."""
    columns = ["target", "horizon (months)", "forecasts scored", "model forecasts", "model MAPE (bias)",
               *[f"{baseline_label(b)} MAPE" for b in baselines(evaluated)], "forecasts with a band",
               "80% band held", "95% band held"]
    return {"columns": columns, "rows": [_cells(evaluated, r) for r in table_rows(evaluated)],
            "note": ("MAPE in %. A baseline's MAPE is on the forecasts the model also made (when fewer, their "
                     "number and the model's MAPE on them are given); bold: the baseline beats the model there. "
                     "Band held: the share of the model's forecasts with an empirical band (from the errors of "
                     "earlier origins) whose actual value lay inside it; a calibrated band holds about its "
                     "nominal share.")}


def summary(result: Result) -> dict[str, Any]:
    """What a page shows of the evaluation besides its charts: origins, verdicts, coverage, table, method."""
    d = result.detail
    return {"origins": d["origins"], "horizons": d["horizons"], "runs": d["runs"], "seed": d["seed"],
            "verdicts": d["verdicts"], "coverage": coverage_sentence(d), "table": display_table(d),
            "model": d["baselines"].get("model"),
            "baselines": [(b, baseline_label(b), d["baselines"][b]) for b in baselines(d)],
            "method": d["coverage"]["method"], "definitions": definition_items(d["definitions"])}


# -- charts ---------------------------------------------------------------------------------------------------
def coverage_points(evaluated: dict[str, Any]) -> pd.DataFrame:
    """Nominal against achieved coverage: per band kind (empirical, Monte Carlo on the same forecasts, Monte
    Carlo on every model forecast), per target and for all targets, per level."""
    coverage = evaluated["coverage"]
    groups = [(EMPIRICAL, t, target_label(t), c) for t, c in coverage["empirical"].items()]
    groups += [(MONTE_CARLO, t, target_label(t), c) for t, c in coverage["monte_carlo_same_pairs"].items()]
    groups.append((MONTE_CARLO, ALL_TARGETS, MONTE_CARLO_ALL, coverage["monte_carlo_all_model_pairs"]))
    rows = []
    for band, target, label, c in groups:
        for level, nominal in c.get("nominal", {}).items():
            share = c["overall"][level]
            if share["achieved"] is not None:
                rows.append({"band": band, "target": target, "series": label, "level": f"{level}%",
                             "nominal": nominal, "achieved": share["achieved"], "n": share["n"],
                             "inside": share["inside"]})
    return pd.DataFrame(rows)


def _overall(evaluated: dict[str, Any], kind: str, level: str) -> dict[str, Any]:
    c = evaluated["coverage"][kind]
    return c.get(ALL_TARGETS, c)["overall"][level]  # monte_carlo_all_model_pairs is not split by target


def coverage_sentence(evaluated: dict[str, Any]) -> str:
    """The achieved coverage of the 80% and 95% bands over all targets, empirical and Monte Carlo."""
    def pct(kind: str, level: str) -> str:
        share = _overall(evaluated, kind, level)
        return "–" if share["achieved"] is None else f"{share['achieved'] * 100:.0f}% of {share['n']}"

    return (f"Over all targets and horizons the empirical 80% bands held the actual value in {pct('empirical', '80')} "
            f"forecasts and the 95% bands in {pct('empirical', '95')}; the Monte Carlo bands of the same forecasts "
            f"in {pct('monte_carlo_same_pairs', '80')} and {pct('monte_carlo_same_pairs', '95')} (of every model "
            f"forecast: {pct('monte_carlo_all_model_pairs', '80')} and "
            f"{pct('monte_carlo_all_model_pairs', '95')}). A calibrated band holds about its nominal share.")


def calibration_spec(result: Result) -> alt.HConcatChart:
    """Nominal (80%, 95%) against achieved coverage, per target and all targets, beside the diagonal: left the
    empirical bands, right the Monte Carlo bands of the same forecasts (and of every model forecast)."""
    points = coverage_points(result.detail)
    if points.empty:
        raise NothingToDraw("no model forecast had a band to score: no coverage to draw")
    low = 0.7
    diagonal = pd.DataFrame({"nominal": [low, 1.0], "achieved": [low, 1.0]})
    x = alt.X("nominal:Q", title="nominal coverage", scale=alt.Scale(domain=[low, 1.0]),
              axis=alt.Axis(format=".0%", values=[0.8, 0.95]))
    y = alt.Y("achieved:Q", title="achieved coverage", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%"))
    colour = alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom", columns=3),
                       sort=["all targets", *[target_label(t) for t in model_evaluation.TARGETS], MONTE_CARLO_ALL])
    tooltip = ["series:N", "band:N", "level:N", alt.Tooltip("achieved:Q", format=".1%"), "inside:Q", "n:Q"]

    def panel(band: str) -> alt.LayerChart:
        data = points[points.band == band]
        line = alt.Chart(diagonal).mark_line(color="#888", strokeDash=[4, 3]).encode(x=x, y=y)
        drawn = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=60, filled=True)).encode(
            x=x, y=y, color=colour, detail="series:N", tooltip=tooltip)
        return alt.layer(line, drawn).properties(width=WIDTH // 2 - 40, height=260, title=band)

    d = result.detail
    return alt.hconcat(panel(EMPIRICAL), panel(MONTE_CARLO)).properties(title=title(
        "Prediction bands: nominal against achieved coverage",
        f"{d['origins']['count']} origins from {d['origins']['first']} to {d['origins']['last']}, scored against the "
        "latest vintage.", "Dashed: a band that holds exactly its nominal share; below it, the bands are too narrow."))


def error_points(evaluated: dict[str, Any]) -> pd.DataFrame:
    """MAPE by target and horizon: the model over its forecasts, each baseline over the same forecasts."""
    rows = []
    for s in evaluated["per_horizon"]:
        common = {"target": target_label(s["target"]), "horizon": s["horizon"]}
        if s["model"]["mape"] is not None:
            rows.append({**common, "method": "model", "mape": s["model"]["mape"], "n": s["model"]["n"]})
        for name in baselines(evaluated):
            versus = s["model_vs"][name]
            if versus["baseline_mape"] is not None:
                rows.append({**common, "method": baseline_label(name), "mape": versus["baseline_mape"],
                             "n": versus["n"]})
    return pd.DataFrame(rows)


def error_spec(result: Result) -> alt.FacetChart:
    """MAPE by horizon (months after the last known month), model against each baseline, one panel per target."""
    data = error_points(result.detail)
    if data.empty:
        raise NothingToDraw("no forecast was scored: no error to draw")
    methods = ["model", *[baseline_label(b) for b in baselines(result.detail)]]
    colour = alt.Color("method:N", title=None, legend=alt.Legend(orient="bottom"), scale=alt.Scale(
        domain=methods, range=["#1d1d1f", "#b9770e", "#7f8c8d", "#1f5a96", "#27ae60"][:len(methods)]))
    dash = alt.StrokeDash("method:N", legend=None, scale=alt.Scale(
        domain=methods, range=[[1, 0]] + [[4, 3]] * (len(methods) - 1)))
    chart = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=30, filled=True)).encode(
        x=alt.X("horizon:Q", title="horizon (months ahead)",
                axis=alt.Axis(values=sorted(data.horizon.unique().tolist()), format="d"),
                scale=alt.Scale(domain=[1, int(result.detail.get("horizons") or data.horizon.max())])),
        y=alt.Y("mape:Q", title="MAPE (%)"), color=colour, strokeDash=dash,
        tooltip=["target:N", "horizon:Q", "method:N", alt.Tooltip("mape:Q", format=".1f", title="MAPE (%)"), "n:Q"])
    order = [target_label(t) for t in model_evaluation.TARGETS]
    return chart.properties(width=WIDTH // 3 - 20, height=220).facet(
        column=alt.Column("target:N", title=None, sort=order)).properties(title=title(
            "Forecast error by horizon: the capacity model against the baselines",
            "Horizon: months after the last month known at the origin. Lower is better.",
            "MAPE of the model's forecasts; each baseline's MAPE on the same forecasts (the ones the model made)."))
