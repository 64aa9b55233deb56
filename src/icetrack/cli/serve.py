"""``serve``: the dashboard and the JSON API over a read-only connection to the warehouse."""

from __future__ import annotations

import click

from icetrack.cli.output import say
from icetrack.warehouse import default_warehouse_path


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the dashboard and the JSON API over a read-only connection to the warehouse.

    The file is held only while something is computed, so every other command, icetrack ingest included, can run
    meanwhile; the dashboard then shows the new data."""
    import uvicorn

    from icetrack.web import create_app

    app = create_app(ctx.obj["warehouse"] or default_warehouse_path())
    say(f"icetrack dashboard on http://{host}:{port}/ (API description: /openapi.json); Ctrl-C stops it. "
        "Other commands, ingest included, can use the warehouse meanwhile.")
    uvicorn.run(app, host=host, port=port, log_level="warning")
