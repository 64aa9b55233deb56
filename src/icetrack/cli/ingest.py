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
@click.option("--allow-implausible", is_flag=True,
              help="Load values and dates outside the plausible range (a negative count, an as-of date after "
                   "today) instead of refusing the file; each edition records what was let in.")
@click.option("--drop-identifiers", is_flag=True,
              help="Load a person-level file that has identifying columns (names, SSNs, A-numbers, birth "
                   "dates, addresses) without those columns instead of refusing it; the edition records them.")
@click.option("--partial", is_flag=True,
              help="Load a workbook one of whose tables has a matching title but a header or body the reader "
                   "does not know, without that table (reported missing), instead of refusing the file.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], allow_implausible: bool, drop_identifiers: bool,
           partial: bool) -> None:
    """Load files into the warehouse: figures/targets CSVs, ICE detention workbooks, person-level files.

    Every file is read and validated before anything is committed, and one transaction then loads them all:
    one refused file means nothing is loaded. Files whose bytes are already loaded are skipped and reported.
    """
    from icetrack.domain.plausible import IngestPolicy
    from icetrack.warehouse.ingest import ingest_files, split_by_kind

    files = _expand(paths)
    aggregate_files, person_files = split_by_kind(files)
    n_aggregate = len(aggregate_files)
    policy = IngestPolicy(allow_implausible=allow_implausible, drop_identifiers=drop_identifiers, partial=partial)
    with warehouse(ctx) as wh, _bar(disable=n_aggregate < 3 and not person_files) as progress:
        parsing = progress.add_task("parsing", total=n_aggregate)
        rows = progress.add_task("loading person-level rows", total=None, visible=False)
        reports = ingest_files(
            wh, files, policy=policy,
            parsed_one=lambda f: progress.update(parsing, advance=1, description=f"parsed {f.name}"),
            rows_loaded=lambda n: progress.update(rows, advance=n, visible=True))
    for report in reports:
        _say_report(report)


def _say_report(report) -> None:
    say(report.result.message)
    for line in report.overrides:
        say(f"  recorded on the edition: {line}", style="yellow")
    for w in report.warnings:
        if w.startswith("format change since "):
            say(f"  {w}", style="cyan")
        else:
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
              show_default=True, help="Folder for the downloaded files.")
@click.option("--url", "page_url", default=None, help="Page that links the workbooks (default: ICE's page).")
@click.option("--no-ingest", is_flag=True, help="Only download.")
@click.option("--archive", is_flag=True,
              help="Download every past edition that the Internet Archive's Wayback Machine holds, one file per "
                   "distinct content, with archive-manifest.tsv recording when each was first captured.")
@click.option("--list", "list_only", is_flag=True,
              help="With --archive: print what would be downloaded (URL, first capture, size); download nothing.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help="With --archive: only captures made on or after this date.")
@click.option("--archive-url", default=None, metavar="URL",
              help="With --archive: the Wayback Machine to ask (default https://web.archive.org).")
@click.option("--delay", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="With --archive: pause between requests (default 1); a retry after a 429 or 5xx waits 5 then "
                   "10 times this, or what the archive's Retry-After says.")
@click.pass_context
def fetch(ctx: click.Context, what: str, dest: Path, page_url: str | None, no_ingest: bool, archive: bool,
          list_only: bool, since, archive_url: str | None, delay: float | None) -> None:
    """Download the current ICE detention workbook, or with --archive every past one (then ingest them)."""
    if not archive:
        if list_only or since or archive_url or delay is not None:
            fail("--list, --since, --archive-url and --delay go with --archive")
        from icetrack.sources.fetch import DETENTION_PAGE, fetch_ice_detention

        path = fetch_ice_detention(dest, page_url or DETENTION_PAGE)
        say(f"downloaded {path}")
        if not no_ingest:
            ctx.invoke(ingest, paths=(path,))
        return
    if page_url:
        fail("--url names ICE's current page; with --archive, --archive-url names the Wayback Machine")
    from icetrack.sources.archive import WAYBACK, Politeness

    polite = Politeness() if delay is None else Politeness(delay=delay, backoff=5 * delay)
    options = {"since": since.date() if since else None, "archive_url": archive_url or WAYBACK, "polite": polite}
    if list_only:
        _list_archive(dest, options)
        return
    new_files = _fetch_archive(dest, options)
    if new_files and not no_ingest:
        ctx.invoke(ingest, paths=tuple(new_files))
    elif not no_ingest:
        say("nothing new to ingest")


def _list_archive(dest: Path, options: dict) -> None:
    """``fetch --archive --list``: one line per payload that would be downloaded, then a summary."""
    from icetrack.sources.archive import plan_archive

    plan = plan_archive(dest, **options)
    for group in plan.pending:
        first = group[0]
        size = f"{first.length:,} B" if first.length is not None else "? B"
        say(f"{first.captured_at:%Y-%m-%dT%H:%M:%SZ}  {size:>12}  {first.original}")
    say(f"{len(plan.pending)} to download (sizes as archived, compressed); {plan.listed} workbook capture(s) "
        f"listed, {plan.already_had} file(s) already in {dest}")


def _fetch_archive(dest: Path, options: dict) -> list[Path]:
    """``fetch --archive``: download with a progress bar, report, and return the new files."""
    from icetrack.sources.archive import fetch_archive

    # Off when stderr is not a terminal: a log or a pipe would get a stray line and nothing to watch.
    with _bar(disable=not err_console.is_terminal) as progress:
        task = progress.add_task("asking the Wayback Machine", total=None)

        def step(done: int, total: int, what: str) -> None:
            progress.update(task, completed=done, total=total, description=f"downloading {what}")

        result = fetch_archive(dest, progress=step, **options)
    for path in result.new_files:
        say(f"downloaded {path}")
    for line in result.skipped:
        say(f"  skipped {line}", style="yellow")
    say(f"{len(result.new_files)} new file(s), {result.already_had} already in {dest}, from {result.listed} "
        f"workbook capture(s); first-capture dates in {result.manifest}")
    return result.new_files


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

