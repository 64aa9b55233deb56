"""Command-line interface. A thin layer: it opens the warehouse, calls sources/metrics/report, prints.

Every failure a user can cause (bad file, bad option, locked warehouse) ends with one line on stderr and
exit status 2 - never a traceback.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from icetrack import __version__
from icetrack.domain.edition import SourceError
from icetrack.warehouse import WarehouseError, default_warehouse_path, open_warehouse

console = Console(soft_wrap=True)  # messages are never wrapped mid-word; tables still fit the terminal
err_console = Console(stderr=True)


class UserFacingError(click.ClickException):
    """Printed as one line: 'icetrack: error: ...'; exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        err_console.print(f"icetrack: error: {self.message}", highlight=False, markup=False, soft_wrap=True)


def _fail(message: str) -> None:
    raise UserFacingError(" ".join(str(message).split()))


def _open(ctx: click.Context, read_only: bool = False):
    try:
        return open_warehouse(ctx.obj["warehouse"], read_only=read_only)
    except (WarehouseError, SourceError) as e:
        _fail(str(e))


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} '{value}' is not a date YYYY-MM-DD")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="icetrack")
@click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path), envvar="ICETRACK_WAREHOUSE",
              help=f"DuckDB warehouse file (env ICETRACK_WAREHOUSE; default {default_warehouse_path()}).")
@click.pass_context
def cli(ctx: click.Context, warehouse: Path | None) -> None:
    """icetrack: U.S. immigration enforcement against its announced targets, from the public record."""
    ctx.ensure_object(dict)
    ctx.obj["warehouse"] = warehouse


# -- ingest -----------------------------------------------------------------------------------------
def _expand(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.is_file()
                            and f.name.lower().endswith((".csv", ".xlsx", ".csv.gz", ".txt.gz", ".parquet", ".feather")))
        elif p.exists():
            files.append(p)
        else:
            _fail(f"{p}: no such file or folder")
    if not files:
        _fail("nothing to ingest (give .csv or .xlsx files, or folders holding them)")
    return files


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Load files into the warehouse: figures/targets CSVs and ICE detention workbooks.

    Every file is parsed and validated before the warehouse is touched; each edition then loads in one
    transaction. Files whose bytes are already loaded are skipped and reported.
    """
    from icetrack.sources import is_person_level, parse_files

    files = _expand(paths)
    try:
        person_files = [f for f in files if is_person_level(f)]
    except SourceError as e:
        _fail(str(e))
    aggregate_files = [f for f in files if f not in person_files]
    parsed = []
    if aggregate_files:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err_console, transient=True, disable=len(aggregate_files) < 3) as progress:
            task = progress.add_task("parsing", total=len(aggregate_files))
            try:
                parsed = parse_files(aggregate_files,
                                     progress=lambda f: progress.update(task, advance=1, description=f"parsed {f.name}"))
            except SourceError as e:
                _fail(str(e))
    with _open(ctx) as wh:
        if parsed:
            try:
                results = wh.load_many(parsed)  # one transaction: every aggregate file or none
            except (SourceError, WarehouseError) as e:
                _fail(str(e))
            for p, result in zip(parsed, results):
                console.print(result.message, highlight=False, markup=False)
                for w in p.warnings:
                    console.print(f"  warning: {w}", style="yellow", highlight=False, markup=False)
                if result.loaded:
                    _say_how_copies_differ(wh, result.edition_id)
        if person_files:
            _ingest_person_files(wh, person_files)


def _ingest_person_files(wh, paths: list[Path]) -> None:
    """Stream person-level files into the warehouse: one transaction for all of them, rolled back on error."""
    from icetrack.warehouse.person import load_person_releases
    from icetrack.sources import read_person_file

    with Progress(TextColumn("{task.description}"), TextColumn("{task.completed:,} rows"), TimeElapsedColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task(f"loading {len(paths)} person-level file(s)", total=None)
        try:
            releases = [read_person_file(p) for p in paths]
            results = load_person_releases(wh, releases, progress=lambda n: progress.advance(task, n))
        except (SourceError, WarehouseError) as e:
            _fail(str(e))
    for release, result in zip(releases, results):
        console.print(result.message, highlight=False, markup=False)
        if not result.loaded:
            continue
        for w in release.report.warnings:
            console.print(f"  warning: {w}", style="yellow", highlight=False, markup=False)
        for table, cols in release.report.unknown_columns.items():
            if cols:
                console.print(f"  {table}: {len(cols)} source column(s) kept in 'extra' (no canonical home): "
                              + ", ".join(cols), highlight=False, markup=False)


def _say_how_copies_differ(wh, edition_id: str) -> None:
    """A second copy of an edition (same data date, other bytes) is loaded as its own edition; say how it differs."""
    for other in wh.same_data_date_editions(edition_id):
        d = wh.diff_editions(other, edition_id)
        name = wh.con.execute("SELECT file_name FROM editions WHERE edition_id = ?", [other]).fetchone()[0]
        if d["n_changed"] == d["n_only_in_a"] == d["n_only_in_b"] == 0:
            console.print(f"  same data date as {name} ({other}): other bytes, identical figures", highlight=False)
            continue
        console.print(f"  same data date as {name} ({other}): {d['n_changed']} figures differ, "
                      f"{d['n_only_in_a']} only there, {d['n_only_in_b']} only here", style="yellow", highlight=False,
                      markup=False)
        for ex in d["examples"]:
            console.print(f"    {ex['measure']} [{ex['dims_key']}] {ex['period_start']}: {ex['value_a']:g} there, "
                          f"{ex['value_b']:g} here", highlight=False, markup=False)


@cli.command()
@click.argument("what", type=click.Choice(["ice-detention"]))
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=Path("downloads"),
              show_default=True, help="Folder for the downloaded file.")
@click.option("--url", "page_url", default=None, help="Page that links the workbooks (default: ICE's page).")
@click.option("--no-ingest", is_flag=True, help="Only download.")
@click.pass_context
def fetch(ctx: click.Context, what: str, dest: Path, page_url: str | None, no_ingest: bool) -> None:
    """Download the current ICE detention workbook (then ingest it)."""
    from icetrack.sources.fetch import DETENTION_PAGE, FetchError, fetch_ice_detention

    try:
        path = fetch_ice_detention(dest, page_url or DETENTION_PAGE)
    except FetchError as e:
        _fail(str(e))
    console.print(f"downloaded {path}", highlight=False)
    if not no_ingest:
        ctx.invoke(ingest, paths=(path,))


@cli.command("rebuild-bundle")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the table (default: the package's data/ice_detention_national.parquet).")
def rebuild_bundle(folder: Path, out: Path | None) -> None:
    """Rebuild the bundled national figures from a folder of ICE detention workbooks."""
    from icetrack.sources.ice_detention_bundle import build_bundle

    files = sorted(folder.rglob("*.xlsx"))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task("parsing", total=len(files))

        def step(f: Path) -> None:
            progress.update(task, description=f"parsing {f.name}")
            progress.advance(task)

        try:
            path, n_editions, n_rows = build_bundle(folder, out, progress=step)
        except SourceError as e:
            _fail(str(e))
    console.print(f"wrote {n_rows:,} national figures from {n_editions} editions to {path}", highlight=False)


# -- targets ----------------------------------------------------------------------------------------
@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the full ledger as JSON.")
@click.option("--by", "by", metavar="YYYY-MM-DD",
              help="Horizon for 'pace needed' (default: end of the month after the series ends).")
@click.pass_context
def targets(ctx: click.Context, as_json: bool, by: str | None) -> None:
    """Score every daily series against every target that counts the same thing."""
    from icetrack.metrics.targets import targets_ledger

    by_date = _parse_date(by, "--by")
    with _open(ctx) as wh:
        ledger = targets_ledger(wh.ibis(), by=by_date)
    if as_json:
        click.echo(json.dumps(ledger, indent=2))
        return
    for s in ledger["series"]:
        p, sh = s["variants"]["as_published"], s["variants"]["shifted_back_one_day"]
        console.print(f"\n[bold]{s['label']}[/bold] ({s['measure']}{', ' + s['dims_key'] if s['dims_key'] else ''}): "
                      f"{p['days_covered']} days {p['first_day']}..{p['last_day']}, total {p['total']:,}, "
                      f"mean {p['mean']:,.1f}, max {p['max']:,} on {', '.join(p['max_dates'])} "
                      f"({', '.join(sh['max_dates'])} shifted), min {p['min']:,} on {', '.join(p['min_dates'])}")
        table = Table(show_lines=False, pad_edge=False)
        for col in ("target", "per day", ">=low", ">=high", "shortfall", "shifted", "pace needed"):
            table.add_column(col, justify="left" if col == "target" else "right", overflow="fold")
        for t in s["targets"]:
            a, b = t["as_published"], t["shifted_back_one_day"]
            rng = f"{t['value_low']:,.1f}" if t["value_low"] == t["value_high"] else f"{t['value_low']:,}-{t['value_high']:,}"
            pace = "-" if a["pace_needed_low"] is None else f"{a['pace_needed_low']:,.1f}"
            name = t["target_id"] + (" (baseline)" if t["kind"] == "baseline" else "")
            table.add_row(name, rng, str(a["days_meeting_low"]), str(a["days_meeting_high"]),
                          f"{a['shortfall_low']:,.0f}", f"{b['shortfall_low']:,.0f}", pace)
        console.print(table)
    console.print("\nshortfall = low end x days covered - total (shifted: dates moved back one day); "
                  f"pace needed = daily rate from the day after the series ends to {by or 'the end of the next month'} "
                  "for the whole window to average the low end. Definitions: icetrack targets --json", highlight=False)


# -- report and charts ------------------------------------------------------------------------------
@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("icetrack-report.html"),
              show_default=True, help="Where to write the self-contained HTML page.")
@click.option("--by", "by", metavar="YYYY-MM-DD", help="Horizon for 'pace needed'.")
@click.pass_context
def report(ctx: click.Context, out: Path, by: str | None) -> None:
    """Write the offline HTML report (charts, attainment table, definitions, numbered sources)."""
    from icetrack.report.build import write_report

    by_date = _parse_date(by, "--by")
    with _open(ctx) as wh:
        write_report(wh, out, by=by_date)
    console.print(f"report written to {out.resolve()}", highlight=False)


@cli.command()
@click.argument("name", type=click.Choice(["daily-vs-target"]))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file; the format follows the extension (.png or .svg).")
@click.option("--measure", default="ice_posted_arrests", show_default=True)
@click.pass_context
def chart(ctx: click.Context, name: str, out: Path, measure: str) -> None:
    """Export one chart as PNG or SVG."""
    from icetrack.metrics.targets import targets_ledger
    from icetrack.figures.charts import daily_vs_target_chart, save

    if out.suffix.lower() not in (".png", ".svg"):
        _fail(f"{out}: the chart format follows the extension; use .png or .svg")
    with _open(ctx) as wh:
        con = wh.ibis()
        try:
            chart_spec = daily_vs_target_chart(con, targets_ledger(con), measure=measure)
        except (ValueError, StopIteration) as e:
            _fail(str(e) or f"no daily series of {measure}")
        save(chart_spec, out)
    console.print(f"chart written to {out.resolve()}", highlight=False)


# -- inspection -------------------------------------------------------------------------------------
@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def editions(ctx: click.Context, as_json: bool) -> None:
    """List every ingested edition with its provenance."""
    with _open(ctx) as wh:
        df = wh.editions()
    if as_json:
        click.echo(df.to_json(orient="records", date_format="iso", indent=2))
        return
    table = Table(pad_edge=False)
    for col in ("edition_id", "file_name", "published", "as of", "figures", "targets"):
        table.add_column(col, overflow="fold")
    for r in df.itertuples():
        table.add_row(r.edition_id, r.file_name, _d(r.published_on), _d(r.as_of), f"{r.n_observations:,}",
                      str(r.n_targets))
    console.print(table)


def _d(v) -> str:
    return "" if v is None or str(v) in ("NaT", "None") else str(v)[:10]


def _dims_filters(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for p in pairs:
        if "=" not in p:
            _fail(f"--dim '{p}' must look like name=value")
        k, v = p.split("=", 1)
        out[k.strip()] = v.strip()
    return out


@cli.command()
@click.argument("measure")
@click.option("--vintage", default="latest", show_default=True, help="latest, all, or an edition id.")
@click.option("--dim", "dims", multiple=True, metavar="NAME=VALUE", help="Filter on a dimension (repeatable).")
@click.option("--agency", help="Shorthand for --dim agency=VALUE.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True)
@click.pass_context
def series(ctx: click.Context, measure: str, vintage: str, dims: tuple[str, ...], agency: str | None,
           as_json: bool, as_csv: bool) -> None:
    """Print one measure's observations with the edition each value comes from."""
    filters = _dims_filters(dims)
    if agency:
        filters["agency"] = agency
    with _open(ctx) as wh:
        if measure not in set(wh.measures().measure):
            _fail(f"unknown measure '{measure}' (loaded: {', '.join(wh.measures().measure)})")
        rows = wh.series_arrow(measure, vintage=vintage, dims=filters).to_pylist()
    for r in rows:
        r["dims"] = dict(r["dims"])
        for k in ("period_start", "period_end", "as_of", "published_on"):
            r[k] = r[k].isoformat() if r[k] else None
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif as_csv:
        w = csv.writer(sys.stdout)
        w.writerow(["measure", "dims", "period_start", "period_end", "grain", "value", "unit", "edition_id",
                    "as_of", "published_on", "source_url"])
        for r in rows:
            w.writerow([r["measure"], r["dims_key"], r["period_start"], r["period_end"], r["grain"], r["value"],
                        r["unit"], r["edition_id"], r["as_of"], r["published_on"], r["source_url"]])
    else:
        table = Table(title=f"{measure} ({vintage} vintage)")
        for col in ("dims", "period", "value", "unit", "edition", "as of"):
            table.add_column(col, justify="right" if col == "value" else "left")
        for r in rows:
            period = r["period_start"] if r["period_start"] == r["period_end"] else f"{r['period_start']}..{r['period_end']}"
            table.add_row(r["dims_key"], period, f"{r['value']:,.6g}", r["unit"], r["edition_id"], r["as_of"] or "")
        console.print(table)


@cli.command()
@click.argument("measure")
@click.option("--period", required=True, metavar="YYYY-MM|YYYY-MM-DD|FYyyyy", help="The reference period.")
@click.option("--dim", "dims", multiple=True, metavar="NAME=VALUE", help="Filter on a dimension (repeatable).")
@click.option("--agency", help="Shorthand for --dim agency=VALUE.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def revisions(ctx: click.Context, measure: str, period: str, dims: tuple[str, ...], agency: str | None,
              as_json: bool) -> None:
    """Each edition's value of one figure for one period, with flags for suspect editions.

    JSON: {measure, period, period_start, period_end, filters, flags_legend, series: [{dims, dims_key, unit,
    grain, n_editions, first_value, latest_value, min_value, max_value, editions: [{edition_id, file_name,
    published_on, as_of, value, change, flags, note}]}]}; editions in publication order, change = value minus
    the previous edition's value.
    """
    from icetrack.metrics.revisions import parse_period
    from icetrack.metrics.revisions import revisions as revision_paths

    filters = _dims_filters(dims)
    if agency:
        filters["agency"] = agency
    try:
        parse_period(period)
    except ValueError as e:
        _fail(str(e))
    with _open(ctx) as wh:
        if measure not in set(wh.measures().measure):
            _fail(f"unknown measure '{measure}' (loaded: {', '.join(wh.measures().measure)})")
        result = revision_paths(wh.ibis(), measure, period, filters)
    if not result["series"]:
        _fail(f"no {measure} figure for {period} matching {filters or 'no filter'}")
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for s in result["series"]:
        table = Table(title=escape(f"{measure} [{s['dims_key']}] {period}: {s['n_editions']} editions"),
                      pad_edge=False)
        for col in ("published", "as of", "value", "change", "file", "flags"):
            table.add_column(col, justify="right" if col in ("value", "change") else "left", overflow="fold")
        for e in s["editions"]:
            table.add_row(e["published_on"] or "", e["as_of"] or "", f"{e['value']:,.6g}",
                          "" if e["change"] is None else f"{e['change']:+,.6g}", e["file_name"], ", ".join(e["flags"]))
        console.print(table)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def quality(ctx: click.Context, as_json: bool) -> None:
    """Per person-level table: rows, duplicates flagged, redacted cells, date range, linkage rates."""
    from icetrack.warehouse.person import quality as quality_report

    with _open(ctx) as wh:
        report = quality_report(wh)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    if not report:
        console.print("no person-level records loaded (icetrack ingest FILE: ERO-LESA .csv.gz, DDP xlsx/parquet/csv)")
        return
    for rel in report:
        console.print(f"\n[bold]{escape(rel['release_id'])}[/bold]{' [red](SYNTHETIC)[/red]' if rel['synthetic'] else ''}"
                      f" - cut-off {rel['cutoff'] or 'unknown'}")
        table = Table(pad_edge=False)
        for col in ("table", "rows", "with id", "duplicates flagged", "redacted cells", "first", "last"):
            table.add_column(col, justify="left" if col in ("table", "first", "last") else "right")
        for t in rel["tables"]:
            table.add_row(t["table"], f"{t['rows']:,}", f"{t['rows_with_identifier']:,}",
                          f"{t.get('duplicates_flagged', 0):,}" if "duplicates_flagged" in t else "-",
                          f"{t['redacted_total']:,}", t["date_range"][0] or "", t["date_range"][1] or "")
        console.print(table)
        if rel["linkage"]:
            lk = rel["linkage"]
            console.print(f"stays {lk['stays']:,}; linked to an arrest {lk['stays_linked_to_arrest']:,} "
                          f"({lk['stay_arrest_match_rate']:.1%}); to a removal {lk['stays_linked_to_removal']:,} "
                          f"({lk['stay_removal_match_rate']:.1%})", highlight=False)
        for t in rel["tables"]:
            if t["redacted_cells"]:
                console.print(f"  {t['table']} redacted: " + ", ".join(f"{c} {n:,}" for c, n in t["redacted_cells"].items()),
                              highlight=False, markup=False)


VERDICT_STYLE = {"supported": "green", "contradicted": "red", "not checkable": "yellow",
                 "depends on definition": "magenta"}


def _claimed(comparison: dict) -> str:
    value = comparison["value"]
    text = "-".join(f"{x:,g}" for x in value) if isinstance(value, list) else f"{value:,g}"
    tolerance = comparison["tolerance"]
    return text + (f" ± {tolerance:g}" if isinstance(tolerance, float) and tolerance else
                   f" ± {tolerance}" if isinstance(tolerance, str) else "")


@cli.command()
@click.argument("claims_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Every verdict with its evidence, as JSON.")
@click.option("--definitions", is_flag=True, help="List the catalogue's definitions and what measures them.")
@click.option("--include-synthetic", is_flag=True,
              help="Let synthetic person-level releases count as evidence (to try the pipeline; marked SYNTHETIC).")
@click.pass_context
def check(ctx: click.Context, claims_file: Path | None, as_json: bool, definitions: bool,
          include_synthetic: bool) -> None:
    """Check published claims (default: the bundled February 2025 NBC News claims) against the loaded data."""
    from icetrack.claims import ClaimsFileError, check_claims, load_claims
    from icetrack.domain.catalogue import DEFINITIONS

    if definitions:
        rows = [{"definition": d.ref, "label": d.label, "concept": d.concept, "text": d.text,
                 "measured_by": [{"measure": m.measure, "dims": dict(m.dims)} for m in d.measured_by],
                 "settled_by": d.settled_by, "changes": d.changes or None}
                for versions in DEFINITIONS.values() for d in versions]
        if as_json:
            click.echo(json.dumps(rows, indent=2))
            return
        table = Table(pad_edge=False)
        for col in ("definition", "label", "measured by", "otherwise settled by"):
            table.add_column(col)
        for r in rows:
            measured = ", ".join(m["measure"] + "".join(f" [{k}={v}]" for k, v in m["dims"].items())
                                 for m in r["measured_by"])
            table.add_row(r["definition"], r["label"], measured or "-", r["settled_by"])
        console.print(table)
        return
    try:
        claims = load_claims(claims_file)
    except ClaimsFileError as e:
        for problem in e.problems:
            err_console.print(f"icetrack: error: {problem}", highlight=False, markup=False, soft_wrap=True)
        ctx.exit(2)
    with _open(ctx) as wh:
        verdicts = check_claims(wh, claims, include_synthetic=include_synthetic)
    if as_json:
        click.echo(json.dumps(verdicts, indent=2))
        return
    if any(v["synthetic"] for v in verdicts):
        console.print("[bold red]SYNTHETIC DATA[/bold red]: some verdicts rest on a generated release, not on ICE's "
                      "records.")
    table = Table(pad_edge=False, show_lines=True)
    for col in ("claim", "verdict", "claimed", "found (speaker's definition)", "dates moved back a day"):
        table.add_column(col)
    for v in verdicts:
        style = VERDICT_STYLE[v["verdict"]]
        shift = v["shift"]
        moved = "n/a" if not shift["applies"] else (
            f"becomes {shift['verdict']}" if shift["changes_verdict"] else "unchanged")
        table.add_row(f"{escape(v['id'])}\n[dim]{escape(v['outlet'])}, {v['published_on']}[/dim]",
                      f"[{style}]{v['verdict']}[/{style}]",
                      f"{v['statistic'].replace('_', ' ')} {v['comparison']['op'].replace('_', ' ')} "
                      f"{_claimed(v['comparison'])}\n[dim]{v['window']['start']}..{v['window']['end']}[/dim]",
                      escape(v["evidence"][0]["summary"]) + f"\n[dim]{escape(v['metric'])}[/dim]", moved)
    console.print(table)
    for v in verdicts:
        console.print(f"\n[bold]{escape(v['id'])}[/bold]: {escape(v['explanation'])}", highlight=False)
        if v["shift"]["applies"] and v["shift"]["changes_verdict"]:
            console.print(f"  one-day shift: {escape(v['shift']['note'])}", highlight=False)


@cli.command()
@click.option("--people", type=click.IntRange(1, 50_000_000), required=True, help="Number of synthetic people.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("synthetic-release"),
              show_default=True, help="Folder for the synthetic release (DDP processed schema, parquet).")
def synth(people: int, seed: int, out: Path) -> None:
    """Write a SYNTHETIC person-level release calibrated to the official national aggregates."""
    from icetrack.synth.generator import generate_release

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task("generating synthetic people", total=people)
        manifest = generate_release(out, people=people, seed=seed,
                                    progress=lambda n: progress.advance(task, n))
    console.print(f"wrote a SYNTHETIC release of {people:,} people to {out.resolve()}: "
                  + ", ".join(f"{t} {n:,}" for t, n in manifest.get("rows", {}).items()), highlight=False)


# -- outcomes ---------------------------------------------------------------------------------------
ENGINE = click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
                      help="Where the metrics run (spark needs the 'spark' extra and Java 17).")
SPARK_MASTER = click.option("--spark-master", default=None, metavar="URL", help="Spark master (default local[2]).")
THRESHOLD = click.option("--threshold", type=click.IntRange(1, 1000), default=10, show_default=True,
                         help="Small-cell suppression threshold.")
BREAKDOWN = click.option("--by", "breakdown", type=click.Choice(["aor", "criminality", "citizenship", "method",
                                                                 "program"]), default=None)


def _person_tables(wh, engine: str, master: str | None):
    from icetrack.warehouse.engines import EngineError, duckdb_tables, spark_tables

    try:
        if engine == "spark":
            return spark_tables(wh, master)[0]
        return duckdb_tables(wh)
    except EngineError as e:
        _fail(str(e))


def _emit(result: dict, as_json: bool, as_csv_rows: list[dict] | None, as_csv: bool) -> bool:
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
        return True
    if as_csv:
        rows = as_csv_rows or []
        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["empty"])
        w.writeheader()
        w.writerows(rows)
        return True
    if result.get("synthetic"):
        console.print("[bold red]SYNTHETIC DATA[/bold red]: these figures come from a generated release, not from ICE.")
    return False


# -- web dashboard ----------------------------------------------------------------------------------
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the dashboard and the JSON API over a read-only connection to the warehouse."""
    import uvicorn

    from icetrack.web import create_app

    try:
        app = create_app(ctx.obj["warehouse"] or default_warehouse_path())
    except WarehouseError as e:
        _fail(str(e))
    console.print(f"icetrack dashboard on http://{host}:{port}/ (API description: /openapi.json); Ctrl-C stops it",
                  highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")


# -- capacity and projection ------------------------------------------------------------------------
def _option_number(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        _fail(f"{option} '{value}' is not a number")


def _band(b: dict, digits: int = 0) -> str:
    return f"{b['p50']:,.{digits}f} ({b['p5']:,.{digits}f}-{b['p95']:,.{digits}f})"


@cli.command("project")
@click.option("--arrests-per-day", metavar="N", help="ICE arrests per day in the scenario.")
@click.option("--beds", metavar="B", help="Detention beds (default: the funded beds in the warehouse).")
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
@click.option("--through", metavar="YYYY-MM-DD",
              help="Calibrate on editions published by this date (default: all; with --backtest 2025-01-31).")
@click.option("--until", metavar="YYYY-MM-DD", help="Back-test: last day projected (default 2025-08-31).")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@click.pass_context
def project_command(ctx, arrests_per_day, beds, stay_days, days, share_detained, runs, seed, goal_removals_per_year,
                    solve_for, run_backtest, through, until, as_json) -> None:
    """What an arrest rate implies for beds, stays, forced releases and removals (Little's law and a daily
    stock-and-flow simulation calibrated on ICE's workbooks), goal seeking, and the back-test."""
    from icetrack.model import capacity as cap

    numbers = {name: _option_number(v, "--" + name.replace("_", "-")) for name, v in
               [("arrests_per_day", arrests_per_day), ("beds", beds), ("stay_days", stay_days), ("days", days),
                ("share_detained", share_detained), ("runs", runs), ("seed", seed),
                ("goal_removals_per_year", goal_removals_per_year)]}
    through_date, until_date = _parse_date(through, "--through"), _parse_date(until, "--until")
    with _open(ctx) as wh:
        con = wh.ibis()
        try:
            if run_backtest:
                cap.check_run_options(1, numbers["runs"], numbers["seed"])
                result = cap.backtest(con, through=through_date or date(2025, 1, 31),
                                      until=until_date or date(2025, 8, 31), runs=int(numbers["runs"]),
                                      seed=int(numbers["seed"]))
            else:
                cal = cap.calibrate(con, through_date)
                if numbers["goal_removals_per_year"] is not None:
                    result = cap.goal_seek(cal, removals_per_year=numbers["goal_removals_per_year"], solve_for=solve_for,
                                           arrests_per_day=numbers["arrests_per_day"], beds=numbers["beds"],
                                           stay_days=numbers["stay_days"])
                elif numbers["arrests_per_day"] is None:
                    _fail("give --arrests-per-day N (or --goal-removals-per-year R, or --backtest)")
                else:
                    cap.check_run_options(numbers["days"], numbers["runs"], numbers["seed"])
                    with Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                  console=err_console, transient=True,
                                  disable=numbers["runs"] * numbers["days"] < 500_000) as progress:
                        task = progress.add_task("days", total=int(numbers["days"]))
                        result = cap.project(cal, arrests_per_day=numbers["arrests_per_day"], beds=numbers["beds"],
                                             stay_days=numbers["stay_days"], days=int(numbers["days"]),
                                             share_detained=numbers["share_detained"], runs=int(numbers["runs"]),
                                             seed=int(numbers["seed"]),
                                             progress=lambda n: progress.update(task, completed=n))
        except ValueError as e:
            _fail(str(e))
    if as_json:
        click.echo(json.dumps(result, indent=2))
    elif run_backtest:
        _print_backtest(result)
    elif numbers["goal_removals_per_year"] is not None:
        console.print(result["message"], highlight=False)
        if result["reachable"]:
            _print_steady_state(result["steady_state"])
    else:
        _print_projection(result)


def _print_steady_state(ss: dict) -> None:
    i = ss["inputs"]
    table = Table(title="Steady state (Little's law)", pad_edge=False)
    for col in ("", "value", "how"):
        table.add_column(col, justify="right" if col == "value" else "left", overflow="fold")
    f = lambda v, d=0: "no limit" if v is None else f"{v:,.{d}f}"  # noqa: E731
    table.add_row("admissions per day", f(ss["admissions_per_day"]),
                  f"ICE {i['admissions_per_day']['ICE']:,.0f} (arrests {i['arrests_per_day']:,.0f} x share detained "
                  f"{i['share_detained']:.3f}) + CBP {i['admissions_per_day']['CBP']:,.0f}")
    table.add_row("mean stay, days", f(ss["mean_stay_days"], 1),
                  f"ICE {i['stay_days']['ICE']:.1f}, CBP {i['stay_days']['CBP']:.1f}: {i['stay_source']}")
    table.add_row("beds", f(i["beds"]), "given" if i["beds_source"] == "given" else
                  f"funded beds ({i['beds_source']['file_name']}, {i['beds_source']['period_start']}.."
                  f"{i['beds_source']['period_end']})")
    table.add_row("beds needed", f(ss["beds_needed"]), "admissions x mean stay")
    table.add_row("sustainable admissions per day", f(ss["sustainable_admissions_per_day"]), "beds / mean stay")
    table.add_row("sustainable ICE arrests per day", f(ss["sustainable_arrests_per_day"]),
                  "arrests the beds hold beside the CBP admissions")
    table.add_row("forced releases per day", f(ss["forced_releases_per_day"]), "admissions beyond the sustainable rate")
    table.add_row("population", f(ss["population"]), "held admissions x mean stay")
    table.add_row("removals per year", f(ss["removals_per_year"]),
                  f"365 x (held x removal share {i['removal_share_of_book_outs']:.1%} + other removals "
                  f"{i['other_removals_per_day']:,.0f}/day)")
    console.print(table)


def _print_projection(result: dict) -> None:
    cal, i, t = result["calibration"], result["inputs"], result["totals"]
    console.print(f"Calibrated on {cal['window'][0]}..{cal['window'][-1]} (data as of {cal['as_of']}, "
                  f"{len(cal['editions'])} editions: icetrack project ... --json lists them); projection "
                  f"{i['start']}..{i['end']}, {i['runs']} runs, seed {i['seed']}", highlight=False)
    _print_steady_state(result["steady_state"])
    table = Table(title="Projection by month (medians of the runs; bands in --json)", pad_edge=False)
    for col in ("month", "ADP", "ADP 5-95%", "admissions", "forced releases", "removals from detention"):
        table.add_column(col, justify="left" if col == "month" else "right")
    for m in result["monthly"]:
        table.add_row(m["month"] + ("" if m["complete"] else f" ({m['days']} d)"), f"{m['population']['p50']:,.0f}",
                      f"{m['population']['p5']:,.0f}-{m['population']['p95']:,.0f}", f"{m['admissions']['p50']:,.0f}",
                      f"{m['forced_releases']['p50']:,.0f}", f"{m['removals_from_detention']['p50']:,.0f}")
    console.print(table)
    console.print(f"Over {t['days']} days: removals per year {_band(t['removals_per_year'])}; forced releases "
                  f"{_band(t['forced_releases'])} (of which {t['initial_excess']:,.0f} at once: the population "
                  f"above the beds on day one)", highlight=False)


def _print_backtest(result: dict) -> None:
    console.print(f"Back-test: calibrated on editions published by {result['through']} "
                  f"({result['calibration']['window'][0]}..{result['calibration']['window'][-1]}), projected to "
                  f"{result['until']}; naive = ADP {result['naive']['adp']:,.0f} ({result['naive']['month']}) "
                  "carried forward", highlight=False)
    for name, mode in result["modes"].items():
        s = mode["adp"]
        table = Table(title=f"{name}: {mode['description']}", pad_edge=False)
        for col in ("month", "horizon", "actual ADP", "model", "model 5-95%", "model error", "naive error"):
            table.add_column(col, justify="left" if col == "month" else "right")
        for r in s["per_horizon"]:
            table.add_row(r["month"], str(r["horizon_months"]), f"{r['actual']:,.0f}", f"{r['model']['p50']:,.0f}",
                          f"{r['model']['p5']:,.0f}-{r['model']['p95']:,.0f}", f"{r['model_error_pct']:+.1f}%",
                          f"{r['naive_error_pct']:+.1f}%")
        console.print(table)
        for what in ("adp", "book_outs", "removals_from_detention", "removals_to_date"):
            e = mode[what]
            if e["n"]:
                console.print(f"  {what}: model MAPE {e['model']['mape']:.1f}% bias {e['model']['bias']:+.1f}%; naive "
                              f"MAPE {e['naive']['mape']:.1f}% bias {e['naive']['bias']:+.1f}%", highlight=False)
    for note in result["notes"]:
        console.print(f"- {note}", highlight=False, markup=False)


@cli.group()
def outcomes() -> None:
    """What happened to the people arrested: funnel, time to removal/release, flows."""


@outcomes.command("funnel")
@click.option("--period", type=click.Choice(["day", "week", "month"]), default="month", show_default=True)
@BREAKDOWN
@THRESHOLD
@ENGINE
@SPARK_MASTER
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True)
@click.pass_context
def outcomes_funnel(ctx, period, breakdown, threshold, engine, spark_master, as_json, as_csv) -> None:
    """State of each arrest cohort as of the release cut-off (small cells suppressed)."""
    from icetrack.metrics.publish import funnel_rows, published_funnel

    with _open(ctx) as wh:
        result = published_funnel(_person_tables(wh, engine, spark_master), period, breakdown, threshold)
    if _emit(result, as_json, funnel_rows(result), as_csv):
        return
    for r in result["releases"]:
        console.print(f"\n[bold]{escape(r['release_id'])}[/bold] cut-off {r.get('cutoff')}; "
                      f"arrests without identifier (not followed): {r['arrests_without_identifier']:,}")
        table = Table(pad_edge=False)
        table.add_column("cohort")
        table.add_column("group")
        table.add_column("arrests", justify="right")
        for st in oc_states():
            table.add_column(st.replace("_", " "), justify="right")
        for row in r["rows"]:
            cells = [_cell(row[st]) for st in oc_states()]
            table.add_row(row["cohort"], row["group"], _cell(row["cohort_size"], share=False), *cells)
        console.print(table)
    console.print(f"counts below {threshold} and the cells needed to protect them are shown as 'x'", highlight=False)


def oc_states():
    from icetrack.metrics.outcomes import STATES

    return STATES


def _cell(v: dict, share: bool = True) -> str:
    if v["count"] is None:
        return "x"
    return f"{v['count']:,}" + (f" ({v['share']:.0%})" if share and v["share"] is not None else "")


def _survival_command(ctx, kind, origin, breakdown, threshold, engine, spark_master, as_json, as_csv) -> None:
    from icetrack.metrics.publish import published_survival, survival_rows

    with _open(ctx) as wh:
        result = published_survival(_person_tables(wh, engine, spark_master), origin, breakdown, threshold)
    if _emit(result, as_json, survival_rows(result, kind), as_csv):
        return
    table = Table(pad_edge=False)
    for col in ("group", "n", "median days to removal (KM)", "removed", "released", "transferred", "still open",
                "at day"):
        table.add_column(col, justify="left" if col == "group" else "right")
    for g in result["groups"]:
        if g["suppressed"]:
            table.add_row(str(g["group"]), "x", "", "", "", "", "", "")
            continue
        c = g["cif_at_last_time"]
        table.add_row(str(g["group"]), f"{g['n']:,}", "-" if g["median_days_to_removal_km"] is None
                      else f"{g['median_days_to_removal_km']:g}", f"{c['removal']:.1%}", f"{c['release']:.1%}",
                      f"{c['transfer']:.1%}", f"{g['still_open_share_at_last_time']:.1%}", str(g["last_time_shown"]))
    console.print(table)
    console.print("shares are cumulative incidences (Aalen-Johansen) at the last day with at least "
                  f"{threshold} at risk; full curves with confidence bands: --json or --csv", highlight=False)


def _survival_options(f):
    """The options shared by the survival commands (km, cif)."""
    for option in reversed([
        click.option("--origin", type=click.Choice(["arrest", "book_in"]), default="arrest", show_default=True),
        BREAKDOWN, THRESHOLD, ENGINE, SPARK_MASTER,
        click.option("--json", "as_json", is_flag=True), click.option("--csv", "as_csv", is_flag=True),
        click.pass_context,
    ]):
        f = option(f)
    return f


@outcomes.command("km")
@_survival_options
def outcomes_km(ctx, origin, breakdown, threshold, engine, spark_master, as_json, as_csv) -> None:
    """Kaplan-Meier time to removal (release and transfer censored), with confidence bands."""
    _survival_command(ctx, "km", origin, breakdown, threshold, engine, spark_master, as_json, as_csv)


@outcomes.command("cif")
@_survival_options
def outcomes_cif(ctx, origin, breakdown, threshold, engine, spark_master, as_json, as_csv) -> None:
    """Cumulative incidence of removal, release and transfer (Aalen-Johansen), open cases censored."""
    _survival_command(ctx, "cif", origin, breakdown, threshold, engine, spark_master, as_json, as_csv)


@outcomes.command("flows")
@click.option("--period", type=click.Choice(["day", "week", "month"]), default="month", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True)
@click.pass_context
def outcomes_flows(ctx, period, as_json, as_csv) -> None:
    """Arrests, book-ins and removals per period (needs no identifiers; e.g. the Seattle exports)."""
    from icetrack.metrics.outcomes import flows

    with _open(ctx) as wh:
        pt = _person_tables(wh, "duckdb", None)
        df = flows(pt, wh.ibis().table("detention_stints"), period).to_pandas()
    rows = [{"release_id": r.release_id, "period_start": str(r.period_start)[:10], "arrests": int(r.arrests),
             "book_ins": int(r.book_ins), "removals": int(r.removals)} for r in df.itertuples()]
    if _emit({"metric": "flows", "period": period, "rows": rows}, as_json, rows, as_csv):
        return
    table = Table(pad_edge=False)
    for col in ("release", "period", "arrests", "book-ins", "removals"):
        table.add_column(col, justify="right" if col in ("arrests", "book-ins", "removals") else "left")
    for r in rows:
        table.add_row(r["release_id"], r["period_start"], f"{r['arrests']:,}", f"{r['book_ins']:,}", f"{r['removals']:,}")
    console.print(table)


@outcomes.command("workbook")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def outcomes_workbook(ctx, as_json) -> None:
    """Aggregate funnel from ICE's workbooks: book-outs by outcome and removal share per month; removals per
    book-in and per arrest by fiscal year (no person-level data needed)."""
    from icetrack.metrics import detention as det

    with _open(ctx) as wh:
        con = wh.ibis()
        monthly = det.removal_share(con).to_pandas()
        by_fy = det.removals_per_book_in_by_fy(con).to_pandas()
    result = {
        "metric": "workbook_funnel", "definitions": det.__doc__,
        "monthly": [{"month": str(r.month)[:7], "book_outs": int(r.book_outs), "removals": int(r.removals),
                     "releases": int(r.releases), "transfers": int(r.transfers or 0), "removal_share": round(r.removal_share, 4),
                     "partial_month": bool(r.partial), "edition_id": r.edition_id} for r in monthly.itertuples()],
        "fiscal_years": [{k: (None if pd_isna(v) else (round(v, 4) if isinstance(v, float) and k.startswith("removals_per")
                                                        else v)) for k, v in r._asdict().items() if k != "Index"}
                         for r in by_fy.itertuples()],
    }
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
        return
    table = Table(title="Final book-outs and removal share (latest vintage)", pad_edge=False)
    for col in ("month", "book-outs", "removals", "releases", "removal share"):
        table.add_column(col, justify="right")
    for r in result["monthly"]:
        table.add_row(r["month"] + (" (partial)" if r["partial_month"] else ""), f"{r['book_outs']:,}",
                      f"{r['removals']:,}", f"{r['releases']:,}", f"{r['removal_share']:.1%}")
    console.print(table)
    table = Table(title="Removals per book-in and per arrest, complete fiscal years", pad_edge=False)
    for col in ("FY", "removals", "book-ins", "ICE book-ins", "ERO arrests", "per book-in", "per ICE book-in", "per arrest"):
        table.add_column(col, justify="right")
    for r in result["fiscal_years"]:
        f = lambda v, p=False: "-" if v is None else (f"{v:.2f}" if p else f"{v:,.0f}")  # noqa: E731
        table.add_row(str(r["fiscal_year"]), f(r["removals"]), f(r["book_ins"]), f(r["ice_book_ins"]),
                      f(r["ero_administrative_arrests"]), f(r["removals_per_book_in"], True),
                      f(r["removals_per_ice_book_in"], True), f(r["removals_per_arrest"], True))
    console.print(table)


def pd_isna(v) -> bool:
    import pandas as pd

    return v is None or (not isinstance(v, str) and pd.isna(v))


def main() -> None:
    cli(obj={})


if __name__ == "__main__":
    main()
