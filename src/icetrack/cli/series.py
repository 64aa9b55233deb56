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
@click.option("--tables", is_flag=True,
              help="List every table the loaded workbook editions carry, with the fiscal years and editions "
                   "holding it (and the editions of those years without it).")
@AS_JSON
@click.pass_context
def editions(ctx: click.Context, changes: bool, tables: bool, as_json: bool) -> None:
    """List every ingested edition with its provenance (or, with --changes, the format drift between them;
    with --tables, which tables they carry)."""
    if changes:
        _layout_changes(ctx, as_json)
        return
    if tables:
        _table_presence(ctx, as_json)
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


@click.command()
@AS_JSON
@AS_CSV
@click.pass_context
def measures(ctx: click.Context, as_json: bool, as_csv: bool) -> None:
    """List every loaded measure: its label, unit, definition, and the fiscal years its figures cover."""
    from icetrack.figures import series as figure

    with warehouse(ctx, read_only=True) as wh:
        rows = figure.measures(wh).rows

    def render(rows: list[dict]) -> None:
        console.print(table(("measure", "label", "unit", "fiscal years", "editions", "figures"),
                            [(r["measure"], r["label"], r["unit"], _years(r["fiscal_years"]), str(r["n_editions"]),
                              f"{r['n_observations']:,}") for r in rows], overflow="fold"))

    emit(rows, render, as_json=as_json, as_csv=as_csv,
         csv_fields=["measure", "label", "concept", "unit", "grain", "fiscal_years", "n_editions", "n_observations",
                     "first_period", "last_period", "definition"],
         csv_rows=[{**r, "fiscal_years": " ".join(map(str, r["fiscal_years"]))} for r in rows])


def _years(years: list[int]) -> str:
    """FY2019-FY2026 style ranges: 2019, 2020, 2021, 2024 -> 'FY2019-FY2021, FY2024'."""
    spans: list[list[int]] = []
    for y in years:
        if spans and y == spans[-1][1] + 1:
            spans[-1][1] = y
        else:
            spans.append([y, y])
    return ", ".join(f"FY{a}" if a == b else f"FY{a}-FY{b}" for a, b in spans)


def _table_presence(ctx: click.Context, as_json: bool) -> None:
    from icetrack.metrics.layout_drift import table_presence

    with warehouse(ctx, read_only=True) as wh:
        rows = table_presence(wh)

    def render(rows: list[dict]) -> None:
        if not rows:
            say("no workbook ingested from its file (the bundled subset records no layout)")
            return
        console.print(table(("table", "sheet", "fiscal years", "editions", "absent from"),
                            [(r["table"], r["sheet"], _years(r["fiscal_years"]), f"{r['n_editions']}/{r['of_editions']}",
                              ", ".join(r["absent_from"]) or "") for r in rows], overflow="fold"))

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
@click.option("--facility", "facility_id", metavar="ID",
              help="Only the rows of one facility (a facility_* measure; ids from `icetrack facilities`), whatever "
                   "name it was printed under.")
@AS_JSON
@AS_CSV
@click.pass_context
def series(ctx: click.Context, measure: str, vintage: str, dating: str, dims: tuple[str, ...], agency: str | None,
           facility_id: str | None, as_json: bool, as_csv: bool) -> None:
    """Print one measure's observations with the edition each value comes from."""
    from icetrack.figures import series as figure

    filters = dims_filters(dims, agency)
    if facility_id and not measure.startswith("facility_"):
        fail(f"--facility filters the facility measures (facility_adp, facility_alos, ...), not '{measure}'")
    with warehouse(ctx, read_only=True) as wh:
        figure.check_measure(wh, measure)
        rows = wh.series_arrow(measure, vintage=vintage, dims=filters, dating=dating.replace("-", "_")).to_pylist()
        if facility_id:
            rows = _facility_rows(wh, facility_id, rows)
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


def _facility_rows(wh, facility_id: str, rows: list[dict]) -> list[dict]:
    """The rows printed for facility ``facility_id`` (or a former id of it), by the facility identity."""
    from icetrack.figures.result import NotFound
    from icetrack.metrics import facilities as fm

    data = fm.load(wh)
    try:
        fid = data.resolve(facility_id)
    except fm.UnknownFacility as e:
        raise NotFound(str(e)) from None
    return [r for r in rows if data.matches(fid, dict(r["dims"]))]


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
