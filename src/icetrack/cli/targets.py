"""Daily series against the announced targets: ``targets`` (the ledger), ``chart`` (one chart as PNG/SVG) and
``report`` (the offline HTML report)."""

from __future__ import annotations

from pathlib import Path

import click

from icetrack.cli.options import parse_date, warehouse
from icetrack.cli.output import console, emit, fail, say, table

LEDGER_COLUMNS = ("target", "per day", ">=low", ">=high", "shortfall", "shifted", "pace needed")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the full ledger as JSON.")
@click.option("--by", "by", metavar="YYYY-MM-DD",
              help="Horizon for 'pace needed' (default: end of the month after the series ends).")
@click.pass_context
def targets(ctx: click.Context, as_json: bool, by: str | None) -> None:
    """Score every daily series against every target that counts the same thing."""
    from icetrack.figures import arrests

    by_date = parse_date(by, "--by")
    with warehouse(ctx, read_only=True) as wh:
        ledger = arrests.ledger(arrests.targets(wh, by=by_date))
    emit(ledger, lambda ledger: _render_ledger(ledger, by), as_json=as_json)


def _target_row(t: dict) -> tuple[str, ...]:
    a, b = t["as_published"], t["shifted_back_one_day"]
    rng = f"{t['value_low']:,.1f}" if t["value_low"] == t["value_high"] else f"{t['value_low']:,}-{t['value_high']:,}"
    pace = "-" if a["pace_needed_low"] is None else f"{a['pace_needed_low']:,.1f}"
    name = t["target_id"] + (" (baseline)" if t["kind"] == "baseline" else "")
    return (name, rng, str(a["days_meeting_low"]), str(a["days_meeting_high"]), f"{a['shortfall_low']:,.0f}",
            f"{b['shortfall_low']:,.0f}", pace)


def _render_ledger(ledger: dict, by: str | None) -> None:
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
                  "for the whole window to average the low end. Definitions: icetrack targets --json", highlight=False)


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
