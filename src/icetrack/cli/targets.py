"""Daily series against the announced targets: ``targets`` (the ledger), ``chart`` (one chart as PNG/SVG) and
``report`` (the offline HTML report)."""

from __future__ import annotations

from pathlib import Path

import click

from icetrack.cli.options import parse_date, warehouse
from icetrack.cli.output import console, emit, fail, say, table

LEDGER_COLUMNS = ("target", "per day", ">=low", ">=high", "shortfall", "shifted", "pace needed")
PERIOD_COLUMNS = ("period", "days", "per day", "interval", "target in force", "attainment", "gap/day")
GRAIN_CHOICES = ("day", "week", "month", "fytd")


@click.command()
@click.option("--grain", type=click.Choice(GRAIN_CHOICES), default="month", show_default=True,
              help="Periods the series are read at (a monthly series cannot be read per day or week).")
@click.option("--target", "target_ids", multiple=True, metavar="ID", help="Only this target (repeatable).")
@click.option("--series", "series_ids", multiple=True, metavar="ID",
              help="Only this ledger series (repeatable), e.g. book_ins.ice_arrested, arrests.estimated.")
@click.option("--since", metavar="YYYY-MM-DD", help="Leave out periods ending before this day.")
@click.option("--by", "by", metavar="YYYY-MM-DD",
              help="Horizon for 'pace needed' (default: end of the fiscal year of the last covered day).")
@click.option("--daily-summary", is_flag=True,
              help="The daily series' summary instead (both date readings of ICE's posts, weekday/weekend).")
@click.option("--json", "as_json", is_flag=True, help="Print the full ledger as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print one row per series, target track and period as CSV.")
@click.pass_context
def targets(ctx: click.Context, grain: str, target_ids: tuple[str, ...], series_ids: tuple[str, ...],
            since: str | None, by: str | None, daily_summary: bool, as_json: bool, as_csv: bool) -> None:
    """Score every series, period by period, against the target in force (the targets ledger over time)."""
    from icetrack.figures import arrests
    from icetrack.figures import ledger as targets_ledger
    from icetrack.metrics.ledger import LedgerError

    by_date, since_date = parse_date(by, "--by"), parse_date(since, "--since")
    with warehouse(ctx, read_only=True) as wh:
        if daily_summary:
            summary = arrests.ledger(arrests.targets(wh, by=by_date))
            emit(summary, lambda doc: _render_daily_summary(doc, by), as_json=as_json)
            return
        try:
            result = targets_ledger.ledger(wh, grain, series=list(series_ids) or None,
                                           targets=list(target_ids) or None, by=by_date, since=since_date)
        except LedgerError as e:
            fail(str(e))
    emit(targets_ledger.document(result), _render_ledger, as_json=as_json, as_csv=as_csv, csv_rows=result.rows,
         csv_fields=targets_ledger.ROW_FIELDS)


def _render_ledger(doc: dict) -> None:
    for s in doc["series"]:
        bridge = f"; bridge {s['bridge']['bridge']}" if s["bridge"] else ""
        console.print(f"\n[bold]{s['label']}[/bold] ({s['series_id']}, {s['reading_text']}{bridge}), "
                      f"{doc['grain_text']}, {s['first_day']}..{s['last_day']}"
                      + (f"; missing periods: {', '.join(s['missing_periods'])}" if s["missing_periods"] else ""),
                      highlight=False)
        for t in s["targets"]:
            console.print(f"  track [bold]{t['track']}[/bold] ({t['kind']}, {t['comparison']}): first period at or "
                          f"above the low end: {t['first_period_at_or_above_low']}"
                          + (f"; cumulative shortfall since in force: {t['cumulative_shortfall_low']:,.0f}"
                             if t.get("cumulative_shortfall_low") is not None else "")
                          + (f"; pace needed by {t['pace']['pace_by']}: {t['pace']['pace_needed_low']:,.0f}/day"
                             if t.get("pace") and t["pace"].get("pace_needed_low") is not None else ""),
                          highlight=False)
            rows = [_period_row(p) for p in t["periods"] if p["days_in_force"]]
            if rows:
                console.print(table(PERIOD_COLUMNS, rows, right=PERIOD_COLUMNS[1:3] + PERIOD_COLUMNS[5:],
                                    overflow="fold", show_lines=False))
    for s in doc["not_readable"]:
        console.print(f"{s['series_id']}: published per {s['native_grain']}, not readable per {doc['grain']} "
                      f"(try --grain {' or '.join(s['readable_grains'])})", highlight=False)
    console.print("\nper day = the period's total / the days it covers (levels: the mean); attainment = per day / "
                  "the target in force; gap/day = target - per day. Definitions: icetrack targets --json",
                  highlight=False)


def _period_row(p: dict) -> tuple[str, ...]:
    band = ("-" if p["per_day_low"] is None else f"{p['per_day_low']:,.0f}-{p['per_day_high']:,.0f}")
    target = (f"{p['target_low']:,.0f}" if p["target_low"] == p["target_high"]
              else f"{p['target_low']:,.0f}-{p['target_high']:,.0f}")
    return (p["period_start"], str(p["days_in_force"]), "-" if p["per_day"] is None else f"{p['per_day']:,.1f}", band,
            f"{target} ({', '.join(p['in_force'])})",
            "-" if p["attainment_low_pct"] is None else f"{p['attainment_low_pct']:,.1f}%",
            "-" if p["gap_per_day_low"] is None else f"{p['gap_per_day_low']:,.1f}")


def _target_row(t: dict) -> tuple[str, ...]:
    a, b = t["as_published"], t["shifted_back_one_day"]
    rng = f"{t['value_low']:,.1f}" if t["value_low"] == t["value_high"] else f"{t['value_low']:,}-{t['value_high']:,}"
    pace = "-" if a["pace_needed_low"] is None else f"{a['pace_needed_low']:,.1f}"
    name = t["target_id"] + (" (baseline)" if t["kind"] == "baseline" else "")
    return (name, rng, str(a["days_meeting_low"]), str(a["days_meeting_high"]), f"{a['shortfall_low']:,.0f}",
            f"{b['shortfall_low']:,.0f}", pace)


def _render_daily_summary(ledger: dict, by: str | None) -> None:
    for s in ledger["series"]:
        p, sh = s["variants"]["as_published"], s["variants"]["shifted_back_one_day"]
        console.print(f"\n[bold]{s['label']}[/bold] ({s['measure']}{', ' + s['dims_key'] if s['dims_key'] else ''}): "
                      f"{p['days_covered']} days {p['first_day']}..{p['last_day']}, total {p['total']:,}, "
                      f"mean {p['mean']:,.1f}, max {p['max']:,} on {', '.join(p['max_dates'])} "
                      f"({', '.join(sh['max_dates'])} shifted), min {p['min']:,} on {', '.join(p['min_dates'])}")
        console.print(table(LEDGER_COLUMNS, [_target_row(t) for t in s["targets"]], right=LEDGER_COLUMNS[1:],
                            overflow="fold", show_lines=False))
    console.print("\nshortfall = low end x days covered - total (shifted: dates moved back one day); "
                  f"pace needed = daily rate from the day after the series ends to {by or 'the end of the next month'} "
                  "for the whole window to average the low end. Definitions: icetrack targets --daily-summary --json",
                  highlight=False)


@click.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("icetrack-report.html"),
              show_default=True, help="Where to write the self-contained HTML page.")
@click.option("--by", "by", metavar="YYYY-MM-DD", help="Horizon for 'pace needed'.")
@click.pass_context
def report(ctx: click.Context, out: Path, by: str | None) -> None:
    """Write the offline HTML report (charts, attainment table, definitions, numbered sources)."""
    from icetrack.report.build import write_report

    by_date = parse_date(by, "--by")
    with warehouse(ctx, read_only=True) as wh:
        write_report(wh, out, by=by_date)
    say(f"report written to {out.resolve()}")


@click.command()
@click.argument("name", type=click.Choice(["daily-vs-target"]))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file; the format follows the extension (.png or .svg).")
@click.option("--measure", default="ice_posted_arrests", show_default=True)
@click.pass_context
def chart(ctx: click.Context, name: str, out: Path, measure: str) -> None:
    """Export one chart as PNG or SVG."""
    from icetrack.figures import arrests
    from icetrack.figures.charts import save, spec
    from icetrack.figures.result import NotFound

    if out.suffix.lower() not in (".png", ".svg"):
        fail(f"{out}: the chart format follows the extension; use .png or .svg")
    with warehouse(ctx, read_only=True) as wh:
        try:
            daily = arrests.daily(wh, measure)
        except NotFound:
            fail(f"no daily observations of {measure} in the warehouse")
    try:
        save(spec(arrests.spec(daily)), out)
    except ValueError as e:
        fail(str(e) or f"no daily series of {measure}")
    say(f"chart written to {out.resolve()}")
