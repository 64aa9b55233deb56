"""``project``: what an arrest rate implies for beds, stays, forced releases and removals; goal seeking; the
back-test of the capacity model."""

from __future__ import annotations

from datetime import date

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from icetrack.cli.options import parse_date, parse_number, warehouse
from icetrack.cli.output import console, emit, err_console, fail, table

NUMBER_OPTIONS = ("arrests_per_day", "beds", "stay_days", "days", "share_detained", "runs", "seed",
                  "goal_removals_per_year")


@click.command("project")
@click.option("--arrests-per-day", metavar="N", help="ICE arrests per day in the scenario.")
@click.option("--beds", metavar="B|none",
              help="Detention beds (default: the capacity in force on the start date; 'none': no limit).")
@click.option("--stay-days", metavar="D", help="Mean stay for everyone, days (default: calibrated per agency).")
@click.option("--days", metavar="H", default="365", show_default=True, help="Days to project.")
@click.option("--share-detained", metavar="S", help="Share of ICE arrests booked into detention (default: calibrated).")
@click.option("--runs", metavar="N", default="200", show_default=True, help="Monte Carlo runs.")
@click.option("--seed", metavar="S", default="0", show_default=True, help="Random seed (same seed, same result).")
@click.option("--goal-removals-per-year", metavar="R", help="Solve for what reaches R removals a year instead.")
@click.option("--solve-for", metavar="WHAT", default="arrests_per_day", show_default=True,
              help="With --goal-removals-per-year: arrests_per_day, beds or stay_days.")
@click.option("--backtest", "run_backtest", is_flag=True,
              help="Calibrate on editions published by --through, project to --until, score against later editions.")
@click.option("--evaluate", "run_evaluation", is_flag=True,
              help="Rolling-origin evaluation: the model and four baselines forecast 1-6 months ahead from every "
                   "month end and edition since FY2020, with what was public then; errors, bands' coverage.")
@click.option("--horizons", metavar="M", default="6", show_default=True, help="With --evaluate: months ahead (1-24).")
@click.option("--through", metavar="YYYY-MM-DD",
              help="Calibrate on editions published by this date (default: all; with --backtest 2025-01-31).")
@click.option("--until", metavar="YYYY-MM-DD", help="Back-test: last day projected (default 2025-08-31).")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@click.pass_context
def project(ctx, solve_for, run_backtest, run_evaluation, horizons, through, until, as_json, **options) -> None:
    """What an arrest rate implies for beds, stays, forced releases and removals (Little's law and a daily
    stock-and-flow simulation calibrated on ICE's workbooks), goal seeking, and the back-test."""
    uncapped = (options["beds"] or "").strip().lower() == "none"
    if uncapped:
        options["beds"] = None
    numbers = {name: parse_number(options[name], "--" + name.replace("_", "-")) for name in NUMBER_OPTIONS}
    if uncapped:
        numbers["beds"] = float("inf")
    through_date, until_date = parse_date(through, "--through"), parse_date(until, "--until")
    if run_evaluation:
        months = parse_number(horizons, "--horizons")
        with warehouse(ctx, read_only=True) as wh:
            try:
                result = _evaluate(wh.ibis(), months, numbers)
            except ValueError as e:
                fail(str(e))
        emit(result, _render_evaluation, as_json=as_json)
        return
    with warehouse(ctx, read_only=True) as wh:
        try:
            if run_backtest:
                result = _backtest(wh.ibis(), numbers, through_date, until_date)
            else:
                result = _scenario(wh.ibis(), numbers, solve_for, through_date)
        except ValueError as e:
            fail(str(e))
    if run_backtest:
        emit(result, _render_backtest, as_json=as_json)
    elif numbers["goal_removals_per_year"] is not None:
        emit(result, _render_goal, as_json=as_json)
    else:
        emit(result, _render_projection, as_json=as_json)


def _backtest(con, numbers: dict, through: date | None, until: date | None) -> dict:
    from icetrack.model import capacity as cap

    cap.check_run_options(1, numbers["runs"], numbers["seed"])
    return cap.backtest(con, through=through or date(2025, 1, 31), until=until or date(2025, 8, 31),
                        runs=int(numbers["runs"]), seed=int(numbers["seed"]))


def _evaluate(con, months: float, numbers: dict) -> dict:
    from icetrack.model.evaluation import check_options, evaluate

    if months != int(months):
        raise ValueError(f"--horizons must be a whole number of months, not {months:g}")
    months = int(months)
    check_options(months, numbers["runs"], numbers["seed"])  # before the progress bar draws anything
    with Progress(TextColumn("evaluating origins"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task("origins", total=None)
        return evaluate(con, horizons=int(months), runs=int(numbers["runs"]), seed=int(numbers["seed"]),
                        progress=lambda done, total: progress.update(task, completed=done, total=total))


def _render_evaluation(result: dict) -> None:
    o = result["origins"]
    console.print(f"Rolling-origin evaluation: {o['count']} origins ({o['first']}..{o['last']}; "
                  f"{o['distinct_known_data']} distinct sets of published figures), horizons 1-{result['horizons']} "
                  f"months, {result['runs']} runs, in {result['elapsed_s']:.1f} s", highlight=False)
    methods = ("model", "last_value", "seasonal_naive", "drift", "ets")
    coverage = result["coverage"]["empirical"]
    for target in ("adp", "book_outs", "removals_to_date"):
        cov = {c["horizon"]: c for c in coverage.get(target, {}).get("per_horizon", [])}
        rows = []
        for r in (x for x in result["per_horizon"] if x["target"] == target):
            c = cov.get(r["horizon"], {})
            rows.append((str(r["horizon"]), str(r["n"]),
                         *[_mape(r[m]) for m in methods],
                         f"{r['model']['bias']:+.1f}%" if r["model"]["bias"] is not None else "-",
                         _share(c.get("80")), _share(c.get("95"))))
        columns = ("months ahead", "n", *[f"{m} MAPE" for m in methods], "model bias", "80% band", "95% band")
        console.print(table(columns, rows, right=columns, overflow="fold", title=f"{target}: error by horizon"))
    overall = coverage["all_targets"]["overall"]
    console.print(f"Achieved coverage, all targets: 80% band {_share(overall.get('80'))}, 95% band "
                  f"{_share(overall.get('95'))} ({result['coverage']['method']})", highlight=False)
    for line in result["verdicts"]:
        console.print(f"- {line}", highlight=False, markup=False)


def _mape(s: dict) -> str:
    return "-" if s.get("mape") is None else f"{s['mape']:.1f}%"


def _share(v: dict | None) -> str:
    """An achieved coverage {"n", "inside", "achieved"} as '78% of 40'."""
    if not v or v.get("achieved") is None:
        return "-"
    return f"{100 * v['achieved']:.0f}% of {v['n']}"


def _scenario(con, numbers: dict, solve_for: str, through: date | None) -> dict:
    """Goal seeking (with --goal-removals-per-year) or a projection (with --arrests-per-day), with a progress
    bar when the simulation is long."""
    from icetrack.model import capacity as cap

    cal = cap.calibrate(con, through)
    if numbers["goal_removals_per_year"] is not None:
        return cap.goal_seek(cal, removals_per_year=numbers["goal_removals_per_year"], solve_for=solve_for,
                             arrests_per_day=numbers["arrests_per_day"], beds=numbers["beds"],
                             stay_days=numbers["stay_days"])
    if numbers["arrests_per_day"] is None:
        fail("give --arrests-per-day N (or --goal-removals-per-year R, or --backtest)")
    cap.check_run_options(numbers["days"], numbers["runs"], numbers["seed"])
    with Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=numbers["runs"] * numbers["days"] < 500_000) as progress:
        task = progress.add_task("days", total=int(numbers["days"]))
        return cap.project(cal, arrests_per_day=numbers["arrests_per_day"], beds=numbers["beds"],
                           stay_days=numbers["stay_days"], days=int(numbers["days"]),
                           share_detained=numbers["share_detained"], runs=int(numbers["runs"]),
                           seed=int(numbers["seed"]), progress=lambda n: progress.update(task, completed=n))


def _band(b: dict, digits: int = 0) -> str:
    return f"{b['p50']:,.{digits}f} ({b['p5']:,.{digits}f}-{b['p95']:,.{digits}f})"


def _render_goal(result: dict) -> None:
    console.print(result["message"], highlight=False)
    if result["reachable"]:
        _render_steady_state(result["steady_state"])


def _render_steady_state(ss: dict) -> None:
    i = ss["inputs"]
    f = lambda v, d=0: "no limit" if v is None else f"{v:,.{d}f}"  # noqa: E731
    beds_source = "given" if i["beds_source"] == "given" else (
        f"funded beds ({i['beds_source']['file_name']}, {i['beds_source']['period_start']}.."
        f"{i['beds_source']['period_end']})")
    rows = [
        ("admissions per day", f(ss["admissions_per_day"]),
         f"ICE {i['admissions_per_day']['ICE']:,.0f} (arrests {i['arrests_per_day']:,.0f} x share detained "
         f"{i['share_detained']:.3f}) + CBP {i['admissions_per_day']['CBP']:,.0f}"),
        ("mean stay, days", f(ss["mean_stay_days"], 1),
         f"ICE {i['stay_days']['ICE']:.1f}, CBP {i['stay_days']['CBP']:.1f}: {i['stay_source']}"),
        ("beds", f(i["beds"]), beds_source),
        ("beds needed", f(ss["beds_needed"]), "admissions x mean stay"),
        ("sustainable admissions per day", f(ss["sustainable_admissions_per_day"]), "beds / mean stay"),
        ("sustainable ICE arrests per day", f(ss["sustainable_arrests_per_day"]),
         "arrests the beds hold beside the CBP admissions"),
        ("forced releases per day", f(ss["forced_releases_per_day"]), "admissions beyond the sustainable rate"),
        ("population", f(ss["population"]), "held admissions x mean stay"),
        ("removals per year", f(ss["removals_per_year"]),
         f"365 x (held x removal share {i['removal_share_of_book_outs']:.1%} + other removals "
         f"{i['other_removals_per_day']:,.0f}/day)"),
    ]
    console.print(table(("", "value", "how"), rows, right={"value"}, overflow="fold",
                        title="Steady state (Little's law)"))


def _render_projection(result: dict) -> None:
    cal, i, t = result["calibration"], result["inputs"], result["totals"]
    console.print(f"Calibrated on {cal['window'][0]}..{cal['window'][-1]} (data as of {cal['as_of']}, "
                  f"{len(cal['editions'])} editions: icetrack project ... --json lists them); projection "
                  f"{i['start']}..{i['end']}, {i['runs']} runs, seed {i['seed']}", highlight=False)
    _render_steady_state(result["steady_state"])
    columns = ("month", "ADP", "ADP 5-95%", "admissions", "forced releases", "removals from detention")
    rows = [(m["month"] + ("" if m["complete"] else f" ({m['days']} d)"), f"{m['population']['p50']:,.0f}",
             f"{m['population']['p5']:,.0f}-{m['population']['p95']:,.0f}", f"{m['admissions']['p50']:,.0f}",
             f"{m['forced_releases']['p50']:,.0f}", f"{m['removals_from_detention']['p50']:,.0f}")
            for m in result["monthly"]]
    console.print(table(columns, rows, right=columns[1:],
                        title="Projection by month (medians of the runs; bands in --json)"))
    beds = result["capacity"]["beds"]
    console.print(f"Beds: {'no limit' if beds is None else f'{beds:,.0f}'} ({result['capacity']['source']})",
                  highlight=False, markup=False)
    if result["capacity"]["above_cap_at_start"]:
        console.print(result["capacity"]["above_cap_at_start"], highlight=False, markup=False)
    console.print(f"Over {t['days']} days: removals per year {_band(t['removals_per_year'])}; arrivals turned "
                  f"away (forced releases) {_band(t['forced_releases'])}", highlight=False)


def _render_backtest(result: dict) -> None:
    console.print(f"Back-test: calibrated on editions published by {result['through']} "
                  f"({result['calibration']['window'][0]}..{result['calibration']['window'][-1]}), projected to "
                  f"{result['until']}; naive = ADP {result['naive']['adp']:,.0f} ({result['naive']['month']}) "
                  "carried forward", highlight=False)
    columns = ("month", "horizon", "actual ADP", "model", "model 5-95%", "model error", "naive error")
    for name, mode in result["modes"].items():
        rows = [(r["month"], str(r["horizon_months"]), f"{r['actual']:,.0f}", f"{r['model']['p50']:,.0f}",
                 f"{r['model']['p5']:,.0f}-{r['model']['p95']:,.0f}", f"{r['model_error_pct']:+.1f}%",
                 f"{r['naive_error_pct']:+.1f}%") for r in mode["adp"]["per_horizon"]]
        console.print(table(columns, rows, right=columns[1:], title=f"{name}: {mode['description']}"))
        for what in ("adp", "book_outs", "removals_from_detention", "removals_to_date"):
            e = mode[what]
            if e["n"]:
                console.print(f"  {what}: model MAPE {e['model']['mape']:.1f}% bias {e['model']['bias']:+.1f}%; naive "
                              f"MAPE {e['naive']['mape']:.1f}% bias {e['naive']['bias']:+.1f}%", highlight=False)
    for note in result["notes"]:
        console.print(f"- {note}", highlight=False, markup=False)
