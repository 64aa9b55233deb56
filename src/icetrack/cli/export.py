"""``icetrack export``: the aggregate figures as tidy files (Parquet, CSV, Excel, Stata) with a revisions table
per measure, the published (suppressed) outcome tables when person-level releases are loaded, and a
Frictionless ``datapackage.json`` (:mod:`icetrack.report.export`). There is deliberately no threshold option:
an export publishes at the project's threshold, never below it."""

from __future__ import annotations

from pathlib import Path

import click

from icetrack.cli.options import warehouse
from icetrack.cli.output import fail, say


@click.command("export")
@click.argument("measures", nargs=-1, metavar="[MEASURE]...")
@click.option("--format", "fmt", default="parquet", show_default=True, metavar="parquet|csv|xlsx|dta",
              help="File format of the tables.")
@click.option("--out", type=click.Path(path_type=Path), metavar="DIR",
              help="Folder to write (must not exist or be empty).")
@click.option("--vintage", default="latest", show_default=True, metavar="latest|all|EDITION_ID",
              help="Which edition's value of each figure: the latest, every edition's, or one edition's.")
@click.option("--force", is_flag=True, help="Replace a previous icetrack export in DIR.")
@click.option("--no-outcomes", "no_outcomes", is_flag=True,
              help="Leave out the published outcome tables of the person-level releases.")
@click.pass_context
def export(ctx: click.Context, measures: tuple[str, ...], fmt: str, out: Path | None, vintage: str,
           force: bool, no_outcomes: bool) -> None:
    """Write every measure (or the MEASUREs named) as tidy tables, one row per figure, with a revisions table
    per measure and a Frictionless datapackage.json describing them (units, definitions, sources).

    DIR/<measure>.<ext>: measure, one column per dimension, period_start, period_end, grain, value, unit,
    edition_id, as_of, published_on, source_url, note, synthetic. DIR/<measure>.revisions.<ext>: per figure,
    n_editions and the first, latest, minimum and maximum value.

    When person-level releases are loaded, also the tables `icetrack outcomes` publishes, cells under 10
    suppressed (left empty): DIR/outcomes_flows_month, outcomes_funnel_month, outcomes_survival_arrest_km and
    outcomes_survival_arrest_cif. --no-outcomes leaves them out; with MEASUREs named they are written only if
    one of the names is 'outcomes'. No person-level record is ever exported. Nothing is written unless
    everything is.
    """
    from icetrack.report.export import ExportError, check_format, check_out
    from icetrack.report.export_outcomes import THRESHOLD
    from icetrack.report.export import export as write_export

    if out is None:
        fail("--out DIR is required: the folder to write")
    try:
        check_format(fmt)
        check_out(out, force)  # before the warehouse is opened: bad input writes nothing, not even a warehouse
        with warehouse(ctx, read_only=True) as wh:
            summary = write_export(wh, out, fmt, vintage=vintage, measures=measures, force=force,
                                   outcomes=not no_outcomes)
    except ExportError as e:
        fail(str(e))
    n = len(summary.files) - 1
    published = (f"; {len(summary.outcomes)} of them published outcome tables, cells under {THRESHOLD} suppressed"
                 if summary.outcomes else "")
    say(f"wrote {n} {fmt} files ({sum(summary.rows.values()):,} rows) and datapackage.json to {summary.out} "
        f"({summary.vintage} vintage{published})")
