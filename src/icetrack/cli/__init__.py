"""The ``icetrack`` command line: one module per command group over the library, rendering results only."""

from icetrack.cli.commands import cli, main

__all__ = ["cli", "main"]
