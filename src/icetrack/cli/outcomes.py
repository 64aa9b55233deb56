"""``outcomes``: what happened to the people arrested - the funnel, time to removal or release (``km``,
``cif``), flows per period, and the aggregate funnel from ICE's workbooks."""

from __future__ import annotations

import click
from rich.markup import escape

from icetrack.cli.options import AS_CSV, AS_JSON, BREAKDOWN, ENGINE, SPARK_MASTER, THRESHOLD, warehouse
from icetrack.cli.output import console, emit, table


@click.group()
def outcomes() -> None:
    """What happened to the people arrested: funnel, time to removal/release, flows."""


def _person_tables(wh, engine: str, master: str | None):
    from icetrack.warehouse.engines import duckdb_tables, spark_tables

    if engine == "spark":
        return spark_tables(wh, master)[0]
    return duckdb_tables(wh)


def _cell(v: dict, share: bool = True) -> str:
    if v["count"] is None:
        return "x"
    return f"{v['count']:,}" + (f" ({v['share']:.0%})" if share and v["share"] is not None else "")


@outcomes.command("funnel")
@click.option("--period", type=click.Choice(["day", "week", "month"]), default="month", show_default=True)
@BREAKDOWN
@THRESHOLD
@ENGINE
@SPARK_MASTER
@AS_JSON
@AS_CSV
@click.pass_context
def funnel(ctx, period, breakdown, threshold, engine, spark_master, as_json, as_csv) -> None:
    """State of each arrest cohort as of the release cut-off (small cells suppressed)."""
    from icetrack.figures import outcomes as figure

    with warehouse(ctx, read_only=True) as wh:
        result = figure.funnel(wh, period, breakdown, threshold,
                               person_tables=_person_tables(wh, engine, spark_master))
    emit(result.detail["result"], lambda published: _render_funnel(published, threshold), as_json=as_json,
         as_csv=as_csv, csv_rows=result.rows)


def _render_funnel(result: dict, threshold: int) -> None:
    from icetrack.metrics.outcomes import STATES

    for r in result["releases"]:
        console.print(f"\n[bold]{escape(r['release_id'])}[/bold] cut-off {r.get('cutoff')}; "
                      f"arrests without identifier (not followed): {r['arrests_without_identifier']:,}")
        states = [st.replace("_", " ") for st in STATES]
        rows = [(row["cohort"], row["group"], _cell(row["cohort_size"], share=False),
                 *(_cell(row[st]) for st in STATES)) for row in r["rows"]]
        console.print(table(("cohort", "group", "arrests", *states), rows, right={"arrests", *states}))
    console.print(f"counts below {threshold} and the cells needed to protect them are shown as 'x'", highlight=False)


def _survival_options(f):
    """The options shared by the survival commands (km, cif)."""
    for option in reversed([
        click.option("--origin", type=click.Choice(["arrest", "book_in"]), default="arrest", show_default=True),
        BREAKDOWN, THRESHOLD, ENGINE, SPARK_MASTER, AS_JSON, AS_CSV, click.pass_context,
    ]):
        f = option(f)
    return f


def _survival(ctx, kind, origin, breakdown, threshold, engine, spark_master, as_json, as_csv) -> None:
    from icetrack.figures import outcomes as figure

    with warehouse(ctx, read_only=True) as wh:
        published = figure.survival(wh, origin, breakdown, threshold,
                                    person_tables=_person_tables(wh, engine, spark_master))
    emit(published.detail["result"], lambda result: _render_survival(result, threshold), as_json=as_json,
         as_csv=as_csv, csv_rows=figure.survival_curve(published, kind).rows)


def _share(v) -> str:
    return "x" if v is None else f"{v:.1%}"


def _survival_row(g: dict) -> tuple[str, ...]:
    if g["suppressed"]:
        return (str(g["group"]), "x", "", "", "", "", "", "")
    c = g["cif_at_last_time"]
    median = g["median_days_to_removal_km"]
    return (str(g["group"]), f"{g['n']:,}", "-" if median is None else f"{median:g}", _share(c["removal"]),
            _share(c["release"]), _share(c["transfer"]), _share(g["still_open_share_at_last_time"]),
            str(g["last_time_shown"]))


def _render_survival(result: dict, threshold: int) -> None:
    columns = ("group", "n", "median days to removal (KM)", "removed", "released", "transferred", "still open",
               "at day")
    console.print(table(columns, [_survival_row(g) for g in result["groups"]], right=columns[1:]))
    console.print("shares are cumulative incidences (Aalen-Johansen) at the last day shown (curves are shown in "
                  f"steps of at least {threshold} people per outcome, 'x': an outcome whose count is suppressed or "
                  "too rare to draw); full curves with confidence bands: --json or --csv", highlight=False)


@outcomes.command("km")
@_survival_options
def km(ctx, origin, breakdown, threshold, engine, spark_master, as_json, as_csv) -> None:
    """Kaplan-Meier time to removal (release and transfer censored), with confidence bands."""
    _survival(ctx, "km", origin, breakdown, threshold, engine, spark_master, as_json, as_csv)


@outcomes.command("cif")
@_survival_options
def cif(ctx, origin, breakdown, threshold, engine, spark_master, as_json, as_csv) -> None:
    """Cumulative incidence of removal, release and transfer (Aalen-Johansen), open cases censored."""
    _survival(ctx, "cif", origin, breakdown, threshold, engine, spark_master, as_json, as_csv)


@outcomes.command("flows")
@click.option("--period", type=click.Choice(["day", "week", "month"]), default="month", show_default=True)
@THRESHOLD
@AS_JSON
@AS_CSV
@click.pass_context
def flows(ctx, period, threshold, as_json, as_csv) -> None:
    """Arrests, book-ins and removals per period (needs no identifiers; e.g. the Seattle exports), small counts
    suppressed consistently across days, weeks and months."""
    from icetrack.figures import outcomes as figure

    with warehouse(ctx, read_only=True) as wh:
        result = figure.flows(wh, period, threshold, person_tables=_person_tables(wh, "duckdb", None))
    rows = result.rows

    def render(_) -> None:
        n = lambda v: "x" if v is None else f"{v:,}"  # noqa: E731
        console.print(table(("release", "period", "arrests", "book-ins", "removals"),
                            [(r["release_id"], r["period_start"], n(r["arrests"]), n(r["book_ins"]), n(r["removals"]))
                             for r in rows], right={"arrests", "book-ins", "removals"}))
        console.print(f"counts below {threshold} and the days needed to protect them (weeks and months add days up) "
                      "are shown as 'x'", highlight=False)

    emit({**result.detail, "rows": rows}, render, as_json=as_json, as_csv=as_csv, csv_rows=rows)


@outcomes.command("audit")
@click.option("--by", "breakdowns", multiple=True, default=("criminality", "program"), show_default=True,
              type=click.Choice(["aor", "criminality", "citizenship", "method", "program"]),
              help="Breakdowns published beside the totals (repeatable).")
@THRESHOLD
@AS_JSON
@click.pass_context
def audit(ctx, breakdowns, threshold, as_json) -> None:
    """Audit every outcome table published for this warehouse together: suppressed cells recoverable by
    combining tables, small counts shown, shares of suppressed counts, small counts between curve steps."""
    from icetrack.figures import outcomes as figure

    with warehouse(ctx, read_only=True) as wh:
        result = figure.audit(wh, threshold, tuple(breakdowns))

    def render(detail) -> None:
        if detail.get("counts") is None:
            console.print(result.message)
            return
        console.print(table(("finding", "cells"), [(k, f"{v:,}") for k, v in detail["counts"].items()],
                            right={"cells"}))
        for r in result.rows[:20]:
            console.print(f"{r['kind']}: {escape(r['where'])}" + ("" if r["value"] is None else f" = {r['value']:g}"),
                          highlight=False)

    emit({**result.detail, "rows": result.rows, "message": result.message}, render, as_json=as_json)


@outcomes.command("workbook")
@AS_JSON
@click.pass_context
def workbook(ctx, as_json) -> None:
    """Aggregate funnel from ICE's workbooks: book-outs by outcome and removal share per month; removals per
    book-in and per arrest by fiscal year (no person-level data needed)."""
    from icetrack.figures import detention as figure

    with warehouse(ctx, read_only=True) as wh:
        result = figure.workbook_funnel(wh).detail
    emit(result, _render_workbook, as_json=as_json)


def _render_workbook(result: dict) -> None:
    console.print(table(("month", "book-outs", "removals", "releases", "removal share"),
                        [(r["month"] + (" (partial)" if r["partial_month"] else ""), f"{r['book_outs']:,}",
                          f"{r['removals']:,}", f"{r['releases']:,}", f"{r['removal_share']:.1%}")
                         for r in result["monthly"]],
                        right={"month", "book-outs", "removals", "releases", "removal share"},
                        title="Final book-outs and removal share (latest vintage)"))
    f = lambda v, p=False: "-" if v is None else (f"{v:.2f}" if p else f"{v:,.0f}")  # noqa: E731
    columns = ("FY", "removals", "book-ins", "ICE book-ins", "ERO arrests", "per book-in", "per ICE book-in",
               "per arrest")
    console.print(table(columns, [(str(r["fiscal_year"]), f(r["removals"]), f(r["book_ins"]), f(r["ice_book_ins"]),
                                   f(r["ero_administrative_arrests"]), f(r["removals_per_book_in"], True),
                                   f(r["removals_per_ice_book_in"], True), f(r["removals_per_arrest"], True))
                                  for r in result["fiscal_years"]], right=columns,
                        title="Removals per book-in and per arrest, complete fiscal years"))
