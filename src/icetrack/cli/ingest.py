"""Getting data in: ``ingest`` (files and folders), ``fetch`` (download ICE's workbook) and ``rebuild-bundle``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from icetrack.cli.options import warehouse
from icetrack.cli.output import err_console, fail, say

INGESTIBLE = (".csv", ".xlsx", ".csv.gz", ".txt.gz", ".parquet", ".feather")


def _bar(**options) -> Progress:
    """A transient progress bar on stderr: description, bar, n of total, elapsed time."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err_console, transient=True, **options)


def _expand(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.is_file() and f.name.lower().endswith(INGESTIBLE))
        elif p.exists():
            files.append(p)
        else:
            fail(f"{p}: no such file or folder")
    if not files:
        fail("nothing to ingest (give .csv or .xlsx files, or folders holding them)")
    return files


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Load files into the warehouse: figures/targets CSVs and ICE detention workbooks.

    Every file is parsed and validated before the warehouse is touched; each edition then loads in one
    transaction. Files whose bytes are already loaded are skipped and reported.
    """
    from icetrack.warehouse.ingest import load_aggregate_files, load_person_files, split_by_kind

    aggregate_files, person_files = split_by_kind(_expand(paths))
    with warehouse(ctx) as wh:
        if aggregate_files:
            with _bar(disable=len(aggregate_files) < 3) as progress:
                task = progress.add_task("parsing", total=len(aggregate_files))
                reports = load_aggregate_files(wh, aggregate_files, parsed_one=lambda f: progress.update(
                    task, advance=1, description=f"parsed {f.name}"))
            for report in reports:
                _say_report(report)
        if person_files:
            with Progress(TextColumn("{task.description}"), TextColumn("{task.completed:,} rows"),
                          TimeElapsedColumn(), console=err_console, transient=True) as progress:
                task = progress.add_task(f"loading {len(person_files)} person-level file(s)", total=None)
                reports = load_person_files(wh, person_files, rows_loaded=lambda n: progress.advance(task, n))
            for report in reports:
                _say_report(report)


def _say_report(report) -> None:
    say(report.result.message)
    for w in report.warnings:
        say(f"  warning: {w}", style="yellow")
    for table, cols in report.unknown_columns.items():
        if cols:
            say(f"  {table}: {len(cols)} source column(s) kept in 'extra' (no canonical home): " + ", ".join(cols))
    for copy in report.same_date_copies:
        d, name, other = copy.diff, copy.file_name, copy.edition_id
        if d["n_changed"] == d["n_only_in_a"] == d["n_only_in_b"] == 0:
            say(f"  same data date as {name} ({other}): other bytes, identical figures")
            continue
        say(f"  same data date as {name} ({other}): {d['n_changed']} figures differ, {d['n_only_in_a']} only there, "
            f"{d['n_only_in_b']} only here", style="yellow")
        for ex in d["examples"]:
            say(f"    {ex['measure']} [{ex['dims_key']}] {ex['period_start']}: {ex['value_a']:g} there, "
                f"{ex['value_b']:g} here")


@click.command()
@click.argument("what", type=click.Choice(["ice-detention"]))
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=Path("downloads"),
              show_default=True, help="Folder for the downloaded file.")
@click.option("--url", "page_url", default=None, help="Page that links the workbooks (default: ICE's page).")
@click.option("--no-ingest", is_flag=True, help="Only download.")
@click.pass_context
def fetch(ctx: click.Context, what: str, dest: Path, page_url: str | None, no_ingest: bool) -> None:
    """Download the current ICE detention workbook (then ingest it)."""
    from icetrack.sources.fetch import DETENTION_PAGE, fetch_ice_detention

    path = fetch_ice_detention(dest, page_url or DETENTION_PAGE)
    say(f"downloaded {path}")
    if not no_ingest:
        ctx.invoke(ingest, paths=(path,))


@click.command("rebuild-bundle")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the table (default: the package's data/ice_detention_national.parquet).")
def rebuild_bundle(folder: Path, out: Path | None) -> None:
    """Rebuild the bundled national figures from a folder of ICE detention workbooks."""
    from icetrack.sources.ice_detention_bundle import build_bundle

    files = sorted(folder.rglob("*.xlsx"))
    with _bar() as progress:
        task = progress.add_task("parsing", total=len(files))

        def step(f: Path) -> None:
            progress.update(task, description=f"parsing {f.name}")
            progress.advance(task)

        path, n_editions, n_rows = build_bundle(folder, out, progress=step)
    say(f"wrote {n_rows:,} national figures from {n_editions} editions to {path}")

