"""The ``icetrack`` command group: the ``--warehouse`` option, the command modules it registers, and the one
place where a library error a user can cause (bad file, bad option, locked warehouse, missing engine) becomes
one line on stderr and exit status 2 - never a traceback."""

from __future__ import annotations

from pathlib import Path

import click

from icetrack import __version__
from icetrack.cli import capacity, claims, export, facilities, ingest, outcomes, quality, serve, series, synth, targets
from icetrack.cli.output import UserFacingError
from icetrack.domain.edition import SourceError
from icetrack.warehouse import WarehouseError, default_warehouse_path


def _problems(error: Exception) -> list[str] | None:
    """The lines to show for a library exception that describes a user's mistake or environment (bad file,
    locked warehouse, missing engine...), or None for a bug. Imported only when something was raised."""
    from icetrack.claims import ClaimsFileError
    from icetrack.figures.result import NotFound
    from icetrack.sources.fetch import FetchError
    from icetrack.warehouse.engines import EngineError

    if isinstance(error, ClaimsFileError):
        return error.problems
    if isinstance(error, (SourceError, WarehouseError, EngineError, FetchError, NotFound)):
        return [" ".join(str(error).split())]
    return None


def _inputs(args: list[str]) -> str:
    """The existing files among a command's arguments, for a message that has no file of its own."""
    files = [a for a in args[1:] if not a.startswith("-") and Path(a).exists()]
    return " reading " + ", ".join(files) if files else ""


class IcetrackGroup(click.Group):
    def invoke(self, ctx: click.Context):
        args = [*getattr(ctx, "_protected_args", ()), *ctx.args]  # consumed by the subcommand: kept for messages
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except MemoryError:  # a reader's limits let something through: still one line, never a traceback
            raise UserFacingError(f"ran out of memory{_inputs(args)}; the input is larger than this machine can "
                                  "hold") from None
        except RecursionError:
            raise UserFacingError(f"input nested too deeply{_inputs(args)}; Python's recursion limit was "
                                  "reached") from None
        except Exception as e:
            problems = _problems(e)
            if problems is None:
                raise
            raise UserFacingError(*problems) from None


@click.group(cls=IcetrackGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="icetrack")
@click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path), envvar="ICETRACK_WAREHOUSE",
              help=f"DuckDB warehouse file (env ICETRACK_WAREHOUSE; default {default_warehouse_path()}).")
@click.pass_context
def cli(ctx: click.Context, warehouse: Path | None) -> None:
    """icetrack: U.S. immigration enforcement against its announced targets, from the public record."""
    ctx.ensure_object(dict)
    ctx.obj["warehouse"] = warehouse


for _command in (ingest.ingest, ingest.fetch, ingest.rebuild_bundle, series.editions, series.measures, series.series,
                 series.revisions, facilities.facilities, targets.targets, targets.chart, targets.report,
                 quality.quality, claims.check, capacity.project, outcomes.outcomes, synth.synth, serve.serve,
                 export.export):
    cli.add_command(_command)


def main() -> None:
    cli(obj={})
