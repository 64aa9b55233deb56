"""``quality``: what the loaded person-level releases hold, and how well their tables link."""

from __future__ import annotations

import click
from rich.markup import escape

from icetrack.cli.options import AS_JSON, warehouse
from icetrack.cli.output import console, emit, say, table


@click.command()
@AS_JSON
@click.pass_context
def quality(ctx: click.Context, as_json: bool) -> None:
    """Per person-level table: rows, duplicates flagged, redacted cells, date range, linkage rates."""
    from icetrack.warehouse.person import quality as quality_report

    with warehouse(ctx, read_only=True) as wh:
        report = quality_report(wh)
    emit(report, _render, as_json=as_json)


def _table_row(t: dict) -> tuple[str, ...]:
    return (t["table"], f"{t['rows']:,}", f"{t['rows_with_identifier']:,}",
            f"{t.get('duplicates_flagged', 0):,}" if "duplicates_flagged" in t else "-", f"{t['redacted_total']:,}",
            t["date_range"][0] or "", t["date_range"][1] or "")


def _render(report: list[dict]) -> None:
    if not report:
        console.print("no person-level records loaded (icetrack ingest FILE: ERO-LESA .csv.gz, DDP xlsx/parquet/csv)")
        return
    for rel in report:
        synthetic = " [red](SYNTHETIC)[/red]" if rel["synthetic"] else ""
        console.print(f"\n[bold]{escape(rel['release_id'])}[/bold]{synthetic} - cut-off {rel['cutoff'] or 'unknown'}")
        console.print(table(("table", "rows", "with id", "duplicates flagged", "redacted cells", "first", "last"),
                            [_table_row(t) for t in rel["tables"]],
                            right={"rows", "with id", "duplicates flagged", "redacted cells"}))
        if rel["linkage"]:
            lk = rel["linkage"]
            console.print(f"stays {lk['stays']:,}; linked to an arrest {lk['stays_linked_to_arrest']:,} "
                          f"({lk['stay_arrest_match_rate']:.1%}); to a removal {lk['stays_linked_to_removal']:,} "
                          f"({lk['stay_removal_match_rate']:.1%})", highlight=False)
        for t in rel["tables"]:
            if t["redacted_cells"]:
                say(f"  {t['table']} redacted: " + ", ".join(f"{c} {n:,}" for c, n in t["redacted_cells"].items()))
