"""Inspecting the record: ``editions`` (what is loaded), ``series`` (one measure) and ``revisions`` (one figure
across editions)."""

from __future__ import annotations

import json

import click
from rich.markup import escape

from icetrack.cli.options import AGENCY, AS_CSV, AS_JSON, DIMS, dims_filters, warehouse
from icetrack.cli.output import console, emit, fail, say, table

SERIES_CSV_FIELDS = ["measure", "dims", "period_start", "period_end", "grain", "value", "unit", "edition_id", "as_of",
                     "published_on", "source_url"]


def _overrides(v) -> str:
    return "" if not v or str(v) == "None" else ", ".join(sorted({line.split(":")[0] for line in str(v).splitlines()}))


def _d(v) -> str:
    return "" if v is None or str(v) in ("NaT", "None") else str(v)[:10]


@click.command()
@click.option("--changes", is_flag=True,
              help="List every layout change between consecutive workbook editions (format drift): file-name "
                   "pattern, sheets and tables added, removed or renamed, titles, columns, rounding, pre-filled "
                   "months.")
@AS_JSON
@click.pass_context
def editions(ctx: click.Context, changes: bool, as_json: bool) -> None:
    """List every ingested edition with its provenance (or, with --changes, the format drift between them)."""
    if changes:
        _layout_changes(ctx, as_json)
        return
    with warehouse(ctx, read_only=True) as wh:
        df = wh.editions()
    rows = json.loads(df.to_json(orient="records", date_format="iso"))  # pandas' ISO dates and number format
    for r in rows:  # how a workbook edition was read: an object, not a JSON string inside JSON
        r["structure"] = json.loads(r["structure"]) if r.get("structure") else None

    def render(_) -> None:
        console.print(table(("edition_id", "file_name", "published", "as of", "figures", "targets", "overrides"),
                            [(r.edition_id, r.file_name, _d(r.published_on), _d(r.as_of), f"{r.n_observations:,}",
                              str(r.n_targets), _overrides(r.overrides)) for r in df.itertuples()], overflow="fold"))
        # What an ingest policy let in is said in full: a reader must not take such an edition for a clean one.
        for r in df.itertuples():
            for line in (r.overrides or "").splitlines():
                say(f"{r.edition_id}: {line}", style="yellow")

    emit(rows, render, as_json=as_json)


def _layout_changes(ctx: click.Context, as_json: bool) -> None:
    from icetrack.metrics.layout_drift import drift_report

    with warehouse(ctx, read_only=True) as wh:
        rows = drift_report(wh)

    def render(rows: list[dict]) -> None:
        if not rows:
            say("no layout change between the loaded workbook editions (or fewer than two workbooks ingested "
                "from their files; the bundled subset records no layout)")
            return
        current = None
        for r in rows:
            if r["edition_id"] != current:
                current = r["edition_id"]
                console.print(f"[bold]{escape(r['file_name'])}[/bold] (as of {r['as_of']}) since "
                              f"{escape(r['previous_file_name'])}:", soft_wrap=True)
            console.print(f"  {escape(r['line'])}", soft_wrap=True)

    emit(rows, render, as_json=as_json)


@click.command()
@click.argument("measure")
@click.option("--vintage", default="latest", show_default=True, help="latest, all, or an edition id.")
@click.option("--dating", type=click.Choice(["table", "data-source"]), default="table", show_default=True,
              help="Date snapshot and year-to-date figures as their table states (ICE's footnotes) or by the "
                   "workbook's IIDS 'Data Source' line.")
@DIMS
@AGENCY
@AS_JSON
@AS_CSV
@click.pass_context
def series(ctx: click.Context, measure: str, vintage: str, dating: str, dims: tuple[str, ...], agency: str | None,
           as_json: bool, as_csv: bool) -> None:
    """Print one measure's observations with the edition each value comes from."""
    from icetrack.figures import series as figure

    filters = dims_filters(dims, agency)
    with warehouse(ctx, read_only=True) as wh:
        figure.check_measure(wh, measure)
        rows = wh.series_arrow(measure, vintage=vintage, dims=filters, dating=dating.replace("-", "_")).to_pylist()
    for r in rows:
        r["dims"] = dict(r["dims"])
        for k in ("period_start", "period_end", "as_of", "published_on"):
            r[k] = r[k].isoformat() if r[k] else None

    def render(rows: list[dict]) -> None:
        def period(r: dict) -> str:
            start, end = r["period_start"], r["period_end"]
            return start if start == end else f"{start}..{end}"

        console.print(table(("dims", "period", "value", "unit", "edition", "as of"),
                            [(r["dims_key"], period(r), f"{r['value']:,.6g}", r["unit"], r["edition_id"],
                              r["as_of"] or "") for r in rows],
                            right={"value"}, title=f"{measure} ({vintage} vintage)", pad_edge=True))

    emit(rows, render, as_json=as_json, as_csv=as_csv, csv_fields=SERIES_CSV_FIELDS,
         csv_rows=[{**{k: r[k] for k in SERIES_CSV_FIELDS if k != "dims"}, "dims": r["dims_key"]} for r in rows])


@click.command()
@click.argument("measure")
@click.option("--period", required=True, metavar="YYYY-MM|YYYY-MM-DD|FYyyyy", help="The reference period.")
@DIMS
@AGENCY
@AS_JSON
@click.pass_context
def revisions(ctx: click.Context, measure: str, period: str, dims: tuple[str, ...], agency: str | None,
              as_json: bool) -> None:
    """Each edition's value of one figure for one period, with flags for suspect editions.

    JSON: {measure, period, period_start, period_end, filters, flags_legend, series: [{dims, dims_key, unit,
    grain, n_editions, first_value, latest_value, min_value, max_value, editions: [{edition_id, file_name,
    published_on, as_of, value, change, flags, note}]}]}; editions in publication order, change = value minus
    the previous edition's value.
    """
    from icetrack.figures import series as figure
    from icetrack.metrics.revisions import parse_period

    filters = dims_filters(dims, agency)
    try:
        parse_period(period)
    except ValueError as e:
        fail(str(e))
    with warehouse(ctx, read_only=True) as wh:
        result = figure.revisions(wh, measure, period, filters).detail
    if not result["series"]:
        fail(f"no {measure} figure for {period} matching {filters or 'no filter'}")
    emit(result, _render_revisions, as_json=as_json)


def _render_revisions(result: dict) -> None:
    for s in result["series"]:
        console.print(table(("published", "as of", "value", "change", "file", "flags"),
                            [(e["published_on"] or "", e["as_of"] or "", f"{e['value']:,.6g}",
                              "" if e["change"] is None else f"{e['change']:+,.6g}", e["file_name"],
                              ", ".join(e["flags"])) for e in s["editions"]],
                            right={"value", "change"}, overflow="fold",
                            title=escape(f"{result['measure']} [{s['dims_key']}] {result['period']}: "
                                         f"{s['n_editions']} editions")))
