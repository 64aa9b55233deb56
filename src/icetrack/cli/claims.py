"""``check``: published claims against the loaded data, and the catalogue's definitions."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from icetrack.cli.options import warehouse
from icetrack.cli.output import console, emit, table

VERDICT_STYLE = {"supported": "green", "contradicted": "red", "not checkable": "yellow",
                 "depends on definition": "magenta"}


def _claimed(comparison: dict) -> str:
    value = comparison["value"]
    text = "-".join(f"{x:,g}" for x in value) if isinstance(value, list) else f"{value:,g}"
    tolerance = comparison["tolerance"]
    return text + (f" ± {tolerance:g}" if isinstance(tolerance, float) and tolerance else
                   f" ± {tolerance}" if isinstance(tolerance, str) else "")


@click.command()
@click.argument("claims_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Every verdict with its evidence, as JSON.")
@click.option("--definitions", is_flag=True, help="List the catalogue's definitions and what measures them.")
@click.option("--include-synthetic", is_flag=True,
              help="Let synthetic person-level releases count as evidence (to try the pipeline; marked SYNTHETIC).")
@click.pass_context
def check(ctx: click.Context, claims_file: Path | None, as_json: bool, definitions: bool,
          include_synthetic: bool) -> None:
    """Check published claims (default: every bundled claims file) against the loaded data."""
    from icetrack.claims import check_claims, load_claims

    if definitions:
        emit(_definitions(), _render_definitions, as_json=as_json)
        return
    claims = load_claims(claims_file)
    with warehouse(ctx, read_only=True) as wh:
        verdicts = check_claims(wh, claims, include_synthetic=include_synthetic)
    emit(verdicts, _render_verdicts, as_json=as_json)


def _definitions() -> list[dict]:
    from icetrack.domain.catalogue import DEFINITIONS

    return [{"definition": d.ref, "label": d.label, "concept": d.concept, "text": d.text,
             "measured_by": [{"measure": m.measure, "dims": dict(m.dims)} for m in d.measured_by],
             "settled_by": d.settled_by, "changes": d.changes or None}
            for versions in DEFINITIONS.values() for d in versions]


def _render_definitions(rows: list[dict]) -> None:
    def measured(r: dict) -> str:
        return ", ".join(m["measure"] + "".join(f" [{k}={v}]" for k, v in m["dims"].items()) for m in r["measured_by"])

    console.print(table(("definition", "label", "measured by", "otherwise settled by"),
                        [(r["definition"], r["label"], measured(r) or "-", r["settled_by"]) for r in rows]))


def _verdict_row(v: dict) -> tuple[str, ...]:
    style = VERDICT_STYLE[v["verdict"]]
    shift = v["shift"]
    moved = "n/a" if not shift["applies"] else (
        f"becomes {shift['verdict']}" if shift["changes_verdict"] else "unchanged")
    return (f"{escape(v['id'])}\n[dim]{escape(v['outlet'])}, {v['published_on']}[/dim]",
            f"[{style}]{v['verdict']}[/{style}]",
            f"{v['statistic'].replace('_', ' ')} {v['comparison']['op'].replace('_', ' ')} "
            f"{_claimed(v['comparison'])}\n[dim]{v['window']['start']}..{v['window']['end']}[/dim]",
            escape(v["evidence"][0]["summary"]) + f"\n[dim]{escape(v['metric'])}[/dim]", moved)


def _render_verdicts(verdicts: list[dict]) -> None:
    if any(v["synthetic"] for v in verdicts):
        console.print("[bold red]SYNTHETIC DATA[/bold red]: some verdicts rest on a generated release, not on ICE's "
                      "records.")
    console.print(table(("claim", "verdict", "claimed", "found (speaker's definition)", "dates moved back a day"),
                        [_verdict_row(v) for v in verdicts], show_lines=True))
    for v in verdicts:
        console.print(f"\n[bold]{escape(v['id'])}[/bold]: {escape(v['explanation'])}", highlight=False)
        if v["shift"]["applies"] and v["shift"]["changes_verdict"]:
            console.print(f"  one-day shift: {escape(v['shift']['note'])}", highlight=False)
