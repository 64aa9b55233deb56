"""``synth``: write a SYNTHETIC person-level release calibrated to the official national aggregates."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from icetrack.cli.output import err_console, say


@click.command()
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
        manifest = generate_release(out, people=people, seed=seed, progress=lambda n: progress.advance(task, n))
    say(f"wrote a SYNTHETIC release of {people:,} people to {out.resolve()}: "
        + ", ".join(f"{t} {n:,}" for t, n in manifest.get("rows", {}).items()))
