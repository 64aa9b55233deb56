"""Options and arguments shared by several commands, and their parsing into library values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from icetrack.cli.output import fail
from icetrack.warehouse import WarehouseError, WarehouseLocked, default_warehouse_path, open_warehouse
from icetrack.warehouse.reference import missing_reference

AS_JSON = click.option("--json", "as_json", is_flag=True)
AS_CSV = click.option("--csv", "as_csv", is_flag=True)
ENGINE = click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
                      help="Where the metrics run (spark needs the 'spark' extra and Java 17).")
SPARK_MASTER = click.option("--spark-master", default=None, metavar="URL", help="Spark master (default local[2]).")
THRESHOLD = click.option("--threshold", type=click.IntRange(1, 1000), default=10, show_default=True,
                         help="Small-cell suppression threshold.")
BREAKDOWN = click.option("--by", "breakdown", type=click.Choice(["aor", "criminality", "citizenship", "method",
                                                                 "program"]), default=None)
DIMS = click.option("--dim", "dims", multiple=True, metavar="NAME=VALUE", help="Filter on a dimension (repeatable).")
AGENCY = click.option("--agency", help="Shorthand for --dim agency=VALUE.")


def warehouse(ctx: click.Context, read_only: bool = False):
    """The warehouse named by ``--warehouse`` (or its default), opened; errors end the command (see main).

    ``read_only`` for commands that only read: DuckDB lets many processes read a file but only one write it,
    so a reading command opened read-write would fail while ``icetrack serve`` (or another command) has it
    open. The one write a reading command may need is the first use of a warehouse: creating it and loading
    the bundled reference figures (also after an upgrade bundles new ones); only then is it opened read-write.
    """
    path = Path(ctx.obj["warehouse"]).expanduser() if ctx.obj["warehouse"] else default_warehouse_path()
    if read_only and path.exists():
        try:
            wh = open_warehouse(path, read_only=True)
        except WarehouseLocked:
            raise  # a writer holds it (and the open already waited): a read-write open would wait again
        except WarehouseError:
            wh = None  # an older schema to upgrade, or none yet: the read-write open does that, or says why not
        if wh is not None:
            files, editions, _ = missing_reference(wh)
            if not files and not editions:
                return wh
            wh.close()
    return open_warehouse(path)


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} '{value}' is not a date YYYY-MM-DD")


def parse_number(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        fail(f"{option} '{value}' is not a number")


def dims_filters(pairs: tuple[str, ...], agency: str | None = None) -> dict[str, str]:
    """``--dim name=value`` pairs (and ``--agency``) as a filter dict."""
    out = {}
    for p in pairs:
        if "=" not in p:
            fail(f"--dim '{p}' must look like name=value")
        k, v = p.split("=", 1)
        out[k.strip()] = v.strip()
    if agency:
        out["agency"] = agency
    return out
